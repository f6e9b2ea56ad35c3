// state_change and predicted_remaining_change (see predicted_change.h).
#include "metrics/predicted_change.h"

#include <cmath>

#include <fmt/format.h>

#include "common/error.h"

namespace isc::metrics {

double state_change(std::span<const double> a, std::span<const double> b) {
  if (a.empty() || a.size() != b.size())
    throw Error(fmt::format("predicted change: states of size {} and {} (expected equal, non-zero sizes)", a.size(),
                            b.size()));
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i]))
      throw Error(fmt::format("predicted change: state value {} is not finite", i));
    sum += std::fabs(a[i] - b[i]);
  }
  return a.size() == 1 ? sum : 0.5 * sum;
}

std::optional<double> predicted_remaining_change(std::span<const std::vector<double>> states) {
  const std::size_t n = states.size();
  if (n < 3) return std::nullopt;
  const double previous = state_change(states[n - 3], states[n - 2]);
  const double last = state_change(states[n - 2], states[n - 1]);
  if (last == 0.0) return 0.0;
  if (previous == 0.0) return std::nullopt;
  const double ratio = last / previous;
  if (ratio >= 1.0) return std::nullopt;
  return last * ratio / (1.0 - ratio);
}

bool predicted_settled(std::span<const std::vector<double>> states, double epsilon) {
  if (!(epsilon > 0.0) || !std::isfinite(epsilon))
    throw Error(fmt::format("predict-stop: epsilon {} must be a finite number > 0", epsilon));
  const std::optional<double> remaining = predicted_remaining_change(states);
  return remaining && *remaining < epsilon;
}

}  // namespace isc::metrics
