// The engine thread (engine_worker.h): turns each ServeJob into one engine job on a sequence forked
// from the prefix cache, steps the engine while anything is in flight, streams tokens to channels,
// and keeps finished sequences in the pool within the memory budget. The one serve TU with torch.
#include "serve/engine_worker.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/core.h>

#include "common/error.h"
#include "common/sha256.h"
#include "engine/engine.h"
#include "serve/prefix_pool.h"
#include "serve/stream_text.h"

namespace isc::serve {

namespace {

constexpr int64_t kNoSteering = std::numeric_limits<int64_t>::max();

// Index of the token of `ids` holding byte `end - 1` of `text` (the tokens spell the text, with
// tokens not in the text, such as a BOS the tokenizer adds, taking no bytes); -1 if none.
int64_t token_ending_at(const Tokenizer& tok, const std::vector<int32_t>& ids, const std::string& text, size_t end) {
  size_t pos = 0;
  for (size_t k = 0; k < ids.size(); ++k) {
    const std::string piece = tok.token_bytes(ids[k]);
    if (text.compare(pos, piece.size(), piece) == 0) pos += piece.size();
    if (pos >= end) return static_cast<int64_t>(k);
  }
  return -1;
}

}  // namespace

struct EngineWorker::Impl {
  WorkerOptions options;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<PrefixPool> pool;
  ModelInfo info;
  WorkerStats stats;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<std::shared_ptr<RequestChannel>, ServeJob>> incoming;
  bool stopping = false;
  bool woken = false;
  std::thread thread;
  mutable std::once_flag sha_once;
  mutable std::string sha256;

  struct Active {
    std::shared_ptr<RequestChannel> channel;
    SequenceId sequence = 0;
    std::vector<int32_t> prompt;
    int64_t reused = 0;
    int64_t turn_from = 0;
    bool return_token_ids = false;
    int64_t steered_from = kNoSteering;
    std::vector<std::string> stop;
    std::vector<std::pair<std::string, int>> hidden;  // (position, layer) per hidden point
  };
  std::unordered_map<Engine::JobTicket, Active> active;

  void loop();
  void start(std::shared_ptr<RequestChannel> channel, ServeJob job);
  void finished(Engine::JobTicket ticket, GenerationResult& g);
  void drop_cancelled();
  void fail_all(const ApiError& error);
  void keep_in_pool(SequenceId seq, int64_t prompt_len, int64_t steered_from);
  void update_stats();
};

EngineWorker::EngineWorker(const WorkerOptions& o) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.options = o;
  EngineOptions eo;
  eo.dtype = o.dtype;
  eo.kv_dtype = o.kv_dtype;
  eo.threads = o.threads;
  eo.chat_template = o.chat_template;
  if (o.max_batch < 1) throw Error(fmt::format("--max-batch {} (expected at least 1)", o.max_batch));
  eo.limits.max_sequences = o.max_batch;
  m.engine = Engine::load(o.model_path, eo);
  m.pool = std::make_unique<PrefixPool>(m.engine->tokenizer());
  const ModelConfig& cfg = m.engine->config();
  m.info.id = o.model_id.empty() ? std::filesystem::path(o.model_path).filename().string() : o.model_id;
  m.info.path = o.model_path;
  m.info.chat_template = m.engine->chat_template().name();
  m.info.default_system = m.engine->chat_template().default_system();
  m.info.n_layers = static_cast<int>(cfg.n_layers);
  m.info.dim = static_cast<int>(cfg.dim);
  m.info.context_length = cfg.context_length;
  m.info.vocab_size = m.engine->tokenizer().vocab_size();
  m.thread = std::thread([&m] { m.loop(); });
}

EngineWorker::~EngineWorker() { stop(); }

const ModelInfo& EngineWorker::info() const { return impl_->info; }
const std::string& EngineWorker::model_sha256() const {
  std::call_once(impl_->sha_once, [this] {
    const std::string& p = impl_->options.model_path;
    impl_->sha256 = std::filesystem::is_directory(p) ? "" : sha256_of_path(p);
  });
  return impl_->sha256;
}
const ChatTemplate& EngineWorker::chat_template() const { return impl_->engine->chat_template(); }
const Tokenizer& EngineWorker::tokenizer() const { return impl_->engine->tokenizer(); }
const WorkerStats& EngineWorker::stats() const { return impl_->stats; }

void EngineWorker::submit(std::shared_ptr<RequestChannel> channel, ServeJob job) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopping) {
      channel->fail(ApiError(503, "the server is shutting down", "server_error", "shutting_down"));
      return;
    }
    impl_->incoming.emplace_back(std::move(channel), std::move(job));
  }
  impl_->cv.notify_one();
}

void EngineWorker::wake() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->woken = true;
  }
  impl_->cv.notify_one();
}

void EngineWorker::stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_one();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void EngineWorker::Impl::loop() {
  for (;;) {
    std::deque<std::pair<std::shared_ptr<RequestChannel>, ServeJob>> work;
    {
      std::unique_lock<std::mutex> lock(mu);
      if (engine->idle())
        cv.wait(lock, [&] { return stopping || woken || !incoming.empty(); });
      woken = false;
      if (stopping) break;
      work.swap(incoming);
    }
    for (auto& [channel, job] : work) {
      try {
        start(channel, std::move(job));
      } catch (const ApiError& e) {
        channel->fail(e);
      } catch (const std::exception& e) {  // isc::Error from the engine's own checks: a bad request
        channel->fail(bad_request(e.what()));
      }
    }
    drop_cancelled();
    if (!engine->idle()) {
      try {
        engine->step();
      } catch (const std::exception& e) {
        // the engine dropped every job in flight; their sequences are as before them
        fail_all(ApiError(500, fmt::format("engine error: {}", e.what()), "server_error"));
      }
      for (auto& [ticket, g] : engine->take_finished()) finished(ticket, g);
    }
    update_stats();
  }
  fail_all(ApiError(503, "the server is shutting down", "server_error", "shutting_down"));
  std::lock_guard<std::mutex> lock(mu);
  for (auto& [channel, job] : incoming) channel->fail(ApiError(503, "the server is shutting down", "server_error", "shutting_down"));
  incoming.clear();
}

void EngineWorker::Impl::start(std::shared_ptr<RequestChannel> channel, ServeJob job) {
  if (channel->cancelled) throw ApiError(499, "the client went away", "invalid_request_error", "cancelled");
  const Tokenizer& tok = engine->tokenizer();
  const int64_t context = engine->config().context_length;

  // The prompt's tokens (prefix_pool.h: the tokenization rule).
  std::vector<int32_t> prompt;
  int64_t turn_from = 0;              // rows before it belong to an earlier request (a previous turn)
  const PrefixPool::Entry* conversation = nullptr;
  if (job.has_text) {
    const PrefixPool::TextMatch m = pool->match_text(job.prompt_text);
    if (m.entry) {
      conversation = m.entry;
      turn_from = m.keep;
      prompt.assign(m.entry->tokens.begin(), m.entry->tokens.begin() + m.keep);
      const std::vector<int32_t> tail = tok.encode(std::string_view(job.prompt_text).substr(m.bytes), /*parse_special=*/true);
      prompt.insert(prompt.end(), tail.begin(), tail.end());
    } else {
      prompt = engine->encode_prompt(job.prompt_text);
    }
  } else {
    prompt = std::move(job.prompt_tokens);
    for (int32_t id : prompt)
      if (id < 0 || id >= static_cast<int32_t>(info.vocab_size))
        throw bad_request(fmt::format("prompt token {} outside the vocabulary 0..{}", id, info.vocab_size - 1));
  }
  const int64_t n = static_cast<int64_t>(prompt.size());
  if (n == 0) throw bad_request("the prompt has no tokens");
  if (n > context)
    throw bad_request(fmt::format("the prompt has {} tokens, more than the model's context of {} tokens", n, context),
                      "context_length_exceeded");

  // Absolute prompt positions that must be computed by this request: hidden-state points, the
  // first steered row, every row for prompt log-probabilities, and at least the last row.
  int64_t reuse_limit = n - 1;
  std::vector<std::pair<std::string, int64_t>> points;  // (position name, absolute row)
  for (const std::string& position : job.hidden_positions) {
    int64_t at = n - 1;
    if (position == "user_end") {
      const std::string& u = job.user_message;
      const size_t where = u.empty() || !job.has_text ? std::string::npos : job.prompt_text.rfind(u);
      if (where == std::string::npos) throw bad_request("isc.hidden_states: user_end: the user message is not in the prompt");
      at = token_ending_at(tok, prompt, job.prompt_text, where + u.size());
      if (at < 0) throw bad_request("isc.hidden_states: user_end: no token ends the user message");
    } else if (position != "answer") {
      throw bad_request(fmt::format("isc.hidden_states: position '{}' (expected answer or user_end)", position));
    }
    points.emplace_back(position, at);
    reuse_limit = std::min(reuse_limit, at);
  }
  int64_t steer_from = kNoSteering;
  if (job.steering) {
    if (job.steering_positions == "turn") steer_from = std::min(turn_from, n - 1);
    else if (job.steering_positions == "generation") steer_from = n - 1;
    else throw bad_request(fmt::format("isc.steering.positions '{}' (expected turn or generation)", job.steering_positions));
    reuse_limit = std::min(reuse_limit, steer_from);
  }
  if (job.prompt_logprobs) reuse_limit = 0;

  // What to fork: the conversation this text continues (its rows as they were computed, steered or
  // not, as an embedded conversation keeps them), else the longest plain token prefix.
  SequenceId source = 0;
  int64_t reused = 0;
  int64_t source_steered = kNoSteering;
  if (conversation && reuse_limit > 0) {
    source = conversation->sequence;
    reused = std::min(turn_from, reuse_limit);
    source_steered = conversation->steered_from;
  } else if (reuse_limit > 0) {
    const PrefixPool::TokenMatch t = pool->match_tokens(prompt, reuse_limit);
    if (t.entry) {
      source = t.entry->sequence;
      reused = t.length;
      source_steered = t.entry->steered_from;
    }
  }
  int64_t steered_from = steer_from;
  if (source_steered < reused) steered_from = std::min(steered_from, source_steered);
  if (source) pool->touch(source);
  const SequenceId seq = reused > 0 ? engine->fork(source, reused) : engine->new_sequence();

  GenerationJob j;
  j.append.assign(prompt.begin() + reused, prompt.end());
  j.max_new_tokens = job.max_tokens;
  j.sampler = SamplerSettings{job.temperature, 0, job.top_p, job.seed};
  if (job.stop_at_end_of_turn) j.stop_tokens = engine->end_of_turn_tokens();
  j.stop_strings = job.stop;
  j.top_logprobs = job.top_logprobs;
  j.prompt_logprobs = job.prompt_logprobs;
  Active a;
  for (const auto& [position, at] : points)
    for (int layer : job.hidden_layers) {
      j.hidden_points.push_back({at - reused, layer});
      a.hidden.emplace_back(position, layer);
    }
  if (job.steering) {
    j.append_steering.push_back({steer_from - reused, static_cast<int64_t>(j.append.size()), job.steering});
    j.generation_steering = job.steering;
  }
  if (channel->stream) {
    // runs inside engine->step(), on this thread: publish the text that can no longer change
    RequestChannel* ch = channel.get();
    std::vector<std::string> stop = job.stop;
    j.on_token = [ch, stop, &tok](const GenerationResult& r) {
      std::string text = tok.decode(r.tokens);
      text.resize(safe_prefix(text, stop));
      ch->push(r.tokens, r.logprobs, r.top, std::move(text));
    };
  }
  Engine::JobTicket ticket = 0;
  try {
    ticket = engine->submit(seq, std::move(j));
  } catch (...) {
    engine->release(seq);
    throw;
  }
  a.channel = std::move(channel);
  a.sequence = seq;
  a.prompt = std::move(prompt);
  a.reused = reused;
  a.turn_from = turn_from;
  a.return_token_ids = job.return_token_ids;
  a.steered_from = steered_from;
  a.stop = std::move(job.stop);
  active.emplace(ticket, std::move(a));
}

void EngineWorker::Impl::finished(Engine::JobTicket ticket, GenerationResult& g) {
  auto it = active.find(ticket);
  if (it == active.end()) return;  // cancelled meanwhile
  Active a = std::move(it->second);
  active.erase(it);
  ServeResult r;
  r.cached_tokens = a.reused;
  r.return_token_ids = a.return_token_ids;
  r.turn_from = a.turn_from;
  r.prefilled = g.prefilled;
  r.generated_cached = static_cast<int64_t>(g.cached_tokens.size()) - (static_cast<int64_t>(a.prompt.size()) - a.reused);
  const std::string text = engine->tokenizer().decode(g.tokens);
  r.text = text.substr(0, stop_cut(text, a.stop));
  r.finish_reason = g.finish_reason == "prefill" ? "length" : g.finish_reason;
  r.tokens = std::move(g.tokens);
  r.logprobs = std::move(g.logprobs);
  r.top = std::move(g.top);
  r.prompt_logprobs = std::move(g.prompt_logprobs);
  r.prompt_top = std::move(g.prompt_top);
  for (size_t p = 0; p < g.hidden.size(); ++p)
    r.hidden.push_back({a.hidden[p].first, a.hidden[p].second, std::move(g.hidden[p])});
  const int64_t prompt_len = static_cast<int64_t>(a.prompt.size());
  stats.requests_done += 1;
  stats.prompt_tokens += prompt_len;
  stats.reused_tokens += a.reused;
  r.prompt_tokens = std::move(a.prompt);
  if (a.channel->stream) a.channel->push(r.tokens, r.logprobs, r.top, r.text);
  a.channel->finish(std::move(r));
  keep_in_pool(a.sequence, prompt_len, a.steered_from);
}

void EngineWorker::Impl::keep_in_pool(SequenceId seq, int64_t prompt_len, int64_t steered_from) {
  const uint64_t replaced = pool->add(seq, engine->tokens(seq), prompt_len, steered_from);
  if (replaced) engine->release(replaced);
  while (pool->size() > 0 && engine->cache_bytes() > options.cache_budget_bytes) engine->release(pool->evict_oldest());
}

void EngineWorker::Impl::drop_cancelled() {
  for (auto it = active.begin(); it != active.end();) {
    if (!it->second.channel->cancelled) {
      ++it;
      continue;
    }
    engine->cancel(it->first);
    engine->release(it->second.sequence);
    it->second.channel->fail(ApiError(499, "the client went away", "invalid_request_error", "cancelled"));
    it = active.erase(it);
  }
}

void EngineWorker::Impl::fail_all(const ApiError& error) {
  for (auto& [ticket, a] : active) {
    engine->cancel(ticket);
    engine->release(a.sequence);
    a.channel->fail(error);
  }
  active.clear();
}

void EngineWorker::Impl::update_stats() {
  stats.in_flight = static_cast<int64_t>(active.size());
  stats.cached_sequences = static_cast<int64_t>(pool->size());
  stats.cache_bytes = static_cast<int64_t>(engine->cache_bytes());
}

}  // namespace isc::serve
