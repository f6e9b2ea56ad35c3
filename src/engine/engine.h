// The embedded inference engine: a loaded model (GGUF file or Hugging Face folder) with its
// tokenizer and chat template, and a table of live sequences whose caches persist between calls.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "text/chat_template.h"
#include "engine/model.h"
#include "formats/model_config.h"
#include "engine/scheduler.h"
#include "text/tokenizer.h"

namespace isc {

struct EngineOptions {
  std::string dtype = "bf16";      // weights: "bf16", "fp32", or "int8" (per-row int8, VNNI kernel)
  // KV cache: "" = int8 for int8 weights, fp32 for fp32, else bf16; or "bf16", "fp32", "int8" (one
  // fp32 scale per position and kv head for keys and for values: half the bytes attention reads)
  std::string kv_dtype;
  int threads = 0;                 // 0 = all cores
  SchedulerLimits limits;
  std::string chat_template;       // "" = from the model's own template
};

using SequenceId = uint64_t;

class Engine {
 public:
  static std::unique_ptr<Engine> load(const std::string& model_path, const EngineOptions& options = {});

  const std::string& model_path() const { return path_; }
  const ModelConfig& config() const { return model_->config(); }
  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const ChatTemplate& chat_template() const { return *template_; }
  const EngineOptions& options() const { return options_; }
  // Tokens of a prompt that starts a sequence: BOS is prepended when the model wants one and the
  // text does not already begin with it (templates often write it themselves).
  std::vector<int32_t> encode_prompt(const std::string& text, bool parse_special = true) const;
  // Token ids that end an assistant turn: EOS and the template's end-of-turn tokens.
  const std::vector<int32_t>& end_of_turn_tokens() const { return stop_tokens_; }

  SequenceId new_sequence();
  // A child continuing from the parent's first `length` cached tokens (-1 = all of them); the
  // cache is copied, nothing is recomputed. Not while the parent has a job in flight.
  SequenceId fork(SequenceId parent, int64_t length = -1);
  void release(SequenceId id);  // also drops its job in flight and an unread result
  const std::vector<int32_t>& tokens(SequenceId id) const;  // what the cache holds (finished jobs)
  void truncate(SequenceId id, int64_t length);              // drop the cache's tail; not while busy
  size_t live_sequences() const { return seqs_.size(); }
  size_t cache_bytes() const;

  // Each job appends its prompt to its sequence, then (optionally) scores continuations and
  // generates; all jobs run batched (together with any submitted ones, which go on meanwhile).
  // job.cache is filled from `sequences`. Returns when these jobs are done.
  std::vector<GenerationResult> run(const std::vector<SequenceId>& sequences, std::vector<GenerationJob>& jobs);

  // Streaming: a job submitted for a sequence (one at a time per sequence) runs with everything
  // else in flight, one forward pass per step(); its result waits for take_finished(). This is
  // what lets a caller start new work while other jobs are still generating.
  using JobTicket = uint64_t;
  JobTicket submit(SequenceId sequence, GenerationJob job);  // checked now; throws isc::Error
  // Drops a submitted job (or its unread result); its sequence keeps what it held before the job,
  // or after it when the job had finished.
  void cancel(JobTicket ticket);
  void step();                                                // one forward pass (none when idle)
  bool idle() const { return in_flight_.empty(); }           // no submitted job unfinished
  // Submitted jobs finished since the last call (not those of run(), which returns its own), in
  // finishing order; the sequence's tokens already include what the job cached.
  std::vector<std::pair<JobTicket, GenerationResult>> take_finished();

  const EngineCounters& counters() const { return counters_; }

 private:
  struct Sequence {
    std::unique_ptr<KvCache> cache;
    std::vector<int32_t> tokens;
  };
  Sequence& get(SequenceId id);
  const Sequence& get(SequenceId id) const;
  void require_idle(SequenceId id, const char* what) const;
  struct Finished {
    JobTicket ticket;
    SequenceId sequence;
    GenerationResult result;
  };

  std::string path_;
  EngineOptions options_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ChatTemplate> template_;
  std::vector<int32_t> stop_tokens_;
  std::unordered_map<SequenceId, Sequence> seqs_;
  SequenceId next_id_ = 1;
  EngineCounters counters_;
  std::unique_ptr<Scheduler> scheduler_;  // one job queue for run() and submit()
  std::unordered_map<JobTicket, SequenceId> in_flight_;
  std::vector<Finished> finished_;        // not yet taken
};

}  // namespace isc
