// The static sections of the HTML report, each a function from the summaries to an HTML fragment.
// All store text goes through html_escape; element ids are made from indices, never from store text.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "concepts/concept_summary.h"
#include "metrics/calibration.h"
#include "metrics/round_metrics.h"
#include "report/run_summary.h"
#include "report/series.h"
#include "sim/mechanism_analysis.h"
#include "store/store.h"

namespace isc::report {

std::string header_section(const std::vector<RunSummary>& runs, const std::string& generated_at);
std::string legend_html(const std::vector<Series>& series);
std::string curves_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series);
std::string reliability_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series);
std::string transitions_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series);
// Sampled uncertainty: estimator curves, rank-calibration error, indication diagrams; "" when no
// run sampled.
std::string uncertainty_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series);
std::string categories_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series);

// The concept summaries of a run, read from its store (run.store_path): one per (probe name,
// position) at the deepest probed layer; empty when the run has no item probes.
std::vector<concepts::ConceptSummary> run_concepts(const RunSummary& run,
                                                   const concepts::ConceptSummaryOptions& options = {});
// The Concepts section; `concepts[r]` are run r's summaries. "" when no run has any.
std::string concepts_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series,
                             const std::vector<std::vector<concepts::ConceptSummary>>& concepts);

// sim::analyze_mechanism of one run for the report: the analysis, or the isc::Error it threw (then
// `error` holds its message and the section shows it for that run alone).
struct RunMechanism {
  std::optional<sim::MechanismAnalysis> analysis;
  std::string error;
};
RunMechanism run_mechanism(const Store& store, const std::string& run_id, const sim::MechanismOptions& options);
// The Mechanism section; `mechanisms[r]` is run r's. "" when no run has anything to show.
std::string mechanism_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series,
                              const std::vector<const RunMechanism*>& mechanisms);

// One reliability diagram: accuracy per equal-width confidence bin against the diagonal, with the
// bin counts written above the bars.
std::string reliability_svg(const metrics::CalibrationMetrics& calibration, int round, const std::string& color,
                            const std::string& id);

}  // namespace isc::report
