// Brier scores: the mean squared error of probabilistic answers, both over the whole option vector
// (multi-class) and over the single confidence of the scored answer (binary).
#pragma once
#include <span>
#include <vector>

#include "metrics/calibration.h"
#include "metrics/distribution_check.h"

namespace isc::metrics {

// Brier's original multi-class score: mean over items of Σ_k (p_k − [k == gold])², in [0, 2]
// (not divided by K). Throws isc::Error on empty input, mismatched lengths, a malformed
// distribution or a gold index outside [0, K).
double brier_multiclass(std::span<const std::vector<double>> distributions, std::span<const int> gold,
                        double tolerance = kDefaultProbabilityTolerance);

// Mean over points of (confidence − correct)², in [0, 1]. Throws isc::Error on empty input or a
// confidence outside [0, 1].
double brier_binary(std::span<const CalibrationPoint> points);

}  // namespace isc::metrics
