// Replays the kept fuzz crashers of the simulation-file parser (tests/fuzz/regressions/simulation_file/)
// through the fuzzer's own entry point, compiled in here under another name: each must run to the end.
#include <gtest/gtest.h>

#include <cstdint>

#include "../fuzz/replay_regressions.h"

#define LLVMFuzzerTestOneInput isc_fuzz_simulation_file
#include "../fuzz/fuzz_simulation_file.cpp"
#undef LLVMFuzzerTestOneInput

namespace {

TEST(FuzzRegressionsSimulation, SimulationFile) {
  EXPECT_GE(isc::fuzz_regressions::replay("simulation_file", isc_fuzz_simulation_file), 1);
}

TEST(FuzzRegressionsSimulation, EntryPointAcceptsEmptyInput) {
  const uint8_t none[1] = {0};
  EXPECT_EQ(isc_fuzz_simulation_file(none, 0), 0);
}

}  // namespace
