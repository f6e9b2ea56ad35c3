// Predictive entropy of the option distribution at the answer position: the model's uncertainty
// over the answer choices, in nats, and normalised by log K so tasks with different K compare.
#pragma once
#include <span>
#include <vector>

#include "metrics/distribution_check.h"

namespace isc::metrics {

// H(p) = -Σ_k p_k ln p_k, with 0 · ln 0 = 0. Throws isc::Error unless p is a distribution.
double entropy_nats(std::span<const double> probs, double tolerance = kDefaultProbabilityTolerance);
// H(p) / ln K, in [0, 1]. Needs K >= 2 (ln 1 = 0 leaves it undefined).
double normalized_entropy(std::span<const double> probs, double tolerance = kDefaultProbabilityTolerance);

struct EntropySummary {
  std::vector<double> per_item;             // nats, in input order
  std::vector<double> per_item_normalized;  // per_item[i] / ln K_i
  double mean = 0.0;
  double mean_normalized = 0.0;
};

// Per-item and mean entropy over a set of option distributions (K may differ between items).
// Throws isc::Error on an empty set or any malformed distribution (naming its index).
EntropySummary entropy_summary(std::span<const std::vector<double>> distributions,
                               double tolerance = kDefaultProbabilityTolerance);

}  // namespace isc::metrics
