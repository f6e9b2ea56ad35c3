// Per condition and round of a simulation: the simulated mean posterior beside the noise-free closed
// form and the paper's formula, predictive entropy, accuracy and ECE (what `isc simulate` prints).
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/simulation_run.h"

namespace isc::sim {

// A conversation stopped early counts with its last kept round in later rounds, as `isc report`
// carries it forward.
struct SimulationRoundSummary {
  int round = 0;
  std::size_t n = 0;                           // conversations (all of them, carried forward)
  std::size_t n_stored = 0;                    // of those, rounds actually recorded at this round
  double mean_posterior = 0.0;                 // simulated
  std::optional<double> closed_form_posterior; // noise-free; output_evidence fixed only
  std::optional<double> closed_form_paper;     // the paper's formula on the closed form
  double mean_paper = 0.0;                     // the paper's formula per conversation (may be +inf)
  double mean_entropy = 0.0;                   // nats
  double accuracy = 0.0;
  double ece = 0.0;                            // equal-width, 10 bins, argmax confidence
};

struct SimulationConditionSummary {
  std::string condition;
  std::vector<SimulationRoundSummary> rounds;
  bool has_closed_form = false;                // output_evidence fixed
  std::optional<int> paper_exceeds_one_round;  // first round the closed-form paper value is > 1
  std::size_t conversations_paper_above_one = 0;  // conversations with a recorded paper value > 1
  std::size_t rounds_stored = 0, rounds_total = 0;
  std::size_t early_stopped = 0;               // conversations stopped by --predict-stop
};

std::vector<SimulationConditionSummary> summarize_simulation(const std::vector<SimulatedCondition>& conditions);

nlohmann::json to_json(const std::vector<SimulationConditionSummary>& summary);
// A table per condition, for people; lines end in '\n'.
std::string to_text(const std::vector<SimulationConditionSummary>& summary);

}  // namespace isc::sim
