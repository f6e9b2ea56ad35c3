// Concept directions from labelled or paired hidden states: the standardised L2 probe, mean
// differences, and repeng's pca_diff / pca_center, with the accuracy of a direction on held-out states.
#include "concepts/direction_methods.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"

namespace isc::concepts {

namespace {

void check_matrix(const Matrix& m, const char* fn, const char* name) {
  if (static_cast<int64_t>(m.data.size()) != m.rows * m.cols)
    throw Error(fmt::format("{}: {} holds {} values, not rows·cols = {}", fn, name, m.data.size(), m.rows * m.cols));
  if (m.cols < 1) throw Error(fmt::format("{}: {} has no columns", fn, name));
  for (size_t i = 0; i < m.data.size(); ++i)
    if (!std::isfinite(m.data[i]))
      throw Error(fmt::format("{}: {}[{}][{}] is not finite", fn, name, int64_t(i) / m.cols, int64_t(i) % m.cols));
}

// Labelled states: shapes agree, labels are 0/1 and (if asked) both classes occur.
void check_labelled(const Matrix& states, const std::vector<int>& labels, const char* fn, bool need_both = true) {
  check_matrix(states, fn, "states");
  if (states.rows != static_cast<int64_t>(labels.size()))
    throw Error(fmt::format("{}: {} states but {} labels", fn, states.rows, labels.size()));
  int64_t ones = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] != 0 && labels[i] != 1) throw Error(fmt::format("{}: label {} is {}, not 0 or 1", fn, i, labels[i]));
    ones += labels[i];
  }
  if (need_both && (ones == 0 || ones == static_cast<int64_t>(labels.size())))
    throw Error(fmt::format("{}: needs states of both classes, got only label {}", fn, ones == 0 ? 0 : 1));
}

void check_pairs(const Matrix& pos, const Matrix& neg, const char* fn, int64_t min_pairs) {
  check_matrix(pos, fn, "positive");
  check_matrix(neg, fn, "negative");
  if (pos.rows != neg.rows || pos.cols != neg.cols)
    throw Error(fmt::format("{}: positive is {}×{} but negative is {}×{}", fn, pos.rows, pos.cols, neg.rows, neg.cols));
  if (pos.rows < min_pairs) throw Error(fmt::format("{}: needs at least {} pairs, got {}", fn, min_pairs, pos.rows));
}

double dot(const double* a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < b.size(); ++i) s += a[i] * b[i];
  return s;
}

double norm(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

// splitmix64: a fixed, platform-independent stream for the power iteration's start vector.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Covariance times v without forming the d×d covariance: Xcᵀ (Xc v) / (n − 1), O(n·d).
std::vector<double> covariance_times(const Matrix& xc, const std::vector<double>& v) {
  std::vector<double> out(static_cast<size_t>(xc.cols), 0.0);
  for (int64_t r = 0; r < xc.rows; ++r) {
    const double* row = xc.row(r);
    const double s = dot(row, v);
    for (int64_t c = 0; c < xc.cols; ++c) out[c] += s * row[c];
  }
  for (double& x : out) x /= double(xc.rows - 1);
  return out;
}

// sklearn's svd_flip convention (the entry of largest magnitude is positive), so a PCA direction
// has one defined sign before any data-dependent rule is applied.
void flip_largest_positive(std::vector<double>& v) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (std::fabs(v[i]) > std::fabs(v[best])) best = i;
  if (v[best] < 0)
    for (double& x : v) x = -x;
}

// repeng's sign rule: flip when, over pairs, the positive member projects lower more often than
// higher (ties keep the sign).
void orient_by_pairs(std::vector<double>& v, const Matrix& pos, const Matrix& neg) {
  int64_t higher = 0, lower = 0;
  for (int64_t i = 0; i < pos.rows; ++i) {
    const double a = dot(pos.row(i), v), b = dot(neg.row(i), v);
    higher += a > b;
    lower += a < b;
  }
  if (lower > higher)
    for (double& x : v) x = -x;
}

}  // namespace

// Power iteration on the sample covariance of the centred rows. Start: Xcᵀ r with r a fixed
// splitmix64 sequence in [−1, 1) (deterministic, inside the row space, almost surely not orthogonal
// to the top eigenvector). Stop when the eigen-residual |C v − λ v| ≤ 1e-10 · λ; at most 10,000
// iterations, else an error (the top two eigenvalues are too close for the direction to be defined).
// Sign: the largest-magnitude entry positive (as sklearn's PCA).
std::vector<double> first_principal_component(const Matrix& rows) {
  check_matrix(rows, "first_principal_component", "rows");
  if (rows.rows < 2) throw Error(fmt::format("first_principal_component: needs at least 2 rows, got {}", rows.rows));
  Matrix xc = rows;
  std::vector<double> mean(static_cast<size_t>(rows.cols), 0.0);
  for (int64_t r = 0; r < rows.rows; ++r)
    for (int64_t c = 0; c < rows.cols; ++c) mean[c] += rows.at(r, c) / double(rows.rows);
  for (int64_t r = 0; r < rows.rows; ++r)
    for (int64_t c = 0; c < rows.cols; ++c) xc.at(r, c) -= mean[c];

  std::vector<double> v(static_cast<size_t>(rows.cols), 0.0);
  uint64_t state = 0x5EEDull;
  for (int64_t r = 0; r < xc.rows; ++r) {
    const double coeff = double(splitmix64(state) >> 11) * 0x1.0p-52 - 1.0;
    for (int64_t c = 0; c < xc.cols; ++c) v[c] += coeff * xc.at(r, c);
  }
  double len = norm(v);
  if (!(len > 0.0)) throw Error("first_principal_component: all rows are equal (zero variance): no direction");
  for (double& x : v) x /= len;

  constexpr int max_iterations = 10000;
  double lambda = 0.0;
  for (int it = 0; it < max_iterations; ++it) {
    std::vector<double> w = covariance_times(xc, v);
    lambda = 0.0;
    for (size_t i = 0; i < v.size(); ++i) lambda += v[i] * w[i];
    if (!(lambda > 0.0)) throw Error("first_principal_component: the covariance is zero along the iterate: no direction");
    double residual = 0.0;
    for (size_t i = 0; i < v.size(); ++i) residual += (w[i] - lambda * v[i]) * (w[i] - lambda * v[i]);
    len = norm(w);
    for (size_t i = 0; i < v.size(); ++i) v[i] = w[i] / len;
    if (std::sqrt(residual) <= 1e-10 * lambda) {
      flip_largest_positive(v);
      return v;
    }
  }
  throw Error(fmt::format("first_principal_component: power iteration did not converge in {} iterations (top "
                          "eigenvalue ≈ {}; the first two are too close to define one direction)",
                          max_iterations, lambda));
}

std::vector<double> pca_diff(const Matrix& positive, const Matrix& negative) {
  check_pairs(positive, negative, "pca_diff", 2);
  Matrix diff(positive.rows, positive.cols);
  for (size_t i = 0; i < diff.data.size(); ++i) diff.data[i] = positive.data[i] - negative.data[i];
  std::vector<double> v = first_principal_component(diff);
  orient_by_pairs(v, positive, negative);
  return v;
}

std::vector<double> pca_center(const Matrix& positive, const Matrix& negative) {
  check_pairs(positive, negative, "pca_center", 1);
  Matrix centred(2 * positive.rows, positive.cols);
  for (int64_t i = 0; i < positive.rows; ++i)
    for (int64_t c = 0; c < positive.cols; ++c) {
      const double mid = 0.5 * (positive.at(i, c) + negative.at(i, c));
      centred.at(2 * i, c) = positive.at(i, c) - mid;
      centred.at(2 * i + 1, c) = negative.at(i, c) - mid;
    }
  std::vector<double> v = first_principal_component(centred);
  orient_by_pairs(v, positive, negative);
  return v;
}

std::vector<double> mean_difference(const Matrix& states, const std::vector<int>& labels) {
  check_labelled(states, labels, "mean_difference");
  std::vector<double> sum1(static_cast<size_t>(states.cols), 0.0), sum0 = sum1;
  int64_t n1 = 0;
  for (int64_t r = 0; r < states.rows; ++r) {
    std::vector<double>& s = labels[r] ? sum1 : sum0;
    n1 += labels[r];
    for (int64_t c = 0; c < states.cols; ++c) s[c] += states.at(r, c);
  }
  const double n0 = double(states.rows - n1);
  std::vector<double> d(static_cast<size_t>(states.cols));
  for (int64_t c = 0; c < states.cols; ++c) d[c] = sum1[c] / double(n1) - sum0[c] / n0;
  return d;
}

std::vector<double> mean_difference_paired(const Matrix& positive, const Matrix& negative) {
  check_pairs(positive, negative, "mean_difference_paired", 1);
  std::vector<double> d(static_cast<size_t>(positive.cols), 0.0);
  for (int64_t r = 0; r < positive.rows; ++r)
    for (int64_t c = 0; c < positive.cols; ++c) d[c] += (positive.at(r, c) - negative.at(r, c)) / double(positive.rows);
  return d;
}

Probe train_probe(const Matrix& states, const std::vector<int>& labels, double l2) {
  check_labelled(states, labels, "train_probe");
  metrics::Standardized s = metrics::standardize(states);
  metrics::LogisticOptions options;
  options.l2 = l2;
  const metrics::LogisticFit fit = metrics::logistic_regression(s.X, labels, options);
  if (fit.separated)
    throw Error("train_probe: the classes are perfectly separable and l2 = 0, so the maximum-likelihood weights are "
                "infinite; use l2 > 0");
  Probe p;
  p.weights = fit.coef;
  p.bias = fit.intercept;
  p.mean = std::move(s.mean);
  p.scale = std::move(s.scale);
  return p;
}

namespace {
template <typename T>
double probe_probability(const Probe& p, const T* h) {
  double z = p.bias;
  for (size_t i = 0; i < p.weights.size(); ++i) z += p.weights[i] * (double(h[i]) - p.mean[i]) / p.scale[i];
  return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
}
}  // namespace

double Probe::probability(const float* h) const { return probe_probability(*this, h); }
double Probe::probability(const double* h) const { return probe_probability(*this, h); }

std::vector<double> Probe::raw_direction() const {
  std::vector<double> d(weights.size());
  for (size_t i = 0; i < d.size(); ++i) d[i] = weights[i] / scale[i];
  const double len = norm(d);
  if (!(len > 0.0)) throw Error("Probe::raw_direction: the probe's weights are all zero: it has no direction");
  for (double& x : d) x /= len;
  return d;
}

double midpoint_threshold(const Matrix& states, const std::vector<int>& labels, const std::vector<double>& direction) {
  check_labelled(states, labels, "midpoint_threshold");
  if (static_cast<int64_t>(direction.size()) != states.cols)
    throw Error(fmt::format("midpoint_threshold: direction has {} entries but states have {} columns", direction.size(),
                            states.cols));
  double s1 = 0.0, s0 = 0.0;
  int64_t n1 = 0;
  for (int64_t r = 0; r < states.rows; ++r) {
    const double proj = dot(states.row(r), direction);
    (labels[r] ? s1 : s0) += proj;
    n1 += labels[r];
  }
  return 0.5 * (s1 / double(n1) + s0 / double(states.rows - n1));
}

double direction_accuracy(const Matrix& states, const std::vector<int>& labels, const std::vector<double>& direction,
                          double threshold) {
  check_labelled(states, labels, "direction_accuracy", false);
  if (states.rows < 1) throw Error("direction_accuracy: no states");
  if (static_cast<int64_t>(direction.size()) != states.cols)
    throw Error(fmt::format("direction_accuracy: direction has {} entries but states have {} columns", direction.size(),
                            states.cols));
  if (!std::isfinite(threshold)) throw Error("direction_accuracy: threshold is not finite");
  int64_t right = 0;
  for (int64_t r = 0; r < states.rows; ++r) right += (dot(states.row(r), direction) > threshold) == (labels[r] == 1);
  return double(right) / double(states.rows);
}

}  // namespace isc::concepts
