// Percentile bootstrap confidence intervals over items: resample item indices with replacement,
// recompute any metric on each resample, and take the empirical quantiles. Seeded and reproducible.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <vector>

namespace isc::metrics {

struct BootstrapOptions {
  std::size_t resamples = 1000;
  double level = 0.95;     // two-sided: quantiles (1 − level)/2 and (1 + level)/2
  std::uint64_t seed = 0;  // std::mt19937_64 seed
};

struct Interval {
  double point = 0.0;  // the metric on all items (indices 0 … n−1 once each)
  double lower = 0.0;
  double upper = 0.0;
  double level = 0.0;
  std::size_t resamples = 0;       // resamples drawn
  std::size_t resamples_used = 0;  // resamples on which the metric was defined
};

// A metric over a multiset of item indices (a resample may repeat an index). It returns nullopt
// when undefined on that resample (e.g. a bias score with no non-UNKNOWN answers); a plain
// double-returning callable converts.
using ResampleMetric = std::function<std::optional<double>(std::span<const std::size_t> item_indices)>;

// Percentile bootstrap. Undefined resamples are left out and counted (resamples − resamples_used).
// Throws isc::Error on n_items == 0, resamples == 0, level outside (0, 1), a metric undefined on
// the full sample, or undefined on every resample.
Interval bootstrap_percentile(std::size_t n_items, const ResampleMetric& metric, const BootstrapOptions& options = {});

// Uniform integer in [0, n) from a 64-bit engine by rejection, so the draws (unlike those of
// std::uniform_int_distribution, whose algorithm each standard library picks) are identical on
// every platform for a given seed.
std::size_t uniform_index(std::mt19937_64& rng, std::size_t n);

// Quantile q in [0, 1] of sorted values with linear interpolation between order statistics
// (h = (n − 1)·q; numpy.quantile's default "linear" method).
double quantile_sorted(std::span<const double> sorted, double q);

// A seed for one (stream, tag) pair derived from a base seed with splitmix64, so that intervals of
// different metrics and rounds use independent, order-independent random streams.
std::uint64_t derive_seed(std::uint64_t base, std::uint64_t stream, std::uint64_t tag);

}  // namespace isc::metrics
