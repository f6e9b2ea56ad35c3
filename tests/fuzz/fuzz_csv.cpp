// libFuzzer target: arbitrary text through parse_csv with ',' and '\t' separators; rows must have at
// least one field and non-decreasing 1-based lines; crashes, hangs and non-isc::Error are bugs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/error.h"
#include "tasks/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char sep : {',', '\t', ';'}) {
    try {
      const auto rows = isc::tasks::parse_csv(text, "fuzz.csv", sep);
      int64_t last = 1;
      size_t bytes = 0;
      for (const auto& r : rows) {
        if (r.fields.empty() || r.line < last) std::abort();
        last = r.line;
        for (const auto& f : r.fields) bytes += f.size();
      }
      if (bytes > text.size()) std::abort();  // fields hold input bytes, never more
    } catch (const isc::Error&) {
      // rejected input
    }
  }
  return 0;
}
