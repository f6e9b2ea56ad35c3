// Chat templates: family detection from a model's Jinja template text, default-system extraction
// from its string literals, and the per-family renderers (see chat_template.h for the formats).
#include "text/chat_template.h"

#include <array>
#include <cstdint>

#include "common/error.h"

namespace isc {
namespace {

const char* kWhere = "chat template";

// Python's str.isspace() code points, which is what Jinja's trim / str.strip() remove.
bool is_python_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Decodes the UTF-8 code point at text[pos, end); returns its length, 0 when malformed
// (malformed bytes are never whitespace, so strip stops there).
size_t decode_utf8(std::string_view text, size_t pos, uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || pos + len > text.size()) return 0;
  cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(text[pos + i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  return len;
}

// The string literals inside {{ }} and {% %} tags, with Jinja's (Python's) escapes resolved.
std::vector<std::string> jinja_string_literals(std::string_view t) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i + 1 < t.size()) {
    if (t[i] != '{' || (t[i + 1] != '{' && t[i + 1] != '%')) {
      ++i;
      continue;
    }
    const char close = t[i + 1] == '{' ? '}' : '%';
    i += 2;
    while (i < t.size() && !(t[i] == close && i + 1 < t.size() && t[i + 1] == '}')) {
      if (t[i] != '\'' && t[i] != '"') {
        ++i;
        continue;
      }
      const char quote = t[i++];
      std::string lit;
      while (i < t.size() && t[i] != quote) {
        if (t[i] == '\\' && i + 1 < t.size()) {
          const char e = t[i + 1];
          i += 2;
          switch (e) {
            case 'n': lit += '\n'; break;
            case 't': lit += '\t'; break;
            case 'r': lit += '\r'; break;
            case '\\': lit += '\\'; break;
            case '\'': lit += '\''; break;
            case '"': lit += '"'; break;
            default: lit += '\\'; lit += e; break;
          }
          continue;
        }
        lit += t[i++];
      }
      ++i;  // closing quote
      out.push_back(std::move(lit));
    }
    i += 2;
  }
  return out;
}

// A default system message is a literal "<start marker>TEXT<end marker>" in the template source.
std::optional<std::string> find_default_system(const std::string& text, std::string_view start,
                                               std::string_view end) {
  for (const std::string& lit : jinja_string_literals(text)) {
    const size_t s = lit.find(start);
    if (s == std::string::npos) continue;
    const size_t body = s + start.size();
    const size_t e = lit.find(end, body);
    if (e == std::string::npos || e == body) continue;
    return lit.substr(body, e - body);
  }
  return std::nullopt;
}

void check_role(const ChatMessage& m, size_t index) {
  if (m.role != "system" && m.role != "user" && m.role != "assistant")
    throw error_at(kWhere, "message " + std::to_string(index),
                   "role '" + m.role + "': expected system, user or assistant");
}

// Llama-2, Mistral and Gemma templates require user/assistant alternation starting with user.
void check_alternation(const std::string& family, const ChatMessage& m, size_t index, size_t turn) {
  const bool want_user = turn % 2 == 0;
  if ((m.role == "user") != want_user || m.role == "system")
    throw error_at(kWhere, "message " + std::to_string(index),
                   family + " expects " + (want_user ? "a user" : "an assistant") +
                       " message here (roles must alternate user/assistant after an optional leading "
                       "system message), got '" + m.role + "'");
}

}  // namespace

std::string python_strip(std::string_view text) {
  size_t begin = 0;
  while (begin < text.size()) {
    uint32_t cp = 0;
    const size_t len = decode_utf8(text, begin, cp);
    if (len == 0 || !is_python_space(cp)) break;
    begin += len;
  }
  size_t end = text.size();
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    uint32_t cp = 0;
    const size_t len = decode_utf8(text, start, cp);
    if (len != end - start || !is_python_space(cp)) break;
    end = start;
  }
  return std::string(text.substr(begin, end - begin));
}

ChatTemplate ChatTemplate::named(std::string_view name) {
  if (name == "chatml") return {ChatTemplateKind::ChatML, "chatml"};
  if (name == "llama3") return {ChatTemplateKind::Llama3, "llama3"};
  if (name == "llama2") return {ChatTemplateKind::Llama2, "llama2"};
  if (name == "mistral") return {ChatTemplateKind::Llama2, "mistral"};
  if (name == "zephyr") return {ChatTemplateKind::Zephyr, "zephyr"};
  if (name == "gemma") return {ChatTemplateKind::Gemma, "gemma"};
  throw error_at(kWhere, "", "unknown template name '" + std::string(name) +
                                 "': expected chatml, llama3, llama2, mistral, zephyr or gemma");
}

ChatTemplate ChatTemplate::from_model_template(const std::string& text) {
  if (text.find("<|im_start|>") != std::string::npos) {
    ChatTemplate t = named("chatml");
    t.default_system_ = find_default_system(text, "<|im_start|>system\n", "<|im_end|>");
    return t;
  }
  if (text.find("<|start_header_id|>") != std::string::npos) {
    ChatTemplate t = named("llama3");
    t.default_system_ =
        find_default_system(text, "<|start_header_id|>system<|end_header_id|>\n\n", "<|eot_id|>");
    return t;
  }
  if (text.find("<start_of_turn>") != std::string::npos) return named("gemma");
  // Llama-2 folds the system prompt in with <<SYS>>; Mistral's [INST] template has no such marker.
  if (text.find("[INST]") != std::string::npos)
    return named(text.find("<<SYS>>") != std::string::npos ? "llama2" : "mistral");
  if (text.find("<|user|>") != std::string::npos) return named("zephyr");
  throw error_at("tokenizer.chat_template", "",
                 "unrecognised chat template: looked for <|im_start|> (chatml), <|start_header_id|> "
                 "(llama3), <start_of_turn> (gemma), [INST] (llama2/mistral), <|user|> (zephyr); "
                 "name a template explicitly");
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                 std::string_view assistant_prefill) const {
  if (!assistant_prefill.empty() && !add_generation_prompt)
    throw error_at(kWhere, name_, "an assistant prefill needs add_generation_prompt");
  for (size_t i = 0; i < messages.size(); ++i) check_role(messages[i], i);
  std::string out;
  switch (kind_) {
    case ChatTemplateKind::ChatML: out = render_chatml(messages, add_generation_prompt); break;
    case ChatTemplateKind::Llama3: out = render_llama3(messages, add_generation_prompt); break;
    case ChatTemplateKind::Llama2:
      out = render_inst(messages);
      // The finished llama2 assistant message starts with a space after [/INST]; mistral's does not.
      if (!assistant_prefill.empty() && name_ == "llama2") out += ' ';
      break;
    case ChatTemplateKind::Zephyr: out = render_zephyr(messages, add_generation_prompt); break;
    case ChatTemplateKind::Gemma: out = render_gemma(messages, add_generation_prompt); break;
  }
  out += assistant_prefill;
  return out;
}

std::string ChatTemplate::render_chatml(const std::vector<ChatMessage>& messages, bool gen) const {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i == 0 && default_system_ && messages[0].role != "system")
      out += "<|im_start|>system\n" + *default_system_ + "<|im_end|>\n";
    out += "<|im_start|>" + messages[i].role + "\n" + messages[i].content + "<|im_end|>\n";
  }
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

std::string ChatTemplate::render_llama3(const std::vector<ChatMessage>& messages, bool gen) const {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i == 0) {
      out += bos_text();
      if (default_system_ && messages[0].role != "system")
        out += "<|start_header_id|>system<|end_header_id|>\n\n" + *default_system_ + "<|eot_id|>";
    }
    out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n" +
           python_strip(messages[i].content) + "<|eot_id|>";
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

// Llama-2 and Mistral [INST] formats; neither opens an assistant turn with any text.
std::string ChatTemplate::render_inst(const std::vector<ChatMessage>& messages) const {
  const bool llama2 = name_ == "llama2";
  const bool has_system = !messages.empty() && messages[0].role == "system";
  const size_t first = has_system ? 1 : 0;
  std::string out = llama2 ? "" : bos_text();
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    check_alternation(name_, m, i, i - first);
    std::string content = m.content;
    if (i == first && has_system) content = "<<SYS>>\n" + messages[0].content + "\n<</SYS>>\n\n" + content;
    if (llama2) {
      if (m.role == "user")
        out += "<s>[INST] " + python_strip(content) + " [/INST]";
      else
        out += " " + python_strip(content) + " </s>";
    } else {
      out += m.role == "user" ? "[INST] " + content + " [/INST]" : content + "</s>";
    }
  }
  if (has_system && messages.size() == 1)
    throw error_at(kWhere, name_, "a system message must be followed by a user message");
  return out;
}

std::string ChatTemplate::render_zephyr(const std::vector<ChatMessage>& messages, bool gen) const {
  std::string out;
  for (const ChatMessage& m : messages) out += "<|" + m.role + "|>\n" + m.content + "</s>\n";
  // The Zephyr template opens the assistant turn inside its message loop, so only after a message.
  if (gen && !messages.empty()) out += "<|assistant|>\n";
  return out;
}

std::string ChatTemplate::render_gemma(const std::vector<ChatMessage>& messages, bool gen) const {
  const bool has_system = !messages.empty() && messages[0].role == "system";
  const size_t first = has_system ? 1 : 0;
  std::string out = bos_text();
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    check_alternation(name_, m, i, i - first);
    const std::string prefix = (i == first && has_system) ? messages[0].content + "\n\n" : "";
    out += "<start_of_turn>" + std::string(m.role == "assistant" ? "model" : "user") + "\n" + prefix +
           python_strip(m.content) + "<end_of_turn>\n";
  }
  if (has_system && messages.size() == 1)
    throw error_at(kWhere, name_, "a system message must be followed by a user message");
  if (gen) out += "<start_of_turn>model\n";
  return out;
}

std::vector<std::string> ChatTemplate::end_of_turn_texts() const {
  switch (kind_) {
    case ChatTemplateKind::ChatML: return {"<|im_end|>", "<|endoftext|>"};
    case ChatTemplateKind::Llama3: return {"<|eot_id|>", "<|end_of_text|>"};
    case ChatTemplateKind::Llama2: return {"</s>"};
    case ChatTemplateKind::Zephyr: return {"</s>"};
    case ChatTemplateKind::Gemma: return {"<end_of_turn>", "<eos>"};
  }
  return {};
}

std::string ChatTemplate::bos_text() const {
  switch (kind_) {
    case ChatTemplateKind::Llama3: return "<|begin_of_text|>";
    case ChatTemplateKind::Llama2: return "<s>";
    case ChatTemplateKind::Gemma: return "<bos>";
    case ChatTemplateKind::ChatML:
    case ChatTemplateKind::Zephyr: return "";
  }
  return "";
}

}  // namespace isc
