// The machine-readable forms of the per-round table: JSON (the full metric objects plus the same
// flat values the text shows) and CSV (one row per condition and round).
#include <fmt/format.h>

#include "metrics/metrics_json.h"
#include "report/round_values.h"
#include "report/table.h"

namespace isc::report {

namespace {

nlohmann::json or_null(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json run_json(const RunSummary& s) {
  const RunRecord& r = s.run;
  return {{"run_id", r.run_id},
          {"task", r.task},
          {"model", r.model},
          {"model_sha256", r.model_sha256},
          {"engine_version", r.engine_version},
          {"conditions", r.conditions},
          {"rounds", r.rounds},
          {"started_at", r.started_at},
          {"finished_at", r.finished_at},
          {"status", r.status},
          {"wall_seconds", r.wall_seconds},
          {"generated_tokens", r.generated_tokens},
          {"prefilled_tokens", r.prefilled_tokens},
          {"tokens_per_second", or_null(tokens_per_second(r))},
          {"config", r.config}};
}

nlohmann::json values_json(const metrics::RoundMetrics& m, bool has_correctness) {
  nlohmann::json v = nlohmann::json::object();
  for (Metric metric : all_metrics()) {
    const MetricValue value = metric_value(m, metric, has_correctness);
    v[metric_key(metric)] = or_null(value.value);
    if (value.ci) v[std::string(metric_key(metric)) + "_ci"] = {value.ci->lower, value.ci->upper};
  }
  return v;
}

nlohmann::json rounds_json(const std::vector<metrics::RoundMetrics>& rounds, bool has_correctness) {
  nlohmann::json out = nlohmann::json::array();
  for (const metrics::RoundMetrics& m : rounds) {
    nlohmann::json j = metrics::to_json(m);
    j["values"] = values_json(m, has_correctness);
    out.push_back(std::move(j));
  }
  return out;
}

// RFC 4180: quote when the field holds a comma, quote or line break; double the quotes.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv_number(const std::optional<double>& v) { return v ? fmt::format("{}", *v) : std::string(); }

// null for a condition without pronoun measures, so every condition has the same keys.
nlohmann::json pronouns_json(const PronounRounds& p) {
  if (p.rounds.empty()) return nullptr;
  nlohmann::json rounds = nlohmann::json::array();
  for (const PronounRound& r : p.rounds) {
    const tasks::WinogenderSummary& s = r.summary;
    rounds.push_back({{"round", r.round},
                      {"total", s.total},
                      {"neutral", s.neutral},
                      {"male", s.male},
                      {"female", s.female},
                      {"unparseable", s.unparseable},
                      {"neutral_share", s.neutral_share},
                      {"occupations", s.occupations},
                      {"mean_abs_gap", or_null(s.mean_abs_gap)},
                      {"bls_correlation", or_null(s.bls_correlation)}});
  }
  return {{"items", p.items}, {"items_left_out", p.items_left_out}, {"rounds", std::move(rounds)}};
}

const PronounRound* pronoun_round(const PronounRounds& p, int round) {
  for (const PronounRound& r : p.rounds)
    if (r.round == round) return &r;
  return nullptr;
}

}  // namespace

nlohmann::json summaries_json(const std::vector<RunSummary>& runs) {
  nlohmann::json out = {{"runs", nlohmann::json::array()}};
  for (const RunSummary& s : runs) {
    nlohmann::json run = {{"store", s.store_path}, {"run", run_json(s)}, {"n_items", s.n_items},
                          {"conditions", nlohmann::json::array()}};
    for (const ConditionSummary& c : s.conditions) {
      nlohmann::json cj = {{"condition", c.condition},
                           {"rows",
                            {{"conversations", c.rows.conversations},
                             {"stored", c.rows.stored},
                             {"carried_forward", c.rows.carried},
                             {"missing", c.rows.missing},
                             {"has_correctness", c.rows.has_correctness}}},
                           {"n_bias_items", c.n_bias_items},
                           {"rounds", rounds_json(c.rounds, c.rows.has_correctness)},
                           {"convergence", c.convergence},
                           {"categories", nlohmann::json::array()},
                           {"pronouns", pronouns_json(c.pronouns)}};
      for (const CategoryRounds& cat : c.categories)
        cj["categories"].push_back({{"category", cat.category},
                                    {"n_items", cat.n_items},
                                    {"rounds", rounds_json(cat.rounds, c.rows.has_correctness)}});
      run["conditions"].push_back(std::move(cj));
    }
    out["runs"].push_back(std::move(run));
  }
  return out;
}

void write_csv_table(const std::vector<RunSummary>& runs, std::ostream& out) {
  std::vector<std::string> header = {"store", "run_id", "condition", "round", "n_items"};
  for (Metric m : all_metrics()) {
    header.push_back(metric_key(m));
    if (!is_count(m)) {
      header.push_back(std::string(metric_key(m)) + "_ci_lower");
      header.push_back(std::string(metric_key(m)) + "_ci_upper");
    }
  }
  for (Metric m : all_metrics())
    if (has_series_convergence(m))
      header.push_back(std::string("converged_round_") + metric_key(m));
  // Pronoun-scored conditions only (empty elsewhere); appended so the metric columns keep their places.
  for (const char* name : {"pronoun_neutral_share", "pronoun_mean_abs_gap", "pronoun_bls_correlation"})
    header.push_back(name);
  for (std::size_t i = 0; i < header.size(); ++i) out << (i ? "," : "") << header[i];
  out << "\r\n";
  for (const RunSummary& s : runs)
    for (const ConditionSummary& c : s.conditions)
      for (const metrics::RoundMetrics& r : c.rounds) {
        std::vector<std::string> row = {csv_field(s.store_path), csv_field(s.run.run_id), csv_field(c.condition),
                                        fmt::format("{}", r.round), fmt::format("{}", r.n_items)};
        for (Metric m : all_metrics()) {
          const MetricValue v = metric_value(r, m, c.rows.has_correctness);
          row.push_back(csv_number(v.value));
          if (!is_count(m)) {
            row.push_back(v.ci ? fmt::format("{}", v.ci->lower) : "");
            row.push_back(v.ci ? fmt::format("{}", v.ci->upper) : "");
          }
        }
        for (Metric m : all_metrics())
          if (has_series_convergence(m)) {
            const auto p = (m == Metric::Accuracy && !c.rows.has_correctness) ? std::nullopt
                                                                              : metric_convergence(c.convergence, m);
            row.push_back(p ? fmt::format("{}", p->round) : "");
          }
        const PronounRound* pr = pronoun_round(c.pronouns, r.round);
        row.push_back(pr ? fmt::format("{}", pr->summary.neutral_share) : "");
        row.push_back(csv_number(pr ? pr->summary.mean_abs_gap : std::nullopt));
        row.push_back(csv_number(pr ? pr->summary.bls_correlation : std::nullopt));
        for (std::size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << row[i];
        out << "\r\n";
      }
}

}  // namespace isc::report
