// Percentile bootstrap over items; see bootstrap.h.
// Index drawing is our own rejection sampler so that a seed gives the same interval with any standard library.
#include "metrics/bootstrap.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/error.h"

namespace isc::metrics {

std::size_t uniform_index(std::mt19937_64& rng, std::size_t n) {
  if (n == 0) throw Error("uniform_index: empty range");
  static_assert(std::mt19937_64::min() == 0 && std::mt19937_64::max() == std::numeric_limits<std::uint64_t>::max());
  const std::uint64_t range = static_cast<std::uint64_t>(n);
  // 2^64 mod n values at the top of the engine's range would favour small residues: reject them
  const std::uint64_t excess = (std::numeric_limits<std::uint64_t>::max() % range + 1) % range;
  if (excess == 0) return static_cast<std::size_t>(rng() % range);
  const std::uint64_t accept_below = 0 - excess;  // 2^64 − excess, by unsigned wrap-around
  for (;;) {
    const std::uint64_t x = rng();
    if (x < accept_below) return static_cast<std::size_t>(x % range);
  }
}

double quantile_sorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) throw Error("quantile_sorted: no values");
  if (!(q >= 0.0 && q <= 1.0)) throw Error(fmt::format("quantile_sorted: q = {} is outside [0, 1]", q));
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

std::uint64_t derive_seed(std::uint64_t base, std::uint64_t stream, std::uint64_t tag) {
  // splitmix64 finaliser applied to a mix of the three inputs
  auto mix = [](std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return mix(base ^ mix(stream ^ mix(tag)));
}

Interval bootstrap_percentile(std::size_t n_items, const ResampleMetric& metric, const BootstrapOptions& options) {
  if (n_items == 0) throw Error("bootstrap_percentile: no items");
  if (options.resamples == 0) throw Error("bootstrap_percentile: resamples is 0");
  if (!(options.level > 0.0 && options.level < 1.0))
    throw Error(fmt::format("bootstrap_percentile: level {} is outside (0, 1)", options.level));
  std::vector<std::size_t> indices(n_items);
  std::iota(indices.begin(), indices.end(), std::size_t{0});
  const std::optional<double> point = metric(indices);
  if (!point) throw Error("bootstrap_percentile: the metric is undefined on the full sample");

  std::mt19937_64 rng(options.seed);
  std::vector<double> stats;
  stats.reserve(options.resamples);
  for (std::size_t b = 0; b < options.resamples; ++b) {
    for (std::size_t& i : indices) i = uniform_index(rng, n_items);
    if (const std::optional<double> v = metric(indices)) {
      if (!std::isfinite(*v))
        throw Error(fmt::format("bootstrap_percentile: metric returned {} on resample {}", *v, b));
      stats.push_back(*v);
    }
  }
  if (stats.empty()) throw Error("bootstrap_percentile: the metric is undefined on every resample");
  std::sort(stats.begin(), stats.end());
  const double tail = (1.0 - options.level) / 2.0;
  Interval out;
  out.point = *point;
  out.lower = quantile_sorted(stats, tail);
  out.upper = quantile_sorted(stats, 1.0 - tail);
  out.level = options.level;
  out.resamples = options.resamples;
  out.resamples_used = stats.size();
  return out;
}

}  // namespace isc::metrics
