// The sampled-uncertainty section: per-round curves of each estimator with bootstrap bands, the
// rank-calibration error over rounds, and indication diagrams (Huang et al. 2024) of the first
// and last round: quality rank against uncertainty rank per equal-mass bin.
#include <fmt/format.h>

#include <algorithm>

#include "report/encode.h"
#include "report/sampled_estimators.h"
#include "report/sections.h"
#include "report/svg_plot.h"

namespace isc::report {

namespace {

const UnitPanel kPanel;

const metrics::SampledUncertaintyMetrics* find(const metrics::RoundMetrics& m, const std::string& name) {
  for (const auto& s : m.sampled)
    if (s.estimator == name) return &s;
  return nullptr;
}

// One indication diagram: a point per bin at (uncertainty rank, quality rank); a perfectly
// rank-calibrated estimator puts them on the anti-diagonal (more uncertain = lower quality).
std::string indication_svg(const metrics::RankCalibration& rc, int round, const std::string& color,
                           const std::string& id, const char* estimator) {
  const UnitPanel& p = kPanel;
  const double kSize = p.size, kLeft = p.left, kTop = p.top, w = p.width(), h = p.height();
  auto x = [&](double v) { return p.x(v); };
  auto y = [&](double v) { return p.y(v); };
  std::string s = fmt::format(
      "<svg class=\"indication\" id=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\"><title>Indication diagram of {}, "
      "round {}</title>",
      id, kSize, kSize, estimator, round);
  s += fmt::format("<text class=\"panel-title\" x=\"{}\" y=\"14\">round {} · RCE {:.3f} · n = {}</text>", kLeft, round,
                   rc.rce, rc.n);
  s += unit_panel_frame(p);
  s += fmt::format("<line class=\"diagonal\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>", x(0), y(1),
                   x(1), y(0));
  for (const metrics::RankCalibrationBin& b : rc.bins)
    s += fmt::format(
        "<circle class=\"bin\" data-count=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\"><title>uncertainty "
        "{:.3g}–{:.3g}: {} answers, mean quality {:.3f}</title></circle>",
        b.count, x(b.uncertainty_rank), y(b.quality_rank), color, b.uncertainty_lower, b.uncertainty_upper, b.count,
        b.mean_quality);
  s += fmt::format("<text class=\"axis-label\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">uncertainty rank</text>",
                   kLeft + w / 2, kSize - 6);
  s += fmt::format("<text class=\"axis-label\" transform=\"translate(12 {:.1f}) rotate(-90)\" text-anchor=\"middle\">"
                   "quality rank of the bin</text>",
                   kTop + h / 2);
  s += "</svg>";
  return s;
}

// The line of one series for `value(round metrics)`, with its band where `band` gives one.
template <class Value>
ChartLine series_line(const ConditionSummary& c, const Series& sr, int dash, Value value) {
  ChartLine line;
  line.label = sr.label;
  line.color = sr.color;
  line.dash = dash;
  for (const metrics::RoundMetrics& m : c.rounds)
    if (auto p = value(m)) line.points.push_back({m.round, p->value, p->lower, p->upper});
  return line;
}

}  // namespace

std::string uncertainty_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series) {
  int first = 1 << 30, last = 0;
  bool any_sampled = false;
  for (const Series& sr : series)
    for (const metrics::RoundMetrics& m : runs[sr.run].conditions[sr.condition].rounds) {
      first = std::min(first, m.round);
      last = std::max(last, m.round);
      any_sampled = any_sampled || !m.sampled.empty();
    }
  if (!any_sampled) return "";
  std::string charts;
  for (const EstimatorView& v : estimator_views()) {
    for (const bool rce : {false, true}) {
      LineChart chart;
      chart.id = fmt::format("chart-{}{}", rce ? "rce-" : "", v.name);
      chart.title = rce ? fmt::format("Rank-calibration error: {}", v.short_title) : v.title;
      chart.y_label = rce ? "RCE (0 = ranks follow quality)" : "mean over items (nats)";
      chart.y_min = 0.0;
      chart.first_round = first;
      chart.last_round = last;
      bool any = false;
      for (std::size_t k = 0; k < series.size(); ++k) {
        const ConditionSummary& c = runs[series[k].run].conditions[series[k].condition];
        ChartLine line = series_line(c, series[k], static_cast<int>(k), [&](const metrics::RoundMetrics& m) {
          std::optional<ChartPoint> p;
          const auto* s = find(m, v.name);
          if (!s) return p;
          if (rce) {
            if (s->rank_calibration) p = ChartPoint{m.round, s->rank_calibration->rce, std::nullopt, std::nullopt};
          } else {
            p = ChartPoint{m.round, s->mean, std::nullopt, std::nullopt};
            if (s->mean_ci) p->lower = s->mean_ci->lower, p->upper = s->mean_ci->upper;
          }
          return p;
        });
        const auto& conv = rce ? c.convergence.sampled_rce : c.convergence.sampled;
        if (auto it = conv.find(v.name); it != conv.end()) line.converged_round = it->second.round;
        any = any || !line.points.empty();
        chart.lines.push_back(std::move(line));
      }
      if (!any) continue;
      charts += fmt::format("<figure class=\"card\" data-metric=\"{}{}\"><figcaption>{}</figcaption>{}</figure>",
                            rce ? "rce_" : "", v.name, html_escape(chart.title), line_chart_svg(chart));
    }
  }
  // Indication diagrams of the first estimator with rank calibration, per series.
  std::string diagrams;
  for (std::size_t k = 0; k < series.size(); ++k) {
    const ConditionSummary& c = runs[series[k].run].conditions[series[k].condition];
    if (c.rounds.empty()) continue;
    for (const EstimatorView& v : estimator_views()) {
      const auto* a = find(c.rounds.front(), v.name);
      const auto* b = find(c.rounds.back(), v.name);
      if (!a || !b || !a->rank_calibration || !b->rank_calibration) continue;
      diagrams += fmt::format("<figure class=\"card indication-pair\" data-series=\"{}\" data-estimator=\"{}\">"
                              "<figcaption>{} · {}</figcaption><div class=\"pair\">",
                              k, v.name, html_escape(series[k].label), v.short_title);
      diagrams += indication_svg(*a->rank_calibration, c.rounds.front().round, series[k].color,
                                 fmt::format("ind-{}-first", k), v.short_title);
      if (c.rounds.back().round != c.rounds.front().round)
        diagrams += indication_svg(*b->rank_calibration, c.rounds.back().round, series[k].color,
                                   fmt::format("ind-{}-last", k), v.short_title);
      diagrams += "</div></figure>";
      break;
    }
  }
  return "<section id=\"uncertainty\"><h2>Sampled uncertainty</h2><p class=\"note\">Each round, extra answers are "
         "sampled from the same state as the round's own and grouped by meaning (see the run's entailment setting). "
         "Curves: the mean estimate over items with its 95% bootstrap band; a ring marks the convergence round. "
         "Rank-calibration error (Huang et al., 2024; 20 equal-mass bins): how far the ranking by uncertainty is "
         "from the ranking by the answers' quality (1 − toxicity, correctness, ...); its floor is about 1/(4·bins) "
         "when bins hold several answers.</p><div class=\"charts\">" +
         charts + "</div>" +
         (diagrams.empty() ? std::string()
                           : "<h3>Indication diagrams, first and last round</h3><p class=\"note\">A point per bin: its "
                             "uncertainty rank against its quality rank; the dashed anti-diagonal is perfect rank "
                             "calibration.</p><div class=\"charts\">" +
                                 diagrams + "</div>") +
         "</section>";
}

}  // namespace isc::report
