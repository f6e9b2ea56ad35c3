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
#include "scratch_folder.h"
#include "tasks/task_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const isc::fuzz::ScratchFolder scratch("task_file");
  const std::string path = scratch.write("task.yaml", data, size);
  try {
    const isc::tasks::TaskSpec t = isc::tasks::load_task_file(path);
    if (t.conditions.empty() || t.rounds < 1) std::abort();
    for (const auto& c : t.conditions) (void)t.condition(c.name);
  } catch (const isc::Error&) {
    // rejected input
  }
  return 0;
}
