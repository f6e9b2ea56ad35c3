// The per-category breakdown (BBQ categories): accuracy and bias scores per round for each category,
// one table per (run, condition). Point values: the intervals are in the JSON output only.
#include <fmt/format.h>

#include "report/encode.h"
#include "report/round_values.h"
#include "report/sections.h"

namespace isc::report {

std::string categories_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series) {
  std::string body;
  for (std::size_t k = 0; k < series.size(); ++k) {
    const ConditionSummary& c = runs[series[k].run].conditions[series[k].condition];
    if (c.categories.empty()) continue;
    std::vector<int> rounds;
    for (const metrics::RoundMetrics& m : c.rounds) rounds.push_back(m.round);
    std::string table = "<thead><tr><th>category</th><th>items</th><th>metric</th>";
    for (int r : rounds) table += fmt::format("<th>round {}</th>", r);
    table += "</tr></thead><tbody>";
    for (const CategoryRounds& cat : c.categories) {
      std::vector<Metric> shown;
      for (Metric m : {Metric::Accuracy, Metric::BiasAmbiguous, Metric::BiasDisambiguated})
        for (const metrics::RoundMetrics& r : cat.rounds)
          if (metric_value(r, m, c.rows.has_correctness).value) {
            shown.push_back(m);
            break;
          }
      for (std::size_t i = 0; i < shown.size(); ++i) {
        table += fmt::format("<tr data-category=\"{}\" data-metric=\"{}\">", html_escape(cat.category), metric_key(shown[i]));
        if (i == 0)
          table += fmt::format("<th scope=\"rowgroup\" rowspan=\"{}\">{}</th><td class=\"num\" rowspan=\"{}\">{}</td>",
                               shown.size(), html_escape(cat.category), shown.size(), cat.n_items);
        table += fmt::format("<td>{}</td>", metric_title(shown[i]));
        for (int r : rounds) {
          std::string cell = "-";
          for (const metrics::RoundMetrics& m : cat.rounds)
            if (m.round == r)
              if (auto v = metric_value(m, shown[i], c.rows.has_correctness).value) cell = fmt::format("{:.3f}", *v);
          table += fmt::format("<td class=\"num\">{}</td>", cell);
        }
        table += "</tr>";
      }
    }
    body += fmt::format("<div class=\"card categories\" data-series=\"{}\"><h3>{}</h3><div class=\"scroll\"><table>{}</tbody></table></div></div>",
                        k, html_escape(series[k].label), table);
  }
  if (body.empty()) return "";
  return "<section id=\"categories\"><h2>Per category</h2>" + body + "</section>";
}

}  // namespace isc::report
