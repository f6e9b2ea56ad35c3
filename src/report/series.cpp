// Series of a report (see series.h).
#include "report/series.h"

#include <filesystem>
#include <set>

namespace isc::report {

const std::vector<std::string>& okabe_ito() {
  static const std::vector<std::string> colors = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                                  "#56B4E9", "#D55E00", "#F0E442"};
  return colors;
}

std::string run_label(const std::vector<RunSummary>& runs, std::size_t run) {
  std::set<std::string> models;
  for (const RunSummary& r : runs) models.insert(r.run.model);
  if (models.size() == runs.size()) {
    const std::string stem = std::filesystem::path(runs[run].run.model).stem().string();
    if (!stem.empty()) return stem;
  }
  return runs[run].run.run_id;
}

std::optional<std::size_t> series_of(const std::vector<Series>& series, const std::vector<RunSummary>& runs,
                                     std::size_t run, const std::string& condition) {
  for (std::size_t k = 0; k < series.size(); ++k)
    if (series[k].run == run && runs[run].conditions[series[k].condition].condition == condition) return k;
  return std::nullopt;
}

std::string series_color(const std::vector<Series>& series, const std::vector<RunSummary>& runs, std::size_t run,
                         const std::string& condition) {
  const auto k = series_of(series, runs, run, condition);
  return k ? series[*k].color : "#999999";
}

std::vector<Series> list_series(const std::vector<RunSummary>& runs) {
  std::vector<Series> out;
  for (std::size_t r = 0; r < runs.size(); ++r)
    for (std::size_t c = 0; c < runs[r].conditions.size(); ++c) {
      Series s;
      s.run = r;
      s.condition = c;
      s.label = runs.size() > 1 ? run_label(runs, r) + " · " + runs[r].conditions[c].condition
                                : runs[r].conditions[c].condition;
      s.color = okabe_ito()[out.size() % okabe_ito().size()];
      out.push_back(std::move(s));
    }
  return out;
}

}  // namespace isc::report
