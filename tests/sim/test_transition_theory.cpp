// Units of the transition theory (Yang et al.'s CL / CS curve) and the Wilson interval: a 2×2 table
// computed by hand, the predicted curve, the bootstrap, and every degenerate case's message.
#include <cmath>

#include <gtest/gtest.h>

#include "sim/transition_theory.h"
#include "sim/wilson_interval.h"
#include "../test_support.h"

namespace isc::sim {
namespace {

ItemRoundState verdict(const std::string& id, int round, std::optional<bool> correct) {
  ItemRoundState s;
  s.item_id = id;
  s.round = round;
  s.correct = correct;
  return s;
}

// Items with the given correctness path per round (1 right, 0 wrong, -1 not stored); `count` copies.
void add(std::vector<ItemRoundState>& out, int count, std::vector<int> path) {
  static int next = 0;
  for (int k = 0; k < count; ++k) {
    const std::string id = "i" + std::to_string(next++);
    for (std::size_t r = 0; r < path.size(); ++r)
      if (path[r] >= 0) out.push_back(verdict(id, static_cast<int>(r) + 1, path[r] == 1));
  }
}

TEST(Wilson, MatchesTheClosedForm) {
  const Proportion p = wilson_interval(8, 20, 0.95);
  EXPECT_DOUBLE_EQ(p.estimate, 0.4);
  EXPECT_NEAR(p.lower, 0.2188065323728171, 1e-13);
  EXPECT_NEAR(p.upper, 0.6134184992377468, 1e-13);
  EXPECT_NEAR(normal_quantile(0.975), 1.9599639845400536, 1e-14);
  const Proportion all = wilson_interval(5, 5);
  EXPECT_DOUBLE_EQ(all.upper, 1.0);
  EXPECT_LT(all.lower, 1.0);
  EXPECT_DOUBLE_EQ(wilson_interval(0, 5).lower, 0.0);
  EXPECT_NE(test::error_message([] { wilson_interval(0, 0); }).find("no observations"), std::string::npos);
  EXPECT_NE(test::error_message([] { wilson_interval(3, 2); }).find("3 successes of 2"), std::string::npos);
}

TEST(TransitionTheory, TwoByTwoTableGivesClCsUppAndTheCurve) {
  // Round 1 → 2: 6 right→right, 2 right→wrong, 3 wrong→right, 9 wrong→wrong.
  std::vector<ItemRoundState> s;
  add(s, 6, {1, 1});
  add(s, 2, {1, 0});
  add(s, 3, {0, 1});
  add(s, 9, {0, 0});
  TransitionTheoryOptions o;
  o.bootstrap_resamples = 200;
  const auto r = transition_theory(s, o);
  ASSERT_TRUE(r.unavailable.empty()) << r.unavailable;
  EXPECT_DOUBLE_EQ(r.estimate.cl->estimate, 0.75);
  EXPECT_DOUBLE_EQ(r.estimate.cs->estimate, 0.25);
  EXPECT_DOUBLE_EQ(r.start->estimate, 0.4);
  EXPECT_DOUBLE_EQ(*r.alpha, 0.5);
  EXPECT_DOUBLE_EQ(*r.upper_bound, 0.5);  // 0.25 / (1 − 0.75 + 0.25)
  ASSERT_EQ(r.rounds.size(), 2u);
  EXPECT_DOUBLE_EQ(*r.rounds[0].predicted, 0.4);
  EXPECT_DOUBLE_EQ(*r.rounds[1].predicted, 0.45);  // 0.5 − 0.5 · (0.5 − 0.4)
  EXPECT_DOUBLE_EQ(r.rounds[1].observed->estimate, 0.45);
  EXPECT_NEAR(*r.rounds[1].residual, 0.0, 1e-15);
  ASSERT_TRUE(r.upper_bound_ci);
  EXPECT_LE(r.upper_bound_ci->lower, 0.5);
  EXPECT_GE(r.upper_bound_ci->upper, 0.5);
  ASSERT_TRUE(r.final_within_interval);
  EXPECT_TRUE(*r.final_within_interval);
  // Reproducible from the seed.
  EXPECT_EQ(transition_theory(s, o).upper_bound_ci->lower, r.upper_bound_ci->lower);
  EXPECT_EQ(r.per_transition.size(), 1u);
  EXPECT_DOUBLE_EQ(r.pooled.cl->estimate, 0.75);
  const std::string text = to_text(r);
  EXPECT_NE(text.find("alpha = 0.500; Upp = 0.500"), std::string::npos) << text;
  EXPECT_NE(text.find("round  2: predicted 0.450"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(TransitionTheory, PredictsLaterRoundsAndPoolsTransitions) {
  std::vector<ItemRoundState> s;
  add(s, 6, {1, 1, 1, 1});
  add(s, 2, {1, 0, 0, 1});
  add(s, 3, {0, 1, 1, -1});  // not stored at round 4
  add(s, 9, {0, 0, 0, 0});
  TransitionTheoryOptions o;
  o.bootstrap_resamples = 0;
  const auto r = transition_theory(s, o);
  ASSERT_EQ(r.rounds.size(), 4u);
  // Acc_t = 0.5 − 0.5^{t−1} · 0.1.
  EXPECT_DOUBLE_EQ(*r.rounds[3].predicted, 0.5 - 0.125 * 0.1);
  EXPECT_EQ(r.rounds[3].n_observed, 17u);
  EXPECT_DOUBLE_EQ(r.rounds[3].observed->estimate, 8.0 / 17.0);
  EXPECT_EQ(r.rounds[3].predicted_ci_unavailable, "intervals off (0 bootstrap resamples)");
  EXPECT_EQ(r.final_within_interval_unavailable, "intervals off (0 bootstrap resamples)");
  ASSERT_EQ(r.per_transition.size(), 3u);
  // (cc, cw, wc, ww): 1→2 (6, 2, 3, 9), 2→3 (9, 0, 0, 11), 3→4 (6, 0, 2, 9): the 3 items right at
  // round 3 but not stored at round 4 leave that transition.
  const auto& t3 = r.per_transition[2];
  EXPECT_EQ(t3.n, 17u);
  EXPECT_EQ(t3.correct_before, 6u);
  EXPECT_EQ(t3.correct_to_correct, 6u);
  EXPECT_EQ(t3.wrong_before, 11u);
  EXPECT_EQ(t3.wrong_to_correct, 2u);
  EXPECT_EQ(r.pooled.correct_before, 8u + 9u + 6u);
  EXPECT_EQ(r.pooled.correct_to_correct, 6u + 9u + 6u);
  EXPECT_DOUBLE_EQ(r.pooled.cs->estimate, double(3 + 0 + 2) / double(12 + 11 + 11));
  EXPECT_EQ(to_json(r)["rounds"][3]["predicted_ci"]["unavailable"], "intervals off (0 bootstrap resamples)");
}

TEST(TransitionTheory, StartsFromAChosenRound) {
  std::vector<ItemRoundState> s;
  add(s, 4, {0, 1, 1});
  add(s, 4, {0, 0, 1});
  add(s, 2, {1, 1, 0});
  TransitionTheoryOptions o;
  o.from_round = 2;
  o.bootstrap_resamples = 0;
  const auto r = transition_theory(s, o);
  ASSERT_TRUE(r.unavailable.empty()) << r.unavailable;
  EXPECT_DOUBLE_EQ(r.estimate.cl->estimate, 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(r.estimate.cs->estimate, 1.0);
  EXPECT_EQ(r.rounds.front().round, 2);
  EXPECT_DOUBLE_EQ(*r.rounds.front().predicted, 0.6);
}

TEST(TransitionTheory, NoItemCorrectAtTheStart) {
  std::vector<ItemRoundState> s;
  add(s, 5, {0, 1});
  add(s, 5, {0, 0});
  const auto r = transition_theory(s);
  EXPECT_EQ(r.estimate.cl_unavailable, "no item was correct at round 1 (of 10 paired)");
  EXPECT_EQ(r.unavailable, "CL is undefined: no item was correct at round 1 (of 10 paired)");
  EXPECT_TRUE(r.estimate.cs);
  EXPECT_TRUE(r.rounds.empty());
  EXPECT_EQ(to_json(r)["upper_bound"]["unavailable"], r.unavailable);
  EXPECT_NE(to_text(r).find("prediction unavailable: CL is undefined"), std::string::npos);
}

TEST(TransitionTheory, NoItemWrongAtTheStart) {
  std::vector<ItemRoundState> s;
  add(s, 5, {1, 1});
  add(s, 1, {1, 0});
  const auto r = transition_theory(s);
  EXPECT_EQ(r.unavailable, "CS is undefined: no item was wrong at round 1 (of 6 paired)");
}

TEST(TransitionTheory, EveryStateAbsorbingKeepsTheCurveFlat) {
  std::vector<ItemRoundState> s;
  add(s, 3, {1, 1, 1});
  add(s, 7, {0, 0, 0});
  TransitionTheoryOptions o;
  o.bootstrap_resamples = 100;
  const auto r = transition_theory(s, o);
  ASSERT_TRUE(r.unavailable.empty()) << r.unavailable;
  EXPECT_FALSE(r.upper_bound);
  EXPECT_EQ(r.upper_bound_unavailable,
            "every state is absorbing (CL = 1, CS = 0): the curve stays at the round-1 accuracy");
  EXPECT_DOUBLE_EQ(*r.alpha, 1.0);
  for (const auto& p : r.rounds) EXPECT_DOUBLE_EQ(*p.predicted, 0.3);
  EXPECT_TRUE(*r.final_within_interval);
  EXPECT_EQ(to_json(r)["upper_bound"]["unavailable"], r.upper_bound_unavailable);
}

TEST(TransitionTheory, FewerThanTwoRounds) {
  std::vector<ItemRoundState> s;
  add(s, 3, {1});
  add(s, 3, {0});
  const auto r = transition_theory(s);
  EXPECT_EQ(r.unavailable, "needs at least 2 rounds with a correctness; this condition has 1");
  EXPECT_TRUE(r.per_transition.empty());
  EXPECT_EQ(r.pooled.cl_unavailable, "no item has a correctness in two consecutive rounds");
  const std::string j = to_json(r).dump();
  EXPECT_EQ(j.find("NaN"), std::string::npos);
  EXPECT_EQ(j.find("null"), std::string::npos);
}

TEST(TransitionTheory, RejectsDuplicatesAndBadOptions) {
  EXPECT_NE(test::error_message([] { transition_theory({verdict("a", 1, true), verdict("a", 1, false)}); })
                .find("'a' round 1 appears twice"),
            std::string::npos);
  TransitionTheoryOptions o;
  o.from_round = 0;
  EXPECT_NE(test::error_message([&] { transition_theory({}, o); }).find("from_round 0"), std::string::npos);
}

}  // namespace
}  // namespace isc::sim
