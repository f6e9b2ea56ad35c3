// Yang et al.'s (EMNLP 2025) two-state Markov account of self-correction: accuracy converges
// geometrically to Upp = CS / (1 − CL + CS); estimated from one transition and checked on the rest.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/bootstrap.h"
#include "sim/item_round_state.h"
#include "sim/wilson_interval.h"

namespace isc::sim {

// Undefined statistics are empty with a reason beside them, never NaN; to_json writes
// {"unavailable": reason} in their place.

struct TransitionTheoryOptions {
  int from_round = 1;                      // r: CL, CS from the r → r + 1 transitions, Acc_r the start
  std::size_t bootstrap_resamples = 1000;  // percentile bootstrap over items; 0 = no intervals
  double confidence_level = 0.95;
  std::uint64_t seed = 0;
};

// CL = P(correct at t + 1 | correct at t), CS = P(correct at t + 1 | wrong at t) over the items
// with a correctness in both rounds.
struct TransitionEstimate {
  int from_round = 0;  // t; 0 for the pooled estimate
  std::size_t n = 0;   // items paired
  std::size_t correct_before = 0, correct_to_correct = 0;
  std::size_t wrong_before = 0, wrong_to_correct = 0;
  std::optional<Proportion> cl, cs;  // Wilson intervals
  std::string cl_unavailable, cs_unavailable;  // "no item was correct at round 1"
};

struct PredictedRound {
  int round = 0;
  std::size_t n_observed = 0;            // items with a correctness this round (stored rounds only)
  std::optional<Proportion> observed;    // accuracy, Wilson interval
  std::optional<double> predicted;       // Upp − α^{t−r} (Upp − Acc_r)
  std::optional<metrics::Interval> predicted_ci;  // bootstrap over items
  std::string predicted_ci_unavailable;
  std::optional<double> residual;        // observed − predicted
};

struct TransitionTheoryResult {
  TransitionTheoryOptions options;
  std::size_t n_items = 0;  // items with a correctness at any round
  int last_round = 0;       // highest round with a correctness
  TransitionEstimate estimate;        // the r → r + 1 transitions
  std::optional<Proportion> start;    // Acc_r over the items with a correctness at round r
  std::optional<double> alpha;        // CL − CS
  std::optional<double> upper_bound;  // Upp
  std::optional<metrics::Interval> upper_bound_ci;
  std::string upper_bound_unavailable;  // e.g. CL = 1 and CS = 0: every state absorbing
  std::vector<PredictedRound> rounds;   // every round r … last_round
  // Whether the observed accuracy of the last round lies within its predicted interval.
  std::optional<bool> final_within_interval;
  std::string final_within_interval_unavailable;
  std::vector<TransitionEstimate> per_transition;  // each stored t → t + 1
  TransitionEstimate pooled;  // all consecutive transitions together (a stationary chain has one CL, CS)
  std::string unavailable;    // no prediction at all (fewer than 2 rounds, CL or CS undefined)
};

// Counts of one set of (before, after) correctness pairs; the CL / CS proportions and reasons.
TransitionEstimate transition_estimate(int from_round, std::size_t correct_to_correct, std::size_t correct_to_wrong,
                                       std::size_t wrong_to_correct, std::size_t wrong_to_wrong, double level);

// Throws isc::Error on a duplicate (item, round), a round < 1, from_round < 1, or a level outside
// (0, 1); degenerate data is reported, not thrown.
TransitionTheoryResult transition_theory(const std::vector<ItemRoundState>& states,
                                         const TransitionTheoryOptions& options = {});

nlohmann::json to_json(const TransitionTheoryResult& result);
// Lines for people, each ending in '\n': the estimate, then one line per round.
std::string to_text(const TransitionTheoryResult& result);

}  // namespace isc::sim
