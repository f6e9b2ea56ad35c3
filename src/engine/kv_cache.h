// Per-sequence key/value cache that lives across rounds of a conversation, grown by halves,
// forkable by copying. Laid out for the attention kernel (attention.h), so it reads without copies.
#pragma once
#include <cstdint>

#include <ATen/ATen.h>

#include "engine/attention.h"

namespace isc {

class KvCache {
 public:
  KvCache(int64_t n_layers, int64_t n_kv_heads, int64_t head_dim, at::ScalarType dtype,
          int64_t initial_capacity = 256);

  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }
  size_t bytes() const;

  // Makes room for `n` positions in total, keeping the contents.
  void reserve(int64_t n);
  // Writes the keys and values of positions [pos, pos+len) of one layer from fp32 rows: k and v of
  // row i start at k + i·ld (n_kv_heads·head_dim values), rounded to the cache's dtype. int8 (kChar):
  // each (position, kv head) key and value vector is quantised on its own, q = round_even(x·127/max|x|)
  // with one fp32 scale max|x|/127, so what is stored for a row never depends on other rows.
  void write_rows(int64_t layer, int64_t pos, int64_t len, const float* k, const float* v, int64_t ld);
  // Raw view of one layer for the attention kernel (valid until the next reserve()).
  kernels::KvView view(int64_t layer) const;
  // Key / value of one position and head as fp32, dequantised (q·scale) for int8 (tests, debugging).
  void read(int64_t layer, int64_t kv_head, int64_t pos, float* key, float* value) const;
  // Marks positions [0, n) valid (after all layers of a step were written) or drops the tail.
  void set_length(int64_t n);
  // An independent copy of the first `length` valid positions (-1 = all): a child that continues
  // from that state. Only those positions are copied, never the tail or the spare capacity.
  KvCache fork(int64_t length = -1) const;

 private:
  int64_t n_layers_, n_kv_heads_, head_dim_;
  int64_t key_dims() const { return dtype_ == at::kChar ? kernels::int8_key_dims(head_dim_) : head_dim_; }
  at::ScalarType dtype_;  // kFloat, kBFloat16 or kChar (int8 with per-vector scales)
  int64_t length_ = 0;
  int64_t capacity_ = 0;
  // keys [n_layers, n_kv_heads, capacity/16, head_dim, 16] (16 positions side by side per dimension;
  // int8: key_dims() and the quad order of attention.h),
  // values [n_layers, n_kv_heads, capacity, head_dim]; capacity is a multiple of 16
  at::Tensor k_, v_;
  // int8 only: fp32 scales of keys and values, [n_layers, n_kv_heads, capacity]
  at::Tensor k_scale_, v_scale_;
};

}  // namespace isc
