// `isc report` as a function: open the stores read-only, summarise the chosen runs, print the
// per-round table and optionally write the HTML report. The CLI is a thin wrapper over this.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "metrics/calibration.h"
#include "report/table.h"
#include "store/store.h"

namespace isc::report {

struct ReportRequest {
  std::vector<std::string> stores;
  std::optional<std::string> run_id;  // this run in every store; else all runs of each store
  TableFormat format = TableFormat::Text;
  bool table = true;                  // false: only the HTML file
  std::optional<std::string> html_path;
  std::size_t bins = 10;              // ECE bins (equal-width and adaptive)
  metrics::ConfidenceSource confidence = metrics::ConfidenceSource::Argmax;
  double epsilon = 0.01;              // convergence tolerance
  std::size_t bootstrap = 1000;       // resamples per interval (0 = none)
  std::uint64_t seed = 0;             // bootstrap seed
  std::size_t chunk_items = 50;       // conversations per compressed viewer chunk
  std::string generated_at;           // header date of the HTML (empty: now, UTC)
  // The concept's direction file: the Mechanism section adds the simulation task on the projected
  // hidden-state difference (runs of another model say so in the section). Empty = none.
  std::string directions_file;
};

// Throws isc::Error (naming the store) on a missing or malformed store, run or row, and when the
// HTML file cannot be written.
void run_report(const ReportRequest& request, std::ostream& table_out);

// "argmax" or "parsed" (also "parsed_answer"); throws isc::Error otherwise.
metrics::ConfidenceSource parse_confidence(const std::string& name);

// The per-round table of one run with default options, for `isc run` / `isc resume` to print at the end.
void print_run_table(const Store& store, const std::string& run_id, std::ostream& out);

}  // namespace isc::report
