// The study's "simulation task" with the baselines it lacked: from the concept change between two
// consecutive rounds, predict whether uncertainty decreased (and the reverse), by item-grouped CV.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/regression.h"
#include "sim/item_round_state.h"
#include "sim/wilson_interval.h"

namespace isc::sim {

// Every statistic below that can be undefined on the data is present, or empty with a non-empty
// `unavailable` saying why; none is NaN, and to_json writes {"unavailable": reason} in its place.

struct SimulationTaskOptions {
  int folds = 5;                   // k of the item-grouped k-fold cross-validation (>= 2)
  double l2 = 1.0;                 // sklearn LogisticRegression(C = 1 / l2); 0 = unpenalised
  std::uint64_t seed = 0;          // fold assignment (see assign_folds)
  double confidence_level = 0.95;  // Wilson intervals, and the random directions' percentile band
};

// One conversation's consecutive stored rounds (t, t + 1), both with a concept score and an
// uncertainty. Δ = value at t + 1 − value at t.
struct RoundPair {
  std::string item_id;
  int round = 0;  // t
  double concept_before = 0.0, concept_after = 0.0;
  double uncertainty_before = 0.0, uncertainty_after = 0.0;
  // Δ of each random direction's score; empty when either round has none (or their counts differ).
  std::vector<double> random_deltas;
  int fold = -1;  // the cross-validation fold of the item (set by simulation_task)

  double concept_delta() const { return concept_after - concept_before; }
  double uncertainty_delta() const { return uncertainty_after - uncertainty_before; }
};

// The pairs of a condition's states, sorted by (item_id, round); fold left at -1. Rows may come in
// any order and items may lack rounds (only t and t + 1 both present and both measured pair up).
// Throws isc::Error naming the item and round on a duplicate (item, round), a round < 1, or a
// non-finite concept, uncertainty or random score.
std::vector<RoundPair> round_pairs(const std::vector<ItemRoundState>& states);

// Fold (0 … folds − 1) of each of `item_ids` (sorted and unique, else isc::Error): the ids are
// shuffled by Fisher–Yates with a splitmix64 stream from `seed` (for i = n − 1 … 1: j =
// next() mod (i + 1), swap ids i and j), and the id at shuffled position p gets fold p mod folds.
// Portable, so a Python check can rebuild the folds. Throws isc::Error when folds < 2 or
// item_ids.size() < folds.
std::vector<int> assign_folds(const std::vector<std::string>& item_ids, int folds, std::uint64_t seed);

// One classifier's out-of-fold result on the same folds as the others.
struct ClassifierResult {
  std::string name;                   // "concept change", "majority class", "round index", ...
  std::vector<std::string> features;  // columns ("concept change", "earlier uncertainty", ...); empty for majority
  std::optional<Proportion> accuracy;  // of the pooled out-of-fold predictions, Wilson interval
  std::vector<int> predictions;        // per pair (result's pair order), 0/1; empty when unavailable
  std::vector<double> probabilities;   // per pair, out-of-fold P(label = 1) (majority: the training share)
  // Training folds with one class only: no fit, the fold predicts that class (probability 0 or 1).
  std::size_t single_class_folds = 0;
  // Training folds where no model could be fit (l2 = 0 with a constant or collinear training column):
  // the fold predicts its training majority instead.
  std::size_t unfit_folds = 0;
  std::string unavailable;  // e.g. "round index is constant (1 in every pair)"
};

// The concept direction against random directions: the same classifier built from each random
// direction's Δ score, on the same folds.
struct RandomDirectionBaseline {
  std::size_t directions = 0;        // random directions offered
  std::vector<double> accuracies;    // per direction used (constant ones are left out)
  std::size_t directions_constant = 0;
  std::optional<double> mean_accuracy;
  std::optional<double> lower, upper;  // (1 ∓ level)/2 quantiles of the accuracies (numpy "linear")
  // Share of the directions used whose accuracy is strictly below the concept direction's.
  std::optional<double> share_beaten;
  std::string unavailable;  // e.g. "no random directions were scored"
};

// The full-data fit of the direction's own model (the one feature, standardised over all pairs,
// penalty l2): sklearn Pipeline(StandardScaler(), LogisticRegression(C = 1 / l2)).fit(all pairs).
struct FullDataFit {
  std::optional<metrics::LogisticFit> fit;  // coef per standard deviation; p-values two-sided normal
  std::optional<double> coefficient_raw;    // coef / column_std: per unit of the raw feature
  std::string unavailable;                  // no fit at all (one class, constant feature)
  // Set (and the standard errors / p-values left out) when l2 = 0 and the data are separated.
  std::string inference_unavailable;
};

// One direction of the association: `feature` predicting `label` over the pairs.
struct DirectionResult {
  std::string feature;  // "concept change" | "uncertainty change"
  std::string label;    // "uncertainty decreased" | "concept increased"
  std::size_t n_pairs = 0, n_items = 0;
  std::size_t n_positive = 0;              // pairs whose label is 1
  std::vector<int> labels;                 // per pair
  // The direction's own classifier first, then its baselines:
  //   forward: concept change, majority class, round index, earlier uncertainty,
  //            concept change + earlier uncertainty
  //   reverse: uncertainty change, majority class, round index, earlier concept,
  //            uncertainty change + earlier concept
  std::vector<ClassifierResult> classifiers;
  std::optional<RandomDirectionBaseline> random_directions;  // forward only
  FullDataFit full_fit;
  std::string unavailable;  // e.g. "uncertainty never decreased in these 40 pairs"
};

struct SimulationTaskResult {
  SimulationTaskOptions options;
  std::size_t n_states = 0;      // rows offered
  std::size_t n_items = 0;       // items with at least one pair
  std::vector<RoundPair> pairs;  // sorted by (item_id, round), fold set when cross-validation ran
  DirectionResult forward;       // concept change → uncertainty decreased (u_{t+1} − u_t <= 0)
  DirectionResult reverse;       // uncertainty change → concept increased (c_{t+1} − c_t > 0)
  // Why nothing was cross-validated ("no pairs…", "5-fold cross-validation needs at least 5
  // items; this condition has 3"); the directions then carry the same reason.
  std::string unavailable;
};

// One condition's states. Throws isc::Error on bad options (folds < 2, l2 < 0 or not finite, level
// outside (0, 1)) and on the data errors of round_pairs; degenerate data is reported, not thrown.
SimulationTaskResult simulation_task(const std::vector<ItemRoundState>& states,
                                     const SimulationTaskOptions& options = {});

// Accuracy and probability of each classifier's out-of-fold predictions are written; the pairs
// (with fold, deltas and both labels) only when `with_pairs` (the cross-check tool asks for them).
nlohmann::json to_json(const SimulationTaskResult& result, bool with_pairs = false);
// Lines for people, each ending in '\n': one per classifier, per direction.
std::string to_text(const SimulationTaskResult& result);

}  // namespace isc::sim
