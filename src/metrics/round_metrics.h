// The per-round summary of one experimental condition: accuracy, parse rate, BBQ bias, answer flips
// vs the previous round, entropy, calibration and mean score, each headline number with a bootstrap CI.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "metrics/accuracy.h"
#include "metrics/bbq_bias.h"
#include "metrics/bootstrap.h"
#include "metrics/calibration.h"
#include "metrics/item_round.h"
#include "metrics/rank_calibration.h"
#include "metrics/transitions.h"

namespace isc::metrics {

struct BiasMetrics {
  BbqBiasScores scores;
  // Bootstrap over the items of that context condition; nullopt when the score is undefined or
  // intervals are off.
  std::optional<Interval> ambiguous_ci;
  std::optional<Interval> disambiguated_ci;
};

struct EntropyMetrics {
  double mean = 0.0;             // nats
  double mean_normalized = 0.0;  // divided by ln K
  std::optional<Interval> mean_ci;
};

struct CalibrationMetrics {
  ConfidenceSource source = ConfidenceSource::Argmax;
  std::size_t n = 0;                        // rows with a confidence: all rows, or under ParsedAnswer the parsed ones
  double ece = 0.0;                         // equal-width bins on [0, 1]
  double ece_adaptive = 0.0;                // equal-mass bins
  double ece_observed_range = 0.0;          // the reference code's bins over [min, max] confidence
  double brier_binary = 0.0;                // over the n confidences
  double brier_multiclass = 0.0;            // over every row's full option vector and gold
  std::vector<ReliabilityBin> reliability;  // the equal-width bins behind `ece`
  std::optional<Interval> ece_ci;
};

struct ScoreMetrics {
  double mean = 0.0;
  std::optional<Interval> mean_ci;
};

// One sampled-uncertainty estimator in one round: its mean over items, and how well it ranks the
// answers' quality (rank-calibration error, Huang et al. 2024) and, where quality is 0/1, detects
// wrong answers (AUROC) and serves selective prediction (PRR).
struct SampledUncertaintyMetrics {
  std::string estimator;
  std::size_t n = 0;                       // items with an estimate
  double mean = 0.0;                       // nats
  std::optional<Interval> mean_ci;
  std::size_t n_quality = 0;               // of those, items with a quality
  std::optional<RankCalibration> rank_calibration;  // >= 2 items with a quality
  // uncertainty as a detector of wrong answers: by the task's verdict where every row has one,
  // else where quality is 0/1; nullopt when only one class is present
  std::optional<double> auroc;
  std::optional<double> prr;               // quality not constant
};

struct RoundMetrics {
  int round = 0;
  std::size_t n_items = 0;
  int n_options = 0;
  AccuracyResult accuracy;  // includes the parse rate
  std::optional<Interval> accuracy_ci;
  // Accuracy of the option-probability argmax at the answer position (ties: the lower index), the
  // prediction the reference's ECE code scores; unlike `accuracy` it does not need the reply to
  // name an option. When the rows carry option probabilities.
  std::optional<double> accuracy_argmax;
  std::optional<Interval> accuracy_argmax_ci;
  std::optional<BiasMetrics> bias;                // when the rows carry BBQ info
  std::optional<int> previous_round;              // the round transitions are counted from
  std::optional<TransitionCounts> transitions;    // nullopt for the first round
  std::optional<EntropyMetrics> entropy;          // when the rows carry option probabilities
  std::optional<CalibrationMetrics> calibration;  // when they do and at least one row has a confidence
  std::optional<ScoreMetrics> score;              // when the rows carry a score
  std::vector<SampledUncertaintyMetrics> sampled;  // per estimator present, by name
};

// Metrics of every round present in `rows` (one condition), in ascending round order.
// Correctness of a row: correct_override if set, else answer >= 0 && answer == gold.
// n_options: the length of the option vectors when present (all rows must agree), else
// 1 + the largest answer/gold/BBQ option index seen.
// Intervals use the percentile bootstrap over the round's items (sorted by item id, so the result
// does not depend on row order) with seed derive_seed(options.seed, round, metric tag).
// Throws isc::Error naming the item and round on: no rows, a duplicate (item, round), a malformed
// probability vector, an index outside [-1, K), a row with neither gold nor correct_override,
// option probabilities / score / BBQ info present on some rows but not others, a gold of -1 where
// probabilities need one (Argmax confidence, multi-class Brier), rounds holding different items
// (unless allowed), or invalid options.
std::vector<RoundMetrics> compute_round_metrics(const std::vector<ItemRound>& rows, const MetricsOptions& options);

}  // namespace isc::metrics
