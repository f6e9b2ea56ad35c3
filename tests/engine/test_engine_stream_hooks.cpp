// The two engine hooks `isc serve` uses: a per-token callback (streaming) and prompt
// log-probabilities (echo logprobs of legacy completions). Both must leave results batch-invariant.
#include <gtest/gtest.h>

#include "model_fixture.h"

namespace isc {
namespace {

std::vector<int32_t> chat_prompt(Engine& e, const std::string& user) {
  return e.tokenizer().encode(e.chat_template().render({{"user", user}}, true), true);
}

// Runs jobs on fresh caches with tiny limits, so prompts are chunked and mixed with decode steps.
std::vector<GenerationResult> run_small(Engine& e, std::vector<GenerationJob> jobs, SchedulerLimits limits = {3, 7}) {
  std::vector<KvCache> caches;
  caches.reserve(jobs.size());
  for (auto& j : jobs) {
    caches.push_back(e.model().new_cache());
    j.cache = &caches.back();
  }
  EngineCounters counters;
  return run_jobs(e.model(), e.tokenizer(), jobs, limits, counters);
}

TEST(EngineStreamHooks, OnTokenSeesEveryGeneratedTokenOnceInOrder) {
  Engine& e = test::shared_engine("bf16");
  const std::vector<std::string> qs = {"What is the capital of Italy?", "Name three colours.", "Count to five."};
  std::vector<std::vector<std::vector<int32_t>>> seen(qs.size());
  std::vector<GenerationJob> jobs;
  for (size_t i = 0; i < qs.size(); ++i) {
    GenerationJob j;
    j.append = chat_prompt(e, qs[i]);
    j.max_new_tokens = 12;
    j.stop_tokens = e.end_of_turn_tokens();
    j.top_logprobs = 2;
    j.on_token = [&seen, i](const GenerationResult& r) {
      seen[i].push_back(r.tokens);
      EXPECT_EQ(r.tokens.size(), r.logprobs.size());
      EXPECT_EQ(r.tokens.size(), r.top.size());
    };
    jobs.push_back(std::move(j));
  }
  std::vector<GenerationJob> plain = jobs;
  for (auto& j : plain) j.on_token = nullptr;
  const auto with_hook = run_small(e, jobs);
  const auto without = run_small(e, plain);
  for (size_t i = 0; i < qs.size(); ++i) {
    EXPECT_EQ(with_hook[i].tokens, without[i].tokens);
    ASSERT_EQ(seen[i].size(), with_hook[i].tokens.size()) << qs[i];
    for (size_t k = 0; k < seen[i].size(); ++k)
      EXPECT_EQ(seen[i][k], std::vector<int32_t>(with_hook[i].tokens.begin(), with_hook[i].tokens.begin() + k + 1));
  }
}

TEST(EngineStreamHooks, PromptLogprobsEqualGenerationLogprobsAndIgnoreBatching) {
  Engine& e = test::shared_engine("bf16");
  const std::vector<int32_t> prompt = chat_prompt(e, "Describe the sea in one sentence.");
  GenerationJob gen;
  gen.append = prompt;
  gen.max_new_tokens = 10;
  const GenerationResult g = run_small(e, {gen}, {64, 512})[0];
  ASSERT_EQ(g.tokens.size(), 10u);

  // score prompt + generated tokens as one prompt: the generated tokens' log-probabilities return
  GenerationJob score;
  score.append = prompt;
  score.append.insert(score.append.end(), g.tokens.begin(), g.tokens.end());
  score.max_new_tokens = 0;
  score.prompt_logprobs = true;
  score.top_logprobs = 3;
  const GenerationResult alone = run_small(e, {score}, {64, 512})[0];
  ASSERT_EQ(alone.prompt_logprobs.size(), score.append.size() - 1);
  ASSERT_EQ(alone.prompt_top.size(), score.append.size() - 1);
  for (size_t k = 0; k < g.tokens.size(); ++k)
    EXPECT_NEAR(alone.prompt_logprobs[prompt.size() + k - 1], g.logprobs[k], 1e-4) << k;
  for (size_t j = 0; j < alone.prompt_logprobs.size(); ++j) {
    EXPECT_LE(alone.prompt_logprobs[j], 0.0f);  // 0 exactly where one token outweighs the rest by > 17 nats (template tokens)
    ASSERT_EQ(alone.prompt_top[j].size(), 3u);
    EXPECT_GE(alone.prompt_top[j][0].second, alone.prompt_logprobs[j] - 1e-6f);
  }

  // chunked and batched with other jobs: the same numbers
  std::vector<GenerationJob> batch = {gen, score, gen};
  batch[0].append = chat_prompt(e, "Name a fruit.");
  const auto mixed = run_small(e, batch);
  EXPECT_EQ(mixed[1].prompt_logprobs, alone.prompt_logprobs);
  for (size_t j = 0; j < alone.prompt_top.size(); ++j) EXPECT_EQ(mixed[1].prompt_top[j], alone.prompt_top[j]);
  EXPECT_EQ(mixed[2].tokens, g.tokens);
  EXPECT_TRUE(mixed[0].prompt_logprobs.empty());
}

}  // namespace
}  // namespace isc
