// Tests of the distribution functions (closed forms of I_x(a, b), Student t, F, normal tails), OLS on
// a hand-solved line, logistic regression (saturated two-group MLE, L2 optimality, separation,
// constant columns, standardisation) and the errors.
#include "metrics/regression.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "common/error.h"

namespace isc::metrics {
namespace {

Matrix column(const std::vector<double>& v) {
  Matrix m(static_cast<int64_t>(v.size()), 1);
  for (size_t i = 0; i < v.size(); ++i) m.at(static_cast<int64_t>(i), 0) = v[i];
  return m;
}

TEST(SpecialFunctions, IncompleteBetaClosedForms) {
  for (double x : {0.0, 0.01, 0.3, 0.5, 0.77, 0.999, 1.0}) {
    EXPECT_NEAR(regularized_incomplete_beta(1, 1, x), x, 1e-14);                         // uniform CDF
    EXPECT_NEAR(regularized_incomplete_beta(3.5, 1, x), std::pow(x, 3.5), 1e-14);        // I_x(a,1) = x^a
    EXPECT_NEAR(regularized_incomplete_beta(1, 2.5, x), 1 - std::pow(1 - x, 2.5), 1e-14);  // I_x(1,b)
  }
  EXPECT_NEAR(regularized_incomplete_beta(7.3, 7.3, 0.5), 0.5, 1e-14);  // symmetry
  // arcsine law: I_x(1/2, 1/2) = (2/π) asin(√x)
  EXPECT_NEAR(regularized_incomplete_beta(0.5, 0.5, 0.2), 2 / std::numbers::pi * std::asin(std::sqrt(0.2)), 1e-14);
  EXPECT_THROW(regularized_incomplete_beta(0, 1, 0.5), Error);
  EXPECT_THROW(regularized_incomplete_beta(1, 1, 1.5), Error);
}

TEST(SpecialFunctions, TailProbabilities) {
  // t with 1 df is Cauchy; with 2 df, P(|T| > t) = 1 − t/√(t² + 2).
  EXPECT_NEAR(student_t_two_sided_p(1.0, 1), 0.5, 1e-14);
  EXPECT_NEAR(student_t_two_sided_p(-3.0, 2), 1 - 3 / std::sqrt(11.0), 1e-14);
  EXPECT_DOUBLE_EQ(student_t_two_sided_p(0.0, 5), 1.0);
  EXPECT_DOUBLE_EQ(student_t_two_sided_p(std::numeric_limits<double>::infinity(), 5), 0.0);
  // F(2, d2): P(F > f) = (1 + 2f/d2)^(−d2/2).
  EXPECT_NEAR(f_distribution_sf(1.7, 2, 9), std::pow(1 + 2 * 1.7 / 9, -4.5), 1e-14);
  EXPECT_DOUBLE_EQ(f_distribution_sf(0.0, 3, 9), 1.0);
  EXPECT_NEAR(normal_two_sided_p(1.959963984540054), 0.05, 1e-15);
  EXPECT_NEAR(normal_two_sided_p(-1.0), 0.31731050786291415, 1e-15);  // scipy: 2·norm.sf(1)
  EXPECT_THROW(student_t_two_sided_p(1.0, 0.0), Error);
  EXPECT_THROW(normal_two_sided_p(std::nan("")), Error);
}

TEST(Ols, HandSolvedLine) {
  // x = 0..3, y = 1,3,2,5: slope = Sxy/Sxx = 5.5/5 = 1.1, intercept = 2.75 − 1.1·1.5 = 1.1;
  // residuals −0.1, 0.8, −1.3, 0.6 → SSR = 2.7, SST = 8.75, σ² = 2.7/2.
  const OlsFit f = ols(column({0, 1, 2, 3}), {1, 3, 2, 5});
  EXPECT_NEAR(f.intercept, 1.1, 1e-13);
  ASSERT_EQ(f.coef.size(), 1u);
  EXPECT_NEAR(f.coef[0], 1.1, 1e-13);
  EXPECT_NEAR(f.r2, 1 - 2.7 / 8.75, 1e-13);
  EXPECT_NEAR(f.adj_r2, 1 - (2.7 / 8.75) * 3 / 2, 1e-13);
  const double se_slope = std::sqrt(1.35 / 5), se_int = std::sqrt(1.35 * (0.25 + 2.25 / 5));
  EXPECT_NEAR(f.std_errors[0], se_int, 1e-13);
  EXPECT_NEAR(f.std_errors[1], se_slope, 1e-13);
  const double t = 1.1 / se_slope;
  EXPECT_NEAR(f.t_values[1], t, 1e-12);
  EXPECT_NEAR(f.p_values[1], 1 - t / std::sqrt(t * t + 2), 1e-13);  // 2 df closed form
  EXPECT_NEAR(f.f_stat, t * t, 1e-11);                               // one regressor: F = t²
  EXPECT_NEAR(f.f_p_value, f.p_values[1], 1e-13);
  EXPECT_EQ(f.n, 4);
}

TEST(Ols, Errors) {
  EXPECT_THROW(ols(column({1, 2}), {1, 2}), Error);                // n <= k + 1
  EXPECT_THROW(ols(column({1, 1, 1, 1}), {1, 2, 3, 4}), Error);    // constant column
  EXPECT_THROW(ols(column({1, 2, 3, 4}), {2, 2, 2, 2}), Error);    // constant y
  EXPECT_THROW(ols(column({1, 2, 3, 4}), {2, 4, 6, 8}), Error);    // perfect fit: SE would be 0
  EXPECT_THROW(ols(column({1, 2, 3}), {1, 2}), Error);             // shapes
  Matrix collinear(5, 2);
  for (int64_t r = 0; r < 5; ++r) collinear.at(r, 0) = double(r), collinear.at(r, 1) = 3.0 * double(r) + 1;
  try {
    ols(collinear, {1, 3, 2, 5, 4});
    FAIL() << "collinear columns accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("singular"), std::string::npos) << e.what();
  }
}

TEST(Logistic, SaturatedTwoGroupMle) {
  // x = 0: y = 1,0,0 (p = 1/3); x = 1: y = 1,1,0 (p = 2/3). The MLE reproduces the group rates:
  // b0 = logit(1/3) = −ln 2, b1 = logit(2/3) − logit(1/3) = 2 ln 2; Var(b0) = 1/(3·(1/3)(2/3)) = 1.5,
  // Var(b1) = 1.5 + 1.5 = 3 (statsmodels Logit's inverse-Hessian standard errors).
  const LogisticFit f = logistic_regression(column({0, 0, 0, 1, 1, 1}), {1, 0, 0, 1, 1, 0});
  ASSERT_TRUE(f.converged);
  EXPECT_FALSE(f.separated);
  EXPECT_NEAR(f.intercept, -std::log(2.0), 1e-10);
  EXPECT_NEAR(f.coef[0], 2 * std::log(2.0), 1e-10);
  EXPECT_NEAR(f.std_errors[0], std::sqrt(1.5), 1e-9);
  EXPECT_NEAR(f.std_errors[1], std::sqrt(3.0), 1e-9);
  EXPECT_NEAR(f.z_values[1], 2 * std::log(2.0) / std::sqrt(3.0), 1e-9);
  EXPECT_NEAR(f.p_values[1], normal_two_sided_p(2 * std::log(2.0) / std::sqrt(3.0)), 1e-12);
  EXPECT_NEAR(f.log_likelihood, 2 * (std::log(1.0 / 3) + 2 * std::log(2.0 / 3)), 1e-12);
  const double row = 1.0;
  EXPECT_NEAR(f.predict(&row), 2.0 / 3.0, 1e-10);
}

TEST(Logistic, L2SolutionSatisfiesItsOptimalityConditions) {
  // Penalised optimum: Σ(y − p) = 0 (intercept unpenalised) and Σ(y − p)x_j = l2·w_j.
  Matrix X(8, 2);
  const std::vector<double> a{0.1, 1.3, -0.7, 2.2, 0.4, -1.5, 0.9, 1.8}, b{1, 0, 2, 1, 3, 0, 1, 2};
  for (int64_t r = 0; r < 8; ++r) X.at(r, 0) = a[r], X.at(r, 1) = b[r];
  const std::vector<int> y{0, 1, 0, 1, 1, 0, 0, 1};
  LogisticOptions o;
  o.l2 = 2.0;
  const LogisticFit f = logistic_regression(X, y, o);
  ASSERT_TRUE(f.converged);
  double g0 = 0, g1 = 0, g2 = 0;
  for (int64_t r = 0; r < 8; ++r) {
    const double e = y[r] - f.predict(X.row(r));
    g0 += e, g1 += e * a[r], g2 += e * b[r];
  }
  EXPECT_NEAR(g0, 0.0, 1e-12);
  EXPECT_NEAR(g1, 2.0 * f.coef[0], 1e-12);
  EXPECT_NEAR(g2, 2.0 * f.coef[1], 1e-12);
}

TEST(Logistic, SeparationIsReportedNotHuge) {
  // complete: x ≤ 1 → 0, x ≥ 2 → 1
  const LogisticFit c = logistic_regression(column({0, 1, 2, 3}), {0, 0, 1, 1});
  EXPECT_TRUE(c.separated);
  EXPECT_FALSE(c.converged);
  EXPECT_TRUE(c.std_errors.empty() && c.p_values.empty());
  EXPECT_GT(c.coef[0], 0.0);
  EXPECT_LT(c.coef[0], 1e3);
  // quasi-complete: x = 1 is always 1, x = 0 is mixed (the 2×2 table with a zero cell)
  const LogisticFit q = logistic_regression(column({0, 0, 1, 1}), {0, 1, 1, 1});
  EXPECT_TRUE(q.separated);
  EXPECT_TRUE(q.std_errors.empty());
  EXPECT_TRUE(std::isfinite(q.coef[0]));
  // with a penalty the optimum is finite: not separated, converged
  LogisticOptions o;
  o.l2 = 1.0;
  const LogisticFit p = logistic_regression(column({0, 1, 2, 3}), {0, 0, 1, 1}, o);
  EXPECT_TRUE(p.converged);
  EXPECT_FALSE(p.separated);
  EXPECT_EQ(p.std_errors.size(), 2u);
}

TEST(Logistic, ConstantColumns) {
  Matrix X(6, 2);
  const std::vector<double> a{0, 0, 0, 1, 1, 1};
  for (int64_t r = 0; r < 6; ++r) X.at(r, 0) = a[r], X.at(r, 1) = 4.0;
  const std::vector<int> y{1, 0, 0, 1, 1, 0};
  EXPECT_THROW(logistic_regression(X, y), Error);  // l2 = 0: not identifiable
  LogisticOptions o;
  o.l2 = 1.0;
  o.standardize = true;
  const LogisticFit f = logistic_regression(X, y, o);
  EXPECT_TRUE(f.converged);
  EXPECT_DOUBLE_EQ(f.column_std[1], 1.0);  // std 0 → scale 1
  EXPECT_NEAR(f.coef[1], 0.0, 1e-14);
  for (double v : f.std_errors) EXPECT_TRUE(std::isfinite(v));
}

TEST(Logistic, StandardizedCoefficientsAndPredict) {
  // Standardising changes the coefficient units, not the unpenalised fit's predictions.
  const Matrix X = column({0, 0, 0, 10, 10, 10});
  const std::vector<int> y{1, 0, 0, 1, 1, 0};
  LogisticOptions o;
  o.standardize = true;
  const LogisticFit s = logistic_regression(X, y, o);
  EXPECT_NEAR(s.column_mean[0], 5.0, 1e-14);
  EXPECT_NEAR(s.column_std[0], 5.0, 1e-14);  // population std (ddof 0)
  EXPECT_NEAR(s.coef[0], 5 * 2 * std::log(2.0) / 10, 1e-10);
  const double row = 10.0;
  EXPECT_NEAR(s.predict(&row), 2.0 / 3.0, 1e-10);
}

TEST(Logistic, Errors) {
  EXPECT_THROW(logistic_regression(column({1, 2, 3}), {1, 1, 1}), Error);  // one class
  EXPECT_THROW(logistic_regression(column({1, 2, 3}), {0, 2, 1}), Error);  // not 0/1
  EXPECT_THROW(logistic_regression(column({1, 2, 3}), {0, 1}), Error);     // shapes
  EXPECT_THROW(logistic_regression(column({1, std::nan(""), 3}), {0, 1, 1}), Error);
  LogisticOptions o;
  o.l2 = -1;
  EXPECT_THROW(logistic_regression(column({1, 2, 3}), {0, 1, 1}, o), Error);
}

TEST(Standardize, PopulationStdAndConstantColumn) {
  Matrix X(4, 2);
  const std::vector<double> a{1, 2, 3, 4};
  for (int64_t r = 0; r < 4; ++r) X.at(r, 0) = a[r], X.at(r, 1) = -3;
  const Standardized s = standardize(X);
  EXPECT_DOUBLE_EQ(s.mean[0], 2.5);
  EXPECT_NEAR(s.scale[0], std::sqrt(1.25), 1e-15);
  EXPECT_DOUBLE_EQ(s.scale[1], 1.0);
  EXPECT_NEAR(s.X.at(0, 0), -1.5 / std::sqrt(1.25), 1e-15);
  EXPECT_DOUBLE_EQ(s.X.at(2, 1), 0.0);
}

}  // namespace
}  // namespace isc::metrics
