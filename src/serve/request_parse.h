// OpenAI request bodies (chat completions and legacy completions, with the vLLM chat extensions and
// the isc extension) checked field by field and turned into a ServeJob. Every bad field is an
// ApiError 400 naming it; a model other than the served one is 404 model_not_found.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "serve/serve_job.h"

namespace isc {
class ChatTemplate;
class Tokenizer;
}

namespace isc::serve {

struct RequestLimits {
  int max_tokens = 4096;  // largest max_tokens a request may ask for
};

struct ParsedRequest {
  bool chat = false;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: a last chunk with the usage
  bool logprobs = false;       // per generated token (chat: logprobs; completions: logprobs >= 0)
  bool echo = false;           // completions: the prompt is returned in front of the text
  std::string echo_text;       // the prompt text that echo returns
  ServeJob job;
};

// `body` is the request's parsed JSON (any value: a non-object is rejected here).
ParsedRequest parse_chat_request(const nlohmann::json& body, const ModelInfo& model, const ChatTemplate& chat,
                                 const RequestLimits& limits);
ParsedRequest parse_completion_request(const nlohmann::json& body, const ModelInfo& model, const Tokenizer& tok,
                                       const RequestLimits& limits);

// Parses a request body; malformed JSON (or invalid UTF-8 in it) is a 400 saying where.
nlohmann::json parse_body(const std::string& body);

}  // namespace isc::serve
