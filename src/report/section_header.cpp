// The report's header: what was run (task, model and its hash, conditions, rounds, items), when, by
// which engine, and how fast; one block per run.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "report/encode.h"
#include "report/sections.h"
#include "report/svg_plot.h"

namespace isc::report {

namespace {

std::string duration(double seconds) {
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  const long s = static_cast<long>(seconds + 0.5);
  if (s < 3600) return fmt::format("{} min {:02} s", s / 60, s % 60);
  return fmt::format("{} h {:02} min", s / 3600, (s % 3600) / 60);
}

std::string row(const std::string& name, const std::string& value_html) {
  return fmt::format("<dt>{}</dt><dd>{}</dd>", name, value_html);
}

}  // namespace

std::string header_section(const std::vector<RunSummary>& runs, const std::string& generated_at) {
  std::string tasks;
  for (const RunSummary& r : runs) tasks += (tasks.empty() ? "" : ", ") + r.run.task;
  std::string s = fmt::format("<header><h1>isc report: {}</h1><p class=\"sub\">{} run{} · generated {}</p>",
                              html_escape(tasks), runs.size(), runs.size() == 1 ? "" : "s", html_escape(generated_at));
  s += "<div class=\"runs\">";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunSummary& r = runs[i];
    const RunRecord& run = r.run;
    const auto tps = tokens_per_second(run);
    std::string conditions;
    for (const ConditionSummary& c : r.conditions) conditions += (conditions.empty() ? "" : ", ") + c.condition;
    s += fmt::format("<section class=\"run card\" data-run=\"{}\"><h2>{}</h2><dl>", i, html_escape(run.run_id));
    s += row("task", html_escape(run.task));
    s += row("model", fmt::format("{}<br><code class=\"hash\" title=\"sha256 of the model file\">sha256 {}</code>",
                                  html_escape(run.model), html_escape(run.model_sha256)));
    s += row("conditions", html_escape(conditions));
    s += row("rounds", fmt::format("{}", run.rounds));
    s += row("items", fmt::format("<span class=\"n-items\">{}</span>", r.n_items));
    s += row("date", html_escape(run.started_at) +
                         (run.finished_at.empty() ? std::string() : " → " + html_escape(run.finished_at)));
    s += row("status", html_escape(run.status));
    s += row("engine", html_escape(run.engine_version));
    s += row("wall time", duration(run.wall_seconds));
    s += row("throughput", tps ? fmt::format("{:.1f} generated tokens/s ({} generated, {} prefilled)", *tps,
                                             run.generated_tokens, run.prefilled_tokens)
                               : std::string("-"));
    s += row("store", html_escape(r.store_path));
    s += "</dl></section>";
  }
  s += "</div></header>";
  return s;
}

std::string legend_html(const std::vector<Series>& series) {
  std::string s = "<ul class=\"legend\">";
  for (std::size_t k = 0; k < series.size(); ++k)
    s += fmt::format(
        "<li data-series=\"{}\"><svg width=\"34\" height=\"12\" aria-hidden=\"true\"><line x1=\"1\" x2=\"33\" y1=\"6\" "
        "y2=\"6\" stroke=\"{}\" stroke-width=\"3\" stroke-dasharray=\"{}\"/></svg>{}</li>",
        k, series[k].color, dash_array(static_cast<int>(k)), html_escape(series[k].label));
  s += "<li class=\"note\">shaded band: bootstrap 95% interval · ring: convergence round</li></ul>";
  return s;
}

}  // namespace isc::report
