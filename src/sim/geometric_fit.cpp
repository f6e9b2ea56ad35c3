// Geometric curve fits by variable projection (linear least squares for fixed ρ, then a 1-D search
// over ρ), and the three-round early prediction; see geometric_fit.h. Output in geometric_fit_output.cpp.
#include "sim/geometric_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "common/error.h"

namespace isc::sim {

namespace {

double power(double rho, int exponent) { return std::pow(rho, exponent); }  // pow(0, 0) = 1, as wanted

// The curve's fitted values, residuals and goodness of fit on the series.
void evaluate(GeometricCurve& c, const std::vector<SeriesPoint>& series) {
  double mean = 0.0;
  for (const SeriesPoint& p : series) mean += p.value;
  mean /= static_cast<double>(series.size());
  double sst = 0.0;
  c.fitted.clear();
  c.residuals.clear();
  c.sse = 0.0;
  for (const SeriesPoint& p : series) {
    const double f = c.at(p.round);
    c.fitted.push_back(f);
    c.residuals.push_back(p.value - f);
    c.sse += (p.value - f) * (p.value - f);
    sst += (p.value - mean) * (p.value - mean);
  }
  if (sst > 0.0) c.r2 = 1.0 - c.sse / sst;
}

double sse_at(const std::vector<SeriesPoint>& series, double rho) {
  try {
    return fit_fixed_rho(series, rho).sse;
  } catch (const Error&) {
    return std::numeric_limits<double>::infinity();  // ρ^{t−1} constant over the rounds: no fit here
  }
}

}  // namespace

double GeometricCurve::at(int round) const { return y_limit + (y_first - y_limit) * power(rho, round - 1); }

FixedRhoFit fit_fixed_rho(const std::vector<SeriesPoint>& series, double rho) {
  const double n = static_cast<double>(series.size());
  double gbar = 0.0, ybar = 0.0;
  for (const SeriesPoint& p : series) {
    gbar += power(rho, p.round - 1);
    ybar += p.value;
  }
  gbar /= n;
  ybar /= n;
  double sgg = 0.0, sgy = 0.0;
  for (const SeriesPoint& p : series) {
    const double g = power(rho, p.round - 1) - gbar;
    sgg += g * g;
    sgy += g * (p.value - ybar);
  }
  if (!(sgg > 0.0)) throw Error(fmt::format("fit_fixed_rho: rho = {} makes rho^(t-1) constant over the rounds", rho));
  FixedRhoFit f;
  f.amplitude = sgy / sgg;
  f.y_limit = ybar - f.amplitude * gbar;
  for (const SeriesPoint& p : series) {
    const double r = p.value - f.y_limit - f.amplitude * power(rho, p.round - 1);
    f.sse += r * r;
  }
  return f;
}

GeometricFitResult fit_geometric(const std::string& name, std::vector<SeriesPoint> series,
                                 const GeometricFitOptions& options) {
  if (options.grid_points < 3) throw Error(fmt::format("geometric fit '{}': grid_points must be >= 3", name));
  std::sort(series.begin(), series.end(), [](const SeriesPoint& a, const SeriesPoint& b) { return a.round < b.round; });
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (series[i].round < 1) throw Error(fmt::format("geometric fit '{}': round {} (rounds are 1-based)", name, series[i].round));
    if (!std::isfinite(series[i].value))
      throw Error(fmt::format("geometric fit '{}': the value at round {} is not finite", name, series[i].round));
    if (i && series[i].round == series[i - 1].round)
      throw Error(fmt::format("geometric fit '{}': round {} appears twice", name, series[i].round));
  }
  GeometricFitResult res;
  res.name = name;
  res.series = series;

  double lo = 0.0, hi = 0.0;
  if (!series.empty()) {
    const auto [a, b] = std::minmax_element(series.begin(), series.end(),
                                            [](const SeriesPoint& x, const SeriesPoint& y) { return x.value < y.value; });
    lo = a->value;
    hi = b->value;
  }
  const bool flat = !series.empty() && hi - lo <= options.flat_tolerance;
  const std::string flat_reason = fmt::format("the series is flat ({:.6g} at every round): nothing converges", lo);

  // Least squares over all rounds.
  if (series.size() < 4) {
    res.fit_unavailable = fmt::format("the fit needs at least 4 rounds; the series has {}", series.size());
  } else if (flat) {
    res.fit_unavailable = flat_reason;
  } else {
    const int n = options.grid_points;
    auto grid = [n](int i) { return -1.0 + 2.0 * (i + 1) / (n + 1); };
    int best = 0;
    double best_sse = std::numeric_limits<double>::infinity();
    for (int i = 0; i < n; ++i)
      if (const double s = sse_at(series, grid(i)); s < best_sse) best_sse = s, best = i;
    // Golden section on the neighbouring grid cells: the minimum lies within them unless the sum of
    // squares has a second dip narrower than a cell.
    double a = best > 0 ? grid(best - 1) : -1.0, b = best < n - 1 ? grid(best + 1) : 1.0;
    const double inv_phi = (std::sqrt(5.0) - 1.0) / 2.0;
    double c = b - inv_phi * (b - a), d = a + inv_phi * (b - a);
    double fc = sse_at(series, c), fd = sse_at(series, d);
    while (b - a > options.rho_tolerance) {
      if (fc <= fd) {
        b = d, d = c, fd = fc;
        c = b - inv_phi * (b - a);
        fc = sse_at(series, c);
      } else {
        a = c, c = d, fc = fd;
        d = a + inv_phi * (b - a);
        fd = sse_at(series, d);
      }
    }
    double rho = fc <= fd ? c : d;
    if (std::min(fc, fd) > best_sse) rho = grid(best);  // never worse than the grid
    if (std::fabs(rho) >= 1.0 - options.rho_boundary) {
      res.fit_unavailable = fmt::format(
          "the least-squares rho runs to {:+.6f}: |rho| >= 1, the series does not converge geometrically", rho);
    } else {
      const FixedRhoFit f = fit_fixed_rho(series, rho);
      GeometricCurve curve;
      curve.rho = rho;
      curve.y_limit = f.y_limit;
      curve.y_first = f.y_limit + f.amplitude;
      evaluate(curve, series);
      res.fit = std::move(curve);
    }
  }

  // The early prediction: exact through rounds 1, 2, 3.
  auto value_at = [&](int round) -> std::optional<double> {
    for (const SeriesPoint& p : series)
      if (p.round == round) return p.value;
    return std::nullopt;
  };
  const auto y1 = value_at(1), y2 = value_at(2), y3 = value_at(3);
  if (!y1 || !y2 || !y3) {
    res.early_unavailable = fmt::format("the early prediction needs rounds 1, 2 and 3; round {} is missing",
                                        !y1 ? 1 : !y2 ? 2 : 3);
  } else if (flat) {
    res.early_unavailable = flat_reason;
  } else if (*y2 == *y1) {
    res.early_unavailable = "rounds 1 and 2 have the same value: rho = (y3 - y2) / (y2 - y1) is undefined";
  } else {
    const double rho = (*y3 - *y2) / (*y2 - *y1);
    if (std::fabs(rho) >= 1.0) {
      res.early_unavailable = fmt::format("rho = {:.6g} from rounds 1-3: |rho| >= 1, the early curve does not converge", rho);
    } else {
      GeometricCurve curve;
      curve.rho = rho;
      curve.y_first = *y1;
      curve.y_limit = *y1 + (*y2 - *y1) / (1.0 - rho);
      evaluate(curve, series);
      double err = 0.0;
      std::size_t later = 0;
      for (std::size_t i = 0; i < series.size(); ++i)
        if (series[i].round > 3) err += std::fabs(curve.residuals[i]), ++later;
      if (later) curve.later_mean_abs_error = err / static_cast<double>(later);
      res.early = std::move(curve);
    }
  }
  return res;
}

}  // namespace isc::sim
