// What the mechanism analyses read from a stored run (real or simulated): per condition and
// (item, round) the concept score, the uncertainty and the correctness, chosen once for every analysis.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/item_round_state.h"
#include "store/records.h"
#include "store/store.h"

namespace isc::sim {

struct MechanismInputOptions {
  // The concept score: item probes of this name ("<concept>/<method>"), position and layer; empty /
  // nullopt = the run's first probe name, its first position, and its deepest probed layer.
  std::string concept_name;
  std::string concept_position;
  std::optional<int> concept_layer;
  // "option_entropy" (nats, over the option probabilities) or a sampled estimator of the rounds'
  // extra.uncertainty (e.g. "ln_semantic_entropy"); empty = option entropy where the rounds have
  // option probabilities, else ln_semantic_entropy.
  std::string uncertainty;
  // What "correct" means for the CL/CS theory and the accuracy series: "answer" (the task's verdict,
  // or the parsed option against the gold one) or "argmax" (the option-probability argmax against
  // the gold one: what the model prefers even when its reply names no option; multiple choice only).
  std::string correctness = "answer";
  int random_directions = 20;  // random directions scored on the stored hidden states (0 = none)
  // A direction file of the concept (`isc concept train` / `--directions-out`): adds the projection
  // of the hidden state on the concept's unit direction (so its round-to-round change is the projected
  // hidden-state difference), against projections on unit random directions. Empty = none.
  std::string directions_file;
  std::uint64_t seed = 0;      // of the random directions
};

struct ConditionInputs {
  std::string condition;
  // Stored rounds only (a conversation that stopped early has no later rows).
  std::vector<ItemRoundState> stored;
  // With a direction file: the stored rows with concept_score = h·d (d the unit concept direction)
  // and random_concepts = h·r_j for unit random directions r_j; empty otherwise.
  std::vector<ItemRoundState> projected;
  // Stored rounds, and an early-stopped conversation's last round carried forward to the run's last
  // round (its final answer), as the report's per-round accuracy counts them.
  std::vector<ItemRoundState> carried;
  // The per-round states --predict-stop follows (option distribution, else score), stored rounds,
  // per item in round order; and each item's correctness / uncertainty per round for the same rows.
  std::map<std::string, std::vector<RoundRecord>> rounds_by_item;
  std::size_t early_stopped = 0;  // conversations the run itself stopped early
  // Simulated runs: per round the mean posterior p(C_p | q_t) and the paper's formula.
  std::vector<int> simulated_rounds;
  std::vector<double> simulated_posterior, simulated_paper;
};

struct MechanismInputs {
  RunRecord run;
  std::string concept_name, concept_position;  // empty when the run has no concept scores
  int concept_layer = 0;
  std::string concept_unavailable;  // what to run first when there are none
  std::string correctness;          // "answer" or "argmax" (MechanismInputOptions::correctness)
  std::string uncertainty;          // the source used; empty when the rows have none
  std::string uncertainty_unavailable;
  std::size_t random_directions = 0;  // scored per row (0 when the run stored no hidden states there)
  std::string projection_unavailable;  // why there are no projections (no direction file, ...)
  std::string random_unavailable;
  std::vector<ConditionInputs> conditions;  // the run's order; conditions without rounds left out
};

// Throws isc::Error when the run is not in the store, has no rounds, a named concept / uncertainty
// is absent (listing what the run has), or a stored state is malformed.
MechanismInputs read_mechanism_inputs(const Store& store, const std::string& run_id,
                                      const MechanismInputOptions& options = {});

}  // namespace isc::sim
