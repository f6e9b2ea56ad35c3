// Ordinary least squares (statsmodels' OLS numbers) and logistic regression by damped Newton (the
// MLE of statsmodels' Logit, or sklearn's L2 LogisticRegression), with separation reported, not hidden.
#include "metrics/regression.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"

namespace isc::metrics {

namespace {

// A k×k symmetric matrix, row-major, for the normal equations and Hessians (k = columns + 1).
using Square = std::vector<double>;

// Cholesky A = L Lᵀ in place (lower triangle). Returns the first column whose pivot is not
// clearly positive relative to its own diagonal (a column that is, to rounding, a combination of
// the earlier ones), or -1 when A is positive definite.
int64_t cholesky(Square& a, int64_t k) {
  for (int64_t j = 0; j < k; ++j) {
    const double diag = a[j * k + j];
    double s = diag;
    for (int64_t p = 0; p < j; ++p) s -= a[j * k + p] * a[j * k + p];
    if (!(s > 1e-12 * std::fabs(diag)) || !(s > 0.0)) return j;
    const double ljj = std::sqrt(s);
    a[j * k + j] = ljj;
    for (int64_t i = j + 1; i < k; ++i) {
      double t = a[i * k + j];
      for (int64_t p = 0; p < j; ++p) t -= a[i * k + p] * a[j * k + p];
      a[i * k + j] = t / ljj;
    }
  }
  return -1;
}

// Solves L Lᵀ x = b with the factor from cholesky().
std::vector<double> cholesky_solve(const Square& l, int64_t k, std::vector<double> b) {
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t p = 0; p < i; ++p) b[i] -= l[i * k + p] * b[p];
    b[i] /= l[i * k + i];
  }
  for (int64_t i = k - 1; i >= 0; --i) {
    for (int64_t p = i + 1; p < k; ++p) b[i] -= l[p * k + i] * b[p];
    b[i] /= l[i * k + i];
  }
  return b;
}

Square cholesky_inverse(const Square& l, int64_t k) {
  Square inv(static_cast<size_t>(k * k));
  for (int64_t c = 0; c < k; ++c) {
    std::vector<double> e(static_cast<size_t>(k), 0.0);
    e[c] = 1.0;
    const std::vector<double> col = cholesky_solve(l, k, e);
    for (int64_t r = 0; r < k; ++r) inv[r * k + c] = col[r];
  }
  return inv;
}

}  // namespace

std::optional<std::vector<double>> inverse_positive_definite(std::vector<double> a, int64_t k) {
  if (k < 1 || static_cast<int64_t>(a.size()) != k * k)
    throw Error(fmt::format("inverse: {} values for a {}x{} matrix", a.size(), k, k));
  if (cholesky(a, k) >= 0) return std::nullopt;
  return cholesky_inverse(a, k);
}

namespace {

void check_design(const Matrix& X, size_t ny, const char* fn) {
  if (static_cast<int64_t>(X.data.size()) != X.rows * X.cols)
    throw Error(fmt::format("{}: matrix holds {} values, not rows·cols = {}", fn, X.data.size(), X.rows * X.cols));
  if (X.rows != static_cast<int64_t>(ny))
    throw Error(fmt::format("{}: X has {} rows but y has {} values", fn, X.rows, ny));
  if (X.cols < 1) throw Error(fmt::format("{}: X has no columns", fn));
  for (int64_t r = 0; r < X.rows; ++r)
    for (int64_t c = 0; c < X.cols; ++c)
      if (!std::isfinite(X.at(r, c))) throw Error(fmt::format("{}: X[{}][{}] is not finite", fn, r, c));
}

std::vector<double> column_means(const Matrix& X) {
  std::vector<double> m(static_cast<size_t>(X.cols), 0.0);
  for (int64_t r = 0; r < X.rows; ++r)
    for (int64_t c = 0; c < X.cols; ++c) m[c] += X.at(r, c);
  for (double& v : m) v /= double(X.rows);
  return m;
}

Matrix centred(const Matrix& X, const std::vector<double>& mean) {
  Matrix out = X;
  for (int64_t r = 0; r < X.rows; ++r)
    for (int64_t c = 0; c < X.cols; ++c) out.at(r, c) -= mean[c];
  return out;
}

// Columns that are exactly constant (all values equal to the first).
int64_t first_constant_column(const Matrix& X) {
  for (int64_t c = 0; c < X.cols; ++c) {
    bool constant = true;
    for (int64_t r = 1; r < X.rows && constant; ++r) constant = X.at(r, c) == X.at(0, c);
    if (constant) return c;
  }
  return -1;
}

// Parameters fitted on centred columns, [b, w], map back to raw columns as b_raw = b − m·w. The
// covariance of b_raw follows from that linear map; w's block is unchanged.
double raw_intercept_variance(const Square& cov, int64_t k, const std::vector<double>& mean) {
  double v = cov[0];
  const int64_t p = k - 1;
  for (int64_t i = 0; i < p; ++i) {
    v -= 2.0 * mean[i] * cov[0 * k + (i + 1)];
    for (int64_t j = 0; j < p; ++j) v += mean[i] * mean[j] * cov[(i + 1) * k + (j + 1)];
  }
  return v;
}

}  // namespace

Standardized standardize(const Matrix& X) {
  if (X.rows < 1) throw Error("standardize: no rows");
  Standardized s;
  s.mean = column_means(X);
  s.scale.assign(static_cast<size_t>(X.cols), 0.0);
  for (int64_t r = 0; r < X.rows; ++r)
    for (int64_t c = 0; c < X.cols; ++c) {
      const double d = X.at(r, c) - s.mean[c];
      s.scale[c] += d * d;
    }
  for (int64_t c = 0; c < X.cols; ++c) {
    double& v = s.scale[c];
    v = std::sqrt(v / double(X.rows));
    // Constant column (tested exactly: its computed mean may be off by rounding, leaving a ~1e-16
    // std): scale 1 and an exact mean, so it becomes all zeros rather than noise or 0/0.
    bool constant = true;
    for (int64_t r = 1; r < X.rows && constant; ++r) constant = X.at(r, c) == X.at(0, c);
    if (constant) s.mean[c] = X.at(0, c);
    if (constant || !(v > 0.0)) v = 1.0;
  }
  s.X = centred(X, s.mean);
  for (int64_t r = 0; r < X.rows; ++r)
    for (int64_t c = 0; c < X.cols; ++c) s.X.at(r, c) /= s.scale[c];
  return s;
}

OlsFit ols(const Matrix& X, const std::vector<double>& y) {
  check_design(X, y.size(), "ols");
  for (size_t i = 0; i < y.size(); ++i)
    if (!std::isfinite(y[i])) throw Error(fmt::format("ols: y[{}] is not finite", i));
  const int64_t n = X.rows, p = X.cols;
  if (n <= p + 1) throw Error(fmt::format("ols: {} rows are too few for {} columns plus an intercept (need > {})", n, p, p + 1));
  if (const int64_t c = first_constant_column(X); c >= 0)
    throw Error(fmt::format("ols: column {} is constant (collinear with the intercept)", c));

  // Centring first keeps X'X well conditioned when columns have large means.
  const std::vector<double> mx = column_means(X);
  double my = 0.0;
  for (double v : y) my += v;
  my /= double(n);
  const Matrix xc = centred(X, mx);
  Square xtx(static_cast<size_t>(p * p), 0.0);
  std::vector<double> xty(static_cast<size_t>(p), 0.0);
  for (int64_t r = 0; r < n; ++r) {
    const double* row = xc.row(r);
    for (int64_t i = 0; i < p; ++i) {
      xty[i] += row[i] * (y[r] - my);
      for (int64_t j = 0; j <= i; ++j) xtx[i * p + j] += row[i] * row[j];
    }
  }
  for (int64_t i = 0; i < p; ++i)
    for (int64_t j = 0; j < i; ++j) xtx[j * p + i] = xtx[i * p + j];
  Square l = xtx;
  if (const int64_t bad = cholesky(l, p); bad >= 0)
    throw Error(fmt::format("ols: X'X is singular: column {} is a linear combination of the others", bad));

  OlsFit fit;
  fit.n = n;
  fit.coef = cholesky_solve(l, p, xty);
  fit.intercept = my;
  for (int64_t i = 0; i < p; ++i) fit.intercept -= mx[i] * fit.coef[i];

  double ssr = 0.0, sst = 0.0;
  for (int64_t r = 0; r < n; ++r) {
    double e = y[r] - my;
    for (int64_t i = 0; i < p; ++i) e -= xc.at(r, i) * fit.coef[i];
    ssr += e * e;
    sst += (y[r] - my) * (y[r] - my);
  }
  if (sst == 0.0) throw Error("ols: y is constant (R² and the F-test are undefined)");
  if (ssr == 0.0) throw Error("ols: the fit is perfect (all residuals are 0): standard errors would be 0");

  const double df_resid = double(n - p - 1);
  const double sigma2 = ssr / df_resid;
  const Square inv = cholesky_inverse(l, p);
  // Var(intercept) = σ²/n + m' Cov(w) m (ȳ and the slopes are uncorrelated after centring).
  double var0 = sigma2 / double(n);
  for (int64_t i = 0; i < p; ++i)
    for (int64_t j = 0; j < p; ++j) var0 += mx[i] * mx[j] * sigma2 * inv[i * p + j];
  std::vector<double> est{fit.intercept};
  est.insert(est.end(), fit.coef.begin(), fit.coef.end());
  for (int64_t i = 0; i <= p; ++i) {
    const double var = i == 0 ? var0 : sigma2 * inv[(i - 1) * p + (i - 1)];
    const double se = std::sqrt(var);
    fit.std_errors.push_back(se);
    fit.t_values.push_back(est[i] / se);
    fit.p_values.push_back(student_t_two_sided_p(est[i] / se, df_resid));
  }
  fit.r2 = 1.0 - ssr / sst;
  fit.adj_r2 = 1.0 - (1.0 - fit.r2) * double(n - 1) / df_resid;
  fit.f_stat = ((sst - ssr) / double(p)) / sigma2;
  fit.f_p_value = f_distribution_sf(fit.f_stat, double(p), df_resid);
  return fit;
}

namespace {

// log σ(η) and log(1 − σ(η)) without overflow: −softplus(−η), −softplus(η).
double softplus(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }
double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

// The state of a logistic fit on centred columns: θ = [b, w], η = b + Xc w.
struct LogitState {
  std::vector<double> theta, eta;
  double log_likelihood = 0.0, objective = 0.0;  // objective = ℓ − ½·l2·|w|²
};

LogitState evaluate(const Matrix& xc, const std::vector<int>& y, std::vector<double> theta, double l2) {
  LogitState s;
  s.theta = std::move(theta);
  s.eta.assign(static_cast<size_t>(xc.rows), s.theta[0]);
  for (int64_t r = 0; r < xc.rows; ++r) {
    const double* row = xc.row(r);
    for (int64_t c = 0; c < xc.cols; ++c) s.eta[r] += row[c] * s.theta[c + 1];
    s.log_likelihood -= y[r] ? softplus(-s.eta[r]) : softplus(s.eta[r]);
  }
  double w2 = 0.0;
  for (size_t i = 1; i < s.theta.size(); ++i) w2 += s.theta[i] * s.theta[i];
  s.objective = s.log_likelihood - 0.5 * l2 * w2;
  return s;
}

// Gradient and (negated) Hessian of the penalised log-likelihood at s.
void newton_system(const Matrix& xc, const std::vector<int>& y, const LogitState& s, double l2, std::vector<double>& g,
                   Square& h) {
  const int64_t k = xc.cols + 1;
  g.assign(static_cast<size_t>(k), 0.0);
  h.assign(static_cast<size_t>(k * k), 0.0);
  std::vector<double> x(static_cast<size_t>(k));
  for (int64_t r = 0; r < xc.rows; ++r) {
    const double p = sigmoid(s.eta[r]);
    const double w = p * (1.0 - p);
    x[0] = 1.0;
    std::copy(xc.row(r), xc.row(r) + xc.cols, x.begin() + 1);
    for (int64_t i = 0; i < k; ++i) {
      g[i] += (y[r] - p) * x[i];
      for (int64_t j = 0; j <= i; ++j) h[i * k + j] += w * x[i] * x[j];
    }
  }
  for (int64_t i = 1; i < k; ++i) {
    g[i] -= l2 * s.theta[i];
    h[i * k + i] += l2;
  }
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < i; ++j) h[j * k + i] = h[i * k + j];
}

// Every row on its own side of η = 0: proof that the classes are linearly separable.
bool strictly_separates(const std::vector<double>& eta, const std::vector<int>& y) {
  for (size_t r = 0; r < eta.size(); ++r)
    if (y[r] ? !(eta[r] > 0.0) : !(eta[r] < 0.0)) return false;
  return true;
}

bool saturated(const std::vector<double>& eta) {
  for (double e : eta)
    if (std::fabs(e) > 30.0) return true;
  return false;
}

}  // namespace

double LogisticFit::decision(const double* row) const {
  double eta = intercept;
  for (size_t c = 0; c < coef.size(); ++c) {
    double x = row[c];
    if (!column_mean.empty()) x = (x - column_mean[c]) / column_std[c];
    eta += coef[c] * x;
  }
  return eta;
}

double LogisticFit::predict(const double* row) const { return sigmoid(decision(row)); }

LogisticFit logistic_regression(const Matrix& X_in, const std::vector<int>& y, const LogisticOptions& options) {
  check_design(X_in, y.size(), "logistic_regression");
  if (!(options.l2 >= 0.0) || !std::isfinite(options.l2))
    throw Error(fmt::format("logistic_regression: l2 must be finite and >= 0, got {}", options.l2));
  int64_t positives = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (y[i] != 0 && y[i] != 1) throw Error(fmt::format("logistic_regression: y[{}] = {} is not 0 or 1", i, y[i]));
    positives += y[i];
  }
  if (positives == 0 || positives == static_cast<int64_t>(y.size()))
    throw Error(fmt::format("logistic_regression: only one class in y (all {})", positives == 0 ? 0 : 1));
  const bool penalised = options.l2 > 0.0;
  if (!penalised)
    if (const int64_t c = first_constant_column(X_in); c >= 0)
      throw Error(fmt::format("logistic_regression: column {} is constant (collinear with the intercept; with l2 = 0 "
                              "its coefficient is not identifiable)", c));

  LogisticFit fit;
  Matrix X = X_in;
  if (options.standardize) {
    Standardized s = standardize(X_in);
    X = std::move(s.X);
    fit.column_mean = std::move(s.mean);
    fit.column_std = std::move(s.scale);
  }
  // Fit on centred columns (better conditioned); only the intercept changes when mapped back.
  const std::vector<double> mean = column_means(X);
  const Matrix xc = centred(X, mean);
  const int64_t k = X.cols + 1;

  std::vector<double> theta(static_cast<size_t>(k), 0.0);
  const double ybar = double(positives) / double(y.size());
  theta[0] = std::log(ybar / (1.0 - ybar));
  LogitState state = evaluate(xc, y, theta, options.l2);
  std::vector<double> g;
  Square h;
  bool hessian_singular = false;
  for (fit.iterations = 0; fit.iterations < options.max_iterations;) {
    if (!penalised && strictly_separates(state.eta, y)) {
      fit.separated = true;
      break;
    }
    newton_system(xc, y, state, options.l2, g, h);
    Square l = h;
    if (cholesky(l, k) >= 0) {
      hessian_singular = true;
      break;
    }
    std::vector<double> step = cholesky_solve(l, k, g);
    ++fit.iterations;
    // Halve the step until the objective does not drop (Newton can overshoot far from the optimum).
    LogitState next;
    double scale = 1.0;
    for (int halvings = 0;; ++halvings) {
      std::vector<double> trial = state.theta;
      for (int64_t i = 0; i < k; ++i) trial[i] += scale * step[i];
      next = evaluate(xc, y, trial, options.l2);
      if (next.objective >= state.objective - 1e-12 * std::fabs(state.objective) || halvings == 30) break;
      scale *= 0.5;
    }
    double largest = 0.0;
    for (int64_t i = 0; i < k; ++i) largest = std::max(largest, std::fabs(scale * step[i]));
    state = std::move(next);
    if (largest < options.tolerance) {
      fit.converged = true;
      break;
    }
  }
  if (!penalised && !fit.separated && !fit.converged && saturated(state.eta)) fit.separated = true;
  if (hessian_singular && !fit.separated)
    throw Error("logistic_regression: the Hessian X'WX is singular: columns are collinear");

  fit.intercept = state.theta[0];
  fit.coef.assign(state.theta.begin() + 1, state.theta.end());
  for (int64_t i = 0; i < X.cols; ++i) fit.intercept -= mean[i] * fit.coef[i];
  fit.log_likelihood = state.log_likelihood;
  if (fit.separated) {
    fit.converged = false;
    return fit;
  }

  newton_system(xc, y, state, options.l2, g, h);
  Square l = h;
  if (cholesky(l, k) >= 0) throw Error("logistic_regression: the Hessian is singular at the optimum: columns are collinear");
  const Square cov = cholesky_inverse(l, k);
  for (int64_t i = 0; i < k; ++i) {
    const double est = i == 0 ? fit.intercept : fit.coef[i - 1];
    const double var = i == 0 ? raw_intercept_variance(cov, k, mean) : cov[i * k + i];
    const double se = std::sqrt(var);
    fit.std_errors.push_back(se);
    fit.z_values.push_back(est / se);
    fit.p_values.push_back(normal_two_sided_p(est / se));
  }
  return fit;
}

}  // namespace isc::metrics
