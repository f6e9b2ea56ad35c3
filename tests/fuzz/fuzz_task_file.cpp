// libFuzzer target: arbitrary text as a task file (YAML or JSON) through load_task_file, which only
// reads paths, so the input is written to a scratch file; crashes, hangs and non-isc::Error are bugs.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "tasks/task_file.h"

namespace fuzz_task_file {

// One scratch folder per process, removed at exit.
struct Scratch {
  std::filesystem::path dir;
  Scratch() {
    dir = std::filesystem::temp_directory_path() / ("isc_fuzz_task_file_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string write(const uint8_t* data, size_t size) const {
    const auto p = dir / "task.yaml";
    std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
    return p.string();
  }
};

}  // namespace fuzz_task_file

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz_task_file::Scratch scratch;
  const std::string path = scratch.write(data, size);
  try {
    const isc::tasks::TaskSpec t = isc::tasks::load_task_file(path);
    if (t.conditions.empty() || t.rounds < 1) std::abort();
    for (const auto& c : t.conditions) (void)t.condition(c.name);
  } catch (const isc::Error&) {
    // rejected input
  }
  return 0;
}
