// AUROC (Mann–Whitney with average ranks) and prediction–rejection curves; see selective_prediction.h.
#include "metrics/selective_prediction.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "common/error.h"
#include "metrics/correlation.h"

namespace isc::metrics {

std::optional<double> uncertainty_auroc(std::span<const double> uncertainty, std::span<const int> incorrect) {
  const std::size_t n = uncertainty.size();
  if (n == 0) throw Error("uncertainty_auroc: no samples");
  if (incorrect.size() != n)
    throw Error(fmt::format("uncertainty_auroc: {} uncertainties but {} labels", n, incorrect.size()));
  std::size_t n_pos = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(uncertainty[i])) throw Error(fmt::format("uncertainty_auroc: uncertainty {} is NaN", i));
    if (incorrect[i] != 0 && incorrect[i] != 1)
      throw Error(fmt::format("uncertainty_auroc: label {} is {}; expected 1 (incorrect) or 0 (correct)", i, incorrect[i]));
    n_pos += static_cast<std::size_t>(incorrect[i]);
  }
  const std::size_t n_neg = n - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::nullopt;
  std::vector<double> ranks(n);
  average_ranks(uncertainty, ranks);
  double rank_sum = 0.0;
  for (std::size_t i = 0; i < n; ++i)
    if (incorrect[i] == 1) rank_sum += ranks[i];
  const double np = static_cast<double>(n_pos), nn = static_cast<double>(n_neg);
  return (rank_sum - np * (np + 1.0) / 2.0) / (np * nn);
}

namespace {

// (1/R) Σ_{r<R} mean of the first n - r values, and those means, for values in keep-first order.
double rejection_area(const std::vector<double>& ordered, std::size_t n_rej, std::vector<double>& curve) {
  const std::size_t n = ordered.size();
  std::vector<double> prefix(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + ordered[i];
  curve.resize(n_rej);
  double area = 0.0;
  for (std::size_t r = 0; r < n_rej; ++r) {
    const std::size_t k = n - r;
    curve[r] = prefix[k] / static_cast<double>(k);
    area += curve[r];
  }
  return area / static_cast<double>(n_rej);
}

}  // namespace

PredictionRejection prediction_rejection(std::span<const double> uncertainty, std::span<const double> quality,
                                         double max_rejection) {
  const std::size_t n = uncertainty.size();
  if (n == 0) throw Error("prediction_rejection: no samples");
  if (quality.size() != n)
    throw Error(fmt::format("prediction_rejection: {} uncertainties but {} quality scores", n, quality.size()));
  if (!(max_rejection > 0.0 && max_rejection <= 1.0))
    throw Error(fmt::format("prediction_rejection: max_rejection {} is outside (0, 1]", max_rejection));
  const auto n_rej = static_cast<std::size_t>(max_rejection * static_cast<double>(n));
  if (n_rej == 0)
    throw Error(fmt::format("prediction_rejection: max_rejection {} of {} samples rejects none", max_rejection, n));
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(uncertainty[i])) throw Error(fmt::format("prediction_rejection: uncertainty {} is NaN", i));
    if (!std::isfinite(quality[i]))
      throw Error(fmt::format("prediction_rejection: quality {} is {}; needs a finite score", i, quality[i]));
  }

  // Most certain first; each run of tied uncertainties carries its mean quality (expectation over
  // random tie-breaking).
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return uncertainty[a] < uncertainty[b]; });
  std::vector<double> by_uncertainty(n);
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && uncertainty[order[j]] == uncertainty[order[i]]) ++j;
    double s = 0.0;
    for (std::size_t k = i; k < j; ++k) s += quality[order[k]];
    const double mean = s / static_cast<double>(j - i);
    for (std::size_t k = i; k < j; ++k) by_uncertainty[k] = j - i == 1 ? quality[order[k]] : mean;
    i = j;
  }
  std::vector<double> by_quality(quality.begin(), quality.end());
  std::sort(by_quality.begin(), by_quality.end(), std::greater<double>());

  PredictionRejection r;
  r.auc_uncertainty = rejection_area(by_uncertainty, n_rej, r.curve);
  r.auc_oracle = rejection_area(by_quality, n_rej, r.oracle_curve);
  double total = 0.0;
  for (double q : quality) total += q;
  r.auc_random = total / static_cast<double>(n);
  const bool constant = by_quality.front() == by_quality.back();
  const double span = r.auc_oracle - r.auc_random;
  if (!constant && n_rej >= 2 && span > 0.0) r.prr = (r.auc_uncertainty - r.auc_random) / span;
  return r;
}

}  // namespace isc::metrics
