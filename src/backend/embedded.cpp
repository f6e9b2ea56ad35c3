// EmbeddedBackend renders each conversation with the model's chat template and appends only the
// text beyond what its cache already holds; pre-fills and continuation scoring map onto jobs.
// Every turn, batched (run_turns) or streamed (submit_turn/collect), is a job on the engine's one
// queue, so all of them share forward passes; a turn is returned once its samples are done too.
#include "backend/embedded.h"

#include <algorithm>
#include <chrono>

#include <fmt/core.h>

#include "common/error.h"
#include "common/sha256.h"

namespace isc {

namespace {

// Index of the appended token that holds byte `end - 1` of `text`, the appended tokens covering
// text[from..]; tokens whose bytes are not in the text (a BOS the tokenizer adds) take none.
int64_t token_ending_at(const Tokenizer& tok, const std::vector<int32_t>& ids, const std::string& text, size_t from,
                        size_t end) {
  size_t pos = from;
  for (size_t k = 0; k < ids.size(); ++k) {
    const std::string piece = tok.token_bytes(ids[k]);
    if (text.compare(pos, piece.size(), piece) == 0) pos += piece.size();
    if (pos >= end) return static_cast<int64_t>(k);
  }
  return -1;
}

// Text, tokens and finish reason of one generation; a stop string ends the text where it begins.
SampledAnswer decode_answer(const Tokenizer& tok, const GenerationResult& g, const std::vector<std::string>& stop) {
  SampledAnswer a;
  a.text = tok.decode(g.tokens);
  a.finish_reason = g.finish_reason == "prefill" ? "length" : g.finish_reason;
  for (const std::string& s : stop) {
    if (s.empty()) continue;
    const size_t at = a.text.find(s);
    if (at != std::string::npos) a.text.resize(at);
  }
  for (size_t k = 0; k < g.tokens.size(); ++k) {
    GeneratedToken t{g.tokens[k], tok.token_bytes(g.tokens[k]), g.logprobs[k], {}};
    if (k < g.top.size())
      for (auto [id, lp] : g.top[k]) t.top.push_back({id, tok.token_bytes(id), lp});
    a.tokens.push_back(std::move(t));
  }
  return a;
}

}  // namespace

EmbeddedBackend::EmbeddedBackend(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}

EmbeddedBackend::EmbeddedBackend(const std::string& model_path, const EngineOptions& options)
    : engine_(Engine::load(model_path, options)) {}

BackendInfo EmbeddedBackend::info() const {
  if (sha256_.empty()) sha256_ = sha256_of_path(engine_->model_path());
  return BackendInfo{"embedded", engine_->model_path(), sha256_, ISC_VERSION, static_cast<int>(engine_->config().n_layers),
                     static_cast<int>(engine_->config().dim)};
}

uint64_t EmbeddedBackend::open_conversation() {
  const uint64_t id = next_id_++;
  conversations_[id] = Conversation{engine_->new_sequence(), {}};
  return id;
}

void EmbeddedBackend::close_conversation(uint64_t id) {
  auto it = conversations_.find(id);
  if (it == conversations_.end()) return;
  if (it->second.turn) drop_turn(it->second.turn);
  for (auto r = ready_.begin(); r != ready_.end();) {  // a finished turn nobody will collect
    if (turns_.at(*r).request.conversation == id) {
      turns_.erase(*r);
      r = ready_.erase(r);
    } else {
      ++r;
    }
  }
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

std::vector<int32_t> EmbeddedBackend::tokens_to_append(Conversation& c, const std::string& text, int64_t* kept,
                                                       size_t* text_from) {
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
  *text_from = bytes;
  // A fresh sequence starts like any prompt (BOS if the model wants it); otherwise only the tail.
  std::vector<int32_t> ids = keep == 0 ? engine_->encode_prompt(text)
                                       : tok.encode(std::string_view(text).substr(bytes), /*parse_special=*/true);
  return ids;
}

uint64_t EmbeddedBackend::start_turn(TurnRequest request, bool streamed) {
  const TurnRequest& r = request;
  const Tokenizer& tok = engine_->tokenizer();
  Conversation& c = get(r.conversation);
  if (c.turn) throw Error(fmt::format("conversation {} already has a turn in flight", r.conversation));
  std::vector<ChatMessage> msgs = c.messages;
  if (msgs.empty() && !r.system_message.empty()) msgs.push_back({"system", r.system_message});
  msgs.push_back({"user", r.user_message});
  const std::string text = engine_->chat_template().render(msgs, /*add_generation_prompt=*/true, r.assistant_prefill);
  GenerationJob j;
  size_t text_from = 0;
  int64_t kept = 0;
  j.append = tokens_to_append(c, text, &kept, &text_from);
  if (j.append.empty()) throw Error("a turn must add at least one token to the conversation");
  for (const std::string& position : r.hidden_positions) {
    int64_t offset = -1;
    if (position == "user_end") {
      // the user message as the template wrote it: its last occurrence before the generation prompt
      const std::string& u = r.user_message;
      const size_t at = u.empty() ? std::string::npos : text.rfind(u);
      if (at == std::string::npos || at + u.size() <= text_from)
        throw Error("user_end hidden state: the user message is not in the new part of the rendered prompt");
      offset = token_ending_at(tok, j.append, text, text_from, at + u.size());
      if (offset < 0) throw Error("user_end hidden state: no token ends the user message");
    } else if (position != "answer") {
      throw Error(fmt::format("hidden state position '{}' (expected answer or user_end)", position));
    }
    for (int layer : r.hidden_layers) j.hidden_points.push_back({offset, layer});
  }
  if (r.steering) {
    const int64_t n = static_cast<int64_t>(j.append.size());
    j.append_steering.push_back({steering_first_row(r.steering_positions, n), n, r.steering});
    j.generation_steering = r.steering;
  }
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
  const Engine::JobTicket ticket = engine_->submit(c.sequence, j);
  const uint64_t id = next_turn_++;
  Turn& t = turns_[id];
  t.streamed = streamed;
  t.sequence = c.sequence;
  t.job = std::move(j);
  t.kept = kept;
  t.next_messages = std::move(msgs);
  t.started = std::chrono::steady_clock::now();
  t.request = std::move(request);
  engine_jobs_[ticket] = {id, -1, 0};
  c.turn = id;
  if (streamed) ++streamed_open_;
  return id;
}

void EmbeddedBackend::turn_job_finished(Turn& t, GenerationResult& g) {
  const Tokenizer& tok = engine_->tokenizer();
  TurnResult& r = t.result;
  SampledAnswer answer = decode_answer(tok, g, t.request.sampling.stop);
  r.text = std::move(answer.text);
  r.tokens = std::move(answer.tokens);
  r.finish_reason = std::move(answer.finish_reason);
  r.prompt_tokens = t.job.append;
  r.cache_kept = t.kept;
  r.generated_cached = static_cast<int64_t>(g.cached_tokens.size() - t.job.append.size());
  r.prefilled_tokens = g.prefilled;
  r.context_tokens = static_cast<int64_t>(engine_->tokens(t.sequence).size());
  r.continuation_logprobs = g.continuation_logprobs;
  const TurnRequest& q = t.request;
  for (size_t p = 0; p < t.job.hidden_points.size(); ++p) {
    const std::string& position = q.hidden_positions[p / q.hidden_layers.size()];
    r.hidden.push_back({position, t.job.hidden_points[p].layer, std::move(g.hidden[p])});
  }
  Conversation& c = get(q.conversation);
  c.messages = std::move(t.next_messages);
  c.messages.push_back({"assistant", q.assistant_prefill + r.text});
  r.samples.resize(q.samples.size());
}

// Each sample is a fork of its conversation's cache up to the prompt's last token, which the fork
// computes again (one token) to get that row's logits: the shared prefix is copied, never
// recomputed. Forks are made only as slots free up, so at most max_sequences copies exist at once;
// the conversation is left alone meanwhile (its turn is not returned before its samples are done).
void EmbeddedBackend::fork_samples() {
  const size_t max_forks = static_cast<size_t>(std::max(1, engine_->options().limits.max_sequences));
  while (!to_fork_.empty() && live_forks_ < max_forks) {
    const uint64_t id = to_fork_.front();
    Turn& t = turns_.at(id);
    const TurnRequest& r = t.request;
    const size_t k = t.samples_forked;
    const SamplingParams& sp = r.samples[k];
    const int64_t prompt_end = t.kept + static_cast<int64_t>(t.job.append.size());
    GenerationJob j;
    j.append = {t.job.append.back()};
    if (r.steering) {  // the last prompt row is steered under both "turn" and "generation"
      j.append_steering.push_back({0, 1, r.steering});
      j.generation_steering = r.steering;
    }
    j.max_new_tokens = sp.max_new_tokens;
    j.sampler = SamplerSettings{sp.temperature, sp.top_k, sp.top_p, sp.seed};
    j.stop_tokens = engine_->end_of_turn_tokens();
    j.stop_strings = sp.stop;
    j.top_logprobs = sp.top_logprobs;
    const SequenceId fork = engine_->fork(t.sequence, prompt_end - 1);
    Engine::JobTicket ticket = 0;
    try {
      ticket = engine_->submit(fork, std::move(j));
    } catch (...) {
      engine_->release(fork);
      throw;
    }
    engine_jobs_[ticket] = {id, static_cast<int>(k), fork};
    ++live_forks_;
    if (++t.samples_forked == r.samples.size()) to_fork_.pop_front();
  }
}

void EmbeddedBackend::turn_finished(uint64_t id, Turn& t) {
  t.done = true;
  t.result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t.started).count();
  get(t.request.conversation).turn = 0;
  if (t.streamed) {
    ready_.push_back(id);
    --streamed_open_;
  }
}

void EmbeddedBackend::advance() {
  engine_->step();
  for (auto& [ticket, g] : engine_->take_finished()) {
    auto it = engine_jobs_.find(ticket);
    if (it == engine_jobs_.end()) throw Error(fmt::format("embedded backend: engine job {} belongs to no turn", ticket));
    const EngineJob job = it->second;
    engine_jobs_.erase(it);
    Turn& t = turns_.at(job.turn);
    if (job.sample < 0) {
      turn_job_finished(t, g);
      if (t.request.samples.empty()) turn_finished(job.turn, t);
      else to_fork_.push_back(job.turn);
    } else {
      t.result.samples[job.sample] = decode_answer(engine_->tokenizer(), g, t.request.samples[job.sample].stop);
      engine_->release(job.fork);
      --live_forks_;
      if (++t.samples_done == t.request.samples.size()) turn_finished(job.turn, t);
    }
  }
  fork_samples();
}

void EmbeddedBackend::drop_turn(uint64_t id) {
  for (auto it = engine_jobs_.begin(); it != engine_jobs_.end();) {
    if (it->second.turn != id) {
      ++it;
      continue;
    }
    if (it->second.sample < 0) {
      engine_->cancel(it->first);
    } else {
      engine_->release(it->second.fork);
      --live_forks_;
    }
    it = engine_jobs_.erase(it);
  }
  to_fork_.erase(std::remove(to_fork_.begin(), to_fork_.end(), id), to_fork_.end());
  auto t = turns_.find(id);
  if (t == turns_.end()) return;
  if (!t->second.done) {
    if (t->second.streamed) --streamed_open_;
    auto c = conversations_.find(t->second.request.conversation);
    if (c != conversations_.end() && c->second.turn == id) c->second.turn = 0;
  }
  ready_.erase(std::remove(ready_.begin(), ready_.end(), id), ready_.end());
  turns_.erase(t);
}

std::vector<TurnResult> EmbeddedBackend::run_turns(const std::vector<TurnRequest>& requests) {
  std::vector<uint64_t> ids;
  try {
    for (const TurnRequest& r : requests) ids.push_back(start_turn(r, /*streamed=*/false));
    auto all_done = [&] {
      for (uint64_t id : ids)
        if (!turns_.at(id).done) return false;
      return true;
    };
    while (!all_done()) {
      if (engine_->idle()) throw Error("embedded backend: turns were lost to an earlier engine error");
      advance();
    }
  } catch (...) {
    for (uint64_t id : ids) drop_turn(id);
    throw;
  }
  std::vector<TurnResult> results;
  results.reserve(ids.size());
  for (uint64_t id : ids) {
    results.push_back(std::move(turns_.at(id).result));
    turns_.erase(id);
  }
  return results;
}

void EmbeddedBackend::submit_turn(TurnRequest request) { start_turn(std::move(request), /*streamed=*/true); }

std::vector<FinishedTurn> EmbeddedBackend::collect(size_t min_ready) {
  while (ready_.size() < min_ready && streamed_open_ > 0) {
    if (engine_->idle()) throw Error("embedded backend: turns were lost to an earlier engine error");
    advance();
  }
  std::vector<FinishedTurn> out;
  out.reserve(ready_.size());
  for (uint64_t id : ready_) {
    Turn& t = turns_.at(id);
    out.push_back({std::move(t.request), std::move(t.result)});
    turns_.erase(id);
  }
  ready_.clear();
  return out;
}

void EmbeddedBackend::discard_turns() {
  std::vector<uint64_t> streamed;
  for (const auto& [id, t] : turns_)
    if (t.streamed) streamed.push_back(id);
  for (uint64_t id : streamed) drop_turn(id);
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
    std::vector<std::shared_ptr<const Steering>> steer;  // per token, as the turns ran
    for (const RestoredTurn& t : list) {
      if (t.cache_kept < 0 || t.cache_kept > static_cast<int64_t>(tokens.size()))
        throw Error(fmt::format("restore: conversation {}: cache_kept {} outside 0..{}", id, t.cache_kept, tokens.size()));
      tokens.resize(t.cache_kept);
      steer.resize(t.cache_kept);
      tokens.insert(tokens.end(), t.cache_tokens.begin(), t.cache_tokens.end());
      for (size_t k = 0; k < t.cache_tokens.size(); ++k)
        steer.push_back(t.steering && static_cast<int64_t>(k) >= t.steer_from ? t.steering : nullptr);
      if (c.messages.empty() && !t.system_message.empty()) c.messages.push_back({"system", t.system_message});
      c.messages.push_back({"user", t.user_message});
      c.messages.push_back({"assistant", t.assistant_message});
    }
    if (tokens.empty()) continue;
    GenerationJob j;
    j.append = std::move(tokens);
    j.max_new_tokens = 0;
    for (size_t k = 0; k < steer.size();) {
      size_t e = k;
      while (e < steer.size() && steer[e] == steer[k]) ++e;
      if (steer[k]) j.append_steering.push_back({static_cast<int64_t>(k), static_cast<int64_t>(e), steer[k]});
      k = e;
    }
    seqs.push_back(c.sequence);
    jobs.push_back(std::move(j));
  }
  if (!jobs.empty()) engine_->run(seqs, jobs);
}

std::vector<std::map<int, std::vector<float>>> EmbeddedBackend::text_hidden_states(
    const std::vector<TextStateRequest>& requests) {
  std::vector<std::map<int, std::vector<float>>> out;
  out.reserve(requests.size());
  // In slices, so that thousands of texts do not hold thousands of caches at once.
  const size_t slice = 256;
  for (size_t b = 0; b < requests.size(); b += slice) {
    const size_t e = std::min(requests.size(), b + slice);
    std::vector<SequenceId> seqs;
    std::vector<GenerationJob> jobs;
    for (size_t i = b; i < e; ++i) {
      const TextStateRequest& r = requests[i];
      GenerationJob j;
      j.append = r.as_user_turn
                     ? engine_->encode_prompt(engine_->chat_template().render({{"user", r.text}}, true, ""))
                     : engine_->encode_prompt(r.text, /*parse_special=*/false);
      if (j.append.empty()) throw Error(fmt::format("text {} has no tokens", i + 1));
      j.max_new_tokens = 0;
      for (int layer : r.layers) j.hidden_points.push_back({-1, layer});
      seqs.push_back(engine_->new_sequence());
      jobs.push_back(std::move(j));
    }
    std::vector<GenerationResult> res;
    try {
      res = engine_->run(seqs, jobs);
    } catch (...) {
      for (SequenceId s : seqs) engine_->release(s);
      throw;
    }
    for (SequenceId s : seqs) engine_->release(s);
    for (size_t k = 0; k < res.size(); ++k) {
      std::map<int, std::vector<float>> m;
      for (size_t p = 0; p < jobs[k].hidden_points.size(); ++p) m[jobs[k].hidden_points[p].layer] = std::move(res[k].hidden[p]);
      out.push_back(std::move(m));
    }
  }
  return out;
}

}  // namespace isc
