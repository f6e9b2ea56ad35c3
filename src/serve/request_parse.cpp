// Field checks of OpenAI request bodies (request_parse.h). Unknown fields are ignored, as vLLM and
// llama.cpp do; known ones must have the documented type and range.
#include "serve/request_parse.h"

#include <cmath>

#include <fmt/core.h>

#include "common/error.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace isc::serve {

using nlohmann::json;

namespace {

const json* field(const json& o, const char* name) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) return nullptr;
  return &*it;
}

bool get_bool(const json& o, const char* name, bool fallback) {
  const json* v = field(o, name);
  if (!v) return fallback;
  if (!v->is_boolean()) throw bad_request(fmt::format("'{}' must be a boolean", name));
  return v->get<bool>();
}

double get_number(const json& o, const char* name, double fallback, double lo, double hi) {
  const json* v = field(o, name);
  if (!v) return fallback;
  if (!v->is_number()) throw bad_request(fmt::format("'{}' must be a number", name));
  const double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) throw bad_request(fmt::format("'{}' is {}; expected {} to {}", name, x, lo, hi));
  return x;
}

int64_t get_int(const json& o, const char* name, int64_t fallback, int64_t lo, int64_t hi) {
  const json* v = field(o, name);
  if (!v) return fallback;
  if (!v->is_number_integer()) throw bad_request(fmt::format("'{}' must be an integer", name));
  const int64_t x = v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : v->get<int64_t>();
  if (x < lo || x > hi) throw bad_request(fmt::format("'{}' is {}; expected {} to {}", name, x, lo, hi));
  return x;
}

// model (404 when it is not ours), n, sampling, stop, stream.
void common_fields(const json& b, const ModelInfo& model, const RequestLimits& limits, int default_max_tokens,
                   int min_max_tokens, ParsedRequest& r) {
  const json* m = field(b, "model");
  if (!m) throw bad_request("you must provide a model parameter", "missing_model");
  if (!m->is_string()) throw bad_request("'model' must be a string");
  if (m->get<std::string>() != model.id)
    throw ApiError(404, fmt::format("The model '{}' does not exist (this server has '{}')", m->get<std::string>(), model.id),
                   "invalid_request_error", "model_not_found");
  if (get_int(b, "n", 1, 1, 1000) != 1) throw bad_request("only n = 1 is supported");
  int64_t max_tokens = default_max_tokens;
  for (const char* name : {"max_tokens", "max_completion_tokens"})
    max_tokens = get_int(b, name, max_tokens, min_max_tokens, INT64_MAX);
  if (max_tokens > limits.max_tokens)
    throw bad_request(fmt::format("max_tokens {} is more than this server allows ({})", max_tokens, limits.max_tokens));
  r.job.max_tokens = static_cast<int>(max_tokens);
  r.job.temperature = static_cast<float>(get_number(b, "temperature", 1.0, 0.0, 2.0));
  r.job.top_p = static_cast<float>(get_number(b, "top_p", 1.0, 0.0, 1.0));
  if (r.job.top_p <= 0.0f) throw bad_request("'top_p' must be more than 0");
  // without a seed a sampled request still gets a fresh one; greedy ones do not use it
  static std::atomic<uint64_t> fresh{0x5eed};
  r.job.seed = static_cast<uint64_t>(get_int(b, "seed", static_cast<int64_t>(fresh.fetch_add(1) & INT64_MAX), INT64_MIN, INT64_MAX));
  if (const json* s = field(b, "stop")) {
    if (s->is_string()) {
      r.job.stop.push_back(s->get<std::string>());
    } else if (s->is_array()) {
      if (s->size() > 16) throw bad_request("'stop' has more than 16 strings");
      for (const json& x : *s) {
        if (!x.is_string()) throw bad_request("'stop' must be a string or a list of strings");
        r.job.stop.push_back(x.get<std::string>());
      }
    } else {
      throw bad_request("'stop' must be a string or a list of strings");
    }
    for (const std::string& x : r.job.stop)
      if (x.empty()) throw bad_request("'stop' strings must not be empty");
  }
  r.stream = get_bool(b, "stream", false);
  if (const json* so = field(b, "stream_options")) {
    if (!so->is_object()) throw bad_request("'stream_options' must be an object");
    r.include_usage = get_bool(*so, "include_usage", false);
  }
}

// The isc extension: {"return_token_ids", "hidden_states": {layers, positions, user_message},
// "steering": {vectors, positions}} (docs/serve.md).
void isc_fields(const json& b, const ModelInfo& model, bool chat, ParsedRequest& r) {
  const json* x = field(b, "isc");
  if (!x) return;
  if (!x->is_object()) throw bad_request("'isc' must be an object");
  r.job.return_token_ids = get_bool(*x, "return_token_ids", false);
  if (const json* h = field(*x, "hidden_states")) {
    if (!h->is_object()) throw bad_request("'isc.hidden_states' must be an object");
    const json* layers = field(*h, "layers");
    if (!layers || !layers->is_array() || layers->empty())
      throw bad_request("'isc.hidden_states.layers' must be a non-empty list of layer indices");
    for (const json& l : *layers) {
      if (!l.is_number_integer() || l.get<int64_t>() < 0 || l.get<int64_t>() > model.n_layers)
        throw bad_request(fmt::format("'isc.hidden_states.layers': {} is not a layer (expected 0 to {})", l.dump(), model.n_layers));
      r.job.hidden_layers.push_back(l.get<int>());
    }
    r.job.hidden_positions = {"answer"};
    if (const json* p = field(*h, "positions")) {
      if (!p->is_array() || p->empty()) throw bad_request("'isc.hidden_states.positions' must be a non-empty list");
      r.job.hidden_positions.clear();
      for (const json& s : *p) {
        if (!s.is_string() || (s != "answer" && s != "user_end"))
          throw bad_request(fmt::format("'isc.hidden_states.positions': {} (expected \"answer\" or \"user_end\")", s.dump()));
        r.job.hidden_positions.push_back(s.get<std::string>());
      }
    }
    if (const json* u = field(*h, "user_message")) {
      if (chat) throw bad_request("'isc.hidden_states.user_message' is for completions; chat uses the last user message");
      if (!u->is_string()) throw bad_request("'isc.hidden_states.user_message' must be a string");
      r.job.user_message = u->get<std::string>();
    }
    for (const std::string& p : r.job.hidden_positions)
      if (p == "user_end" && r.job.user_message.empty())
        throw bad_request(chat ? "user_end hidden state: the conversation has no user message"
                               : "user_end hidden state: give 'isc.hidden_states.user_message'");
  }
  if (const json* s = field(*x, "steering")) {
    if (!s->is_object()) throw bad_request("'isc.steering' must be an object");
    const json* v = field(*s, "vectors");
    if (!v || !v->is_object() || v->empty())
      throw bad_request("'isc.steering.vectors' must be an object {\"<layer>\": [numbers]}");
    auto st = std::make_shared<Steering>();
    for (auto it = v->begin(); it != v->end(); ++it) {
      int layer = 0;
      size_t used = 0;
      try {
        layer = std::stoi(it.key(), &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != it.key().size() || layer < 1 || layer > model.n_layers)
        throw bad_request(fmt::format("'isc.steering.vectors': key '{}' is not a layer (expected 1 to {})", it.key(), model.n_layers));
      if (!it->is_array() || static_cast<int>(it->size()) != model.dim)
        throw bad_request(fmt::format("'isc.steering.vectors.{}' must be a list of {} numbers (the model's width)", it.key(), model.dim));
      std::vector<float> values;
      values.reserve(it->size());
      for (const json& f : *it) {
        if (!f.is_number() || !std::isfinite(f.get<double>()))
          throw bad_request(fmt::format("'isc.steering.vectors.{}' must hold finite numbers", it.key()));
        values.push_back(f.get<float>());
      }
      st->add[layer] = std::move(values);
    }
    r.job.steering = st;
    r.job.steering_positions = "turn";
    if (const json* p = field(*s, "positions")) {
      if (!p->is_string() || (*p != "turn" && *p != "generation"))
        throw bad_request("'isc.steering.positions' must be \"turn\" or \"generation\"");
      r.job.steering_positions = p->get<std::string>();
    }
  }
}

std::string message_content(const json& m, size_t i) {
  const json* c = field(m, "content");
  if (!c) return "";
  if (c->is_string()) return c->get<std::string>();
  if (c->is_array()) {  // content parts: only text ones
    std::string out;
    for (const json& p : *c) {
      if (!p.is_object() || p.value("type", json()) != "text" || !p.contains("text") || !p["text"].is_string())
        throw bad_request(fmt::format("messages[{}].content: only text parts ({{\"type\": \"text\", \"text\": ...}}) are supported", i));
      out += p["text"].get<std::string>();
    }
    return out;
  }
  throw bad_request(fmt::format("messages[{}].content must be a string or a list of text parts", i));
}

}  // namespace

json parse_body(const std::string& body) {
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    throw bad_request(fmt::format("the body is not valid JSON (byte {}): {}", e.byte, e.what()), "invalid_json");
  }
}

ParsedRequest parse_chat_request(const json& b, const ModelInfo& model, const ChatTemplate& chat, const RequestLimits& limits) {
  if (!b.is_object()) throw bad_request("the body must be a JSON object");
  ParsedRequest r;
  r.chat = true;
  common_fields(b, model, limits, limits.max_tokens, 1, r);
  const json* msgs = field(b, "messages");
  if (!msgs || !msgs->is_array() || msgs->empty()) throw bad_request("'messages' must be a non-empty list");
  std::vector<ChatMessage> messages;
  for (size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    if (!m.is_object()) throw bad_request(fmt::format("messages[{}] must be an object", i));
    const json* role = field(m, "role");
    if (!role || !role->is_string()) throw bad_request(fmt::format("messages[{}].role must be a string", i));
    std::string rl = role->get<std::string>();
    if (rl == "developer") rl = "system";  // OpenAI's newer name for it
    if (rl != "system" && rl != "user" && rl != "assistant")
      throw bad_request(fmt::format("messages[{}].role '{}' (expected system, user or assistant)", i, rl));
    messages.push_back({rl, message_content(m, i)});
  }
  const bool continue_final = get_bool(b, "continue_final_message", false);
  const bool add_generation_prompt = get_bool(b, "add_generation_prompt", true);
  for (auto it = messages.rbegin(); it != messages.rend(); ++it)
    if (it->role == "user") {
      r.job.user_message = it->content;
      break;
    }
  isc_fields(b, model, /*chat=*/true, r);
  try {
    if (continue_final) {
      // vLLM's extension: the last (assistant) message is a pre-fill the model continues
      if (messages.back().role != "assistant")
        throw bad_request("continue_final_message needs the last message to be an assistant message");
      const std::string prefill = messages.back().content;
      messages.pop_back();
      r.job.prompt_text = chat.render(messages, /*add_generation_prompt=*/true, prefill);
    } else {
      r.job.prompt_text = chat.render(messages, add_generation_prompt);
    }
  } catch (const isc::Error& e) {
    throw bad_request(fmt::format("messages cannot be rendered with the {} template: {}", chat.name(), e.what()));
  }
  if (field(b, "echo")) throw bad_request("'echo' is for /v1/completions");
  r.logprobs = get_bool(b, "logprobs", false);
  r.job.top_logprobs = static_cast<int>(get_int(b, "top_logprobs", 0, 0, 20));
  if (r.job.top_logprobs > 0 && !r.logprobs) throw bad_request("'top_logprobs' needs 'logprobs': true");
  return r;
}

ParsedRequest parse_completion_request(const json& b, const ModelInfo& model, const Tokenizer& tok, const RequestLimits& limits) {
  if (!b.is_object()) throw bad_request("the body must be a JSON object");
  ParsedRequest r;
  common_fields(b, model, limits, std::min(16, limits.max_tokens), 0, r);
  const json* p = field(b, "prompt");
  if (!p) throw bad_request("'prompt' is required");
  const json* one = p;
  if (p->is_array() && !p->empty() && (p->front().is_string() || p->front().is_array())) {
    if (p->size() != 1) throw bad_request("only one prompt per request is supported");
    one = &p->front();
  }
  if (one->is_string()) {
    r.job.has_text = true;
    r.job.prompt_text = one->get<std::string>();
    r.echo_text = r.job.prompt_text;
  } else if (one->is_array()) {
    r.job.has_text = false;
    for (const json& t : *one) {
      if (!t.is_number_integer()) throw bad_request("'prompt' must be a string or a list of token ids");
      const int64_t id = t.get<int64_t>();
      if (id < 0 || id >= model.vocab_size)
        throw bad_request(fmt::format("prompt token {} outside the vocabulary 0..{}", id, model.vocab_size - 1));
      r.job.prompt_tokens.push_back(static_cast<int32_t>(id));
    }
    r.echo_text = tok.decode(r.job.prompt_tokens);
  } else {
    throw bad_request("'prompt' must be a string or a list of token ids");
  }
  if (r.job.has_text ? r.job.prompt_text.empty() : r.job.prompt_tokens.empty()) throw bad_request("'prompt' is empty");
  isc_fields(b, model, /*chat=*/false, r);
  r.echo = get_bool(b, "echo", false);
  const int64_t lp = get_int(b, "logprobs", -1, 0, 20);
  r.logprobs = lp >= 0;
  r.job.top_logprobs = static_cast<int>(std::max<int64_t>(lp, 0));
  r.job.prompt_logprobs = r.echo && r.logprobs;
  if (r.job.max_tokens == 0 && !r.echo) throw bad_request("max_tokens 0 only makes sense with echo (scoring the prompt)");
  if (field(b, "suffix")) throw bad_request("'suffix' is not supported");
  return r;
}

}  // namespace isc::serve
