// libFuzzer target: arbitrary text as a run file (runs/*.yaml) through load_run_file and then
// to_json/run_spec_from_json, which must round-trip; a scratch folder holds it and a task file.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "tasks/run_file.h"

namespace fuzz_run_file {

// One scratch folder per process (with a task.yaml for `task:` to find), removed at exit.
struct Scratch {
  std::filesystem::path dir;
  Scratch() {
    dir = std::filesystem::temp_directory_path() / ("isc_fuzz_run_file_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "task.yaml") << "name: t\n";
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string write(const uint8_t* data, size_t size) const {
    const auto p = dir / "run.yaml";
    std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
    return p.string();
  }
};

}  // namespace fuzz_run_file

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz_run_file::Scratch scratch;
  const std::string path = scratch.write(data, size);
  try {
    const isc::tasks::RunSpec s = isc::tasks::load_run_file(path);
    const nlohmann::json j = isc::tasks::to_json(s);
    if (isc::tasks::to_json(isc::tasks::run_spec_from_json(j)) != j) std::abort();
  } catch (const isc::Error&) {
    // rejected input
  }
  return 0;
}
