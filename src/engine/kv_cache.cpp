// KvCache: growth keeps old contents; fork copies only the valid prefix, never the spare capacity.
#include "engine/kv_cache.h"

#include <algorithm>

#include "common/error.h"

namespace isc {

KvCache::KvCache(int64_t n_layers, int64_t n_kv_heads, int64_t head_dim, at::ScalarType dtype,
                 int64_t initial_capacity)
    : n_layers_(n_layers), n_kv_heads_(n_kv_heads), head_dim_(head_dim), dtype_(dtype) {
  reserve(std::max<int64_t>(initial_capacity, 16));
}

size_t KvCache::bytes() const {
  return 2 * static_cast<size_t>(k_.numel()) * k_.element_size();
}

void KvCache::reserve(int64_t n) {
  if (n <= capacity_) return;
  int64_t cap = std::max<int64_t>(capacity_, 16);
  while (cap < n) cap *= 2;
  auto opts = at::TensorOptions().dtype(dtype_);
  at::Tensor k = at::empty({n_layers_, n_kv_heads_, cap, head_dim_}, opts);
  at::Tensor v = at::empty({n_layers_, n_kv_heads_, cap, head_dim_}, opts);
  if (length_ > 0) {
    k.narrow(2, 0, length_).copy_(k_.narrow(2, 0, length_));
    v.narrow(2, 0, length_).copy_(v_.narrow(2, 0, length_));
  }
  k_ = k;
  v_ = v;
  capacity_ = cap;
}

void KvCache::write(int64_t layer, int64_t pos, const at::Tensor& k, const at::Tensor& v) {
  const int64_t len = k.size(0);
  if (pos + len > capacity_) throw Error("KvCache::write past capacity (reserve first)");
  // [len, kv, hd] -> [kv, len, hd]
  k_[layer].narrow(1, pos, len).copy_(k.transpose(0, 1));
  v_[layer].narrow(1, pos, len).copy_(v.transpose(0, 1));
}

at::Tensor KvCache::keys(int64_t layer, int64_t len) const { return k_[layer].narrow(1, 0, len); }
at::Tensor KvCache::values(int64_t layer, int64_t len) const { return v_[layer].narrow(1, 0, len); }

void KvCache::set_length(int64_t n) {
  if (n < 0 || n > capacity_) throw Error("KvCache::set_length out of range");
  length_ = n;
}

KvCache KvCache::fork() const {
  KvCache child(n_layers_, n_kv_heads_, head_dim_, dtype_, length_ + 64);
  if (length_ > 0) {
    child.k_.narrow(2, 0, length_).copy_(k_.narrow(2, 0, length_));
    child.v_.narrow(2, 0, length_).copy_(v_.narrow(2, 0, length_));
  }
  child.length_ = length_;
  return child;
}

}  // namespace isc
