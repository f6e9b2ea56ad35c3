// Brier scores; see brier.h.
// Both validate their input fully because a silently skipped row would change the mean.
#include "metrics/brier.h"

#include <fmt/format.h>

#include "common/error.h"

namespace isc::metrics {

double brier_multiclass(std::span<const std::vector<double>> distributions, std::span<const int> gold,
                        double tolerance) {
  if (distributions.size() != gold.size())
    throw Error(
        fmt::format("brier_multiclass: {} distributions but {} gold labels", distributions.size(), gold.size()));
  if (distributions.empty()) throw Error("brier_multiclass: no items");
  double total = 0.0;
  for (std::size_t i = 0; i < distributions.size(); ++i) {
    const std::vector<double>& p = distributions[i];
    check_distribution(p, "brier_multiclass", fmt::format("item {}", i), tolerance);
    if (gold[i] < 0 || static_cast<std::size_t>(gold[i]) >= p.size())
      throw Error(fmt::format("brier_multiclass: item {}: gold {} is outside [0, {})", i, gold[i], p.size()));
    for (std::size_t k = 0; k < p.size(); ++k) {
      const double target = static_cast<int>(k) == gold[i] ? 1.0 : 0.0;
      total += (p[k] - target) * (p[k] - target);
    }
  }
  return total / static_cast<double>(distributions.size());
}

double brier_binary(std::span<const CalibrationPoint> points) {
  if (points.empty()) throw Error("brier_binary: no points");
  double total = 0.0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const double c = points[i].confidence;
    if (!(c >= 0.0 && c <= 1.0))
      throw Error(fmt::format("brier_binary: confidence {} of point {} is outside [0, 1]", c, i));
    const double target = points[i].correct ? 1.0 : 0.0;
    total += (c - target) * (c - target);
  }
  return total / static_cast<double>(points.size());
}

}  // namespace isc::metrics
