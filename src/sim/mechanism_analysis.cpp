// analyze_mechanism (see mechanism_analysis.h): reads the run's inputs once, then runs every analysis
// per condition on them.
#include "sim/mechanism_analysis.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "metrics/predicted_change.h"

namespace isc::sim {

namespace {

// Per round: mean and standard error of one value over the rows that have it.
struct RoundMean {
  std::size_t n = 0;
  double mean = 0.0, std_error = 0.0;
};

template <class Get>
std::map<int, RoundMean> round_means(const std::vector<ItemRoundState>& rows, Get&& get) {
  std::map<int, std::vector<double>> values;
  for (const ItemRoundState& s : rows)
    if (std::optional<double> v = get(s)) values[s.round].push_back(*v);
  std::map<int, RoundMean> out;
  for (const auto& [round, vs] : values) {
    RoundMean m;
    m.n = vs.size();
    for (double v : vs) m.mean += v;
    m.mean /= static_cast<double>(m.n);
    double ss = 0.0;
    for (double v : vs) ss += (v - m.mean) * (v - m.mean);
    m.std_error = m.n > 1 ? std::sqrt(ss / static_cast<double>(m.n - 1) / static_cast<double>(m.n)) : 0.0;
    out[round] = m;
  }
  return out;
}

std::optional<double> accuracy_value(const ItemRoundState& s) {
  if (!s.correct) return std::nullopt;
  return *s.correct ? 1.0 : 0.0;
}

// The observed series the latent-concept model is fitted to, over the rounds every one of them has
// with at least two items. A standard error of 0 (every item agrees) is raised to half an item's
// weight in the mean (accuracy: 1/(2n)) or to 1e-6 of the scale, so such rounds weigh heavily but
// finitely.
std::vector<ObservedSeries> fit_series(const ConditionInputs& c, const std::vector<std::string>& wanted) {
  auto want = [&](const char* name) { return wanted.empty() || std::find(wanted.begin(), wanted.end(), name) != wanted.end(); };
  std::vector<std::pair<std::string, std::map<int, RoundMean>>> raw;
  const auto acc = round_means(c.carried, accuracy_value);
  if (!acc.empty() && want("accuracy")) raw.emplace_back("accuracy", acc);
  const auto con = round_means(c.stored, [](const ItemRoundState& s) { return s.concept_score; });
  if (!con.empty() && want("concept")) raw.emplace_back("concept", con);
  const auto unc = round_means(c.carried, [](const ItemRoundState& s) { return s.uncertainty; });
  if (!unc.empty() && want("uncertainty")) raw.emplace_back("uncertainty", unc);
  std::vector<ObservedSeries> out;
  if (raw.empty()) return out;
  std::vector<int> rounds;
  for (const auto& [round, m] : raw.front().second) {
    bool all = true;
    for (const auto& [name, means] : raw) {
      const auto it = means.find(round);
      all = all && it != means.end() && it->second.n >= 2;
    }
    if (all) rounds.push_back(round);
  }
  for (const auto& [name, means] : raw) {
    ObservedSeries s;
    s.name = name;
    s.rounds = rounds;
    for (int r : rounds) {
      const RoundMean& m = means.at(r);
      const double floor = name == "accuracy" ? 0.5 / static_cast<double>(m.n) : 1e-6 * std::max(1.0, std::fabs(m.mean));
      s.mean.push_back(m.mean);
      s.std_error.push_back(std::max(m.std_error, floor));
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<double> mean_of(const std::vector<double>& v) {
  if (v.empty()) return std::nullopt;
  double s = 0.0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

std::vector<StopEvaluation> evaluate_stops(const ConditionInputs& c, const MechanismInputs& in,
                                           const std::vector<double>& epsilons, std::string* unavailable) {
  if (c.early_stopped > 0) {
    *unavailable = fmt::format("the run stopped {} conversations early itself; evaluate --predict-stop on a run "
                               "without early stopping", c.early_stopped);
    return {};
  }
  // Each conversation's rows, states and correctness, in round order.
  std::map<std::string, std::vector<const ItemRoundState*>> states_of;
  for (const ItemRoundState& s : c.stored) states_of[s.item_id].push_back(&s);
  // What the rule follows, per conversation and round; the same for every ε.
  std::map<std::string, std::vector<std::vector<double>>> states_per_round;
  for (const auto& [item_id, list] : c.rounds_by_item)
    for (const RoundRecord& r : list) states_per_round[item_id].push_back(metrics::stop_state(r.option_probs, r.score));
  const int T = in.run.rounds;
  std::vector<StopEvaluation> out;
  for (double eps : epsilons) {
    StopEvaluation e;
    e.epsilon = eps;
    std::vector<double> acc_full, acc_stop, unc_full, unc_stop, score_full, score_stop;
    double stop_sum = 0.0;
    for (const auto& [item_id, list] : c.rounds_by_item) {
      if (static_cast<int>(list.size()) != T || list.back().round != T) continue;  // unfinished conversation
      ++e.conversations;
      e.rounds_full += list.size();
      std::size_t stop = list.size() - 1;  // index of the round whose answer is final
      if (const auto t = metrics::predicted_stop_index(states_per_round.at(item_id), eps)) {
        stop = *t;
        ++e.stopped;
      }
      e.rounds_used += stop + 1;
      stop_sum += static_cast<double>(list[stop].round);
      const std::vector<const ItemRoundState*>& rows = states_of.at(item_id);
      const ItemRoundState& last = *rows.back();
      const ItemRoundState& chosen = *rows[stop];
      if (last.correct && chosen.correct) {
        acc_full.push_back(*last.correct ? 1.0 : 0.0);
        acc_stop.push_back(*chosen.correct ? 1.0 : 0.0);
      }
      if (last.uncertainty && chosen.uncertainty) {
        unc_full.push_back(*last.uncertainty);
        unc_stop.push_back(*chosen.uncertainty);
      }
      if (list.back().score && list[stop].score) {
        score_full.push_back(*list.back().score);
        score_stop.push_back(*list[stop].score);
      }
    }
    if (e.conversations == 0) {
      *unavailable = "no conversation has all of the run's rounds stored";
      return {};
    }
    e.mean_stop_round = stop_sum / static_cast<double>(e.conversations);
    e.accuracy_full = mean_of(acc_full);
    e.accuracy_stopped = mean_of(acc_stop);
    e.uncertainty_full = mean_of(unc_full);
    e.uncertainty_stopped = mean_of(unc_stop);
    e.score_full = mean_of(score_full);
    e.score_stopped = mean_of(score_stop);
    out.push_back(e);
  }
  return out;
}

std::vector<SeriesPoint> points(const std::map<int, RoundMean>& means) {
  std::vector<SeriesPoint> out;
  for (const auto& [round, m] : means) out.push_back({round, m.mean});
  return out;
}

nlohmann::json optional_json(const std::optional<double>& v, const char* why) {
  if (v) return *v;
  return {{"unavailable", why}};
}

// Every line of `text` indented by `n` spaces (the analyses' own text is flush left).
std::string indent(const std::string& text, int n) {
  std::string out, pad(static_cast<std::size_t>(n), ' ');
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += pad + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::string fmt_opt(const std::optional<double>& v, const char* spec = "{:.3f}") {
  return v ? fmt::format(fmt::runtime(spec), *v) : std::string("–");
}

}  // namespace

MechanismAnalysis analyze_mechanism(const Store& store, const std::string& run_id, const MechanismOptions& options) {
  for (double eps : options.stop_epsilons)
    if (!(eps > 0.0) || !std::isfinite(eps)) throw Error(fmt::format("analyze: stop epsilon {} must be > 0", eps));
  for (const std::string& name : options.fit_series)
    if (name != "accuracy" && name != "concept" && name != "uncertainty")
      throw Error(fmt::format("analyze: fit series '{}' (expected accuracy, concept or uncertainty)", name));
  const MechanismInputs in = read_mechanism_inputs(store, run_id, options.inputs);
  MechanismAnalysis a;
  a.store_path = store.path();
  a.run = in.run;
  a.concept_name = in.concept_name;
  a.concept_position = in.concept_position;
  a.concept_layer = in.concept_layer;
  a.concept_unavailable = in.concept_unavailable;
  a.uncertainty = in.uncertainty;
  a.uncertainty_unavailable = in.uncertainty_unavailable;
  a.correctness = in.correctness;
  a.random_directions = in.random_directions;
  a.random_unavailable = in.random_unavailable;
  a.projection_unavailable = in.projection_unavailable;
  for (const std::string& name : options.conditions)
    if (std::find(in.run.conditions.begin(), in.run.conditions.end(), name) == in.run.conditions.end())
      throw Error(fmt::format("analyze: run '{}' has no condition '{}'; it has: {}", run_id, name,
                              fmt::join(in.run.conditions, ", ")));
  for (const ConditionInputs& c : in.conditions) {
    if (!options.conditions.empty() &&
        std::find(options.conditions.begin(), options.conditions.end(), c.condition) == options.conditions.end())
      continue;
    ConditionMechanism m;
    m.condition = c.condition;
    m.n_items = c.rounds_by_item.size();
    const std::vector<ObservedSeries> series = fit_series(c, options.fit_series);
    if (series.empty()) m.fit.unavailable = "the rounds carry none of the series to fit (accuracy, concept score, uncertainty)";
    else m.fit = fit_concept_model(series);
    m.task = simulation_task(c.stored, options.task);
    if (!in.concept_unavailable.empty()) m.task.unavailable = in.concept_unavailable;
    else if (!in.uncertainty_unavailable.empty()) m.task.unavailable = in.uncertainty_unavailable;
    if (!c.projected.empty()) m.task_projection = simulation_task(c.projected, options.task);
    m.theory = transition_theory(c.carried, options.theory);
    const auto unc = round_means(c.carried, [](const ItemRoundState& s) { return s.uncertainty; });
    if (!unc.empty()) m.curves.push_back(fit_geometric("mean uncertainty (" + in.uncertainty + ")", points(unc)));
    const auto con = round_means(c.stored, [](const ItemRoundState& s) { return s.concept_score; });
    if (!con.empty()) m.curves.push_back(fit_geometric("mean concept score", points(con)));
    m.stops = evaluate_stops(c, in, options.stop_epsilons, &m.stops_unavailable);
    m.simulated_rounds = c.simulated_rounds;
    m.simulated_posterior = c.simulated_posterior;
    m.simulated_paper = c.simulated_paper;
    a.conditions.push_back(std::move(m));
  }
  return a;
}

nlohmann::json to_json(const MechanismAnalysis& a) {
  nlohmann::json conds = nlohmann::json::array();
  for (const ConditionMechanism& m : a.conditions) {
    nlohmann::json curves = nlohmann::json::array();
    for (const GeometricFitResult& g : m.curves) curves.push_back(to_json(g));
    nlohmann::json stops = nlohmann::json::array();
    for (const StopEvaluation& e : m.stops)
      stops.push_back({{"epsilon", e.epsilon},
                       {"conversations", e.conversations},
                       {"stopped", e.stopped},
                       {"rounds_full", e.rounds_full},
                       {"rounds_used", e.rounds_used},
                       {"rounds_saved", e.rounds_full - e.rounds_used},
                       {"mean_stop_round", e.mean_stop_round},
                       {"accuracy_full", optional_json(e.accuracy_full, "no correctness")},
                       {"accuracy_stopped", optional_json(e.accuracy_stopped, "no correctness")},
                       {"uncertainty_full", optional_json(e.uncertainty_full, "no uncertainty")},
                       {"uncertainty_stopped", optional_json(e.uncertainty_stopped, "no uncertainty")},
                       {"score_full", optional_json(e.score_full, "no score")},
                       {"score_stopped", optional_json(e.score_stopped, "no score")}});
    nlohmann::json j = {{"condition", m.condition},
                        {"n_items", m.n_items},
                        {"concept_model_fit", to_json(m.fit)},
                        {"simulation_task", to_json(m.task)},
                        {"simulation_task_projection",
                         m.task_projection ? to_json(*m.task_projection)
                                           : nlohmann::json{{"unavailable", a.projection_unavailable.empty()
                                                                                 ? "no hidden states in this condition"
                                                                                 : a.projection_unavailable}}},
                        {"transition_theory", to_json(m.theory)},
                        {"geometric_curves", std::move(curves)}};
    if (m.stops_unavailable.empty()) j["predict_stop"] = std::move(stops);
    else j["predict_stop"] = {{"unavailable", m.stops_unavailable}};
    if (!m.simulated_rounds.empty())
      j["simulated"] = {{"rounds", m.simulated_rounds},
                        {"posterior", m.simulated_posterior},
                        {"posterior_paper", m.simulated_paper}};
    conds.push_back(std::move(j));
  }
  nlohmann::json j = {{"store", a.store_path},
                      {"run_id", a.run.run_id},
                      {"task", a.run.task},
                      {"correctness", a.correctness},
                      {"conditions", conds}};
  if (a.concept_name.empty()) j["concept"] = {{"unavailable", a.concept_unavailable}};
  else j["concept"] = {{"name", a.concept_name}, {"position", a.concept_position}, {"layer", a.concept_layer}};
  if (a.uncertainty.empty()) j["uncertainty"] = {{"unavailable", a.uncertainty_unavailable}};
  else j["uncertainty"] = a.uncertainty;
  if (a.random_directions > 0) j["random_directions"] = a.random_directions;
  else j["random_directions"] = {{"unavailable", a.random_unavailable.empty() ? a.concept_unavailable : a.random_unavailable}};
  return j;
}

std::string to_text(const MechanismAnalysis& a) {
  std::string s = fmt::format("mechanism of run {} ({}, {} rounds)\n", a.run.run_id, a.run.task, a.run.rounds);
  s += a.concept_name.empty() ? "  concept: unavailable: " + a.concept_unavailable + "\n"
                              : fmt::format("  concept: {} at {} layer {}\n", a.concept_name, a.concept_position,
                                            a.concept_layer);
  s += a.uncertainty.empty() ? "  uncertainty: unavailable: " + a.uncertainty_unavailable + "\n"
                             : "  uncertainty: " + a.uncertainty + " (nats)\n";
  s += a.correctness == "argmax" ? "  correctness: the option-probability argmax against the gold option\n"
                                 : "  correctness: the task's verdict (or the parsed option against the gold one)\n";
  if (!a.concept_name.empty())
    s += a.random_directions > 0 ? fmt::format("  control: {} random directions in the same hidden states\n",
                                               a.random_directions)
                                 : "  control: unavailable: " + a.random_unavailable + "\n";
  for (const ConditionMechanism& m : a.conditions) {
    s += fmt::format("\ncondition {} ({} conversations)\n", m.condition, m.n_items);
    if (!m.simulated_rounds.empty()) {
      s += "  simulated posterior p(C_p|q_t) (correct odds form / the paper's formula):";
      for (std::size_t i = 0; i < m.simulated_rounds.size(); ++i)
        s += fmt::format(" r{} {:.3f}/{:.3f}", m.simulated_rounds[i], m.simulated_posterior[i], m.simulated_paper[i]);
      s += "\n";
    }
    s += to_text(m.fit);
    s += indent(to_text(m.task), 2);
    if (m.task_projection)
      s += "  with the projected hidden-state difference as the feature:\n" + indent(to_text(*m.task_projection), 4);
    s += indent(to_text(m.theory), 2);
    for (const GeometricFitResult& g : m.curves) s += indent(to_text(g), 2);
    if (!m.stops_unavailable.empty()) {
      s += "  predict-stop: unavailable: " + m.stops_unavailable + "\n";
    } else {
      s += "  predict-stop (after the fact on the full conversations):\n";
      for (const StopEvaluation& e : m.stops)
        s += fmt::format("    ε {:<6} stopped {}/{}  rounds saved {} of {} ({:.0f}%)  mean stop round {:.2f}  final "
                         "accuracy {} vs {}  uncertainty {} vs {}  score {} vs {}\n",
                         e.epsilon, e.stopped, e.conversations, e.rounds_full - e.rounds_used, e.rounds_full,
                         e.rounds_full ? 100.0 * static_cast<double>(e.rounds_full - e.rounds_used) /
                                             static_cast<double>(e.rounds_full)
                                       : 0.0,
                         e.mean_stop_round, fmt_opt(e.accuracy_stopped), fmt_opt(e.accuracy_full),
                         fmt_opt(e.uncertainty_stopped), fmt_opt(e.uncertainty_full), fmt_opt(e.score_stopped),
                         fmt_opt(e.score_full));
    }
  }
  return s;
}

}  // namespace isc::sim
