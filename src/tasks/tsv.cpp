// Tab-separated reading (see tsv.h): blank lines are skipped, line numbers kept for errors.
// No quoting rules: Winogender's TSVs contain none.
#include "tasks/tsv.h"

#include <fstream>

#include "common/error.h"

namespace isc::tasks {

std::vector<TsvRow> read_tsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read file");
  std::vector<TsvRow> rows;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    TsvRow r;
    r.line = number;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      r.fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace isc::tasks
