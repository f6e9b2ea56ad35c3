// The embedded backend: conversations on the in-process Engine. Each conversation keeps one
// engine sequence, so a new turn computes only the tokens it adds to the cache.
#pragma once
#include <memory>
#include <unordered_map>

#include "backend/backend.h"
#include "engine/engine.h"

namespace isc {

class EmbeddedBackend : public Backend {
 public:
  explicit EmbeddedBackend(std::unique_ptr<Engine> engine);
  EmbeddedBackend(const std::string& model_path, const EngineOptions& options);

  BackendInfo info() const override;
  uint64_t open_conversation() override;
  void close_conversation(uint64_t conversation) override;
  std::vector<TurnResult> run_turns(const std::vector<TurnRequest>& requests) override;
  void restore_conversations(const std::vector<std::pair<uint64_t, std::vector<RestoredTurn>>>& turns) override;
  std::vector<std::map<int, std::vector<float>>> text_hidden_states(const std::vector<TextStateRequest>& requests) override;

  Engine& engine() { return *engine_; }
  // The chat messages of a conversation so far (the assistant turns hold pre-fill + generation).
  const std::vector<ChatMessage>& messages(uint64_t conversation) const;

 private:
  struct Conversation {
    SequenceId sequence = 0;
    std::vector<ChatMessage> messages;
  };
  Conversation& get(uint64_t id);
  // TurnRequest::samples of a batch whose turns have just run.
  void run_samples(const std::vector<TurnRequest>& requests, const std::vector<SequenceId>& seqs,
                   const std::vector<GenerationJob>& turn_jobs, const std::vector<int64_t>& kept,
                   std::vector<TurnResult>& results);
  // Tokens to append so that the cache holds `text`; drops a cache tail that `text` does not extend.
  std::vector<int32_t> tokens_to_append(Conversation& c, const std::string& text, int64_t* kept, size_t* text_from);

  std::unique_ptr<Engine> engine_;
  std::unordered_map<uint64_t, Conversation> conversations_;
  uint64_t next_id_ = 1;
  mutable std::string sha256_;
};

}  // namespace isc
