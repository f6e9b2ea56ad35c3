// libFuzzer target: arbitrary text as a simulation file (simulations/*.yaml) through
// load_simulation_file, then to_json, and a short simulation of what it accepts (every value the
// validation lets through must simulate to finite posteriors and proper predictive distributions).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "scratch_folder.h"
#include "sim/latent_concept_model.h"
#include "sim/simulation_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const isc::fuzz::ScratchFolder scratch("simulation_file");
  const std::string path = scratch.write("simulation.yaml", data, size);
  try {
    isc::sim::SimulationSpec s = isc::sim::load_simulation_file(path);
    (void)isc::sim::to_json(s).dump();
    for (const isc::sim::LatentConceptParams& p : s.conditions) {
      // a few conversations and rounds: enough to reach every code path, bounded in time
      for (const auto& c : isc::sim::simulate_condition(p, s.seed, 2, std::min(s.rounds, 12), path)) {
        for (const auto& r : c.rounds) {
          if (!std::isfinite(r.log_odds) || !(r.posterior >= 0.0 && r.posterior <= 1.0) ||
              !std::isfinite(r.log_posterior_paper) || !std::isfinite(r.entropy))
            std::abort();
          double sum = 0.0;
          for (double v : r.predictive) sum += v;
          if (std::fabs(sum - 1.0) > 1e-6 || r.answer < 0 || r.answer >= static_cast<int>(r.predictive.size()))
            std::abort();
        }
      }
    }
  } catch (const isc::Error&) {
    // rejected input
  }
  return 0;
}
