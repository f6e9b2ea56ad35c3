// `isc tokenize MODEL [TEXT] [--file LINES]`: prints the token ids of a text (or of each line of a
// file) for a GGUF model or a Hugging Face tokenizer.json / model folder, to inspect prompts.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/error.h"
#include "formats/gguf.h"
#include "text/tokenizer.h"

namespace isc::cli {

namespace {

struct TokenizeOptions {
  std::string model;
  std::string text;
  std::string file;
  bool json = false;
  bool no_special = false;
  bool show_pieces = false;
};

// MODEL is a .gguf file, a tokenizer.json, or a folder holding tokenizer.json.
Tokenizer load_tokenizer(const std::string& model) {
  namespace fs = std::filesystem;
  const fs::path p(model);
  if (!fs::exists(p)) throw Error(model + ": no such file or folder");
  if (fs::is_directory(p)) {
    const fs::path json = p / "tokenizer.json";
    if (!fs::exists(json)) throw Error(model + ": folder has no tokenizer.json");
    return Tokenizer::from_json_file(json.string());
  }
  if (p.extension() == ".gguf") return Tokenizer::from_gguf(GgufFile::open(model));
  if (p.extension() == ".json") return Tokenizer::from_json_file(model);
  throw Error(model + ": expected a .gguf file, a tokenizer.json or a model folder");
}

void print_ids(const Tokenizer& tok, const std::string& text, const TokenizeOptions& o) {
  const auto ids = tok.encode(text, !o.no_special);
  if (o.json) {
    nlohmann::json out = nlohmann::json::array();
    for (int32_t id : ids) {
      if (o.show_pieces) out.push_back({{"id", id}, {"piece", tok.token_text(id)}, {"special", tok.is_special(id)}});
      else out.push_back(id);
    }
    // pieces of byte-level vocabularies are valid UTF-8; replace anything else rather than fail
    fmt::print("{}\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  if (o.show_pieces) {
    for (int32_t id : ids) fmt::print("{}\t{}\n", id, nlohmann::json(tok.token_text(id)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
  fmt::print("{}\n", line);
}

void run_tokenize(const TokenizeOptions& o) {
  if (o.text.empty() == o.file.empty()) throw Error("tokenize: give either TEXT or --file (not both)");
  const Tokenizer tok = load_tokenizer(o.model);
  if (!o.file.empty()) {
    std::unique_ptr<std::ifstream> owned;
    std::istream* in = &std::cin;
    if (o.file != "-") {
      owned = std::make_unique<std::ifstream>(o.file, std::ios::binary);
      if (!*owned) throw Error(o.file + ": cannot open");
      in = owned.get();
    }
    std::string line;
    while (std::getline(*in, line)) print_ids(tok, line, o);
    return;
  }
  print_ids(tok, o.text, o);
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto opts = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "print the token ids of a text for a model's tokenizer");
  cmd->add_option("model", opts->model, "GGUF file, tokenizer.json, or Hugging Face model folder")->required();
  cmd->add_option("text", opts->text, "text to tokenize");
  cmd->add_option("--file", opts->file, "tokenize each line of this file ('-' for stdin)");
  cmd->add_flag("--json", opts->json, "print a JSON array per text/line");
  cmd->add_flag("--no-special", opts->no_special, "treat special-token texts like <|im_start|> as plain text");
  cmd->add_flag("--show-pieces", opts->show_pieces, "print each token's vocabulary piece with its id");
  cmd->callback([opts] { run_tokenize(*opts); });
}

}  // namespace isc::cli
