// Replays every kept fuzz crasher of the engine_io parsers (tests/fuzz/regressions/<fuzzer>/) through
// the fuzzer's own entry point, compiled in here under another name: each must now run to the end.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#define LLVMFuzzerTestOneInput isc_fuzz_safetensors
#include "../fuzz/fuzz_safetensors.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput isc_fuzz_hf_config
#include "../fuzz/fuzz_hf_config.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput isc_fuzz_chat_template
#include "../fuzz/fuzz_chat_template.cpp"
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

TEST(FuzzRegressionsIo, Safetensors) { EXPECT_GT(replay("safetensors", isc_fuzz_safetensors), 0); }
TEST(FuzzRegressionsIo, HfConfig) { replay("hf_config", isc_fuzz_hf_config); }
TEST(FuzzRegressionsIo, ChatTemplate) { replay("chat_template", isc_fuzz_chat_template); }

// The entry points themselves on trivial inputs, so a replay failure is never the harness's fault.
TEST(FuzzRegressionsIo, EntryPointsAcceptEmptyInput) {
  const uint8_t none[1] = {0};
  EXPECT_EQ(isc_fuzz_safetensors(none, 0), 0);
  EXPECT_EQ(isc_fuzz_hf_config(none, 0), 0);
  EXPECT_EQ(isc_fuzz_chat_template(none, 0), 0);
  EXPECT_EQ(isc_fuzz_chat_template(none, 1), 0);
}

}  // namespace
