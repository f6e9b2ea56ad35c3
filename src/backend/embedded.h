// The embedded backend: conversations on the in-process Engine. Each conversation keeps one
// engine sequence, so a new turn computes only the tokens it adds to the cache.
#pragma once
#include <chrono>
#include <deque>
#include <map>
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
  // Streams on the engine's job queue: a submitted turn joins the forward passes of everything in
  // flight at once (run_turns, restores and judges too), so collect never waits for a barrier.
  void submit_turn(TurnRequest request) override;
  std::vector<FinishedTurn> collect(size_t min_ready = 1) override;
  void discard_turns() override;
  void restore_conversations(const std::vector<std::pair<uint64_t, std::vector<RestoredTurn>>>& turns) override;
  std::vector<std::map<int, std::vector<float>>> text_hidden_states(const std::vector<TextStateRequest>& requests) override;

  Engine& engine() { return *engine_; }
  // The chat messages of a conversation so far (the assistant turns hold pre-fill + generation).
  const std::vector<ChatMessage>& messages(uint64_t conversation) const;

 private:
  struct Conversation {
    SequenceId sequence = 0;
    std::vector<ChatMessage> messages;
    uint64_t turn = 0;  // the turn in flight, 0 = none
  };
  // A turn in flight: its own job first, then its samples, each a fork of the conversation at the
  // prompt's last token once the turn's job is done. run_turns and the streaming calls share them.
  struct Turn {
    TurnRequest request;
    bool streamed = false;          // returned by collect (else by run_turns)
    SequenceId sequence = 0;
    GenerationJob job;              // as submitted (its prompt tokens and hidden points)
    int64_t kept = 0;               // cached tokens kept from before the turn
    std::vector<ChatMessage> next_messages;
    std::chrono::steady_clock::time_point started;
    TurnResult result;
    size_t samples_forked = 0, samples_done = 0;
    bool done = false;
  };
  // What an engine job is for: a turn's own job (sample -1) or one of its samples (on `fork`).
  struct EngineJob {
    uint64_t turn = 0;
    int sample = -1;
    SequenceId fork = 0;
  };
  Conversation& get(uint64_t id);
  // Renders the turn's prompt, submits its job; throws isc::Error for a bad request (nothing queued).
  uint64_t start_turn(TurnRequest request, bool streamed);
  // One engine step, then what it finished: turns' results, samples, forks of the next samples.
  void advance();
  void turn_job_finished(Turn& t, GenerationResult& g);
  void fork_samples();  // while fewer than max_sequences forks are live
  void turn_finished(uint64_t id, Turn& t);
  // Forgets a turn not yet returned: its engine jobs are cancelled, its forks released.
  void drop_turn(uint64_t id);
  // Tokens to append so that the cache holds `text`; drops a cache tail that `text` does not extend.
  std::vector<int32_t> tokens_to_append(Conversation& c, const std::string& text, int64_t* kept, size_t* text_from);

  std::unique_ptr<Engine> engine_;
  std::unordered_map<uint64_t, Conversation> conversations_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Turn> turns_;  // by turn id: samples are forked in the order turns started
  uint64_t next_turn_ = 1;
  std::unordered_map<Engine::JobTicket, EngineJob> engine_jobs_;
  std::deque<uint64_t> to_fork_;    // turns whose job is done, with samples not yet forked
  size_t live_forks_ = 0;
  std::vector<uint64_t> ready_;     // streamed turns done, not yet collected, in finishing order
  size_t streamed_open_ = 0;        // streamed turns submitted and not yet done
  mutable std::string sha256_;
};

}  // namespace isc
