// Reliability diagrams of round 1 and the last round, side by side for each (run, condition):
// accuracy per confidence bin against the diagonal of perfect calibration, with bin counts.
#include <fmt/format.h>

#include "metrics/metrics_json.h"
#include "report/encode.h"
#include "report/sections.h"
#include "report/svg_plot.h"

namespace isc::report {

namespace {

const UnitPanel kPanel;

}  // namespace

std::string reliability_svg(const metrics::CalibrationMetrics& c, int round, const std::string& color,
                            const std::string& id) {
  const UnitPanel& p = kPanel;
  const double kSize = p.size, kLeft = p.left, kTop = p.top, kBottom = p.bottom, w = p.width(), h = p.height();
  auto x = [&](double v) { return p.x(v); };
  auto y = [&](double v) { return p.y(v); };
  std::string s = fmt::format(
      "<svg class=\"reliability\" id=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\"><title>Reliability diagram, round {}</title>",
      id, kSize, kSize, round);
  s += fmt::format("<text class=\"panel-title\" x=\"{}\" y=\"14\">round {} · ECE {:.3f} · n = {}</text>", kLeft, round,
                   c.ece, c.n);
  s += unit_panel_frame(p);
  s += fmt::format("<line class=\"diagonal\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>", x(0), y(0), x(1), y(1));
  for (const metrics::ReliabilityBin& b : c.reliability) {
    if (b.count == 0 || !b.accuracy || !b.mean_confidence) continue;
    const double bx = x(b.lower) + 1, bw = std::max(1.0, (b.upper - b.lower) * w - 2);
    s += fmt::format(
        "<rect class=\"bin\" data-count=\"{}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
        "<title>confidence {:.2f}–{:.2f}: {} answers, accuracy {:.3f}, mean confidence {:.3f}</title></rect>",
        b.count, bx, y(*b.accuracy), bw, std::max(0.0, y(0) - y(*b.accuracy)), color, b.lower, b.upper, b.count,
        *b.accuracy, *b.mean_confidence);
    s += fmt::format("<line class=\"conf\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>", bx, bx + bw,
                     y(*b.mean_confidence), y(*b.mean_confidence));
    s += fmt::format("<text class=\"count\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", bx + bw / 2,
                     std::min(y(*b.accuracy), y(*b.mean_confidence)) - 3, b.count);
  }
  s += fmt::format("<text class=\"axis-label\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">confidence ({})</text>",
                   kLeft + w / 2, kSize - 6,
                   c.source == metrics::ConfidenceSource::Argmax ? "top option probability" : "parsed answer's probability");
  s += fmt::format("<text class=\"axis-label\" transform=\"translate(12 {:.1f}) rotate(-90)\" text-anchor=\"middle\">accuracy in bin</text>",
                   kTop + h / 2);
  s += "</svg>";
  return s;
}

std::string reliability_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series) {
  std::string body;
  for (std::size_t k = 0; k < series.size(); ++k) {
    const ConditionSummary& c = runs[series[k].run].conditions[series[k].condition];
    if (!c.rows.has_correctness || c.rounds.empty()) continue;
    const metrics::RoundMetrics& first = c.rounds.front();
    const metrics::RoundMetrics& last = c.rounds.back();
    if (!first.calibration || !last.calibration) continue;
    body += fmt::format("<figure class=\"card reliability-pair\" data-series=\"{}\"><figcaption>{}</figcaption><div class=\"pair\">",
                        k, html_escape(series[k].label));
    body += reliability_svg(*first.calibration, first.round, series[k].color, fmt::format("rel-{}-first", k));
    if (last.round != first.round)
      body += reliability_svg(*last.calibration, last.round, series[k].color, fmt::format("rel-{}-last", k));
    body += "</div></figure>";
  }
  if (body.empty()) return "";
  return "<section id=\"reliability\"><h2>Reliability: first and last round</h2><p class=\"note\">Bars: accuracy of "
         "the answers in each confidence bin; black tick: their mean confidence; number: answers in the bin; dashed "
         "diagonal: perfect calibration.</p><div class=\"charts\">" +
         body + "</div></section>";
}

}  // namespace isc::report
