// Shared access to the default model for engine tests: loaded once per test binary (bf16 and
// fp32 variants), located at models/ under the source tree as scripts/setup.sh puts it.
#pragma once
#include <memory>
#include <string>

#include "engine/engine.h"

namespace isc::test {

inline std::string default_model_path() {
  if (const char* p = std::getenv("ISC_MODEL")) return p;
  return std::string(ISC_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

// One engine per dtype for the whole binary; tests create and release their own sequences.
inline Engine& shared_engine(const std::string& dtype = "bf16") {
  static std::unique_ptr<Engine> bf16, fp32;
  auto& slot = dtype == "fp32" ? fp32 : bf16;
  if (!slot) {
    EngineOptions o;
    o.dtype = dtype;
    slot = Engine::load(default_model_path(), o);
  }
  return *slot;
}

}  // namespace isc::test
