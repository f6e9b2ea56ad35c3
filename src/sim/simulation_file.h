// The simulation file (simulations/*.yaml): sizes, seed and the latent-concept parameters of each
// condition for `isc simulate`; every field can be overridden by flags, and the resolved spec is stored.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/latent_concept_model.h"

namespace isc::sim {

struct SimulationSpec {
  std::string file;                              // the simulation file (empty when built from flags only)
  int64_t items = 100;                           // conversations per condition
  int rounds = 5;                                // T
  uint64_t seed = 0;
  double predict_stop = 0.0;                     // 0 = off; else the epsilon of metrics::predicted_settled
  std::vector<LatentConceptParams> conditions;   // in the file's order
};

inline constexpr int64_t kMaxItems = 10'000'000;

// Parameter values given on the command line: each one set replaces that field in every condition.
struct ParameterOverrides {
  std::optional<double> prior, prior_log_odds;  // at most one of the two
  std::optional<double> prior_sd, lr_instruction, lr_output, evidence_sd;
  std::optional<std::string> output_evidence, answer;
  std::optional<std::vector<double>> answers_positive, answers_negative;
  std::optional<int> gold;
};

// Throws isc::Error "file:line:col: ..." for syntax errors, unknown keys, wrong types and values out
// of range (the field is named). Layout:
//   items, rounds, seed, predict_stop: scalars (optional);
//   defaults: a map of parameter fields shared by every condition (optional);
//   conditions: a non-empty list of maps, each with `name` and any parameter field, which replaces
//   the default's. Parameter fields: prior (or prior_log_odds), prior_sd, lr_instruction, lr_output,
//   evidence_sd, output_evidence, answers_positive, answers_negative, gold, answer.
SimulationSpec load_simulation_file(const std::string& path);

// Applies the overrides to every condition; "<where>: ..." errors for a bad prior or a bad
// enumeration value. Call validate_simulation_spec afterwards.
void apply_overrides(SimulationSpec& spec, const ParameterOverrides& overrides, const std::string& where);

// Keeps only the named conditions, in the given order; error naming the unknown one and the known.
void select_conditions(SimulationSpec& spec, const std::vector<std::string>& names, const std::string& where);

// Every condition valid (see validate in latent_concept_model.h), names unique, at least one
// condition, items in 1..kMaxItems, rounds in 1..kMaxRounds, predict_stop finite and >= 0, and all
// conditions with the same K and gold (they share the run's items). Throws isc::Error "<where>: ...".
void validate_simulation_spec(const SimulationSpec& spec, const std::string& where);

nlohmann::json to_json(const SimulationSpec& spec);

}  // namespace isc::sim
