// The openai backend: conversations on any OpenAI-compatible server (vLLM, llama.cpp, Ollama,
// hosted APIs, `isc serve`). Conversations are message histories kept here; every turn sends the
// whole history and the server's prefix cache does the reuse.
#pragma once
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "backend/backend.h"
#include "backend/http_json_client.h"
#include "backend/openai_wire.h"
#include "text/chat_template.h"

namespace isc {

struct OpenAiOptions {
  std::string base_url;                       // e.g. http://127.0.0.1:8000/v1
  std::string model;                          // the server's model id; empty = the one it lists
  std::string api_key_env = "OPENAI_API_KEY"; // read from the environment (unset = no Authorization)
  int concurrency = 8;                        // requests in flight
  HttpRetryPolicy http;
  // Renders prompts here for /v1/completions; empty = the template `isc serve` names in /v1/models,
  // else /v1/chat/completions (the server's own template).
  std::string chat_template;
  bool sampler_extras = true;                 // see openai::put_sampling
};

class OpenAiBackend : public Backend {
 public:
  // Asks the server's /v1/models which model it serves (and, for `isc serve`, its template and
  // shape); throws isc::Error when the server cannot be reached or does not list the model.
  explicit OpenAiBackend(OpenAiOptions options);
  ~OpenAiBackend() override;

  BackendInfo info() const override;
  uint64_t open_conversation() override;
  void close_conversation(uint64_t conversation) override;
  std::vector<TurnResult> run_turns(const std::vector<TurnRequest>& requests) override;
  void submit_turn(TurnRequest request) override;
  std::vector<FinishedTurn> collect(size_t min_ready = 1) override;
  void discard_turns() override;
  void restore_conversations(const std::vector<std::pair<uint64_t, std::vector<RestoredTurn>>>& turns) override;

  // "completions" (prompts rendered here) or "chat".
  std::string endpoint() const { return chat_template_ ? "completions" : "chat"; }

 private:
  struct Conversation {
    std::vector<ChatMessage> messages;
    uint64_t turn = 0;  // the turn in flight, 0 = none
    // `isc serve` only: the token ids this conversation's cache would hold in the embedded backend
    // (its last prompt + the generated tokens fed back), to tell which prompt tokens a turn adds.
    std::vector<int32_t> cache_ids;
  };
  struct Turn {
    TurnRequest request;
    std::vector<ChatMessage> messages;  // history + this turn's user message
    std::vector<int32_t> cache_ids;     // the conversation's when the turn started
    bool streamed = false;
    bool running = false, done = false;
    TurnResult result;
    std::exception_ptr error;
  };

  uint64_t start_turn(TurnRequest request, bool streamed);  // under mu_
  void worker(size_t index);
  TurnResult run_turn(HttpJsonClient& client, Turn& turn);  // turn.cache_ids: before, then after
  // The turn's own generation when `isc_answer` is given (it receives the answer's isc object), else a sample.
  SampledAnswer generate(HttpJsonClient& client, const std::vector<ChatMessage>& messages, const TurnRequest& r,
                         const SamplingParams& s, openai::Usage* usage, nlohmann::json* isc_answer);
  // Fills what `isc serve` reports beyond the wire format: hidden states, token ids, cache bookkeeping.
  // `cache_ids` is the conversation's before the turn; on return, after it.
  void read_isc_answer(const nlohmann::json& isc_answer, const TurnRequest& r, TurnResult& res,
                       std::vector<int32_t>& cache_ids) const;
  std::vector<double> score(HttpJsonClient& client, const std::string& prompt, const TurnRequest& r,
                            std::string* unavailable);
  // Whether the server returns prompt logprobs for echoed completions: asked once, before any
  // scoring request, so a run either has option probabilities for every round or for none.
  bool scoring_available(HttpJsonClient& client);
  std::string render(const std::vector<ChatMessage>& messages, const std::string& prefill) const;
  // The `isc serve` extension of a request: the turn's own generation asks for hidden states and
  // the token ids and cache bookkeeping the embedded backend records; every request carries the
  // turn's steering (a scoring request's own rows are the continuation's, steered under both
  // positions, so it says "turn").
  enum class Purpose { turn, score, sample };
  nlohmann::json isc_extension(const TurnRequest& r, Purpose purpose) const;
  void forget(uint64_t turn);  // under mu_

  OpenAiOptions options_;
  BaseUrl url_;
  std::string api_key_;  // from the environment; never stored or printed
  std::string model_;
  std::optional<openai::ServerModel::Isc> isc_;  // the server is `isc serve`
  std::optional<ChatTemplate> chat_template_;
  // The system message the model's own template injects when a conversation has none (`isc serve`
  // names it as isc.default_system), sent as an explicit first message: renders identically.
  std::optional<std::string> default_system_;
  std::string identity_;

  void warn_unscored(const std::string& why);  // once per backend, on stderr

  std::once_flag unscored_warning_;
  std::mutex probe_mu_;
  std::optional<bool> scoring_ok_;
  std::string scoring_why_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  bool stopping_ = false;
  std::unordered_map<uint64_t, Conversation> conversations_;
  uint64_t next_conversation_ = 1;
  std::map<uint64_t, Turn> turns_;
  uint64_t next_turn_ = 1;
  std::deque<uint64_t> queue_;   // turns not yet taken by a worker
  std::vector<uint64_t> ready_;  // streamed turns done, not yet collected, in finishing order
  size_t streamed_open_ = 0;     // streamed turns submitted and not yet done
  std::vector<std::unique_ptr<HttpJsonClient>> clients_;  // one per worker
  std::vector<std::thread> workers_;
};

}  // namespace isc
