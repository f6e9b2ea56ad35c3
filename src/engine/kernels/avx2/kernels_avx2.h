// The AVX2 + FMA implementations behind kernels.h (internal), for CPUs without AVX-512: each
// function is compiled for AVX2 by a target attribute, so the rest of the binary runs anywhere.
#pragma once
#include <cstdint>

#include "engine/kernels/kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#define ISC_HAVE_X86_AVX2 1
#include <immintrin.h>
#define ISC_AVX2 __attribute__((target("avx2,fma")))
#else
#define ISC_HAVE_X86_AVX2 0
#endif

namespace isc::kernels::avx2 {

bool cpu_has_avx2();  // avx2 + fma (CPUID) and the OS saving ymm state (XCR0)

// Columns of panels [p0, p1) of y = x·Wᵀ. F32: x as is. BF16: x already rounded to bf16 but held
// as fp32 (round_bf16), rows of ldx ≥ k_padded floats; AVX2 has no bf16 dot product, so both
// operands are widened to fp32 and multiplied by FMA (bf16·bf16 is exact in fp32).
void linear_f32(const float* x, int64_t m, int64_t ldx, const PackedMatrix& w, int64_t p0, int64_t p1,
                float* y, int64_t ldy, bool accumulate);
void linear_bf16(const float* x, int64_t m, int64_t ldx, const PackedMatrix& w, int64_t p0, int64_t p1,
                 float* y, int64_t ldy, bool accumulate);
// x: signed bytes from quantize_blocks with per-block scales and sums (ldb blocks a row); the
// block sums are exact int32 (bytes widened to int16, vpmaddwd), the same integers as every path.
void linear_i8(const int8_t* x, const float* x_scale, const int32_t* x_sum, int64_t m, int64_t ldx, int64_t ldb,
               const PackedMatrix& w, int64_t p0, int64_t p1, float* y, int64_t ldy, bool accumulate);
void quantize_blocks(const float* x, int64_t n, int64_t kp, int8_t* q, float* scales, int32_t* sums);

// x rounded to bf16 (as to_bf16) and widened back to fp32: the BF16 matmul's activation operand.
void round_bf16(const float* x, int64_t n, float* out);

void rms_norm(const float* x, int64_t dim, const float* weight, float eps, float* out);
void silu_mul(const float* gate, const float* up, int64_t n, float* out);
void exp_inplace(float* x, int64_t n);
void to_bf16(const float* x, int64_t n, uint16_t* out);

}  // namespace isc::kernels::avx2

#if ISC_HAVE_X86_AVX2
namespace isc::kernels::avx2 {

// exp(x) for x ≤ 88.7 (larger saturates), 8 lanes: the same reduction and Cephes polynomial as
// avx512::exp512; 2^n is applied as two powers 2^(n/2)·2^(n−n/2), each a normal float for every n
// in range, so underflow to subnormals is rounded once, as vscalefps does.
ISC_AVX2 static inline __m256 exp256(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-104.0f)), _mm256_set1_ps(88.7f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

// Lane mask for the first n of 8 lanes (n clamped to 0..8), for vmaskmovps loads and stores.
ISC_AVX2 static inline __m256i tail_mask8(int64_t n) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int32_t c = static_cast<int32_t>(n < 0 ? 0 : n > 8 ? 8 : n);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), lanes);
}

ISC_AVX2 static inline __m256 load8(const float* p, int64_t n) {
  return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, tail_mask8(n));
}

ISC_AVX2 static inline void store8(float* p, __m256 v, int64_t n) {
  if (n >= 8) _mm256_storeu_ps(p, v);
  else _mm256_maskstore_ps(p, tail_mask8(n), v);
}

// 8 bf16 values widened to fp32 (bf16 is the top half of an fp32); fewer than 8 read no further.
ISC_AVX2 static inline __m256 load_bf16x8(const uint16_t* p, int64_t n) {
  __m128i h;
  if (n >= 8) {
    h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  } else {
    alignas(16) uint16_t tmp[8] = {};
    for (int64_t i = 0; i < n; ++i) tmp[i] = p[i];
    h = _mm_load_si128(reinterpret_cast<const __m128i*>(tmp));
  }
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// 8 signed bytes widened to fp32; fewer than 8 read no further.
ISC_AVX2 static inline __m256 load_i8x8(const int8_t* p, int64_t n) {
  int64_t v = 0;
  if (n >= 8) __builtin_memcpy(&v, p, 8);
  else __builtin_memcpy(&v, p, static_cast<size_t>(n < 0 ? 0 : n));
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(v)));
}

ISC_AVX2 static inline float hsum8(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

ISC_AVX2 static inline float hmax8(__m256 v) {
  const __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_max_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_max_ss(t, _mm_movehdup_ps(t)));
}

ISC_AVX2 static inline int32_t hsum8_epi32(__m256i v) {
  const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i t = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  return _mm_cvtsi128_si32(_mm_add_epi32(t, _mm_shuffle_epi32(t, 1)));
}

// Per 4-column (or 4-key) group g, vpmaddwd leaves two partial sums per column: lanes
// [c0a c0b c1a c1b | c2a c2b c3a c3b]. Two groups' partials to one int32 sum per column, in order.
ISC_AVX2 static inline __m256i combine_pairs(__m256i g0, __m256i g1) {
  return _mm256_permute4x64_epi64(_mm256_hadd_epi32(g0, g1), _MM_SHUFFLE(3, 1, 2, 0));
}

// Hides a value from the optimiser, so that a multiply and a following add stay two roundings
// (with -ffp-contract=fast GCC would fuse them into one FMA, unlike the portable path).
ISC_AVX2 static inline __m256 opaque(__m256 v) {
  __asm__("" : "+x"(v));
  return v;
}

}  // namespace isc::kernels::avx2
#endif
