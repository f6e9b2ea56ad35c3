// Tests of the latent-concept simulation: closed forms (exact, and by hand), the paper's formula,
// validation, seeding, the simulation file, the --predict-stop rule and the store it writes.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "metrics/predicted_change.h"
#include "sim/latent_concept_model.h"
#include "sim/simulated_store.h"
#include "sim/simulation_file.h"
#include "sim/simulation_run.h"
#include "sim/simulation_summary.h"
#include "../test_support.h"

namespace isc::sim {
namespace {

LatentConceptParams noise_free(double prior, double lr_i, double lr_y) {
  LatentConceptParams p;
  p.name = "c";
  p.prior_log_odds = logit(prior);
  p.lr_instruction = lr_i;
  p.lr_output = lr_y;
  p.answers_positive = {0.7, 0.2, 0.1};
  p.answers_negative = {0.2, 0.5, 0.3};
  return p;
}

TEST(LatentConceptModel, NoiseFreeSimulationEqualsClosedFormExactly) {
  for (const auto& [prior, lr_i, lr_y] : std::vector<std::tuple<double, double, double>>{
           {0.5, 2.0, 1.5}, {0.2, 1.0, 1.0}, {0.9, 0.7, 1.3}, {0.35, 3.0, 0.8}}) {
    for (AnswerRule rule : {AnswerRule::Sample, AnswerRule::Argmax}) {
      LatentConceptParams p = noise_free(prior, lr_i, lr_y);
      p.answer = rule;
      for (const SimulatedConversation& c : simulate_condition(p, 7, 20, 8, "test")) {
        ASSERT_EQ(c.rounds.size(), 8u);
        for (const SimulatedRound& r : c.rounds) {
          EXPECT_EQ(r.posterior, closed_form_posterior(p, r.round)) << c.item_id << " round " << r.round;
          EXPECT_EQ(r.log_odds, closed_form_log_odds(p, p.prior_log_odds, r.round));
          EXPECT_EQ(r.posterior_paper, closed_form_paper_posterior(p, r.round));
          const std::vector<double> pi = predictive_distribution(p, r.posterior);
          EXPECT_EQ(r.predictive, pi);
          EXPECT_EQ(r.correct, r.answer == p.gold);
        }
      }
    }
  }
}

TEST(LatentConceptModel, HandComputedPosteriorsAndPaperFormula) {
  const LatentConceptParams p = noise_free(0.5, 2.0, 1.5);
  // O_t = 2^t · 1.5^(t−1): 2, 6, 18, 54
  EXPECT_NEAR(closed_form_posterior(p, 1), 2.0 / 3.0, 1e-15);
  EXPECT_NEAR(closed_form_posterior(p, 2), 6.0 / 7.0, 1e-15);
  EXPECT_NEAR(closed_form_posterior(p, 3), 18.0 / 19.0, 1e-15);
  EXPECT_NEAR(closed_form_posterior(p, 4), 54.0 / 55.0, 1e-15);
  // paper: c = p_2/p_1 = 9/7; c^(t−1)·p_1
  EXPECT_EQ(closed_form_paper_posterior(p, 1), closed_form_posterior(p, 1));
  EXPECT_EQ(closed_form_paper_posterior(p, 2), closed_form_posterior(p, 2));
  EXPECT_NEAR(closed_form_paper_posterior(p, 3), 81.0 / 49.0 * 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(closed_form_paper_posterior(p, 4), 729.0 / 343.0 * 2.0 / 3.0, 1e-12);
  EXPECT_GT(closed_form_paper_posterior(p, 3), 1.0);
  EXPECT_EQ(closed_form_paper_exceeds_one(p, 10), 3);
  EXPECT_EQ(closed_form_paper_exceeds_one(p, 2), std::nullopt);
}

TEST(LatentConceptModel, PaperFormulaExceedsOneOnlyWhenTheRatioGrows) {
  // c = p_2/p_1 with p_1 = 0.1: O_1 = 1/9 · 3 = 1/3 → p_1 = 0.25, O_2 = 1/3 · 3 · 2 = 2 → p_2 = 2/3,
  // c = 8/3; c^(t−1)/4 > 1 first at t = 3 (64/36 > 1; t = 2 gives exactly p_2).
  const LatentConceptParams grows = noise_free(0.1, 3.0, 2.0);
  EXPECT_NEAR(closed_form_posterior(grows, 1), 0.25, 1e-15);
  EXPECT_NEAR(closed_form_posterior(grows, 2), 2.0 / 3.0, 1e-15);
  EXPECT_EQ(closed_form_paper_exceeds_one(grows, 10), 3);
  EXPECT_EQ(closed_form_paper_exceeds_one(noise_free(0.3, 1.0, 1.0), 1000), std::nullopt);   // c = 1
  EXPECT_EQ(closed_form_paper_exceeds_one(noise_free(0.8, 0.5, 0.9), 1000), std::nullopt);   // c < 1
  // the correct posterior never exceeds 1, however long
  for (int t = 1; t <= 200; ++t) EXPECT_LE(closed_form_posterior(grows, t), 1.0);
  // the paper's value is not clipped: with these parameters it overflows, and its log stays finite
  const double lo1 = closed_form_log_odds(grows, grows.prior_log_odds, 1);
  const double lo2 = closed_form_log_odds(grows, grows.prior_log_odds, 2);
  EXPECT_TRUE(std::isinf(paper_posterior(lo1, lo2, 2000)));
  EXPECT_TRUE(std::isfinite(log_paper_posterior(lo1, lo2, 2000)));
}

TEST(LatentConceptModel, PredictiveDistributionAndEntropy) {
  const LatentConceptParams p = noise_free(0.5, 1.0, 1.0);
  const std::vector<double> pi = predictive_distribution(p, 0.25);
  ASSERT_EQ(pi.size(), 3u);
  EXPECT_NEAR(pi[0], 0.25 * 0.7 + 0.75 * 0.2, 1e-15);
  EXPECT_NEAR(pi[1], 0.25 * 0.2 + 0.75 * 0.5, 1e-15);
  EXPECT_NEAR(pi[2], 0.25 * 0.1 + 0.75 * 0.3, 1e-15);
  const SimulatedConversation c = simulate_conversation(p, 1, "x", 1);
  double h = 0;
  for (double v : c.rounds[0].predictive) h -= v * std::log(v);
  EXPECT_NEAR(c.rounds[0].entropy, h, 1e-12);
}

TEST(LatentConceptModel, AnswerEvidenceReplacesTheFixedRatio) {
  LatentConceptParams p = noise_free(0.4, 1.5, 1.0);
  p.output_evidence = OutputEvidence::Answer;
  for (const SimulatedConversation& c : simulate_condition(p, 3, 10, 6, "test")) {
    double evidence = 0;
    for (const SimulatedRound& r : c.rounds) {
      EXPECT_NEAR(r.log_odds, p.prior_log_odds + r.round * std::log(1.5) + evidence, 1e-12);
      evidence += std::log(p.answers_positive[r.answer]) - std::log(p.answers_negative[r.answer]);
    }
  }
  EXPECT_THROW(closed_form_posterior(p, 1), Error);
}

TEST(LatentConceptModel, NoiseMovesPosteriorsAroundThePrior) {
  LatentConceptParams p = noise_free(0.3, 1.0, 1.0);
  p.prior_sd = 1.0;
  const auto conversations = simulate_condition(p, 11, 4000, 1, "test");
  double mean = 0, var = 0;
  for (const auto& c : conversations) mean += c.rounds[0].log_odds;
  mean /= 4000;
  for (const auto& c : conversations) var += std::pow(c.rounds[0].log_odds - mean, 2);
  var /= 3999;
  EXPECT_NEAR(mean, logit(0.3), 0.06);  // 4 standard errors
  EXPECT_NEAR(var, 1.0, 0.1);
}

TEST(LatentConceptModel, SeedsDependOnConditionItemAndRoundNotOnOrder) {
  LatentConceptParams p = noise_free(0.5, 1.2, 1.1);
  p.prior_sd = 0.5;
  p.evidence_sd = 0.3;
  const auto forward = simulate_condition(p, 5, 30, 4, "test");
  // reversed order, one by one, and a longer run: the same conversations
  for (int i = 29; i >= 0; --i) {
    const SimulatedConversation c = simulate_conversation(p, 5, simulated_item_id(i), 4);
    for (int t = 0; t < 4; ++t) {
      EXPECT_EQ(c.rounds[t].log_odds, forward[i].rounds[t].log_odds);
      EXPECT_EQ(c.rounds[t].answer, forward[i].rounds[t].answer);
    }
  }
  const auto longer = simulate_condition(p, 5, 40, 6, "test");
  for (int i = 0; i < 30; ++i)
    for (int t = 0; t < 4; ++t) EXPECT_EQ(longer[i].rounds[t].log_odds, forward[i].rounds[t].log_odds);
  // another seed or condition name draws other numbers
  EXPECT_NE(simulate_condition(p, 6, 1, 1, "test")[0].rounds[0].log_odds, forward[0].rounds[0].log_odds);
  LatentConceptParams renamed = p;
  renamed.name = "other";
  EXPECT_NE(simulate_condition(renamed, 5, 1, 1, "test")[0].rounds[0].log_odds, forward[0].rounds[0].log_odds);
}

TEST(LatentConceptModel, ValidationNamesTheFieldAndTheRange) {
  auto message = [](auto change) {
    LatentConceptParams p = noise_free(0.5, 1.0, 1.0);
    change(p);
    return test::error_message([&] { validate(p, "where"); });
  };
  EXPECT_EQ(message([](LatentConceptParams&) {}), "");
  EXPECT_NE(message([](auto& p) { p.lr_instruction = 0; }).find("lr_instruction = 0 (expected a likelihood ratio"),
            std::string::npos);
  EXPECT_NE(message([](auto& p) { p.lr_output = NAN; }).find("lr_output"), std::string::npos);
  EXPECT_NE(message([](auto& p) { p.prior_sd = -1; }).find("prior_sd = -1 (expected a standard deviation in [0, 20])"),
            std::string::npos);
  EXPECT_NE(message([](auto& p) { p.evidence_sd = 100; }).find("evidence_sd"), std::string::npos);
  EXPECT_NE(message([](auto& p) { p.prior_log_odds = 60; }).find("prior log-odds 60"), std::string::npos);
  EXPECT_NE(message([](auto& p) { p.answers_positive = {1.0}; }).find("answers_positive has 1 options (expected 2..26)"),
            std::string::npos);
  EXPECT_NE(message([](auto& p) { p.answers_negative = {0.5, 0.5}; }).find("answers_negative has 2 options"),
            std::string::npos);
  EXPECT_NE(message([](auto& p) { p.answers_positive = {0.5, 0.4, 0.05}; }).find("answers_positive sums to 0.95"),
            std::string::npos);
  EXPECT_NE(message([](auto& p) { p.answers_negative = {1.2, -0.1, -0.1}; }).find("answers_negative[0] = 1.2"),
            std::string::npos);
  EXPECT_NE(message([](auto& p) { p.gold = 3; }).find("gold = 3 (expected an option index in 0..2)"), std::string::npos);
  EXPECT_NE(message([](auto& p) { p.name = ""; }).find("no name"), std::string::npos);
  EXPECT_NE(message([](auto& p) {
              p.output_evidence = OutputEvidence::Answer;
              p.answers_positive = {0.0, 0.5, 0.5};
            }).find("infinite"),
            std::string::npos);
  EXPECT_NE(message([](auto& p) {
              p.output_evidence = OutputEvidence::Answer;
              p.lr_output = 2;
            }).find("lr_output = 2 is not used"),
            std::string::npos);
  EXPECT_EQ(message([](auto& p) { p.output_evidence = OutputEvidence::Answer; }), "");
  EXPECT_NE(message([](auto& p) {
              p.name = "x";
              p.gold = 9;
            }).find("where: condition 'x': gold = 9"),
            std::string::npos);
  EXPECT_THROW(simulate_condition(noise_free(0.5, 1, 1), 0, 1, 0, "w"), Error);
  EXPECT_THROW(simulate_condition(noise_free(0.5, 1, 1), 0, 0, 1, "w"), Error);
}

class SimulationFileTest : public test::ScratchFolderTest {
 protected:
  std::string write(const std::string& text) {
    const std::string p = path("sim.yaml");
    std::ofstream(p) << text;
    return p;
  }
};

TEST_F(SimulationFileTest, ShippedFileLoads) {
  const SimulationSpec s = load_simulation_file(std::string(ISC_SOURCE_DIR) + "/simulations/latent_concept.yaml");
  ASSERT_EQ(s.conditions.size(), 2u);
  EXPECT_EQ(s.conditions[0].name, "baseline");
  EXPECT_EQ(s.conditions[0].lr_instruction, 1.0);
  EXPECT_GT(s.conditions[1].lr_instruction, 1.0);
  EXPECT_EQ(s.conditions[1].answers_positive, s.conditions[0].answers_positive);  // from defaults
}

TEST_F(SimulationFileTest, DefaultsConditionsAndOverrides) {
  SimulationSpec s = load_simulation_file(write(
      "items: 7\nrounds: 3\nseed: 9\ndefaults:\n  prior: 0.2\n  answers_positive: [0.9, 0.1]\n"
      "  answers_negative: [0.3, 0.7]\nconditions:\n  - name: a\n  - name: b\n    prior_log_odds: 1.5\n"
      "    output_evidence: answer\n    answer: argmax\n"));
  EXPECT_EQ(s.items, 7);
  EXPECT_EQ(s.rounds, 3);
  EXPECT_EQ(s.seed, 9u);
  EXPECT_NEAR(s.conditions[0].prior_log_odds, std::log(0.25), 1e-15);
  EXPECT_EQ(s.conditions[1].prior_log_odds, 1.5);
  EXPECT_EQ(s.conditions[1].output_evidence, OutputEvidence::Answer);
  EXPECT_EQ(s.conditions[1].answer, AnswerRule::Argmax);
  ParameterOverrides o;
  o.lr_instruction = 2.5;
  o.prior = 0.5;
  apply_overrides(s, o, "flags");
  for (const auto& c : s.conditions) {
    EXPECT_EQ(c.lr_instruction, 2.5);
    EXPECT_EQ(c.prior_log_odds, 0.0);
  }
  select_conditions(s, {"b"}, "flags");
  ASSERT_EQ(s.conditions.size(), 1u);
  EXPECT_EQ(s.conditions[0].name, "b");
  EXPECT_NE(test::error_message([&] { select_conditions(s, {"zzz"}, "flags"); }).find("no condition 'zzz'"),
            std::string::npos);
}

TEST_F(SimulationFileTest, ErrorsNameTheFileLineAndField) {
  const std::string body = "conditions:\n  - name: a\n    answers_positive: [0.5, 0.5]\n    answers_negative: [0.5, 0.5]\n";
  std::string e = test::error_message([&] { load_simulation_file(write("itemz: 3\n" + body)); });
  EXPECT_NE(e.find("sim.yaml:1:1: unknown key 'itemz'"), std::string::npos) << e;
  e = test::error_message([&] { load_simulation_file(write(body + "    lr_instruction: -2\n")); });
  EXPECT_NE(e.find("sim.yaml:2:5: condition 'a': lr_instruction = -2"), std::string::npos) << e;
  e = test::error_message([&] { load_simulation_file(write(body + "    prior: 1.0\n")); });
  EXPECT_NE(e.find("sim.yaml:5:12: prior = 1"), std::string::npos) << e;
  e = test::error_message([&] { load_simulation_file(write(body + "    prior: 0.3\n    prior_log_odds: 1\n")); });
  EXPECT_NE(e.find("either 'prior' or 'prior_log_odds'"), std::string::npos) << e;
  e = test::error_message([&] { load_simulation_file(write(body + "    answer: greedy\n")); });
  EXPECT_NE(e.find("sim.yaml:5:13: answer 'greedy' (expected sample or argmax)"), std::string::npos) << e;
  e = test::error_message([&] {
    load_simulation_file(write("conditions:\n  - name: a\n    answers_positive: [0.5, 0.5]\n    answers_negative: [0.5, x]\n"));
  });
  EXPECT_NE(e.find("sim.yaml:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("expected a number in 'answers_negative'"), std::string::npos) << e;
  e = test::error_message([&] { load_simulation_file(write("rounds: 0\n" + body)); });
  EXPECT_NE(e.find("sim.yaml:1:9: expected 'rounds' in 1..10000"), std::string::npos) << e;
  e = test::error_message([&] { load_simulation_file(write("conditions: []\n")); });
  EXPECT_NE(e.find("non-empty list 'conditions'"), std::string::npos) << e;
  e = test::error_message([&] { load_simulation_file(write(body + "  - name: a\n    answers_positive: [0.5, 0.5]\n"
                                                                 "    answers_negative: [0.5, 0.5]\n")); });
  EXPECT_NE(e.find("condition 'a' is defined twice"), std::string::npos) << e;
  e = test::error_message([&] {
    load_simulation_file(write(body + "  - name: b\n    answers_positive: [0.5, 0.3, 0.2]\n"
                                      "    answers_negative: [0.5, 0.3, 0.2]\n"));
  });
  EXPECT_NE(e.find("same K and gold"), std::string::npos) << e;
  e = test::error_message([&] { load_simulation_file(write("items: [1\n")); });
  EXPECT_NE(e.find("sim.yaml:"), std::string::npos) << e;
  e = test::error_message([&] { load_simulation_file(path("missing.yaml")); });
  EXPECT_NE(e.find("missing.yaml: file not found"), std::string::npos) << e;
}

TEST(SimulationRun, PredictStopFollowsPredictedSettled) {
  SimulationSpec s;
  s.items = 3;
  s.rounds = 12;
  s.predict_stop = 0.02;
  s.conditions = {noise_free(0.3, 2.0, 1.2)};
  const std::vector<SimulatedCondition> r = run_simulation(s);
  for (std::size_t i = 0; i < r[0].conversations.size(); ++i) {
    const SimulatedConversation& c = r[0].conversations[i];
    int expected = s.rounds;
    std::vector<std::vector<double>> states;
    for (int t = 1; t < s.rounds; ++t) {
      states.push_back(c.rounds[t - 1].predictive);
      if (metrics::predicted_settled(states, s.predict_stop)) {
        expected = t;
        break;
      }
    }
    EXPECT_EQ(r[0].stops[i].kept_rounds, expected);
    EXPECT_LT(expected, s.rounds);  // these parameters settle well before round 12
    EXPECT_TRUE(r[0].stops[i].early_stopped());
  }
  s.predict_stop = 0;
  const std::vector<SimulatedCondition> unstopped = run_simulation(s);
  for (const ConversationStop& stop : unstopped[0].stops) {
    EXPECT_EQ(stop.kept_rounds, 12);
    EXPECT_FALSE(stop.early_stopped());
  }
}

class SimulatedStoreTest : public test::ScratchFolderTest {};

TEST_F(SimulatedStoreTest, WritesARunLikeARealOne) {
  SimulationSpec s;
  s.items = 4;
  s.rounds = 10;
  s.predict_stop = 0.02;
  s.conditions = {noise_free(0.3, 2.0, 1.2), noise_free(0.3, 1.0, 1.0)};
  s.conditions[1].name = "flat";
  const std::vector<SimulatedCondition> result = run_simulation(s);
  Store store = Store::open(path("s.sqlite"), OpenMode::CreateOrOpen);
  const SimulatedRunStamp stamp{"sim-run", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", 1.0};
  write_simulated_run(store, s, result, stamp);
  const RunRecord run = *store.find_run("sim-run");
  EXPECT_EQ(run.task, "simulation");
  EXPECT_EQ(run.model, "simulation:latent-concept");
  EXPECT_EQ(run.status, "finished");
  EXPECT_EQ(run.conditions, (std::vector<std::string>{"c", "flat"}));
  EXPECT_EQ(run.config, to_json(s));
  const std::vector<ItemRecord> items = store.items("sim-run");
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].options, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(items[0].gold, 0);
  const std::vector<RoundRecord> rounds = store.rounds("sim-run", "c");
  std::size_t expected = 0;
  for (const ConversationStop& stop : result[0].stops) expected += stop.kept_rounds;
  ASSERT_EQ(rounds.size(), expected);
  for (const RoundRecord& r : rounds) {
    EXPECT_EQ(r.extra["simulation"]["posterior"].get<double>(), closed_form_posterior(s.conditions[0], r.round));
    EXPECT_EQ(r.option_probs, predictive_distribution(s.conditions[0], closed_form_posterior(s.conditions[0], r.round)));
    EXPECT_EQ(r.parsed_answer, std::string(1, static_cast<char>('A' + r.answer_index)));
  }
  EXPECT_TRUE(rounds.back().extra.value("early_stopped", false));
  EXPECT_EQ(rounds.back().extra["predict_stop"]["epsilon"].get<double>(), 0.02);
  // the flat condition's distribution stands still, so the prediction is 0 as soon as there are two
  // changes: it stops at round 3
  for (const RoundRecord& r : store.rounds("sim-run", "flat")) EXPECT_LE(r.round, 3);
  EXPECT_EQ(store.rounds("sim-run", "flat").size(), 4u * 3u);
  const std::vector<ItemProbeRecord> probes = store.item_probes("sim-run", std::string(kPosteriorProbeName));
  EXPECT_EQ(probes.size(), store.count_rounds("sim-run"));
  for (const ItemProbeRecord& p : probes) {
    EXPECT_EQ(p.position, "answer");
    EXPECT_EQ(p.layer, 0);
    EXPECT_NEAR(p.cosine, 2 * *p.probability - 1, 1e-15);
  }
  const std::string e = test::error_message([&] { write_simulated_run(store, s, result, stamp); });
  EXPECT_NE(e.find("run 'sim-run' exists already"), std::string::npos) << e;
  EXPECT_EQ(store.runs().size(), 1u);
}

TEST(SimulationSummary, ClosedFormColumnsAndCarryForward) {
  SimulationSpec s;
  s.items = 5;
  s.rounds = 6;
  s.conditions = {noise_free(0.5, 2.0, 1.5)};
  s.conditions[0].answer = AnswerRule::Argmax;
  const auto summary = summarize_simulation(run_simulation(s));
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].paper_exceeds_one_round, 3);
  EXPECT_EQ(summary[0].conversations_paper_above_one, 5u);
  for (const SimulationRoundSummary& r : summary[0].rounds) {
    EXPECT_NEAR(r.mean_posterior, *r.closed_form_posterior, 1e-15);
    EXPECT_NEAR(r.mean_paper, *r.closed_form_paper, 1e-12);
    EXPECT_EQ(r.accuracy, 1.0);  // p_t >= 2/3 puts the most mass on option 0, the gold
  }
}

}  // namespace
}  // namespace isc::sim
