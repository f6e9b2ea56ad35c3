// Summaries of a simulation (see simulation_summary.h), computed with the project's metrics.
#include "sim/simulation_summary.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "metrics/calibration.h"

namespace isc::sim {

namespace {

std::string number_or_dash(const std::optional<double>& v) { return v ? fmt::format("{:.4f}", *v) : "-"; }

nlohmann::json optional_json(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? nlohmann::json(*v) : nlohmann::json();
}

}  // namespace

std::vector<SimulationConditionSummary> summarize_simulation(const std::vector<SimulatedCondition>& conditions) {
  std::vector<SimulationConditionSummary> out;
  for (const SimulatedCondition& c : conditions) {
    SimulationConditionSummary s;
    s.condition = c.params.name;
    const bool closed_form = c.params.output_evidence == OutputEvidence::Fixed;
    s.has_closed_form = closed_form;
    const int rounds = c.conversations.empty() ? 0 : static_cast<int>(c.conversations.front().rounds.size());
    if (closed_form) s.paper_exceeds_one_round = closed_form_paper_exceeds_one(c.params, rounds);
    for (std::size_t i = 0; i < c.conversations.size(); ++i) {
      const ConversationStop& stop = c.stops[i];
      s.rounds_stored += static_cast<std::size_t>(stop.kept_rounds);
      s.rounds_total += c.conversations[i].rounds.size();
      if (stop.early_stopped()) ++s.early_stopped;
      for (int t = 0; t < stop.kept_rounds; ++t)
        if (c.conversations[i].rounds[t].posterior_paper > 1.0) {
          ++s.conversations_paper_above_one;
          break;
        }
    }
    for (int t = 1; t <= rounds; ++t) {
      SimulationRoundSummary r;
      r.round = t;
      std::vector<metrics::CalibrationPoint> points;
      std::size_t correct = 0;
      for (std::size_t i = 0; i < c.conversations.size(); ++i) {
        const int kept = c.stops[i].kept_rounds;
        const SimulatedRound& state = c.conversations[i].rounds[std::min(t, kept) - 1];
        ++r.n;
        if (t <= kept) ++r.n_stored;
        r.mean_posterior += state.posterior;
        r.mean_paper += state.posterior_paper;
        r.mean_entropy += state.entropy;
        if (state.correct) ++correct;
        points.push_back(*metrics::calibration_point(state.predictive, state.answer, c.params.gold,
                                                     metrics::ConfidenceSource::Argmax));
      }
      const double n = static_cast<double>(r.n);
      r.mean_posterior /= n;
      r.mean_paper /= n;
      r.mean_entropy /= n;
      r.accuracy = static_cast<double>(correct) / n;
      r.ece = metrics::ece_equal_width(points, 10);
      if (closed_form) {
        r.closed_form_posterior = closed_form_posterior(c.params, t);
        r.closed_form_paper = closed_form_paper_posterior(c.params, t);
      }
      s.rounds.push_back(r);
    }
    out.push_back(std::move(s));
  }
  return out;
}

nlohmann::json to_json(const std::vector<SimulationConditionSummary>& summary) {
  nlohmann::json out = nlohmann::json::array();
  for (const SimulationConditionSummary& s : summary) {
    nlohmann::json rounds = nlohmann::json::array();
    for (const SimulationRoundSummary& r : s.rounds)
      rounds.push_back({{"round", r.round},
                        {"n", r.n},
                        {"n_stored", r.n_stored},
                        {"mean_posterior", r.mean_posterior},
                        {"closed_form_posterior", optional_json(r.closed_form_posterior)},
                        {"closed_form_paper", optional_json(r.closed_form_paper)},
                        {"mean_paper", optional_json(r.mean_paper)},
                        {"mean_entropy", r.mean_entropy},
                        {"accuracy", r.accuracy},
                        {"ece", r.ece}});
    out.push_back({{"condition", s.condition},
                   {"rounds", rounds},
                   {"has_closed_form", s.has_closed_form},
                   {"paper_exceeds_one_round",
                    s.paper_exceeds_one_round ? nlohmann::json(*s.paper_exceeds_one_round) : nlohmann::json()},
                   {"conversations_paper_above_one", s.conversations_paper_above_one},
                   {"rounds_stored", s.rounds_stored},
                   {"rounds_total", s.rounds_total},
                   {"early_stopped", s.early_stopped}});
  }
  return out;
}

std::string to_text(const std::vector<SimulationConditionSummary>& summary) {
  std::string out;
  for (const SimulationConditionSummary& s : summary) {
    out += fmt::format("condition {}\n", s.condition);
    out += fmt::format("{:>5} {:>7} {:>10} {:>11} {:>11} {:>10} {:>9} {:>9} {:>7}\n", "round", "stored", "posterior",
                       "closed-form", "paper(cf)", "paper", "entropy", "accuracy", "ECE");
    for (const SimulationRoundSummary& r : s.rounds)
      out += fmt::format("{:>5} {:>7} {:>10.4f} {:>11} {:>11} {:>10.4f} {:>9.4f} {:>9.4f} {:>7.4f}\n", r.round,
                         r.n_stored, r.mean_posterior, number_or_dash(r.closed_form_posterior),
                         number_or_dash(r.closed_form_paper), r.mean_paper, r.mean_entropy, r.accuracy, r.ece);
    if (!s.has_closed_form)
      out += "  no closed form (output_evidence answer)";
    else if (s.paper_exceeds_one_round)
      out += fmt::format("  the paper's formula exceeds 1 from round {} (closed form)", *s.paper_exceeds_one_round);
    else
      out += "  the paper's formula stays <= 1 over these rounds (closed form)";
    out += fmt::format("; {} of {} conversations have a paper value > 1; {} of {} rounds stored", s.conversations_paper_above_one,
                       s.rounds.empty() ? 0 : s.rounds.front().n, s.rounds_stored, s.rounds_total);
    out += s.early_stopped ? fmt::format(" ({} conversations stopped early)\n", s.early_stopped) : std::string("\n");
  }
  return out;
}

}  // namespace isc::sim
