// Validation of an option probability vector; see distribution_check.h.
// Messages name the metric, the row and the offending value so a bad store row is easy to find.
#include "metrics/distribution_check.h"

#include <fmt/format.h>

#include <cmath>

#include "common/error.h"

namespace isc::metrics {

void check_distribution(std::span<const double> probs, std::string_view metric, std::string_view where,
                        double tolerance) {
  const std::string place = where.empty() ? std::string(metric) : fmt::format("{}: {}", metric, where);
  if (probs.empty()) throw Error(fmt::format("{}: empty option probability vector", place));
  double sum = 0.0;
  for (std::size_t k = 0; k < probs.size(); ++k) {
    const double p = probs[k];
    if (!std::isfinite(p)) throw Error(fmt::format("{}: probability of option {} is not finite ({})", place, k, p));
    if (p < 0.0) throw Error(fmt::format("{}: probability of option {} is negative ({})", place, k, p));
    sum += p;
  }
  if (std::fabs(sum - 1.0) > tolerance)
    throw Error(
        fmt::format("{}: option probabilities sum to {:.9g}, expected 1 (tolerance {:g})", place, sum, tolerance));
}

}  // namespace isc::metrics
