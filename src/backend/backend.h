// The Backend interface: how the experiment side (protocol/, tasks/ judges) talks to a model.
// A conversation lives in the backend across turns, so an embedded engine can keep its KV cache.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "engine/steering.h"

namespace isc {

struct SamplingParams {
  float temperature = 0.0f;  // 0 = greedy
  int top_k = 0;             // 0 = off
  float top_p = 1.0f;        // 1 = off
  uint64_t seed = 0;         // per-sequence RNG seed (callers derive it from run seed, item, round, sample)
  int max_new_tokens = 128;
  int top_logprobs = 0;      // alternatives recorded per generated token
  std::vector<std::string> stop;  // extra stop strings (the template's end-of-turn always stops)
};

struct TokenAlternative {
  int32_t id = 0;
  std::string text;
  float logprob = 0.0f;
};

struct GeneratedToken {
  int32_t id = 0;
  std::string text;  // raw bytes of the token (may be a partial UTF-8 sequence)
  float logprob = 0.0f;
  std::vector<TokenAlternative> top;  // most likely alternatives, best first
};

// One new turn of a conversation: messages appended (usually one user message), then an assistant
// turn opened, pre-filled with `assistant_prefill`, and continued by the model.
struct TurnRequest {
  uint64_t conversation = 0;  // from Backend::open_conversation
  std::string user_message;   // the new user turn
  std::string system_message; // only honoured on the first turn of a conversation; empty = template default
  std::string assistant_prefill;
  SamplingParams sampling;
  // Continuations scored right after the pre-fill, before generating (e.g. " (a)", " (b)", " (c)"):
  // the result holds each one's total logprob. Nothing is generated for them.
  std::vector<std::string> score_continuations;
  // Hidden states to return: layer indices (0 = embeddings, l = output of block l) at each of
  // `hidden_positions`: "answer" (the last prompt token, after the pre-fill: where the answer is read)
  // and/or "user_end" (the last token of the user message's text). Empty layers = none.
  std::vector<int> hidden_layers;
  std::vector<std::string> hidden_positions = {"answer"};
  // Steering for this turn (nullptr = none): added after each of its layers to every row of the
  // turn ("turn") or from the answer position on ("generation": the last prompt token, scored
  // continuations and generated tokens).
  std::shared_ptr<const Steering> steering;
  std::string steering_positions = "turn";
  // Extra answers sampled from the same state as the turn's own (after the prompt and pre-fill),
  // one per entry, with its own sampling parameters and seed. They are not added to the
  // conversation: the next turn continues from the turn's own answer.
  std::vector<SamplingParams> samples;
};

// The first row of a turn's prompt (of `prompt_tokens` appended) that steering covers: 0 for
// "turn", the last prompt token (the answer position) for "generation". One rule for live turns
// and for rebuilding them on resume.
inline int64_t steering_first_row(const std::string& positions, int64_t prompt_tokens) {
  if (positions == "turn") return 0;
  if (positions == "generation") return prompt_tokens - 1;
  throw Error("steering positions '" + positions + "' (expected turn or generation)");
}

struct CapturedHidden {
  std::string position;  // "answer" | "user_end"
  int layer = 0;
  std::vector<float> values;
};

// One extra answer of a turn (TurnRequest::samples).
struct SampledAnswer {
  std::string text;                    // generated text (without the pre-fill)
  std::vector<GeneratedToken> tokens;  // with the model's log-probability (temperature 1) of each
  std::string finish_reason;           // "stop" or "length"
};

struct TurnResult {
  std::string text;                     // generated text (without the pre-fill)
  std::vector<GeneratedToken> tokens;   // generated tokens
  std::string finish_reason;            // "stop" (end of turn / stop string) or "length"
  std::vector<int32_t> prompt_tokens;   // tokens added to the conversation for this turn (before generation)
  int64_t context_tokens = 0;           // conversation length after this turn
  int64_t prefilled_tokens = 0;         // tokens actually computed for the prompt (0 reuse = all new)
  std::vector<double> continuation_logprobs;  // one per score_continuations entry
  // Why continuation_logprobs is empty although continuations were asked for (a server that returns
  // no prompt log-probabilities); empty when they were scored.
  std::string scores_unavailable;
  std::vector<CapturedHidden> hidden;   // per requested position, then layer
  std::vector<SampledAnswer> samples;   // one per TurnRequest::samples entry
  double seconds = 0.0;
  // What the conversation's cache holds now, so a killed run can rebuild it exactly: the first
  // `cache_kept` tokens of the previous state, then `prompt_tokens`, then the first
  // `generated_cached` generated tokens (the last one sampled is not fed back).
  int64_t cache_kept = 0;
  int64_t generated_cached = 0;
};

// One finished turn of a conversation being restored (e.g. by `isc resume`).
struct RestoredTurn {
  std::string user_message;
  std::string system_message;          // first turn only
  std::string assistant_message;       // pre-fill + generated text
  int64_t cache_kept = 0;
  std::vector<int32_t> cache_tokens;   // prompt tokens + the cached generated tokens
  // The turn's steering, as it was run: rows cache_tokens[steer_from..] carry it (0 for "turn",
  // prompt length − 1 for "generation").
  std::shared_ptr<const Steering> steering;
  int64_t steer_from = 0;
};

// A text whose hidden states are wanted at its last token (concept data for probes).
struct TextStateRequest {
  std::string text;
  bool as_user_turn = false;  // false: the text alone; true: as a user turn with the generation prompt
  std::vector<int> layers;
};

struct BackendInfo {
  std::string name;          // "embedded", "openai"
  std::string model;         // model path or name
  std::string model_sha256;  // file hash when known
  std::string engine_version;
  int n_layers = 0;          // 0 = unknown (hidden states and steering need it)
  int dim = 0;               // width of the residual stream; 0 = unknown
};

// A streamed turn (Backend::submit_turn) once it has finished: the request as submitted, and its result.
struct FinishedTurn {
  TurnRequest request;
  TurnResult result;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendInfo info() const = 0;
  virtual uint64_t open_conversation() = 0;
  virtual void close_conversation(uint64_t conversation) = 0;
  // Runs all requests together (an embedded engine batches them); results in request order.
  // Throws isc::Error for bad requests (unknown conversation, prompt longer than the context).
  virtual std::vector<TurnResult> run_turns(const std::vector<TurnRequest>& requests) = 0;

  // Streaming, for callers that keep feeding work as results come back (the runner submits a
  // conversation's next turn as soon as its last one is recorded, so no conversation waits for the
  // longest generation of a batch). submit_turn queues a turn (at most one per conversation);
  // collect waits until at least `min_ready` submitted turns have finished (fewer when fewer are
  // left) and returns every finished one, in finishing order. Results are those run_turns gives.
  // The defaults are for backends that cannot stream: the queued turns run in one run_turns call
  // when collected. Throws isc::Error like run_turns (a bad request at the latest when collected).
  virtual void submit_turn(TurnRequest request) { queued_turns_.push_back(std::move(request)); }
  virtual std::vector<FinishedTurn> collect(size_t min_ready = 1) {
    (void)min_ready;  // all of them are run at once
    std::vector<FinishedTurn> out;
    if (queued_turns_.empty()) return out;
    std::vector<TurnRequest> requests = std::exchange(queued_turns_, {});
    std::vector<TurnResult> results = run_turns(requests);
    if (results.size() != requests.size())
      throw Error(info().name + " backend: " + std::to_string(results.size()) + " results for " +
                  std::to_string(requests.size()) + " turns");
    for (size_t i = 0; i < requests.size(); ++i) out.push_back({std::move(requests[i]), std::move(results[i])});
    return out;
  }
  // Drops every submitted turn not yet collected (a caller giving up with turns in flight). Their
  // conversations may or may not have taken the turn: close them.
  virtual void discard_turns() { queued_turns_.clear(); }
  // Rebuilds conversations (just opened) from their finished turns, in one batch; afterwards
  // they continue exactly as if they had never been interrupted.
  virtual void restore_conversations(const std::vector<std::pair<uint64_t, std::vector<RestoredTurn>>>& turns) = 0;
  // Hidden states (one map layer -> state per request) of stand-alone texts, batched. Backends
  // that cannot see hidden states throw isc::Error saying so.
  virtual std::vector<std::map<int, std::vector<float>>> text_hidden_states(const std::vector<TextStateRequest>&) {
    throw Error(info().name + " backend: hidden states are not available through this backend");
  }

 private:
  std::vector<TurnRequest> queued_turns_;  // the default streaming: submitted, not yet collected
};

}  // namespace isc
