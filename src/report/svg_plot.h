// Inline-SVG line charts of a metric over rounds: one line per series with its bootstrap band, a
// ring on the convergence round, labelled axes. Every point carries data-* attributes for tests.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace isc::report {

struct ChartPoint {
  int round = 0;
  double value = 0.0;
  std::optional<double> lower, upper;  // the 95% band
};

struct ChartLine {
  std::string label;
  std::string color;
  int dash = 0;  // 0 solid, 1 dashed, 2 dotted, 3 dash-dot: a second cue besides colour
  std::vector<ChartPoint> points;
  std::optional<int> converged_round;
};

struct LineChart {
  std::string id;       // element id (ASCII, made by the caller)
  std::string title;    // e.g. "Accuracy"
  std::string y_label;  // with unit, e.g. "accuracy (share of items)"
  std::optional<double> y_min, y_max;  // fixed range; else from the data (bands included)
  int first_round = 1, last_round = 1;
  std::vector<ChartLine> lines;
};

std::string line_chart_svg(const LineChart& chart);

// A square panel for values in [0, 1] on both axes (reliability and indication diagrams): its
// geometry, and its scaffolding (ticks 0, 0.5, 1 on both axes and the frame).
struct UnitPanel {
  double size = 260, left = 44, right = 10, top = 34, bottom = 40;
  double width() const { return size - left - right; }
  double height() const { return size - top - bottom; }
  double x(double v) const { return left + v * width(); }
  double y(double v) const { return top + (1 - v) * height(); }
};
std::string unit_panel_frame(const UnitPanel& panel);

// Tick values covering [lo, hi] at a 1-2-5 step, about `count` of them.
std::vector<double> nice_ticks(double lo, double hi, int count);

// The SVG stroke-dasharray of a dash style (empty for solid).
const char* dash_array(int dash);

}  // namespace isc::report
