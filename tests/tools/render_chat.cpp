// Test tool: renders a conversation with a chat template and prints the exact text, so the Python
// cross-check can compare it byte for byte with jinja2's rendering of the model's own template.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "text/chat_template.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw isc::error_at(path, "", "cannot open file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<isc::ChatMessage> read_messages(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw isc::error_at(path, "byte " + std::to_string(e.byte), "invalid JSON");
  }
  if (!j.is_array()) throw isc::error_at(path, "", "expected a JSON array of {role, content}");
  std::vector<isc::ChatMessage> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& m = j[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
        !m["content"].is_string())
      throw isc::error_at(path, "message " + std::to_string(i), "expected {\"role\": str, \"content\": str}");
    out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return out;
}

int usage() {
  std::cerr << "usage: render_chat (--template-file F | --name N) --messages msgs.json "
               "[--generation-prompt] [--prefill TEXT]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string template_file, name, messages_file, prefill;
  bool generation_prompt = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--template-file" && has_value) template_file = argv[++i];
    else if (a == "--name" && has_value) name = argv[++i];
    else if (a == "--messages" && has_value) messages_file = argv[++i];
    else if (a == "--prefill" && has_value) prefill = argv[++i];
    else if (a == "--generation-prompt") generation_prompt = true;
    else return usage();
  }
  if (messages_file.empty() || template_file.empty() == name.empty()) return usage();
  try {
    const isc::ChatTemplate t = name.empty() ? isc::ChatTemplate::from_model_template(read_file(template_file))
                                             : isc::ChatTemplate::named(name);
    const std::string text = t.render(read_messages(messages_file), generation_prompt, prefill);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  } catch (const isc::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
