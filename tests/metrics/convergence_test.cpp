// Tests of the convergence round of a per-round series (settled within ε of the value at r and of
// the final value) and of per-conversation answer convergence with its mean.
#include "metrics/convergence.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "common/error.h"

namespace isc::metrics {
namespace {

TEST(Convergence, SettlesAfterFirstJump) {
  // ε = 0.02: r = 0 fails (|0.7 - 0.5| > ε); r = 1: 0.7, 0.71, 0.70 all within 0.01 of 0.7 and of 0.70
  const std::vector<double> v{0.5, 0.7, 0.71, 0.70};
  EXPECT_EQ(convergence_index(v, 0.02), 1u);
  const std::vector<int> rounds{1, 2, 3, 4};
  const ConvergencePoint p = convergence_round(rounds, v, 0.02);
  EXPECT_EQ(p.index, 1u);
  EXPECT_EQ(p.round, 2);
}

TEST(Convergence, SlowDriftIsNotConvergence) {
  // each step 0.01 < ε = 0.015, but |0.04 - v_r| <= ε first holds at r = 3 (|0.04 - 0.03| = 0.01)
  const std::vector<double> v{0.0, 0.01, 0.02, 0.03, 0.04};
  EXPECT_EQ(convergence_index(v, 0.015), 3u);
}

TEST(Convergence, SmallestSettledIndexEvenIfLaterOnesAreNot) {
  // ε = 1: r = 0 (value 0 = final value 0): |1|, |-1|, |0| all <= 1 → settled at 0, although r = 1
  // is not (|-1 - 1| = 2)
  const std::vector<double> v{0.0, 1.0, -1.0, 0.0};
  EXPECT_EQ(convergence_index(v, 1.0), 0u);
}

TEST(Convergence, EdgeCases) {
  EXPECT_EQ(convergence_index(std::vector<double>{0.3}, 0.0), 0u);
  EXPECT_EQ(convergence_index(std::vector<double>{0.3, 0.3, 0.3}, 0.0), 0u);
  EXPECT_EQ(convergence_index(std::vector<double>{1.0, 2.0, 2.0}, 0.0), 1u);
  EXPECT_EQ(convergence_index(std::vector<double>{1.0, 2.0, 3.0}, 0.5), 2u);  // only the last
}

TEST(Convergence, RejectsBadInput) {
  EXPECT_THROW(convergence_index(std::vector<double>{}, 0.1), Error);
  EXPECT_THROW(convergence_index(std::vector<double>{1.0}, -0.1), Error);
  EXPECT_THROW(convergence_index(std::vector<double>{std::numeric_limits<double>::quiet_NaN()}, 0.1), Error);
  EXPECT_THROW(convergence_round(std::vector<int>{1}, std::vector<double>{1.0, 2.0}, 0.1), Error);
}

TEST(AnswerConvergence, FirstRoundOfTheFinalAnswer) {
  const std::vector<int> rounds{1, 2, 3, 4};
  EXPECT_EQ(answer_convergence(rounds, std::vector<int>{0, 1, 1, 1}).round, 2);
  EXPECT_EQ(answer_convergence(rounds, std::vector<int>{0, 1, 0, 0}).round, 3);  // returned to 0 at round 3
  EXPECT_EQ(answer_convergence(rounds, std::vector<int>{2, 2, 2, 2}).round, 1);
  EXPECT_EQ(answer_convergence(rounds, std::vector<int>{0, 1, 2, -1}).round, 4);
  EXPECT_EQ(answer_convergence(rounds, std::vector<int>{-1, -1, 0, 0}).index, 2u);
  EXPECT_THROW(answer_convergence(rounds, std::vector<int>{0}), Error);
  EXPECT_THROW(answer_convergence(std::vector<int>{}, std::vector<int>{}), Error);
}

TEST(AnswerConvergence, MeanOverConversations) {
  // rounds 1..3: {0,0,0} → 1, {0,1,1} → 2, {1,0,2} → 3: mean 2, settled at first 1/3
  const std::vector<int> rounds{1, 2, 3};
  const std::vector<std::vector<int>> answers{{0, 0, 0}, {0, 1, 1}, {1, 0, 2}};
  const ConversationConvergence c = conversation_convergence(rounds, answers);
  EXPECT_EQ(c.round_per_conversation, (std::vector<int>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(c.mean_round, 2.0);
  EXPECT_NEAR(c.share_settled_at_first, 1.0 / 3.0, 1e-15);
  EXPECT_THROW(conversation_convergence(rounds, std::vector<std::vector<int>>{}), Error);
  EXPECT_THROW(conversation_convergence(rounds, std::vector<std::vector<int>>{{0, 0}}), Error);
}

}  // namespace
}  // namespace isc::metrics
