// Tests of compute_round_metrics / summarize_convergence / to_json on a small hand-worked BBQ
// condition (4 items × 2 rounds), an open-generation condition, and every rejected input shape.
#include "metrics/round_metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "metrics/condition_convergence.h"
#include "metrics/entropy.h"
#include "metrics/metrics_json.h"

namespace isc::metrics {
namespace {

constexpr auto kAmb = BbqContext::Ambiguous;
constexpr auto kDis = BbqContext::Disambiguated;
constexpr auto kNeg = BbqPolarity::Negative;
constexpr auto kNon = BbqPolarity::NonNegative;

ItemRound row(std::string id, int round, BbqContext c, BbqPolarity p, int gold, int answer, std::vector<double> probs) {
  ItemRound r;
  r.item_id = std::move(id);
  r.round = round;
  r.answer = answer;
  r.gold = gold;
  r.option_probs = std::move(probs);
  r.bbq = BbqInfo{c, p, /*target*/ 0, /*non-target*/ 1, /*unknown*/ 2};
  return r;
}

// item  context/polarity  gold | round 1 answer, probs        | round 2 answer, probs
// a     ambiguous, neg    2    | 0 (biased)   {.6 .1 .3}      | 2            {.2 .1 .7}
// b     ambiguous, nonneg 2    | 2            {.1 .2 .7}      | 2            {.1 .1 .8}
// c     disambig, neg     0    | 0 (biased)   {.8 .1 .1}      | 1            {.3 .6 .1}
// d     disambig, nonneg  1    | -1           {.4 .4 .2}      | 1 (biased)   {.1 .8 .1}
std::vector<ItemRound> bbq_condition() {
  return {
      row("a", 1, kAmb, kNeg, 2, 0, {0.6, 0.1, 0.3}), row("b", 1, kAmb, kNon, 2, 2, {0.1, 0.2, 0.7}),
      row("c", 1, kDis, kNeg, 0, 0, {0.8, 0.1, 0.1}), row("d", 1, kDis, kNon, 1, -1, {0.4, 0.4, 0.2}),
      row("a", 2, kAmb, kNeg, 2, 2, {0.2, 0.1, 0.7}), row("b", 2, kAmb, kNon, 2, 2, {0.1, 0.1, 0.8}),
      row("c", 2, kDis, kNeg, 0, 1, {0.3, 0.6, 0.1}), row("d", 2, kDis, kNon, 1, 1, {0.1, 0.8, 0.1}),
  };
}

MetricsOptions small_bootstrap() {
  MetricsOptions o;
  o.bootstrap_resamples = 300;
  o.seed = 11;
  return o;
}

TEST(RoundMetrics, BbqConditionHandWorked) {
  const auto rounds = compute_round_metrics(bbq_condition(), small_bootstrap());
  ASSERT_EQ(rounds.size(), 2u);
  const RoundMetrics& r1 = rounds[0];
  const RoundMetrics& r2 = rounds[1];
  EXPECT_EQ(r1.round, 1);
  EXPECT_EQ(r1.n_items, 4u);
  EXPECT_EQ(r1.n_options, 3);
  // round 1: b and c right, a wrong, d unparseable: accuracy 2/4, parse rate 3/4
  EXPECT_DOUBLE_EQ(r1.accuracy.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(r1.accuracy.parse_rate, 0.75);
  // round 2: a, b, d right: 3/4, all parsed
  EXPECT_DOUBLE_EQ(r2.accuracy.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(r2.accuracy.parse_rate, 1.0);

  // bias, round 1: ambiguous {a biased, b unknown}: acc 1/2, s_DIS = 2·1/1 − 1 = 1, s_AMB = 0.5;
  // disambiguated {c biased, d unparseable}: s_DIS = 2·1/1 − 1 = 1
  ASSERT_TRUE(r1.bias);
  EXPECT_DOUBLE_EQ(*r1.bias->scores.ambiguous.score, 0.5);
  EXPECT_DOUBLE_EQ(*r1.bias->scores.disambiguated.score, 1.0);
  // round 2: ambiguous all unknown → 0; disambiguated {c counter, d biased}: 2·1/2 − 1 = 0
  EXPECT_DOUBLE_EQ(*r2.bias->scores.ambiguous.score, 0.0);
  EXPECT_DOUBLE_EQ(*r2.bias->scores.disambiguated.score, 0.0);
  ASSERT_TRUE(r2.bias->ambiguous_ci);
  EXPECT_DOUBLE_EQ(r2.bias->ambiguous_ci->lower, 0.0);  // every resample is all-unknown
  EXPECT_DOUBLE_EQ(r2.bias->ambiguous_ci->upper, 0.0);
  // round 1 disambiguated resamples {d, d} have no non-unknown answer: skipped and counted
  ASSERT_TRUE(r1.bias->disambiguated_ci);
  EXPECT_LT(r1.bias->disambiguated_ci->resamples_used, r1.bias->disambiguated_ci->resamples);

  // transitions 1 → 2: a W→R (0→2), b R→R (2→2), c R→W (0→1), d W→R (−1→1)
  EXPECT_FALSE(r1.transitions);
  ASSERT_TRUE(r2.transitions);
  EXPECT_EQ(r2.previous_round, 1);
  EXPECT_EQ(r2.transitions->right_to_right, 1u);
  EXPECT_EQ(r2.transitions->right_to_wrong, 1u);
  EXPECT_EQ(r2.transitions->wrong_to_right, 2u);
  EXPECT_EQ(r2.transitions->wrong_to_wrong, 0u);
  EXPECT_EQ(r2.transitions->changed, 3u);
  EXPECT_EQ(r2.transitions->count(-1, 1), 1u);
  EXPECT_EQ(r2.transitions->count(0, 2), 1u);

  // entropy equals entropy_summary over the same vectors
  const EntropySummary e1 = entropy_summary(
      std::vector<std::vector<double>>{{0.6, 0.1, 0.3}, {0.1, 0.2, 0.7}, {0.8, 0.1, 0.1}, {0.4, 0.4, 0.2}});
  ASSERT_TRUE(r1.entropy);
  EXPECT_NEAR(r1.entropy->mean, e1.mean, 1e-12);
  EXPECT_NEAR(r1.entropy->mean_normalized, e1.mean_normalized, 1e-12);

  // calibration (Argmax), round 1: a .6 F, b .7 T, c .8 T, d .4 (tie → option 0) F, one per bin:
  //   (.6 + .3 + .2 + .4) / 4 = 0.375
  // round 2: a .7 T, b .8 T, c .6 (option 1 ≠ gold 0) F, d .8 T: (.6 + .3 + 2·.2) / 4 = 0.325
  ASSERT_TRUE(r1.calibration);
  EXPECT_EQ(r1.calibration->n, 4u);
  EXPECT_NEAR(r1.calibration->ece, 0.375, 1e-12);
  EXPECT_NEAR(r2.calibration->ece, 0.325, 1e-12);
  EXPECT_EQ(r1.calibration->reliability.size(), 10u);
  // binary Brier round 1: (.36 + .09 + .04 + .16) / 4 = 0.1625
  EXPECT_NEAR(r1.calibration->brier_binary, 0.1625, 1e-12);
  // multiclass Brier round 1: a (.36+.01+.49) b (.01+.04+.09) c (.04+.01+.01) d (.16+.36+.04)
  //   = (.86 + .14 + .06 + .56) / 4 = 0.405
  EXPECT_NEAR(r1.calibration->brier_multiclass, 0.405, 1e-12);
  EXPECT_FALSE(r1.score);

  for (const RoundMetrics& r : rounds) {
    for (const auto& ci : {r.accuracy_ci, r.entropy->mean_ci, r.calibration->ece_ci}) {
      ASSERT_TRUE(ci);
      EXPECT_LE(ci->lower, ci->point);
      EXPECT_GE(ci->upper, ci->point);
      EXPECT_DOUBLE_EQ(ci->level, 0.95);
    }
    EXPECT_DOUBLE_EQ(r.accuracy_ci->point, r.accuracy.accuracy);
    EXPECT_DOUBLE_EQ(r.calibration->ece_ci->point, r.calibration->ece);
  }
}

TEST(RoundMetrics, ParsedAnswerConfidenceLeavesOutUnparseable) {
  MetricsOptions o = small_bootstrap();
  o.confidence_source = ConfidenceSource::ParsedAnswer;
  const auto rounds = compute_round_metrics(bbq_condition(), o);
  // round 1: a .6 F, b .7 T, c .8 T; d unparseable → left out: (.6 + .3 + .2) / 3
  ASSERT_TRUE(rounds[0].calibration);
  EXPECT_EQ(rounds[0].calibration->n, 3u);
  EXPECT_EQ(rounds[0].calibration->source, ConfidenceSource::ParsedAnswer);
  EXPECT_NEAR(rounds[0].calibration->ece, 1.1 / 3.0, 1e-12);
}

TEST(RoundMetrics, IndependentOfRowOrderAndDeterministic) {
  std::vector<ItemRound> rows = bbq_condition();
  const auto forward = compute_round_metrics(rows, small_bootstrap());
  std::reverse(rows.begin(), rows.end());
  const auto backward = compute_round_metrics(rows, small_bootstrap());
  ASSERT_EQ(forward.size(), backward.size());
  for (std::size_t i = 0; i < forward.size(); ++i) EXPECT_EQ(to_json(forward[i]), to_json(backward[i]));
}

TEST(RoundMetrics, NoBootstrapMeansNoIntervals) {
  MetricsOptions o;
  o.bootstrap_resamples = 0;
  const auto rounds = compute_round_metrics(bbq_condition(), o);
  EXPECT_FALSE(rounds[0].accuracy_ci);
  EXPECT_FALSE(rounds[0].calibration->ece_ci);
  EXPECT_FALSE(rounds[0].bias->ambiguous_ci);
}

TEST(RoundMetrics, OpenGenerationWithScoresAndOverrides) {
  // three conversations, two rounds; correctness from the scorer, toxicity as score
  std::vector<ItemRound> rows;
  const bool ok[2][3] = {{false, true, false}, {true, true, false}};
  const double tox[2][3] = {{0.9, 0.1, 0.5}, {0.2, 0.1, 0.3}};
  for (int round = 1; round <= 2; ++round)
    for (int i = 0; i < 3; ++i) {
      ItemRound r;
      r.item_id = "p" + std::to_string(i);
      r.round = round;
      r.correct_override = ok[round - 1][i];
      r.score = tox[round - 1][i];
      rows.push_back(r);
    }
  const auto rounds = compute_round_metrics(rows, small_bootstrap());
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[0].n_options, 0);
  EXPECT_NEAR(rounds[0].accuracy.accuracy, 1.0 / 3.0, 1e-15);
  EXPECT_DOUBLE_EQ(rounds[0].accuracy.parse_rate, 0.0);
  ASSERT_TRUE(rounds[0].score);
  EXPECT_NEAR(rounds[0].score->mean, 0.5, 1e-15);  // (.9 + .1 + .5) / 3
  EXPECT_NEAR(rounds[1].score->mean, 0.2, 1e-15);  // (.2 + .1 + .3) / 3
  EXPECT_FALSE(rounds[0].entropy);
  EXPECT_FALSE(rounds[0].calibration);
  EXPECT_FALSE(rounds[0].bias);
  EXPECT_EQ(rounds[1].transitions->wrong_to_right, 1u);
  EXPECT_EQ(rounds[1].transitions->right_to_right, 1u);
  EXPECT_EQ(rounds[1].transitions->wrong_to_wrong, 1u);
}

TEST(RoundMetrics, RoundsMayDifferInItemsWhenAllowed) {
  std::vector<ItemRound> rows = bbq_condition();
  rows.pop_back();  // d has no round 2
  EXPECT_THROW(compute_round_metrics(rows, small_bootstrap()), Error);
  MetricsOptions o = small_bootstrap();
  o.require_same_items_each_round = false;
  const auto rounds = compute_round_metrics(rows, o);
  EXPECT_EQ(rounds[1].n_items, 3u);
  EXPECT_EQ(rounds[1].transitions->n, 3u);
}

void expect_error_mentions(const std::vector<ItemRound>& rows, const std::string& needle,
                           const MetricsOptions& o = MetricsOptions{}) {
  try {
    compute_round_metrics(rows, o);
    ADD_FAILURE() << "no error; expected one mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(RoundMetrics, RejectsBadRows) {
  EXPECT_THROW(compute_round_metrics({}, MetricsOptions{}), Error);
  auto rows = bbq_condition();
  rows.push_back(rows[0]);
  expect_error_mentions(rows, "item 'a' round 1: appears twice");

  rows = bbq_condition();
  rows[2].option_probs = {0.5, 0.1, 0.1};
  expect_error_mentions(rows, "item 'c' round 1: option probabilities sum to 0.7");

  rows = bbq_condition();
  rows[3].option_probs.clear();
  expect_error_mentions(rows, "item 'd' round 1: has no option probabilities");

  rows = bbq_condition();
  rows[5].option_probs = {0.5, 0.5};
  expect_error_mentions(rows, "item 'b' round 2: has 2 option probabilities");

  rows = bbq_condition();
  rows[4].answer = 3;
  expect_error_mentions(rows, "item 'a' round 2");

  rows = bbq_condition();
  rows[0].gold = 0;  // ambiguous items' gold must be the unknown option
  expect_error_mentions(rows, "item 'a' round 1");

  rows = bbq_condition();
  for (auto& r : rows) r.bbq.reset();
  rows[1].gold = -1;
  expect_error_mentions(rows, "item 'b' round 1: has neither a gold index nor a correctness override");

  rows = bbq_condition();
  rows[1].correct_override = true;
  rows[1].gold = -1;
  rows[1].bbq.reset();
  expect_error_mentions(rows, "BBQ info");

  rows = bbq_condition();
  rows[6].score = 0.5;
  expect_error_mentions(rows, "has no score");

  MetricsOptions bad;
  bad.ece_bins = 0;
  expect_error_mentions(bbq_condition(), "ece_bins", bad);
  bad = MetricsOptions{};
  bad.confidence_level = 1.0;
  expect_error_mentions(bbq_condition(), "confidence_level", bad);
}

TEST(RoundMetricsJson, FieldsAndNulls) {
  const auto rounds = compute_round_metrics(bbq_condition(), small_bootstrap());
  const nlohmann::json j1 = to_json(rounds[0]);
  const nlohmann::json j2 = rounds[1];  // via ADL
  EXPECT_EQ(j1["round"], 1);
  EXPECT_EQ(j1["n_items"], 4);
  EXPECT_DOUBLE_EQ(j1["accuracy"]["accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j1["accuracy"]["parse_rate"].get<double>(), 0.75);
  EXPECT_TRUE(j1["transitions"].is_null());
  EXPECT_TRUE(j1["previous_round"].is_null());
  EXPECT_TRUE(j1["score"].is_null());
  EXPECT_DOUBLE_EQ(j1["bias"]["ambiguous"]["score"].get<double>(), 0.5);
  EXPECT_EQ(j1["calibration"]["source"], "argmax");
  EXPECT_EQ(j1["calibration"]["reliability"].size(), 10u);
  EXPECT_TRUE(j1["calibration"]["reliability"][0]["accuracy"].is_null());  // empty bin
  EXPECT_EQ(j1["calibration"]["reliability"][6]["count"], 1);
  EXPECT_TRUE(j1["accuracy_ci"]["lower"].is_number());
  EXPECT_EQ(j2["transitions"]["changed"], 3);
  EXPECT_EQ(j2["transitions"]["matrix"][3][1], 1);  // unparseable → option 1
  EXPECT_EQ(j2["previous_round"], 1);
}

TEST(ConditionConvergence, BbqCondition) {
  const auto rows = bbq_condition();
  const auto rounds = compute_round_metrics(rows, small_bootstrap());
  const ConditionConvergence c = summarize_convergence(rounds, rows, 0.01);
  // accuracy .5 → .75, ECE .375 → .325, s_AMB .5 → 0: each settles only at round 2
  EXPECT_EQ(c.accuracy.round, 2);
  ASSERT_TRUE(c.ece);
  EXPECT_EQ(c.ece->round, 2);
  ASSERT_TRUE(c.bias_ambiguous);
  EXPECT_EQ(c.bias_ambiguous->round, 2);
  EXPECT_FALSE(c.mean_score);
  // answers: a 0→2 (round 2), b 2→2 (1), c 0→1 (2), d −1→1 (2): mean 7/4, settled at first 1/4
  ASSERT_TRUE(c.answers);
  EXPECT_DOUBLE_EQ(c.answers->mean_round, 1.75);
  EXPECT_DOUBLE_EQ(c.answers->share_settled_at_first, 0.25);
  // with a wide ε everything has settled from round 1
  EXPECT_EQ(summarize_convergence(rounds, rows, 0.6).accuracy.round, 1);
  const nlohmann::json j = c;
  EXPECT_EQ(j["accuracy"]["round"], 2);
  EXPECT_TRUE(j["mean_score"].is_null());
  EXPECT_DOUBLE_EQ(j["answers"]["mean_round"].get<double>(), 1.75);
}

TEST(ConditionConvergence, MissingRoundsDisableAnswerSummary) {
  auto rows = bbq_condition();
  rows.pop_back();
  MetricsOptions o = small_bootstrap();
  o.require_same_items_each_round = false;
  const auto rounds = compute_round_metrics(rows, o);
  EXPECT_FALSE(summarize_convergence(rounds, rows, 0.01).answers);
  EXPECT_THROW(summarize_convergence({}, rows, 0.01), Error);
  auto extra = rows;
  extra.push_back(rows[0]);
  extra.back().round = 9;
  EXPECT_THROW(summarize_convergence(rounds, extra, 0.01), Error);
}

}  // namespace
}  // namespace isc::metrics
