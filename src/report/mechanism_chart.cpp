// Round charts and bar charts of the Mechanism section (see mechanism_chart.h), laid out like
// svg_plot's line charts so the section reads like the rest of the page.
#include "report/mechanism_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/encode.h"
#include "report/svg_plot.h"

namespace isc::report {

namespace {

constexpr double kWidth = 480, kHeight = 290;
constexpr double kLeft = 58, kRight = 14, kTop = 14, kBottom = 46;

// The y range: fixed ends where given, else the data's extent (whiskers, bands and reference lines
// included) with a 5% margin. Non-finite values never reach the page, so they are skipped here too.
std::pair<double, double> y_range(const RoundChart& c) {
  double lo = INFINITY, hi = -INFINITY;
  auto take = [&](double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  };
  for (const RoundBand& b : c.bands) {
    for (double v : b.lower) take(v);
    for (double v : b.upper) take(v);
  }
  for (const ReferenceLine& r : c.references) take(r.value);
  for (const RoundLine& l : c.lines)
    for (double v : l.values) take(v);
  for (const RoundMarks& m : c.points)
    for (const RoundMark& p : m.marks) {
      take(p.value);
      if (p.lower) take(*p.lower);
      if (p.upper) take(*p.upper);
    }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-9) lo -= 0.05, hi += 0.05;
  const double margin = (hi - lo) * 0.05;
  // a fixed end stays where it is unless the data pass it
  lo = c.y_min ? std::min(*c.y_min, lo) : lo - margin;
  hi = c.y_max ? std::max(*c.y_max, hi) : hi + margin;
  return {lo, hi};
}

std::string polyline_path(const std::vector<std::pair<double, double>>& xy) {
  std::string path;
  for (const auto& [x, y] : xy) path += fmt::format("{}{:.2f},{:.2f} ", path.empty() ? "M" : "L", x, y);
  return path;
}

}  // namespace

std::string round_chart_svg(const RoundChart& c) {
  const auto [lo, hi] = y_range(c);
  const int r0 = c.first_round, r1 = std::max(c.last_round, c.first_round + 1);
  const double w = kWidth - kLeft - kRight, h = kHeight - kTop - kBottom;
  auto x = [&](double round) { return kLeft + (round - r0) / (r1 - r0) * w; };
  auto y = [&](double v) { return kTop + (hi - v) / (hi - lo) * h; };
  std::string s = fmt::format(
      "<svg class=\"chart\" id=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-labelledby=\"{}-title\">"
      "<title id=\"{}-title\">{}</title>",
      c.id, kWidth, kHeight, c.id, c.id, html_escape(c.title));
  for (double t : nice_ticks(lo, hi, 5)) {
    s += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{:.2f}\" y2=\"{:.2f}\"/>", kLeft, kWidth - kRight,
                     y(t), y(t));
    s += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{:.2f}\" text-anchor=\"end\" dy=\"0.32em\">{:g}</text>",
                     kLeft - 6, y(t), t);
  }
  // label every round up to 12, then every other one, so the ticks never overlap
  const int step = c.last_round - c.first_round > 12 ? 2 : 1;
  for (int r = c.first_round; r <= c.last_round; r += step)
    s += fmt::format("<text class=\"tick\" x=\"{:.2f}\" y=\"{}\" text-anchor=\"middle\">{}</text>", x(r),
                     kHeight - kBottom + 16, r);
  s += fmt::format("<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", kLeft, kTop, w, h);
  s += fmt::format("<text class=\"axis-label\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">round</text>",
                   kLeft + w / 2, kHeight - 8);
  s += fmt::format(
      "<text class=\"axis-label\" transform=\"translate(14 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
      kTop + h / 2, html_escape(c.y_label));

  for (const RoundBand& b : c.bands) {
    std::string points;
    for (std::size_t i = 0; i < b.rounds.size(); ++i)
      points += fmt::format("{:.2f},{:.2f} ", x(b.rounds[i]), y(b.upper[i]));
    for (std::size_t i = b.rounds.size(); i-- > 0;)
      points += fmt::format("{:.2f},{:.2f} ", x(b.rounds[i]), y(b.lower[i]));
    if (!b.rounds.empty()) s += fmt::format("<polygon class=\"band\" points=\"{}\" fill=\"{}\"/>", points, b.color);
  }
  for (const ReferenceLine& r : c.references) {
    if (!std::isfinite(r.value)) continue;
    s += fmt::format(
        "<g class=\"reference\" {}><line x1=\"{}\" x2=\"{}\" y1=\"{:.2f}\" y2=\"{:.2f}\" stroke=\"{}\" "
        "stroke-width=\"1.4\" stroke-dasharray=\"{}\"/><text class=\"ref-label\" x=\"{}\" y=\"{:.2f}\" "
        "text-anchor=\"end\">{}</text></g>",
        r.attributes, kLeft, kWidth - kRight, y(r.value), y(r.value), r.color, dash_array(r.dash), kWidth - kRight - 4,
        y(r.value) - 4, html_escape(r.label));
  }
  for (const RoundLine& l : c.lines) {
    std::vector<std::pair<double, double>> xy;
    for (std::size_t i = 0; i < l.rounds.size(); ++i)
      if (std::isfinite(l.values[i])) xy.emplace_back(x(l.rounds[i]), y(l.values[i]));
    s += fmt::format(
        "<g class=\"series\" {}><path class=\"line\" d=\"{}\" stroke=\"{}\" stroke-dasharray=\"{}\"><title>{}"
        "</title></path></g>",
        l.attributes, polyline_path(xy), l.color, dash_array(l.dash), html_escape(l.label));
  }
  for (const RoundMarks& m : c.points) {
    s += fmt::format("<g class=\"series marks\" {}>", m.attributes);
    for (const RoundMark& p : m.marks) {
      if (!std::isfinite(p.value)) continue;
      if (p.lower && p.upper && std::isfinite(*p.lower) && std::isfinite(*p.upper))
        s += fmt::format(
            "<line class=\"whisker\" x1=\"{0:.2f}\" x2=\"{0:.2f}\" y1=\"{1:.2f}\" y2=\"{2:.2f}\" stroke=\"{3}\"/>",
            x(p.round), y(*p.lower), y(*p.upper), m.color);
      s += fmt::format(
          "<circle class=\"obs\" data-round=\"{}\" data-value=\"{}\" cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"3.5\" "
          "fill=\"#fff\" stroke=\"{}\"><title>{}</title></circle>",
          p.round, p.value, x(p.round), y(p.value), m.color, html_escape(p.tip));
    }
    s += "</g>";
  }
  return s + "</svg>";
}

std::string bar_chart_svg(const BarChart& c) {
  constexpr double kLabel = 230, kRow = 24, kTopPad = 10, kAxis = 42, kRightPad = 20;
  const double height = kTopPad + kRow * static_cast<double>(c.bars.size()) + kAxis;
  const double w = kWidth + 60 - kLabel - kRightPad;
  const double total = kWidth + 60;
  auto x = [&](double v) { return kLabel + (std::clamp(v, c.x_min, c.x_max) - c.x_min) / (c.x_max - c.x_min) * w; };
  std::string s = fmt::format(
      "<svg class=\"chart bars\" id=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-labelledby=\"{}-title\">"
      "<title id=\"{}-title\">{}</title>",
      c.id, total, height, c.id, c.id, html_escape(c.title));
  const double bottom = kTopPad + kRow * static_cast<double>(c.bars.size());
  for (double t : nice_ticks(c.x_min, c.x_max, 5)) {
    s += fmt::format("<line class=\"grid\" x1=\"{0:.2f}\" x2=\"{0:.2f}\" y1=\"{1}\" y2=\"{2}\"/>", x(t), kTopPad,
                     bottom);
    s += fmt::format("<text class=\"tick\" x=\"{:.2f}\" y=\"{}\" text-anchor=\"middle\">{:g}</text>", x(t), bottom + 15,
                     t);
  }
  for (std::size_t i = 0; i < c.bars.size(); ++i) {
    const Bar& b = c.bars[i];
    const double top = kTopPad + kRow * static_cast<double>(i);
    s += fmt::format(
        "<g class=\"bar\" {}><text class=\"bar-label\" x=\"{}\" y=\"{:.2f}\" text-anchor=\"end\" "
        "dy=\"0.32em\">{}</text>",
        b.attributes, kLabel - 8, top + kRow / 2, html_escape(b.label));
    if (std::isfinite(b.value))
      s += fmt::format(
          "<rect x=\"{}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" fill=\"{}\" fill-opacity=\"0.8\">"
          "<title>{}</title></rect>",
          kLabel, top + 5, std::max(0.0, x(b.value) - kLabel), kRow - 10, b.color, html_escape(b.tip));
    if (b.lower && b.upper && std::isfinite(*b.lower) && std::isfinite(*b.upper))
      s += fmt::format(
          "<line class=\"whisker\" x1=\"{0:.2f}\" x2=\"{1:.2f}\" y1=\"{2:.2f}\" y2=\"{2:.2f}\"/>"
          "<line class=\"whisker\" x1=\"{0:.2f}\" x2=\"{0:.2f}\" y1=\"{3:.2f}\" y2=\"{4:.2f}\"/>"
          "<line class=\"whisker\" x1=\"{1:.2f}\" x2=\"{1:.2f}\" y1=\"{3:.2f}\" y2=\"{4:.2f}\"/>",
          x(*b.lower), x(*b.upper), top + kRow / 2, top + kRow / 2 - 4, top + kRow / 2 + 4);
    s += "</g>";
  }
  s += fmt::format("<line class=\"axis\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>", kLabel, kTopPad, bottom);
  if (c.reference && std::isfinite(*c.reference))
    s += fmt::format(
        "<g class=\"reference\" data-value=\"{}\"><line x1=\"{:.2f}\" x2=\"{:.2f}\" y1=\"{}\" y2=\"{}\" "
        "stroke=\"#444\" stroke-width=\"1.4\" stroke-dasharray=\"5 3\"/><title>{}</title></g>",
        *c.reference, x(*c.reference), x(*c.reference), kTopPad - 4, bottom + 2, html_escape(c.reference_label));
  s += fmt::format("<text class=\"axis-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>",
                   kLabel + w / 2, height - 8, html_escape(c.x_label));
  return s + "</svg>";
}

std::string legend_sample(const std::string& color, int dash, bool dot) {
  if (dot)
    return fmt::format(
        "<svg width=\"34\" height=\"12\" aria-hidden=\"true\"><circle cx=\"17\" cy=\"6\" r=\"3.5\" "
        "fill=\"#fff\" stroke=\"{}\" stroke-width=\"1.4\"/></svg>",
        color);
  return fmt::format(
      "<svg width=\"34\" height=\"12\" aria-hidden=\"true\"><line x1=\"1\" x2=\"33\" y1=\"6\" y2=\"6\" "
      "stroke=\"{}\" stroke-width=\"3\" stroke-dasharray=\"{}\"/></svg>",
      color, dash_array(dash));
}

}  // namespace isc::report
