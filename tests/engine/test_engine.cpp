// Engine behaviour on the real default model: live caches across turns, forks, batching and
// chunked prefill, seeded sampling independent of batch makeup, continuation scoring, hidden states.
#include <map>
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "backend/embedded.h"
#include "common/error.h"
#include "formats/gguf.h"
#include "model_fixture.h"

namespace isc {
namespace {

std::vector<int32_t> chat_tokens(Engine& e, const std::string& user, const std::string& prefill = "") {
  std::string text = e.chat_template().render({{"user", user}}, true, prefill);
  return e.tokenizer().encode(text, true);
}

GenerationResult run_one(Engine& e, SequenceId seq, GenerationJob job) {
  std::vector<GenerationJob> jobs{std::move(job)};
  return e.run({seq}, jobs)[0];
}

GenerationJob greedy_job(std::vector<int32_t> prompt, int n) {
  GenerationJob j;
  j.append = std::move(prompt);
  j.max_new_tokens = n;
  return j;
}

const std::vector<std::string> kQuestions = {
    "What is the capital of Italy?", "Name three colours.", "Write one sentence about dogs.",
    "What is 12 plus 30?", "Who painted the Mona Lisa?", "Give a synonym for happy.",
    "Describe rain in five words.", "What language is spoken in Brazil?"};

TEST(Engine, ContinuingACacheEqualsRecomputingTheHistory) {
  Engine& e = test::shared_engine("fp32");
  SequenceId live = e.new_sequence();
  GenerationResult r1 = run_one(e, live, greedy_job(chat_tokens(e, "Tell me a fact about the moon."), 12));
  const int64_t after_round1 = static_cast<int64_t>(e.tokens(live).size());
  std::vector<int32_t> turn2 = e.tokenizer().encode("<|im_end|>\n<|im_start|>user\nAnother one?<|im_end|>\n<|im_start|>assistant\n", true);
  GenerationResult r2 = run_one(e, live, greedy_job(turn2, 12));
  EXPECT_EQ(r2.prefilled, static_cast<int64_t>(turn2.size()));  // only the new tokens were computed

  // The same history computed from scratch in one prefill.
  std::vector<int32_t> history(e.tokens(live).begin(), e.tokens(live).begin() + after_round1);
  history.insert(history.end(), turn2.begin(), turn2.end());
  SequenceId fresh = e.new_sequence();
  GenerationResult ref = run_one(e, fresh, greedy_job(history, 12));
  ASSERT_EQ(r2.tokens, ref.tokens);
  for (size_t i = 0; i < ref.logprobs.size(); ++i) EXPECT_NEAR(r2.logprobs[i], ref.logprobs[i], 2e-3);
  e.release(live);
  e.release(fresh);
}

TEST(Engine, ForkContinuesWithoutRecomputingThePrefix) {
  Engine& e = test::shared_engine("fp32");
  SequenceId parent = e.new_sequence();
  auto prompt = chat_tokens(e, "Write a short poem about autumn.");
  run_one(e, parent, greedy_job(prompt, 0));
  const int64_t prefilled_before = e.counters().prefilled_tokens;
  SequenceId a = e.fork(parent), b = e.fork(parent);
  EXPECT_EQ(e.tokens(a), e.tokens(parent));
  // each child appends one token and decodes: only that token is prefilled
  std::vector<int32_t> nl = e.tokenizer().encode("The", true);
  GenerationResult ra = run_one(e, a, greedy_job(nl, 10));
  GenerationResult rb = run_one(e, b, greedy_job(nl, 10));
  EXPECT_EQ(e.counters().prefilled_tokens - prefilled_before, 2 * static_cast<int64_t>(nl.size()));
  EXPECT_EQ(ra.tokens, rb.tokens);
  std::vector<int32_t> full = prompt;
  full.insert(full.end(), nl.begin(), nl.end());
  SequenceId fresh = e.new_sequence();
  GenerationResult rf = run_one(e, fresh, greedy_job(full, 10));
  EXPECT_EQ(ra.tokens, rf.tokens);
  EXPECT_EQ(e.tokens(parent).size(), prompt.size());  // the parent is untouched
  for (auto s : {parent, a, b, fresh}) e.release(s);
}

TEST(Engine, BatchedAndChunkedEqualsAlone) {
  Engine& e = test::shared_engine("fp32");
  std::vector<GenerationResult> alone;
  for (const auto& q : kQuestions) {
    SequenceId s = e.new_sequence();
    alone.push_back(run_one(e, s, greedy_job(chat_tokens(e, q), 16)));
    e.release(s);
  }
  // all together, with tiny steps so prompts are split into chunks that mix with decode steps
  SchedulerLimits small{3, 7};
  std::vector<GenerationJob> jobs;
  for (const auto& q : kQuestions) jobs.push_back(greedy_job(chat_tokens(e, q), 16));
  EngineCounters counters;
  std::vector<KvCache> caches;
  caches.reserve(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    caches.push_back(e.model().new_cache());
    jobs[i].cache = &caches[i];
  }
  auto batched = run_jobs(e.model(), e.tokenizer(), jobs, small, counters);
  for (size_t i = 0; i < jobs.size(); ++i) {
    EXPECT_EQ(batched[i].tokens, alone[i].tokens) << kQuestions[i];
    for (size_t k = 0; k < std::min(batched[i].logprobs.size(), alone[i].logprobs.size()); ++k)
      EXPECT_NEAR(batched[i].logprobs[k], alone[i].logprobs[k], 2e-3);
  }
  EXPECT_GT(counters.forward_calls, 16);  // really interleaved
}

TEST(Engine, SeededSamplingIsTheSameAloneAndInABatchOf32) {
  Engine& e = test::shared_engine("bf16");
  std::vector<GenerationJob> jobs;
  for (int i = 0; i < 32; ++i) {
    GenerationJob j = greedy_job(chat_tokens(e, kQuestions[i % kQuestions.size()]), 12);
    j.sampler = SamplerSettings{0.8f, 40, 0.95f, static_cast<uint64_t>(1000 + i)};
    jobs.push_back(j);
  }
  std::vector<SequenceId> seqs;
  for (int i = 0; i < 32; ++i) seqs.push_back(e.new_sequence());
  auto batch = e.run(seqs, jobs);
  int same_prompt_different_seed_differs = 0;
  for (int i = 0; i < 32; ++i) {
    SequenceId s = e.new_sequence();
    GenerationJob j = jobs[i];
    GenerationResult alone = run_one(e, s, j);
    EXPECT_EQ(alone.tokens, batch[i].tokens) << "sequence " << i;
    e.release(s);
    if (i >= 8 && batch[i].tokens != batch[i - 8].tokens) ++same_prompt_different_seed_differs;
  }
  EXPECT_GT(same_prompt_different_seed_differs, 0);  // the seed matters
  for (auto s : seqs) e.release(s);
}

TEST(Engine, ContinuationScoresEqualTeacherForcedLogprobs) {
  Engine& e = test::shared_engine("fp32");
  auto prompt = chat_tokens(e, "Is water wet? (a) yes (b) no (c) unknown.", "The single most likely answer choice is");
  GenerationJob job = greedy_job(prompt, 4);
  std::vector<std::string> conts = {" (a)", " (b)", " (c)"};
  for (const auto& c : conts) job.score_continuations.push_back(e.tokenizer().encode(c, false));
  SequenceId s = e.new_sequence();
  GenerationResult r = run_one(e, s, job);
  ASSERT_EQ(r.continuation_logprobs.size(), 3u);
  EXPECT_EQ(e.tokens(s).size(), prompt.size() + r.tokens.size() - 1);  // scoring left no trace
  for (size_t c = 0; c < conts.size(); ++c) {
    const auto& ct = job.score_continuations[c];
    KvCache cache = e.model().new_cache();
    ForwardRequest req;
    req.tokens = prompt;
    req.tokens.insert(req.tokens.end(), ct.begin(), ct.end() - 1);
    req.chunks.push_back({&cache, 0, static_cast<int64_t>(req.tokens.size())});
    for (size_t k = 0; k < ct.size(); ++k) req.logit_rows.push_back(static_cast<int64_t>(prompt.size() - 1 + k));
    ForwardResult out = e.model().forward(req);
    double expect = 0;
    for (size_t k = 0; k < ct.size(); ++k) expect += at::log_softmax(out.logits[k], 0)[ct[k]].item<float>();
    EXPECT_NEAR(r.continuation_logprobs[c], expect, 2e-3) << conts[c];
  }
  e.release(s);
}

TEST(Engine, HiddenStatesAtTheAnswerPosition) {
  Engine& e = test::shared_engine("fp32");
  auto prompt = chat_tokens(e, "Hello!");
  GenerationJob job = greedy_job(prompt, 1);
  const int L = static_cast<int>(e.config().n_layers);
  job.hidden_points = {{-1, 0}, {-1, L / 2}, {-1, L}};
  SequenceId s = e.new_sequence();
  GenerationResult res = run_one(e, s, job);
  ASSERT_EQ(res.hidden.size(), 3u);
  std::map<int, std::vector<float>> hidden{{0, res.hidden[0]}, {L / 2, res.hidden[1]}, {L, res.hidden[2]}};
  for (auto& [layer, h] : hidden) EXPECT_EQ(static_cast<int64_t>(h.size()), e.config().dim);
  // layer 0 is the embedding row of the last prompt token, as the gguf file stores it
  GgufFile f = GgufFile::open(test::default_model_path());
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  std::vector<float> table = f.dequantize_tensor(*emb);
  const int64_t dim = e.config().dim;
  for (int64_t i = 0; i < dim; ++i) EXPECT_FLOAT_EQ(hidden[0][i], table[prompt.back() * dim + i]);
  EXPECT_NE(hidden[L], hidden[L / 2]);
  e.release(s);
}

TEST(Engine, PromptLongerThanTheContextIsAClearError) {
  Engine& e = test::shared_engine("bf16");
  SequenceId s = e.new_sequence();
  std::vector<int32_t> huge(e.config().context_length + 5, 42);
  try {
    run_one(e, s, greedy_job(huge, 1));
    FAIL() << "expected an error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("exceeds the model's context"), std::string::npos) << err.what();
  }
  e.release(s);
}

TEST(Engine, EmbeddedBackendConversationPrefillsEachTokenOnce) {
  EmbeddedBackend backend(Engine::load(test::default_model_path()));
  uint64_t conv = backend.open_conversation();
  int64_t prefilled = 0, fed_back = 0;
  TurnResult last;
  for (int round = 1; round <= 4; ++round) {
    TurnRequest req;
    req.conversation = conv;
    req.user_message = round == 1 ? "Context: Two friends, a teacher and a lawyer, met.\n\nWho is smart? (a) the teacher (b) the lawyer (c) unknown."
                                  : "Evaluate your previous answer. If you are confident, maintain it.";
    req.assistant_prefill = "The single most likely answer choice is";
    req.sampling.max_new_tokens = round == 1 ? 20 : 6;
    req.score_continuations = {" (a)", " (b)", " (c)"};
    last = backend.run_turns({req})[0];
    prefilled += last.prefilled_tokens;
    fed_back += last.generated_cached;
    // a turn feeds back every generated token but possibly the last one sampled
    EXPECT_GE(last.generated_cached + 1, static_cast<int64_t>(last.tokens.size()));
    EXPECT_LE(last.generated_cached, static_cast<int64_t>(last.tokens.size()));
    ASSERT_EQ(last.continuation_logprobs.size(), 3u);
    EXPECT_EQ(last.prefilled_tokens, static_cast<int64_t>(last.prompt_tokens.size()));
  }
  // Every token in the cache was computed once: as prompt, or as a generated token fed back.
  EXPECT_EQ(prefilled + fed_back, last.context_tokens);
  const auto& msgs = backend.messages(conv);
  ASSERT_EQ(msgs.size(), 8u);  // 4 × (user, assistant); the template adds its default system text
  EXPECT_EQ(msgs[0].role, "user");
  EXPECT_EQ(msgs.back().content.rfind("The single most likely answer choice is", 0), 0u);
}

}  // namespace
}  // namespace isc
