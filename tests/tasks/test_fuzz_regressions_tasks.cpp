// Replays every kept fuzz crasher of the task-layer parsers (tests/fuzz/regressions/<fuzzer>/) through
// the fuzzer's own entry point, compiled in here under another name: each must now run to the end.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

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

// Runs each file of regressions/<name>/ through `one`; a crash or an escaping exception fails the
// test (the entry points swallow only isc::Error). Returns the number of files.
int replay(const std::string& name, int (*one)(const uint8_t*, size_t)) {
  const std::filesystem::path dir = std::filesystem::path(ISC_SOURCE_DIR) / "tests/fuzz/regressions" / name;
  if (!std::filesystem::is_directory(dir)) return 0;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(EXPECT_EQ(one(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0));
  }
  return files;
}

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
