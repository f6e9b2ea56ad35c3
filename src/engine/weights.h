// The model's parameters as libtorch tensors in compute dtype, loaded from a GGUF file or a
// Hugging Face folder. Q/K/V and gate/up are fused at load so a layer needs two big matmuls less.
#pragma once
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "engine/model_config.h"

namespace isc {

class GgufFile;

struct LayerWeights {
  at::Tensor attn_norm;  // [dim] fp32
  at::Tensor wqkv;       // [(n_heads + 2 n_kv_heads) head_dim, dim]
  at::Tensor bqkv;       // [(n_heads + 2 n_kv_heads) head_dim] fp32, undefined without bias
  at::Tensor wo;         // [dim, n_heads head_dim]
  at::Tensor ffn_norm;   // [dim] fp32
  at::Tensor w_gate_up;  // [2 hidden_dim, dim]: gate rows first, then up rows
  at::Tensor w_down;     // [dim, hidden_dim]
};

struct ModelWeights {
  at::Tensor embed;       // [vocab, dim]
  std::vector<LayerWeights> layers;
  at::Tensor out_norm;    // [dim] fp32
  at::Tensor lm_head;     // [vocab, dim] (the embedding itself when tied)
  at::Tensor rope_freq_factors;  // [head_dim/2] fp32, undefined unless the file has them
};

ModelConfig config_from_gguf(const GgufFile& file);
ModelWeights load_weights_gguf(const GgufFile& file, ModelConfig& config, at::ScalarType dtype);

// A Hugging Face folder: config.json + *.safetensors (+ index).
ModelConfig config_from_hf_folder(const std::string& dir);
ModelWeights load_weights_hf_folder(const std::string& dir, ModelConfig& config, at::ScalarType dtype);

}  // namespace isc
