// The self-contained HTML report of one or more runs: header, per-round curves, reliability
// diagrams, answer transitions, per-category table and a lazy conversation viewer, in one file.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "concepts/concept_summary.h"
#include "report/conversation_pack.h"
#include "report/run_summary.h"
#include "report/sections.h"

namespace isc::report {

struct ReportRun {
  RunSummary summary;
  PackedConversations conversations;
  // Its concept summaries (report/sections.h run_concepts), computed once for table and page.
  std::vector<concepts::ConceptSummary> concepts;
  // The mechanism analyses (report/sections.h run_mechanism), for the HTML page only.
  RunMechanism mechanism;
};

struct HtmlOptions {
  std::string generated_at;  // shown in the header (the caller's clock, so tests can fix it)
};

void write_html_report(const std::vector<ReportRun>& runs, const HtmlOptions& options, std::ostream& out);

}  // namespace isc::report
