// Causal attention of query rows over per-sequence KV caches, written out so that each row's result
// depends only on its query and its sequence's cached keys/values: fp32 sums in a fixed key order.
#pragma once
#include <cstdint>
#include <vector>

namespace isc::kernels {

// Keys are stored in blocks of this many positions, transposed: [block][head_dim][kKeyBlock].
constexpr int64_t kKeyBlock = 16;

// int8 caches store keys as bytes q + 128 (q in −127..127), head_dim padded to a multiple of 4 with
// q = 0, in quads of dimensions: [capacity/16][dims/4][16 keys][4 dims], the operand order of vpdpbusd.
inline int64_t int8_key_dims(int64_t head_dim) { return (head_dim + 3) / 4 * 4; }
// Byte offset of dimension d of key p within one kv head's int8 keys.
inline int64_t int8_key_offset(int64_t p, int64_t d, int64_t key_dims) {
  return (p / kKeyBlock) * key_dims * kKeyBlock + (d / 4) * kKeyBlock * 4 + (p % kKeyBlock) * 4 + d % 4;
}

// One layer of one sequence's cache, in bf16 (uint16), fp32 or int8: keys [n_kv_heads][capacity/16]
// [head_dim][16] (int8: as above, int8_key_dims(head_dim) a key), values [n_kv_heads][capacity]
// [head_dim]; capacity a multiple of kKeyBlock. int8: key j of kv head g is k_scale[g·capacity + j]
// · q (likewise values). Attention then quantises each query head too, in blocks of kQuantBlock
// dimensions (kernels::quantize_blocks), sums q·k exactly in int32 per block, and scales in fp32:
// score = k_scale · Σ_blocks q_scale · Σ q_int·k_int; values are widened to fp32 and weighted in fp32.
struct KvView {
  const void* k = nullptr;
  const void* v = nullptr;
  int64_t capacity = 0;
  bool bf16 = false;
  bool int8 = false;
  const float* k_scale = nullptr;  // int8 only: [n_kv_heads][capacity]
  const float* v_scale = nullptr;
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
