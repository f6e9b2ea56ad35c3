// Exports of a stored run for `isc export` and for comparing stores: one JSON document with every
// row of the run, and the rounds table as CSV (one row per round, no per-token detail).
#pragma once
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace isc {

struct ExportOptions {
  // false leaves out wall-clock fields (run started/finished/wall_seconds, round seconds) so two
  // runs of the same experiment, e.g. a resumed one and an uninterrupted one, compare equal.
  bool timing = true;
};

// Every text in the result is valid UTF-8 (dump() cannot fail): invalid bytes become U+FFFD, and a
// token whose text is not valid UTF-8 on its own also carries its exact bytes as "bytes_hex".
nlohmann::json export_run_json(const Store& store, const std::string& run_id, const ExportOptions& options = {});

// RFC 4180 CSV with a header line; texts are written as stored.
void export_rounds_csv(const Store& store, const std::string& run_id, std::ostream& out);

// The run's hidden states as NumPy files in `dir` (created): per (position, layer) one
// hidden_<position>_L<layer>.npy of float32 [rows, dim] and hidden_<position>_L<layer>.rows.csv
// (row, condition, item_id, item_index, round), plus index.json naming them. Returns the index.
// Throws isc::Error when the run has no hidden states.
nlohmann::json export_hidden_states(const Store& store, const std::string& run_id, const std::string& dir);

}  // namespace isc
