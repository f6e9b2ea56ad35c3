// libFuzzer target: family detection on arbitrary template text, then rendering fuzzed messages.
// Input: byte 0 = flags, then NUL-separated: template text, prefill, then messages (first byte = role).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "text/chat_template.h"

namespace fuzz_chat_template {

std::vector<std::string_view> split_nul(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == '\0') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

isc::ChatTemplate pick(std::string_view template_text, uint8_t flags) {
  try {
    return isc::ChatTemplate::from_model_template(std::string(template_text));
  } catch (const isc::Error&) {
    static const char* const kNames[] = {"chatml", "llama3", "llama2", "mistral", "zephyr", "gemma"};
    return isc::ChatTemplate::named(kNames[flags % 6]);
  }
}

}  // namespace fuzz_chat_template

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fuzz_chat_template;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const auto parts = split_nul(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  const isc::ChatTemplate t = pick(parts[0], flags);
  const std::string_view prefill = parts.size() > 1 ? parts[1] : std::string_view();
  std::vector<isc::ChatMessage> messages;
  static const char* const kRoles[] = {"system", "user", "assistant"};
  for (size_t i = 2; i < parts.size(); ++i) {
    const std::string_view p = parts[i];
    const uint8_t r = p.empty() ? 1 : static_cast<uint8_t>(p[0]) % 4;
    const std::string_view content = p.empty() ? p : p.substr(1);
    if (r < 3) messages.push_back({kRoles[r], std::string(content)});
    else messages.push_back({std::string(content.substr(0, content.size() / 2)), std::string(content.substr(content.size() / 2))});
  }
  const bool gen = (flags & 0x40) != 0;
  try {
    const std::string out = t.render(messages, gen, prefill);
    if (!prefill.empty() && out.size() < prefill.size()) std::abort();
  } catch (const isc::Error&) {
    // a role or order the family cannot render
  }
  if (t.end_of_turn_texts().empty()) std::abort();
  (void)t.bos_text();
  for (const auto& m : messages) {
    const std::string s = isc::python_strip(m.content);
    if (s.size() > m.content.size() || m.content.find(s) == std::string::npos) std::abort();
  }
  return 0;
}
