// AVX-512 attention: scores for a block of 16 keys in one zmm per head (keys are stored
// transposed), softmax with exp512, weighted values 64 dimensions per pass; int8 scores by
// vpdpbusd (VNNI), the same integers as the portable kernel.
#include <algorithm>
#include <cstring>
#include <limits>

#include "common/error.h"
#include "engine/kernels/attention_kernels.h"
#include "engine/kernels/avx512/kernels_avx512.h"

namespace isc::kernels::avx512 {

#if ISC_HAVE_X86

namespace {

template <typename T>
ISC_AVX512 inline __m512 load_kv(const T* p, __mmask16 m) {
  if constexpr (sizeof(T) == 2) return load_bf16(p, m);
  else if constexpr (sizeof(T) == 1) return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p)));
  else return _mm512_maskz_loadu_ps(m, p);
}

// scores_i8_portable with vpdpbusd: the keys (q + 128, unsigned) times 4 query bytes broadcast; the
// +128 comes back out as 128·Σq of the block, so the int32 sums and what follows are the same bits.
template <int GH>
ISC_AVX512_VNNI void scores_i8_avx512(const QuantQuery& qz, const uint8_t* keys, const float* ksc, int64_t n, int64_t hd,
                                      float scale, float* s, int64_t sld) {
    const int64_t kd = int8_key_dims(hd), quads = kd / 4, bq = kQuantBlock / 4;
  const __m512 vscale = _mm512_set1_ps(scale);
  for (int64_t j = 0; j < n; j += kKeyBlock) {
    const uint8_t* kb = keys + (j / kKeyBlock) * kd * kKeyBlock;
    const char* next = reinterpret_cast<const char*>(kb + kKeyAhead<int8_t> * kd * kKeyBlock);
    _mm_prefetch(reinterpret_cast<const char*>(ksc + j + kKeyAhead<int8_t> * kKeyBlock), _MM_HINT_T0);  // a stream of its own
    __m512 acc[GH];
#pragma GCC unroll 4
    for (int h = 0; h < GH; ++h) acc[h] = _mm512_setzero_ps();
    for (int64_t b = 0; b < qz.nb; ++b) {
      __m512i dot[GH];
#pragma GCC unroll 4
      for (int h = 0; h < GH; ++h) dot[h] = _mm512_setzero_si512();
      for (int64_t t = b * bq; t < std::min(quads, (b + 1) * bq); ++t) {
        _mm_prefetch(next + t * 64, _MM_HINT_T0);
        const __m512i k4 = _mm512_loadu_si512(kb + t * 64);
#pragma GCC unroll 4
        for (int h = 0; h < GH; ++h) {
          int32_t q4;
          std::memcpy(&q4, qz.q + h * qz.ld + t * 4, 4);
          dot[h] = _mm512_dpbusd_epi32(dot[h], k4, _mm512_set1_epi32(q4));
        }
      }
#pragma GCC unroll 4
      for (int h = 0; h < GH; ++h) {
        const __m512i exact = _mm512_sub_epi32(dot[h], _mm512_set1_epi32(128 * qz.sum[h * qz.nb + b]));
        acc[h] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), _mm512_set1_ps(qz.scale[h * qz.nb + b]), acc[h]);
      }
    }
    const __mmask16 m = tail_mask(n - j);
    const __m512 ks = _mm512_maskz_loadu_ps(m, ksc + j);
#pragma GCC unroll 4
    for (int h = 0; h < GH; ++h) _mm512_mask_storeu_ps(s + h * sld + j, m, _mm512_mul_ps(_mm512_mul_ps(acc[h], ks), vscale));
  }
}

template <int GH, typename T>
ISC_AVX512 void attend_avx512(const float* q, const T* keys, const T* vals, const float* ksc, const float* vsc,
                              const QuantQuery* qz, int64_t n, int64_t hd, float scale, float* s, int64_t sld,
                              float* out) {
    constexpr bool i8 = sizeof(T) == 1;
  const __m512 vscale = _mm512_set1_ps(scale);
  if constexpr (i8) scores_i8_avx512<GH>(*qz, reinterpret_cast<const uint8_t*>(keys), ksc, n, hd, scale, s, sld);
  // scores, 16 keys per vector; per score the dimensions are summed as (even d) + (odd d)
  for (int64_t j = 0; j < n && !i8; j += kKeyBlock) {
    const T* kb = keys + (j / kKeyBlock) * hd * kKeyBlock;
    __m512 a0[GH], a1[GH];
#pragma GCC unroll 4
    for (int h = 0; h < GH; ++h) a0[h] = a1[h] = _mm512_setzero_ps();
    int64_t d = 0;
    const char* next = reinterpret_cast<const char*>(kb + kKeyAhead<T> * hd * kKeyBlock);  // the following key block
    for (; d + 1 < hd; d += 2) {
      _mm_prefetch(next + d * kKeyBlock * sizeof(T), _MM_HINT_T0);
      if (sizeof(T) == 4) _mm_prefetch(next + (d + 1) * kKeyBlock * sizeof(T), _MM_HINT_T0);
      const __m512 k0 = load_kv(kb + d * kKeyBlock, 0xFFFF), k1 = load_kv(kb + (d + 1) * kKeyBlock, 0xFFFF);
#pragma GCC unroll 4
      for (int h = 0; h < GH; ++h) {
        a0[h] = _mm512_fmadd_ps(_mm512_set1_ps(q[h * hd + d]), k0, a0[h]);
        a1[h] = _mm512_fmadd_ps(_mm512_set1_ps(q[h * hd + d + 1]), k1, a1[h]);
      }
    }
    if (d < hd) {
      const __m512 k0 = load_kv(kb + d * kKeyBlock, 0xFFFF);
#pragma GCC unroll 4
      for (int h = 0; h < GH; ++h) a0[h] = _mm512_fmadd_ps(_mm512_set1_ps(q[h * hd + d]), k0, a0[h]);
    }
    const __mmask16 m = tail_mask(n - j);
#pragma GCC unroll 4
    for (int h = 0; h < GH; ++h) _mm512_mask_storeu_ps(s + h * sld + j, m, _mm512_mul_ps(_mm512_add_ps(a0[h], a1[h]), vscale));
  }
  // softmax numerators and their sums (the lane of key j is j mod 16, whatever the batch)
  __m512 inv[GH];
#pragma GCC unroll 4
  for (int h = 0; h < GH; ++h) {
    float* sh = s + h * sld;
    __m512 vmax = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    for (int64_t j = 0; j < n; j += 16) vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(vmax, tail_mask(n - j), sh + j));
    const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
    __m512 vsum = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; j += 16) {
      const __mmask16 m = tail_mask(n - j);
      const __m512 e = _mm512_maskz_mov_ps(m, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, sh + j), mx)));
      _mm512_mask_storeu_ps(sh + j, m, e);
      vsum = _mm512_add_ps(vsum, e);
    }
    inv[h] = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
  }
  // weighted values, 64 dimensions per pass so a value row is read once (one pass when hd ≤ 64)
  for (int64_t c = 0; c < hd; c += 64) {
    __mmask16 m[4];
#pragma GCC unroll 4
    for (int q4 = 0; q4 < 4; ++q4) m[q4] = c + 16 * q4 < hd ? tail_mask(hd - c - 16 * q4) : 0;
    __m512 o[GH][4];
#pragma GCC unroll 4
    for (int h = 0; h < GH; ++h)
#pragma GCC unroll 4
      for (int q4 = 0; q4 < 4; ++q4) o[h][q4] = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; ++j) {
      const T* vr = vals + j * hd + c;
      // the value rows are a stream the hardware prefetcher follows too slowly on its own
      _mm_prefetch(reinterpret_cast<const char*>(vr + kValueAhead<T> * hd), _MM_HINT_T0);
      if constexpr (i8) _mm_prefetch(reinterpret_cast<const char*>(vsc + j + kValueAhead<T>), _MM_HINT_T0);
      if (sizeof(T) > 1) _mm_prefetch(reinterpret_cast<const char*>(vr + kValueAhead<T> * hd) + 64, _MM_HINT_T0);
      __m512 v[4];
#pragma GCC unroll 4
      for (int q4 = 0; q4 < 4; ++q4) v[q4] = load_kv(vr + 16 * q4, m[q4]);
#pragma GCC unroll 4
      for (int h = 0; h < GH; ++h) {
        const __m512 p = _mm512_set1_ps(i8 ? s[h * sld + j] * vsc[j] : s[h * sld + j]);
#pragma GCC unroll 4
        for (int q4 = 0; q4 < 4; ++q4) o[h][q4] = _mm512_fmadd_ps(p, v[q4], o[h][q4]);
      }
    }
#pragma GCC unroll 4
    for (int h = 0; h < GH; ++h)
#pragma GCC unroll 4
      for (int q4 = 0; q4 < 4; ++q4)
        if (m[q4]) _mm512_mask_storeu_ps(out + h * hd + c + 16 * q4, m[q4], _mm512_mul_ps(o[h][q4], inv[h]));
  }
}

}  // namespace

template <typename T>
void attend(int gh, const float* q, const T* k, const T* v, const float* ksc, const float* vsc, const QuantQuery* qz,
            int64_t n, int64_t hd, float scale, float* s, int64_t sld, float* out) {
  switch (gh) {
    case 1: return attend_avx512<1>(q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
    case 2: return attend_avx512<2>(q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
    case 3: return attend_avx512<3>(q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
    default: return attend_avx512<4>(q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
  }
}

#else  // not x86: attention.cpp never calls these

template <typename T>
void attend(int, const float*, const T*, const T*, const float*, const float*, const QuantQuery*, int64_t, int64_t,
            float, float*, int64_t, float*) {
  throw Error("AVX-512 attention is not built on this architecture");
}

#endif

ISC_ATTEND_INSTANTIATE(float)
ISC_ATTEND_INSTANTIATE(uint16_t)
ISC_ATTEND_INSTANTIATE(int8_t)

}  // namespace isc::kernels::avx512
