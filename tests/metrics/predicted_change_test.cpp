// Tests of the --predict-stop rule: the change between states and the geometric extrapolation of a
// conversation's last two changes, on hand-computed cases and its refusals.
#include "metrics/predicted_change.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "common/error.h"

namespace isc::metrics {
namespace {

using States = std::vector<std::vector<double>>;

TEST(PredictedChange, StateChangeIsTotalVariationOrAbsoluteDifference) {
  const std::vector<double> a{0.5, 0.3, 0.2}, b{0.2, 0.3, 0.5};
  EXPECT_DOUBLE_EQ(state_change(a, b), 0.3);  // ½(0.3 + 0 + 0.3)
  const std::vector<double> x{0.25}, y{0.75};
  EXPECT_DOUBLE_EQ(state_change(x, y), 0.5);
  EXPECT_THROW(state_change(a, x), Error);
  EXPECT_THROW(state_change(std::vector<double>{}, std::vector<double>{}), Error);
  EXPECT_THROW(state_change(std::vector<double>{std::numeric_limits<double>::quiet_NaN()}, x), Error);
}

TEST(PredictedChange, GeometricTailOfTheLastTwoChanges) {
  // changes 0.5 then 0.25: ρ = 0.5, remaining = 0.25·0.5/(1 − 0.5) = 0.25 (exact in binary)
  const States s{{1.0}, {0.5}, {0.25}};
  ASSERT_TRUE(predicted_remaining_change(s).has_value());
  EXPECT_EQ(*predicted_remaining_change(s), 0.25);
  EXPECT_FALSE(predicted_settled(s, 0.25));  // strictly below
  EXPECT_TRUE(predicted_settled(s, 0.2500001));
  // a distribution: changes 0.5 then 0.125 (total variation), ρ = 0.25, remaining = 0.125/3
  const States d{{1.0, 0.0}, {0.5, 0.5}, {0.375, 0.625}};
  EXPECT_DOUBLE_EQ(*predicted_remaining_change(d), 0.125 * 0.25 / 0.75);
}

TEST(PredictedChange, StillAndGrowingAndShortHistories) {
  EXPECT_FALSE(predicted_remaining_change(States{{0.1}, {0.2}}).has_value());       // one change only
  EXPECT_DOUBLE_EQ(*predicted_remaining_change(States{{0.1}, {0.3}, {0.3}}), 0.0);  // stood still
  EXPECT_FALSE(predicted_remaining_change(States{{0.3}, {0.3}, {0.1}}).has_value());  // moved after a still round
  EXPECT_FALSE(predicted_remaining_change(States{{0.0}, {0.1}, {0.3}}).has_value());  // growing: ρ = 2
  EXPECT_FALSE(predicted_remaining_change(States{{0.0}, {0.25}, {0.5}}).has_value());  // ρ = 1
  // only the last three states matter
  EXPECT_EQ(*predicted_remaining_change(States{{9.0}, {1.0}, {0.5}, {0.25}}), 0.25);
}

TEST(PredictedChange, EpsilonMustBePositive) {
  const States s{{1.0}, {0.5}, {0.25}};
  EXPECT_THROW(predicted_settled(s, 0.0), Error);
  EXPECT_THROW(predicted_settled(s, -1.0), Error);
  EXPECT_THROW(predicted_settled(s, std::numeric_limits<double>::infinity()), Error);
}

}  // namespace
}  // namespace isc::metrics
