// ECE variants and reliability bins; conventions are documented in calibration.h.
// Bin membership is decided against the same edge values that are reported, so a plot and the ECE agree.
#include "metrics/calibration.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"

namespace isc::metrics {

std::optional<CalibrationPoint> calibration_point(std::span<const double> option_probs, int answer, int gold,
                                                  ConfidenceSource source, std::optional<bool> correct_override,
                                                  double tolerance) {
  check_distribution(option_probs, "calibration_point", "", tolerance);
  const int k = static_cast<int>(option_probs.size());
  if (answer < -1 || answer >= k)
    throw Error(fmt::format("calibration_point: answer {} is outside [-1, {})", answer, k));
  if (gold < -1 || gold >= k) throw Error(fmt::format("calibration_point: gold {} is outside [-1, {})", gold, k));
  if (source == ConfidenceSource::Argmax) {
    if (gold < 0) throw Error("calibration_point: Argmax confidence needs a gold option index (gold is -1)");
    const auto best = std::max_element(option_probs.begin(), option_probs.end());  // first maximum on ties
    return CalibrationPoint{*best, static_cast<int>(best - option_probs.begin()) == gold};
  }
  if (answer < 0) return std::nullopt;
  if (!correct_override && gold < 0)
    throw Error("calibration_point: ParsedAnswer needs a gold option index or a correctness override");
  const bool correct = correct_override ? *correct_override : answer == gold;
  return CalibrationPoint{option_probs[static_cast<std::size_t>(answer)], correct};
}

namespace {

void check_points(std::span<const CalibrationPoint> points, std::size_t n_bins, const char* metric) {
  if (points.empty()) throw Error(fmt::format("{}: no points", metric));
  if (n_bins == 0) throw Error(fmt::format("{}: n_bins is 0", metric));
  for (std::size_t i = 0; i < points.size(); ++i) {
    const double c = points[i].confidence;
    if (!(c >= 0.0 && c <= 1.0))
      throw Error(fmt::format("{}: confidence {} of point {} is outside [0, 1]", metric, c, i));
  }
}

// Accumulates one bin; the optional fields are filled in by finish().
struct BinSums {
  std::size_t count = 0;
  double confidence = 0.0;
  std::size_t correct = 0;
  void add(const CalibrationPoint& p) {
    ++count;
    confidence += p.confidence;
    if (p.correct) ++correct;
  }
  ReliabilityBin finish(double lower, double upper) const {
    ReliabilityBin b{lower, upper, count, std::nullopt, std::nullopt};
    if (count > 0) {
      b.mean_confidence = confidence / static_cast<double>(count);
      b.accuracy = static_cast<double>(correct) / static_cast<double>(count);
    }
    return b;
  }
};

// Bins [edge_b, edge_{b+1}) for b < B-1; the last bin [edge_{B-1}, edge_B] if close_top, else half-open.
// Returns, per point, its bin or B when it falls in none.
std::size_t bin_of(double c, const std::vector<double>& edges, bool close_top) {
  const std::size_t n_bins = edges.size() - 1;
  if (c < edges.front()) return n_bins;
  // first edge strictly greater than c; the bin is the one that edge closes
  const auto it = std::upper_bound(edges.begin(), edges.end(), c);
  std::size_t b = static_cast<std::size_t>(it - edges.begin());
  if (b == 0) return n_bins;
  b -= 1;  // now edges[b] <= c < edges[b+1], or b == n_bins when c >= top edge
  if (b >= n_bins) return (close_top && c <= edges.back()) ? n_bins - 1 : n_bins;
  // with repeated edges (degenerate range) upper_bound lands past them all, which is the last bin
  return b;
}

std::vector<ReliabilityBin> bins_over_edges(std::span<const CalibrationPoint> points, const std::vector<double>& edges,
                                            bool close_top) {
  const std::size_t n_bins = edges.size() - 1;
  std::vector<BinSums> sums(n_bins);
  for (const CalibrationPoint& p : points) {
    const std::size_t b = bin_of(p.confidence, edges, close_top);
    if (b < n_bins) sums[b].add(p);
  }
  std::vector<ReliabilityBin> bins;
  bins.reserve(n_bins);
  for (std::size_t b = 0; b < n_bins; ++b) bins.push_back(sums[b].finish(edges[b], edges[b + 1]));
  return bins;
}

}  // namespace

double ece_from_bins(std::span<const ReliabilityBin> bins, std::size_t n_points) {
  if (n_points == 0) throw Error("ece_from_bins: no points");
  double ece = 0.0;
  for (const ReliabilityBin& b : bins) {
    if (b.count == 0) continue;
    ece += static_cast<double>(b.count) / static_cast<double>(n_points) * std::fabs(*b.accuracy - *b.mean_confidence);
  }
  return ece;
}

std::vector<ReliabilityBin> reliability_bins_equal_width(std::span<const CalibrationPoint> points, std::size_t n_bins) {
  check_points(points, n_bins, "reliability_bins_equal_width");
  std::vector<double> edges(n_bins + 1);
  for (std::size_t b = 0; b <= n_bins; ++b) edges[b] = static_cast<double>(b) / static_cast<double>(n_bins);
  return bins_over_edges(points, edges, /*close_top=*/true);
}

double ece_equal_width(std::span<const CalibrationPoint> points, std::size_t n_bins) {
  return ece_from_bins(reliability_bins_equal_width(points, n_bins), points.size());
}

std::vector<ReliabilityBin> reliability_bins_equal_mass(std::span<const CalibrationPoint> points, std::size_t n_bins) {
  check_points(points, n_bins, "reliability_bins_equal_mass");
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return points[a].confidence < points[b].confidence; });
  const std::size_t groups = std::min(n_bins, points.size());
  const std::size_t base = points.size() / groups;
  const std::size_t larger = points.size() % groups;  // this many groups get base + 1
  std::vector<ReliabilityBin> bins;
  bins.reserve(groups);
  std::size_t start = 0;
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t size = base + (g < larger ? 1 : 0);
    BinSums sums;
    for (std::size_t i = start; i < start + size; ++i) sums.add(points[order[i]]);
    bins.push_back(sums.finish(points[order[start]].confidence, points[order[start + size - 1]].confidence));
    start += size;
  }
  return bins;
}

double ece_adaptive(std::span<const CalibrationPoint> points, std::size_t n_bins) {
  return ece_from_bins(reliability_bins_equal_mass(points, n_bins), points.size());
}

std::vector<ReliabilityBin> reliability_bins_observed_range(std::span<const CalibrationPoint> points,
                                                            std::size_t n_bins, ObservedRangeTop top) {
  check_points(points, n_bins, "reliability_bins_observed_range");
  const auto [lo_it, hi_it] = std::minmax_element(
      points.begin(), points.end(), [](const auto& a, const auto& b) { return a.confidence < b.confidence; });
  const double lo = lo_it->confidence;
  const double hi = hi_it->confidence;
  // edges computed exactly as the reference does (min + width * i), so its rounding is reproduced
  const double width = (hi - lo) / static_cast<double>(n_bins);
  std::vector<double> edges(n_bins + 1);
  for (std::size_t b = 0; b <= n_bins; ++b) edges[b] = lo + width * static_cast<double>(b);
  const bool include_max = top == ObservedRangeTop::IncludeMax;
  if (include_max) edges.back() = hi;  // close the range at the observed maximum itself
  std::vector<ReliabilityBin> bins = bins_over_edges(points, edges, include_max);
  if (!include_max) {
    std::size_t binned = 0;
    for (const ReliabilityBin& b : bins) binned += b.count;
    if (binned == 0)
      throw Error("ece_observed_range: all confidences are equal, so the reference's half-open bins hold no point");
  }
  return bins;
}

double ece_observed_range(std::span<const CalibrationPoint> points, std::size_t n_bins, ObservedRangeTop top) {
  return ece_from_bins(reliability_bins_observed_range(points, n_bins, top), points.size());
}

}  // namespace isc::metrics
