// What the mechanism analyses see of one (item, round) of a condition: its concept score, its
// uncertainty and its correctness, read from a stored run (real or simulated) by sim/mechanism_inputs.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace isc::sim {

struct ItemRoundState {
  std::string item_id;                // identifies the conversation across rounds
  int round = 0;                      // 1-based
  // concept score: cosine of the hidden state with the concept direction (not "concept": a C++20 keyword)
  std::optional<double> concept_score;
  std::optional<double> uncertainty;  // nats: option entropy (multiple choice) or a sampled estimator
  std::optional<bool> correct;        // the task's verdict (or parsed option == gold)
  // cos(h, r_j) of the same hidden state with random directions r_1..r_R (the control for the
  // concept direction); the same R for every row of a condition, empty when there are no states.
  std::vector<double> random_concepts;
};

}  // namespace isc::sim
