// A proportion with its Wilson score interval, the interval the mechanism analyses give every
// accuracy and transition probability (it stays inside [0, 1] and is sensible at 0 or n successes).
#pragma once
#include <cstddef>

#include <nlohmann/json.hpp>

namespace isc::sim {

struct Proportion {
  std::size_t successes = 0;
  std::size_t n = 0;
  double estimate = 0.0;  // successes / n
  double lower = 0.0, upper = 0.0;
  double level = 0.95;
};

// Wilson score interval: (p̂ + z²/2n ± z·sqrt(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n) with z the
// (1 + level)/2 normal quantile. Throws isc::Error when n == 0, successes > n or level is outside (0, 1).
Proportion wilson_interval(std::size_t successes, std::size_t n, double level = 0.95);

// Φ⁻¹(p) for p in (0, 1), to double precision (bisection on std::erfc). Throws isc::Error outside.
double normal_quantile(double p);

// {"estimate", "lower", "upper", "successes", "n", "level"}.
nlohmann::json to_json(const Proportion& p);

}  // namespace isc::sim
