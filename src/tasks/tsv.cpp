// Tab-separated reading (see tsv.h): blank lines are skipped, line numbers kept for errors.
// No quoting rules: Winogender's TSVs contain none.
#include "tasks/tsv.h"

#include "tasks/text_lines.h"

namespace isc::tasks {

std::vector<TsvRow> read_tsv(const std::string& path) {
  std::vector<TsvRow> rows;
  for_each_line(path, [&](const std::string& line, int64_t number) {
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
  });
  return rows;
}

}  // namespace isc::tasks
