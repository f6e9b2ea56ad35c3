// The decoder forward pass of the Llama family (RMSNorm, rotate-half RoPE, GQA, SwiGLU; Qwen2's
// qkv bias) over a batch of sequence chunks, each continuing its own KvCache. Batch-invariant: a
// row's logits are bit-identical whatever else is in the batch and however its prompt was chunked.
#pragma once
#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

#include "engine/kv_cache.h"
#include "formats/model_config.h"
#include "engine/steering.h"
#include "engine/weights.h"

namespace isc {

// `len` consecutive tokens of one sequence, rows [row0, row0+len) of the batch, at positions
// [cache->length(), +len). The cache is extended by the forward pass.
struct SequenceChunk {
  KvCache* cache = nullptr;
  int64_t row0 = 0;
  int64_t len = 0;
};

struct HiddenCapture {
  int64_t row = 0;
  int layer = 0;  // 0 = token embeddings, l = output of block l (1..n_layers)
};

struct ForwardRequest {
  std::vector<int32_t> tokens;         // all chunks' tokens, concatenated
  std::vector<SequenceChunk> chunks;
  std::vector<int64_t> logit_rows;     // rows whose next-token logits are wanted
  std::vector<HiddenCapture> hidden;   // residual-stream snapshots wanted
  // Empty, or one entry per row: the steering set added to that row's residual stream after each
  // of its layers (nullptr = none). Per row, so steering keeps the pass batch-invariant.
  std::vector<const Steering*> row_steering;
};

struct ForwardResult {
  at::Tensor logits;               // [logit_rows.size(), vocab] fp32
  std::vector<at::Tensor> hidden;  // one [dim] fp32 tensor per HiddenCapture
};

class Model {
 public:
  // cache_dtype: kFloat, kBFloat16 or kChar (int8 KV cache); kUndefined = fp32 for fp32 weights, else bf16.
  Model(ModelConfig config, ModelWeights weights, at::ScalarType dtype, at::ScalarType cache_dtype = at::ScalarType::Undefined);

  const ModelConfig& config() const { return config_; }
  at::ScalarType dtype() const { return dtype_; }    // of the weights: kFloat, kBFloat16 or kChar
  at::ScalarType cache_dtype() const { return cache_dtype_; }  // of the KV cache: kFloat, kBFloat16 or kChar
  KvCache new_cache(int64_t capacity = 256) const;
  size_t weight_bytes() const;

  ForwardResult forward(const ForwardRequest& request) const;

 private:
  ModelConfig config_;
  ModelWeights w_;
  at::ScalarType dtype_;
  at::ScalarType cache_dtype_;
  std::vector<float> inv_freq_;  // [head_dim/2], scaling applied
};

}  // namespace isc
