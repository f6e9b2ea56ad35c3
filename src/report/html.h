// The self-contained HTML report of one or more runs: header, per-round curves, reliability
// diagrams, answer transitions, per-category table and a lazy conversation viewer, in one file.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "report/conversation_pack.h"
#include "report/run_summary.h"

namespace isc::report {

struct ReportRun {
  RunSummary summary;
  PackedConversations conversations;
};

struct HtmlOptions {
  std::string generated_at;  // shown in the header (the caller's clock, so tests can fix it)
};

void write_html_report(const std::vector<ReportRun>& runs, const HtmlOptions& options, std::ostream& out);

}  // namespace isc::report
