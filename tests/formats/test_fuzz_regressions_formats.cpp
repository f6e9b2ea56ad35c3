// Replays every kept fuzz crasher of the formats/ and text/ parsers (tests/fuzz/regressions/<fuzzer>/) through
// the fuzzer's own entry point, compiled in here under another name: each must now run to the end.
#include <gtest/gtest.h>

#include <cstdint>

#include "../fuzz/replay_regressions.h"

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

using isc::fuzz_regressions::replay;

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
