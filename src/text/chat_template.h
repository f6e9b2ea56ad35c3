// Chat templates: turns a conversation into the exact text a model was trained on, for a few named
// families picked from the model's own Jinja template text (we recognise markers, we do not run Jinja).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isc {

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

enum class ChatTemplateKind { ChatML, Llama3, Llama2, Zephyr, Gemma };

// Each family renders byte-identically to the public Hugging Face template it is named after,
// rendered by jinja2 as transformers does. Where a finished assistant message is rendered
// differently from the text the model generated after the generation prompt, a conversation kept
// alive across rounds (KV cache) must account for it:
//   chatml  "<|im_start|>assistant\n" + content + "<|im_end|>\n"  — content verbatim; after the
//           generated "<|im_end|>" the template adds "\n".
//   llama3  "<|start_header_id|>assistant<|end_header_id|>\n\n" + trim(content) + "<|eot_id|>" —
//           content is stripped of surrounding whitespace (Python str.strip).
//   llama2  " " + strip(content) + " </s>" after "[/INST]": the generation prompt is empty, the
//           model produces the leading space itself; a prefill is rendered as " " + prefill; the
//           finished message has a space before "</s>". Every user turn starts with "<s>".
//   mistral (kind Llama2, name "mistral", Mistral-7B-Instruct-v0.1 style) "<s>" once at the start,
//           "[INST] " + content + " [/INST]" + content + "</s>", nothing stripped. A system message
//           is folded into the first user turn as <<SYS>>...<</SYS>> like llama2 (the Mistral
//           template itself rejects system messages).
//   zephyr  "<|assistant|>\n" + content + "</s>\n" — after the generated "</s>" the template adds "\n".
//   gemma   "<start_of_turn>model\n" + trim(content) + "<end_of_turn>\n" — stripped, plus "\n". A
//           system message is prepended to the first user turn followed by "\n\n" (Gemma-3 style;
//           Gemma-1/2 templates reject system messages).
class ChatTemplate {
 public:
  // Detects the family from markers in `tokenizer.chat_template`; also picks up a default system
  // message the template injects when the conversation has none (e.g. SmolLM2, Qwen2.5).
  static ChatTemplate from_model_template(const std::string& template_text);
  // "chatml", "llama3", "llama2", "mistral", "zephyr", "gemma"; no default system message.
  static ChatTemplate named(std::string_view name);

  ChatTemplateKind kind() const { return kind_; }
  std::string name() const { return name_; }
  // The system message inserted before the first message when that is not a system message.
  const std::optional<std::string>& default_system() const { return default_system_; }

  // Text of the whole conversation. add_generation_prompt opens an assistant turn; a non-empty
  // assistant_prefill is appended right after it (the model continues that text) and requires
  // add_generation_prompt. Throws isc::Error on roles the family cannot render.
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                     std::string_view assistant_prefill = {}) const;

  // Texts that end an assistant turn; the engine stops on them. The first is the template's own.
  std::vector<std::string> end_of_turn_texts() const;
  // Text the template itself puts at the very start ("" if none), so callers don't add BOS twice.
  std::string bos_text() const;

 private:
  ChatTemplate(ChatTemplateKind kind, std::string name) : kind_(kind), name_(std::move(name)) {}

  std::string render_chatml(const std::vector<ChatMessage>& messages, bool gen) const;
  std::string render_llama3(const std::vector<ChatMessage>& messages, bool gen) const;
  std::string render_inst(const std::vector<ChatMessage>& messages) const;
  std::string render_zephyr(const std::vector<ChatMessage>& messages, bool gen) const;
  std::string render_gemma(const std::vector<ChatMessage>& messages, bool gen) const;

  ChatTemplateKind kind_;
  std::string name_;
  std::optional<std::string> default_system_;
};

// Python's str.strip() on UTF-8 text (Unicode whitespace), as Jinja's `trim` filter does.
std::string python_strip(std::string_view text);

}  // namespace isc
