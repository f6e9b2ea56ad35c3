// Units of the simulation task: pairing rounds, item-grouped folds, the classifiers and baselines on
// hand-made data, and every degenerate case's message (tests/py/test_mechanism_math.py checks sklearn).
#include <algorithm>
#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "sim/simulation_task.h"
#include "../test_support.h"

namespace isc::sim {
namespace {

ItemRoundState state(const std::string& id, int round, std::optional<double> c, std::optional<double> u,
                     std::vector<double> random = {}) {
  ItemRoundState s;
  s.item_id = id;
  s.round = round;
  s.concept_score = c;
  s.uncertainty = u;
  s.random_concepts = std::move(random);
  return s;
}

std::string id(int i) { return "item" + std::to_string(100 + i); }

// n items × rounds; in every pair the concept rises (by 1 + small) exactly when uncertainty falls.
std::vector<ItemRoundState> separable(int n, int rounds) {
  std::vector<ItemRoundState> out;
  for (int i = 0; i < n; ++i) {
    double c = 0.0, u = 1.0;
    for (int r = 1; r <= rounds; ++r) {
      out.push_back(state(id(i), r, c, u, {std::sin(i * 7.0 + r), c}));  // random 2 = the concept itself
      const bool up = (i + r) % 2 == 0;
      c += up ? 1.0 + 0.01 * r : -(1.0 + 0.01 * i);
      u += up ? -0.5 : 0.25 + 0.01 * i;
    }
  }
  return out;
}

const ClassifierResult& classifier(const DirectionResult& d, const std::string& name) {
  for (const auto& c : d.classifiers)
    if (c.name == name) return c;
  throw Error("no classifier " + name);
}

TEST(RoundPairs, PairsOnlyConsecutiveMeasuredRoundsInAnyOrder) {
  std::vector<ItemRoundState> s = {
      state("b", 2, 0.5, 1.0), state("a", 3, 0.3, 0.7), state("a", 1, 0.1, 0.9), state("a", 2, 0.2, 0.8),
      state("b", 1, 0.4, 1.1), state("b", 4, 0.6, 0.5),  // b round 3 missing: no (3, 4) or (2, 3)
      state("c", 1, std::nullopt, 1.0), state("c", 2, 0.1, 0.9),  // c round 1 has no concept
  };
  const auto pairs = round_pairs(s);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[0].item_id, "a");
  EXPECT_EQ(pairs[0].round, 1);
  EXPECT_EQ(pairs[1].item_id, "a");
  EXPECT_EQ(pairs[1].round, 2);
  EXPECT_EQ(pairs[2].item_id, "b");
  EXPECT_EQ(pairs[2].round, 1);
  EXPECT_NEAR(pairs[2].concept_delta(), 0.1, 1e-15);
  EXPECT_NEAR(pairs[2].uncertainty_delta(), -0.1, 1e-15);
  EXPECT_TRUE(pairs[0].random_deltas.empty());
}

TEST(RoundPairs, RejectsDuplicatesBadRoundsAndNonFinite) {
  EXPECT_NE(test::error_message([] { round_pairs({state("a", 1, 0, 0), state("a", 1, 0, 0)}); }).find("'a' round 1 appears twice"),
            std::string::npos);
  EXPECT_NE(test::error_message([] { round_pairs({state("a", 0, 0, 0)}); }).find("1-based"), std::string::npos);
  EXPECT_NE(test::error_message([] { round_pairs({state("a", 1, NAN, 0)}); }).find("not finite"), std::string::npos);
}

TEST(AssignFolds, BalancedDeterministicAndSeeded) {
  std::vector<std::string> ids;
  for (int i = 0; i < 23; ++i) ids.push_back(id(i));
  const auto f = assign_folds(ids, 5, 7);
  EXPECT_EQ(f, assign_folds(ids, 5, 7));
  EXPECT_NE(f, assign_folds(ids, 5, 8));
  std::vector<int> size(5, 0);
  for (int v : f) ++size.at(v);
  for (int v : size) EXPECT_TRUE(v == 4 || v == 5) << v;
  EXPECT_NE(test::error_message([&] { assign_folds({"b", "a"}, 2, 0); }).find("sorted"), std::string::npos);
  EXPECT_NE(test::error_message([&] { assign_folds({"a"}, 2, 0); }).find("1 items for 2 folds"), std::string::npos);
}

TEST(SimulationTask, SeparableDataIsPredictedPerfectlyAndBaselinesAreReported) {
  SimulationTaskOptions o;
  o.seed = 3;
  const auto r = simulation_task(separable(20, 4), o);
  ASSERT_TRUE(r.unavailable.empty()) << r.unavailable;
  EXPECT_EQ(r.n_items, 20u);
  EXPECT_EQ(r.pairs.size(), 60u);
  // All pairs of an item share one fold.
  for (std::size_t i = 1; i < r.pairs.size(); ++i)
    if (r.pairs[i].item_id == r.pairs[i - 1].item_id) EXPECT_EQ(r.pairs[i].fold, r.pairs[i - 1].fold);
  const DirectionResult& f = r.forward;
  ASSERT_TRUE(f.unavailable.empty()) << f.unavailable;
  ASSERT_EQ(f.classifiers.size(), 5u);
  EXPECT_EQ(f.classifiers[0].name, "concept change");
  const auto& own = *f.classifiers[0].accuracy;
  EXPECT_EQ(own.successes, 60u);
  EXPECT_DOUBLE_EQ(own.estimate, 1.0);
  EXPECT_DOUBLE_EQ(own.upper, 1.0);
  EXPECT_LT(own.lower, 1.0);
  // Majority: 30 of 60 pairs are "decreased"; a training fold's majority is whichever it holds more of.
  const auto& majority = classifier(f, "majority class");
  ASSERT_TRUE(majority.accuracy);
  EXPECT_LT(majority.accuracy->estimate, 0.75);
  EXPECT_TRUE(classifier(f, "concept change + earlier uncertainty").accuracy);
  // Random direction 2 is the concept score itself: the concept does not beat it; direction 1 is noise.
  ASSERT_TRUE(f.random_directions && f.random_directions->mean_accuracy) << f.random_directions->unavailable;
  EXPECT_EQ(f.random_directions->accuracies.size(), 2u);
  EXPECT_DOUBLE_EQ(f.random_directions->accuracies[1], 1.0);
  EXPECT_LE(*f.random_directions->share_beaten, 0.5);
  // The full-data fit: a positive coefficient with a standard error (l2 = 1 keeps it finite).
  ASSERT_TRUE(f.full_fit.fit);
  EXPECT_GT(f.full_fit.fit->coef[0], 0.0);
  EXPECT_TRUE(f.full_fit.coefficient_raw);
  EXPECT_EQ(f.full_fit.fit->std_errors.size(), 2u);
  // Reverse: uncertainty change predicts the concept rising just as well here.
  ASSERT_TRUE(r.reverse.unavailable.empty()) << r.reverse.unavailable;
  EXPECT_EQ(r.reverse.classifiers[0].name, "uncertainty change");
  EXPECT_EQ(r.reverse.classifiers[3].name, "earlier concept");
  EXPECT_DOUBLE_EQ(r.reverse.classifiers[0].accuracy->estimate, 1.0);
  EXPECT_FALSE(r.reverse.random_directions);
}

TEST(SimulationTask, UnpenalisedSeparatedFullFitSaysSo) {
  SimulationTaskOptions o;
  o.l2 = 0.0;
  const auto r = simulation_task(separable(20, 4), o);
  ASSERT_TRUE(r.forward.full_fit.fit);
  EXPECT_NE(r.forward.full_fit.inference_unavailable.find("separates the pairs perfectly"), std::string::npos);
  EXPECT_DOUBLE_EQ(r.forward.classifiers[0].accuracy->estimate, 1.0);  // a separating direction still classifies
  const std::string j = to_json(r).dump();
  EXPECT_EQ(j.find("NaN"), std::string::npos);
  EXPECT_EQ(j.find("null"), std::string::npos);
}

TEST(SimulationTask, NoPairs) {
  const auto r = simulation_task({state("a", 1, 0.1, 0.2), state("b", 1, 0.1, 0.2)});
  EXPECT_NE(r.unavailable.find("no pairs"), std::string::npos) << r.unavailable;
  EXPECT_EQ(r.forward.unavailable, r.unavailable);
  EXPECT_EQ(to_text(r), "simulation task: unavailable: " + r.unavailable + "\n");
  EXPECT_TRUE(to_json(r)["forward"].contains("unavailable"));
}

TEST(SimulationTask, FewerItemsThanFolds) {
  const auto r = simulation_task(separable(3, 4));
  EXPECT_EQ(r.unavailable, "5-fold cross-validation needs at least 5 items; this condition has 3");
}

TEST(SimulationTask, OneClassOnly) {
  std::vector<ItemRoundState> s;
  for (int i = 0; i < 8; ++i)
    for (int r = 1; r <= 3; ++r) s.push_back(state(id(i), r, 0.1 * r * i, 1.0 + r));  // uncertainty always rises
  const auto r = simulation_task(s);
  EXPECT_EQ(r.forward.unavailable, "uncertainty never decreased in these 16 pairs");
  EXPECT_TRUE(r.reverse.unavailable.empty()) << r.reverse.unavailable;  // concept rises in 14 of 16 pairs
  EXPECT_NE(to_text(r).find("uncertainty never decreased in these 16 pairs\n"), std::string::npos);
}

TEST(SimulationTask, ConstantFeatureMakesItsClassifiersUnavailable) {
  std::vector<ItemRoundState> s;
  for (int i = 0; i < 10; ++i) {
    s.push_back(state(id(i), 1, 0.0, 1.0));
    s.push_back(state(id(i), 2, 0.5, i % 2 ? 0.5 : 1.5));  // concept change 0.5 everywhere, one round
  }
  const auto r = simulation_task(s);
  ASSERT_TRUE(r.forward.unavailable.empty()) << r.forward.unavailable;
  EXPECT_EQ(classifier(r.forward, "concept change").unavailable, "concept change is constant (0.5 in every pair)");
  EXPECT_EQ(classifier(r.forward, "round index").unavailable, "round index is constant (1 in every pair)");
  EXPECT_TRUE(classifier(r.forward, "majority class").accuracy);
  EXPECT_EQ(r.forward.full_fit.unavailable, "concept change is constant (0.5 in every pair)");
  EXPECT_FALSE(r.forward.random_directions->mean_accuracy);
  EXPECT_EQ(r.forward.random_directions->unavailable, "no random directions were scored");
  const std::string text = to_text(r);
  EXPECT_NE(text.find("concept change is constant"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(to_json(r)["forward"]["classifiers"][0]["accuracy"]["unavailable"], "concept change is constant (0.5 in every pair)");
  // Reverse: the concept always increased.
  EXPECT_EQ(r.reverse.unavailable, "concept increased in all 10 pairs");
}

TEST(SimulationTask, TrainingFoldWithOneClassPredictsIt) {
  // Two folds; every "decreased" pair belongs to items of fold 0, so fold 1's training data (the items
  // of fold 0) is mixed, while fold 0's training data (the items of fold 1) holds one class only.
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(id(i));
  SimulationTaskOptions o;
  o.folds = 2;
  o.seed = 11;
  const auto folds = assign_folds(ids, 2, o.seed);
  std::vector<ItemRoundState> s;
  for (int i = 0; i < 6; ++i)
    for (int r = 1; r <= 3; ++r) {
      const bool fold0 = folds[i] == 0;
      // Items of fold 1: uncertainty always rises. Items of fold 0: falls at r = 2 only.
      const double u = fold0 ? (r == 3 ? 0.5 : 1.0 + r) : 1.0 + r;
      s.push_back(state(ids[i], r, 0.3 * r + 0.1 * i * (r == 3), u));
    }
  const auto r = simulation_task(s, o);
  ASSERT_TRUE(r.forward.unavailable.empty()) << r.forward.unavailable;
  const ClassifierResult& c = classifier(r.forward, "concept change");
  ASSERT_TRUE(c.accuracy) << c.unavailable;
  EXPECT_EQ(c.single_class_folds, 1u);
  for (std::size_t p = 0; p < r.pairs.size(); ++p)
    if (r.pairs[p].fold == 0) {
      EXPECT_EQ(c.predictions[p], 0);  // fold 0 is predicted from items that never decreased
      EXPECT_EQ(c.probabilities[p], 0.0);
    }
  EXPECT_NE(to_text(r).find("1 one-class training folds predicted their class"), std::string::npos);
}

TEST(SimulationTask, RandomDirectionsWithUnevenCountsAreUnavailable) {
  auto s = separable(10, 3);
  s[0].random_concepts.clear();
  const auto r = simulation_task(s);
  ASSERT_TRUE(r.forward.random_directions);
  EXPECT_EQ(r.forward.random_directions->unavailable, "random direction scores are missing or uneven in 1 of 20 pairs");
}

TEST(SimulationTask, RejectsBadOptions) {
  SimulationTaskOptions o;
  o.folds = 1;
  EXPECT_NE(test::error_message([&] { simulation_task({}, o); }).find("1 folds"), std::string::npos);
  o = {};
  o.l2 = -1;
  EXPECT_NE(test::error_message([&] { simulation_task({}, o); }).find("l2"), std::string::npos);
  o = {};
  o.confidence_level = 1.0;
  EXPECT_NE(test::error_message([&] { simulation_task({}, o); }).find("confidence level"), std::string::npos);
}

TEST(SimulationTask, TextHasOneLinePerClassifier) {
  const auto r = simulation_task(separable(12, 3));
  const std::string text = to_text(r);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text.find("concept change -> uncertainty decreased: 24 pairs, 12 items"), std::string::npos) << text;
  EXPECT_NE(text.find("  majority class"), std::string::npos);
  EXPECT_NE(text.find("  random directions"), std::string::npos);
  EXPECT_NE(text.find("uncertainty change -> concept increased"), std::string::npos);
  const auto j = to_json(r, true);
  EXPECT_EQ(j["pairs"].size(), 24u);
  EXPECT_EQ(j["forward"]["classifiers"][0]["predictions"].size(), 24u);
  EXPECT_FALSE(to_json(r)["forward"]["classifiers"][0].contains("predictions"));
}

}  // namespace
}  // namespace isc::sim
