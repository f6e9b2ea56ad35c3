// libFuzzer target: arbitrary bytes as an offline toxicity model file (parse_linear_text_model),
// then, when it loads, scoring of the text after the first NUL byte; also tokenises all the bytes.
// (Named fuzz_task_* so tests/fuzz/CMakeLists.txt links it with isc_tasks, where the scorer lives.)
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/error.h"
#include "tasks/linear_toxicity_scorer.h"
#include "tasks/python_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string_view model_text = all.substr(0, nul);
  const std::string_view text = nul == std::string_view::npos ? std::string_view() : all.substr(nul + 1);
  for (const std::string& t : isc::tasks::sklearn_word_tokens(all, true))
    if (t.size() < 2) std::abort();  // a token is at least two code points
  try {
    const isc::tasks::LinearToxicityScorer scorer(isc::tasks::parse_linear_text_model(model_text, "fuzz.json"));
    const double p = scorer.score_one(text);
    // Finite numbers in, so a probability out unless the products overflowed (NaN, as in sklearn).
    if (!std::isnan(p) && (p < 0.0 || p > 1.0)) std::abort();
  } catch (const isc::Error&) {
    // rejected model file
  }
  return 0;
}
