// KvCache: growth keeps old contents; fork copies only the valid prefix, never the spare capacity.
// Keys are stored in blocks of 16 positions transposed, so one vector load holds 16 keys' values of
// one dimension; values stay one row per position.
#include "engine/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/core.h>

#include "common/error.h"
#include "engine/kernels/kernels.h"

namespace isc {

namespace {
constexpr int64_t kBlock = kernels::kKeyBlock;
int64_t blocks_for(int64_t positions) { return (positions + kBlock - 1) / kBlock; }

// Symmetric int8 of one vector: q = round_even(x · 127/max|x|), returns the scale max|x|/127 (0 for zeros).
float quantize_vector(const float* x, int64_t n, int8_t* q) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  // |x·inv| ≤ 127: adding and removing 1.5·2^23 rounds to nearest even, as nearbyint, but vectorises
  constexpr float kRound = 12582912.0f;
  for (int64_t i = 0; i < n; ++i) q[i] = static_cast<int8_t>((x[i] * inv + kRound) - kRound);
  return amax / 127.0f;
}
}  // namespace

KvCache::KvCache(int64_t n_layers, int64_t n_kv_heads, int64_t head_dim, at::ScalarType dtype,
                 int64_t initial_capacity)
    : n_layers_(n_layers), n_kv_heads_(n_kv_heads), head_dim_(head_dim), dtype_(dtype) {
  if (dtype != at::kFloat && dtype != at::kBFloat16 && dtype != at::kChar)
    throw Error("KvCache: dtype must be fp32, bf16 or int8");
  reserve(std::max<int64_t>(initial_capacity, kBlock));
}

size_t KvCache::bytes() const {
  size_t n = k_.nbytes() + v_.nbytes();
  if (k_scale_.defined()) n += k_scale_.nbytes() + v_scale_.nbytes();
  return n;
}

void KvCache::reserve(int64_t n) {
  if (n <= capacity_) return;
  // grow by half, not double: copies stay amortised O(1) a position, and a 300-token conversation
  // at batch 64 holds 384 positions a sequence instead of 512 (a quarter less KV memory)
  int64_t cap = std::max<int64_t>(capacity_, kBlock);
  while (cap < n) cap = blocks_for(cap + cap / 2) * kBlock;
  auto opts = at::TensorOptions().dtype(dtype_);
  at::Tensor k = at::empty({n_layers_, n_kv_heads_, cap / kBlock, key_dims(), kBlock}, opts);
  at::Tensor v = at::empty({n_layers_, n_kv_heads_, cap, head_dim_}, opts);
  at::Tensor ks, vs;
  if (dtype_ == at::kChar) {
    ks = at::empty({n_layers_, n_kv_heads_, cap}, at::kFloat);
    vs = at::empty({n_layers_, n_kv_heads_, cap}, at::kFloat);
  }
  if (length_ > 0) {
    k.narrow(2, 0, blocks_for(length_)).copy_(k_.narrow(2, 0, blocks_for(length_)));
    v.narrow(2, 0, length_).copy_(v_.narrow(2, 0, length_));
    if (ks.defined()) {
      ks.narrow(2, 0, length_).copy_(k_scale_.narrow(2, 0, length_));
      vs.narrow(2, 0, length_).copy_(v_scale_.narrow(2, 0, length_));
    }
  }
  k_ = k;
  v_ = v;
  k_scale_ = ks;
  v_scale_ = vs;
  capacity_ = cap;
}

void KvCache::write_rows(int64_t layer, int64_t pos, int64_t len, const float* k, const float* v, int64_t ld) {
  if (layer < 0 || layer >= n_layers_ || pos < 0 || pos + len > capacity_)
    throw Error(fmt::format("KvCache::write_rows: layer {} positions [{}, {}) outside the cache (capacity {})", layer,
                            pos, pos + len, capacity_));
  const int64_t hd = head_dim_, layer_elems = n_kv_heads_ * capacity_ * hd, kd = key_dims();
  const bool bf16 = dtype_ == at::kBFloat16, i8 = dtype_ == at::kChar;
  std::vector<int8_t> qk(i8 ? hd : 0), qv(i8 ? hd : 0);
  char* kb = static_cast<char*>(k_.data_ptr());
  char* vb = static_cast<char*>(v_.data_ptr());
  const size_t es = k_.element_size();
  for (int64_t i = 0; i < len; ++i) {
    const int64_t p = pos + i;
    for (int64_t h = 0; h < n_kv_heads_; ++h) {
      const int64_t head0 = layer * layer_elems + h * capacity_ * hd;
      const float* ks = k + i * ld + h * hd;
      const float* vs = v + i * ld + h * hd;
      const int64_t kbase = head0 + (p / kBlock) * hd * kBlock + p % kBlock;  // + d·16
      if (i8) {
        const int64_t si = (layer * n_kv_heads_ + h) * capacity_ + p;
        k_scale_.data_ptr<float>()[si] = quantize_vector(ks, hd, qk.data());
        v_scale_.data_ptr<float>()[si] = quantize_vector(vs, hd, qv.data());
        uint8_t* kh = reinterpret_cast<uint8_t*>(kb) + (layer * n_kv_heads_ + h) * capacity_ * kd;
        for (int64_t d = 0; d < kd; ++d)
          kh[kernels::int8_key_offset(p, d, kd)] = static_cast<uint8_t>((d < hd ? qk[d] : 0) + 128);
        std::copy(qv.begin(), qv.end(), reinterpret_cast<int8_t*>(vb) + head0 + p * hd);
        continue;
      }
      for (int64_t d = 0; d < hd; ++d) {
        const int64_t at = kbase + d * kBlock;
        if (bf16) reinterpret_cast<uint16_t*>(kb)[at] = kernels::to_bf16(ks[d]);
        else reinterpret_cast<float*>(kb)[at] = ks[d];
      }
      char* vdst = vb + (head0 + p * hd) * es;
      if (bf16) kernels::to_bf16(vs, hd, reinterpret_cast<uint16_t*>(vdst));
      else std::copy(vs, vs + hd, reinterpret_cast<float*>(vdst));
    }
  }
}

kernels::KvView KvCache::view(int64_t layer) const {
  const int64_t layer_elems = n_kv_heads_ * capacity_ * head_dim_;
  const size_t es = k_.element_size();
  kernels::KvView view{static_cast<const char*>(k_.data_ptr()) + layer * n_kv_heads_ * capacity_ * key_dims() * es,
                       static_cast<const char*>(v_.data_ptr()) + layer * layer_elems * es, capacity_,
                       dtype_ == at::kBFloat16};
  if (dtype_ == at::kChar) {
    view.int8 = true;
    view.k_scale = k_scale_.data_ptr<float>() + layer * n_kv_heads_ * capacity_;
    view.v_scale = v_scale_.data_ptr<float>() + layer * n_kv_heads_ * capacity_;
  }
  return view;
}

void KvCache::read(int64_t layer, int64_t kv_head, int64_t pos, float* key, float* value) const {
  if (pos < 0 || pos >= capacity_) throw Error(fmt::format("KvCache::read: position {} outside the cache", pos));
  const int64_t hd = head_dim_, head0 = layer * n_kv_heads_ * capacity_ * hd + kv_head * capacity_ * hd;
  for (int64_t d = 0; d < hd; ++d) {
    const int64_t kat = head0 + (pos / kBlock) * hd * kBlock + d * kBlock + pos % kBlock, vat = head0 + pos * hd + d;
    if (dtype_ == at::kChar) {
      const int64_t si = (layer * n_kv_heads_ + kv_head) * capacity_ + pos;
      const int64_t kd = key_dims(), kh = (layer * n_kv_heads_ + kv_head) * capacity_ * kd;
      const int q = reinterpret_cast<const uint8_t*>(k_.data_ptr())[kh + kernels::int8_key_offset(pos, d, kd)] - 128;
      key[d] = static_cast<float>(q) * k_scale_.data_ptr<float>()[si];
      value[d] = static_cast<float>(reinterpret_cast<const int8_t*>(v_.data_ptr())[vat]) * v_scale_.data_ptr<float>()[si];
    } else if (dtype_ == at::kBFloat16) {
      key[d] = kernels::from_bf16(reinterpret_cast<const uint16_t*>(k_.data_ptr())[kat]);
      value[d] = kernels::from_bf16(reinterpret_cast<const uint16_t*>(v_.data_ptr())[vat]);
    } else {
      key[d] = k_.data_ptr<float>()[kat];
      value[d] = v_.data_ptr<float>()[vat];
    }
  }
}

void KvCache::set_length(int64_t n) {
  if (n < 0 || n > capacity_) throw Error("KvCache::set_length out of range");
  length_ = n;
}

KvCache KvCache::fork(int64_t length) const {
  if (length < 0) length = length_;
  if (length > length_) throw Error(fmt::format("KvCache::fork: {} positions asked, {} valid", length, length_));
  KvCache child(n_layers_, n_kv_heads_, head_dim_, dtype_, length + 64);
  if (length > 0) {
    // whole key blocks are copied; positions past `length` in the last block are beyond the
    // child's length, so attention never reads them
    child.k_.narrow(2, 0, blocks_for(length)).copy_(k_.narrow(2, 0, blocks_for(length)));
    child.v_.narrow(2, 0, length).copy_(v_.narrow(2, 0, length));
    if (k_scale_.defined()) {
      child.k_scale_.narrow(2, 0, length).copy_(k_scale_.narrow(2, 0, length));
      child.v_scale_.narrow(2, 0, length).copy_(v_scale_.narrow(2, 0, length));
    }
  }
  child.length_ = length;
  return child;
}

}  // namespace isc
