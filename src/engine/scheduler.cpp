// The step loop of continuous batching over a queue that takes jobs at any time. Each active job is
// in one phase: Prefill (chunks of its prompt), Decode (one token a step) or Done; between prompt
// and decoding it scores its continuations on its own cache. run_jobs is the queue run to empty.
#include "engine/scheduler.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>

#include <ATen/Parallel.h>
#include <fmt/core.h>

#include "common/error.h"
#include "engine/model.h"
#include "text/tokenizer.h"

namespace isc {

// A submitted job and where it stands; it owns its GenerationJob and result.
struct Scheduler::ActiveJob {
  enum class Phase { Prefill, Decode, Done };
  static constexpr size_t kNotScoring = static_cast<size_t>(-1);
  Ticket ticket = 0;
  GenerationJob own_job;
  GenerationResult own_result;
  GenerationJob* job = nullptr;
  GenerationResult* result = nullptr;
  Phase phase = Phase::Prefill;
  size_t prompt_done = 0;          // tokens of `append` already computed
  int32_t pending_token = -1;      // sampled, not yet in the cache
  std::string text;                // generated text so far (for stop strings)
  // Scoring: continuation c's first token is read from the prompt's last row; its tokens
  // c[0..n-2] then run on the job's own cache past the prompt, one continuation a step, and the
  // cache is cut back to the prompt. (A copy of the cache per continuation held the whole
  // conversation's keys and values several times over to score a few tokens: 2 of BBQ's 3 GB.)
  size_t scoring = kNotScoring;    // the continuation to run next
  int64_t scoring_base = 0;        // cache length after the prompt
};

namespace {

// The next continuation of at least two tokens from `from` on, or kNotScoring.
size_t next_multi_token(const std::vector<std::vector<int32_t>>& conts, size_t from) {
  for (size_t c = from; c < conts.size(); ++c)
    if (conts[c].size() > 1) return c;
  return Scheduler::ActiveJob::kNotScoring;
}

bool ends_with_any(const std::string& text, const std::vector<std::string>& stops, size_t* cut) {
  for (const auto& s : stops) {
    if (s.empty()) continue;
    size_t at = text.find(s);
    if (at != std::string::npos) {
      *cut = at;
      return true;
    }
  }
  return false;
}

}  // namespace

Scheduler::Scheduler(const Model& model, const Tokenizer& tokenizer, SchedulerLimits limits, EngineCounters& counters)
    : model_(model), tokenizer_(tokenizer), limits_(limits), counters_(counters) {}

Scheduler::~Scheduler() = default;

void Scheduler::check(const GenerationJob& j) const {
  const ModelConfig& cfg = model_.config();
  if (!j.cache) throw Error("scheduler: job without a sequence");
  const int64_t need = j.cache->length() + static_cast<int64_t>(j.append.size());
  if (need > cfg.context_length) {
    throw Error(fmt::format("prompt of {} tokens exceeds the model's context of {} tokens", need, cfg.context_length));
  }
  if (j.append.empty()) throw Error("scheduler: a job must append at least one token");
  for (const auto& c : j.score_continuations)
    if (c.empty()) throw Error("scheduler: empty continuation to score");
  for (const auto& h : j.hidden_points) {
    if (h.layer < 0 || h.layer > cfg.n_layers)
      throw Error(fmt::format("hidden layer {} outside 0..{}", h.layer, cfg.n_layers));
    if (h.offset < -1 || h.offset >= static_cast<int64_t>(j.append.size()))
      throw Error(fmt::format("hidden state position {} outside the {} appended tokens", h.offset, j.append.size()));
  }
  for (const auto& sp : j.append_steering)
    if (sp.begin < 0 || sp.end < sp.begin || sp.end > static_cast<int64_t>(j.append.size()))
      throw Error(fmt::format("steering span [{}, {}) outside the {} appended tokens", sp.begin, sp.end, j.append.size()));
}

Scheduler::Ticket Scheduler::submit(GenerationJob job) {
  check(job);
  auto a = std::make_unique<ActiveJob>();
  a->ticket = next_ticket_++;
  a->own_job = std::move(job);
  a->job = &a->own_job;
  a->result = &a->own_result;
  a->result->hidden.resize(a->job->hidden_points.size());
  if (a->job->prompt_logprobs) {
    const size_t n = a->job->append.size() - 1;
    a->result->prompt_logprobs.assign(n, 0.0f);
    if (a->job->top_logprobs > 0) a->result->prompt_top.resize(n);
  }
  const Ticket t = a->ticket;
  pending_.push_back(std::move(a));
  return t;
}

void Scheduler::cancel(Ticket ticket) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it)
    if ((*it)->ticket == ticket) {
      pending_.erase(it);
      return;
    }
  const ActiveJob* job = nullptr;
  for (const auto& a : active_)
    if (a->ticket == ticket) job = a.get();
  if (job) {
    // between steps a scoring job's cache is already back at its prompt: nothing is left behind
    active_.erase(std::remove_if(active_.begin(), active_.end(),
                                 [&](const std::unique_ptr<ActiveJob>& a) { return a.get() == job; }),
                  active_.end());
    return;
  }
  finished_.erase(std::remove_if(finished_.begin(), finished_.end(), [&](const auto& f) { return f.first == ticket; }),
                  finished_.end());
}

std::vector<std::pair<Scheduler::Ticket, GenerationResult>> Scheduler::take_finished() {
  return std::exchange(finished_, {});
}

void Scheduler::step() {
  if (idle()) return;
  try {
    step_once();
  } catch (...) {
    pending_.clear();
    active_.clear();
    throw;
  }
}

void Scheduler::step_once() {
  using Phase = ActiveJob::Phase;
  const ModelConfig& cfg = model_.config();
  // The steering set of append row `offset` of a job (spans are few; a linear scan is enough).
  auto append_steering = [](const GenerationJob& j, int64_t offset) -> const Steering* {
    for (const auto& sp : j.append_steering)
      if (offset >= sp.begin && offset < sp.end) return sp.steering.get();
    return nullptr;
  };

  auto finish = [&](ActiveJob& a, const char* reason) {
    a.phase = Phase::Done;
    a.result->finish_reason = reason;
  };

  // Consumes a next-token distribution for a main job: the first after its prompt, or after a
  // decode step. Samples, records, and decides whether the job goes on.
  // `lp` is the row's log-softmax and `tok` the token sampled from it (both computed for all rows
  // of a step at once, in parallel).
  auto take_token = [&](ActiveJob& a, const float* lp, int32_t tok, std::vector<std::pair<int32_t, float>>& top) {
    GenerationJob& j = *a.job;
    GenerationResult& r = *a.result;
    const int64_t step = static_cast<int64_t>(r.tokens.size());
    if (step >= j.max_new_tokens) return finish(a, "length");
    if (std::find(j.stop_tokens.begin(), j.stop_tokens.end(), tok) != j.stop_tokens.end()) return finish(a, "stop");
    r.tokens.push_back(tok);
    r.logprobs.push_back(lp[tok]);
    if (j.top_logprobs > 0) r.top.push_back(std::move(top));
    if (j.on_token) j.on_token(r);
    a.text += tokenizer_.token_bytes(tok);
    size_t cut = 0;
    if (ends_with_any(a.text, j.stop_strings, &cut)) return finish(a, "stop");
    if (static_cast<int64_t>(r.tokens.size()) >= j.max_new_tokens) return finish(a, "length");
    if (a.job->cache->length() + 1 > cfg.context_length) return finish(a, "length");
    a.pending_token = tok;
    a.phase = Phase::Decode;
  };

  // Refill free slots at once (continuous batching), from whatever has been submitted by now.
  while (!pending_.empty() && static_cast<int>(active_.size()) < limits_.max_sequences) {
    active_.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }

  // Build one forward pass: decode tokens first (1 row each), then prefill chunks in the budget.
  ForwardRequest req;
  // prompt_pos >= 0: a prompt row read only for the next prompt token's log-probability
  struct RowUse { ActiveJob* job; int64_t row; bool prompt_end; bool scoring = false; int64_t prompt_pos = -1; };
  std::vector<RowUse> uses;
  struct HiddenUse { GenerationResult* result; size_t point; };
  std::vector<HiddenUse> hidden_uses;  // parallel to req.hidden
  bool any_steering = false;
  int64_t budget = limits_.max_tokens_per_step;
  auto add_chunk = [&](ActiveJob& a, KvCache* cache, const int32_t* toks, int64_t n) {
    SequenceChunk ch{cache, static_cast<int64_t>(req.tokens.size()), n};
    req.tokens.insert(req.tokens.end(), toks, toks + n);
    req.chunks.push_back(ch);
    budget -= n;
    return ch.row0;
  };
  // One steering entry per row added, in row order.
  auto steer_rows = [&](const Steering* st, int64_t n) {
    any_steering = any_steering || st;
    req.row_steering.insert(req.row_steering.end(), static_cast<size_t>(n), st);
  };
  // Scoring rows first: a job scores before it decodes, so only here is its cache past the prompt.
  for (auto& ap : active_) {
    ActiveJob& a = *ap;
    if (a.scoring == ActiveJob::kNotScoring) continue;
    const auto& cont = a.job->score_continuations[a.scoring];
    const int64_t n = static_cast<int64_t>(cont.size()) - 1;
    if (n > budget && !req.tokens.empty()) continue;
    const int64_t row0 = add_chunk(a, a.job->cache, cont.data(), n);
    steer_rows(a.job->generation_steering.get(), n);
    for (int64_t i = 0; i < n; ++i) {
      req.logit_rows.push_back(row0 + i);
      uses.push_back({&a, row0 + i, false, true});
    }
    counters_.scored_tokens += n;
  }
  for (auto& ap : active_) {
    ActiveJob& a = *ap;
    if (a.phase != Phase::Decode || a.scoring != ActiveJob::kNotScoring || budget < 1) continue;
    int64_t row = add_chunk(a, a.job->cache, &a.pending_token, 1);
    steer_rows(a.job->generation_steering.get(), 1);
    a.result->cached_tokens.push_back(a.pending_token);
    req.logit_rows.push_back(row);
    uses.push_back({&a, row, false});
    ++counters_.decoded_tokens;
  }
  for (auto& ap : active_) {
    ActiveJob& a = *ap;
    if (a.phase != Phase::Prefill || budget < 1) continue;
    const auto& prompt = a.job->append;
    const int64_t n = std::min<int64_t>(budget, static_cast<int64_t>(prompt.size() - a.prompt_done));
    int64_t row0 = add_chunk(a, a.job->cache, prompt.data() + a.prompt_done, n);
    for (int64_t i = 0; i < n; ++i) steer_rows(append_steering(*a.job, static_cast<int64_t>(a.prompt_done) + i), 1);
    // hidden states of prompt positions inside this chunk
    const auto& points = a.job->hidden_points;
    for (size_t p = 0; p < points.size(); ++p) {
      const int64_t at = points[p].offset < 0 ? static_cast<int64_t>(prompt.size()) - 1 : points[p].offset;
      const int64_t first = static_cast<int64_t>(a.prompt_done);
      if (at < first || at >= first + n) continue;
      req.hidden.push_back({row0 + (at - first), points[p].layer});
      hidden_uses.push_back({a.result, p});
    }
    if (a.job->prompt_logprobs) {
      const int64_t first = static_cast<int64_t>(a.prompt_done);
      for (int64_t i = 0; i < n && first + i + 1 < static_cast<int64_t>(prompt.size()); ++i) {
        req.logit_rows.push_back(row0 + i);
        uses.push_back({&a, row0 + i, false, false, first + i});
      }
    }
    a.result->cached_tokens.insert(a.result->cached_tokens.end(), prompt.begin() + a.prompt_done,
                                   prompt.begin() + a.prompt_done + n);
    a.prompt_done += n;
    a.result->prefilled += n;
    counters_.prefilled_tokens += n;
    if (a.prompt_done == prompt.size()) {
      const int64_t last = row0 + n - 1;
      req.logit_rows.push_back(last);
      uses.push_back({&a, last, true});
    }
  }
  if (req.tokens.empty()) throw Error("scheduler: no work in a step (limits too small?)");
  if (!any_steering) req.row_steering.clear();

  auto t0 = std::chrono::steady_clock::now();
  ForwardResult out = model_.forward(req);
  counters_.forward_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++counters_.forward_calls;

  // Hidden states, in request order.
  for (size_t h = 0; h < hidden_uses.size(); ++h) {
    at::Tensor t = out.hidden[h].contiguous();
    hidden_uses[h].result->hidden[hidden_uses[h].point] =
        std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  }

  // Log-softmax of every main job's logit row, the token it samples and its top alternatives;
  // for scoring rows only the normaliser (scoring needs one log-probability a row, and a full copy of
  // hundreds of scoring rows would double the logits' memory). Rows run in parallel: each is a
  // pure function of its logits (and its job's seed and step), so the split over threads cannot
  // change a result; at batch 64 this is several ms a step done serially.
  const int64_t V = cfg.vocab_size, R = static_cast<int64_t>(uses.size());
  const float* logits = R > 0 ? out.logits.data_ptr<float>() : nullptr;
  std::vector<int64_t> slot(static_cast<size_t>(R), -1);  // row -> its log-softmax in `logprobs_`
  int64_t main_rows = 0;
  for (int64_t i = 0; i < R; ++i)
    if (!uses[i].scoring && uses[i].prompt_pos < 0) slot[i] = main_rows++;
  logprobs_.resize(static_cast<size_t>(main_rows * V));
  std::vector<int32_t> sampled(static_cast<size_t>(R), -1);
  std::vector<float> lse(static_cast<size_t>(R), 0.0f);
  std::vector<std::vector<std::pair<int32_t, float>>> tops(static_cast<size_t>(R));
  if (R > 0) at::parallel_for(0, R, 1, [&](int64_t b, int64_t e) {
    thread_local std::vector<float> scratch;
    for (int64_t i = b; i < e; ++i) {
      const ActiveJob& a = *uses[i].job;
      if (uses[i].scoring || uses[i].prompt_pos >= 0) {
        scratch.resize(static_cast<size_t>(V));
        lse[i] = log_sum_exp(logits + i * V, V, scratch.data());
        if (uses[i].prompt_pos >= 0 && a.job->top_logprobs > 0) {
          log_softmax(logits + i * V, V, scratch.data());
          tops[i] = top_logprobs(scratch.data(), V, a.job->top_logprobs);
        }
        continue;
      }
      if (a.phase == Phase::Prefill && !uses[i].prompt_end) continue;
      float* lp = logprobs_.data() + slot[i] * V;
      log_softmax(logits + i * V, V, lp);
      sampled[i] = sample_token(logits + i * V, V, a.job->sampler, static_cast<uint64_t>(a.result->tokens.size()));
      if (a.job->top_logprobs > 0) tops[i] = top_logprobs(lp, V, a.job->top_logprobs);
    }
  });

  // Logits, in the order the rows were requested.
  for (size_t i = 0; i < uses.size(); ++i) {
    ActiveJob& a = *uses[i].job;
    if (uses[i].scoring) continue;  // handled below
    if (uses[i].prompt_pos >= 0) {
      const int64_t k = uses[i].prompt_pos;
      a.result->prompt_logprobs[k] = logits[i * V + a.job->append[k + 1]] - lse[i];
      if (a.job->top_logprobs > 0) a.result->prompt_top[k] = std::move(tops[i]);
      continue;
    }
    const float* lp = logprobs_.data() + slot[i] * V;
    if (a.phase == Phase::Prefill && !uses[i].prompt_end) continue;
    if (a.phase == Phase::Prefill) {
      // prompt complete: score continuations from this row, then start generating
      const auto& conts = a.job->score_continuations;
      if (!conts.empty()) {
        a.result->continuation_logprobs.assign(conts.size(), 0.0);
        for (size_t c = 0; c < conts.size(); ++c) a.result->continuation_logprobs[c] = lp[conts[c][0]];
      }
      a.phase = Phase::Decode;  // provisional; take_token decides
      if (a.job->max_new_tokens == 0) {
        finish(a, "prefill");
      } else {
        take_token(a, lp, sampled[i], tops[i]);
      }
      // the token just sampled is not in the cache yet: scoring runs on the prompt alone
      a.scoring = next_multi_token(conts, 0);
      a.scoring_base = a.job->cache->length();
      continue;
    }
    take_token(a, lp, sampled[i], tops[i]);
  }
  // Scoring rows: accumulate log-probabilities of tokens 1..n-1 of the continuation, then cut the
  // cache back to the prompt for the next one (or for decoding).
  for (size_t i = 0; i < uses.size();) {
    if (!uses[i].scoring) { ++i; continue; }
    ActiveJob& a = *uses[i].job;
    const auto& conts = a.job->score_continuations;
    const auto& cont = conts[a.scoring];
    for (size_t k = 0; k + 1 < cont.size(); ++k, ++i)
      a.result->continuation_logprobs[a.scoring] += logits[i * V + cont[k + 1]] - lse[i];
    a.job->cache->set_length(a.scoring_base);
    a.scoring = next_multi_token(conts, a.scoring + 1);
  }
  // Retire finished jobs (once they have scored); a result waits in `finished_`.
  std::vector<std::unique_ptr<ActiveJob>> still;
  still.reserve(active_.size());
  for (auto& a : active_) {
    if (a->phase != Phase::Done || a->scoring != ActiveJob::kNotScoring) {
      still.push_back(std::move(a));
    } else {
      finished_.emplace_back(a->ticket, std::move(a->own_result));
    }
  }
  active_ = std::move(still);
}

std::vector<GenerationResult> run_jobs(const Model& model, const Tokenizer& tokenizer,
                                       std::vector<GenerationJob>& jobs, const SchedulerLimits& limits,
                                       EngineCounters& counters) {
  Scheduler scheduler(model, tokenizer, limits, counters);
  for (const GenerationJob& j : jobs) scheduler.check(j);  // nothing runs unless every job can
  std::map<Scheduler::Ticket, size_t> index;
  for (size_t i = 0; i < jobs.size(); ++i) index[scheduler.submit(jobs[i])] = i;
  std::vector<GenerationResult> results(jobs.size());
  while (!scheduler.idle()) {
    scheduler.step();
    for (auto& [ticket, result] : scheduler.take_finished()) results[index.at(ticket)] = std::move(result);
  }
  return results;
}

}  // namespace isc
