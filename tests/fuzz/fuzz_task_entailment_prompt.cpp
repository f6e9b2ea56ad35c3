// libFuzzer target: arbitrary text as an entailment prompt file (prompts/entailment.yaml) through
// load_entailment_prompt, which reads a path, so the input goes to a scratch file; a crash, a hang,
// an exception other than isc::Error, or an accepted file that breaks its invariants is a bug.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "scratch_folder.h"
#include "tasks/entailment_judge.h"
#include "tasks/prompt_render.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const isc::fuzz::ScratchFolder scratch("entailment_prompt");
  const std::string path = scratch.write("prompt.yaml", data, size);
  try {
    const isc::tasks::EntailmentPrompt p = isc::tasks::load_entailment_prompt(path);
    if (p.labels.size() < 2) std::abort();
    if (std::find(p.labels.begin(), p.labels.end(), p.entails) == p.labels.end()) std::abort();
    // an accepted template renders with any answers
    (void)isc::tasks::fill_template(p.user, {{"context", "c"}, {"a", "x {b}"}, {"b", "}"}}, path);
  } catch (const isc::Error&) {
    // rejected input
  }
  return 0;
}
