// The model's parameters, loaded from a GGUF file or a Hugging Face folder: matrices packed for the
// kernels (kernels.h) in the weight type, norms and biases fp32. Q/K/V and gate/up are fused at load.
#pragma once
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "engine/kernels/kernels.h"
#include "formats/model_config.h"

namespace isc {

class GgufFile;

struct LayerWeights {
  at::Tensor attn_norm;            // [dim] fp32
  kernels::PackedMatrix wqkv;      // [(n_heads + 2 n_kv_heads) head_dim, dim]
  at::Tensor bqkv;                 // [(n_heads + 2 n_kv_heads) head_dim] fp32, undefined without bias
  kernels::PackedMatrix wo;        // [dim, n_heads head_dim]
  at::Tensor ffn_norm;             // [dim] fp32
  kernels::PackedMatrix w_gate_up; // [2 hidden_dim, dim]: gate rows first, then up rows
  kernels::PackedMatrix w_down;    // [dim, hidden_dim]
};

struct ModelWeights {
  kernels::PackedMatrix embed;     // [vocab, dim]; rows are looked up with unpack_row
  std::vector<LayerWeights> layers;
  at::Tensor out_norm;             // [dim] fp32
  kernels::PackedMatrix lm_head;   // [vocab, dim]; empty when tied to the embedding
  at::Tensor rope_freq_factors;    // [head_dim/2] fp32, undefined unless the file has them

  const kernels::PackedMatrix& head() const { return lm_head.empty() ? embed : lm_head; }
};

// The packed format of a compute dtype: fp32 → F32, bf16 → BF16, int8 (at::kChar) → I8.
kernels::WeightType weight_type_for(at::ScalarType dtype);

ModelConfig config_from_gguf(const GgufFile& file);
ModelWeights load_weights_gguf(const GgufFile& file, ModelConfig& config, at::ScalarType dtype);

// A Hugging Face folder: config.json + *.safetensors (+ index).
ModelConfig config_from_hf_folder(const std::string& dir);
ModelWeights load_weights_hf_folder(const std::string& dir, ModelConfig& config, at::ScalarType dtype);

}  // namespace isc
