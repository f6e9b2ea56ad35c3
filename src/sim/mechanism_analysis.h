// The mechanism half of the study on one stored run, per condition: the latent-concept model's fit,
// the simulation task against its baselines, the CL/CS convergence theory, geometric curves, and
// what --predict-stop would have saved. What `isc analyze` prints and the report's Mechanism section draws.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sim/concept_model_fit.h"
#include "sim/geometric_fit.h"
#include "sim/mechanism_inputs.h"
#include "sim/simulation_task.h"
#include "sim/transition_theory.h"
#include "store/store.h"

namespace isc::sim {

struct MechanismOptions {
  MechanismInputOptions inputs;
  SimulationTaskOptions task;
  TransitionTheoryOptions theory;
  std::vector<std::string> conditions;  // empty = every condition of the run
  // The per-round series the latent-concept model is fitted to, of "accuracy", "concept",
  // "uncertainty"; empty = every one the run has.
  std::vector<std::string> fit_series;
  // Tolerances --predict-stop is evaluated at, after the fact, on the run's full conversations.
  std::vector<double> stop_epsilons = {0.1, 0.03, 0.01, 0.003, 0.001};
};

// --predict-stop applied to the stored full conversations: a conversation stops after the first round
// t < T where metrics::predicted_settled holds, and reports round t's answer from then on. Because
// the rule only looks at rounds up to t, this is exactly what a run with --predict-stop ε would
// have stored (greedy decoding is batch-invariant).
struct StopEvaluation {
  double epsilon = 0.0;
  std::size_t conversations = 0, stopped = 0;
  std::size_t rounds_full = 0, rounds_used = 0;
  std::optional<double> accuracy_full, accuracy_stopped;        // at the last round
  std::optional<double> uncertainty_full, uncertainty_stopped;  // mean, at the last round
  std::optional<double> score_full, score_stopped;              // mean task score, at the last round
  double mean_stop_round = 0.0;                                 // over all conversations (T if never)
};

struct ConditionMechanism {
  std::string condition;
  std::size_t n_items = 0;
  ConceptModelResult fit;
  SimulationTaskResult task;
  // The same task with the projected hidden-state difference (Δ h·d on the unit concept direction)
  // as the feature, against unit random directions; present with a direction file.
  std::optional<SimulationTaskResult> task_projection;
  TransitionTheoryResult theory;
  std::vector<GeometricFitResult> curves;  // mean uncertainty, mean concept score (those present)
  std::vector<StopEvaluation> stops;
  std::string stops_unavailable;
  // Simulated runs only: the mean posterior and the paper's formula per round.
  std::vector<int> simulated_rounds;
  std::vector<double> simulated_posterior, simulated_paper;
};

struct MechanismAnalysis {
  std::string store_path;
  RunRecord run;
  std::string concept_name, concept_position;  // empty: no concept scores (concept_unavailable says why)
  int concept_layer = 0;
  std::string concept_unavailable;
  std::string uncertainty, uncertainty_unavailable;
  std::string correctness;  // "answer" | "argmax"
  std::size_t random_directions = 0;
  std::string random_unavailable;
  std::string projection_unavailable;  // why there is no projection variant of the task
  std::vector<ConditionMechanism> conditions;
};

// Throws isc::Error as read_mechanism_inputs does, and on bad options.
MechanismAnalysis analyze_mechanism(const Store& store, const std::string& run_id, const MechanismOptions& options = {});

nlohmann::json to_json(const MechanismAnalysis& analysis);
std::string to_text(const MechanismAnalysis& analysis);  // lines ending in '\n'

}  // namespace isc::sim
