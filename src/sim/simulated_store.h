// Writes a simulation into a results store exactly as a real run is read back (run, items, rounds,
// per-round concept scores), so `isc report` and the concept summaries apply to it unchanged.
#pragma once
#include <string>
#include <vector>

#include "sim/simulation_file.h"
#include "sim/simulation_run.h"
#include "store/store.h"

namespace isc::sim {

inline constexpr const char* kSimulationTask = "simulation";
inline constexpr const char* kSimulationModel = "simulation:latent-concept";
// The concept score of a simulated round: the posterior p(C_p|q_t) as an item probe at the
// "answer" position of layer 0, cosine = 2p − 1 (in [−1, 1] like a real cosine), probability = p.
inline constexpr const char* kPosteriorProbeName = "latent/posterior";

struct SimulatedRunStamp {
  std::string run_id;
  std::string started_at, finished_at;  // ISO-8601 UTC
  double wall_seconds = 0.0;
};

// "A", "B", ... for K options (K <= 26).
std::vector<std::string> option_labels(std::size_t k);

// Writes run `stamp.run_id` (status finished), its items, the kept rounds of every conversation and
// their posterior probes. Throws isc::Error naming the store when the run id exists already; a
// failure after the run was created marks it "failed".
void write_simulated_run(Store& store, const SimulationSpec& spec, const std::vector<SimulatedCondition>& conditions,
                         const SimulatedRunStamp& stamp);

}  // namespace isc::sim
