// Predictive entropy over answer options; see entropy.h.
// Validation happens here too because a distribution that does not sum to 1 gives a meaningless entropy.
#include "metrics/entropy.h"

#include <fmt/format.h>

#include <cmath>

#include "common/error.h"

namespace isc::metrics {

namespace {

double entropy_unchecked(std::span<const double> probs) {
  double h = 0.0;
  for (double p : probs)
    if (p > 0.0) h -= p * std::log(p);
  return h;
}

}  // namespace

double entropy_nats(std::span<const double> probs, double tolerance) {
  check_distribution(probs, "entropy", "", tolerance);
  return entropy_unchecked(probs);
}

double normalized_entropy(std::span<const double> probs, double tolerance) {
  check_distribution(probs, "normalized_entropy", "", tolerance);
  if (probs.size() < 2)
    throw Error(fmt::format("normalized_entropy: {} option(s); needs at least 2 (ln 1 = 0)", probs.size()));
  return entropy_unchecked(probs) / std::log(static_cast<double>(probs.size()));
}

EntropySummary entropy_summary(std::span<const std::vector<double>> distributions, double tolerance) {
  if (distributions.empty()) throw Error("entropy_summary: no distributions");
  EntropySummary s;
  s.per_item.reserve(distributions.size());
  s.per_item_normalized.reserve(distributions.size());
  for (std::size_t i = 0; i < distributions.size(); ++i) {
    const std::vector<double>& p = distributions[i];
    check_distribution(p, "entropy_summary", fmt::format("item {}", i), tolerance);
    if (p.size() < 2) throw Error(fmt::format("entropy_summary: item {}: {} option(s); needs at least 2", i, p.size()));
    const double h = entropy_unchecked(p);
    s.per_item.push_back(h);
    s.per_item_normalized.push_back(h / std::log(static_cast<double>(p.size())));
  }
  for (std::size_t i = 0; i < s.per_item.size(); ++i) {
    s.mean += s.per_item[i];
    s.mean_normalized += s.per_item_normalized[i];
  }
  s.mean /= static_cast<double>(s.per_item.size());
  s.mean_normalized /= static_cast<double>(s.per_item.size());
  return s;
}

}  // namespace isc::metrics
