// The OpenAI-compatible wire format as the openai backend uses it: request bodies for
// /v1/completions and /v1/chat/completions, and the parts of their answers a turn needs. Pure
// functions on JSON, so what is sent and how answers are read is in one place.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "text/chat_template.h"

namespace isc::openai {

// What /v1/models says about one model; `isc` is the block `isc serve` adds (absent elsewhere).
struct ServerModel {
  std::string id;
  struct Isc {
    std::string chat_template;
    int n_layers = 0;
    int dim = 0;
    std::string model_sha256;
    int64_t context_length = 0;
    // The system message the model's template injects into conversations without one (optional;
    // beyond the agreed shape, needed to render like the embedded backend for such models).
    std::string default_system;
  };
  std::optional<Isc> isc;
};
// `where` names the URL for errors (a /v1/models answer without a data list).
std::vector<ServerModel> parse_models(const nlohmann::json& answer, const std::string& where);

// Sampling fields shared by both endpoints. `extras` adds the non-standard ones many servers take
// (top_k, min_p, repeat_penalty) set to what isc means, because some servers' defaults are not
// neutral (llama-cpp-python: top_k 40, min_p 0.05, repeat_penalty 1.1, even for greedy decoding).
// `full_seed`: the seed's 64 bits (as a signed integer), else its low 31 bits (see the .cpp).
void put_sampling(nlohmann::json& body, const SamplingParams& s, bool extras, bool full_seed);

// A /v1/completions body generating from `prompt`; `stop` is the template's end-of-turn texts
// followed by the request's own stops. Legacy integer logprobs: the sampled token's log-probability
// and `top_logprobs` alternatives per token.
nlohmann::json completion_body(const std::string& model, const std::string& prompt, const SamplingParams& s,
                               const std::vector<std::string>& stop, bool extras, bool full_seed);

// The scoring body: `prompt` (rendered prompt + continuation) echoed with its tokens' logprobs.
// max_tokens 0 where the server documents it (`isc serve`), else 1: llama-cpp-python reads 0 as
// "until the context is full"; the generated token is dropped again (score_echo).
nlohmann::json scoring_body(const std::string& model, const std::string& prompt, int max_tokens);

// A /v1/chat/completions body; a non-empty pre-fill is sent as a final assistant message with
// continue_final_message (vLLM's and isc serve's extension).
nlohmann::json chat_body(const std::string& model, const std::vector<ChatMessage>& messages,
                         const std::string& assistant_prefill, const SamplingParams& s, bool extras, bool full_seed);

// Text, tokens and finish reason of choices[0] of a completion / chat answer. Token ids are not
// part of the wire format: every id is -1 (0 would name a real token in most vocabularies).
SampledAnswer parse_completion(const nlohmann::json& answer, int top_logprobs, const std::string& where);
SampledAnswer parse_chat(const nlohmann::json& answer, int top_logprobs, const std::string& where);

// Token counts of an answer's usage block (0 when the server sends none).
struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;  // usage.prompt_tokens_details.cached_tokens, where given
};
Usage parse_usage(const nlohmann::json& answer);

// The summed log-probability of `continuation` at the end of an echoed scoring answer. The server's
// tokens are read from the end: the generated tokens (usage.completion_tokens) are dropped, then
// prompt tokens are taken back to front until their texts cover the continuation's bytes. A token
// straddling the boundary (part pre-fill, part continuation) is included: its probability is the
// model's for producing the continuation's first bytes. Texts, not text_offset, decide, because
// servers disagree on offsets (llama-cpp-python counts special tokens as empty). Returns nullopt
// with `why` set when the answer has no prompt logprobs; throws isc::Error when the tokens' texts
// do not end with the continuation.
std::optional<double> score_echo(const nlohmann::json& answer, const std::string& continuation, std::string* why,
                                 const std::string& where);

// OpenAI / vLLM / llama.cpp finish reasons as isc's "stop" | "length"; others are kept as sent.
std::string finish_reason(const nlohmann::json& choice, const std::string& where);

}  // namespace isc::openai
