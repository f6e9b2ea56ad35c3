// Per-round statistics of a latent concept in a stored run, computed in one place for `isc concept
// score` (which prints and stores them) and the report's Concepts section (which draws them).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/bootstrap.h"
#include "metrics/correlation.h"
#include "metrics/regression.h"
#include "store/records.h"
#include "store/store.h"

namespace isc::concepts {

// Every statistic below that can be undefined on the data (one item, constant scores, one class,
// separation, too few rounds) is either present or empty with a non-empty `unavailable` saying why;
// none is ever NaN, and the JSON forms write {"unavailable": reason} in its place.

struct ConceptSummaryOptions {
  std::size_t bootstrap_resamples = 1000;  // 0 = no intervals
  double confidence_level = 0.95;
  std::uint64_t seed = 0;  // each (condition, round) interval derives its own stream from it
};

// One (condition, round) at the summary's position and layer. Stored rounds only: a conversation
// that stopped early has no hidden state after its last round, so nothing is carried forward.
struct RoundConcept {
  int round = 0;
  std::size_t n = 0;                      // items with a probe this round
  double mean = 0.0;                      // mean cosine (the concept score)
  std::optional<metrics::Interval> ci;    // percentile bootstrap over the items
  std::string ci_unavailable;
  std::optional<double> delta;            // mean − the mean of the condition's previous probed round
  std::optional<double> mean_probability; // over the items whose probe has a probability
  std::size_t n_probability = 0;
  // Mean normalised option entropy (metrics/entropy.h) over the probed items whose round has
  // option probabilities: the uncertainty the concept is related to.
  std::optional<double> mean_uncertainty;
  std::size_t n_uncertainty = 0;
};

struct CorrelationResult {
  std::size_t n = 0;  // pairs offered
  std::optional<metrics::Correlation> pearson, spearman;
  std::string unavailable;
};

// uncertainty = b0 + b1 · concept score, over (item, round) pairs.
struct OlsResult {
  std::optional<metrics::OlsFit> fit;
  std::string unavailable;
};

// P(correct) = σ(b0 + b1 · concept + b2 · uncertainty), columns standardised, over (item, round)
// pairs with a correctness and option probabilities.
struct LogisticResult {
  std::size_t n = 0, n_correct = 0;
  std::optional<metrics::LogisticFit> fit;
  std::string unavailable;
};

struct ConditionConcept {
  std::string condition;
  std::vector<RoundConcept> rounds;  // ascending
  CorrelationResult round_level;     // per-round mean concept score vs mean uncertainty
  CorrelationResult item_level;      // every (item, round) pair
  OlsResult ols;
  LogisticResult logistic;
};

struct LayerShift {
  std::string condition;
  int first_round = 0, last_round = 0;
  std::optional<double> shift;  // last probed round's mean − first probed round's mean
  std::string unavailable;
};

struct LayerProfile {
  int layer = 0;
  std::vector<LayerShift> conditions;
  // The direction's accuracy on held-out concept data at this layer: the ProbeRecord (round 0,
  // name "<name>/heldout_accuracy") that `isc concept score` stores, when present.
  std::optional<double> heldout_accuracy;
};

// Steered − base, over the (item, round) pairs both conditions have.
struct SteeringRound {
  int round = 0;
  std::size_t n = 0;  // items stored in both conditions this round
  std::optional<double> accuracy_base, accuracy_steered, accuracy_diff;  // when the rows score correctness
  std::optional<double> entropy_base, entropy_steered, entropy_diff;     // mean normalised entropy
  std::size_t n_concept = 0;  // items probed in both (at the summary's position and layer)
  std::optional<double> concept_base, concept_steered, concept_diff;
};

struct SteeringEffect {
  std::string condition;  // the steered condition (config "steer"[i].name)
  std::string base;
  nlohmann::json spec;    // the config entry as stored (direction, layers, strength, ...)
  std::vector<SteeringRound> rounds;
  std::string unavailable;  // e.g. the base condition has no stored rounds
};

struct ConceptSummary {
  std::string run_id;
  std::string name;      // "<concept>/<method>"
  std::string position;  // "answer" | "user_end"
  int layer = 0;
  ConceptSummaryOptions options;
  std::vector<ConditionConcept> conditions;  // the run's condition order; those with probes only
  std::vector<LayerProfile> layers;          // every layer probed under this name and position
  std::vector<SteeringEffect> steering;      // one per config "steer" entry
};

// The (name, position) pairs a run's item probes cover, with their layers (sorted).
struct ConceptKey {
  std::string name;
  std::string position;
  std::vector<int> layers;
};
std::vector<ConceptKey> concept_keys(const std::vector<ItemProbeRecord>& item_probes);

// Everything a summary is computed from, read once so that a caller summarising several keys of a
// run reads the store once.
struct ConceptInputs {
  RunRecord run;
  std::vector<ItemRecord> items;
  std::vector<RoundRecord> rounds;
  std::vector<ProbeRecord> probes;
  std::vector<ItemProbeRecord> item_probes;  // any names
};
// Throws isc::Error when the run is not in the store.
ConceptInputs read_concept_inputs(const Store& store, const std::string& run_id);

// Throws isc::Error (naming the run, and the condition/item/round where there is one) when no item
// probe matches (name, position, layer), an item probe's round or item is not stored, a round's
// option probabilities are not a distribution, or a config "steer" entry is malformed.
ConceptSummary summarize_concept(const ConceptInputs& inputs, const std::string& name, const std::string& position,
                                 int layer, const ConceptSummaryOptions& options = {});
ConceptSummary summarize_concept(const Store& store, const std::string& run_id, const std::string& name,
                                 const std::string& position, int layer, const ConceptSummaryOptions& options = {});

nlohmann::json to_json(const ConceptSummary& summary);
// Lines for people, each ending in '\n' (what `isc concept score` and `isc report` print).
std::string to_text(const ConceptSummary& summary);

// The ProbeRecord rows that hold the summary in the store's probes table. Base name
// B = "<name>@<position>"; each row's value is the JSON of the statistic (as in to_json):
//   (condition, round r, layer, B)                    per-round mean, interval, delta, n, ...
//   (condition, 0, layer, B + "/round_correlation")   per-round-mean Pearson and Spearman
//   (condition, 0, layer, B + "/item_correlation")    the same over (item, round) pairs
//   (condition, 0, layer, B + "/ols")                 uncertainty ~ concept
//   (condition, 0, layer, B + "/logistic")            correct ~ concept + uncertainty
//   (condition, 0, l, B + "/shift")                   layer profile, one per probed layer l
//   (steered condition, r, layer, B + "/steering")    steered − base, with the base named
std::vector<ProbeRecord> probe_records(const ConceptSummary& summary);
std::string probe_base_name(const std::string& name, const std::string& position);

}  // namespace isc::concepts
