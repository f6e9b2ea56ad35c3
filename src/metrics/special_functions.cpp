// The distribution functions behind every p-value in isc: the regularized incomplete beta function
// (by its continued fraction) and the Student t, F and normal tail probabilities built on it.
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "common/error.h"
#include "metrics/regression.h"

namespace isc::metrics {

namespace {

// ln B(a, b) through lgamma: enough for the degrees of freedom isc meets (relative error of the
// result grows like eps · lgamma(a) for very large a, about 1e-10 at a = 1e6).
double log_beta(double a, double b) { return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b); }

// The continued fraction 1 / (1 + d1 / (1 + d2 / (1 + ...))) of I_x(a, b) (Abramowitz & Stegun
// 26.5.8), evaluated with the modified Lentz method. It converges fast for x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300;
  constexpr double eps = 1e-16;
  constexpr int max_terms = 20000;
  double f = 1.0, c = 1.0, d = 0.0;  // Lentz state for g = 1 + d1 / (1 + d2 / ...)
  for (int j = 1; j <= max_terms; ++j) {
    const int m = j / 2;
    double term;
    if (j % 2 == 1)  // d_{2m+1}
      term = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
    else  // d_{2m}
      term = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
    d = 1.0 + term * d;
    if (std::fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    c = 1.0 + term / c;
    if (std::fabs(c) < tiny) c = tiny;
    const double delta = c * d;
    f *= delta;
    if (std::fabs(delta - 1.0) < eps) return 1.0 / f;
  }
  throw Error(fmt::format("regularized_incomplete_beta: continued fraction did not converge (a={}, b={}, x={})", a, b, x));
}

// I_x(a, b) with y = 1 − x passed separately, so callers that know 1 − x exactly (tail
// probabilities near 1) lose no digits to the subtraction.
double incomplete_beta(double a, double b, double x, double y) {
  if (x <= 0.0) return 0.0;
  if (y <= 0.0) return 1.0;
  // Evaluate the fraction on whichever side it converges quickly; the other side by symmetry.
  const bool swap = x > (a + 1.0) / (a + b + 2.0);
  if (swap) {
    std::swap(a, b);
    std::swap(x, y);
  }
  const double front = std::exp(a * std::log(x) + b * std::log(y) - log_beta(a, b)) / a;
  const double value = front * beta_continued_fraction(a, b, x);
  return swap ? 1.0 - value : value;
}

void check_finite_positive(double v, const char* what, const char* fn) {
  if (!std::isfinite(v) || v <= 0.0) throw Error(fmt::format("{}: {} must be finite and > 0, got {}", fn, what, v));
}

}  // namespace

double regularized_incomplete_beta(double a, double b, double x) {
  check_finite_positive(a, "a", "regularized_incomplete_beta");
  check_finite_positive(b, "b", "regularized_incomplete_beta");
  if (!(x >= 0.0 && x <= 1.0)) throw Error(fmt::format("regularized_incomplete_beta: x must be in [0, 1], got {}", x));
  return incomplete_beta(a, b, x, 1.0 - x);
}

// P(|T| >= |t|) for T ~ Student t(df) = I_{df/(df+t²)}(df/2, 1/2).
double student_t_two_sided_p(double t, double df) {
  check_finite_positive(df, "df", "student_t_two_sided_p");
  if (std::isnan(t)) throw Error("student_t_two_sided_p: t is NaN");
  if (std::isinf(t)) return 0.0;
  const double t2 = t * t;
  return incomplete_beta(df / 2.0, 0.5, df / (df + t2), t2 / (df + t2));
}

// P(F >= f) for F ~ F(df1, df2) = I_{df2/(df2+df1·f)}(df2/2, df1/2).
double f_distribution_sf(double f, double df1, double df2) {
  check_finite_positive(df1, "df1", "f_distribution_sf");
  check_finite_positive(df2, "df2", "f_distribution_sf");
  if (std::isnan(f)) throw Error("f_distribution_sf: f is NaN");
  if (f <= 0.0) return 1.0;
  if (std::isinf(f)) return 0.0;
  const double denom = df2 + df1 * f;
  return incomplete_beta(df2 / 2.0, df1 / 2.0, df2 / denom, df1 * f / denom);
}

// P(|Z| >= |z|) for a standard normal Z.
double normal_two_sided_p(double z) {
  if (std::isnan(z)) throw Error("normal_two_sided_p: z is NaN");
  return std::erfc(std::fabs(z) / std::sqrt(2.0));
}

}  // namespace isc::metrics
