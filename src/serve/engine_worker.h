// The engine thread of `isc serve`: it alone owns the Engine and loops submit/step/take_finished, so
// requests from all HTTP threads share forward passes (continuous batching) and the prefix cache.
// HTTP threads hand it ServeJobs and wait on their RequestChannel; it never touches a socket, so a
// slow client slows nobody. Torch-free header: only engine_worker.cpp sees the engine.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "serve/serve_job.h"

namespace isc {
class ChatTemplate;
class Tokenizer;
}

namespace isc::serve {

struct WorkerOptions {
  std::string model_path;
  std::string model_id;          // "" = the model file's name
  std::string dtype = "bf16";
  std::string kv_dtype;
  std::string chat_template;     // "" = the model's own
  int threads = 0;
  int max_batch = 64;            // sequences per forward pass
  size_t cache_budget_bytes = size_t(1) << 30;  // KV memory (in flight + kept); kept ones go first
};

struct WorkerStats {
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> cached_sequences{0};
  std::atomic<int64_t> cache_bytes{0};
  std::atomic<int64_t> requests_done{0};
  std::atomic<int64_t> prompt_tokens{0};
  std::atomic<int64_t> reused_tokens{0};
};

class EngineWorker {
 public:
  // Loads the model (throws isc::Error) and starts the engine thread.
  explicit EngineWorker(const WorkerOptions& options);
  ~EngineWorker();  // stops the thread; requests still in flight fail with 503
  EngineWorker(const EngineWorker&) = delete;
  EngineWorker& operator=(const EngineWorker&) = delete;

  const ModelInfo& info() const;
  // The model file's SHA-256, computed on first use (seconds for a large file; "" for a folder).
  const std::string& model_sha256() const;
  const ChatTemplate& chat_template() const;
  const Tokenizer& tokenizer() const;
  const WorkerStats& stats() const;

  // Queues a request; the channel gets its streamed progress (if channel->stream) and its result or
  // error. Never blocks on the engine.
  void submit(std::shared_ptr<RequestChannel> channel, ServeJob job);
  // Wakes the engine thread to drop the jobs whose channel is marked cancelled.
  void wake();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace isc::serve
