// Engine::load picks the format from the path (a .gguf file or a folder with config.json),
// sets the thread count, and wires the tokenizer and template; sequences are just caches + tokens.
#include "engine/engine.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include <ATen/Parallel.h>
#include <fmt/core.h>

#include "common/error.h"
#include "formats/gguf.h"
#include "engine/weights.h"

namespace isc {

std::unique_ptr<Engine> Engine::load(const std::string& path, const EngineOptions& options) {
  namespace fs = std::filesystem;
  auto e = std::unique_ptr<Engine>(new Engine());
  e->path_ = path;
  e->options_ = options;
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);

  at::ScalarType dtype;
  if (options.dtype == "bf16") dtype = at::kBFloat16;
  else if (options.dtype == "fp32") dtype = at::kFloat;
  else if (options.dtype == "int8") dtype = at::kChar;  // int8 weights, per-row activations; bf16 cache
  else throw Error(fmt::format("unknown dtype '{}' (expected bf16, fp32 or int8)", options.dtype));
  // int8 weights default to an int8 cache (accuracy within int8 weights' own bounds, tests/engine/
  // test_int8.cpp); otherwise the model's default for its weights
  at::ScalarType kv_dtype = dtype == at::kChar ? at::kChar : at::ScalarType::Undefined;
  if (options.kv_dtype == "bf16") kv_dtype = at::kBFloat16;
  else if (options.kv_dtype == "fp32") kv_dtype = at::kFloat;
  else if (options.kv_dtype == "int8") kv_dtype = at::kChar;
  else if (!options.kv_dtype.empty())
    throw Error(fmt::format("unknown KV cache dtype '{}' (expected bf16, fp32 or int8)", options.kv_dtype));

  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(fmt::format("{}: no such file or folder", path));
  if (fs::is_directory(path, ec)) {
    ModelConfig cfg = config_from_hf_folder(path);
    ModelWeights w = load_weights_hf_folder(path, cfg, dtype);
    e->model_ = std::make_unique<Model>(cfg, std::move(w), dtype, kv_dtype);
    const fs::path tok = fs::path(path) / "tokenizer.json";
    e->tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_json_file(tok.string()));
  } else {
    GgufFile f = GgufFile::open(path);
    ModelConfig cfg = config_from_gguf(f);
    ModelWeights w = load_weights_gguf(f, cfg, dtype);
    e->model_ = std::make_unique<Model>(cfg, std::move(w), dtype, kv_dtype);
    e->tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_gguf(f));
  }
  if (e->tokenizer_->vocab_size() > e->model_->config().vocab_size) {
    throw Error(fmt::format("{}: tokenizer has {} tokens but the model only {}", path,
                            e->tokenizer_->vocab_size(), e->model_->config().vocab_size));
  }
  if (!options.chat_template.empty()) {
    e->template_ = std::make_unique<ChatTemplate>(ChatTemplate::named(options.chat_template));
  } else if (!e->tokenizer_->chat_template().empty()) {
    e->template_ = std::make_unique<ChatTemplate>(ChatTemplate::from_model_template(e->tokenizer_->chat_template()));
  } else {
    throw Error(fmt::format("{}: the model has no chat template; name one with --chat-template", path));
  }
  e->scheduler_ = std::make_unique<Scheduler>(*e->model_, *e->tokenizer_, options.limits, e->counters_);
  if (e->tokenizer_->eos_id() >= 0) e->stop_tokens_.push_back(e->tokenizer_->eos_id());
  for (const std::string& t : e->template_->end_of_turn_texts()) {
    if (auto id = e->tokenizer_->find_token(t)) {
      if (std::find(e->stop_tokens_.begin(), e->stop_tokens_.end(), *id) == e->stop_tokens_.end())
        e->stop_tokens_.push_back(*id);
    }
  }
  return e;
}

std::vector<int32_t> Engine::encode_prompt(const std::string& text, bool parse_special) const {
  std::vector<int32_t> ids = tokenizer_->encode(text, parse_special);
  if (tokenizer_->add_bos() && tokenizer_->bos_id() >= 0 &&
      text.rfind(tokenizer_->token_bytes(tokenizer_->bos_id()), 0) != 0)
    ids.insert(ids.begin(), tokenizer_->bos_id());
  return ids;
}

Engine::Sequence& Engine::get(SequenceId id) {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) throw Error(fmt::format("unknown sequence {}", id));
  return it->second;
}
const Engine::Sequence& Engine::get(SequenceId id) const {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) throw Error(fmt::format("unknown sequence {}", id));
  return it->second;
}

SequenceId Engine::new_sequence() {
  SequenceId id = next_id_++;
  seqs_[id] = Sequence{std::make_unique<KvCache>(model_->new_cache()), {}};
  return id;
}

void Engine::require_idle(SequenceId id, const char* what) const {
  for (const auto& [ticket, seq] : in_flight_)
    if (seq == id) throw Error(fmt::format("{}: sequence {} has a job in flight", what, id));
}

SequenceId Engine::fork(SequenceId parent, int64_t length) {
  const Sequence& p = get(parent);
  require_idle(parent, "fork");
  if (length < 0) length = static_cast<int64_t>(p.tokens.size());
  if (length > static_cast<int64_t>(p.tokens.size()))
    throw Error(fmt::format("fork: length {} outside 0..{}", length, p.tokens.size()));
  SequenceId id = next_id_++;
  seqs_[id] = Sequence{std::make_unique<KvCache>(p.cache->fork(length)),
                       std::vector<int32_t>(p.tokens.begin(), p.tokens.begin() + length)};
  return id;
}

void Engine::release(SequenceId id) {
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->second == id) {
      scheduler_->cancel(it->first);
      it = in_flight_.erase(it);
    } else {
      ++it;
    }
  }
  finished_.erase(std::remove_if(finished_.begin(), finished_.end(), [&](const Finished& f) { return f.sequence == id; }),
                  finished_.end());
  seqs_.erase(id);
}

const std::vector<int32_t>& Engine::tokens(SequenceId id) const { return get(id).tokens; }

void Engine::truncate(SequenceId id, int64_t length) {
  Sequence& s = get(id);
  require_idle(id, "truncate");
  if (length < 0 || length > static_cast<int64_t>(s.tokens.size()))
    throw Error(fmt::format("truncate: length {} outside 0..{}", length, s.tokens.size()));
  s.tokens.resize(length);
  s.cache->set_length(length);
}

size_t Engine::cache_bytes() const {
  size_t n = 0;
  for (const auto& [id, s] : seqs_) n += s.cache->bytes();
  return n;
}

Engine::JobTicket Engine::submit(SequenceId sequence, GenerationJob job) {
  require_idle(sequence, "Engine::submit");
  job.cache = get(sequence).cache.get();
  const JobTicket t = scheduler_->submit(std::move(job));
  in_flight_[t] = sequence;
  return t;
}

void Engine::cancel(JobTicket ticket) {
  scheduler_->cancel(ticket);
  auto it = in_flight_.find(ticket);
  if (it != in_flight_.end()) {
    // the job may have written cache rows past what the sequence holds: they are dropped
    Sequence& s = get(it->second);
    s.cache->set_length(static_cast<int64_t>(s.tokens.size()));
    in_flight_.erase(it);
  }
  finished_.erase(std::remove_if(finished_.begin(), finished_.end(), [&](const Finished& f) { return f.ticket == ticket; }),
                  finished_.end());
}

void Engine::step() {
  try {
    scheduler_->step();
  } catch (...) {
    // the scheduler dropped every job: their sequences keep what they held before them
    for (const auto& [ticket, seq] : in_flight_) {
      Sequence& s = get(seq);
      s.cache->set_length(static_cast<int64_t>(s.tokens.size()));
    }
    in_flight_.clear();
    throw;
  }
  for (auto& [ticket, result] : scheduler_->take_finished()) {
    const SequenceId seq = in_flight_.at(ticket);
    in_flight_.erase(ticket);
    auto& toks = get(seq).tokens;
    toks.insert(toks.end(), result.cached_tokens.begin(), result.cached_tokens.end());
    finished_.push_back({ticket, seq, std::move(result)});
  }
}

std::vector<std::pair<Engine::JobTicket, GenerationResult>> Engine::take_finished() {
  std::vector<std::pair<JobTicket, GenerationResult>> out;
  out.reserve(finished_.size());
  for (Finished& f : finished_) out.emplace_back(f.ticket, std::move(f.result));
  finished_.clear();
  return out;
}

std::vector<GenerationResult> Engine::run(const std::vector<SequenceId>& sequences, std::vector<GenerationJob>& jobs) {
  if (sequences.size() != jobs.size()) throw Error("Engine::run: one sequence per job");
  for (size_t i = 0; i < jobs.size(); ++i) {
    for (size_t k = 0; k < i; ++k)
      if (sequences[k] == sequences[i]) throw Error(fmt::format("Engine::run: sequence {} given twice", sequences[i]));
    require_idle(sequences[i], "Engine::run");
    jobs[i].cache = get(sequences[i]).cache.get();
    scheduler_->check(jobs[i]);  // nothing is submitted unless every job can run
  }
  std::map<JobTicket, size_t> mine;
  for (size_t i = 0; i < jobs.size(); ++i) mine[submit(sequences[i], jobs[i])] = i;
  auto any_unfinished = [&] {
    for (const auto& [ticket, i] : mine)
      if (in_flight_.count(ticket)) return true;
    return false;
  };
  try {
    while (any_unfinished()) step();
  } catch (...) {
    for (const auto& [ticket, i] : mine) cancel(ticket);
    throw;
  }
  // Take this call's results; those of submitted jobs that finished meanwhile stay for take_finished.
  std::vector<GenerationResult> results(jobs.size());
  std::vector<Finished> others;
  for (Finished& f : finished_) {
    auto it = mine.find(f.ticket);
    if (it != mine.end()) results[it->second] = std::move(f.result);
    else others.push_back(std::move(f));
  }
  finished_ = std::move(others);
  return results;
}

}  // namespace isc
