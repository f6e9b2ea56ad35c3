// Tests of CCS: the loss at a hand-known point, the first AdamW step (torch semantics: decay, then
// ±lr), accuracy ~1 on synthetic separable pairs, keeping the lowest-loss try rather than the last,
// determinism, constant features, the flipped accuracy, and the errors.
#include "concepts/ccs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "common/error.h"

namespace isc::concepts {
namespace {

using metrics::Matrix;

// Pairs x± = base ± s·2·truth + noise, s = +1 when the positive statement is true.
struct Pairs {
  Matrix pos, neg;
  std::vector<int> labels;
};
Pairs synthetic(int64_t n, int64_t d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> truth(static_cast<size_t>(d));
  double len = 0;
  for (double& t : truth) t = g(rng), len += t * t;
  for (double& t : truth) t /= std::sqrt(len);
  Pairs p{Matrix(n, d), Matrix(n, d), {}};
  for (int64_t i = 0; i < n; ++i) {
    const int label = int(rng() % 2);
    p.labels.push_back(label);
    for (int64_t c = 0; c < d; ++c) {
      const double base = g(rng), shift = (label ? 2.0 : -2.0) * truth[c];
      p.pos.at(i, c) = base + shift + 0.3 * g(rng);
      p.neg.at(i, c) = base - shift + 0.3 * g(rng);
    }
  }
  return p;
}

TEST(Ccs, LossAtZeroParameters) {
  // w = 0, b = 0: p+ = p− = 1/2, consistency term 0, confidence term 1/4.
  Matrix x(3, 2);
  x.data = {1, 2, 3, 4, 5, 6};
  EXPECT_DOUBLE_EQ(ccs_loss({{0, 0}, 0}, x, x), 0.25);
  // b = ln 3 alone: p+ = p− = 3/4 → (1/2)² + (3/4)² = 13/16
  EXPECT_NEAR(ccs_loss({{0, 0}, std::log(3.0)}, x, x), 13.0 / 16.0, 1e-15);
}

TEST(Ccs, InitialParametersAreSeededAndBounded) {
  const CcsParameters a = ccs_initial_parameters(16, 7, 0), b = ccs_initial_parameters(16, 7, 0);
  const CcsParameters c = ccs_initial_parameters(16, 7, 1);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_NE(a.weights, c.weights);
  for (double w : a.weights) EXPECT_LT(std::fabs(w), 0.25);  // 1/√16
  EXPECT_LT(std::fabs(a.bias), 0.25);
}

TEST(Ccs, FirstStepIsTorchAdamW) {
  // Step 1 of Adam moves every parameter by −lr·g/(|g| + eps) after the decoupled decay p·(1 − lr·wd).
  const Pairs p = synthetic(20, 3, 1);
  CcsOptions o;
  o.ntries = 1;
  o.epochs = 1;
  o.learning_rate = 0.05;
  o.weight_decay = 0.1;
  o.seed = 11;
  const CcsProbe probe = train_ccs(p.pos, p.neg, o);
  // The gradient by central differences of ccs_loss on the same normalised data.
  Matrix xp = p.pos, xn = p.neg;
  for (int64_t r = 0; r < xp.rows; ++r)
    for (int64_t c = 0; c < xp.cols; ++c) {
      xp.at(r, c) = (xp.at(r, c) - probe.mean_pos[c]) / probe.std_pos[c];
      xn.at(r, c) = (xn.at(r, c) - probe.mean_neg[c]) / probe.std_neg[c];
    }
  const CcsParameters init = ccs_initial_parameters(3, 11, 0);
  for (size_t i = 0; i <= init.weights.size(); ++i) {
    CcsParameters up = init, down = init;
    double& u = i < 3 ? up.weights[i] : up.bias;
    double& d = i < 3 ? down.weights[i] : down.bias;
    u += 1e-6, d -= 1e-6;
    const double g = (ccs_loss(up, xp, xn) - ccs_loss(down, xp, xn)) / 2e-6;
    const double start = i < 3 ? init.weights[i] : init.bias;
    const double got = i < 3 ? probe.weights[i] : probe.bias;
    EXPECT_NEAR(got, start * (1 - 0.05 * 0.1) - 0.05 * g / (std::fabs(g) + 1e-8), 1e-9) << i;
  }
}

TEST(Ccs, SeparablePairsReachFullAccuracy) {
  const Pairs p = synthetic(120, 10, 2);
  CcsOptions o;
  o.ntries = 3;
  o.epochs = 800;
  o.learning_rate = 1e-2;
  const CcsProbe probe = train_ccs(p.pos, p.neg, o);
  EXPECT_LT(probe.loss, 0.1);
  const CcsAccuracy acc = ccs_accuracy(probe, p.pos, p.neg, p.labels);
  EXPECT_GE(acc.accuracy, 0.99);
  // Negating the probe swaps its reading of every pair: same accuracy, the other side.
  CcsProbe neg = probe;
  for (double& w : neg.weights) w = -w;
  neg.bias = -neg.bias;
  const CcsAccuracy flipped = ccs_accuracy(neg, p.pos, p.neg, p.labels);
  EXPECT_NEAR(flipped.accuracy, acc.accuracy, 1e-12);
  EXPECT_NE(flipped.flipped, acc.flipped);
}

TEST(Ccs, KeepsTheLowestLossTryNotTheLast) {
  // Short training leaves the tries at different losses; find a seed whose last try is not the best.
  const Pairs p = synthetic(40, 6, 3);
  CcsOptions o;
  o.ntries = 6;
  o.epochs = 15;
  o.learning_rate = 1e-2;
  bool found = false;
  for (uint64_t seed = 0; seed < 20 && !found; ++seed) {
    o.seed = seed;
    const CcsProbe probe = train_ccs(p.pos, p.neg, o);
    ASSERT_EQ(probe.try_losses.size(), 6u);
    const auto best = std::min_element(probe.try_losses.begin(), probe.try_losses.end());
    EXPECT_EQ(probe.best_try, int(best - probe.try_losses.begin()));
    EXPECT_DOUBLE_EQ(probe.loss, *best);
    if (probe.best_try == o.ntries - 1) continue;
    found = true;
    EXPECT_LT(probe.loss, probe.try_losses.back());
    // The kept parameters are the best try's: a run that stops right after that try ends on it.
    CcsOptions shorter = o;
    shorter.ntries = probe.best_try + 1;
    const CcsProbe prefix = train_ccs(p.pos, p.neg, shorter);
    EXPECT_EQ(prefix.weights, probe.weights);
    EXPECT_EQ(prefix.bias, probe.bias);
  }
  EXPECT_TRUE(found);
}

TEST(Ccs, DeterministicAndConstantFeaturesAreSafe) {
  Pairs p = synthetic(30, 4, 4);
  for (int64_t i = 0; i < p.pos.rows; ++i) p.pos.at(i, 2) = 3.0, p.neg.at(i, 2) = -1.0;  // constant column
  CcsOptions o;
  o.ntries = 2;
  o.epochs = 50;
  const CcsProbe a = train_ccs(p.pos, p.neg, o), b = train_ccs(p.pos, p.neg, o);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(a.try_losses, b.try_losses);
  EXPECT_DOUBLE_EQ(a.std_pos[2], 1.0);
  EXPECT_DOUBLE_EQ(a.std_neg[2], 1.0);
  for (double w : a.weights) EXPECT_TRUE(std::isfinite(w));
  EXPECT_TRUE(std::isfinite(a.credence(p.pos.row(0), p.neg.row(0))));
}

TEST(Ccs, Errors) {
  const Pairs p = synthetic(5, 3, 5);
  Matrix one(1, 3), other(5, 2);
  EXPECT_THROW(train_ccs(one, one), Error);        // fewer than 2 pairs
  EXPECT_THROW(train_ccs(p.pos, other), Error);    // shapes
  CcsOptions o;
  o.ntries = 0;
  EXPECT_THROW(train_ccs(p.pos, p.neg, o), Error);
  o.ntries = 1;
  o.learning_rate = 0;
  EXPECT_THROW(train_ccs(p.pos, p.neg, o), Error);
  o.learning_rate = 1e-3;
  o.epochs = 5;
  const CcsProbe probe = train_ccs(p.pos, p.neg, o);
  EXPECT_THROW(ccs_accuracy(probe, p.pos, p.neg, {1, 0}), Error);
  EXPECT_THROW(ccs_accuracy(probe, p.pos, p.neg, {1, 0, 2, 1, 0}), Error);
}

}  // namespace
}  // namespace isc::concepts
