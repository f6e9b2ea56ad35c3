// The tokenizer: byte-level BPE (GPT-2 / Llama-3 / SmolLM / Qwen style) and SentencePiece-style
// BPE (byte fallback, or llama.cpp's score-ordered merges), loaded from GGUF tokenizer.ggml.*
// metadata or a Hugging Face tokenizer.json. Torch-free; encode/decode round-trip bytes exactly.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace isc {

class GgufFile;

class Tokenizer {
 public:
  // tokenizer.ggml.* metadata: model "gpt2" (byte-level BPE, pre-tokenizer by tokenizer.ggml.pre)
  // or "llama" (SentencePiece: score-ordered merges, <0xXX> byte fallback).
  static Tokenizer from_gguf(const GgufFile& f);
  // A Hugging Face tokenizer.json (model BPE); a tokenizer_config.json / config.json beside it
  // supplies the chat template, BOS/EOS and add_bos when present.
  static Tokenizer from_json_file(const std::string& path);
  // Same from JSON text; `name` stands for the path in error messages.
  static Tokenizer from_json_text(const std::string& json_text, const std::string& name);

  // Never adds BOS. With parse_special, special token texts in the input become their ids;
  // non-special added tokens are always recognised (as in HF tokenizers).
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;
  std::string decode(std::span<const int32_t> ids) const;
  std::string token_bytes(int32_t id) const;  // raw bytes of one token; special tokens: their text
  std::string token_text(int32_t id) const;   // the vocabulary entry as stored (e.g. "Ġthe", "▁the")
  int32_t vocab_size() const;
  std::optional<int32_t> find_token(std::string_view token_text) const;
  int32_t bos_id() const;  // -1 when absent
  int32_t eos_id() const;
  bool add_bos() const;
  bool is_special(int32_t id) const;
  const std::string& chat_template() const;

  struct Data;

 private:
  explicit Tokenizer(std::shared_ptr<const Data> d) : d_(std::move(d)) {}
  std::shared_ptr<const Data> d_;
};

}  // namespace isc
