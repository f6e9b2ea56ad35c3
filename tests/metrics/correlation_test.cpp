// Tests of Pearson / Spearman correlation: hand-computed r and p (n = 3 and 4, where Student's t has
// closed forms), average ranks with ties, and the errors for constant, short or mismatched samples.
#include "metrics/correlation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "common/error.h"

namespace isc::metrics {
namespace {

TEST(Correlation, PearsonHandCase) {
  // x = 1..5, y = 2,4,5,4,5: Sxy = 6, Sxx = 10, Syy = 6, r = 6/√60; t = r√(3/(1−r²)) = 3/√2 with 3 df.
  const std::vector<double> x{1, 2, 3, 4, 5}, y{2, 4, 5, 4, 5};
  const Correlation c = pearson(x, y);
  EXPECT_NEAR(c.r, 6.0 / std::sqrt(60.0), 1e-15);
  EXPECT_EQ(c.n, 5);
  // Student t(3): P(|T| > t) = 1 − (2/π)(atan(t/√3) + (t/√3)/(1 + t²/3)).
  const double u = (3.0 / std::sqrt(2.0)) / std::sqrt(3.0);
  const double p = 1.0 - 2.0 / std::numbers::pi * (std::atan(u) + u / (1.0 + u * u));
  EXPECT_NEAR(c.p_value, p, 1e-13);
  EXPECT_NEAR(c.p_value, 0.1240270626575546, 1e-12);  // scipy.stats.pearsonr
}

TEST(Correlation, PearsonThreePointsCauchyTail) {
  // x = 1,2,3, y = 1,3,2: r = 1/2, t = 1/√3 with 1 df (Cauchy): p = 1 − (2/π) atan(1/√3) = 2/3.
  const std::vector<double> x{1, 2, 3}, y{1, 3, 2};
  const Correlation c = pearson(x, y);
  EXPECT_NEAR(c.r, 0.5, 1e-15);
  EXPECT_NEAR(c.p_value, 2.0 / 3.0, 1e-13);
}

TEST(Correlation, PerfectCorrelationHasZeroP) {
  const std::vector<double> x{1, 2, 3, 4}, y{-2, -4, -6, -8};
  const Correlation c = pearson(x, y);
  EXPECT_DOUBLE_EQ(c.r, -1.0);
  EXPECT_DOUBLE_EQ(c.p_value, 0.0);
}

TEST(Correlation, SpearmanWithTies) {
  // ranks x = 1, 2.5, 2.5, 4; ranks y = 1, 3, 2, 4: Sxy = 4.5, Sxx = 4.5, Syy = 5 → rho = 3/√10;
  // t = rho·√(2/(1−rho²)) with 2 df: p = 1 − t/√(t² + 2).
  const std::vector<double> x{1, 2, 2, 3}, y{1, 3, 2, 4};
  const Correlation c = spearman(x, y);
  const double rho = 3.0 / std::sqrt(10.0);
  EXPECT_NEAR(c.r, rho, 1e-15);
  const double t = rho * std::sqrt(2.0 / (1.0 - rho * rho));
  EXPECT_NEAR(c.p_value, 1.0 - t / std::sqrt(t * t + 2.0), 1e-13);
}

TEST(Correlation, SpearmanIsRankBased) {
  const std::vector<double> x{0.1, 0.5, 2, 7, 30}, y{1, 8, 27, 64, 1000};  // monotone, far from linear
  EXPECT_NEAR(spearman(x, y).r, 1.0, 1e-15);
  EXPECT_LT(pearson(x, y).r, 0.999);
}

TEST(Correlation, AverageRanks) {
  const std::vector<double> x{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
  std::vector<double> r(x.size());
  average_ranks(x, r);
  // scipy.stats.rankdata(x, method="average")
  const std::vector<double> want{4.5, 1.5, 6, 1.5, 8, 11, 3, 10, 8, 4.5, 8};
  for (size_t i = 0; i < x.size(); ++i) EXPECT_DOUBLE_EQ(r[i], want[i]) << i;
  std::vector<double> wrong(3);
  EXPECT_THROW(average_ranks(x, wrong), Error);
}

TEST(Correlation, ErrorsSayWhatIsWrong) {
  const std::vector<double> c{2, 2, 2, 2}, v{1, 2, 3, 4}, shorter{1, 2, 3};
  auto message = [](auto f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([&] { pearson(c, v); }), "pearson: x is constant (correlation undefined)");
  EXPECT_EQ(message([&] { spearman(v, c); }), "spearman: y is constant (correlation undefined)");
  EXPECT_NE(message([&] { pearson(v, shorter); }).find("x has 4 values but y has 3"), std::string::npos);
  const std::vector<double> two{1, 2};
  EXPECT_NE(message([&] { pearson(two, two); }).find("at least 3"), std::string::npos);
  std::vector<double> nan = v;
  nan[2] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(message([&] { spearman(nan, v); }).find("not finite"), std::string::npos);
}

}  // namespace
}  // namespace isc::metrics
