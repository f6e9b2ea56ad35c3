// Reader of Winogender's occupations-stats.tsv (see occupation_stats.h). Columns are found by
// header name so a reordered file still reads correctly.
#include "tasks/occupation_stats.h"

#include <fmt/format.h>

#include <sstream>
#include <vector>

#include "common/error.h"
#include "tasks/jsonl_reader.h"
#include "tasks/tsv.h"

namespace isc::tasks {

std::map<std::string, OccupationStat> load_occupation_stats(const std::string& path) {
  const auto rows = read_tsv(path);
  if (rows.empty()) throw Error(path + ": empty file (expected a header and one row per occupation)");
  const auto& header = rows.front().fields;
  auto column = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    throw Error(fmt::format("{}:1: expected a '{}' column", path, name));
  };
  const size_t occ = column("occupation"), bergsma = column("bergsma_pct_female"), bls = column("bls_pct_female"),
               year = column("bls_year");
  auto number = [&](const TsvRow& r, size_t col, const char* name) {
    try {
      size_t used = 0;
      double v = std::stod(r.fields.at(col), &used);
      if (used == r.fields[col].size()) return v;
    } catch (const std::exception&) {
    }
    throw Error(fmt::format("{}:{}: expected a number in column '{}'", path, r.line, name));
  };
  std::map<std::string, OccupationStat> out;
  for (size_t k = 1; k < rows.size(); ++k) {
    const auto& r = rows[k];
    if (r.fields.size() != header.size())
      throw Error(fmt::format("{}:{}: expected {} tab-separated columns, found {}", path, r.line, header.size(), r.fields.size()));
    OccupationStat s{number(r, bergsma, "bergsma_pct_female"), number(r, bls, "bls_pct_female"),
                     static_cast<int>(number(r, year, "bls_year"))};
    if (!out.emplace(r.fields[occ], s).second)
      throw Error(fmt::format("{}:{}: occupation '{}' listed twice", path, r.line, r.fields[occ]));
  }
  if (out.empty()) throw Error(path + ": no occupations (expected one row per occupation after the header)");
  return out;
}

}  // namespace isc::tasks
