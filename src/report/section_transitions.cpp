// The answer-transition view: for each pair of consecutive rounds, how many conversations stayed
// right, went right→wrong, wrong→right or stayed wrong (a stacked bar), and how many changed answer.
#include <fmt/format.h>

#include "report/encode.h"
#include "report/sections.h"

namespace isc::report {

namespace {

struct Part {
  const char* key;
  const char* title;
  const char* color;  // Okabe–Ito: green, vermillion, sky blue, grey
  std::size_t metrics::TransitionCounts::*field;
};

const Part kParts[] = {
    {"right_to_right", "right → right", "#009E73", &metrics::TransitionCounts::right_to_right},
    {"right_to_wrong", "right → wrong", "#D55E00", &metrics::TransitionCounts::right_to_wrong},
    {"wrong_to_right", "wrong → right", "#56B4E9", &metrics::TransitionCounts::wrong_to_right},
    {"wrong_to_wrong", "wrong → wrong", "#999999", &metrics::TransitionCounts::wrong_to_wrong},
};

std::string stacked_bar(const metrics::TransitionCounts& t) {
  std::string s = "<svg class=\"flow\" viewBox=\"0 0 200 14\" preserveAspectRatio=\"none\" aria-hidden=\"true\">";
  double x = 0;
  for (const Part& p : kParts) {
    const double w = t.n ? 200.0 * static_cast<double>(t.*p.field) / static_cast<double>(t.n) : 0;
    if (w > 0)
      s += fmt::format("<rect x=\"{:.2f}\" y=\"0\" width=\"{:.2f}\" height=\"14\" fill=\"{}\"><title>{}: {}</title></rect>", x,
                       w, p.color, p.title, t.*p.field);
    x += w;
  }
  return s + "</svg>";
}

}  // namespace

std::string transitions_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series) {
  std::string body;
  for (std::size_t k = 0; k < series.size(); ++k) {
    const ConditionSummary& c = runs[series[k].run].conditions[series[k].condition];
    if (!c.rows.has_correctness) continue;
    std::string rows;
    for (const metrics::RoundMetrics& m : c.rounds) {
      if (!m.transitions || !m.previous_round) continue;
      const metrics::TransitionCounts& t = *m.transitions;
      rows += fmt::format("<tr data-round=\"{}\"><th scope=\"row\">{} → {}</th>", m.round, *m.previous_round, m.round);
      for (const Part& p : kParts) rows += fmt::format("<td class=\"num\" data-key=\"{}\">{}</td>", p.key, t.*p.field);
      rows += fmt::format("<td class=\"num\" data-key=\"changed\">{}</td><td class=\"num\" data-key=\"unchanged\">{}</td>"
                          "<td class=\"barcell\">{}</td></tr>",
                          t.changed, t.unchanged, stacked_bar(t));
    }
    if (rows.empty()) continue;
    body += fmt::format("<div class=\"card transitions\" data-series=\"{}\"><h3>{}</h3><div class=\"scroll\"><table>"
                        "<thead><tr><th>rounds</th>",
                        k, html_escape(series[k].label));
    for (const Part& p : kParts)
      body += fmt::format("<th><span class=\"swatch\" style=\"background:{}\"></span>{}</th>", p.color, p.title);
    body += "<th>answer changed</th><th>unchanged</th><th>share</th></tr></thead><tbody>" + rows + "</tbody></table></div></div>";
  }
  if (body.empty()) return "";
  return "<section id=\"transitions\"><h2>Answer transitions between consecutive rounds</h2><p class=\"note\">Counts of "
         "conversations; \"answer changed\" counts any change of the parsed option (also between two wrong "
         "options).</p>" +
         body + "</section>";
}

}  // namespace isc::report
