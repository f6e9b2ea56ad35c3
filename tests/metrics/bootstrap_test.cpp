// Tests of the seeded percentile bootstrap: quantiles against numpy, determinism under a seed,
// coverage on a known distribution, the interval holding the point estimate, undefined resamples.
#include "metrics/bootstrap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "common/error.h"

namespace isc::metrics {
namespace {

ResampleMetric mean_of(const std::vector<double>& v) {
  return [&v](std::span<const std::size_t> idx) -> std::optional<double> {
    double s = 0.0;
    for (std::size_t i : idx) s += v[i];
    return s / static_cast<double>(idx.size());
  };
}

TEST(Quantile, MatchesNumpyLinear) {
  // np.quantile([3, -1, 2.5, 7, 0, 4.25], q) for q = 0, 0.025, 0.5, 0.975, 1 (numpy 2.4.6):
  //   -1.0, -0.875, 2.75, 6.65625, 7.0     e.g. q = 0.025: h = 5 · 0.025 = 0.125 → -1 + 0.125 · 1
  const std::vector<double> sorted{-1.0, 0.0, 2.5, 3.0, 4.25, 7.0};
  EXPECT_DOUBLE_EQ(quantile_sorted(sorted, 0.0), -1.0);
  EXPECT_DOUBLE_EQ(quantile_sorted(sorted, 0.025), -0.875);
  EXPECT_DOUBLE_EQ(quantile_sorted(sorted, 0.5), 2.75);
  EXPECT_DOUBLE_EQ(quantile_sorted(sorted, 0.975), 6.65625);
  EXPECT_DOUBLE_EQ(quantile_sorted(sorted, 1.0), 7.0);
  EXPECT_THROW(quantile_sorted(std::vector<double>{}, 0.5), Error);
  EXPECT_THROW(quantile_sorted(sorted, 1.5), Error);
}

TEST(UniformIndex, InRangeAndRoughlyUniform) {
  std::mt19937_64 rng(123);
  EXPECT_EQ(uniform_index(rng, 1), 0u);
  // 70000 draws over 7 cells: chi-square with 6 dof; 22.46 is its 0.999 quantile
  std::vector<double> counts(7, 0.0);
  for (int i = 0; i < 70000; ++i) {
    const std::size_t k = uniform_index(rng, 7);
    ASSERT_LT(k, 7u);
    counts[k] += 1.0;
  }
  double chi2 = 0.0;
  for (double c : counts) chi2 += (c - 10000.0) * (c - 10000.0) / 10000.0;
  EXPECT_LT(chi2, 22.46);
  EXPECT_THROW(uniform_index(rng, 0), Error);
}

TEST(UniformIndex, FixedSequenceForASeed) {
  // the draws depend only on mt19937_64 (fully specified by the standard) and our rejection rule;
  // for n = 2^k there is no rejection, so the draw is the engine output mod n
  std::mt19937_64 a(5), b(5);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(uniform_index(a, 8), b() % 8);
}

TEST(Bootstrap, DeterministicUnderSeed) {
  const std::vector<double> v{1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0};
  const BootstrapOptions o{500, 0.95, 42};
  const Interval a = bootstrap_percentile(v.size(), mean_of(v), o);
  const Interval b = bootstrap_percentile(v.size(), mean_of(v), o);
  EXPECT_EQ(a.lower, b.lower);
  EXPECT_EQ(a.upper, b.upper);
  const Interval c = bootstrap_percentile(v.size(), mean_of(v), {500, 0.95, 43});
  EXPECT_TRUE(c.lower != a.lower || c.upper != a.upper);
  EXPECT_EQ(a.resamples, 500u);
  EXPECT_EQ(a.resamples_used, 500u);
  EXPECT_DOUBLE_EQ(a.level, 0.95);
}

TEST(Bootstrap, IntervalContainsPointEstimate) {
  // 7 of 12 right: point 7/12; the interval brackets it and lies within [0, 1]
  const std::vector<double> v{1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0};
  const Interval i = bootstrap_percentile(v.size(), mean_of(v));
  EXPECT_DOUBLE_EQ(i.point, 7.0 / 12.0);
  EXPECT_LE(i.lower, i.point);
  EXPECT_GE(i.upper, i.point);
  EXPECT_GE(i.lower, 0.0);
  EXPECT_LE(i.upper, 1.0);
  EXPECT_LT(i.lower, i.upper);
  // a wider level gives a wider interval (same seed, same resamples)
  const Interval wide = bootstrap_percentile(v.size(), mean_of(v), {1000, 0.99, 0});
  EXPECT_LE(wide.lower, i.lower);
  EXPECT_GE(wide.upper, i.upper);
}

TEST(Bootstrap, ConstantDataGivesDegenerateInterval) {
  const std::vector<double> v(9, 0.25);
  const Interval i = bootstrap_percentile(v.size(), mean_of(v));
  EXPECT_DOUBLE_EQ(i.lower, 0.25);
  EXPECT_DOUBLE_EQ(i.upper, 0.25);
}

TEST(Bootstrap, CoverageOnKnownDistribution) {
  // Bernoulli(0.3) samples of n = 60: the 95% interval of the mean should cover 0.3 about 95% of the
  // time (the percentile bootstrap runs a little under at this n); 300 trials put the estimate's
  // standard error near 1.3 points, so [0.88, 0.99] is a loose but meaningful band.
  std::mt19937_64 data_rng(2024);
  std::bernoulli_distribution coin(0.3);
  int covered = 0;
  const int trials = 300;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> v(60);
    for (double& x : v) x = coin(data_rng) ? 1.0 : 0.0;
    const Interval i = bootstrap_percentile(v.size(), mean_of(v), {400, 0.95, static_cast<std::uint64_t>(t)});
    if (i.lower <= 0.3 && 0.3 <= i.upper) ++covered;
  }
  const double coverage = static_cast<double>(covered) / trials;
  EXPECT_GE(coverage, 0.88);
  EXPECT_LE(coverage, 0.99);
}

TEST(Bootstrap, UndefinedResamplesAreSkippedAndCounted) {
  // undefined whenever item 0 is not drawn: P = (4/5)^5 ≈ 0.33 per resample
  const std::vector<double> v{1, 2, 3, 4, 5};
  const ResampleMetric needs_item_0 = [&v](std::span<const std::size_t> idx) -> std::optional<double> {
    if (std::find(idx.begin(), idx.end(), 0u) == idx.end()) return std::nullopt;
    double s = 0.0;
    for (std::size_t i : idx) s += v[i];
    return s / static_cast<double>(idx.size());
  };
  const Interval i = bootstrap_percentile(v.size(), needs_item_0, {1000, 0.95, 7});
  EXPECT_LT(i.resamples_used, 800u);
  EXPECT_GT(i.resamples_used, 550u);
}

TEST(Bootstrap, RejectsBadInput) {
  const std::vector<double> v{1.0, 2.0};
  EXPECT_THROW(bootstrap_percentile(0, mean_of(v)), Error);
  EXPECT_THROW(bootstrap_percentile(2, mean_of(v), {0, 0.95, 0}), Error);
  EXPECT_THROW(bootstrap_percentile(2, mean_of(v), {10, 1.0, 0}), Error);
  EXPECT_THROW(bootstrap_percentile(2, mean_of(v), {10, 0.0, 0}), Error);
  const ResampleMetric never = [](std::span<const std::size_t>) -> std::optional<double> { return std::nullopt; };
  EXPECT_THROW(bootstrap_percentile(2, never), Error);
  // defined on the full sample only (indices 0..n-1 in order)
  const ResampleMetric only_full = [](std::span<const std::size_t> idx) -> std::optional<double> {
    for (std::size_t k = 0; k < idx.size(); ++k)
      if (idx[k] != k) return std::nullopt;
    return 1.0;
  };
  EXPECT_THROW(bootstrap_percentile(40, only_full, {50, 0.95, 0}), Error);
}

TEST(DeriveSeed, DistinctPerStreamAndTag) {
  EXPECT_EQ(derive_seed(1, 2, 3), derive_seed(1, 2, 3));
  EXPECT_NE(derive_seed(1, 2, 3), derive_seed(1, 3, 2));
  EXPECT_NE(derive_seed(1, 2, 3), derive_seed(2, 2, 3));
  EXPECT_NE(derive_seed(0, 1, 1), derive_seed(0, 1, 2));
}

}  // namespace
}  // namespace isc::metrics
