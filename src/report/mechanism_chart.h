// The Mechanism section's two chart kinds as inline SVG: values over rounds built from layers (bands,
// lines, points with whiskers, reference lines), and horizontal bars with interval whiskers.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace isc::report {

// A shaded interval over rounds (a bootstrap band); drawn first, under everything else.
struct RoundBand {
  std::string color;
  std::vector<int> rounds;
  std::vector<double> lower, upper;  // per round
};

// A line through per-round values (a fitted or predicted curve).
struct RoundLine {
  std::string label;  // shown in the tooltip
  std::string color;
  int dash = 0;            // svg_plot's dash styles
  std::string attributes;  // data-* attributes of its group, already escaped
  std::vector<int> rounds;
  std::vector<double> values;
};

// Observed values as points, each with an optional whisker (a Wilson interval).
struct RoundMark {
  int round = 0;
  double value = 0.0;
  std::optional<double> lower, upper;
  std::string tip;  // plain text
};
struct RoundMarks {
  std::string color;
  std::string attributes;
  std::vector<RoundMark> marks;
};

// A horizontal line across the plot (an upper bound, p = 1).
struct ReferenceLine {
  double value = 0.0;
  std::string label;  // written at its right end
  std::string color = "#444444";
  int dash = 1;
  std::string attributes;
};

struct RoundChart {
  std::string id;  // element id, from indices only
  std::string title, y_label;
  int first_round = 1, last_round = 1;
  // Fixed ends of the y axis; an open end follows the data (reference lines included), so a value
  // above 1 widens the axis instead of leaving the plot.
  std::optional<double> y_min, y_max;
  std::vector<RoundBand> bands;
  std::vector<ReferenceLine> references;
  std::vector<RoundLine> lines;
  std::vector<RoundMarks> points;
};

std::string round_chart_svg(const RoundChart& chart);

struct Bar {
  std::string label;  // written left of the bar
  double value = 0.0;
  std::optional<double> lower, upper;
  std::string color;
  std::string attributes;  // data-* attributes of the bar, already escaped
  std::string tip;         // plain text
};

struct BarChart {
  std::string id, title, x_label;
  double x_min = 0.0, x_max = 1.0;
  std::vector<Bar> bars;
  std::optional<double> reference;  // a vertical dashed line (the majority-class accuracy)
  std::string reference_label;
};

std::string bar_chart_svg(const BarChart& chart);

// A line sample for a legend: a short stroke of `color` in dash style `dash`, or a dot when `dot`.
std::string legend_sample(const std::string& color, int dash, bool dot = false);

}  // namespace isc::report
