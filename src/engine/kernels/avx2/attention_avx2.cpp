// AVX2 attention: scores for a block of 16 keys in two ymm per head (keys are stored transposed),
// softmax with exp256, weighted values a few ymm of dimensions per pass; int8 scores by exact
// int16 multiply-adds (vpmaddwd), the same integers as the portable and VNNI kernels.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "common/error.h"
#include "engine/kernels/attention_kernels.h"
#include "engine/kernels/avx2/kernels_avx2.h"

namespace isc::kernels::avx2 {

#if ISC_HAVE_X86_AVX2

namespace {

// Eight elements of a cache row widened to fp32; `n` < 8 reads only the first n (zeros after).
template <typename T>
ISC_AVX2 inline __m256 load_kv(const T* p, int64_t n) {
  if constexpr (sizeof(T) == 2) return load_bf16x8(p, n);
  else if constexpr (sizeof(T) == 1) return load_i8x8(p, n);
  else return load8(p, n);
}

// Scores of an int8 cache for query heads [h0, h0 + GH) of qz (GH ≤ 2: 4·GH int32 partials, GH·2
// fp32 sums, one key group and one query quad stay in registers). Per quad of dimensions the 16
// keys' bytes (q + 128) are zero-extended to int16, four keys per ymm; the query quad, widened to
// int16 once per call, is broadcast; vpmaddwd sums pairs exactly; per block of kQuantBlock
// dimensions the pairs are combined per key and the +128 removed (128 · Σq): the exact block sum,
// then acc = fma(float(sum), q_scale, acc) over blocks in order; score = acc · k_scale · scale.
template <int GH>
ISC_AVX2 void scores_i8(const QuantQuery& qz, int h0, const uint8_t* keys, const float* ksc, int64_t n, int64_t hd,
                        float scale, float* s, int64_t sld) {
  const int64_t kd = int8_key_dims(hd), quads = kd / 4, bq = kQuantBlock / 4;
  thread_local std::vector<int16_t> q16;
  if (static_cast<int64_t>(q16.size()) < GH * kd) q16.resize(GH * kd);
  for (int h = 0; h < GH; ++h)
    for (int64_t d = 0; d < kd; ++d) q16[h * kd + d] = qz.q[(h0 + h) * qz.ld + d];  // zeros past hd
  const __m256 vscale = _mm256_set1_ps(scale);
  for (int64_t j = 0; j < n; j += kKeyBlock) {
    const uint8_t* kb = keys + (j / kKeyBlock) * kd * kKeyBlock;
    const char* next = reinterpret_cast<const char*>(kb + kKeyAhead<int8_t> * kd * kKeyBlock);
    _mm_prefetch(reinterpret_cast<const char*>(ksc + j + kKeyAhead<int8_t> * kKeyBlock), _MM_HINT_T0);
    __m256 acc[GH][2];
#pragma GCC unroll 2
    for (int h = 0; h < GH; ++h) acc[h][0] = acc[h][1] = _mm256_setzero_ps();
    for (int64_t b = 0; b < qz.nb; ++b) {
      __m256i dot[GH][4];
#pragma GCC unroll 2
      for (int h = 0; h < GH; ++h)
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) dot[h][g] = _mm256_setzero_si256();
      for (int64_t t = b * bq; t < std::min(quads, (b + 1) * bq); ++t) {
        _mm_prefetch(next + t * 64, _MM_HINT_T0);
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) {
          const __m256i kw =
              _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kb + t * 64 + g * 16)));
#pragma GCC unroll 2
          for (int h = 0; h < GH; ++h) {
            int64_t q4;
            std::memcpy(&q4, q16.data() + h * kd + 4 * t, 8);
            dot[h][g] = _mm256_add_epi32(dot[h][g], _mm256_madd_epi16(kw, _mm256_set1_epi64x(q4)));
          }
        }
      }
#pragma GCC unroll 2
      for (int h = 0; h < GH; ++h) {
        const __m256i bias = _mm256_set1_epi32(128 * qz.sum[(h0 + h) * qz.nb + b]);
        const __m256 sc = _mm256_set1_ps(qz.scale[(h0 + h) * qz.nb + b]);
        const __m256i lo = _mm256_sub_epi32(combine_pairs(dot[h][0], dot[h][1]), bias);
        const __m256i hi = _mm256_sub_epi32(combine_pairs(dot[h][2], dot[h][3]), bias);
        acc[h][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lo), sc, acc[h][0]);
        acc[h][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(hi), sc, acc[h][1]);
      }
    }
    // all 16 lanes fit the scratch row (sld ≥ n rounded up to 16); lanes past n are never read
    const __m256 ks0 = load8(ksc + j, n - j), ks1 = load8(ksc + j + 8, n - j - 8);
#pragma GCC unroll 2
    for (int h = 0; h < GH; ++h) {
      _mm256_storeu_ps(s + h * sld + j, _mm256_mul_ps(_mm256_mul_ps(acc[h][0], ks0), vscale));
      _mm256_storeu_ps(s + h * sld + j + 8, _mm256_mul_ps(_mm256_mul_ps(acc[h][1], ks1), vscale));
    }
  }
}

// Dimension ymm per pass over the value rows, so that GH × DV accumulators, GH weights and a value
// fit 16 registers: a value row is read hd / (8·DV) times (from L1 after the first).
template <int GH> constexpr int kValueYmm = GH == 1 ? 8 : GH == 4 ? 2 : 4;

template <int GH, typename T>
ISC_AVX2 void attend_avx2(const float* q, const T* keys, const T* vals, const float* ksc, const float* vsc,
                          const QuantQuery* qz, int64_t n, int64_t hd, float scale, float* s, int64_t sld,
                          float* out) {
  constexpr bool i8 = sizeof(T) == 1;
  if constexpr (i8) {
    const auto* kb = reinterpret_cast<const uint8_t*>(keys);
    for (int h0 = 0; h0 < GH; h0 += 2) {
      if (GH - h0 >= 2) scores_i8<2>(*qz, h0, kb, ksc, n, hd, scale, s + h0 * sld, sld);
      else scores_i8<1>(*qz, h0, kb, ksc, n, hd, scale, s + h0 * sld, sld);
    }
  } else {
    // scores, 16 keys per two vectors; per score the dimensions are summed in increasing order
    const __m256 vscale = _mm256_set1_ps(scale);
    for (int64_t j = 0; j < n; j += kKeyBlock) {
      const T* kb = keys + (j / kKeyBlock) * hd * kKeyBlock;
      const char* next = reinterpret_cast<const char*>(kb + kKeyAhead<T> * hd * kKeyBlock);  // a later block
      __m256 a[GH][2];
#pragma GCC unroll 4
      for (int h = 0; h < GH; ++h) a[h][0] = a[h][1] = _mm256_setzero_ps();
      for (int64_t d = 0; d < hd; ++d) {
        if (sizeof(T) == 4 || d % 2 == 0) _mm_prefetch(next + d * kKeyBlock * sizeof(T), _MM_HINT_T0);
        const __m256 k0 = load_kv(kb + d * kKeyBlock, 8), k1 = load_kv(kb + d * kKeyBlock + 8, 8);
#pragma GCC unroll 4
        for (int h = 0; h < GH; ++h) {
          const __m256 qb = _mm256_broadcast_ss(q + h * hd + d);
          a[h][0] = _mm256_fmadd_ps(qb, k0, a[h][0]);
          a[h][1] = _mm256_fmadd_ps(qb, k1, a[h][1]);
        }
      }
#pragma GCC unroll 4
      for (int h = 0; h < GH; ++h) {
        _mm256_storeu_ps(s + h * sld + j, _mm256_mul_ps(a[h][0], vscale));
        _mm256_storeu_ps(s + h * sld + j + 8, _mm256_mul_ps(a[h][1], vscale));
      }
    }
  }
  // softmax numerators and their sums (the lane of key j is j mod 8, whatever the batch)
  float inv[GH];
  const __m256 neg_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (int h = 0; h < GH; ++h) {
    float* sh = s + h * sld;
    __m256 vmax = neg_inf;
    for (int64_t j = 0; j < n; j += 8) {
      const __m256 valid = _mm256_castsi256_ps(tail_mask8(n - j));
      vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(neg_inf, _mm256_loadu_ps(sh + j), valid));
    }
    const __m256 mx = _mm256_set1_ps(hmax8(vmax));
    __m256 vsum = _mm256_setzero_ps();
    for (int64_t j = 0; j < n; j += 8) {
      const __m256 valid = _mm256_castsi256_ps(tail_mask8(n - j));
      const __m256 e = _mm256_and_ps(exp256(_mm256_sub_ps(_mm256_loadu_ps(sh + j), mx)), valid);
      _mm256_storeu_ps(sh + j, e);
      vsum = _mm256_add_ps(vsum, e);
    }
    inv[h] = 1.0f / hsum8(vsum);
  }
  // weighted values, 8·DV dimensions per pass; per dimension the keys are summed in increasing order
  constexpr int DV = kValueYmm<GH>;
  for (int64_t c = 0; c < hd; c += 8 * DV) {
    __m256 o[GH][DV];
#pragma GCC unroll 4
    for (int h = 0; h < GH; ++h)
#pragma GCC unroll 8
      for (int u = 0; u < DV; ++u) o[h][u] = _mm256_setzero_ps();
    for (int64_t j = 0; j < n; ++j) {
      const T* vr = vals + j * hd + c;
      if (c == 0) {
        // the value rows are a stream the hardware prefetcher follows too slowly on its own
        const char* ahead = reinterpret_cast<const char*>(vals + (j + kValueAhead<T>) * hd);
        for (int64_t b = 0; b < hd * static_cast<int64_t>(sizeof(T)); b += 64) _mm_prefetch(ahead + b, _MM_HINT_T0);
        if constexpr (i8) _mm_prefetch(reinterpret_cast<const char*>(vsc + j + kValueAhead<T>), _MM_HINT_T0);
      }
      __m256 p[GH];
#pragma GCC unroll 4
      for (int h = 0; h < GH; ++h) p[h] = _mm256_set1_ps(i8 ? s[h * sld + j] * vsc[j] : s[h * sld + j]);
#pragma GCC unroll 8
      for (int u = 0; u < DV; ++u) {
        if (c + 8 * u >= hd) break;
        const __m256 v = load_kv(vr + 8 * u, hd - c - 8 * u);
#pragma GCC unroll 4
        for (int h = 0; h < GH; ++h) o[h][u] = _mm256_fmadd_ps(p[h], v, o[h][u]);
      }
    }
#pragma GCC unroll 4
    for (int h = 0; h < GH; ++h)
#pragma GCC unroll 8
      for (int u = 0; u < DV; ++u)
        if (c + 8 * u < hd)
          store8(out + h * hd + c + 8 * u, _mm256_mul_ps(o[h][u], _mm256_set1_ps(inv[h])), hd - c - 8 * u);
  }
}

}  // namespace

template <typename T>
void attend(int gh, const float* q, const T* k, const T* v, const float* ksc, const float* vsc, const QuantQuery* qz,
            int64_t n, int64_t hd, float scale, float* s, int64_t sld, float* out) {
  switch (gh) {
    case 1: return attend_avx2<1>(q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
    case 2: return attend_avx2<2>(q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
    case 3: return attend_avx2<3>(q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
    default: return attend_avx2<4>(q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
  }
}

#else  // not x86: attention.cpp never calls these

template <typename T>
void attend(int, const float*, const T*, const T*, const float*, const float*, const QuantQuery*, int64_t, int64_t,
            float, float*, int64_t, float*) {
  throw Error("AVX2 attention is not built on this architecture");
}

#endif

ISC_ATTEND_INSTANTIATE(float)
ISC_ATTEND_INSTANTIATE(uint16_t)
ISC_ATTEND_INSTANTIATE(int8_t)

}  // namespace isc::kernels::avx2
