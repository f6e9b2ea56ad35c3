// Tests of answer transitions between consecutive rounds: correctness moves, changed/unchanged
// answers and the option×option matrix (with its unparseable row/column), on a hand-built case.
#include "metrics/transitions.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/error.h"

namespace isc::metrics {
namespace {

TEST(Transitions, HandCounted) {
  // conversation: previous → current
  //   0: 0 right → 0 right   (RR, unchanged)
  //   1: 0 right → 1 wrong   (RW, changed)
  //   2: 1 wrong → 0 right   (WR, changed)
  //   3: 2 wrong → 2 wrong   (WW, unchanged)
  //   4: unparseable → 1 wrong (WW, changed)
  const std::vector<AnswerState> prev{{0, true}, {0, true}, {1, false}, {2, false}, {-1, false}};
  const std::vector<AnswerState> cur{{0, true}, {1, false}, {0, true}, {2, false}, {1, false}};
  const TransitionCounts t = answer_transitions(prev, cur, 3);
  EXPECT_EQ(t.n, 5u);
  EXPECT_EQ(t.right_to_right, 1u);
  EXPECT_EQ(t.right_to_wrong, 1u);
  EXPECT_EQ(t.wrong_to_right, 1u);
  EXPECT_EQ(t.wrong_to_wrong, 2u);
  EXPECT_EQ(t.changed, 3u);
  EXPECT_EQ(t.unchanged, 2u);
  EXPECT_DOUBLE_EQ(t.change_rate(), 0.6);
  ASSERT_EQ(t.matrix.size(), 4u);  // 3 options + unparseable
  EXPECT_EQ(t.count(0, 0), 1u);
  EXPECT_EQ(t.count(0, 1), 1u);
  EXPECT_EQ(t.count(1, 0), 1u);
  EXPECT_EQ(t.count(2, 2), 1u);
  EXPECT_EQ(t.count(-1, 1), 1u);
  EXPECT_EQ(t.matrix[3][1], 1u);  // the same cell, indexed directly
  std::size_t total = 0;
  for (const auto& row : t.matrix)
    for (std::size_t c : row) total += c;
  EXPECT_EQ(total, 5u);
}

TEST(Transitions, UnparseableToUnparseableIsUnchanged) {
  const std::vector<AnswerState> prev{{-1, false}};
  const std::vector<AnswerState> cur{{-1, false}};
  const TransitionCounts t = answer_transitions(prev, cur, 2);
  EXPECT_EQ(t.unchanged, 1u);
  EXPECT_EQ(t.count(-1, -1), 1u);
}

TEST(Transitions, NoOptionsLeavesOnlyTheUnparseableCell) {
  // open generation scored externally: right → wrong with no option index
  const std::vector<AnswerState> prev{{-1, true}};
  const std::vector<AnswerState> cur{{-1, false}};
  const TransitionCounts t = answer_transitions(prev, cur, 0);
  EXPECT_EQ(t.right_to_wrong, 1u);
  EXPECT_EQ(t.count(-1, -1), 1u);
}

TEST(Transitions, RejectsBadInput) {
  const std::vector<AnswerState> one{{0, true}};
  const std::vector<AnswerState> two{{0, true}, {1, false}};
  const std::vector<AnswerState> none;
  EXPECT_THROW(answer_transitions(one, two, 3), Error);
  EXPECT_THROW(answer_transitions(none, none, 3), Error);
  EXPECT_THROW(answer_transitions(one, one, -1), Error);
  const std::vector<AnswerState> out_of_range{{3, false}};
  EXPECT_THROW(answer_transitions(one, out_of_range, 3), Error);
  const TransitionCounts t = answer_transitions(one, one, 3);
  EXPECT_THROW(t.count(3, 0), Error);
  EXPECT_THROW(t.count(0, -2), Error);
}

}  // namespace
}  // namespace isc::metrics
