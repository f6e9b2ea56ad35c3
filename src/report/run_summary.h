// Per-round summaries of a stored run: for each condition the per-round metrics, their convergence
// and a per-category breakdown, computed from the store's rows (every number traces to them).
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "metrics/condition_convergence.h"
#include "metrics/item_round.h"
#include "metrics/round_metrics.h"
#include "report/item_rows.h"
#include "report/winogender_section.h"
#include "store/records.h"
#include "store/store.h"

namespace isc::report {

struct SummaryOptions {
  metrics::MetricsOptions metrics;    // bins, confidence source, bootstrap (CIs use metrics.seed)
  double convergence_epsilon = 0.01;  // one ε for every series (see condition_convergence.h)
  bool categories = true;             // per-category breakdown (point values, no intervals)
};

struct CategoryRounds {
  std::string category;
  std::size_t n_items = 0;
  std::vector<metrics::RoundMetrics> rounds;
};

struct ConditionSummary {
  std::string condition;
  RowStats rows;
  // Items whose BBQ target is known; the bias score is over these only (0 when not a BBQ run).
  std::size_t n_bias_items = 0;
  std::vector<metrics::RoundMetrics> rounds;
  metrics::ConditionConvergence convergence;
  std::vector<CategoryRounds> categories;  // by category name; empty when no item has a category
  PronounRounds pronouns;                  // pronoun-scored runs only (see winogender_section.h)
};

struct RunSummary {
  std::string store_path;
  RunRecord run;
  std::size_t n_items = 0;
  std::vector<ConditionSummary> conditions;  // the run's condition order; conditions with no rows left out
};

// Called once per condition with the run's items and that condition's stored rounds, so a caller
// (the HTML conversation packer) can use the rows without reading the store a second time.
using RoundsVisitor =
    std::function<void(const std::string& condition, const std::vector<ItemRecord>&, const std::vector<RoundRecord>&)>;

// Throws isc::Error when the run is missing, has no stored rounds, or its rows are malformed.
RunSummary summarize_run(const Store& store, const std::string& run_id, const SummaryOptions& options,
                         const RoundsVisitor& visitor = {});

// Metrics of one condition's rows: compute_round_metrics, with the BBQ bias scored over the
// bias-eligible items only (rows of items whose target is unknown carry no BbqInfo).
std::vector<metrics::RoundMetrics> condition_metrics(const std::vector<metrics::ItemRound>& rows,
                                                     const metrics::MetricsOptions& options);

// The runs to report from a store: `run_id` if given (error naming the store if absent), else every
// run it holds (error if none).
std::vector<std::string> select_runs(const Store& store, const std::optional<std::string>& run_id);

// Generated tokens per second of wall time; nullopt when no wall time was recorded.
std::optional<double> tokens_per_second(const RunRecord& run);

}  // namespace isc::report
