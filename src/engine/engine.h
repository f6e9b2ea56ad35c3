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
  // cache is copied, nothing is recomputed.
  SequenceId fork(SequenceId parent, int64_t length = -1);
  void release(SequenceId id);
  const std::vector<int32_t>& tokens(SequenceId id) const;  // what the cache holds
  void truncate(SequenceId id, int64_t length);              // drop the cache's tail
  size_t live_sequences() const { return seqs_.size(); }
  size_t cache_bytes() const;

  // Each job appends its prompt to its sequence, then (optionally) scores continuations and
  // generates; all jobs run batched. job.cache is filled from `sequences`.
  std::vector<GenerationResult> run(const std::vector<SequenceId>& sequences, std::vector<GenerationJob>& jobs);

  const EngineCounters& counters() const { return counters_; }

 private:
  struct Sequence {
    std::unique_ptr<KvCache> cache;
    std::vector<int32_t> tokens;
  };
  Sequence& get(SequenceId id);
  const Sequence& get(SequenceId id) const;

  std::string path_;
  EngineOptions options_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ChatTemplate> template_;
  std::vector<int32_t> stop_tokens_;
  std::unordered_map<SequenceId, Sequence> seqs_;
  SequenceId next_id_ = 1;
  EngineCounters counters_;
};

}  // namespace isc
