// Internals of the Mechanism section shared by its two files: the per-run context (ids, colours)
// and the formatting that turns optional statistics into cells without ever writing NaN.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "report/run_summary.h"
#include "report/series.h"
#include "sim/mechanism_analysis.h"

namespace isc::report::mechanism {

// One run's place on the page: the element id prefix (indices only) and the condition colours.
struct RunContext {
  const std::vector<RunSummary>* runs = nullptr;
  const std::vector<Series>* series = nullptr;
  std::size_t run = 0;
  std::string id;  // "mech-<run>"
  std::string color(const std::string& condition) const;
};

// "0.123" with `digits` decimals, or "-" for a value that is not finite.
std::string fixed(double v, int digits = 3);
// A number cell: data-key, and data-value (full precision) where there is a value; "-" otherwise.
std::string number_cell(const std::string& key, const std::optional<double>& v, int digits = 3,
                        const std::string& title = "");
// A cell saying why a statistic is missing ("-" when there is no reason).
std::string unavailable_cell(const std::string& key, const std::string& reason, int colspan = 1);
// A proportion as "0.667 [0.300, 0.903]" with its counts as the tooltip, or the reason it is missing.
std::string proportion_cell(const std::string& key, const std::optional<sim::Proportion>& p, const std::string& reason);
// An estimate with its standard error where there is one: "0.248 ± 0.069".
std::string fitted_value_text(const sim::FittedValue& v, int digits = 3);
// The attribute ` data-condition="…"` (escaped).
std::string condition_attribute(const std::string& condition);

// The tables (section_mechanism_tables.cpp).
std::string theory_table(const RunContext& ctx, const sim::MechanismAnalysis& a);
std::string fit_tables(const RunContext& ctx, const sim::MechanismAnalysis& a);
std::string task_tables(const sim::SimulationTaskResult& t);  // both directions, or why the task did not run
std::string stop_table(const sim::ConditionMechanism& m);

}  // namespace isc::report::mechanism
