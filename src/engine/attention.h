// Causal attention of query rows over per-sequence KV caches, written out so that each row's result
// depends only on its query and its sequence's cached keys/values: fp32 sums in a fixed key order.
#pragma once
#include <cstdint>
#include <vector>

namespace isc::kernels {

// Keys are stored in blocks of this many positions, transposed: [block][head_dim][kKeyBlock].
constexpr int64_t kKeyBlock = 16;

// One layer of one sequence's cache, in bf16 (uint16) or fp32: keys [n_kv_heads][capacity/16]
// [head_dim][16], values [n_kv_heads][capacity][head_dim]; capacity a multiple of kKeyBlock.
struct KvView {
  const void* k = nullptr;
  const void* v = nullptr;
  int64_t capacity = 0;
  bool bf16 = false;
};

// `len` query rows of one sequence, rows [row0, row0+len) of q and out, at positions [pos0, pos0+len);
// the cache already holds their keys, so row i sees keys [0, pos0+i].
struct AttentionSpan {
  KvView kv;
  int64_t row0 = 0, len = 0, pos0 = 0;
};

struct AttentionShape {
  int64_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
  float scale = 1.0f;  // applied to q·k
};

// out[row, h·hd + d] = Σ_j softmax_j(scale · q[row, h]·k_j) v_j[d]; threaded over rows × kv heads.
void attention(const float* q, int64_t ldq, const std::vector<AttentionSpan>& spans, const AttentionShape& shape,
               float* out, int64_t ldo);

}  // namespace isc::kernels
