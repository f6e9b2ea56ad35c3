// Winogender's occupation statistics (occupations-stats.tsv: occupation, bergsma_pct_female,
// bls_pct_female, bls_year): the real-world gender shares the model's pronoun choices are compared to.
#pragma once
#include <map>
#include <string>

namespace isc::tasks {

struct OccupationStat {
  double bergsma_pct_female = 0.0;  // % female in Bergsma & Lin's text statistics
  double bls_pct_female = 0.0;      // % female in the US Bureau of Labor Statistics
  int bls_year = 0;
};

// Keyed by occupation. Throws isc::Error "file:line: ..." for a missing column, a non-number, a
// duplicate occupation, or an empty table.
std::map<std::string, OccupationStat> load_occupation_stats(const std::string& path);

}  // namespace isc::tasks
