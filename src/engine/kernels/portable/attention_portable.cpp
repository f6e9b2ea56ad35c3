// The portable attention kernel: plain loops, every sum in fp32 in increasing key (or dimension)
// order; the reference the vector paths are tested against.
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/kernels/attention_kernels.h"

namespace isc::kernels::portable {

namespace {

// Scores of an int8 cache, plain: per block of kQuantBlock dimensions an exact integer sum, then
// acc = fma(float(sum), q_scale, acc) over blocks in order; score = acc · k_scale · scale.
void scores_i8(int gh, const QuantQuery& qz, const uint8_t* keys, const float* ksc, int64_t n, int64_t hd,
               float scale, float* s, int64_t sld) {
  const int64_t kd = int8_key_dims(hd);
  for (int h = 0; h < gh; ++h) {
    const int8_t* qh = qz.q + h * qz.ld;
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int64_t b = 0; b < qz.nb; ++b) {
        int32_t dot = 0;
        for (int64_t d = b * kQuantBlock; d < std::min(hd, (b + 1) * kQuantBlock); ++d)
          dot += static_cast<int32_t>(qh[d]) * (static_cast<int32_t>(keys[int8_key_offset(j, d, kd)]) - 128);
        acc = std::fma(static_cast<float>(dot), qz.scale[h * qz.nb + b], acc);
      }
      s[h * sld + j] = acc * ksc[j] * scale;
    }
  }
}

template <typename T>
float kv_value(const T* p, int64_t i) {
  if constexpr (sizeof(T) == 2) return from_bf16(p[i]);
  else return static_cast<float>(p[i]);
}

}  // namespace

template <typename T>
void attend(int gh, const float* q, const T* keys, const T* vals, const float* ksc, const float* vsc,
                     const QuantQuery* qz, int64_t n, int64_t hd, float scale, float* s, int64_t sld, float* out) {
  constexpr bool i8 = sizeof(T) == 1;
  if constexpr (i8) scores_i8(gh, *qz, reinterpret_cast<const uint8_t*>(keys), ksc, n, hd, scale, s, sld);
  for (int h = 0; h < gh; ++h) {
    const float* qh = q + h * hd;
    float* sh = s + h * sld;
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j) {
      if constexpr (!i8) {
        const T* kb = keys + (j / kKeyBlock) * hd * kKeyBlock + j % kKeyBlock;
        float d = 0.0f;
        for (int64_t c = 0; c < hd; ++c) d += qh[c] * kv_value(kb, c * kKeyBlock);
        sh[j] = d * scale;
      }
      mx = std::max(mx, sh[j]);
    }
    float sum = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
      sh[j] = std::exp(sh[j] - mx);
      sum += sh[j];
    }
    float* oh = out + h * hd;
    for (int64_t c = 0; c < hd; ++c) oh[c] = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
      const float p = i8 ? sh[j] * vsc[j] : sh[j];
      for (int64_t c = 0; c < hd; ++c) oh[c] += p * kv_value(vals + j * hd, c);
    }
    const float inv = 1.0f / sum;
    for (int64_t c = 0; c < hd; ++c) oh[c] *= inv;
  }
}

ISC_ATTEND_INSTANTIATE(float)
ISC_ATTEND_INSTANTIATE(uint16_t)
ISC_ATTEND_INSTANTIATE(int8_t)

}  // namespace isc::kernels::portable
