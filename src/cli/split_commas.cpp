// split_commas and split_numbers (commands.h): one reading of comma-separated flag values for
// every subcommand.
#include "cli/commands.h"

#include <fmt/format.h>

#include "common/error.h"

namespace isc::cli {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string part = s.substr(start, comma - start);
    if (!part.empty()) out.push_back(part);
    start = comma + 1;
  }
  return out;
}

std::vector<double> split_numbers(const std::string& s, const std::string& flag, const std::string& expected) {
  std::vector<double> out;
  for (const std::string& part : split_commas(s)) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != part.size()) throw Error(fmt::format("{}: '{}' is not a number (expected {})", flag, part, expected));
    out.push_back(v);
  }
  return out;
}

}  // namespace isc::cli
