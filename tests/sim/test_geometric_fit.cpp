// Units of the geometric curve fit: exact geometric series recovered (converging and oscillating),
// the three-round early prediction, and the messages for too few rounds, a flat series and |ρ| ≥ 1.
#include <cmath>

#include <gtest/gtest.h>

#include "sim/geometric_fit.h"
#include "../test_support.h"

namespace isc::sim {
namespace {

std::vector<SeriesPoint> geometric(double limit, double first, double rho, int rounds) {
  std::vector<SeriesPoint> s;
  for (int t = 1; t <= rounds; ++t) s.push_back({t, limit + (first - limit) * std::pow(rho, t - 1)});
  return s;
}

TEST(GeometricFit, RecoversAnExactSeries) {
  auto s = geometric(2.0, 5.0, 0.5, 8);
  std::swap(s[0], s[5]);  // any order
  const auto r = fit_geometric("mean option entropy", s);
  ASSERT_TRUE(r.fit) << r.fit_unavailable;
  EXPECT_NEAR(r.fit->rho, 0.5, 1e-8);
  EXPECT_NEAR(r.fit->y_limit, 2.0, 1e-8);
  EXPECT_NEAR(r.fit->y_first, 5.0, 1e-8);
  EXPECT_NEAR(*r.fit->r2, 1.0, 1e-12);
  EXPECT_EQ(r.series.front().round, 1);
  ASSERT_TRUE(r.early) << r.early_unavailable;
  EXPECT_NEAR(r.early->rho, 0.5, 1e-12);
  EXPECT_NEAR(r.early->y_limit, 2.0, 1e-12);
  EXPECT_NEAR(*r.early->later_mean_abs_error, 0.0, 1e-12);
  EXPECT_NEAR(r.early->at(20), 2.0 + 3.0 * std::pow(0.5, 19), 1e-12);
}

TEST(GeometricFit, RecoversAnOscillatingSeries) {
  const auto r = fit_geometric("mean concept score", geometric(-0.1, 0.3, -0.6, 10));
  ASSERT_TRUE(r.fit) << r.fit_unavailable;
  EXPECT_NEAR(r.fit->rho, -0.6, 1e-8);
  EXPECT_NEAR(r.fit->y_limit, -0.1, 1e-8);
  ASSERT_TRUE(r.early);
  EXPECT_NEAR(r.early->rho, -0.6, 1e-12);
}

TEST(GeometricFit, NoisySeriesIsALeastSquaresMinimum) {
  auto s = geometric(1.0, 3.0, 0.7, 9);
  const double noise[] = {0.02, -0.03, 0.01, 0.04, -0.02, 0.0, 0.03, -0.01, -0.02};
  for (std::size_t i = 0; i < s.size(); ++i) s[i].value += noise[i];
  const auto r = fit_geometric("x", s);
  ASSERT_TRUE(r.fit) << r.fit_unavailable;
  // No nearby ρ does better (variable projection: the inner problem is solved exactly for each ρ).
  for (double d : {-1e-3, 1e-3, -1e-2, 1e-2}) EXPECT_GE(fit_fixed_rho(s, r.fit->rho + d).sse, r.fit->sse);
  EXPECT_NEAR(fit_fixed_rho(s, r.fit->rho).sse, r.fit->sse, 1e-15);
  double sum = 0.0;
  for (double e : r.fit->residuals) sum += e;
  EXPECT_NEAR(sum, 0.0, 1e-12);  // an intercept-like parameter makes residuals sum to zero
  EXPECT_LT(*r.fit->r2, 1.0);
  EXPECT_GT(*r.fit->r2, 0.95);
}

TEST(GeometricFit, TooFewRounds) {
  const auto r = fit_geometric("x", geometric(0, 1, 0.5, 3));
  EXPECT_EQ(r.fit_unavailable, "the fit needs at least 4 rounds; the series has 3");
  ASSERT_TRUE(r.early);  // three rounds are enough for the early prediction
  EXPECT_FALSE(r.early->later_mean_abs_error);
  const auto two = fit_geometric("x", geometric(0, 1, 0.5, 2));
  EXPECT_EQ(two.early_unavailable, "the early prediction needs rounds 1, 2 and 3; round 3 is missing");
}

TEST(GeometricFit, FlatSeries) {
  const auto r = fit_geometric("x", {{1, 0.25}, {2, 0.25}, {3, 0.25}, {4, 0.25}});
  EXPECT_EQ(r.fit_unavailable, "the series is flat (0.25 at every round): nothing converges");
  EXPECT_EQ(r.early_unavailable, r.fit_unavailable);
  const auto j = to_json(r);
  EXPECT_EQ(j["fit"]["unavailable"], r.fit_unavailable);
  EXPECT_EQ(to_text(r), "geometric curve of x (4 rounds)\n  fit:   unavailable: " + r.fit_unavailable +
                            "\n  early: unavailable: " + r.early_unavailable + "\n");
}

TEST(GeometricFit, DivergingSeriesHasNoCurve) {
  const auto r = fit_geometric("x", geometric(0.0, 1.0, 2.0, 6));
  EXPECT_FALSE(r.fit);
  EXPECT_NE(r.fit_unavailable.find("|rho| >= 1"), std::string::npos) << r.fit_unavailable;
  EXPECT_EQ(r.early_unavailable, "rho = 2 from rounds 1-3: |rho| >= 1, the early curve does not converge");
  // Rounds 1 and 2 equal: the early ratio is undefined.
  const auto e = fit_geometric("x", {{1, 1.0}, {2, 1.0}, {3, 0.5}, {4, 0.4}});
  EXPECT_EQ(e.early_unavailable, "rounds 1 and 2 have the same value: rho = (y3 - y2) / (y2 - y1) is undefined");
}

TEST(GeometricFit, RejectsDuplicateRoundsAndNonFinite) {
  EXPECT_NE(test::error_message([] { fit_geometric("x", {{1, 0.0}, {1, 1.0}}); }).find("round 1 appears twice"),
            std::string::npos);
  EXPECT_NE(test::error_message([] { fit_geometric("x", {{1, NAN}}); }).find("not finite"), std::string::npos);
  EXPECT_NE(test::error_message([] { fit_geometric("x", {{0, 1.0}}); }).find("1-based"), std::string::npos);
}

TEST(GeometricFit, TextHasOneLinePerRound) {
  const auto r = fit_geometric("mean option entropy", geometric(2.0, 5.0, 0.5, 5));
  const std::string t = to_text(r);
  EXPECT_NE(t.find("round  5: observed 2.188, fit 2.188, early 2.188\n"), std::string::npos) << t;
  EXPECT_EQ(to_json(r)["series"].size(), 5u);
}

}  // namespace
}  // namespace isc::sim
