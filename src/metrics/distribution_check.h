// Validation of an option probability vector (non-empty, finite, non-negative, summing to 1), shared
// by every metric that reads one, so each rejects a malformed vector with the same clear message.
#pragma once
#include <span>
#include <string_view>

namespace isc::metrics {

// Probabilities come normalised over the options; this absorbs only float rounding, not mistakes.
inline constexpr double kDefaultProbabilityTolerance = 1e-6;

// Throws isc::Error "<metric>: <where>: ..." naming what is wrong with `probs`.
void check_distribution(std::span<const double> probs, std::string_view metric, std::string_view where,
                        double tolerance = kDefaultProbabilityTolerance);

}  // namespace isc::metrics
