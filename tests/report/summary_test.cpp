// Tests of the per-round summaries on the synthetic store (2 conditions × 3 rounds × 30 items):
// accuracy, parse rate, transitions, ECE, entropy, bias, carry-forward and categories against
// values worked out by hand from the answer pattern in synthetic_store.h.
#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "metrics/bbq_bias.h"
#include "report/item_rows.h"
#include "report/run_summary.h"
#include "report_test_util.h"
#include "synthetic_store.h"

namespace isc::report {
namespace {

class SummaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    test::write_synthetic_store(dir_->file("s.sqlite"), {});
    Store store = Store::open(dir_->file("s.sqlite"), OpenMode::ReadOnly);
    summary_ = new RunSummary(summarize_run(store, "synthetic-run", SummaryOptions{}));
  }
  static void TearDownTestSuite() {
    delete summary_;
    delete dir_;
  }
  const ConditionSummary& condition(const std::string& name) {
    for (const ConditionSummary& c : summary_->conditions)
      if (c.condition == name) return c;
    throw std::runtime_error("no condition " + name);
  }
  static test::TempDir* dir_;
  static RunSummary* summary_;
};
test::TempDir* SummaryTest::dir_ = nullptr;
RunSummary* SummaryTest::summary_ = nullptr;

TEST_F(SummaryTest, BaselineAccuracyParseRateAndTransitions) {
  const ConditionSummary& c = condition("baseline");
  ASSERT_EQ(c.rounds.size(), 3u);
  EXPECT_EQ(c.rows.carried, 0u);
  EXPECT_EQ(c.rows.stored, 90u);
  // round 1: items 0..17 right, 29 unparseable; rounds 2-3: items 2..20 right
  EXPECT_DOUBLE_EQ(c.rounds[0].accuracy.accuracy, 18.0 / 30);
  EXPECT_DOUBLE_EQ(c.rounds[0].accuracy.parse_rate, 29.0 / 30);
  EXPECT_DOUBLE_EQ(c.rounds[1].accuracy.accuracy, 19.0 / 30);
  EXPECT_DOUBLE_EQ(c.rounds[2].accuracy.accuracy, 19.0 / 30);
  EXPECT_FALSE(c.rounds[0].transitions);
  ASSERT_TRUE(c.rounds[1].transitions);
  EXPECT_EQ(c.rounds[1].transitions->right_to_wrong, 2u);  // items 0, 1
  EXPECT_EQ(c.rounds[1].transitions->wrong_to_right, 3u);  // items 18, 19, 20
  EXPECT_EQ(c.rounds[1].transitions->changed, 6u);         // those five and item 29 (unparseable -> wrong)
  EXPECT_EQ(c.rounds[2].transitions->changed, 0u);
  // ECE, round 1: 29 answers at confidence 0.7 with 18 right, one at 1/3 (argmax 0, gold 1) wrong
  ASSERT_TRUE(c.rounds[0].calibration);
  EXPECT_NEAR(c.rounds[0].calibration->ece, 29.0 / 30 * std::abs(18.0 / 29 - 0.7) + 1.0 / 30 * (1.0 / 3), 1e-12);
  // accuracy 0.6, 0.633, 0.633 settles at round 2 with ε = 0.01
  EXPECT_EQ(c.convergence.accuracy.round, 2);
  ASSERT_TRUE(c.rounds[1].accuracy_ci);
  EXPECT_LE(c.rounds[1].accuracy_ci->lower, 19.0 / 30);
  EXPECT_GE(c.rounds[1].accuracy_ci->upper, 19.0 / 30);
}

TEST_F(SummaryTest, EarlyStoppedConversationsAreCarriedForward) {
  const ConditionSummary& c = condition("self-correct");
  // items < 12 and >= 24 held their answer from round 1 to 2 and stopped; 12..23 ran round 3
  EXPECT_EQ(c.rows.carried, 18u);
  EXPECT_EQ(c.rows.stored, 72u);
  EXPECT_EQ(c.rows.missing, 0u);
  ASSERT_EQ(c.rounds.size(), 3u);
  EXPECT_EQ(c.rounds[2].n_items, 30u);
  EXPECT_DOUBLE_EQ(c.rounds[0].accuracy.accuracy, 12.0 / 30);
  EXPECT_DOUBLE_EQ(c.rounds[1].accuracy.accuracy, 24.0 / 30);
  EXPECT_DOUBLE_EQ(c.rounds[2].accuracy.accuracy, 24.0 / 30);
  EXPECT_EQ(c.rounds[1].transitions->wrong_to_right, 12u);
  EXPECT_EQ(c.rounds[2].transitions->changed, 0u);
  // round 1 every answer at p = 0.6, the others 0.2: H = −(0.6 ln 0.6 + 2 · 0.2 ln 0.2)
  ASSERT_TRUE(c.rounds[0].entropy);
  EXPECT_NEAR(c.rounds[0].entropy->mean, -(0.6 * std::log(0.6) + 0.4 * std::log(0.2)), 1e-12);
  // round 3: carried rows keep round 2's p = 0.7 (12 items), the rest ran round 3 at p = 0.8
  const double h7 = -(0.7 * std::log(0.7) + 0.3 * std::log(0.15)), h8 = -(0.8 * std::log(0.8) + 0.2 * std::log(0.1));
  EXPECT_NEAR(c.rounds[2].entropy->mean, (18 * h7 + 12 * h8) / 30, 1e-12);
  ASSERT_TRUE(c.convergence.answers);
  // 18 conversations settle at round 1, 12 at round 2
  EXPECT_NEAR(c.convergence.answers->mean_round, (18 * 1 + 12 * 2) / 30.0, 1e-12);
}

TEST_F(SummaryTest, BiasUsesTheItemFieldsAndSkipsUnknownTargets) {
  const ConditionSummary& c = condition("baseline");
  EXPECT_EQ(c.n_bias_items, 29u);  // item 5 has target_index -1
  ASSERT_TRUE(c.rounds[0].bias);
  std::vector<metrics::BbqResponse> responses;
  for (int i = 0; i < 30; ++i) {
    if (i == 5) continue;
    metrics::BbqInfo info{i < 15 ? metrics::BbqContext::Ambiguous : metrics::BbqContext::Disambiguated,
                          i % 2 == 0 ? metrics::BbqPolarity::Negative : metrics::BbqPolarity::NonNegative, 0, 1, 2};
    responses.push_back({info, test::synthetic_answer("baseline", i, 1, 30), test::synthetic_gold(i, 30)});
  }
  const metrics::BbqBiasScores expected = metrics::bbq_bias_scores(responses);
  EXPECT_EQ(c.rounds[0].bias->scores.ambiguous.n_items, 14u);
  EXPECT_EQ(c.rounds[0].bias->scores.disambiguated.n_items, 15u);
  EXPECT_EQ(c.rounds[0].bias->scores.ambiguous.score, expected.ambiguous.score);
  EXPECT_EQ(c.rounds[0].bias->scores.disambiguated.score, expected.disambiguated.score);
  ASSERT_TRUE(expected.disambiguated.score);
  // accuracy and the rest are over all 30 items, bias over the 29 eligible
  EXPECT_EQ(c.rounds[0].accuracy.n, 30u);
}

TEST_F(SummaryTest, CategoryBreakdown) {
  const ConditionSummary& c = condition("baseline");
  ASSERT_EQ(c.categories.size(), 3u);
  EXPECT_EQ(c.categories[0].category, "Age");
  EXPECT_EQ(c.categories[0].n_items, 10u);
  // Age = i % 3 == 0; round 1 right for i < 18: 0, 3, 6, 9, 12, 15
  EXPECT_DOUBLE_EQ(c.categories[0].rounds[0].accuracy.accuracy, 0.6);
  EXPECT_FALSE(c.categories[0].rounds[0].accuracy_ci);  // point values only
}

TEST_F(SummaryTest, RunHeaderFields) {
  EXPECT_EQ(summary_->n_items, 30u);
  EXPECT_EQ(summary_->run.status, "finished");
  ASSERT_TRUE(tokens_per_second(summary_->run));
  EXPECT_DOUBLE_EQ(*tokens_per_second(summary_->run), 200.0);
}

ItemRecord bbq_item(const std::string& id, nlohmann::json fields) {
  ItemRecord item;
  item.item_id = id;
  item.options = {"a", "b", "c"};
  item.gold = 2;
  item.fields = std::move(fields);
  return item;
}

TEST(ItemRows, BbqInfoFromFields) {
  auto info = bbq_info(bbq_item("x", {{"unknown_index", 1}, {"target_index", 2}, {"question_polarity", "nonneg"},
                                      {"context_condition", "disambig"}}));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->unknown_option, 1);
  EXPECT_EQ(info->target_option, 2);
  EXPECT_EQ(info->non_target_option, 0);
  EXPECT_EQ(info->polarity, metrics::BbqPolarity::NonNegative);
  EXPECT_EQ(info->context, metrics::BbqContext::Disambiguated);
  EXPECT_FALSE(bbq_info(bbq_item("y", {{"context", "no bbq here"}})));
  try {
    bbq_info(bbq_item("z", {{"unknown_index", 1}, {"target_index", 0}, {"question_polarity", "sideways"},
                            {"context_condition", "ambig"}}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("item 'z'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sideways"), std::string::npos) << e.what();
  }
}

RoundRecord stored(const std::string& item, int round, int answer, bool stop = false) {
  RoundRecord r;
  r.condition = "c";
  r.item_id = item;
  r.round = round;
  r.answer_index = answer;
  r.correct = answer == 2;
  r.option_probs = {0.2, 0.2, 0.6};
  if (stop) r.extra["early_stopped"] = true;
  return r;
}

TEST(ItemRows, CarriesEarlyStopsAndCountsMissingRounds) {
  const std::vector<ItemRecord> items = {bbq_item("a", {}), bbq_item("b", {})};
  // a stopped after round 2 of 4; b ran rounds 1-2 and the run was killed
  const std::vector<RoundRecord> rounds = {stored("a", 1, 2), stored("a", 2, 2, true), stored("b", 2, 1),
                                           stored("b", 1, 0)};
  RowStats stats;
  const auto rows = item_rounds(items, rounds, 4, &stats);
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(stats.carried, 2u);
  EXPECT_EQ(stats.missing, 2u);
  EXPECT_EQ(stats.conversations, 2u);
  EXPECT_EQ(rows[2].item_id, "a");
  EXPECT_EQ(rows[2].round, 3);
  EXPECT_EQ(rows[3].round, 4);
  EXPECT_EQ(rows[3].answer, 2);
  EXPECT_EQ(rows[4].item_id, "b");  // b sorted by round
  EXPECT_EQ(rows[4].round, 1);
  EXPECT_EQ(rows[4].answer, 0);
  // and the metrics accept the ragged rounds (measured on the rows each round has)
  metrics::MetricsOptions options;
  options.require_same_items_each_round = false;
  options.bootstrap_resamples = 0;
  const auto m = condition_metrics(rows, options);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[3].n_items, 1u);
}

TEST(ItemRows, StrayItemIsAnError) {
  const std::vector<ItemRecord> items = {bbq_item("a", {})};
  try {
    item_rounds(items, {stored("ghost", 1, 0)}, 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ghost"), std::string::npos) << e.what();
  }
}

TEST(RunSelection, NamesTheStoreAndItsRuns) {
  test::TempDir dir;
  test::write_synthetic_store(dir.file("s.sqlite"), {});
  Store store = Store::open(dir.file("s.sqlite"), OpenMode::ReadOnly);
  EXPECT_EQ(select_runs(store, std::nullopt), std::vector<std::string>{"synthetic-run"});
  try {
    select_runs(store, std::string("nope"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("s.sqlite"), std::string::npos) << what;
    EXPECT_NE(what.find("synthetic-run"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace isc::report
