// Runs that sample extra answers per round, on the real default model: the samples do not move
// the trajectory, an interrupted run resumes to the same samples and estimators, and a judge's
// entailment decisions are cached in the store so a second run asks nothing again.
#include <filesystem>

#include <gtest/gtest.h>

#include "backend/embedded.h"
#include "protocol/experiment.h"
#include "protocol/runner.h"
#include "run_fixture.h"
#include "store/store.h"
#include "tasks/entailment_judge.h"

namespace isc {
namespace {

using test::backend;
using test::model_path;
using test::quiet;
using test::temp_store;

tasks::RunSpec spec(const std::string& task, int limit, int rounds, int samples) {
  tasks::RunSpec s;
  s.task = std::string(ISC_SOURCE_DIR) + "/tasks/" + task;
  s.model = model_path();
  s.rounds = rounds;
  s.limit = limit;
  s.seed = 11;
  s.samples.n = samples;
  s.samples.max_new_tokens = 12;
  if (task == "bbq.yaml") s.conditions = {"baseline", "self-correct"};
  return s;
}

// A round's own answer, without timing or the sampling bookkeeping.
std::string trajectory(const RoundRecord& r) {
  std::vector<int32_t> ids;
  for (const auto& t : r.tokens) ids.push_back(t.id);
  return nlohmann::json{{"c", r.condition}, {"i", r.item_id}, {"r", r.round}, {"p", r.prompt_tokens}, {"t", ids},
                        {"o", r.option_probs}, {"x", r.context_tokens}}
      .dump();
}

std::string sample_row(const SampleRecord& s) {
  std::vector<std::pair<int32_t, float>> toks;
  for (const auto& t : s.tokens) toks.emplace_back(t.id, t.logprob);
  return nlohmann::json{{"c", s.condition}, {"i", s.item_id}, {"r", s.round}, {"s", s.sample}, {"seed", s.seed},
                        {"t", toks}, {"a", s.answer_index}, {"k", s.cluster}}
      .dump();
}

struct Finished {
  std::string run_id;
  std::vector<RoundRecord> rounds;
  std::vector<SampleRecord> samples;
};

Finished run_to_end(const std::string& path, const tasks::RunSpec& s, int pool,
                    tasks::EntailmentJudge* judge = nullptr) {
  Store store = Store::open(path, OpenMode::CreateOrOpen);
  protocol::Experiment e = protocol::prepare_experiment(s);
  protocol::record_experiment(store, e, backend().info());
  protocol::RunnerOptions o = quiet(pool);
  o.entailment = judge;
  EXPECT_TRUE(protocol::run_experiment(backend(), store, e, o).complete);
  return {e.run_id, store.rounds(e.run_id), store.samples(e.run_id)};
}

TEST(SampledRuns, SamplesDoNotChangeTheTrajectory) {
  const std::string a = temp_store("samples-none"), b = temp_store("samples-three");
  const Finished plain = run_to_end(a, spec("bbq.yaml", 3, 2, 0), 8);
  const Finished sampled = run_to_end(b, spec("bbq.yaml", 3, 2, 3), 8);
  ASSERT_EQ(plain.rounds.size(), sampled.rounds.size());
  for (size_t i = 0; i < plain.rounds.size(); ++i)
    EXPECT_EQ(trajectory(plain.rounds[i]), trajectory(sampled.rounds[i])) << "round row " << i;
  EXPECT_TRUE(plain.samples.empty());
  ASSERT_EQ(sampled.samples.size(), sampled.rounds.size() * 3);
  for (const RoundRecord& r : sampled.rounds) {
    ASSERT_TRUE(r.extra.contains("uncertainty")) << r.extra.dump();
    const auto& u = r.extra["uncertainty"];
    for (const char* name : {"predictive_entropy", "ln_predictive_entropy", "semantic_entropy", "ln_semantic_entropy",
                             "discrete_semantic_entropy", "reference_semantic_nll"})
      EXPECT_TRUE(u.contains(name) && u[name].is_number()) << name << " in " << u.dump();
    EXPECT_EQ(r.extra["sampling"]["samples"], 3);
    EXPECT_EQ(r.extra["sampling"]["entailment"], "exact");  // multiple choice: clustered on the option
  }
  // Exact clustering on options: two samples share a cluster iff they name the same option.
  for (size_t i = 0; i < sampled.samples.size(); ++i)
    for (size_t j = i + 1; j < sampled.samples.size() && sampled.samples[j].round == sampled.samples[i].round &&
                           sampled.samples[j].item_id == sampled.samples[i].item_id &&
                           sampled.samples[j].condition == sampled.samples[i].condition;
         ++j)
      if (sampled.samples[i].answer_index >= 0 && sampled.samples[j].answer_index >= 0)
        EXPECT_EQ(sampled.samples[i].cluster == sampled.samples[j].cluster,
                  sampled.samples[i].answer_index == sampled.samples[j].answer_index);
  std::filesystem::remove(a);
  std::filesystem::remove(b);
}

TEST(SampledRuns, InterruptedRunResumesToTheSameSamples) {
  const std::string a = temp_store("samples-full"), b = temp_store("samples-resumed");
  const tasks::RunSpec s = spec("bbq.yaml", 4, 3, 3);
  const Finished full = run_to_end(a, s, 4);
  {
    Store sb = Store::open(b, OpenMode::CreateOrOpen);
    protocol::Experiment eb = protocol::prepare_experiment(s);
    protocol::record_experiment(sb, eb, backend().info());
    protocol::RunnerOptions o = quiet(3);
    o.stop_after_rounds = 5;
    EXPECT_FALSE(protocol::run_experiment(backend(), sb, eb, o).complete);
  }
  Store sb = Store::open(b, OpenMode::CreateOrOpen);
  const std::string id = protocol::unfinished_run_id(sb, "");
  protocol::Experiment eb = protocol::load_experiment(sb, id);
  ASSERT_EQ(eb.run.samples.n, 3);  // read back from the stored configuration
  EXPECT_TRUE(protocol::run_experiment(backend(), sb, eb, quiet(5)).complete);
  const auto resumed = sb.samples(id);
  ASSERT_EQ(resumed.size(), full.samples.size());
  for (size_t i = 0; i < resumed.size(); ++i) EXPECT_EQ(sample_row(resumed[i]), sample_row(full.samples[i])) << i;
  const auto rounds = sb.rounds(id);
  for (size_t i = 0; i < rounds.size(); ++i)
    EXPECT_EQ(rounds[i].extra["uncertainty"], full.rounds[i].extra["uncertainty"]) << "round row " << i;
  std::filesystem::remove(a);
  std::filesystem::remove(b);
}

TEST(SampledRuns, JudgeDecisionsAreCachedInTheStore) {
  const std::string path = temp_store("samples-judge");
  tasks::RunSpec s = spec("realtoxicity.yaml", 2, 2, 3);
  s.conditions = {"self-correct"};
  s.samples.entailment_prompt = std::string(ISC_SOURCE_DIR) + "/prompts/entailment.yaml";
  Finished first, second;
  int64_t asked_first = 0;
  {
    Store store = Store::open(path, OpenMode::CreateOrOpen);
    tasks::EntailmentJudge judge(backend(), tasks::load_entailment_prompt(s.samples.entailment_prompt), &store);
    first = run_to_end(path, s, 4, &judge);
    asked_first = judge.asked();
    EXPECT_GT(asked_first, 0);
    EXPECT_EQ(judge.cached(), 0);
  }
  {
    Store store = Store::open(path, OpenMode::CreateOrOpen);
    tasks::EntailmentJudge judge(backend(), tasks::load_entailment_prompt(s.samples.entailment_prompt), &store);
    second = run_to_end(path, s, 2, &judge);
    EXPECT_EQ(judge.asked(), 0);  // the same run again: every pair is in the store
    EXPECT_EQ(judge.cached(), asked_first);
  }
  ASSERT_EQ(first.samples.size(), 2u * 2 * 3);
  ASSERT_EQ(first.samples.size(), second.samples.size());
  for (size_t i = 0; i < first.samples.size(); ++i) EXPECT_EQ(sample_row(first.samples[i]), sample_row(second.samples[i]));
  for (const RoundRecord& r : first.rounds) {
    EXPECT_EQ(r.extra["sampling"]["entailment"], "judge");
    EXPECT_FALSE(r.extra["sampling"]["judge"].get<std::string>().empty());
    const int clusters = r.extra["sampling"]["clusters"];
    EXPECT_GE(clusters, 1);
    EXPECT_LE(clusters, 3);
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace isc
