// Plain tab-separated files (Winogender's tables): one record a line, no quoting.
// Kept apart from csv.h because TSV here never quotes and a quote is an ordinary character.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace isc::tasks {

struct TsvRow {
  std::vector<std::string> fields;
  int64_t line = 0;  // 1-based
};

// Non-blank lines split on tabs (CR of CRLF dropped). Throws isc::Error when unreadable.
std::vector<TsvRow> read_tsv(const std::string& path);

}  // namespace isc::tasks
