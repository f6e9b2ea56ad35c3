// libFuzzer target: parses arbitrary bytes as a GGUF file and dequantises every tensor it accepts;
// any crash, sanitizer report or non-isc::Error exception is a bug.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "formats/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = std::make_shared<const std::string>(reinterpret_cast<const char*>(data), size);
  try {
    const isc::GgufFile f = isc::GgufFile::from_buffer("fuzz.gguf", bytes);
    for (const auto& key : f.keys()) {
      const isc::GgufValue& v = f.at(key);
      if (v.is_array() && v.size() > 0) (void)v[v.size() - 1];
    }
    for (const auto& t : f.tensors()) {
      // bounded so a valid header claiming a huge all-zero-size tensor cannot exhaust memory
      if (!isc::ggml_can_dequantize(t.type) || t.n_elements() > (int64_t{1} << 22)) continue;
      std::vector<float> out(static_cast<size_t>(t.n_elements()));
      f.dequantize_tensor(t, out.data());
    }
  } catch (const isc::Error&) {
    // rejected input: the expected outcome for most mutations
  }
  return 0;
}
