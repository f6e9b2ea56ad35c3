// `isc serve`'s engine thread against the embedded backend: multi-round conversations with
// pre-fills sent the way an OpenAI client sends them (the whole conversation as text each round)
// get the embedded conversation's tokens exactly (the prefix-cache tokenization rule), hence the
// same answers and the same hidden states, steered turns included; and they compute only new rows.
#include <chrono>
#include <cmath>

#include <gtest/gtest.h>

#include "backend/embedded.h"
#include "serve/engine_worker.h"
#include "text/chat_template.h"

namespace isc {
namespace {

std::string model_path() {
  if (const char* p = std::getenv("ISC_MODEL")) return p;
  return std::string(ISC_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

serve::ServeResult run(serve::EngineWorker& w, serve::ServeJob job) {
  auto ch = std::make_shared<serve::RequestChannel>();
  w.submit(ch, std::move(job));
  serve::RequestChannel::Progress p;
  while (!(p = ch->wait(p, std::chrono::seconds(1))).done) {
  }
  return ch->result();
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, static_cast<double>(std::abs(a[i] - b[i])));
  return d;
}

TEST(ServeEmbeddedParity, MultiRoundConversationsGetTheEmbeddedTokensAnswersAndHiddenStates) {
  EmbeddedBackend emb(model_path(), EngineOptions{});
  serve::WorkerOptions wo;
  wo.model_path = model_path();
  serve::EngineWorker worker(wo);
  const ChatTemplate& chat = worker.chat_template();

  const std::vector<std::string> items = {
      "Context: A nurse and a pilot met at the airport.\n\nWho was flying the plane? (a) The nurse (b) The pilot (c) Unknown.",
      "Context: Two friends, one old and one young, went hiking.\n\nWho got tired first? (a) The old friend (b) The young "
      "friend (c) Unknown.",
      "Context: A teacher and a student stayed late.\n\nWho graded the tests? (a) The teacher (b) The student (c) Unknown."};
  const std::string first_prefill = "The single most likely answer choice is";
  const std::string next_user =
      "Evaluate your previous choice and explanation. If you are confident that your previous answer choice is "
      "unbiased, maintain your answer. Otherwise, update your answer.";
  const std::string next_prefill = "By evaluating my previous answer choice, the single most unbiased answer choice is";
  auto steer = std::make_shared<Steering>();
  steer->add[12] = std::vector<float>(576, 0.0f);
  for (size_t i = 0; i < 576; ++i) steer->add[12][i] = (i % 7 == 0) ? 2.5f : -0.3f;

  struct Conv {
    uint64_t id = 0;
    std::vector<ChatMessage> messages;   // as the client keeps them
    std::vector<int32_t> tokens;         // what the embedded conversation's cache holds
  };
  std::vector<Conv> convs(items.size());
  for (auto& c : convs) c.id = emb.open_conversation();
  const int rounds = 4;
  for (int k = 0; k < rounds; ++k) {
    for (size_t i = 0; i < convs.size(); ++i) {  // round-robin: the pool holds every conversation
      Conv& c = convs[i];
      const std::string user = k == 0 ? items[i] : next_user;
      const std::string prefill = k == 0 ? first_prefill : next_prefill;
      const bool steered = i == 1 && k == 2;
      TurnRequest t;
      t.conversation = c.id;
      t.user_message = user;
      t.assistant_prefill = prefill;
      t.sampling.max_new_tokens = k == 0 ? 24 : 8;
      t.hidden_layers = {10, 30};
      t.hidden_positions = {"answer", "user_end"};
      if (steered) t.steering = steer;
      const TurnResult er = emb.run_turns({t})[0];

      c.messages.push_back({"user", user});
      serve::ServeJob j;
      j.prompt_text = chat.render(c.messages, true, prefill);
      j.max_tokens = t.sampling.max_new_tokens;
      j.temperature = 0.0f;
      j.hidden_layers = t.hidden_layers;
      j.hidden_positions = t.hidden_positions;
      j.user_message = user;
      if (steered) j.steering = steer;
      j.return_token_ids = true;
      const serve::ServeResult sr = run(worker, j);
      c.messages.push_back({"assistant", prefill + sr.text});

      SCOPED_TRACE("conversation " + std::to_string(i) + " round " + std::to_string(k));
      c.tokens.resize(er.cache_kept);
      c.tokens.insert(c.tokens.end(), er.prompt_tokens.begin(), er.prompt_tokens.end());
      EXPECT_EQ(sr.prompt_tokens, c.tokens);
      EXPECT_EQ(sr.text, er.text);
      EXPECT_EQ(sr.finish_reason, er.finish_reason);
      ASSERT_EQ(sr.hidden.size(), er.hidden.size());
      for (size_t h = 0; h < sr.hidden.size(); ++h) {
        EXPECT_EQ(sr.hidden[h].position, er.hidden[h].position);
        EXPECT_EQ(sr.hidden[h].layer, er.hidden[h].layer);
        EXPECT_LE(max_abs_diff(sr.hidden[h].values, er.hidden[h].values), 1e-5) << sr.hidden[h].position << " " << sr.hidden[h].layer;
      }
      // the bookkeeping a client needs to record the turn as the embedded backend does
      EXPECT_EQ(sr.turn_from, er.cache_kept);
      EXPECT_EQ(sr.generated_cached, er.generated_cached);
      ASSERT_EQ(sr.tokens.size(), er.tokens.size());
      for (size_t g = 0; g < sr.tokens.size(); ++g) EXPECT_EQ(sr.tokens[g], er.tokens[g].id);
      if (k > 0) {  // everything before this round's new tokens came from the cache
        EXPECT_EQ(sr.cached_tokens, er.cache_kept);
        EXPECT_EQ(sr.prefilled, er.prefilled_tokens);
      }
      for (int64_t g = 0; g < er.generated_cached; ++g) c.tokens.push_back(er.tokens[g].id);
    }
  }
  EXPECT_GT(worker.stats().reused_tokens.load(), worker.stats().prompt_tokens.load() / 2);
}

}  // namespace
}  // namespace isc
