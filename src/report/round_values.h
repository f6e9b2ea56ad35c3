// The per-round numbers a report shows, named once: each table column, CSV field and plot reads a
// metric through metric_value, so text, JSON, CSV and HTML cannot disagree.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "metrics/bootstrap.h"
#include "metrics/condition_convergence.h"
#include "metrics/round_metrics.h"

namespace isc::report {

enum class Metric {
  Accuracy,
  AccuracyArgmax,  // the option-probability argmax against gold (needs no parsed answer)
  ParseRate,
  BiasAmbiguous,
  BiasDisambiguated,
  RightToWrong,  // counts against the previous round
  WrongToRight,
  Changed,
  Entropy,  // mean predictive entropy over the options, nats
  Ece,
  EceAdaptive,
  Brier,  // multi-class Brier score
  Score,  // mean task score (e.g. share of gender-neutral pronouns)
};

const std::vector<Metric>& all_metrics();

struct MetricValue {
  std::optional<double> value;  // nullopt: not applicable / undefined this round
  std::optional<metrics::Interval> ci;
};

// `has_correctness` false hides accuracy-derived numbers (tasks that score no correctness).
MetricValue metric_value(const metrics::RoundMetrics& round, Metric metric, bool has_correctness = true);

// The convergence round of the metric's series; nullopt for counts and undefined series.
std::optional<metrics::ConvergencePoint> metric_convergence(const metrics::ConditionConvergence& c, Metric metric);

const char* metric_key(Metric metric);    // machine name: "accuracy", "bias_ambiguous", ...
const char* metric_title(Metric metric);  // short human header: "accuracy", "bias amb", ...
bool is_count(Metric metric);             // transition counts are integers
bool has_series_convergence(Metric metric);  // metric_convergence can be defined for it

}  // namespace isc::report
