// Continuous batching: many jobs (prefill a prompt, optionally score continuations, then decode)
// advance together, one forward pass per step; a finished job's slot is refilled at once.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/kv_cache.h"
#include "engine/sampler.h"
#include "engine/steering.h"

namespace isc {

class Model;
class Tokenizer;

struct GenerationResult;

struct GenerationJob {
  KvCache* cache = nullptr;             // the sequence's cache; extended in place
  std::vector<int32_t> append;          // prompt tokens to add first (may be empty if the cache
                                        // already holds the prompt and `last_logits` is given)
  int max_new_tokens = 0;               // 0 = prefill (and score) only
  SamplerSettings sampler;
  std::vector<int32_t> stop_tokens;     // end the turn (not returned, not cached)
  std::vector<std::string> stop_strings;
  int top_logprobs = 0;
  // Also the log-probability of every appended token after the first, given the tokens before it
  // (and `top_logprobs` alternatives per position): what an OpenAI-style echo of the prompt reports.
  bool prompt_logprobs = false;
  std::vector<std::vector<int32_t>> score_continuations;  // logprob of each after the prompt
  // Residual-stream snapshots: (offset into `append`, -1 = its last token; layer 0..n_layers).
  struct HiddenPoint {
    int64_t offset = -1;
    int layer = 0;
  };
  std::vector<HiddenPoint> hidden_points;
  // Steering: spans of `append` rows, and the set for every row after the prompt (fed-back
  // generated tokens and scored continuations). Empty / nullptr = none.
  std::vector<SteeringSpan> append_steering;
  std::shared_ptr<const Steering> generation_steering;
  // Called (on the thread that steps) each time a generated token is recorded, with the result so
  // far (its last token is the new one): lets a server stream tokens. It must not touch the engine.
  std::function<void(const GenerationResult&)> on_token;
};

struct GenerationResult {
  std::vector<int32_t> tokens;          // generated (stop token excluded)
  std::vector<float> logprobs;          // per generated token, model log-probability (T=1)
  std::vector<std::vector<std::pair<int32_t, float>>> top;  // per generated token
  std::vector<int32_t> cached_tokens;   // tokens that entered the cache (prompt + all but the last generated)
  std::string finish_reason;            // "stop", "length", "prefill"
  std::vector<double> continuation_logprobs;
  std::vector<std::vector<float>> hidden;  // one per hidden_points entry, in that order
  int64_t prefilled = 0;                // prompt tokens computed
  // With job.prompt_logprobs: entry k is for appended token k + 1 (the first has no context here).
  std::vector<float> prompt_logprobs;
  std::vector<std::vector<std::pair<int32_t, float>>> prompt_top;
};

struct SchedulerLimits {
  int max_sequences = 64;       // sequences per forward pass
  int max_tokens_per_step = 512;  // rows per forward pass (prefill chunks + decode tokens)
};

struct EngineCounters {
  int64_t prefilled_tokens = 0;   // prompt tokens computed (each token of a conversation once)
  int64_t decoded_tokens = 0;     // tokens fed back during generation
  int64_t scored_tokens = 0;      // continuation tokens computed for scoring
  int64_t forward_calls = 0;
  double forward_seconds = 0.0;
};

// A persistent job queue: jobs may be submitted at any time, also while others are in flight, and
// every step() is one forward pass over the active ones; a slot that frees up is refilled from the
// queue at once. Callers that feed work as results come back (the runner's conversations, each
// submitting its next turn when the last one is recorded) so never wait for a batch's longest job.
// A job's results do not depend on what it was batched with (the model is batch-invariant).
class Scheduler {
 public:
  using Ticket = uint64_t;

  // The model, tokenizer and counters must outlive the scheduler.
  Scheduler(const Model& model, const Tokenizer& tokenizer, SchedulerLimits limits, EngineCounters& counters);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Throws isc::Error for a job that cannot run (no cache, a prompt beyond the context, a hidden
  // point or steering span outside its prompt, an empty continuation).
  void check(const GenerationJob& job) const;
  // Queues a checked job; its cache must live (and be left alone) until it finishes or is cancelled.
  Ticket submit(GenerationJob job);
  // Drops a job that has not finished, or its unread result.
  void cancel(Ticket ticket);
  // One forward pass over the active jobs, after refilling free slots; nothing when idle. On an
  // error every job is dropped (their state is undefined) before it is rethrown.
  void step();
  bool idle() const { return pending_.empty() && active_.empty(); }
  // Results of the jobs finished since the last call, in finishing order.
  std::vector<std::pair<Ticket, GenerationResult>> take_finished();

  struct ActiveJob;  // defined in scheduler.cpp

 private:
  void step_once();

  const Model& model_;
  const Tokenizer& tokenizer_;
  SchedulerLimits limits_;
  EngineCounters& counters_;
  Ticket next_ticket_ = 1;
  std::deque<std::unique_ptr<ActiveJob>> pending_;
  std::vector<std::unique_ptr<ActiveJob>> active_;
  std::vector<std::pair<Ticket, GenerationResult>> finished_;
  std::vector<float> logprobs_;  // per step: log-softmax of every main row (kept to reuse its memory)
};

// Runs jobs to completion (a Scheduler of their own; all are checked before any runs). Throws
// isc::Error if a prompt does not fit the context.
std::vector<GenerationResult> run_jobs(const Model& model, const Tokenizer& tokenizer,
                                       std::vector<GenerationJob>& jobs, const SchedulerLimits& limits,
                                       EngineCounters& counters);

}  // namespace isc
