// OpenAI response bodies built from a ServeResult: chat.completion and text_completion objects,
// their streamed chunks, the logprobs objects of both APIs, usage (with isc_cached_tokens), and the
// isc extension's hidden states.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/request_parse.h"
#include "serve/serve_job.h"

namespace isc {
class Tokenizer;
}

namespace isc::serve {

// What every object of one response shares.
struct ResponseHead {
  std::string id;       // "chatcmpl-…" / "cmpl-…"
  int64_t created = 0;  // unix seconds
  std::string model;
};

nlohmann::json usage_json(const ServeResult& r);
nlohmann::json isc_json(const ServeResult& r);  // null when nothing was asked

// Chat: logprobs.content entries for tokens (with their alternatives when asked).
nlohmann::json chat_logprobs(const Tokenizer& tok, const std::vector<int32_t>& tokens, const std::vector<float>& logprobs,
                             const std::vector<std::vector<std::pair<int32_t, float>>>& top);

nlohmann::json chat_response(const ResponseHead& h, const ParsedRequest& q, const ServeResult& r, const Tokenizer& tok);
nlohmann::json completion_response(const ResponseHead& h, const ParsedRequest& q, const ServeResult& r, const Tokenizer& tok);

// Legacy logprobs {tokens, token_logprobs, top_logprobs, text_offset}: the echoed prompt tokens
// (when `with_prompt`; the first one has no logprob) then the generated tokens; text offsets are
// byte offsets into the returned text, which starts with `echo_text` when echoing.
nlohmann::json completion_logprobs(const Tokenizer& tok, const ServeResult& r, bool with_prompt, const std::string& echo_text,
                                   size_t gen_from, size_t gen_to, size_t offset0);

// Streamed chunks.
nlohmann::json chat_chunk(const ResponseHead& h, const nlohmann::json& delta, const nlohmann::json& logprobs,
                          const nlohmann::json& finish_reason);
nlohmann::json completion_chunk(const ResponseHead& h, const std::string& text, const nlohmann::json& logprobs,
                                const nlohmann::json& finish_reason);
nlohmann::json usage_chunk(const ResponseHead& h, bool chat, const ServeResult& r);

// JSON text for the wire: invalid UTF-8 (a token may hold half a character) becomes U+FFFD.
std::string dump(const nlohmann::json& j);

}  // namespace isc::serve
