// Line charts as inline SVG (see svg_plot.h). Geometry is in viewBox units; CSS scales the SVG to
// its container, so the same markup serves laptop and phone widths.
#include "report/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/encode.h"

namespace isc::report {

namespace {

constexpr double kWidth = 480, kHeight = 290;
constexpr double kLeft = 58, kRight = 14, kTop = 14, kBottom = 46;

std::string number(double v) { return fmt::format("{:.3f}", v); }

}  // namespace

const char* dash_array(int dash) {
  switch (dash % 4) {
    case 1: return "7 4";
    case 2: return "2 3";
    case 3: return "8 3 2 3";
    default: return "";
  }
}

std::vector<double> nice_ticks(double lo, double hi, int count) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(1, count);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * magnitude) {
      step = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string line_chart_svg(const LineChart& chart) {
  double lo = chart.y_min.value_or(INFINITY), hi = chart.y_max.value_or(-INFINITY);
  if (!chart.y_min || !chart.y_max) {
    for (const ChartLine& l : chart.lines)
      for (const ChartPoint& p : l.points) {
        if (!chart.y_min) lo = std::min({lo, p.value, p.lower.value_or(p.value)});
        if (!chart.y_max) hi = std::max({hi, p.value, p.upper.value_or(p.value)});
      }
    if (!std::isfinite(lo)) lo = 0;
    if (!std::isfinite(hi)) hi = 1;
    if (hi - lo < 1e-9) lo -= 0.05, hi += 0.05;
    const double margin = (hi - lo) * 0.05;
    if (!chart.y_min) lo -= margin;
    if (!chart.y_max) hi += margin;
  }
  const int r0 = chart.first_round, r1 = std::max(chart.last_round, chart.first_round + 1);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto x = [&](double round) { return kLeft + (round - r0) / (r1 - r0) * plot_w; };
  auto y = [&](double v) { return kTop + (hi - v) / (hi - lo) * plot_h; };

  std::string s = fmt::format(
      "<svg class=\"chart\" id=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-labelledby=\"{}-title\">"
      "<title id=\"{}-title\">{} by round</title>",
      chart.id, kWidth, kHeight, chart.id, chart.id, html_escape(chart.title));
  // grid and axes
  for (double t : nice_ticks(lo, hi, 5)) {
    s += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{:.2f}\" y2=\"{:.2f}\"/>", kLeft, kWidth - kRight, y(t), y(t));
    s += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{:.2f}\" text-anchor=\"end\" dy=\"0.32em\">{}</text>", kLeft - 6,
                     y(t), fmt::format("{:g}", t));
  }
  for (int r = chart.first_round; r <= chart.last_round; ++r)
    s += fmt::format("<text class=\"tick\" x=\"{:.2f}\" y=\"{}\" text-anchor=\"middle\">{}</text>", x(r),
                     kHeight - kBottom + 16, r);
  s += fmt::format("<line class=\"axis\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", kLeft, kWidth - kRight,
                   kHeight - kBottom, kHeight - kBottom);
  s += fmt::format("<line class=\"axis\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", kLeft, kLeft, kTop, kHeight - kBottom);
  s += fmt::format("<text class=\"axis-label\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">round (self-correction turn)</text>",
                   kLeft + plot_w / 2, kHeight - 8);
  s += fmt::format("<text class=\"axis-label\" transform=\"translate(14 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
                   kTop + plot_h / 2, html_escape(chart.y_label));

  for (std::size_t k = 0; k < chart.lines.size(); ++k) {
    const ChartLine& l = chart.lines[k];
    s += fmt::format("<g class=\"series\" data-series=\"{}\" data-label=\"{}\">", k, html_escape(l.label));
    // band: upper edge left to right, lower edge back
    std::string band;
    bool has_band = true;
    for (const ChartPoint& p : l.points) has_band = has_band && p.lower && p.upper;
    if (has_band && !l.points.empty()) {
      for (const ChartPoint& p : l.points) band += fmt::format("{:.2f},{:.2f} ", x(p.round), y(*p.upper));
      for (auto it = l.points.rbegin(); it != l.points.rend(); ++it)
        band += fmt::format("{:.2f},{:.2f} ", x(it->round), y(*it->lower));
      s += fmt::format("<polygon class=\"band\" points=\"{}\" fill=\"{}\"/>", band, l.color);
    }
    std::string path;
    for (const ChartPoint& p : l.points) path += fmt::format("{}{:.2f},{:.2f} ", path.empty() ? "M" : "L", x(p.round), y(p.value));
    s += fmt::format("<path class=\"line\" d=\"{}\" stroke=\"{}\" stroke-dasharray=\"{}\"/>", path, l.color, dash_array(l.dash));
    for (const ChartPoint& p : l.points) {
      std::string tip = fmt::format("{} · round {}: {}", l.label, p.round, number(p.value));
      if (p.lower && p.upper) tip += fmt::format(" (95% CI {} – {})", number(*p.lower), number(*p.upper));
      s += fmt::format(
          "<circle class=\"pt\" data-round=\"{}\" data-value=\"{}\" cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"3.5\" fill=\"{}\">"
          "<title>{}</title></circle>",
          p.round, fmt::format("{}", p.value), x(p.round), y(p.value), l.color, html_escape(tip));
    }
    if (l.converged_round) {
      const auto at = std::find_if(l.points.begin(), l.points.end(),
                                   [&](const ChartPoint& p) { return p.round == *l.converged_round; });
      if (at != l.points.end())
        s += fmt::format(
            "<g class=\"conv\" data-round=\"{}\"><line x1=\"{:.2f}\" x2=\"{:.2f}\" y1=\"{:.2f}\" y2=\"{}\" stroke=\"{}\" "
            "stroke-dasharray=\"2 2\"/><circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"7.5\" stroke=\"{}\" fill=\"none\" "
            "stroke-width=\"2\"><title>{}: converged at round {}</title></circle></g>",
            *l.converged_round, x(at->round), x(at->round), y(at->value) + 7.5, kHeight - kBottom, l.color, x(at->round),
            y(at->value), l.color, html_escape(l.label), *l.converged_round);
    }
    s += "</g>";
  }
  s += "</svg>";
  return s;
}

std::string unit_panel_frame(const UnitPanel& p) {
  std::string s;
  for (double t : {0.0, 0.5, 1.0}) {
    s += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:g}</text>", p.x(t),
                     p.size - p.bottom + 14, t);
    s += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" dy=\"0.32em\">{:g}</text>",
                     p.left - 5, p.y(t), t);
  }
  s += fmt::format("<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", p.left, p.top, p.width(),
                   p.height());
  return s;
}

}  // namespace isc::report
