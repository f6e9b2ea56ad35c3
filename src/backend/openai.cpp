// OpenAiBackend (see openai.h): turns are queued and run by `concurrency` worker threads, each with
// its own HTTP connection; a turn is its generation request, then its scoring requests (after the
// generation, so the server's prefix cache holds the prompt), then its samples.
#include "backend/openai.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "common/sha256.h"

namespace isc {

namespace {

using nlohmann::json;

std::string env_value(const std::string& name) {
  if (name.empty()) return "";
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

}  // namespace

OpenAiBackend::OpenAiBackend(OpenAiOptions options)
    : options_(std::move(options)), url_(BaseUrl::parse(options_.base_url)), api_key_(env_value(options_.api_key_env)) {
  if (options_.concurrency < 1) throw Error(fmt::format("openai backend: concurrency {} (expected >= 1)", options_.concurrency));
  HttpJsonClient client(url_, api_key_, options_.http);
  std::vector<openai::ServerModel> models;
  try {
    models = openai::parse_models(client.get("/models"), url_.text() + "/models");
  } catch (const HttpStatusError& e) {
    // a server without /v1/models can still be used when the model is named
    if (e.status() != 404 || options_.model.empty()) throw;
  }
  model_ = options_.model;
  const openai::ServerModel* entry = nullptr;
  if (model_.empty()) {
    if (models.empty()) throw Error(fmt::format("openai backend: {}/models lists no model", url_.text()));
    if (models.size() > 1) {
      std::vector<std::string> ids;
      for (const auto& m : models) ids.push_back(m.id);
      throw Error(fmt::format("openai backend: {} serves several models ({}); name one with --model", url_.text(),
                              fmt::join(ids, ", ")));
    }
    entry = &models[0];
    model_ = entry->id;
  } else if (!models.empty()) {
    for (const auto& m : models)
      if (m.id == model_) entry = &m;
    if (!entry) {
      std::vector<std::string> ids;
      for (const auto& m : models) ids.push_back(m.id);
      throw Error(fmt::format("openai backend: {} serves {}, not '{}' (--model)", url_.text(), fmt::join(ids, ", "),
                              model_));
    }
  }
  if (entry && entry->isc) isc_ = entry->isc;
  if (!options_.chat_template.empty()) {
    chat_template_ = ChatTemplate::named(options_.chat_template);
  } else if (isc_ && !isc_->chat_template.empty()) {
    chat_template_ = ChatTemplate::named(isc_->chat_template);
    if (!isc_->default_system.empty()) default_system_ = isc_->default_system;
  }
  // The run's model identity: the server's file hash where it tells it, else the server and model
  // id (never the API key), so a resumed run must talk to the same server and model.
  if (isc_ && !isc_->model_sha256.empty()) {
    identity_ = isc_->model_sha256;
  } else {
    const std::string who = url_.text() + "\n" + model_;
    identity_ = "openai:" + sha256_hex(who.data(), who.size());
  }
  for (int i = 0; i < options_.concurrency; ++i)
    clients_.push_back(std::make_unique<HttpJsonClient>(url_, api_key_, options_.http));
  for (int i = 0; i < options_.concurrency; ++i) workers_.emplace_back([this, i] { worker(static_cast<size_t>(i)); });
}

OpenAiBackend::~OpenAiBackend() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  work_cv_.notify_all();
  for (auto& c : clients_) c->stop();  // requests in flight are abandoned, not waited for
  for (auto& w : workers_) w.join();
}

BackendInfo OpenAiBackend::info() const {
  BackendInfo b;
  b.name = "openai";
  b.model = model_;
  b.model_sha256 = identity_;
  b.engine_version = ISC_VERSION;
  b.n_layers = isc_ ? isc_->n_layers : 0;  // hidden states and steering only through `isc serve`
  b.dim = isc_ ? isc_->dim : 0;
  return b;
}

uint64_t OpenAiBackend::open_conversation() {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t id = next_conversation_++;
  conversations_[id] = Conversation{};
  return id;
}

void OpenAiBackend::forget(uint64_t id) {
  auto t = turns_.find(id);
  if (t == turns_.end()) return;
  queue_.erase(std::remove(queue_.begin(), queue_.end(), id), queue_.end());
  ready_.erase(std::remove(ready_.begin(), ready_.end(), id), ready_.end());
  if (!t->second.done && t->second.streamed) --streamed_open_;
  auto c = conversations_.find(t->second.request.conversation);
  if (c != conversations_.end() && c->second.turn == id) c->second.turn = 0;
  turns_.erase(t);  // a worker still running it drops its result
}

void OpenAiBackend::close_conversation(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> mine;
  for (const auto& [tid, t] : turns_)
    if (t.request.conversation == id) mine.push_back(tid);
  for (uint64_t tid : mine) forget(tid);
  conversations_.erase(id);
}

uint64_t OpenAiBackend::start_turn(TurnRequest request, bool streamed) {
  auto c = conversations_.find(request.conversation);
  if (c == conversations_.end()) throw Error(fmt::format("unknown conversation {}", request.conversation));
  if (c->second.turn) throw Error(fmt::format("conversation {} already has a turn in flight", request.conversation));
  if ((!request.hidden_layers.empty() || request.steering) && !isc_)
    throw Error(fmt::format("openai backend: {} is not `isc serve`, so hidden states and steering are not available",
                            url_.text()));
  if (!request.hidden_layers.empty() && request.sampling.max_new_tokens <= 0)
    throw Error("openai backend: hidden states come with a generation request (max_new_tokens > 0)");
  Turn t;
  t.messages = c->second.messages;
  t.cache_ids = c->second.cache_ids;
  if (t.messages.empty()) {
    if (!request.system_message.empty()) t.messages.push_back({"system", request.system_message});
    else if (default_system_) t.messages.push_back({"system", *default_system_});
  }
  t.messages.push_back({"user", request.user_message});
  t.streamed = streamed;
  t.request = std::move(request);
  const uint64_t id = next_turn_++;
  turns_.emplace(id, std::move(t));
  c->second.turn = id;
  queue_.push_back(id);
  if (streamed) ++streamed_open_;
  work_cv_.notify_one();
  return id;
}

void OpenAiBackend::submit_turn(TurnRequest request) {
  std::lock_guard<std::mutex> lock(mu_);
  start_turn(std::move(request), /*streamed=*/true);
}

void OpenAiBackend::worker(size_t index) {
  HttpJsonClient& client = *clients_[index];
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const uint64_t id = queue_.front();
    queue_.pop_front();
    Turn& queued = turns_.at(id);
    queued.running = true;
    Turn job{queued.request, queued.messages, queued.cache_ids, queued.streamed, true, false, {}, nullptr};
    lock.unlock();
    TurnResult result;
    std::exception_ptr error;
    try {
      result = run_turn(client, job);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    auto it = turns_.find(id);
    if (it == turns_.end()) continue;  // discarded or its conversation closed meanwhile
    Turn& t = it->second;
    t.done = true;
    t.error = error;
    t.result = std::move(result);
    auto c = conversations_.find(t.request.conversation);
    if (c != conversations_.end() && c->second.turn == id) {
      c->second.turn = 0;
      if (!error) {
        c->second.cache_ids = std::move(job.cache_ids);
        c->second.messages = t.messages;
        c->second.messages.push_back({"assistant", t.request.assistant_prefill + t.result.text});
      }
    }
    if (t.streamed) {
      ready_.push_back(id);
      --streamed_open_;
    }
    done_cv_.notify_all();
  }
}

std::string OpenAiBackend::render(const std::vector<ChatMessage>& messages, const std::string& prefill) const {
  std::string text = chat_template_->render(messages, /*add_generation_prompt=*/true, prefill);
  // Other servers add the model's BOS themselves (llama.cpp, vLLM): the template's would double it.
  // `isc serve` tokenizes like the embedded backend, which adds none when the text starts with it.
  const std::string bos = chat_template_->bos_text();
  if (!isc_ && !bos.empty() && text.rfind(bos, 0) == 0) text.erase(0, bos.size());
  return text;
}

json OpenAiBackend::isc_extension(const TurnRequest& r, Purpose purpose) const {
  json ext = json::object();
  if (purpose == Purpose::turn) {
    ext["return_token_ids"] = true;
    if (!r.hidden_layers.empty()) {
      ext["hidden_states"] = {{"layers", r.hidden_layers}, {"positions", r.hidden_positions}};
      // completions: the server cannot tell which part of the text is the user's
      if (chat_template_) ext["hidden_states"]["user_message"] = r.user_message;
    }
  }
  if (r.steering) {
    json vectors = json::object();
    for (const auto& [layer, v] : r.steering->add) vectors[std::to_string(layer)] = v;
    ext["steering"] = {{"vectors", vectors}, {"positions", purpose == Purpose::score ? "turn" : r.steering_positions}};
  }
  return ext;
}

void OpenAiBackend::read_isc_answer(const json& x, const TurnRequest& r, TurnResult& res,
                                    std::vector<int32_t>& cache_ids) const {
  const std::string where = url_.text() + "/completions: isc";
  if (!x.is_object()) throw Error(where + ": the answer has no isc object (asked for token ids)");
  try {
    const auto prompt = x.at("prompt_token_ids").get<std::vector<int32_t>>();
    const auto completion = x.at("completion_token_ids").get<std::vector<int32_t>>();
    if (completion.size() != res.tokens.size())
      throw Error(fmt::format("{}: {} completion token ids for {} tokens", where, completion.size(), res.tokens.size()));
    for (size_t k = 0; k < completion.size(); ++k) res.tokens[k].id = completion[k];
    // What this conversation keeps is its own cache's longest common prefix with the prompt, as in
    // the embedded backend; the server's turn_from may count a prefix it found in another
    // conversation's request (conditions with equal first prompts), which is no part of this one.
    size_t kept = 0;
    while (kept < cache_ids.size() && kept < prompt.size() && cache_ids[kept] == prompt[kept]) ++kept;
    res.prompt_tokens.assign(prompt.begin() + static_cast<std::ptrdiff_t>(kept), prompt.end());
    res.cache_kept = static_cast<int64_t>(kept);
    res.generated_cached = x.at("generated_cached").get<int64_t>();
    if (res.generated_cached < 0 || res.generated_cached > static_cast<int64_t>(completion.size()))
      throw Error(fmt::format("{}.generated_cached {} outside 0..{}", where, res.generated_cached, completion.size()));
    res.prefilled_tokens = x.at("prefilled_tokens").get<int64_t>();
    res.context_tokens = static_cast<int64_t>(prompt.size()) + res.generated_cached;
    cache_ids = prompt;
    cache_ids.insert(cache_ids.end(), completion.begin(), completion.begin() + res.generated_cached);
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: {}", where, e.what()));
  }
  for (const std::string& position : r.hidden_positions) {
    if (r.hidden_layers.empty()) break;
    if (!x.contains("hidden_states") || !x["hidden_states"].is_array())
      throw Error(fmt::format("{}: the answer has no hidden_states", where));
    for (int layer : r.hidden_layers) {
      const json* found = nullptr;
      for (const json& h : x["hidden_states"])
        if (h.value("position", "") == position && h.value("layer", -1) == layer) found = &h;
      if (!found || !found->contains("values") || !(*found)["values"].is_array())
        throw Error(fmt::format("{}: hidden_states has no {} state of layer {}", where, position, layer));
      res.hidden.push_back({position, layer, (*found)["values"].get<std::vector<float>>()});
    }
  }
}

SampledAnswer OpenAiBackend::generate(HttpJsonClient& client, const std::vector<ChatMessage>& messages,
                                      const TurnRequest& r, const SamplingParams& s, openai::Usage* usage,
                                      json* isc_answer) {
  json answer;
  SampledAnswer a;
  if (chat_template_) {
    const std::string where = url_.text() + "/completions";
    std::vector<std::string> stop = chat_template_->end_of_turn_texts();
    stop.insert(stop.end(), s.stop.begin(), s.stop.end());
    json body = openai::completion_body(model_, render(messages, r.assistant_prefill), s, stop,
                                        options_.sampler_extras, isc_.has_value());
    if (isc_) {
      json ext = isc_extension(r, isc_answer ? Purpose::turn : Purpose::sample);
      if (!ext.empty()) body["isc"] = ext;
    }
    answer = client.post("/completions", body);
    a = openai::parse_completion(answer, s.top_logprobs, where);
  } else {
    const std::string where = url_.text() + "/chat/completions";
    json body = openai::chat_body(model_, messages, r.assistant_prefill, s, options_.sampler_extras, isc_.has_value());
    if (isc_) {
      json ext = isc_extension(r, isc_answer ? Purpose::turn : Purpose::sample);
      if (!ext.empty()) body["isc"] = ext;
    }
    try {
      answer = client.post("/chat/completions", body);
    } catch (const HttpStatusError& e) {
      if (r.assistant_prefill.empty() || (e.status() != 400 && e.status() != 422)) throw;
      throw Error(fmt::format("{}: the server rejects a turn with an assistant pre-fill (continue_final_message): "
                              "{}; pass --chat-template NAME so that isc renders prompts itself for /v1/completions",
                              where, e.server_message()));
    }
    a = openai::parse_chat(answer, s.top_logprobs, where);
  }
  if (usage) *usage = openai::parse_usage(answer);
  if (isc_answer && answer.contains("isc")) *isc_answer = answer["isc"];
  return a;
}

bool OpenAiBackend::scoring_available(HttpJsonClient& client) {
  std::lock_guard<std::mutex> lock(probe_mu_);
  if (scoring_ok_) return *scoring_ok_;
  const std::string where = url_.text() + "/completions";
  const std::string continuation = " there";
  const std::string prompt = render({{"user", "Hello"}}, "Hi") + continuation;
  try {
    std::string why;
    const json answer = client.post_once_on_status("/completions", openai::scoring_body(model_, prompt, isc_ ? 0 : 1));
    scoring_ok_ = openai::score_echo(answer, continuation, &why, where).has_value();
    if (!*scoring_ok_) scoring_why_ = fmt::format("{} answers, but {}", where, why);
  } catch (const HttpStatusError& e) {
    scoring_ok_ = false;
    scoring_why_ = fmt::format("{} rejects echoed prompts with logprobs (HTTP {}: {})", where, e.status(),
                               e.server_message());
  }
  if (!*scoring_ok_) warn_unscored(scoring_why_);
  return *scoring_ok_;
}

void OpenAiBackend::warn_unscored(const std::string& why) {
  std::call_once(unscored_warning_, [&] {
    fmt::print(stderr,
               "isc: warning: openai: {}; option probabilities are not recorded, so confidence, ECE, Brier and "
               "entropy over the options are unavailable for this run\n",
               why);
  });
}

std::vector<double> OpenAiBackend::score(HttpJsonClient& client, const std::string& prompt, const TurnRequest& r,
                                         std::string* unavailable) {
  if (!chat_template_) {
    *unavailable = "no chat template is known, so turns go to " + url_.text() +
                   "/chat/completions, which cannot score continuations (pass --chat-template NAME)";
    warn_unscored(*unavailable);
    return {};
  }
  if (!scoring_available(client)) {
    *unavailable = scoring_why_;
    return {};
  }
  const std::string where = url_.text() + "/completions";
  std::vector<double> out;
  for (const std::string& continuation : r.score_continuations) {
    json body = openai::scoring_body(model_, prompt + continuation, isc_ ? 0 : 1);
    if (isc_) {
      json ext = isc_extension(r, Purpose::score);
      if (!ext.empty()) body["isc"] = ext;
    }
    std::string why;
    const std::optional<double> v = openai::score_echo(client.post("/completions", body), continuation, &why, where);
    if (!v) throw Error(fmt::format("{}: an echoed prompt without logprobs ({}), although the server gave them before",
                                    where, why));
    out.push_back(*v);
  }
  return out;
}

TurnResult OpenAiBackend::run_turn(HttpJsonClient& client, Turn& turn) {
  const auto t0 = std::chrono::steady_clock::now();
  const TurnRequest& r = turn.request;
  TurnResult res;
  if (r.sampling.max_new_tokens > 0) {
    openai::Usage usage;
    json isc_answer;
    SampledAnswer a = generate(client, turn.messages, r, r.sampling, &usage, &isc_answer);
    res.text = std::move(a.text);
    res.tokens = std::move(a.tokens);
    res.finish_reason = std::move(a.finish_reason);
    // The server tokenized the whole history: its counts, no ids (prompt_tokens stays empty), except
    // from `isc serve`, which also gives the ids and the cache bookkeeping (read_isc_answer).
    res.context_tokens = usage.prompt_tokens + usage.completion_tokens;
    res.prefilled_tokens = usage.prompt_tokens - usage.cached_tokens;
    if (isc_) read_isc_answer(isc_answer, r, res, turn.cache_ids);
  } else {
    res.finish_reason = "length";  // nothing asked for, as the embedded engine reports a 0-token budget
  }
  if (!r.score_continuations.empty()) {
    const std::string prompt = chat_template_ ? render(turn.messages, r.assistant_prefill) : "";
    res.continuation_logprobs = score(client, prompt, r, &res.scores_unavailable);
    if (!res.scores_unavailable.empty() && r.sampling.max_new_tokens <= 0)
      throw Error(fmt::format("openai backend: continuations cannot be scored ({}), and this request (a judge's) "
                              "asks for nothing else",
                              res.scores_unavailable));
  }
  for (const SamplingParams& sp : r.samples) res.samples.push_back(generate(client, turn.messages, r, sp, nullptr, nullptr));
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

std::vector<TurnResult> OpenAiBackend::run_turns(const std::vector<TurnRequest>& requests) {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<uint64_t> ids;
  try {
    for (const TurnRequest& r : requests) ids.push_back(start_turn(r, /*streamed=*/false));
  } catch (...) {
    for (uint64_t id : ids) forget(id);
    throw;
  }
  done_cv_.wait(lock, [&] {
    return std::all_of(ids.begin(), ids.end(), [&](uint64_t id) {
      auto it = turns_.find(id);
      return it == turns_.end() || it->second.done;  // missing: closed by another thread meanwhile
    });
  });
  std::exception_ptr error;
  std::vector<TurnResult> results;
  for (uint64_t id : ids) {
    auto it = turns_.find(id);
    if (it == turns_.end()) {
      if (!error) error = std::make_exception_ptr(Error("openai backend: a turn was closed while it ran"));
      continue;
    }
    if (it->second.error && !error) error = it->second.error;
    results.push_back(std::move(it->second.result));
  }
  for (uint64_t id : ids) forget(id);
  if (error) std::rethrow_exception(error);
  return results;
}

std::vector<FinishedTurn> OpenAiBackend::collect(size_t min_ready) {
  std::unique_lock<std::mutex> lock(mu_);
  auto failed = [&] {
    for (uint64_t id : ready_)
      if (turns_.at(id).error) return true;
    return false;
  };
  done_cv_.wait(lock, [&] { return ready_.size() >= min_ready || streamed_open_ == 0 || failed(); });
  for (uint64_t id : ready_) {
    if (std::exception_ptr e = turns_.at(id).error) {
      forget(id);
      std::rethrow_exception(e);
    }
  }
  std::vector<FinishedTurn> out;
  for (uint64_t id : ready_) {
    Turn& t = turns_.at(id);
    out.push_back({std::move(t.request), std::move(t.result)});
    turns_.erase(id);
  }
  ready_.clear();
  return out;
}

void OpenAiBackend::discard_turns() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> streamed;
  for (const auto& [id, t] : turns_)
    if (t.streamed) streamed.push_back(id);
  for (uint64_t id : streamed) forget(id);
}

void OpenAiBackend::restore_conversations(const std::vector<std::pair<uint64_t, std::vector<RestoredTurn>>>& turns) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, list] : turns) {
    auto c = conversations_.find(id);
    if (c == conversations_.end()) throw Error(fmt::format("restore: unknown conversation {}", id));
    if (!c->second.messages.empty() || c->second.turn) throw Error(fmt::format("restore: conversation {} is not new", id));
    // The same history a live run builds: the server recomputes (or prefix-caches) it per request.
    std::vector<ChatMessage>& m = c->second.messages;
    for (const RestoredTurn& t : list) {
      if (m.empty()) {
        if (!t.system_message.empty()) m.push_back({"system", t.system_message});
        else if (default_system_) m.push_back({"system", *default_system_});
      }
      m.push_back({"user", t.user_message});
      m.push_back({"assistant", t.assistant_message});
      // the token ids, as the embedded backend rebuilds its cache (recorded only through `isc serve`)
      std::vector<int32_t>& ids = c->second.cache_ids;
      if (t.cache_kept < 0 || t.cache_kept > static_cast<int64_t>(ids.size()))
        throw Error(fmt::format("restore: conversation {}: cache_kept {} outside 0..{}", id, t.cache_kept, ids.size()));
      ids.resize(static_cast<size_t>(t.cache_kept));
      ids.insert(ids.end(), t.cache_tokens.begin(), t.cache_tokens.end());
    }
  }
}

}  // namespace isc
