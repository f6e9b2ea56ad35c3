// Pearson's r and Spearman's rho with scipy's two-sided p-values (Student t, n − 2 df); inputs are
// validated so a constant or short sample is an error that says so, never a NaN.
#include "metrics/correlation.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "metrics/regression.h"

namespace isc::metrics {

namespace {

void check_sample(std::span<const double> x, std::span<const double> y, const char* fn) {
  if (x.size() != y.size()) throw Error(fmt::format("{}: x has {} values but y has {}", fn, x.size(), y.size()));
  if (x.size() < 3) throw Error(fmt::format("{}: needs at least 3 pairs, got {}", fn, x.size()));
  for (size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
      throw Error(fmt::format("{}: value {} is not finite (x={}, y={})", fn, i, x[i], y[i]));
}

double mean_of(std::span<const double> v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); }

// r from centred sums; p from t = r·sqrt((n−2)/(1−r²)), which is what scipy's beta-distribution
// formulation of pearsonr's p-value reduces to.
Correlation pearson_unchecked(std::span<const double> x, std::span<const double> y, const char* fn) {
  const double mx = mean_of(x), my = mean_of(y);
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0.0) throw Error(fmt::format("{}: x is constant (correlation undefined)", fn));
  if (syy == 0.0) throw Error(fmt::format("{}: y is constant (correlation undefined)", fn));
  Correlation c;
  c.n = static_cast<int64_t>(x.size());
  c.r = std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
  const double df = double(c.n - 2);
  const double one_minus_r2 = (1.0 - c.r) * (1.0 + c.r);
  c.p_value = one_minus_r2 <= 0.0 ? 0.0 : student_t_two_sided_p(c.r * std::sqrt(df / one_minus_r2), df);
  return c;
}

}  // namespace

Correlation pearson(std::span<const double> x, std::span<const double> y) {
  check_sample(x, y, "pearson");
  return pearson_unchecked(x, y, "pearson");
}

void average_ranks(std::span<const double> x, std::span<double> ranks) {
  if (ranks.size() != x.size())
    throw Error(fmt::format("average_ranks: {} values but room for {} ranks", x.size(), ranks.size()));
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  // A run of equal values at sorted positions [i, j) shares the mean of ranks i+1 .. j.
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && x[order[j]] == x[order[i]]) ++j;
    const double rank = 0.5 * double(i + 1 + j);
    for (size_t k = i; k < j; ++k) ranks[order[k]] = rank;
    i = j;
  }
}

Correlation spearman(std::span<const double> x, std::span<const double> y) {
  check_sample(x, y, "spearman");
  std::vector<double> rx(x.size()), ry(y.size());
  average_ranks(x, rx);
  average_ranks(y, ry);
  return pearson_unchecked(rx, ry, "spearman");
}

}  // namespace isc::metrics
