// OpenAI response shapes (response_json.h).
#include "serve/response_json.h"

#include "text/tokenizer.h"

namespace isc::serve {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json usage_json(const ServeResult& r) {
  const int64_t p = static_cast<int64_t>(r.prompt_tokens.size()), c = static_cast<int64_t>(r.tokens.size());
  return {{"prompt_tokens", p}, {"completion_tokens", c}, {"total_tokens", p + c}, {"isc_cached_tokens", r.cached_tokens},
          {"prompt_tokens_details", {{"cached_tokens", r.cached_tokens}}}};
}

json isc_json(const ServeResult& r) {
  if (r.hidden.empty() && !r.return_token_ids) return nullptr;
  json out = json::object();
  if (!r.hidden.empty()) {
    json h = json::array();
    for (const HiddenOut& x : r.hidden) h.push_back({{"position", x.position}, {"layer", x.layer}, {"values", x.values}});
    out["hidden_states"] = h;
  }
  if (r.return_token_ids) {
    out["prompt_token_ids"] = r.prompt_tokens;
    out["completion_token_ids"] = r.tokens;
    out["turn_from"] = r.turn_from;
    out["generated_cached"] = r.generated_cached;
    out["prefilled_tokens"] = r.prefilled;
  }
  return out;
}

namespace {

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

}  // namespace

json chat_logprobs(const Tokenizer& tok, const std::vector<int32_t>& tokens, const std::vector<float>& logprobs,
                   const std::vector<std::vector<std::pair<int32_t, float>>>& top) {
  json content = json::array();
  for (size_t k = 0; k < tokens.size(); ++k) {
    const std::string s = tok.token_bytes(tokens[k]);
    json alts = json::array();
    if (k < top.size())
      for (auto [id, lp] : top[k]) {
        const std::string a = tok.token_bytes(id);
        alts.push_back({{"token", a}, {"logprob", lp}, {"bytes", bytes_of(a)}});
      }
    content.push_back({{"token", s}, {"logprob", logprobs[k]}, {"bytes", bytes_of(s)}, {"top_logprobs", alts}});
  }
  return {{"content", content}};
}

json chat_response(const ResponseHead& h, const ParsedRequest& q, const ServeResult& r, const Tokenizer& tok) {
  json choice = {{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", r.text}}},
                 {"logprobs", q.logprobs ? chat_logprobs(tok, r.tokens, r.logprobs, r.top) : json()},
                 {"finish_reason", r.finish_reason}};
  json out = {{"id", h.id},          {"object", "chat.completion"}, {"created", h.created}, {"model", h.model},
              {"choices", {choice}}, {"usage", usage_json(r)}};
  if (json x = isc_json(r); !x.is_null()) out["isc"] = x;
  return out;
}

json completion_logprobs(const Tokenizer& tok, const ServeResult& r, bool with_prompt, const std::string& echo_text,
                         size_t gen_from, size_t gen_to, size_t offset0) {
  json tokens = json::array(), lps = json::array(), tops = json::array(), offsets = json::array();
  auto alternatives = [&](const std::vector<std::pair<int32_t, float>>& alts) {
    json m = json::object();
    for (auto [id, lp] : alts) m[tok.token_bytes(id)] = lp;
    return m;
  };
  size_t pos = offset0;
  if (with_prompt) {
    pos = 0;
    for (size_t k = 0; k < r.prompt_tokens.size(); ++k) {
      const std::string s = tok.token_bytes(r.prompt_tokens[k]);
      tokens.push_back(s);
      offsets.push_back(pos);
      // a token not spelled in the text (a BOS the tokenizer added) takes no bytes of it
      if (echo_text.compare(pos, s.size(), s) == 0) pos += s.size();
      if (k == 0) {
        lps.push_back(nullptr);
        tops.push_back(nullptr);
      } else {
        lps.push_back(r.prompt_logprobs.at(k - 1));
        tops.push_back(k - 1 < r.prompt_top.size() ? alternatives(r.prompt_top[k - 1]) : json::object());
      }
    }
    pos = echo_text.size();
  }
  for (size_t k = gen_from; k < gen_to; ++k) {
    const std::string s = tok.token_bytes(r.tokens[k]);
    tokens.push_back(s);
    offsets.push_back(pos);
    pos += s.size();
    lps.push_back(r.logprobs[k]);
    tops.push_back(k < r.top.size() ? alternatives(r.top[k]) : json::object());
  }
  return {{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

json completion_response(const ResponseHead& h, const ParsedRequest& q, const ServeResult& r, const Tokenizer& tok) {
  const std::string text = q.echo ? q.echo_text + r.text : r.text;
  json choice = {{"index", 0},
                 {"text", text},
                 {"logprobs", q.logprobs ? completion_logprobs(tok, r, q.echo, q.echo_text, 0, r.tokens.size(), 0) : json()},
                 {"finish_reason", r.finish_reason}};
  json out = {{"id", h.id},          {"object", "text_completion"}, {"created", h.created}, {"model", h.model},
              {"choices", {choice}}, {"usage", usage_json(r)}};
  if (json x = isc_json(r); !x.is_null()) out["isc"] = x;
  return out;
}

json chat_chunk(const ResponseHead& h, const json& delta, const json& logprobs, const json& finish_reason) {
  return {{"id", h.id},
          {"object", "chat.completion.chunk"},
          {"created", h.created},
          {"model", h.model},
          {"choices", {{{"index", 0}, {"delta", delta}, {"logprobs", logprobs}, {"finish_reason", finish_reason}}}}};
}

json completion_chunk(const ResponseHead& h, const std::string& text, const json& logprobs, const json& finish_reason) {
  return {{"id", h.id},
          {"object", "text_completion"},
          {"created", h.created},
          {"model", h.model},
          {"choices", {{{"index", 0}, {"text", text}, {"logprobs", logprobs}, {"finish_reason", finish_reason}}}}};
}

json usage_chunk(const ResponseHead& h, bool chat, const ServeResult& r) {
  json out = {{"id", h.id},
              {"object", chat ? "chat.completion.chunk" : "text_completion"},
              {"created", h.created},
              {"model", h.model},
              {"choices", json::array()},
              {"usage", usage_json(r)}};
  if (json x = isc_json(r); !x.is_null()) out["isc"] = x;
  return out;
}

}  // namespace isc::serve
