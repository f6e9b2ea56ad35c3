// Test tool: scores texts with the offline LinearToxicityScorer (an exported model JSON) and prints
// one score per text (%.17g) or, with --tokens, the tokens the model counts, for the Python checks.
// Input (FILE or stdin): one text per line, or with --jsonl one JSON value per line: a string, or an
// array of byte values 0..255 for text that is not valid UTF-8.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tasks/linear_toxicity_scorer.h"

namespace {

std::string text_of(const std::string& line, size_t lineno, const std::string& where) {
  const std::string at = where + ": line " + std::to_string(lineno);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception&) {
    throw isc::Error(at + ": expected a JSON string or an array of byte values");
  }
  if (j.is_string()) return j.get<std::string>();
  if (!j.is_array()) throw isc::Error(at + ": expected a JSON string or an array of byte values");
  std::string bytes;
  for (const auto& b : j) {
    if (!b.is_number_unsigned() || b.get<unsigned>() > 255) throw isc::Error(at + ": expected byte values 0..255");
    bytes.push_back(static_cast<char>(b.get<unsigned>()));
  }
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, input;
  bool jsonl = false, tokens = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--jsonl") jsonl = true;
    else if (a == "--tokens") tokens = true;
    else if (model.empty() && a.rfind("--", 0) != 0) model = a;
    else if (input.empty() && a.rfind("--", 0) != 0) input = a;
    else {
      std::fprintf(stderr, "usage: score_toxicity MODEL.json [FILE] [--jsonl] [--tokens]\n");
      return 2;
    }
  }
  if (model.empty()) {
    std::fprintf(stderr, "usage: score_toxicity MODEL.json [FILE] [--jsonl] [--tokens]\n");
    return 2;
  }
  try {
    const isc::tasks::LinearToxicityScorer scorer(model);
    std::ifstream file;
    if (!input.empty()) {
      file.open(input, std::ios::binary);
      if (!file) throw isc::Error(input + ": cannot open");
    }
    std::istream& in = input.empty() ? std::cin : file;
    const std::string where = input.empty() ? "stdin" : input;
    std::string line;
    size_t lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      const std::string text = jsonl ? text_of(line, lineno, where) : line;
      if (tokens) std::cout << nlohmann::json(scorer.tokens(text)).dump() << '\n';
      else std::printf("%.17g\n", scorer.score_one(text));
    }
  } catch (const isc::Error& e) {
    std::fprintf(stderr, "score_toxicity: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
