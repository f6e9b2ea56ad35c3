// Tests of the concept-direction methods on hand-built states: mean differences, the power-iteration
// principal component, repeng's pca_diff (which centres the differences) and pca_center with its
// sign rule, the standardised probe (constant features, separation) and the midpoint accuracy.
#include "concepts/direction_methods.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "common/error.h"

namespace isc::concepts {
namespace {

Matrix rows(const std::vector<std::vector<double>>& v) {
  Matrix m(static_cast<int64_t>(v.size()), static_cast<int64_t>(v[0].size()));
  for (size_t r = 0; r < v.size(); ++r)
    for (size_t c = 0; c < v[r].size(); ++c) m.at(int64_t(r), int64_t(c)) = v[r][c];
  return m;
}

TEST(MeanDifference, LabelledAndPaired) {
  const Matrix s = rows({{1, 0}, {3, 2}, {0, 0}, {0, 4}, {2, 2}});
  const std::vector<double> d = mean_difference(s, {1, 1, 0, 0, 0});
  EXPECT_DOUBLE_EQ(d[0], 2.0 - 2.0 / 3.0);  // mean(1,3) − mean(0,0,2)
  EXPECT_DOUBLE_EQ(d[1], 1.0 - 2.0);        // mean(0,2) − mean(0,4,2)
  const std::vector<double> p = mean_difference_paired(rows({{1, 1}, {3, 0}}), rows({{0, 1}, {1, 2}}));
  EXPECT_DOUBLE_EQ(p[0], 1.5);
  EXPECT_DOUBLE_EQ(p[1], -1.0);
  EXPECT_THROW(mean_difference(s, {1, 1, 1, 1, 1}), Error);  // one class
  EXPECT_THROW(mean_difference(s, {1, 0}), Error);           // shapes
}

TEST(PrincipalComponent, RotatedAxes) {
  // Points (±3, 0), (0, ±1) rotated by 30°: covariance eigenvectors are the rotated axes, the first
  // along (cos 30°, sin 30°); sign: largest entry positive.
  const double c = std::cos(std::numbers::pi / 6), s = std::sin(std::numbers::pi / 6);
  const Matrix m = rows({{3 * c + 5, 3 * s - 1}, {-3 * c + 5, -3 * s - 1}, {-s + 5, c - 1}, {s + 5, -c - 1}});
  const std::vector<double> v = first_principal_component(m);
  EXPECT_NEAR(v[0], c, 1e-9);
  EXPECT_NEAR(v[1], s, 1e-9);
  EXPECT_NEAR(std::hypot(v[0], v[1]), 1.0, 1e-14);
}

TEST(PrincipalComponent, Errors) {
  EXPECT_THROW(first_principal_component(rows({{1, 2}})), Error);
  EXPECT_THROW(first_principal_component(rows({{1, 2}, {1, 2}, {1, 2}})), Error);  // zero variance
  // equal eigenvalues (covariance λ·I): every unit vector is a first component; one is returned
  const std::vector<double> v = first_principal_component(rows({{1, 0}, {-1, 0}, {0, 1}, {0, -1}}));
  EXPECT_NEAR(std::hypot(v[0], v[1]), 1.0, 1e-14);
}

TEST(PcaDiff, CentresTheDifferencesAsRepengDoes) {
  // Every difference is (5, e_i) with e = +1, −1, +1, +1, −1 (sum 1): after centring, the x part
  // vanishes, so the first component is the y axis — not the mean difference (which is along x).
  const std::vector<double> e{1, -1, 1, 1, -1};
  std::vector<std::vector<double>> pos, neg;
  for (size_t i = 0; i < e.size(); ++i) {
    neg.push_back({double(i), 1.0});
    pos.push_back({double(i) + 5, 1.0 + e[i]});
  }
  const std::vector<double> v = pca_diff(rows(pos), rows(neg));
  EXPECT_NEAR(std::fabs(v[1]), 1.0, 1e-9);
  EXPECT_NEAR(v[0], 0.0, 1e-9);
  // sign: the positive member projects higher on 3 pairs of 5 along +y
  EXPECT_GT(v[1], 0.0);
  // swapping the poles flips the direction
  const std::vector<double> w = pca_diff(rows(neg), rows(pos));
  EXPECT_NEAR(w[1], -1.0, 1e-9);
  const std::vector<double> md = mean_difference_paired(rows(pos), rows(neg));
  EXPECT_GT(std::fabs(md[0]), std::fabs(md[1]));
}

TEST(PcaCenter, PairDifferencesDefineTheAxis) {
  // Pairs differ along (1, 2)/√5 by different amounts; their midpoints wander along x (removed).
  const double a = 1 / std::sqrt(5.0), b = 2 / std::sqrt(5.0);
  std::vector<std::vector<double>> pos, neg;
  const std::vector<double> amount{1, 2, 0.5, 3}, mid{0, 10, -7, 4};
  for (size_t i = 0; i < amount.size(); ++i) {
    pos.push_back({mid[i] + amount[i] * a, amount[i] * b});
    neg.push_back({mid[i] - amount[i] * a, -amount[i] * b});
  }
  const std::vector<double> v = pca_center(rows(pos), rows(neg));
  EXPECT_NEAR(v[0], a, 1e-9);
  EXPECT_NEAR(v[1], b, 1e-9);
  const std::vector<double> w = pca_center(rows(neg), rows(pos));
  EXPECT_NEAR(w[0], -a, 1e-9);  // sign rule follows the poles
  EXPECT_THROW(pca_center(rows({{1, 2}}), rows({{1, 2}, {3, 4}})), Error);
}

TEST(Probe, ConstantFeatureAndSeparableClasses) {
  // Feature 0 separates the classes, feature 1 is constant: scale 1, weight 0, no NaN.
  const Matrix s = rows({{0, 7}, {1, 7}, {2, 7}, {3, 7}, {4, 7}, {5, 7}});
  const std::vector<int> y{0, 0, 0, 1, 1, 1};
  const Probe p = train_probe(s, y, 1.0);
  EXPECT_DOUBLE_EQ(p.scale[1], 1.0);
  EXPECT_NEAR(p.weights[1], 0.0, 1e-14);
  EXPECT_GT(p.weights[0], 0.0);
  for (int64_t r = 0; r < s.rows; ++r) EXPECT_EQ(p.probability(s.row(r)) > 0.5, y[r] == 1) << r;
  const float hf[2] = {5.0f, 7.0f};
  EXPECT_NEAR(p.probability(hf), p.probability(s.row(5)), 1e-12);
  const std::vector<double> d = p.raw_direction();
  EXPECT_NEAR(d[0], 1.0, 1e-14);
  EXPECT_NEAR(d[1], 0.0, 1e-14);
  EXPECT_THROW(train_probe(s, y, 0.0), Error);  // separable + no penalty: infinite weights
  EXPECT_THROW(train_probe(s, {1, 1, 1, 1, 1, 1}), Error);
}

TEST(Probe, InterceptAndWeightsMatchTheL2Optimum) {
  // On standardised features the L2 optimum satisfies Σ(y − p) = 0 and Σ(y − p) z_j = l2·w_j.
  const Matrix s = rows({{0.3, 2}, {1.1, 0}, {-0.4, 1}, {2.0, 3}, {0.8, 1}, {-1.2, 0}, {1.5, 2}});
  const std::vector<int> y{0, 1, 0, 1, 1, 0, 0};
  const double l2 = 0.7;
  const Probe p = train_probe(s, y, l2);
  double g0 = 0, g1 = 0, g2 = 0;
  for (int64_t r = 0; r < s.rows; ++r) {
    const double e = y[r] - p.probability(s.row(r));
    g0 += e;
    g1 += e * (s.at(r, 0) - p.mean[0]) / p.scale[0];
    g2 += e * (s.at(r, 1) - p.mean[1]) / p.scale[1];
  }
  EXPECT_NEAR(g0, 0.0, 1e-12);
  EXPECT_NEAR(g1, l2 * p.weights[0], 1e-12);
  EXPECT_NEAR(g2, l2 * p.weights[1], 1e-12);
}

TEST(DirectionAccuracy, MidpointThreshold) {
  // projections on (1, 0): class 1 at 2, 4, 0.5; class 0 at 0, 1: threshold (6.5/3 + 0.5)/2
  const Matrix s = rows({{2, 9}, {4, 9}, {0.5, 9}, {0, 9}, {1, 9}});
  const std::vector<int> y{1, 1, 1, 0, 0};
  const std::vector<double> d{1, 0};
  const double t = midpoint_threshold(s, y, d);
  EXPECT_NEAR(t, (6.5 / 3 + 0.5) / 2, 1e-15);
  EXPECT_DOUBLE_EQ(direction_accuracy(s, y, d, t), 4.0 / 5.0);  // only 0.5 (class 1) is below 1.33
  EXPECT_DOUBLE_EQ(direction_accuracy(s, y, d, 0.7), 3.0 / 5.0);  // 0.5 (class 1) below, 1 (class 0) above
  EXPECT_THROW(direction_accuracy(s, y, {1, 0, 0}, t), Error);
  EXPECT_THROW(midpoint_threshold(s, {1, 1, 1, 1, 1}, d), Error);
}

}  // namespace
}  // namespace isc::concepts
