// add_sample_uncertainty on hand-made rounds (no model): exact-match clusters for open generation
// and for options, empty answers, the estimators it stores, and its errors.
#include <cmath>

#include <gtest/gtest.h>

#include "common/error.h"
#include "protocol/round_uncertainty.h"

namespace isc {
namespace {

SampleRecord sample(int k, const std::string& text, int answer, std::vector<float> logprobs) {
  SampleRecord s;
  s.condition = "c";
  s.item_id = "i";
  s.round = 1;
  s.sample = k;
  s.generated_text = text;
  s.parsed_answer = text;
  s.answer_index = answer;
  for (float lp : logprobs) s.tokens.push_back({1, "t", lp, {}});
  return s;
}

RoundRecord round_with(std::vector<SampleRecord> samples) {
  RoundRecord r;
  r.condition = "c";
  r.item_id = "i";
  r.round = 1;
  r.samples = std::move(samples);
  return r;
}

TEST(RoundUncertainty, ExactClustersOfOpenAnswersWithEmptyOnes) {
  std::vector<RoundRecord> recs = {round_with({sample(1, "Paris.", -1, {-0.1f, -0.2f}), sample(2, " paris", -1, {-0.5f}),
                                               sample(3, "", -1, {}), sample(4, "", -1, {}),
                                               sample(5, "Rome", -1, {-2.0f})})};
  protocol::add_sample_uncertainty(recs, {"q"}, "exact", nullptr, nullptr);
  std::vector<int> clusters;
  for (const auto& s : recs[0].samples) clusters.push_back(s.cluster);
  EXPECT_EQ(clusters, (std::vector<int>{0, 0, 1, 1, 2}));
  const auto& u = recs[0].extra["uncertainty"];
  // discrete SE from the cluster counts 2, 2, 1 of 5
  const double dse = -(2 * 0.4 * std::log(0.4) + 0.2 * std::log(0.2));
  EXPECT_NEAR(u["discrete_semantic_entropy"].get<double>(), dse, 1e-12);
  // PE = −mean sequence logprob; the empty samples have logprob 0
  EXPECT_NEAR(u["predictive_entropy"].get<double>(), (0.3 + 0.5 + 0 + 0 + 2.0) / 5, 1e-6);
  EXPECT_EQ(recs[0].extra["sampling"]["samples"], 5);
  EXPECT_EQ(recs[0].extra["sampling"]["distinct"], 4);  // the two empty answers are one sequence
  EXPECT_EQ(recs[0].extra["sampling"]["clusters"], 3);
  EXPECT_FALSE(recs[0].extra.contains("not_finite"));
}

TEST(RoundUncertainty, OptionsClusterOnTheParsedOption) {
  tasks::TaskSpec task;
  task.option_labels = {"(a)", "(b)", "(c)"};
  std::vector<RoundRecord> recs = {round_with({sample(1, "(a) yes", 0, {-1.0f}), sample(2, "(a) sure", 0, {-1.5f}),
                                               sample(3, "(b)", 1, {-0.7f}), sample(4, "no idea", -1, {-3.0f})})};
  recs[0].option_probs = {0.5, 0.3, 0.2};
  protocol::add_sample_uncertainty(recs, {"q"}, "exact", &task, nullptr);
  std::vector<int> clusters;
  for (const auto& s : recs[0].samples) clusters.push_back(s.cluster);
  EXPECT_EQ(clusters, (std::vector<int>{0, 0, 1, 2}));
  const double h = -(2.0 / 3 * std::log(2.0 / 3) + 1.0 / 3 * std::log(1.0 / 3));
  EXPECT_NEAR(recs[0].extra["uncertainty"]["option_sample_entropy"].get<double>(), h, 1e-12);
  EXPECT_EQ(recs[0].extra["sampling"]["unparsed"], 1);
}

TEST(RoundUncertainty, RoundsWithoutSamplesAreLeftAlone) {
  std::vector<RoundRecord> recs = {round_with({})};
  protocol::add_sample_uncertainty(recs, {"q"}, "exact", nullptr, nullptr);
  EXPECT_FALSE(recs[0].extra.contains("uncertainty"));
}

TEST(RoundUncertainty, Errors) {
  std::vector<RoundRecord> recs = {round_with({sample(1, "a", -1, {-1.0f})})};
  EXPECT_THROW(protocol::add_sample_uncertainty(recs, {}, "exact", nullptr, nullptr), Error);
  EXPECT_THROW(protocol::add_sample_uncertainty(recs, {"q"}, "nli", nullptr, nullptr), Error);
  EXPECT_THROW(protocol::add_sample_uncertainty(recs, {"q"}, "judge", nullptr, nullptr), Error);
  std::vector<RoundRecord> bad = {round_with({sample(1, "a", -1, {NAN})})};
  EXPECT_THROW(protocol::add_sample_uncertainty(bad, {"q"}, "exact", nullptr, nullptr), Error);
}

TEST(RoundUncertainty, DefaultEntailmentByTaskKind) {
  tasks::TaskSpec open, mc;
  open.kind = tasks::TaskKind::open_generation;
  mc.kind = tasks::TaskKind::multiple_choice;
  tasks::SamplesSpec s;
  EXPECT_EQ(protocol::sample_entailment_mode(open, s), "judge");
  EXPECT_EQ(protocol::sample_entailment_mode(mc, s), "exact");
  s.entailment = "exact";
  EXPECT_EQ(protocol::sample_entailment_mode(open, s), "exact");
}

}  // namespace
}  // namespace isc
