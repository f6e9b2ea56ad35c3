// Line iteration over data files (see text_lines.h): blank lines skipped, CRLF accepted, line
// numbers kept so that every reader's errors can say "file:line".
#include "tasks/text_lines.h"

#include <fstream>

#include "common/error.h"

namespace isc::tasks {

void for_each_line(const std::string& path, const std::function<void(const std::string&, int64_t)>& on_line) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read file");
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    on_line(line, number);
  }
}

}  // namespace isc::tasks
