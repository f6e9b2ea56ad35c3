// The text form of the per-round table: fixed-width columns, "-" where a number does not apply.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "report/round_values.h"
#include "report/sampled_estimators.h"
#include "report/series.h"
#include "report/table.h"

namespace isc::report {

namespace {

// Display width in code points (the headers hold arrows), so columns line up in a UTF-8 terminal.
std::size_t width_of(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string pad(const std::string& s, std::size_t width) {
  const std::size_t w = width_of(s);
  return w >= width ? s : std::string(width - w, ' ') + s;
}

// Rows of cells, each column right-aligned to its widest cell, indented by two spaces.
void write_aligned(const std::vector<std::vector<std::string>>& table, std::ostream& out) {
  std::vector<std::size_t> widths;
  for (const auto& line : table) {
    widths.resize(std::max(widths.size(), line.size()), 0);
    for (std::size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], width_of(line[i]));
  }
  for (const auto& line : table) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) text += "  " + pad(line[i], widths[i]);
    out << text << "\n";
  }
}

std::string cell(const MetricValue& v, Metric metric, bool with_ci) {
  if (!v.value) return "-";
  if (is_count(metric)) return fmt::format("{:.0f}", *v.value);
  std::string s = fmt::format("{:.3f}", *v.value);
  if (with_ci && v.ci) s += fmt::format(" [{:.3f}, {:.3f}]", v.ci->lower, v.ci->upper);
  return s;
}

// Columns shown for a condition: those with a value in at least one round.
std::vector<Metric> shown_metrics(const ConditionSummary& c) {
  std::vector<Metric> shown;
  for (Metric m : all_metrics()) {
    const bool any = std::any_of(c.rounds.begin(), c.rounds.end(), [&](const metrics::RoundMetrics& r) {
      return metric_value(r, m, c.rows.has_correctness).value.has_value() || (is_count(m) && r.round > c.rounds[0].round);
    });
    if (any) shown.push_back(m);
  }
  return shown;
}

// Per round: the mean of each sampled-uncertainty estimator, and the rank-calibration error of
// semantic entropy against the answers' quality (lower = its ranking follows quality better).
void write_sampled(const ConditionSummary& c, std::ostream& out) {
  std::vector<const EstimatorView*> shown;
  for (const EstimatorView& v : estimator_views())
    for (const metrics::RoundMetrics& r : c.rounds)
      if (std::any_of(r.sampled.begin(), r.sampled.end(), [&](const auto& s) { return s.estimator == v.name; })) {
        shown.push_back(&v);
        break;
      }
  if (shown.empty()) return;
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> header = {"round", "n"};
  for (const EstimatorView* v : shown) header.push_back(v->short_title);
  header.push_back("RCE(SE)");
  header.push_back("AUROC(SE)");
  table.push_back(header);
  for (const metrics::RoundMetrics& r : c.rounds) {
    std::vector<std::string> line = {fmt::format("{}", r.round), "-"};
    const metrics::SampledUncertaintyMetrics* se = nullptr;
    for (const EstimatorView* v : shown) {
      auto it = std::find_if(r.sampled.begin(), r.sampled.end(), [&](const auto& s) { return s.estimator == v->name; });
      if (it == r.sampled.end()) {
        line.push_back("-");
        continue;
      }
      line[1] = fmt::format("{}", it->n);
      line.push_back(fmt::format("{:.3f}", it->mean));
      if (std::string(v->name) == "semantic_entropy") se = &*it;
    }
    line.push_back(se && se->rank_calibration ? fmt::format("{:.3f}", se->rank_calibration->rce) : "-");
    line.push_back(se && se->auroc ? fmt::format("{:.3f}", *se->auroc) : "-");
    table.push_back(line);
  }
  out << "  sampled uncertainty (nats):\n";
  write_aligned(table, out);
  std::vector<std::string> converged;
  for (const EstimatorView* v : shown)
    if (auto it = c.convergence.sampled.find(v->name); it != c.convergence.sampled.end())
      converged.push_back(fmt::format("{} r{}", v->short_title, it->second.round));
  if (auto it = c.convergence.sampled_rce.find("semantic_entropy"); it != c.convergence.sampled_rce.end())
    converged.push_back(fmt::format("RCE(SE) r{}", it->second.round));
  if (!converged.empty()) out << fmt::format("  converged (ε = {}): {}\n", c.convergence.epsilon, fmt::join(converged, ", "));
}

void write_condition(const ConditionSummary& c, const std::string& label, std::ostream& out) {
  out << fmt::format("condition {}: {} conversations", label, c.rows.conversations);
  if (c.rows.carried) out << fmt::format(", {} rounds carried forward after early stop", c.rows.carried);
  if (c.rows.missing) out << fmt::format(", {} rounds missing (unfinished run)", c.rows.missing);
  if (c.n_bias_items) out << fmt::format(", bias over {} items", c.n_bias_items);
  out << "\n";
  const std::vector<Metric> shown = shown_metrics(c);
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> header = {"round", "n"};
  for (Metric m : shown) header.push_back(m == Metric::Accuracy ? "accuracy [95% CI]" : metric_title(m));
  table.push_back(header);
  for (const metrics::RoundMetrics& r : c.rounds) {
    std::vector<std::string> line = {fmt::format("{}", r.round), fmt::format("{}", r.n_items)};
    for (Metric m : shown) line.push_back(cell(metric_value(r, m, c.rows.has_correctness), m, m == Metric::Accuracy));
    table.push_back(line);
  }
  write_aligned(table, out);
  std::vector<std::string> converged;
  for (Metric m : shown) {
    if (m == Metric::Accuracy && !c.rows.has_correctness) continue;
    if (auto p = metric_convergence(c.convergence, m)) converged.push_back(fmt::format("{} r{}", metric_title(m), p->round));
  }
  out << fmt::format("  converged (ε = {}): {}", c.convergence.epsilon,
                     converged.empty() ? std::string("-") : fmt::format("{}", fmt::join(converged, ", ")));
  if (c.convergence.answers)
    out << fmt::format("; answers settle at round {:.2f} on average, {:.1f}% never change after round 1",
                       c.convergence.answers->mean_round, 100.0 * c.convergence.answers->share_settled_at_first);
  out << "\n";
  out << pronoun_text(c.pronouns);  // empty unless the condition's rows are pronoun-scored
  write_sampled(c, out);
}

}  // namespace

void write_text_table(const std::vector<RunSummary>& runs, std::ostream& out) {
  const std::vector<Series> series = list_series(runs);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const RunSummary& s = runs[r];
    if (r) out << "\n";
    out << fmt::format("run {} ({}): task {}, model {}, {} items, {} rounds, {}\n", s.run.run_id, s.store_path,
                       s.run.task, s.run.model, s.n_items, s.run.rounds, s.run.status);
    for (const Series& line : series)
      if (line.run == r) write_condition(s.conditions[line.condition], line.label, out);
  }
}

void write_table(const std::vector<RunSummary>& runs, TableFormat format, std::ostream& out) {
  switch (format) {
    case TableFormat::Text: write_text_table(runs, out); break;
    case TableFormat::Json: out << summaries_json(runs).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n"; break;
    case TableFormat::Csv: write_csv_table(runs, out); break;
  }
}

}  // namespace isc::report
