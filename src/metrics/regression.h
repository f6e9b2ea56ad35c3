// Regressions for the concept ↔ uncertainty statistics: ordinary least squares with its F-test, and
// logistic regression (maximum likelihood, optional L2 penalty) by Newton's method with standard errors.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "metrics/matrix.h"

namespace isc::metrics {

// y = b0 + X b. Coefficients, their standard errors, t statistics and two-sided p-values; R², adjusted
// R², the overall F statistic (df1 = k, df2 = n − k − 1) and its p-value (statsmodels' OLS numbers).
struct OlsFit {
  double intercept = 0.0;
  std::vector<double> coef;          // one per column of X
  std::vector<double> std_errors;    // [intercept, coef...]
  std::vector<double> t_values;      // [intercept, coef...]
  std::vector<double> p_values;      // [intercept, coef...]
  double r2 = 0.0, adj_r2 = 0.0;
  double f_stat = 0.0, f_p_value = 1.0;
  int64_t n = 0;
};
// Throws isc::Error when n <= k + 1, shapes differ, a value is not finite, or X'X is singular.
OlsFit ols(const Matrix& X, const std::vector<double>& y);

struct LogisticOptions {
  // Penalty on the weights (never the intercept), as sklearn's LogisticRegression with C = 1 / l2:
  // minimises 0.5·l2·|w|² + Σ log-loss. 0 = plain maximum likelihood.
  double l2 = 0.0;
  bool standardize = false;  // z-score each column first (coefficients per standard deviation)
  int max_iterations = 100;
  double tolerance = 1e-10;  // on the largest Newton step
};

struct LogisticFit {
  double intercept = 0.0;
  std::vector<double> coef;          // per column (standardised if asked)
  std::vector<double> std_errors;    // [intercept, coef...] from the inverse Hessian
  std::vector<double> z_values;      // [intercept, coef...]
  std::vector<double> p_values;      // [intercept, coef...] two-sided normal
  std::vector<double> column_mean, column_std;  // used to standardise (empty if not)
  int iterations = 0;
  bool converged = false;
  // Perfect separation makes the unpenalised MLE infinite: reported instead of a huge number.
  // Detected (l2 = 0 only) by a certificate: an iterate whose linear predictor classifies every row
  // strictly right (complete separation), or Newton failing to converge while some fitted
  // probability is within e^-30 of 0 or 1 (quasi-complete). Then intercept/coef are the iterate
  // where it was detected (a separating direction, not an estimate), std_errors, z_values and
  // p_values are empty and converged is false.
  bool separated = false;
  double log_likelihood = 0.0;  // at the returned coefficients (without the penalty term)
  // The linear predictor (log-odds) for a raw (unstandardised) row; > 0 is sklearn's predict() = 1.
  double decision(const double* row) const;
  // P(y = 1 | row) for a raw (unstandardised) row: σ(decision(row)).
  double predict(const double* row) const;
};
// y in {0, 1}. Throws isc::Error on one class only, shapes that differ, non-finite values, l2 < 0,
// or (l2 = 0) a constant or collinear column. With l2 > 0 the standard errors come from the inverse
// of the penalised Hessian. Newton steps are halved until the penalised log-likelihood does not drop.
LogisticFit logistic_regression(const Matrix& X, const std::vector<int>& y, const LogisticOptions& options = {});

// Column z-scores (x − mean) / scale with the population standard deviation (ddof = 0, as sklearn's
// StandardScaler); a constant column gets scale 1 (so it becomes all zeros, never NaN).
struct Standardized {
  Matrix X;
  std::vector<double> mean, scale;
};
Standardized standardize(const Matrix& X);

// The inverse of a k×k symmetric positive-definite matrix (row-major), by Cholesky; nullopt when the
// matrix is not clearly positive definite (singular to rounding). For covariances of other fits.
std::optional<std::vector<double>> inverse_positive_definite(std::vector<double> a, int64_t k);

// Distribution functions the p-values need (tested against scipy.special / scipy.stats).
double regularized_incomplete_beta(double a, double b, double x);
double student_t_two_sided_p(double t, double df);
double f_distribution_sf(double f, double df1, double df2);
double normal_two_sided_p(double z);

}  // namespace isc::metrics
