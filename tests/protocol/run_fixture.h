// Shared pieces of the runner tests: the default model behind one embedded backend for the whole
// test binary, fresh store paths, and quiet runner options.
#pragma once
#include <filesystem>
#include <string>

#include <unistd.h>

#include "backend/embedded.h"
#include "protocol/runner.h"

namespace isc::test {

inline std::string model_path() { return std::string(ISC_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"; }

inline EmbeddedBackend& backend() {
  static EmbeddedBackend b(model_path(), EngineOptions{});
  return b;
}

// A store path under the temp folder, with no file (or WAL) left from an earlier run.
inline std::string temp_store(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("isc-test-" + name + "-" + std::to_string(::getpid()) + ".sqlite");
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + ext);
  return p.string();
}

inline protocol::RunnerOptions quiet(int max_active) {
  protocol::RunnerOptions o;
  o.progress = false;
  o.max_active = max_active;
  return o;
}

}  // namespace isc::test
