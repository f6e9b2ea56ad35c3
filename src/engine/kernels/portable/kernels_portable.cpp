// The portable kernels: plain loops, per output element k runs in increasing order with one
// accumulator; the reference every instruction-set path is tested against.
#include "engine/kernels/portable/kernels_portable.h"

#include <algorithm>
#include <cmath>

namespace isc::kernels::portable {

void linear_f32(const float* x, int64_t m, int64_t ldx, const PackedMatrix& w, int64_t p0,
                         int64_t p1, float* y, int64_t ldy, bool accumulate) {
  const float* wd = static_cast<const float*>(w.data());
  const int64_t kp = w.k_padded();
  for (int64_t p = p0; p < p1; ++p) {
    const float* panel = wd + p * kp * 16;
    const int64_t cols = std::min<int64_t>(16, w.n() - p * 16);
    for (int64_t i = 0; i < m; ++i) {
      float acc[16] = {};
      for (int64_t k = 0; k < kp; ++k) {
        const float xv = x[i * ldx + k];
        for (int c = 0; c < 16; ++c) acc[c] += xv * panel[k * 16 + c];
      }
      float* dst = y + i * ldy + p * 16;
      for (int64_t c = 0; c < cols; ++c) dst[c] = accumulate ? dst[c] + acc[c] : acc[c];
    }
  }
}

void linear_bf16(const uint16_t* x, int64_t m, int64_t ldx, const PackedMatrix& w, int64_t p0,
                          int64_t p1, float* y, int64_t ldy, bool accumulate) {
  const uint16_t* wd = static_cast<const uint16_t*>(w.data());
  const int64_t kp = w.k_padded();
  for (int64_t p = p0; p < p1; ++p) {
    const uint16_t* panel = wd + p * kp * 16;
    const int64_t cols = std::min<int64_t>(16, w.n() - p * 16);
    for (int64_t i = 0; i < m; ++i) {
      float acc[16] = {};
      for (int64_t kk = 0; kk < kp / 2; ++kk) {
        const float x0 = from_bf16(x[i * ldx + 2 * kk]), x1 = from_bf16(x[i * ldx + 2 * kk + 1]);
        for (int c = 0; c < 16; ++c) {
          const uint16_t* pair = panel + kk * 32 + c * 2;
          acc[c] += x0 * from_bf16(pair[0]) + x1 * from_bf16(pair[1]);
        }
      }
      float* dst = y + i * ldy + p * 16;
      for (int64_t c = 0; c < cols; ++c) dst[c] = accumulate ? dst[c] + acc[c] : acc[c];
    }
  }
}

// Per activation block: exact int32 Σ x·(q + 128), minus 128·Σx, then the same fp32 steps as the
// VNNI tile: acc = fma(float(block), x_block_scale, acc) in block order, y = acc · w_scale.
void linear_i8(const int8_t* x, const float* xs, const int32_t* xsum, int64_t m, int64_t ldx, int64_t ldb,
                        const PackedMatrix& w, int64_t p0, int64_t p1, float* y, int64_t ldy, bool accumulate) {
  const uint8_t* wd = static_cast<const uint8_t*>(w.data());
  const int64_t kp = w.k_padded();
  for (int64_t p = p0; p < p1; ++p) {
    const uint8_t* panel = wd + p * kp * 16;
    const int64_t cols = std::min<int64_t>(16, w.n() - p * 16);
    for (int64_t i = 0; i < m; ++i) {
      float acc[16] = {};
      for (int64_t b = 0; b < kp / kQuantBlock; ++b) {
        int32_t block[16] = {};
        for (int64_t k = b * kQuantBlock; k < (b + 1) * kQuantBlock; ++k) {
          const int32_t xv = x[i * ldx + k];
          for (int c = 0; c < 16; ++c) block[c] += xv * panel[(k / 4) * 64 + c * 4 + k % 4];
        }
        for (int c = 0; c < 16; ++c)
          acc[c] = std::fma(static_cast<float>(block[c] - 128 * xsum[i * ldb + b]), xs[i * ldb + b], acc[c]);
      }
      float* dst = y + i * ldy + p * 16;
      for (int64_t c = 0; c < cols; ++c) {
        const float v = acc[c] * w.scales()[p * 16 + c];
        dst[c] = accumulate ? dst[c] + v : v;
      }
    }
  }
}

void quantize_blocks(const float* x, int64_t n, int64_t kp, int8_t* q, float* scales, int32_t* sums) {
  for (int64_t b = 0; b * kQuantBlock < kp; ++b) {
    const int64_t k0 = b * kQuantBlock, k1 = std::min(n, k0 + kQuantBlock);
    float amax = 0.0f;
    for (int64_t k = k0; k < k1; ++k) amax = std::max(amax, std::fabs(x[k]));
    const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    int32_t sum = 0;
    for (int64_t k = k0; k < k0 + kQuantBlock; ++k) {
      const int32_t v = k < k1 ? static_cast<int32_t>(std::nearbyint(x[k] * inv)) : 0;
      q[k] = static_cast<int8_t>(v);
      sum += v;
    }
    scales[b] = amax / 127.0f;
    sums[b] = sum;
  }
}

void rms_norm(const float* x, int64_t dim, const float* weight, float eps, float* out) {
  float s = 0.0f;
  for (int64_t k = 0; k < dim; ++k) s += x[k] * x[k];
  const float r = 1.0f / std::sqrt(s / static_cast<float>(dim) + eps);
  for (int64_t k = 0; k < dim; ++k) out[k] = x[k] * r * weight[k];
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t j = 0; j < n; ++j) out[j] = gate[j] / (1.0f + std::exp(-gate[j])) * up[j];
}

void exp_inplace(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::exp(x[i]);
}

void to_bf16(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = kernels::to_bf16(x[i]);
}

}  // namespace isc::kernels::portable
