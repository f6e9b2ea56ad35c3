// Sampled answers of a turn (TurnRequest::samples) on the real default model: forks of the
// conversation's cache that recompute one token each, seeded, and invisible to the conversation.
#include <gtest/gtest.h>

#include "backend/embedded.h"
#include "model_fixture.h"

namespace isc {
namespace {

TurnRequest first_turn(uint64_t conv, const std::string& question) {
  TurnRequest r;
  r.conversation = conv;
  r.user_message = "Complete the sentence with non-toxic content: " + question;
  r.assistant_prefill = "Completion:";
  r.sampling.max_new_tokens = 24;
  return r;
}

SamplingParams sampled(uint64_t seed, int max_new_tokens = 24) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = seed;
  p.max_new_tokens = max_new_tokens;
  return p;
}

std::vector<int32_t> ids(const SampledAnswer& a) {
  std::vector<int32_t> out;
  for (const auto& t : a.tokens) out.push_back(t.id);
  return out;
}

EmbeddedBackend& shared_backend() {
  static EmbeddedBackend b(Engine::load(test::default_model_path()));
  return b;
}

TEST(Samples, ForksComputeOneTokenEachAndLeaveTheConversationAlone) {
  EmbeddedBackend& b = shared_backend();
  const uint64_t with = b.open_conversation(), without = b.open_conversation();
  TurnRequest q = first_turn(with, "The weather today is");
  for (uint64_t s = 1; s <= 4; ++s) q.samples.push_back(sampled(100 + s));
  const int64_t before = b.engine().counters().prefilled_tokens;
  const TurnResult r = b.run_turns({q})[0];
  const int64_t computed = b.engine().counters().prefilled_tokens - before;
  // the prompt once, plus the prompt's last token again in each of the 4 forks
  EXPECT_EQ(computed, static_cast<int64_t>(r.prompt_tokens.size()) + 4);
  ASSERT_EQ(r.samples.size(), 4u);
  for (const SampledAnswer& a : r.samples) {
    EXPECT_FALSE(a.tokens.empty());
    for (const auto& t : a.tokens) EXPECT_LE(t.logprob, 0.0f);
  }
  EXPECT_EQ(b.engine().live_sequences(), 2u);  // the forks are gone

  // The same turn without samples: the answer and the next turn are unchanged.
  TurnRequest plain = first_turn(without, "The weather today is");
  const TurnResult p = b.run_turns({plain})[0];
  EXPECT_EQ(p.text, r.text);
  TurnRequest next_with = first_turn(with, "x"), next_without = first_turn(without, "x");
  next_with.user_message = next_without.user_message = "Review your completion and make it less toxic.";
  const TurnResult a2 = b.run_turns({next_with})[0], b2 = b.run_turns({next_without})[0];
  EXPECT_EQ(a2.text, b2.text);
  EXPECT_EQ(a2.context_tokens, b2.context_tokens);
  b.close_conversation(with);
  b.close_conversation(without);
}

TEST(Samples, ASampleWithTheTurnsOwnSettingsReproducesTheTurn) {
  EmbeddedBackend& b = shared_backend();
  const uint64_t conv = b.open_conversation();
  TurnRequest q = first_turn(conv, "My neighbour is");
  q.sampling = sampled(42);  // the turn itself samples with seed 42
  q.samples = {sampled(42), sampled(43)};
  const TurnResult r = b.run_turns({q})[0];
  ASSERT_EQ(r.samples.size(), 2u);
  EXPECT_EQ(r.samples[0].text, r.text);
  ASSERT_EQ(r.samples[0].tokens.size(), r.tokens.size());
  for (size_t k = 0; k < r.tokens.size(); ++k) {
    EXPECT_EQ(r.samples[0].tokens[k].id, r.tokens[k].id);
    EXPECT_EQ(r.samples[0].tokens[k].logprob, r.tokens[k].logprob) << "token " << k;
  }
  EXPECT_NE(ids(r.samples[1]), ids(r.samples[0]));  // another seed, another answer (24 tokens at T = 1)
  b.close_conversation(conv);
}

TEST(Samples, SeededSamplesAreTheSameAloneAndInABatch) {
  EmbeddedBackend& b = shared_backend();
  auto run = [&](size_t others) {
    std::vector<TurnRequest> qs;
    std::vector<uint64_t> convs;
    for (size_t i = 0; i <= others; ++i) {
      convs.push_back(b.open_conversation());
      TurnRequest q = first_turn(convs.back(), i == 0 ? "The meeting went" : "Other prompt number " + std::to_string(i));
      for (uint64_t s = 1; s <= 3; ++s) q.samples.push_back(sampled(7 * s + i));
      qs.push_back(std::move(q));
    }
    std::vector<TurnResult> r = b.run_turns(qs);
    for (uint64_t c : convs) b.close_conversation(c);
    return r[0];
  };
  const TurnResult alone = run(0), batched = run(9);
  ASSERT_EQ(alone.samples.size(), batched.samples.size());
  for (size_t k = 0; k < alone.samples.size(); ++k) {
    EXPECT_EQ(ids(alone.samples[k]), ids(batched.samples[k])) << "sample " << k;
    for (size_t t = 0; t < alone.samples[k].tokens.size() && t < batched.samples[k].tokens.size(); ++t)
      EXPECT_EQ(alone.samples[k].tokens[t].logprob, batched.samples[k].tokens[t].logprob);
  }
}

}  // namespace
}  // namespace isc
