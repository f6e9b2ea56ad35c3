// Empirical rank-calibration error and indication diagram; the estimator is spelled out in rank_calibration.h.
// Counting "#{j : reg_j >= reg_i}" is done per bin (all members share reg), so the cost is O(n log n + B^2).
#include "metrics/rank_calibration.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"

namespace isc::metrics {

RankCalibration rank_calibration(std::span<const double> uncertainty, std::span<const double> quality,
                                 std::size_t n_bins, int p) {
  const std::size_t n = uncertainty.size();
  if (quality.size() != n)
    throw Error(fmt::format("rank_calibration: {} uncertainties but {} quality scores", n, quality.size()));
  if (n < 2) throw Error(fmt::format("rank_calibration: {} sample(s); needs at least 2 (ranks divide by n - 1)", n));
  if (n_bins == 0) throw Error("rank_calibration: n_bins is 0");
  if (p != 1 && p != 2) throw Error(fmt::format("rank_calibration: p = {}; only 1 and 2 are defined", p));
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(uncertainty[i])) throw Error(fmt::format("rank_calibration: uncertainty {} is NaN", i));
    if (!std::isfinite(quality[i]))
      throw Error(fmt::format("rank_calibration: quality {} is {}; needs a finite score", i, quality[i]));
  }

  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return uncertainty[a] < uncertainty[b]; });

  // Bin edges as numpy.linspace(0, n, B + 1) rounded half to even (Python's round on a float).
  const double step = static_cast<double>(n) / static_cast<double>(n_bins);
  std::vector<std::size_t> edges(n_bins + 1);
  for (std::size_t k = 0; k < n_bins; ++k) edges[k] = static_cast<std::size_t>(std::nearbyint(static_cast<double>(k) * step));
  edges[n_bins] = n;

  RankCalibration r;
  r.n = n;
  r.n_bins = n_bins;
  const double denom = static_cast<double>(n - 1);
  for (std::size_t b = 0; b < n_bins; ++b) {
    const std::size_t lo = edges[b], hi = edges[b + 1];
    if (hi <= lo) continue;
    RankCalibrationBin bin;
    bin.begin = lo;
    bin.count = hi - lo;
    bin.uncertainty_lower = uncertainty[order[lo]];
    bin.uncertainty_upper = uncertainty[order[hi - 1]];
    double sum = 0.0;
    for (std::size_t i = lo; i < hi; ++i) sum += quality[order[i]];
    bin.mean_quality = sum / static_cast<double>(bin.count);
    bin.uncertainty_rank = (static_cast<double>(lo) + 0.5 * static_cast<double>(bin.count - 1)) / denom;
    r.bins.push_back(bin);
  }

  for (RankCalibrationBin& bin : r.bins) {
    std::size_t at_least = 0, at_most = 0;  // samples j with reg_j >= reg_b, reg_j <= reg_b
    for (const RankCalibrationBin& other : r.bins) {
      if (other.mean_quality >= bin.mean_quality) at_least += other.count;
      if (other.mean_quality <= bin.mean_quality) at_most += other.count;
    }
    const double detie = 0.5 * static_cast<double>(bin.count - 1) / denom;
    bin.quality_rank_from_top = static_cast<double>(at_least - 1) / denom - detie;
    bin.quality_rank = static_cast<double>(at_most - 1) / denom - detie;
  }

  double rce = 0.0, deviation = 0.0;
  for (const RankCalibrationBin& bin : r.bins) {
    for (std::size_t i = bin.begin; i < bin.begin + bin.count; ++i) {
      const double d = std::abs(bin.quality_rank_from_top - static_cast<double>(i) / denom);
      rce += p == 1 ? d : d * d;
    }
    deviation += static_cast<double>(bin.count) * std::abs(bin.quality_rank - (1.0 - bin.uncertainty_rank));
  }
  r.rce = rce / static_cast<double>(n);
  r.diagram_deviation = deviation / static_cast<double>(n);
  return r;
}

double rank_calibration_error(std::span<const double> uncertainty, std::span<const double> quality, std::size_t n_bins,
                              int p) {
  return rank_calibration(uncertainty, quality, n_bins, p).rce;
}

}  // namespace isc::metrics
