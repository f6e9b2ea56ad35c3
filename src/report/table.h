// The per-round table of `isc report`: text for people (one block per condition, convergence rounds
// at the bottom), and JSON / CSV with the same numbers for machines.
#pragma once
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/run_summary.h"

namespace isc::report {

enum class TableFormat { Text, Json, Csv };

void write_text_table(const std::vector<RunSummary>& runs, std::ostream& out);

// {"runs": [{"store", "run": {...run record...}, "n_items", "conditions": [{"condition", "rows",
// "rounds": [RoundMetrics as metrics_json writes it, plus "values": {metric_key: value}],
// "convergence", "categories": [...], "pronouns": null or {"items", "items_left_out", "rounds": [...]}}]}]}.
// Undefined values are null.
nlohmann::json summaries_json(const std::vector<RunSummary>& runs);

// One row per (store, run, condition, round): every metric, its 95% CI bounds when it has one, and
// the condition's convergence round per metric (repeated on each of its rows), then the pronoun
// measures (neutral share, mean |gap|, r; empty unless pronoun-scored). RFC 4180 quoting.
void write_csv_table(const std::vector<RunSummary>& runs, std::ostream& out);

void write_table(const std::vector<RunSummary>& runs, TableFormat format, std::ostream& out);

}  // namespace isc::report
