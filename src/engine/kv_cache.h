// Per-sequence key/value cache that lives across rounds of a conversation: one contiguous block
// per layer laid out [kv_head][position][head_dim], grown by doubling, forkable by copying.
#pragma once
#include <cstdint>

#include <ATen/ATen.h>

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
  // Writes keys/values [len, n_kv_heads, head_dim] for positions [pos, pos+len) of one layer.
  void write(int64_t layer, int64_t pos, const at::Tensor& k, const at::Tensor& v);
  // Views [n_kv_heads, len, head_dim] of the first `len` positions of a layer.
  at::Tensor keys(int64_t layer, int64_t len) const;
  at::Tensor values(int64_t layer, int64_t len) const;
  // Marks positions [0, n) valid (after all layers of a step were written) or drops the tail.
  void set_length(int64_t n);
  // An independent copy of the valid prefix: a child that continues from this state.
  KvCache fork() const;

 private:
  int64_t n_layers_, n_kv_heads_, head_dim_;
  at::ScalarType dtype_;
  int64_t length_ = 0;
  int64_t capacity_ = 0;
  at::Tensor k_, v_;  // [n_layers, n_kv_heads, capacity, head_dim]
};

}  // namespace isc
