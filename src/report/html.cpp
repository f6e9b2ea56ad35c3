// Assembles the report page: the static sections (SVG plots and tables, readable without script),
// the viewer's controls, the embedded data blocks and the script. See html.h.
#include "report/html.h"

#include <fmt/format.h>

#include "report/encode.h"
#include "report/page_assets.h"
#include "report/sections.h"
#include "report/series.h"
#include "report/winogender_section.h"

namespace isc::report {

namespace {

// The page may load nothing from anywhere: inline style and script only, no network at all.
constexpr const char* kContentPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

constexpr const char* kViewerControls = R"HTML(<section id="viewer"><h2>Conversations</h2>
<div class="card"><div class="controls">
<select id="v-run" aria-label="run"></select>
<input type="search" id="v-search" placeholder="search item id or question" aria-label="search items">
<label>filters for condition <select id="v-cond" aria-label="condition for filters"></select></label>
<label><input type="checkbox" id="v-flipped"> answer changed</label>
<label><input type="checkbox" id="v-wrong"> wrong in last round</label>
<select id="v-category" aria-label="category"></select>
<span id="v-count" class="note"></span><span id="v-error"></span>
</div>
<div class="viewer-body"><div><ul id="v-list"></ul><button type="button" id="v-more" hidden>show more</button></div>
<div id="v-detail"><p class="note">Pick an item on the left. Generated tokens are shaded by how unlikely they were;
hover one for its logprob and the top alternatives.</p></div></div></div></section>
)HTML";

nlohmann::json page_meta(const std::vector<ReportRun>& runs, const std::vector<Series>& series) {
  nlohmann::json meta = {{"runs", nlohmann::json::array()}};
  for (std::size_t r = 0; r < runs.size(); ++r) {
    nlohmann::json colors = nlohmann::json::array();
    for (const std::string& condition : runs[r].conversations.conditions) {
      std::string color = "#999999";
      for (const Series& s : series)
        if (s.run == r && runs[r].summary.conditions[s.condition].condition == condition) color = s.color;
      colors.push_back(color);
    }
    meta["runs"].push_back({{"label", runs[r].summary.run.run_id}, {"colors", colors}});
  }
  return meta;
}

}  // namespace

void write_html_report(const std::vector<ReportRun>& runs, const HtmlOptions& options, std::ostream& out) {
  std::vector<RunSummary> summaries;
  for (const ReportRun& r : runs) summaries.push_back(r.summary);
  const std::vector<Series> series = list_series(summaries);
  std::string tasks;
  for (const RunSummary& s : summaries) tasks += (tasks.empty() ? "" : ", ") + s.run.task;

  const std::string pronouns = pronouns_section(summaries, series);  // "" unless some run is pronoun-scored
  std::vector<std::vector<concepts::ConceptSummary>> concept_summaries;
  for (const ReportRun& r : runs) concept_summaries.push_back(r.concepts);
  const std::string concepts = concepts_section(summaries, series, concept_summaries);  // "" unless item probes
  const std::string uncertainty = uncertainty_section(summaries, series);  // "" unless some run sampled
  std::vector<const RunMechanism*> mechanisms;  // pointers: an analysis holds every round pair of its run
  for (const ReportRun& r : runs) mechanisms.push_back(&r.mechanism);
  const std::string mechanism = mechanism_section(summaries, series, mechanisms);  // "" unless some run was analysed
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"" << kContentPolicy << "\">"
      << "<title>isc report: " << html_escape(tasks) << "</title><style>" << page_css() << "</style></head><body>\n"
      << "<nav><a href=\"#curves\">curves</a><a href=\"#reliability\">reliability</a>"
      << "<a href=\"#transitions\">transitions</a><a href=\"#categories\">categories</a>"
      << (uncertainty.empty() ? "" : "<a href=\"#uncertainty\">uncertainty</a>")
      << (pronouns.empty() ? "" : "<a href=\"#pronouns\">pronouns</a>")
      << (concepts.empty() ? "" : "<a href=\"#concepts\">concepts</a>")
      << (mechanism.empty() ? "" : "<a href=\"#mechanism\">mechanism</a>")
      << "<a href=\"#viewer\">conversations</a></nav>\n";
  out << header_section(summaries, options.generated_at) << "\n<main>\n";
  out << curves_section(summaries, series) << "\n";
  out << reliability_section(summaries, series) << "\n";
  if (!uncertainty.empty()) out << uncertainty << "\n";
  out << transitions_section(summaries, series) << "\n";
  out << categories_section(summaries, series) << "\n";
  if (!pronouns.empty()) out << pronouns << "\n";
  if (!concepts.empty()) out << concepts << "\n";
  if (!mechanism.empty()) out << mechanism << "\n";
  out << kViewerControls << "</main>\n";
  out << "<script type=\"application/json\" id=\"isc-meta\">" << script_json(page_meta(runs, series)) << "</script>\n";
  // Data blocks are base64 (inert in a non-script type); ids are built from indices only.
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const PackedConversations& p = runs[r].conversations;
    out << "<script type=\"application/octet-stream\" id=\"isc-index-" << r << "\">" << p.index << "</script>\n";
    for (std::size_t k = 0; k < p.item_chunks.size(); ++k)
      out << "<script type=\"application/octet-stream\" id=\"isc-items-" << r << "-" << k << "\">" << p.item_chunks[k]
          << "</script>\n";
    for (std::size_t c = 0; c < p.condition_chunks.size(); ++c)
      for (std::size_t k = 0; k < p.condition_chunks[c].size(); ++k)
        out << "<script type=\"application/octet-stream\" id=\"isc-conv-" << r << "-" << c << "-" << k << "\">"
            << p.condition_chunks[c][k] << "</script>\n";
  }
  out << "<script>" << viewer_js() << "</script>\n</body></html>\n";
}

}  // namespace isc::report
