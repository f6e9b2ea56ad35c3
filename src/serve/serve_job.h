// What an HTTP request becomes for the engine thread (ServeJob), what comes back (ServeResult), and
// the channel between them: the handler thread waits on it, the engine thread fills it. Torch-free.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/steering.h"
#include "serve/api_error.h"

namespace isc::serve {

// The model as the server describes it (/v1/models and request checks).
struct ModelInfo {
  std::string id;              // what clients name it ("model" field)
  std::string path;
  std::string chat_template;   // the template family's name (text/chat_template.h)
  std::optional<std::string> default_system;  // the system message the template adds when none is given
  int n_layers = 0;
  int dim = 0;
  int64_t context_length = 0;
  int32_t vocab_size = 0;
};

struct ServeJob {
  // The prompt: text (tokenized on the engine thread by the prefix-cache rule, prefix_pool.h) or
  // token ids given by the client.
  bool has_text = true;
  std::string prompt_text;
  std::vector<int32_t> prompt_tokens;
  int max_tokens = 16;
  float temperature = 1.0f;
  float top_p = 1.0f;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  bool stop_at_end_of_turn = true;  // the template's end-of-turn tokens and EOS end the answer
  int top_logprobs = 0;             // alternatives per token (generated, and echoed prompt tokens)
  bool prompt_logprobs = false;     // log-probabilities of the prompt's tokens (completions echo)
  // isc extension: hidden states at prompt positions ("answer" = the last prompt token; "user_end" =
  // the last token of `user_message` in the prompt) and steering of this request's rows.
  std::vector<int> hidden_layers;
  std::vector<std::string> hidden_positions;
  std::string user_message;
  std::shared_ptr<const Steering> steering;
  std::string steering_positions = "turn";
  // isc extension: return the token ids and the cache bookkeeping (ServeResult::turn_from...), what
  // a client needs to record a turn exactly as the embedded backend does (TurnResult).
  bool return_token_ids = false;
};

struct HiddenOut {
  std::string position;
  int layer = 0;
  std::vector<float> values;
};

struct ServeResult {
  std::vector<int32_t> prompt_tokens;   // the whole prompt as the model saw it
  int64_t cached_tokens = 0;            // of those, reused from the prefix cache (not computed)
  std::vector<int32_t> tokens;          // generated, stop token excluded
  std::vector<float> logprobs;
  std::vector<std::vector<std::pair<int32_t, float>>> top;
  std::string text;                     // generated text, cut where a stop string begins
  std::string finish_reason;            // "stop" or "length"
  std::vector<float> prompt_logprobs;   // entry k: prompt token k + 1 (with ServeJob::prompt_logprobs)
  std::vector<std::vector<std::pair<int32_t, float>>> prompt_top;
  std::vector<HiddenOut> hidden;
  bool return_token_ids = false;        // the request asked for the fields below in its response
  int64_t turn_from = 0;       // leading prompt tokens kept from the earlier request it continues (TurnResult::cache_kept)
  int64_t generated_cached = 0;  // generated tokens now in the cache (all but a last one not fed back)
  int64_t prefilled = 0;       // prompt tokens computed by this request
};

// One request in flight. The engine thread appends streamed tokens and the text that is safe to
// show (never a possible stop-string start or half a UTF-8 character), then sets the result or an
// error; the HTTP thread waits for news. `cancelled` goes the other way (a client that went away).
class RequestChannel {
 public:
  struct Progress {
    size_t tokens = 0;      // generated tokens known
    size_t text_bytes = 0;  // bytes of safe text known
    bool done = false;
  };

  void push(const std::vector<int32_t>& tokens, const std::vector<float>& logprobs,
            const std::vector<std::vector<std::pair<int32_t, float>>>& top, std::string safe_text) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t k = tokens_.size(); k < tokens.size(); ++k) {
        tokens_.push_back(tokens[k]);
        logprobs_.push_back(logprobs[k]);
        if (k < top.size()) top_.push_back(top[k]);
      }
      if (safe_text.size() > text_.size()) text_ = std::move(safe_text);
    }
    cv_.notify_all();
  }
  void finish(ServeResult result) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      result_ = std::move(result);
      done_ = true;
    }
    cv_.notify_all();
  }
  void fail(ApiError error) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::move(error);
      done_ = true;
    }
    cv_.notify_all();
  }
  // Waits until there is more than `seen` (or the deadline passes); returns what is known now.
  Progress wait(const Progress& seen, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return done_ || tokens_.size() > seen.tokens || text_.size() > seen.text_bytes; });
    return {tokens_.size(), text_.size(), done_};
  }
  // Copies of the streamed state: tokens [from, to) and text bytes [from, to).
  void read(size_t tok_from, size_t tok_to, std::vector<int32_t>* tokens, std::vector<float>* logprobs,
            std::vector<std::vector<std::pair<int32_t, float>>>* top, size_t text_from, size_t text_to,
            std::string* text) const {
    std::lock_guard<std::mutex> lock(mu_);
    tokens->assign(tokens_.begin() + tok_from, tokens_.begin() + tok_to);
    logprobs->assign(logprobs_.begin() + tok_from, logprobs_.begin() + tok_to);
    top->clear();
    for (size_t k = tok_from; k < tok_to && k < top_.size(); ++k) top->push_back(top_[k]);
    *text = text_.substr(text_from, text_to - text_from);
  }
  // After done: the result, or the error rethrown.
  const ServeResult& result() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_) throw *error_;
    return *result_;
  }

  std::atomic<bool> cancelled{false};
  bool stream = false;  // set before submission: whether the engine thread should push progress

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int32_t> tokens_;
  std::vector<float> logprobs_;
  std::vector<std::vector<std::pair<int32_t, float>>> top_;
  std::string text_;
  bool done_ = false;
  std::optional<ServeResult> result_;
  std::optional<ApiError> error_;
};

}  // namespace isc::serve
