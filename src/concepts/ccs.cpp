// Contrast-Consistent Search: per-side normalisation, the CCS loss with its analytic gradient,
// full-batch AdamW from seeded restarts, and keeping the restart with the lowest final loss.
#include "concepts/ccs.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"

namespace isc::concepts {

using metrics::Matrix;

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

void check_inputs(const Matrix& pos, const Matrix& neg, const CcsOptions& o) {
  for (const Matrix* m : {&pos, &neg}) {
    if (static_cast<int64_t>(m->data.size()) != m->rows * m->cols)
      throw Error(fmt::format("train_ccs: matrix holds {} values, not rows·cols = {}", m->data.size(), m->rows * m->cols));
    for (size_t i = 0; i < m->data.size(); ++i)
      if (!std::isfinite(m->data[i]))
        throw Error(fmt::format("train_ccs: {}[{}][{}] is not finite", m == &pos ? "positive" : "negative",
                                int64_t(i) / m->cols, int64_t(i) % m->cols));
  }
  if (pos.rows != neg.rows || pos.cols != neg.cols)
    throw Error(fmt::format("train_ccs: positive is {}×{} but negative is {}×{}", pos.rows, pos.cols, neg.rows, neg.cols));
  if (pos.rows < 2) throw Error(fmt::format("train_ccs: needs at least 2 pairs, got {}", pos.rows));
  if (pos.cols < 1) throw Error("train_ccs: states have no columns");
  if (o.ntries < 1) throw Error(fmt::format("train_ccs: ntries must be >= 1, got {}", o.ntries));
  if (o.epochs < 0) throw Error(fmt::format("train_ccs: epochs must be >= 0, got {}", o.epochs));
  if (!(o.learning_rate > 0.0) || !std::isfinite(o.learning_rate))
    throw Error(fmt::format("train_ccs: learning_rate must be finite and > 0, got {}", o.learning_rate));
  if (!(o.weight_decay >= 0.0) || !std::isfinite(o.weight_decay))
    throw Error(fmt::format("train_ccs: weight_decay must be finite and >= 0, got {}", o.weight_decay));
}

// Per-feature mean and (population) std of one side; std 1 where it is 0 or not asked for. An
// exactly constant column gets its value as the mean (the summed mean may be off by rounding) and
// std 1, so it normalises to exact zeros instead of rounding residue blown up by a ~1e-16 std.
void side_statistics(const Matrix& x, bool var_normalize, std::vector<double>& mean, std::vector<double>& sd) {
  mean.assign(static_cast<size_t>(x.cols), 0.0);
  sd.assign(static_cast<size_t>(x.cols), 1.0);
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t c = 0; c < x.cols; ++c) mean[c] += x.at(r, c) / double(x.rows);
  std::vector<double> ss(static_cast<size_t>(x.cols), 0.0);
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t c = 0; c < x.cols; ++c) ss[c] += (x.at(r, c) - mean[c]) * (x.at(r, c) - mean[c]);
  for (int64_t c = 0; c < x.cols; ++c) {
    bool constant = true;
    for (int64_t r = 1; r < x.rows && constant; ++r) constant = x.at(r, c) == x.at(0, c);
    if (constant) mean[c] = x.at(0, c);
    const double s = std::sqrt(ss[c] / double(x.rows));
    if (var_normalize && !constant && s > 0.0) sd[c] = s;
  }
}

Matrix normalised(const Matrix& x, const std::vector<double>& mean, const std::vector<double>& sd) {
  Matrix out = x;
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t c = 0; c < x.cols; ++c) out.at(r, c) = (x.at(r, c) - mean[c]) / sd[c];
  return out;
}

double linear(const CcsParameters& p, const double* x) {
  double z = p.bias;
  for (size_t i = 0; i < p.weights.size(); ++i) z += p.weights[i] * x[i];
  return z;
}

// Loss and its gradient (d weights, then the bias). min(p+, p−) sends its gradient to the smaller
// probability, half to each on a tie (as torch.minimum does).
double loss_and_gradient(const CcsParameters& p, const Matrix& xp, const Matrix& xn, std::vector<double>& grad) {
  const int64_t n = xp.rows, d = xp.cols;
  grad.assign(static_cast<size_t>(d + 1), 0.0);
  double loss = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double pp = sigmoid(linear(p, xp.row(i))), pn = sigmoid(linear(p, xn.row(i)));
    const double consistency = pp + pn - 1.0;
    const double smaller = std::min(pp, pn);
    loss += (consistency * consistency + smaller * smaller) / double(n);
    const double share_p = pp < pn ? 1.0 : pp > pn ? 0.0 : 0.5;
    const double dlp = 2.0 * (consistency + smaller * share_p) / double(n);
    const double dln = 2.0 * (consistency + smaller * (1.0 - share_p)) / double(n);
    const double dzp = dlp * pp * (1.0 - pp), dzn = dln * pn * (1.0 - pn);
    const double* rp = xp.row(i);
    const double* rn = xn.row(i);
    for (int64_t c = 0; c < d; ++c) grad[c] += dzp * rp[c] + dzn * rn[c];
    grad[d] += dzp + dzn;
  }
  return loss;
}

// One try: `epochs` AdamW steps from the given start. torch.optim.AdamW order: decay the
// parameter, update the moments, then step by lr · m̂ / (√v̂ + eps).
CcsParameters run_try(CcsParameters p, const Matrix& xp, const Matrix& xn, const CcsOptions& o) {
  constexpr double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  const size_t k = p.weights.size() + 1;
  std::vector<double> m(k, 0.0), v(k, 0.0), grad;
  for (int t = 1; t <= o.epochs; ++t) {
    loss_and_gradient(p, xp, xn, grad);
    const double bc1 = 1.0 - std::pow(beta1, t), bc2 = 1.0 - std::pow(beta2, t);
    for (size_t i = 0; i < k; ++i) {
      double& param = i + 1 < k ? p.weights[i] : p.bias;
      param *= 1.0 - o.learning_rate * o.weight_decay;
      m[i] = beta1 * m[i] + (1.0 - beta1) * grad[i];
      v[i] = beta2 * v[i] + (1.0 - beta2) * grad[i] * grad[i];
      param -= o.learning_rate * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + eps);
    }
  }
  return p;
}

}  // namespace

CcsParameters ccs_initial_parameters(int64_t dim, uint64_t seed, int try_index) {
  if (dim < 1) throw Error(fmt::format("ccs_initial_parameters: dim must be >= 1, got {}", dim));
  uint64_t state = seed ^ (0xD1B54A32D192ED03ull * (static_cast<uint64_t>(try_index) + 1));
  const double bound = 1.0 / std::sqrt(double(dim));
  auto draw = [&] { return (2.0 * double(splitmix64(state) >> 11) * 0x1.0p-53 - 1.0) * bound; };
  CcsParameters p;
  p.weights.resize(static_cast<size_t>(dim));
  for (double& w : p.weights) w = draw();
  p.bias = draw();
  return p;
}

double ccs_loss(const CcsParameters& params, const Matrix& xpos, const Matrix& xneg) {
  if (xpos.rows != xneg.rows || xpos.cols != xneg.cols || static_cast<int64_t>(params.weights.size()) != xpos.cols)
    throw Error("ccs_loss: shapes of the pairs and the parameters differ");
  if (xpos.rows < 1) throw Error("ccs_loss: no pairs");
  std::vector<double> grad;
  return loss_and_gradient(params, xpos, xneg, grad);
}

CcsProbe train_ccs(const Matrix& positive, const Matrix& negative, const CcsOptions& options) {
  check_inputs(positive, negative, options);
  CcsProbe probe;
  side_statistics(positive, options.var_normalize, probe.mean_pos, probe.std_pos);
  side_statistics(negative, options.var_normalize, probe.mean_neg, probe.std_neg);
  const Matrix xp = normalised(positive, probe.mean_pos, probe.std_pos);
  const Matrix xn = normalised(negative, probe.mean_neg, probe.std_neg);
  for (int t = 0; t < options.ntries; ++t) {
    const CcsParameters fitted = run_try(ccs_initial_parameters(positive.cols, options.seed, t), xp, xn, options);
    const double loss = ccs_loss(fitted, xp, xn);
    if (!std::isfinite(loss)) throw Error(fmt::format("train_ccs: try {} ended with a non-finite loss", t));
    probe.try_losses.push_back(loss);
    // Keep the lowest final loss (not the last try); the first such try on ties.
    if (t == 0 || loss < probe.loss) {
      probe.loss = loss;
      probe.best_try = t;
      probe.weights = fitted.weights;
      probe.bias = fitted.bias;
    }
  }
  return probe;
}

namespace {
template <typename T>
double side_probability(const CcsProbe& p, const T* x, const std::vector<double>& mean, const std::vector<double>& sd) {
  double z = p.bias;
  for (size_t i = 0; i < p.weights.size(); ++i) z += p.weights[i] * (double(x[i]) - mean[i]) / sd[i];
  return sigmoid(z);
}
}  // namespace

double CcsProbe::credence(const double* pos, const double* neg) const {
  return 0.5 * (side_probability(*this, pos, mean_pos, std_pos) + 1.0 - side_probability(*this, neg, mean_neg, std_neg));
}

double CcsProbe::probability(const float* h) const { return side_probability(*this, h, mean_pos, std_pos); }

CcsAccuracy ccs_accuracy(const CcsProbe& probe, const Matrix& positive, const Matrix& negative,
                         const std::vector<int>& labels) {
  if (positive.rows != negative.rows || positive.cols != negative.cols)
    throw Error(fmt::format("ccs_accuracy: positive is {}×{} but negative is {}×{}", positive.rows, positive.cols,
                            negative.rows, negative.cols));
  if (positive.cols != static_cast<int64_t>(probe.weights.size()))
    throw Error(fmt::format("ccs_accuracy: states have {} columns but the probe {}", positive.cols, probe.weights.size()));
  if (positive.rows != static_cast<int64_t>(labels.size()))
    throw Error(fmt::format("ccs_accuracy: {} pairs but {} labels", positive.rows, labels.size()));
  if (positive.rows < 1) throw Error("ccs_accuracy: no pairs");
  int64_t right = 0;
  for (int64_t i = 0; i < positive.rows; ++i) {
    if (labels[i] != 0 && labels[i] != 1)
      throw Error(fmt::format("ccs_accuracy: label {} is {}, not 0 or 1", i, labels[i]));
    right += (probe.credence(positive.row(i), negative.row(i)) > 0.5) == (labels[i] == 1);
  }
  const double acc = double(right) / double(positive.rows);
  // CCS cannot tell which side is "true": the better of the two readings, and which one it was.
  return acc < 0.5 ? CcsAccuracy{1.0 - acc, true} : CcsAccuracy{acc, false};
}

}  // namespace isc::concepts
