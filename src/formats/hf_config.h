// The architecture fields of a Hugging Face config.json that the Llama-family forward pass needs,
// parsed strictly: a missing required field or a wrong type is an error naming the file and field.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isc {

// config.json "rope_scaling" (null when absent). Fields a given scheme does not use stay unset.
struct HfRopeScaling {
  std::string type;  // "rope_type" or the older "type": "linear", "dynamic", "llama3", "yarn", ...
  std::optional<double> factor;
  std::optional<double> low_freq_factor;
  std::optional<double> high_freq_factor;
  std::optional<int64_t> original_max_position_embeddings;
};

struct HfConfig {
  std::string model_type;                 // "llama", "qwen2", "mistral", "gemma", ...
  std::vector<std::string> architectures;  // e.g. "LlamaForCausalLM"; may be empty
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // absent: = num_attention_heads (multi-head attention)
  int64_t head_dim = 0;             // absent or null: hidden_size / num_attention_heads
  bool head_dim_given = false;      // whether config.json set head_dim explicitly
  double rms_norm_eps = 0;
  double rope_theta = 10000.0;      // absent: 10000, the transformers default for these models
  std::optional<HfRopeScaling> rope_scaling;
  int64_t max_position_embeddings = 0;
  int64_t vocab_size = 0;
  bool tie_word_embeddings = false;  // absent: true for gemma, false otherwise (transformers defaults)
  bool attention_bias = false;       // biases on q/k/v projections (always on for qwen2)
  bool attention_out_bias = false;   // bias on the output projection (llama's attention_bias; off for qwen2)
  std::string hidden_act = "silu";   // "hidden_act" or gemma's "hidden_activation"
  std::vector<int64_t> bos_token_ids;  // int or list in config.json; empty when absent or null
  std::vector<int64_t> eos_token_ids;

  // `source` names the file in error messages.
  static HfConfig parse(std::string_view json_text, const std::string& source);
  // Reads `path`, which is config.json itself or a folder holding it.
  static HfConfig load(const std::filesystem::path& path);
};

}  // namespace isc
