// Hyper-parameters of a Llama-family decoder, read from GGUF metadata or a Hugging Face
// config.json; everything the forward pass needs to know about a model's shape.
#pragma once
#include <cstdint>
#include <string>

namespace isc {

struct RopeScaling {
  std::string type;              // "" (none), "linear", "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0;  // llama3 only
  double high_freq_factor = 4.0; // llama3 only
  int64_t original_context = 8192;
};

struct ModelConfig {
  std::string architecture;      // "llama", "qwen2", "mistral"
  int64_t n_layers = 0;
  int64_t dim = 0;               // hidden size
  int64_t hidden_dim = 0;        // feed-forward size
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t vocab_size = 0;
  int64_t context_length = 0;
  double norm_eps = 1e-5;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tied_embeddings = false;
  bool qkv_bias = false;         // Qwen2
  int64_t n_params = 0;          // filled by the weight loader
};

}  // namespace isc
