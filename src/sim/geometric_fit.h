// Geometric convergence curves y_t = y_∞ + (y_1 − y_∞)·ρ^{t−1} for a per-round series (mean option
// entropy, mean concept score): the least-squares fit, and a prediction from rounds 1–3 alone.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace isc::sim {

// Undefined results are empty with a reason beside them, never NaN; to_json writes
// {"unavailable": reason} in their place.

struct GeometricFitOptions {
  // A series whose range (max − min) is at most this is flat (nothing converges).
  double flat_tolerance = 1e-12;
  // ρ is searched on a grid of this many points strictly inside (−1, 1), then refined by golden
  // section in the best grid cell (the sum of squares need not be unimodal in ρ).
  int grid_points = 2001;
  double rho_tolerance = 1e-12;
  // A least-squares ρ within this of ±1 counts as |ρ| ≥ 1 (no geometric convergence).
  double rho_boundary = 1e-6;
};

struct SeriesPoint {
  int round = 0;  // 1-based
  double value = 0.0;
};

struct GeometricCurve {
  double y_limit = 0.0;  // y_∞
  double y_first = 0.0;  // y_1 (the curve's value at round 1)
  double rho = 0.0;
  std::vector<double> fitted;     // per series point
  std::vector<double> residuals;  // observed − fitted
  double sse = 0.0;
  std::optional<double> r2;       // 1 − SSE / SST (present: a flat series is never fitted)
  // The early curve only: mean |residual| over the rounds after 3 (empty when there are none).
  std::optional<double> later_mean_abs_error;

  double at(int round) const;  // the curve at any round
};

struct GeometricFitResult {
  std::string name;                 // what the series is ("mean option entropy", ...)
  std::vector<SeriesPoint> series;  // sorted by round
  std::optional<GeometricCurve> fit;  // least squares over all rounds (needs 4)
  std::string fit_unavailable;
  std::optional<GeometricCurve> early;  // from rounds 1, 2, 3 (exact through them), compared with the rest
  std::string early_unavailable;
};

// Throws isc::Error naming the series on a duplicate round, a round < 1 or a non-finite value;
// too few rounds, a flat series or |ρ| ≥ 1 are reported in the *_unavailable reasons.
GeometricFitResult fit_geometric(const std::string& name, std::vector<SeriesPoint> series,
                                 const GeometricFitOptions& options = {});

// Least-squares (y_∞, y_1 − y_∞) for a fixed ρ and its sum of squares (variable projection's
// inner problem); exposed for tests. Throws isc::Error when the two columns are collinear.
struct FixedRhoFit {
  double y_limit = 0.0, amplitude = 0.0, sse = 0.0;
};
FixedRhoFit fit_fixed_rho(const std::vector<SeriesPoint>& series, double rho);

nlohmann::json to_json(const GeometricFitResult& result);
// Lines for people, each ending in '\n': the fit, the early prediction, one line per round.
std::string to_text(const GeometricFitResult& result);

}  // namespace isc::sim
