// Test tool: tokenises each stdin line with isc::Tokenizer and prints one JSON array of ids per
// line, so the Python cross-checks can compare thousands of lines against HF tokenizers in one run.
// Lines are JSON strings (so they may hold newlines, tabs, \r); --decode prints decode(encode(x)).
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "formats/gguf.h"
#include "text/tokenizer.h"

int main(int argc, char** argv) {
  std::string gguf, json_path;
  bool parse_special = true, decode = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--gguf" && i + 1 < argc) gguf = argv[++i];
    else if (a == "--json" && i + 1 < argc) json_path = argv[++i];
    else if (a == "--no-special") parse_special = false;
    else if (a == "--decode") decode = true;
    else {
      std::fprintf(stderr, "usage: tokenize_lines (--gguf FILE | --json tokenizer.json) [--no-special] [--decode] < json-string-lines\n");
      return 2;
    }
  }
  try {
    if (gguf.empty() == json_path.empty()) throw isc::Error("give exactly one of --gguf or --json");
    isc::Tokenizer tok = gguf.empty() ? isc::Tokenizer::from_json_file(json_path)
                                      : isc::Tokenizer::from_gguf(isc::GgufFile::open(gguf));
    std::string line;
    size_t lineno = 0;
    while (std::getline(std::cin, line)) {
      ++lineno;
      nlohmann::json in;
      try {
        in = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        throw isc::Error("stdin: line " + std::to_string(lineno) + ": expected a JSON string");
      }
      if (!in.is_string()) throw isc::Error("stdin: line " + std::to_string(lineno) + ": expected a JSON string");
      const std::string text = in.get<std::string>();
      const auto ids = tok.encode(text, parse_special);
      if (decode) {
        // invalid UTF-8 would break the JSON dump: report bytes as a list of numbers
        std::string back = tok.decode(ids);
        nlohmann::json bytes = nlohmann::json::array();
        for (unsigned char c : back) bytes.push_back(int(c));
        std::cout << bytes.dump() << '\n';
      } else {
        std::cout << nlohmann::json(ids).dump() << '\n';
      }
    }
  } catch (const isc::Error& e) {
    std::fprintf(stderr, "tokenize_lines: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
