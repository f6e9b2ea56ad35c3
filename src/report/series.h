// The lines of a comparison: one series per (run, condition) over every summarised run, with a
// label that tells runs apart only when there are several, and a colour from the Okabe–Ito palette.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "report/run_summary.h"

namespace isc::report {

struct Series {
  std::size_t run = 0;        // index into the summaries
  std::size_t condition = 0;  // index into that summary's conditions
  std::string label;          // "self-correct", or "SmolLM2-135M · self-correct" when comparing runs
  std::string color;          // CSS colour
};

// Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision
// deficiencies. Black is left out (used for axes); colours repeat after seven series.
const std::vector<std::string>& okabe_ito();

std::vector<Series> list_series(const std::vector<RunSummary>& runs);

// The index in `series` of condition `condition` of run `run`, if it has a series.
std::optional<std::size_t> series_of(const std::vector<Series>& series, const std::vector<RunSummary>& runs,
                                     std::size_t run, const std::string& condition);
// That series' colour; grey for a condition without one.
std::string series_color(const std::vector<Series>& series, const std::vector<RunSummary>& runs, std::size_t run,
                         const std::string& condition);

// How a run is named next to its conditions: the model file's stem when the runs' models differ,
// else the run id.
std::string run_label(const std::vector<RunSummary>& runs, std::size_t run);

}  // namespace isc::report
