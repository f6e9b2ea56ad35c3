// Correlation of two paired samples: Pearson's r and Spearman's rho (average ranks for ties), each
// with its two-sided p-value from Student's t with n − 2 degrees of freedom (as scipy.stats does).
#pragma once
#include <cstdint>
#include <span>

namespace isc::metrics {

struct Correlation {
  double r = 0.0;
  double p_value = 1.0;
  int64_t n = 0;
};

// Throws isc::Error when n < 3, the lengths differ, a value is not finite, or either sample is
// constant (r is undefined there; scipy returns NaN, we say why).
Correlation pearson(std::span<const double> x, std::span<const double> y);
Correlation spearman(std::span<const double> x, std::span<const double> y);

// Ranks 1..n with ties given their average rank (scipy.stats.rankdata's "average").
void average_ranks(std::span<const double> x, std::span<double> ranks);

}  // namespace isc::metrics
