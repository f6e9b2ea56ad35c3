// libFuzzer target: arbitrary bytes as a .safetensors file (SafetensorsFile::from_buffer), then every
// accepted F32/F16/BF16 tensor converted to float; a crash, sanitizer report or non-isc::Error is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = std::make_shared<const std::string>(reinterpret_cast<const char*>(data), size);
  try {
    const auto f = isc::SafetensorsFile::from_buffer("fuzz.safetensors", bytes);
    for (const auto& t : f->tensors()) {
      if (f->find(t.name) != &t) std::abort();  // the name index must agree with the list
      const int64_t n = t.numel();
      if (n < 0) std::abort();
      // bounded so a valid header cannot ask for a huge buffer (its bytes are in the input anyway)
      if (t.dtype == isc::SafetensorsDtype::Other || n > (int64_t{1} << 22)) continue;
      std::vector<float> out(static_cast<size_t>(n));
      isc::to_float(t, out.data());
    }
  } catch (const isc::Error&) {
    // rejected input: the expected outcome for most mutations
  }
  return 0;
}
