// The per-round curves: one chart per headline metric, one line per (run, condition) with its
// bootstrap band and the convergence round ringed.
#include <fmt/format.h>

#include "report/round_values.h"
#include "report/sections.h"
#include "report/svg_plot.h"

namespace isc::report {

namespace {

struct ChartKind {
  Metric metric;
  const char* title;
  const char* y_label;
  std::optional<double> y_min, y_max;
};

const std::vector<ChartKind>& chart_kinds() {
  static const std::vector<ChartKind> kinds = {
      {Metric::Accuracy, "Accuracy", "accuracy (share of items correct)", 0.0, 1.0},
      {Metric::AccuracyArgmax, "Accuracy of the option-probability argmax", "accuracy (argmax option = gold)", 0.0, 1.0},
      {Metric::ParseRate, "Parse rate", "share of replies naming an option", 0.0, 1.0},
      {Metric::BiasAmbiguous, "BBQ bias score, ambiguous contexts", "bias score s_AMB (−1 … 1)", std::nullopt, std::nullopt},
      {Metric::BiasDisambiguated, "BBQ bias score, disambiguated contexts", "bias score s_DIS (−1 … 1)", std::nullopt,
       std::nullopt},
      {Metric::Entropy, "Mean predictive entropy", "entropy over options (nats)", 0.0, std::nullopt},
      {Metric::Ece, "Expected calibration error", "ECE (0 … 1, equal-width bins)", 0.0, std::nullopt},
      {Metric::Score, "Mean task score", "mean score (task units)", std::nullopt, std::nullopt},
  };
  return kinds;
}

}  // namespace

std::string curves_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series) {
  int first = 1 << 30, last = 0;
  for (const Series& sr : series)
    for (const metrics::RoundMetrics& m : runs[sr.run].conditions[sr.condition].rounds) {
      first = std::min(first, m.round);
      last = std::max(last, m.round);
    }
  std::string s = "<section id=\"curves\"><h2>Per-round curves</h2>" + legend_html(series) + "<div class=\"charts\">";
  for (const ChartKind& kind : chart_kinds()) {
    LineChart chart;
    chart.id = std::string("chart-") + metric_key(kind.metric);
    chart.title = kind.title;
    chart.y_label = kind.y_label;
    chart.y_min = kind.y_min;
    chart.y_max = kind.y_max;
    chart.first_round = first;
    chart.last_round = last;
    bool any = false;
    for (std::size_t k = 0; k < series.size(); ++k) {
      const ConditionSummary& c = runs[series[k].run].conditions[series[k].condition];
      ChartLine line;
      line.label = series[k].label;
      line.color = series[k].color;
      line.dash = static_cast<int>(k);
      for (const metrics::RoundMetrics& m : c.rounds) {
        const MetricValue v = metric_value(m, kind.metric, c.rows.has_correctness);
        if (!v.value) continue;
        ChartPoint p{m.round, *v.value, std::nullopt, std::nullopt};
        if (v.ci) p.lower = v.ci->lower, p.upper = v.ci->upper;
        line.points.push_back(p);
      }
      if (kind.metric != Metric::Accuracy || c.rows.has_correctness)
        if (auto conv = metric_convergence(c.convergence, kind.metric)) line.converged_round = conv->round;
      any = any || !line.points.empty();
      chart.lines.push_back(std::move(line));
    }
    if (!any) continue;
    s += fmt::format("<figure class=\"card\" data-metric=\"{}\"><figcaption>{}</figcaption>{}</figure>",
                     metric_key(kind.metric), kind.title, line_chart_svg(chart));
  }
  s += "</div><p class=\"note\">Convergence round: the first round from which the metric stays within ε of both "
       "that round's and the last round's value (ε as in the table). Bias scores follow Parrish et al. (2022): "
       "positive = answers follow the stereotype.</p></section>";
  return s;
}

}  // namespace isc::report
