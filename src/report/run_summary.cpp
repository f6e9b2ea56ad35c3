// summarize_run: reads each condition's rounds once, turns them into metric rows, and computes the
// per-round metrics, their convergence and the per-category breakdown.
#include "report/run_summary.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "common/error.h"

namespace isc::report {

namespace {

bool any_bias_info(const std::vector<metrics::ItemRound>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const metrics::ItemRound& r) { return r.bbq.has_value(); });
}

metrics::MetricsOptions allowing_missing(metrics::MetricsOptions options, const RowStats& stats) {
  if (stats.missing > 0) options.require_same_items_each_round = false;
  return options;
}

}  // namespace

std::vector<metrics::RoundMetrics> condition_metrics(const std::vector<metrics::ItemRound>& rows,
                                                     const metrics::MetricsOptions& options) {
  const std::size_t with_bias =
      std::count_if(rows.begin(), rows.end(), [](const metrics::ItemRound& r) { return r.bbq.has_value(); });
  if (with_bias == 0 || with_bias == rows.size()) return metrics::compute_round_metrics(rows, options);
  // Mixed: the metrics API wants BBQ info on all rows or none, so everything but bias is measured on
  // all rows and bias on the eligible rows; both use the same options (and so the same seeds).
  std::vector<metrics::ItemRound> plain = rows, eligible;
  for (metrics::ItemRound& r : plain) r.bbq.reset();
  for (const metrics::ItemRound& r : rows)
    if (r.bbq) eligible.push_back(r);
  metrics::MetricsOptions eligible_options = options;
  eligible_options.require_same_items_each_round = false;  // an eligible item may lack a round others have
  std::vector<metrics::RoundMetrics> all = metrics::compute_round_metrics(plain, options);
  const std::vector<metrics::RoundMetrics> bias = metrics::compute_round_metrics(eligible, eligible_options);
  std::map<int, const metrics::RoundMetrics*> bias_by_round;
  for (const metrics::RoundMetrics& m : bias) bias_by_round.emplace(m.round, &m);
  for (metrics::RoundMetrics& m : all) {
    const auto it = bias_by_round.find(m.round);
    if (it != bias_by_round.end()) m.bias = it->second->bias;
  }
  return all;
}

std::vector<std::string> select_runs(const Store& store, const std::optional<std::string>& run_id) {
  if (run_id) {
    if (!store.find_run(*run_id)) {
      std::vector<std::string> ids;
      for (const RunRecord& r : store.runs()) ids.push_back(r.run_id);
      throw error_at(store.path(), "", fmt::format("no run '{}' (the store holds: {})", *run_id,
                                                   ids.empty() ? std::string("no runs") : fmt::format("{}", fmt::join(ids, ", "))));
    }
    return {*run_id};
  }
  std::vector<std::string> ids;
  for (const RunRecord& r : store.runs()) ids.push_back(r.run_id);
  if (ids.empty()) throw error_at(store.path(), "", "the store holds no runs");
  return ids;
}

std::optional<double> tokens_per_second(const RunRecord& run) {
  if (!(run.wall_seconds > 0.0)) return std::nullopt;
  return static_cast<double>(run.generated_tokens) / run.wall_seconds;
}

namespace {

// Each round's samples (Store::rounds leaves them out so that metrics never pay for them).
void attach_samples(const Store& store, const std::string& run_id, const std::string& condition,
                    std::vector<RoundRecord>& rounds) {
  std::map<std::pair<std::string, int>, RoundRecord*> by_key;
  for (RoundRecord& r : rounds) by_key[{r.item_id, r.round}] = &r;
  for (SampleRecord& s : store.samples(run_id, condition))
    if (auto it = by_key.find({s.item_id, s.round}); it != by_key.end()) it->second->samples.push_back(std::move(s));
}

}  // namespace

RunSummary summarize_run(const Store& store, const std::string& run_id, const SummaryOptions& options,
                         const RoundsVisitor& visitor) {
  const std::optional<RunRecord> run = store.find_run(run_id);
  if (!run) throw error_at(store.path(), "", fmt::format("no run '{}'", run_id));
  RunSummary summary;
  summary.store_path = store.path();
  summary.run = *run;
  const std::vector<ItemRecord> items = store.items(run_id);
  summary.n_items = items.size();
  std::unordered_map<std::string, const ItemRecord*> item_by_id;
  for (const ItemRecord& item : items) item_by_id.emplace(item.item_id, &item);

  const bool with_samples = visitor && store.count_samples(run_id) > 0;
  for (const std::string& condition : run->conditions) {
    std::vector<RoundRecord> stored = store.rounds(run_id, condition);
    if (stored.empty()) continue;
    if (with_samples) attach_samples(store, run_id, condition, stored);  // the viewer shows them
    if (visitor) visitor(condition, items, stored);
    const std::string where = fmt::format("run {} condition {}", run_id, condition);
    try {
      ConditionSummary c;
      c.condition = condition;
      const std::vector<metrics::ItemRound> rows = item_rounds(items, stored, run->rounds, &c.rows);
      const metrics::MetricsOptions metric_options = allowing_missing(options.metrics, c.rows);
      c.rounds = condition_metrics(rows, metric_options);
      c.convergence = metrics::summarize_convergence(c.rounds, rows, options.convergence_epsilon);
      for (const ItemRecord& item : items)
        if (bbq_info(item)) ++c.n_bias_items;
      if (options.categories) {
        std::map<std::string, std::vector<metrics::ItemRound>> by_category;
        for (const metrics::ItemRound& r : rows) {
          const std::string& category = item_by_id.at(r.item_id)->category;
          if (!category.empty()) by_category[category].push_back(r);
        }
        metrics::MetricsOptions point_only = metric_options;
        point_only.bootstrap_resamples = 0;  // the breakdown shows point values; CIs would cost R × categories × B
        point_only.require_same_items_each_round = false;
        for (const auto& [category, category_rows] : by_category) {
          CategoryRounds cr;
          cr.category = category;
          std::vector<std::string> ids;
          for (const metrics::ItemRound& r : category_rows) ids.push_back(r.item_id);
          std::sort(ids.begin(), ids.end());
          cr.n_items = static_cast<std::size_t>(std::unique(ids.begin(), ids.end()) - ids.begin());
          cr.rounds = condition_metrics(category_rows, point_only);
          c.categories.push_back(std::move(cr));
        }
      }
      if (!any_bias_info(rows)) c.n_bias_items = 0;
      c.pronouns = pronoun_rounds(items, stored, run->rounds);
      summary.conditions.push_back(std::move(c));
    } catch (const Error& e) {
      throw error_at(store.path(), where, e.what());
    }
  }
  if (summary.conditions.empty()) throw error_at(store.path(), "", fmt::format("run '{}' has no stored rounds", run_id));
  return summary;
}

}  // namespace isc::report
