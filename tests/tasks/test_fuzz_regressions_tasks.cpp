// Replays every kept fuzz crasher of the task-layer parsers (tests/fuzz/regressions/<fuzzer>/) through
// the fuzzer's own entry point, compiled in here under another name: each must now run to the end.
#include <gtest/gtest.h>

#include <cstdint>

#include "../fuzz/replay_regressions.h"

#define LLVMFuzzerTestOneInput isc_fuzz_csv
#include "../fuzz/fuzz_csv.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput isc_fuzz_jsonl
#include "../fuzz/fuzz_jsonl.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput isc_fuzz_task_file
#include "../fuzz/fuzz_task_file.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput isc_fuzz_run_file
#include "../fuzz/fuzz_run_file.cpp"
#undef LLVMFuzzerTestOneInput

namespace {

using isc::fuzz_regressions::replay;

TEST(FuzzRegressionsTasks, Csv) { replay("csv", isc_fuzz_csv); }
TEST(FuzzRegressionsTasks, Jsonl) { replay("jsonl", isc_fuzz_jsonl); }
TEST(FuzzRegressionsTasks, TaskFile) { replay("task_file", isc_fuzz_task_file); }
TEST(FuzzRegressionsTasks, RunFile) { replay("run_file", isc_fuzz_run_file); }

// The entry points themselves on trivial inputs, so a replay failure is never the harness's fault.
TEST(FuzzRegressionsTasks, EntryPointsAcceptEmptyInput) {
  const uint8_t none[1] = {0};
  EXPECT_EQ(isc_fuzz_csv(none, 0), 0);
  EXPECT_EQ(isc_fuzz_jsonl(none, 0), 0);
  EXPECT_EQ(isc_fuzz_task_file(none, 0), 0);
  EXPECT_EQ(isc_fuzz_run_file(none, 0), 0);
}

}  // namespace
