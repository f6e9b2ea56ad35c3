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
#include "scratch_folder.h"
#include "tasks/run_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const isc::fuzz::ScratchFolder scratch("run_file", {{"task.yaml", "name: t\n"}});
  const std::string path = scratch.write("run.yaml", data, size);
  try {
    const isc::tasks::RunSpec s = isc::tasks::load_run_file(path);
    const nlohmann::json j = isc::tasks::to_json(s);
    if (isc::tasks::to_json(isc::tasks::run_spec_from_json(j)) != j) std::abort();
  } catch (const isc::Error&) {
    // rejected input
  }
  return 0;
}
