// Units for chat templates: family detection from template text, default-system extraction, and
// the errors for unknown templates, names, roles and misplaced prefills.
#include <gtest/gtest.h>

#include "common/error.h"
#include "text/chat_template.h"

namespace isc {
namespace {

TEST(ChatTemplate, DetectsFamiliesFromMarkers) {
  EXPECT_EQ(ChatTemplate::from_model_template("{{'<|im_start|>' + m}}").kind(), ChatTemplateKind::ChatML);
  EXPECT_EQ(ChatTemplate::from_model_template("{{'<|start_header_id|>'}}").kind(), ChatTemplateKind::Llama3);
  EXPECT_EQ(ChatTemplate::from_model_template("{{'<start_of_turn>'}}").kind(), ChatTemplateKind::Gemma);
  EXPECT_EQ(ChatTemplate::from_model_template("{{'<|user|>\\n'}}").kind(), ChatTemplateKind::Zephyr);
  const ChatTemplate llama2 = ChatTemplate::from_model_template("{{'<<SYS>>\\n'}}{{'[INST] '}}");
  EXPECT_EQ(llama2.kind(), ChatTemplateKind::Llama2);
  EXPECT_EQ(llama2.name(), "llama2");
  const ChatTemplate mistral = ChatTemplate::from_model_template("{{'[INST] ' + c + ' [/INST]'}}");
  EXPECT_EQ(mistral.kind(), ChatTemplateKind::Llama2);
  EXPECT_EQ(mistral.name(), "mistral");
}

TEST(ChatTemplate, UnknownTemplateNamesWhatWasLookedFor) {
  try {
    ChatTemplate::from_model_template("{{ messages[0]['content'] }}");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tokenizer.chat_template"), std::string::npos);
    EXPECT_NE(what.find("<|im_start|>"), std::string::npos);
    EXPECT_NE(what.find("[INST]"), std::string::npos);
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  EXPECT_THROW(ChatTemplate::from_model_template(""), Error);
}

TEST(ChatTemplate, NamedTemplates) {
  EXPECT_EQ(ChatTemplate::named("chatml").name(), "chatml");
  EXPECT_EQ(ChatTemplate::named("gemma").bos_text(), "<bos>");
  EXPECT_EQ(ChatTemplate::named("llama3").bos_text(), "<|begin_of_text|>");
  EXPECT_EQ(ChatTemplate::named("chatml").bos_text(), "");
  EXPECT_EQ(ChatTemplate::named("llama3").end_of_turn_texts().front(), "<|eot_id|>");
  EXPECT_EQ(ChatTemplate::named("chatml").end_of_turn_texts().front(), "<|im_end|>");
  EXPECT_FALSE(ChatTemplate::named("chatml").default_system().has_value());
  EXPECT_THROW(ChatTemplate::named("vicuna"), Error);
  EXPECT_THROW(ChatTemplate::named("ChatML"), Error);
}

TEST(ChatTemplate, ExtractsDefaultSystemFromLiteral) {
  // Real newline in the literal (as SmolLM2's GGUF stores it) and an escaped one (as Qwen2.5 writes it).
  const ChatTemplate a = ChatTemplate::from_model_template(
      "{% if x %}{{ '<|im_start|>system\nYou are SmolLM<|im_end|>\n' }}{% endif %}");
  ASSERT_TRUE(a.default_system().has_value());
  EXPECT_EQ(*a.default_system(), "You are SmolLM");
  const ChatTemplate b = ChatTemplate::from_model_template(
      "{{- \"<|im_start|>system\\nYou are \\\"Q\\\".<|im_end|>\\n\" }}");
  ASSERT_TRUE(b.default_system().has_value());
  EXPECT_EQ(*b.default_system(), "You are \"Q\".");
  // A system marker followed by the message's own content is no default.
  const ChatTemplate c = ChatTemplate::from_model_template(
      "{{ '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}");
  EXPECT_FALSE(c.default_system().has_value());
}

TEST(ChatTemplate, DefaultSystemOnlyWhenNoSystemMessage) {
  const ChatTemplate t = ChatTemplate::from_model_template("{{ '<|im_start|>system\\nD<|im_end|>\\n' }}");
  EXPECT_EQ(t.render({{"user", "u"}}, true),
            "<|im_start|>system\nD<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(t.render({{"system", "S"}, {"user", "u"}}, false),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nu<|im_end|>\n");
}

TEST(ChatTemplate, PrefillFollowsGenerationPrompt) {
  const ChatTemplate t = ChatTemplate::named("chatml");
  EXPECT_EQ(t.render({{"user", "u"}}, true, "The answer is"),
            "<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\nThe answer is");
  EXPECT_THROW(t.render({{"user", "u"}}, false, "The answer is"), Error);
  EXPECT_EQ(ChatTemplate::named("llama2").render({{"user", "u"}}, true, "A"), "<s>[INST] u [/INST] A");
  EXPECT_EQ(ChatTemplate::named("mistral").render({{"user", "u"}}, true, "A"), "<s>[INST] u [/INST]A");
}

TEST(ChatTemplate, RoleErrors) {
  EXPECT_THROW(ChatTemplate::named("chatml").render({{"tool", "x"}}, false), Error);
  EXPECT_THROW(ChatTemplate::named("llama2").render({{"assistant", "x"}}, false), Error);
  EXPECT_THROW(ChatTemplate::named("gemma").render({{"user", "a"}, {"user", "b"}}, false), Error);
  EXPECT_THROW(ChatTemplate::named("gemma").render({{"user", "a"}, {"system", "b"}}, false), Error);
  EXPECT_THROW(ChatTemplate::named("llama2").render({{"system", "s"}}, true), Error);
}

TEST(ChatTemplate, PythonStripMatchesUnicodeWhitespace) {
  EXPECT_EQ(python_strip(" \t\n x y \r\n"), "x y");
  EXPECT_EQ(python_strip("\u00a0\u3000x\u2028\u2029"), "x");
  EXPECT_EQ(python_strip("\u200bx"), "\u200bx");  // zero-width space is not whitespace in Python
  EXPECT_EQ(python_strip("   "), "");
  EXPECT_EQ(python_strip("\xff "), "\xff");  // malformed UTF-8 is kept as is
}

}  // namespace
}  // namespace isc
