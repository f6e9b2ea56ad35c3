// Tests of accuracy and parse rate: hand-computed cases (unparseable counts as wrong, overrides are
// trusted) and the errors for empty, mismatched and out-of-range input.
#include "metrics/accuracy.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/error.h"

namespace isc::metrics {
namespace {

TEST(Accuracy, UnparseableCountsAsWrong) {
  // answers {0, 1, -1, 2} vs gold {0, 2, 1, 2}: item 0 right, 1 wrong, 2 unparseable (wrong), 3 right
  // accuracy = 2/4 = 0.5; parsed = 3/4 = 0.75
  const std::vector<int> answers{0, 1, -1, 2};
  const std::vector<int> gold{0, 2, 1, 2};
  const AccuracyResult r = accuracy(answers, gold);
  EXPECT_EQ(r.n, 4u);
  EXPECT_EQ(r.n_correct, 2u);
  EXPECT_EQ(r.n_parsed, 3u);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(r.parse_rate, 0.75);
}

TEST(Accuracy, AllUnparseable) {
  const std::vector<int> answers{-1, -1};
  const std::vector<int> gold{0, 1};
  const AccuracyResult r = accuracy(answers, gold);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.0);
  EXPECT_DOUBLE_EQ(r.parse_rate, 0.0);
}

TEST(Accuracy, CorrectnessGivenByScorer) {
  // open generation: no option index (-1) yet the scorer says 2 of 3 are acceptable: 2/3; parse rate 1/3
  const std::vector<AnswerState> states{{-1, true}, {-1, true}, {0, false}};
  const AccuracyResult r = accuracy_of(states);
  EXPECT_EQ(r.n_correct, 2u);
  EXPECT_NEAR(r.accuracy, 2.0 / 3.0, 1e-15);
  EXPECT_NEAR(r.parse_rate, 1.0 / 3.0, 1e-15);
}

TEST(Accuracy, RejectsBadInput) {
  const std::vector<int> none;
  EXPECT_THROW(accuracy(none, none), Error);
  const std::vector<int> two{0, 1}, one{0};
  EXPECT_THROW(accuracy(two, one), Error);
  const std::vector<int> below{-2}, g{0};
  EXPECT_THROW(accuracy(below, g), Error);
  const std::vector<int> a{0}, no_gold{-1};
  EXPECT_THROW(accuracy(a, no_gold), Error);
  EXPECT_THROW(accuracy_of(std::vector<AnswerState>{}), Error);
}

TEST(Accuracy, MessageNamesMetricAndProblem) {
  const std::vector<int> two{0, 1}, one{0};
  try {
    accuracy(two, one);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "accuracy: 2 answers but 1 gold labels");
  }
}

}  // namespace
}  // namespace isc::metrics
