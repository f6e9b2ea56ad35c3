// libFuzzer target: arbitrary text as a Hugging Face config.json (HfConfig::parse); the fields it
// accepts must be consistent (positive sizes, heads divisible); crashes and non-isc::Error are bugs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/error.h"
#include "formats/hf_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const isc::HfConfig c = isc::HfConfig::parse(text, "fuzz-config.json");
    if (c.hidden_size <= 0 || c.num_attention_heads <= 0 || c.num_key_value_heads <= 0 || c.head_dim <= 0 ||
        c.num_attention_heads % c.num_key_value_heads != 0 || !(c.rms_norm_eps > 0) || !(c.rope_theta > 0))
      std::abort();
  } catch (const isc::Error&) {
    // rejected input
  }
  return 0;
}
