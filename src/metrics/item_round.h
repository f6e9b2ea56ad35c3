// The input of the per-round metrics: one row per (item, round) of one experimental condition, as
// the store keeps it, and the options that choose conventions (confidence source, bins, bootstrap).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "metrics/bbq_bias.h"
#include "metrics/calibration.h"
#include "metrics/distribution_check.h"

namespace isc::metrics {

struct ItemRound {
  std::string item_id;  // identifies the conversation across rounds
  int round = 1;        // round number as the protocol counts it (the reference starts at 1)
  int answer = -1;      // parsed option index; -1 = unparseable
  int gold = -1;        // gold option index; -1 = none (then correct_override is required)
  // Probability of each option label at the answer position, normalised over the options. Empty
  // when the task has no options; within one condition either every row has it or none does.
  std::vector<double> option_probs;
  // Correctness decided by the task's scorer (non-multiple-choice tasks); replaces answer == gold.
  std::optional<bool> correct_override;
  // A per-answer score such as toxicity; averaged per round. Every row or none.
  std::optional<double> score;
  // BBQ item facts; every row or none.
  std::optional<BbqInfo> bbq;
  // The answer's quality in [0, 1], higher = better (1 − toxicity, correctness, ...), as the task
  // defines it: what uncertainty is calibrated against. Optional per row.
  std::optional<double> quality;
  // Sampled-uncertainty estimates of the round (estimator name -> nats), where the run sampled.
  std::map<std::string, double> sampled_uncertainty;
};

// Whether an answer is right: the scorer's verdict where there is one, else the parsed option
// against the gold option. The one rule for the per-round metrics and the concept statistics.
inline bool answer_correct(const std::optional<bool>& correct_override, int answer, int gold) {
  return correct_override ? *correct_override : (answer >= 0 && answer == gold);
}

struct MetricsOptions {
  ConfidenceSource confidence_source = ConfidenceSource::Argmax;
  std::size_t ece_bins = 10;           // equal-width and observed-range ECE
  std::size_t adaptive_ece_bins = 10;  // equal-mass ECE
  ObservedRangeTop observed_range_top = ObservedRangeTop::IncludeMax;
  std::size_t bootstrap_resamples = 1000;  // 0 = no confidence intervals
  double confidence_level = 0.95;
  std::uint64_t seed = 0;  // base seed; each (round, metric) interval derives its own stream
  double probability_tolerance = kDefaultProbabilityTolerance;
  // Every round must hold the same items (a conversation missing a round is an error). When false,
  // each round is measured on the rows it has and transitions pair the items present in both rounds.
  bool require_same_items_each_round = true;
};

}  // namespace isc::metrics
