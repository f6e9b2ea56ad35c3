// Tests of predictive entropy over answer options: closed-form cases, the numpy cross-check on a
// fixed set, and rejection of malformed distributions.
#include "metrics/entropy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "common/error.h"
#include "numpy_reference_set.h"

namespace isc::metrics {
namespace {

TEST(Entropy, ClosedForms) {
  const std::vector<double> uniform3{1.0 / 3, 1.0 / 3, 1.0 / 3};
  EXPECT_NEAR(entropy_nats(uniform3), std::log(3.0), 1e-12);  // -3 · (1/3) ln(1/3) = ln 3
  EXPECT_NEAR(normalized_entropy(uniform3), 1.0, 1e-12);
  const std::vector<double> certain{0.0, 1.0, 0.0};
  EXPECT_DOUBLE_EQ(entropy_nats(certain), 0.0);  // 0 ln 0 taken as 0
  const std::vector<double> half_quarter{0.5, 0.25, 0.25};
  // 0.5 ln 2 + 2 · 0.25 ln 4 = 0.5 ln 2 + ln 2 = 1.5 ln 2 = 1.0397...; / ln 3 = 0.94639...
  EXPECT_NEAR(entropy_nats(half_quarter), 1.5 * std::log(2.0), 1e-12);
  EXPECT_NEAR(normalized_entropy(half_quarter), 1.5 * std::log(2.0) / std::log(3.0), 1e-12);
}

TEST(Entropy, SummaryPerItemAndMean) {
  const std::vector<std::vector<double>> d{{1.0, 0.0, 0.0}, {1.0 / 3, 1.0 / 3, 1.0 / 3}, {0.5, 0.5}};
  const EntropySummary s = entropy_summary(d);
  ASSERT_EQ(s.per_item.size(), 3u);
  EXPECT_NEAR(s.per_item[1], std::log(3.0), 1e-12);
  EXPECT_NEAR(s.per_item_normalized[2], 1.0, 1e-12);  // ln 2 / ln 2: K is per item
  // mean = (0 + ln 3 + ln 2) / 3; normalised mean = (0 + 1 + 1) / 3
  EXPECT_NEAR(s.mean, (std::log(3.0) + std::log(2.0)) / 3.0, 1e-12);
  EXPECT_NEAR(s.mean_normalized, 2.0 / 3.0, 1e-12);
}

TEST(Entropy, MatchesNumpy) {
  const EntropySummary s = entropy_summary(testdata::kProbs);
  EXPECT_NEAR(s.mean, testdata::kEntropyMean, 1e-12);
  EXPECT_NEAR(s.mean_normalized, testdata::kEntropyMeanNormalized, 1e-12);
}

TEST(Entropy, RejectsMalformedDistributions) {
  EXPECT_THROW(entropy_nats(std::vector<double>{}), Error);
  EXPECT_THROW(entropy_nats(std::vector<double>{0.5, 0.4}), Error);  // sums to 0.9
  EXPECT_THROW(entropy_nats(std::vector<double>{1.2, -0.2}), Error);
  EXPECT_THROW(entropy_nats(std::vector<double>{std::numeric_limits<double>::quiet_NaN(), 1.0}), Error);
  EXPECT_THROW(normalized_entropy(std::vector<double>{1.0}), Error);  // ln 1 = 0
  EXPECT_THROW(entropy_summary(std::vector<std::vector<double>>{}), Error);
  try {
    entropy_summary(std::vector<std::vector<double>>{{0.5, 0.5}, {0.3, 0.3, 0.3}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("item 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sum to 0.9"), std::string::npos) << e.what();
  }
}

TEST(Entropy, ToleranceAbsorbsRoundingOnly) {
  EXPECT_NO_THROW(entropy_nats(std::vector<double>{0.5, 0.5 + 1e-9}));
  EXPECT_THROW(entropy_nats(std::vector<double>{0.5, 0.5 + 1e-3}), Error);
  EXPECT_NO_THROW(entropy_nats(std::vector<double>{0.5, 0.5 + 1e-3}, 1e-2));
}

}  // namespace
}  // namespace isc::metrics
