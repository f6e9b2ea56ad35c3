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
#include "tasks/entailment_judge.h"
#include "tasks/prompt_render.h"

namespace fuzz_entailment_prompt {

struct Scratch {
  std::filesystem::path dir;
  Scratch() {
    dir = std::filesystem::temp_directory_path() / ("isc_fuzz_entailment_prompt_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string write(const uint8_t* data, size_t size) const {
    const auto p = dir / "prompt.yaml";
    std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
    return p.string();
  }
};

}  // namespace fuzz_entailment_prompt

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz_entailment_prompt::Scratch scratch;
  const std::string path = scratch.write(data, size);
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
