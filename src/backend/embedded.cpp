// EmbeddedBackend renders each conversation with the model's chat template and appends only the
// text beyond what its cache already holds; pre-fills and continuation scoring map onto jobs.
#include "backend/embedded.h"

#include <chrono>

#include <fmt/core.h>

#include "common/error.h"
#include "common/sha256.h"

namespace isc {

EmbeddedBackend::EmbeddedBackend(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}

EmbeddedBackend::EmbeddedBackend(const std::string& model_path, const EngineOptions& options)
    : engine_(Engine::load(model_path, options)) {}

BackendInfo EmbeddedBackend::info() const {
  if (sha256_.empty()) sha256_ = sha256_of_path(engine_->model_path());
  return BackendInfo{"embedded", engine_->model_path(), sha256_, ISC_VERSION};
}

uint64_t EmbeddedBackend::open_conversation() {
  const uint64_t id = next_id_++;
  conversations_[id] = Conversation{engine_->new_sequence(), {}};
  return id;
}

void EmbeddedBackend::close_conversation(uint64_t id) {
  auto it = conversations_.find(id);
  if (it == conversations_.end()) return;
  engine_->release(it->second.sequence);
  conversations_.erase(it);
}

EmbeddedBackend::Conversation& EmbeddedBackend::get(uint64_t id) {
  auto it = conversations_.find(id);
  if (it == conversations_.end()) throw Error(fmt::format("unknown conversation {}", id));
  return it->second;
}

const std::vector<ChatMessage>& EmbeddedBackend::messages(uint64_t id) const {
  auto it = conversations_.find(id);
  if (it == conversations_.end()) throw Error(fmt::format("unknown conversation {}", id));
  return it->second.messages;
}

std::vector<int32_t> EmbeddedBackend::tokens_to_append(Conversation& c, const std::string& text, int64_t* kept) {
  const Tokenizer& tok = engine_->tokenizer();
  const std::vector<int32_t>& cached = engine_->tokens(c.sequence);
  // Longest prefix of cached tokens whose text is a prefix of `text` (normally all of them).
  size_t keep = 0, bytes = 0;
  for (; keep < cached.size(); ++keep) {
    const std::string piece = tok.token_bytes(cached[keep]);
    if (text.compare(bytes, piece.size(), piece) != 0) break;
    bytes += piece.size();
  }
  if (keep < cached.size()) engine_->truncate(c.sequence, static_cast<int64_t>(keep));
  *kept = static_cast<int64_t>(keep);
  // A fresh sequence starts like any prompt (BOS if the model wants it); otherwise only the tail.
  std::vector<int32_t> ids = keep == 0 ? engine_->encode_prompt(text)
                                       : tok.encode(std::string_view(text).substr(bytes), /*parse_special=*/true);
  return ids;
}

std::vector<TurnResult> EmbeddedBackend::run_turns(const std::vector<TurnRequest>& requests) {
  const auto t0 = std::chrono::steady_clock::now();
  const Tokenizer& tok = engine_->tokenizer();
  std::vector<SequenceId> seqs;
  std::vector<GenerationJob> jobs;
  std::vector<std::vector<ChatMessage>> next_messages;
  std::vector<int64_t> kept(requests.size());
  for (const TurnRequest& r : requests) {
    Conversation& c = get(r.conversation);
    std::vector<ChatMessage> msgs = c.messages;
    if (msgs.empty() && !r.system_message.empty()) msgs.push_back({"system", r.system_message});
    msgs.push_back({"user", r.user_message});
    const std::string text = engine_->chat_template().render(msgs, /*add_generation_prompt=*/true, r.assistant_prefill);
    GenerationJob j;
    j.append = tokens_to_append(c, text, &kept[seqs.size()]);
    if (j.append.empty()) throw Error("a turn must add at least one token to the conversation");
    j.max_new_tokens = r.sampling.max_new_tokens;
    j.sampler = SamplerSettings{r.sampling.temperature, r.sampling.top_k, r.sampling.top_p, r.sampling.seed};
    j.stop_tokens = engine_->end_of_turn_tokens();
    j.stop_strings = r.sampling.stop;
    j.top_logprobs = r.sampling.top_logprobs;
    for (const std::string& s : r.score_continuations) {
      auto ids = tok.encode(s, /*parse_special=*/false);
      if (ids.empty()) throw Error(fmt::format("continuation '{}' has no tokens", s));
      j.score_continuations.push_back(std::move(ids));
    }
    j.hidden_layers = r.hidden_layers;
    seqs.push_back(c.sequence);
    jobs.push_back(std::move(j));
    next_messages.push_back(std::move(msgs));
  }

  std::vector<GenerationResult> out = engine_->run(seqs, jobs);

  std::vector<TurnResult> results(requests.size());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t i = 0; i < requests.size(); ++i) {
    const GenerationResult& g = out[i];
    TurnResult& r = results[i];
    r.text = tok.decode(g.tokens);
    r.finish_reason = g.finish_reason == "prefill" ? "length" : g.finish_reason;
    // A stop string ends the text where it begins.
    for (const std::string& s : requests[i].sampling.stop) {
      if (s.empty()) continue;
      const size_t at = r.text.find(s);
      if (at != std::string::npos) r.text.resize(at);
    }
    for (size_t k = 0; k < g.tokens.size(); ++k) {
      GeneratedToken t{g.tokens[k], tok.token_bytes(g.tokens[k]), g.logprobs[k], {}};
      if (k < g.top.size())
        for (auto [id, lp] : g.top[k]) t.top.push_back({id, tok.token_bytes(id), lp});
      r.tokens.push_back(std::move(t));
    }
    r.prompt_tokens = jobs[i].append;
    r.cache_kept = kept[i];
    r.generated_cached = static_cast<int64_t>(g.cached_tokens.size() - jobs[i].append.size());
    r.prefilled_tokens = g.prefilled;
    r.context_tokens = static_cast<int64_t>(engine_->tokens(seqs[i]).size());
    r.continuation_logprobs = g.continuation_logprobs;
    for (const auto& [layer, h] : g.hidden) r.hidden[layer] = h;
    r.seconds = seconds;
    Conversation& c = get(requests[i].conversation);
    c.messages = std::move(next_messages[i]);
    c.messages.push_back({"assistant", requests[i].assistant_prefill + r.text});
  }
  return results;
}

void EmbeddedBackend::restore_conversations(
    const std::vector<std::pair<uint64_t, std::vector<RestoredTurn>>>& turns) {
  std::vector<SequenceId> seqs;
  std::vector<GenerationJob> jobs;
  for (const auto& [id, list] : turns) {
    Conversation& c = get(id);
    if (!c.messages.empty() || !engine_->tokens(c.sequence).empty())
      throw Error(fmt::format("restore: conversation {} is not new", id));
    std::vector<int32_t> tokens;
    for (const RestoredTurn& t : list) {
      if (t.cache_kept < 0 || t.cache_kept > static_cast<int64_t>(tokens.size()))
        throw Error(fmt::format("restore: conversation {}: cache_kept {} outside 0..{}", id, t.cache_kept, tokens.size()));
      tokens.resize(t.cache_kept);
      tokens.insert(tokens.end(), t.cache_tokens.begin(), t.cache_tokens.end());
      if (c.messages.empty() && !t.system_message.empty()) c.messages.push_back({"system", t.system_message});
      c.messages.push_back({"user", t.user_message});
      c.messages.push_back({"assistant", t.assistant_message});
    }
    if (tokens.empty()) continue;
    GenerationJob j;
    j.append = std::move(tokens);
    j.max_new_tokens = 0;
    seqs.push_back(c.sequence);
    jobs.push_back(std::move(j));
  }
  if (!jobs.empty()) engine_->run(seqs, jobs);
}

}  // namespace isc
