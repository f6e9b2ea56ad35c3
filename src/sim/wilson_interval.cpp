// Wilson score intervals and the normal quantile they need; see wilson_interval.h.
#include "sim/wilson_interval.h"

#include <cmath>
#include <string>

#include "common/error.h"

namespace isc::sim {

double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) throw Error("normal_quantile: p must lie in (0, 1), got " + std::to_string(p));
  // Φ(x) = erfc(−x/√2)/2 is monotone; bisection to the last bit is exact enough and needs no
  // tabled coefficients (the function is called a handful of times per analysis).
  double lo = -40.0, hi = 40.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid == lo || mid == hi) break;
    if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p) lo = mid; else hi = mid;
  }
  return 0.5 * (lo + hi);
}

Proportion wilson_interval(std::size_t successes, std::size_t n, double level) {
  if (n == 0) throw Error("wilson_interval: no observations");
  if (successes > n) throw Error("wilson_interval: " + std::to_string(successes) + " successes of " + std::to_string(n));
  if (!(level > 0.0 && level < 1.0)) throw Error("wilson_interval: level must lie in (0, 1)");
  const double z = normal_quantile(0.5 * (1.0 + level));
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  const double z2 = z * z;
  const double denom = 1.0 + z2 / nn;
  const double centre = (p + z2 / (2.0 * nn)) / denom;
  const double half = z * std::sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
  Proportion out;
  out.successes = successes;
  out.n = n;
  out.estimate = p;
  // Clamped: at 0 or n successes the formula gives 0 or 1 up to rounding.
  out.lower = std::max(0.0, centre - half);
  out.upper = std::min(1.0, centre + half);
  out.level = level;
  return out;
}

nlohmann::json to_json(const Proportion& p) {
  return {{"estimate", p.estimate}, {"lower", p.lower}, {"upper", p.upper},
          {"successes", p.successes}, {"n", p.n}, {"level", p.level}};
}

}  // namespace isc::sim
