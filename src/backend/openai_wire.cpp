// Request bodies and answer parsing for the openai backend (see openai_wire.h). Answers are checked
// field by field: a missing or mistyped field is an isc::Error naming the URL and the field, never a
// default value standing in for data the server did not send.
#include "backend/openai_wire.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "common/error.h"

namespace isc::openai {

namespace {

using nlohmann::json;

const json& choice0(const json& answer, const std::string& where) {
  if (!answer.is_object() || !answer.contains("choices") || !answer["choices"].is_array() || answer["choices"].empty())
    throw Error(fmt::format("{}: the answer has no choices", where));
  const json& c = answer["choices"][0];
  if (!c.is_object()) throw Error(fmt::format("{}: choices[0] is not an object", where));
  return c;
}

std::string string_at(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_string()) throw Error(fmt::format("{}: the answer has no string '{}'", where, key));
  return j[key].get<std::string>();
}

// The k most likely alternatives, best first (servers also list the sampled token, whatever its rank).
std::vector<TokenAlternative> best_alternatives(std::vector<TokenAlternative> all, int k) {
  std::stable_sort(all.begin(), all.end(),
                   [](const TokenAlternative& a, const TokenAlternative& b) { return a.logprob > b.logprob; });
  if (static_cast<int>(all.size()) > k) all.resize(static_cast<size_t>(std::max(0, k)));
  return all;
}

float logprob_value(const json& v, const std::string& where, size_t k) {
  if (!v.is_number()) throw Error(fmt::format("{}: token {} has no logprob", where, k));
  return v.get<float>();
}

// A chat token's text: its raw bytes where the server gives them (a token may split a UTF-8
// character, which a JSON string cannot hold), else the string.
std::string chat_token_text(const json& t) {
  if (t.contains("bytes") && t["bytes"].is_array()) {
    std::string out;
    for (const json& b : t["bytes"])
      if (b.is_number_integer()) out.push_back(static_cast<char>(b.get<int>()));
    return out;
  }
  return t.value("token", "");
}

}  // namespace

std::vector<ServerModel> parse_models(const json& answer, const std::string& where) {
  if (!answer.is_object() || !answer.contains("data") || !answer["data"].is_array())
    throw Error(fmt::format("{}: the answer has no 'data' list of models", where));
  std::vector<ServerModel> out;
  for (const json& m : answer["data"]) {
    if (!m.is_object() || !m.contains("id") || !m["id"].is_string())
      throw Error(fmt::format("{}: a model entry without a string 'id'", where));
    ServerModel s;
    s.id = m["id"].get<std::string>();
    if (m.contains("isc") && m["isc"].is_object()) {
      const json& i = m["isc"];
      ServerModel::Isc x;
      auto text = [&](const char* key) { return i.contains(key) && i[key].is_string() ? i[key].get<std::string>() : ""; };
      x.chat_template = text("chat_template");
      x.n_layers = i.value("n_layers", 0);
      x.dim = i.value("dim", 0);
      x.model_sha256 = text("model_sha256");
      x.context_length = i.value("context_length", int64_t{0});
      x.default_system = text("default_system");  // null when the template adds none
      s.isc = x;
    }
    out.push_back(std::move(s));
  }
  return out;
}

void put_sampling(json& body, const SamplingParams& s, bool extras, bool full_seed) {
  body["max_tokens"] = s.max_new_tokens;
  body["temperature"] = s.temperature;
  body["top_p"] = s.top_p;
  // Servers read seeds as 32-bit (llama.cpp) or 64-bit signed integers: 31 bits fit them all.
  // `isc serve` takes all 64 bits as a signed integer and samples as the embedded engine does.
  body["seed"] = full_seed ? static_cast<int64_t>(s.seed) : static_cast<int64_t>(s.seed & 0x7fffffffULL);
  if (extras) {
    body["top_k"] = s.top_k;  // 0 = off on llama.cpp and vLLM alike
    body["min_p"] = 0.0;
    body["repeat_penalty"] = 1.0;
  } else if (s.top_k > 0) {
    body["top_k"] = s.top_k;
  }
}

json completion_body(const std::string& model, const std::string& prompt, const SamplingParams& s,
                     const std::vector<std::string>& stop, bool extras, bool full_seed) {
  json body = {{"prompt", prompt}, {"logprobs", std::max(0, s.top_logprobs)}, {"echo", false}, {"stream", false}};
  if (!model.empty()) body["model"] = model;
  put_sampling(body, s, extras, full_seed);
  json st = json::array();
  for (const std::string& x : stop)
    if (!x.empty()) st.push_back(x);
  body["stop"] = st;
  return body;
}

json scoring_body(const std::string& model, const std::string& prompt, int max_tokens) {
  json body = {{"prompt", prompt}, {"echo", true}, {"logprobs", 0}, {"max_tokens", max_tokens}, {"temperature", 0.0},
               {"stream", false}};
  if (!model.empty()) body["model"] = model;
  return body;
}

json chat_body(const std::string& model, const std::vector<ChatMessage>& messages, const std::string& prefill,
               const SamplingParams& s, bool extras, bool full_seed) {
  json msgs = json::array();
  for (const ChatMessage& m : messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
  json body = {{"messages", msgs}, {"stream", false}, {"logprobs", true}};
  if (s.top_logprobs > 0) body["top_logprobs"] = s.top_logprobs;
  if (!prefill.empty()) {
    body["messages"].push_back({{"role", "assistant"}, {"content", prefill}});
    body["continue_final_message"] = true;
    body["add_generation_prompt"] = false;
  }
  if (!model.empty()) body["model"] = model;
  put_sampling(body, s, extras, full_seed);
  if (!s.stop.empty()) body["stop"] = s.stop;
  return body;
}

std::string finish_reason(const json& choice, const std::string& where) {
  if (!choice.contains("finish_reason") || !choice["finish_reason"].is_string())
    throw Error(fmt::format("{}: the answer has no finish_reason", where));
  const std::string r = choice["finish_reason"].get<std::string>();
  if (r == "stop" || r == "eos" || r == "eos_token" || r == "stop_sequence") return "stop";
  if (r == "length" || r == "max_tokens") return "length";
  return r;
}

SampledAnswer parse_completion(const json& answer, int top_logprobs, const std::string& where) {
  const json& c = choice0(answer, where);
  SampledAnswer a;
  a.text = string_at(c, "text", where);
  a.finish_reason = finish_reason(c, where);
  if (!c.contains("logprobs") || !c["logprobs"].is_object()) return a;  // the server sends no token data
  const json& lp = c["logprobs"];
  if (!lp.contains("tokens") || !lp["tokens"].is_array() || !lp.contains("token_logprobs") ||
      !lp["token_logprobs"].is_array() || lp["tokens"].size() != lp["token_logprobs"].size())
    throw Error(fmt::format("{}: logprobs without matching 'tokens' and 'token_logprobs' lists", where));
  const json& tops = lp.contains("top_logprobs") && lp["top_logprobs"].is_array() ? lp["top_logprobs"] : json::array();
  for (size_t k = 0; k < lp["tokens"].size(); ++k) {
    GeneratedToken t;
    t.id = -1;
    t.text = lp["tokens"][k].is_string() ? lp["tokens"][k].get<std::string>() : "";
    t.logprob = logprob_value(lp["token_logprobs"][k], where, k);
    if (k < tops.size() && tops[k].is_object()) {
      std::vector<TokenAlternative> alts;
      for (const auto& [text, v] : tops[k].items())
        if (v.is_number()) alts.push_back({-1, text, v.get<float>()});
      t.top = best_alternatives(std::move(alts), top_logprobs);
    }
    a.tokens.push_back(std::move(t));
  }
  return a;
}

SampledAnswer parse_chat(const json& answer, int top_logprobs, const std::string& where) {
  const json& c = choice0(answer, where);
  SampledAnswer a;
  if (!c.contains("message") || !c["message"].is_object()) throw Error(fmt::format("{}: the answer has no message", where));
  const json& m = c["message"];
  a.text = m.contains("content") && m["content"].is_string() ? m["content"].get<std::string>() : "";
  a.finish_reason = finish_reason(c, where);
  if (!c.contains("logprobs") || !c["logprobs"].is_object() || !c["logprobs"].contains("content") ||
      !c["logprobs"]["content"].is_array())
    return a;  // the server sends no token data
  size_t k = 0;
  for (const json& tj : c["logprobs"]["content"]) {
    GeneratedToken t;
    t.id = -1;
    t.text = chat_token_text(tj);
    t.logprob = logprob_value(tj.value("logprob", json()), where, k++);
    if (tj.contains("top_logprobs") && tj["top_logprobs"].is_array()) {
      std::vector<TokenAlternative> alts;
      for (const json& x : tj["top_logprobs"])
        if (x.is_object() && x.contains("logprob") && x["logprob"].is_number())
          alts.push_back({-1, chat_token_text(x), x["logprob"].get<float>()});
      t.top = best_alternatives(std::move(alts), top_logprobs);
    }
    a.tokens.push_back(std::move(t));
  }
  return a;
}

Usage parse_usage(const json& answer) {
  Usage u;
  if (!answer.is_object() || !answer.contains("usage") || !answer["usage"].is_object()) return u;
  const json& j = answer["usage"];
  u.prompt_tokens = j.value("prompt_tokens", int64_t{0});
  u.completion_tokens = j.value("completion_tokens", int64_t{0});
  if (j.contains("prompt_tokens_details") && j["prompt_tokens_details"].is_object())
    u.cached_tokens = j["prompt_tokens_details"].value("cached_tokens", int64_t{0});
  return u;
}

std::optional<double> score_echo(const json& answer, const std::string& continuation, std::string* why,
                                 const std::string& where) {
  const json& c = choice0(answer, where);
  if (!c.contains("logprobs") || !c["logprobs"].is_object()) {
    *why = "its echoed completions carry no logprobs";
    return std::nullopt;
  }
  const json& lp = c["logprobs"];
  if (!lp.contains("tokens") || !lp["tokens"].is_array() || !lp.contains("token_logprobs") ||
      !lp["token_logprobs"].is_array() || lp["tokens"].size() != lp["token_logprobs"].size()) {
    *why = "its echoed completions carry no 'tokens'/'token_logprobs' lists";
    return std::nullopt;
  }
  const json& tokens = lp["tokens"];
  const json& values = lp["token_logprobs"];
  if (!answer.contains("usage") || !answer["usage"].is_object() || !answer["usage"].contains("completion_tokens"))
    throw Error(fmt::format("{}: an echoed answer without usage.completion_tokens (the generated tokens cannot be "
                            "told from the prompt's)",
                            where));
  const int64_t generated = parse_usage(answer).completion_tokens;
  if (generated < 0 || generated > static_cast<int64_t>(tokens.size()))
    throw Error(fmt::format("{}: usage.completion_tokens {} for {} echoed tokens", where, generated, tokens.size()));
  size_t k = tokens.size() - static_cast<size_t>(generated);
  std::string tail;
  double sum = 0.0;
  while (k > 0 && tail.size() < continuation.size()) {
    --k;
    if (!tokens[k].is_string()) throw Error(fmt::format("{}: echoed token {} is not a string", where, k));
    tail.insert(0, tokens[k].get<std::string>());
    if (!values[k].is_number()) throw Error(fmt::format("{}: echoed token {} has no logprob", where, k));
    sum += values[k].get<double>();
  }
  if (tail.size() < continuation.size() || tail.compare(tail.size() - continuation.size(), std::string::npos,
                                                        continuation) != 0)
    throw Error(fmt::format("{}: the echoed prompt tokens end with '{}', not with the continuation '{}'", where,
                            tail, continuation));
  return sum;
}

}  // namespace isc::openai
