// The AVX-512 implementations behind kernels.h (internal): each function is compiled for AVX-512
// by a target attribute, so the rest of the binary still runs on CPUs without it.
#pragma once
#include <cstdint>

#include "engine/kernels/kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#define ISC_HAVE_X86 1
#include <immintrin.h>
#define ISC_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define ISC_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))
#define ISC_AVX512_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma")))
#else
#define ISC_HAVE_X86 0
#endif

namespace isc::kernels::avx512 {

bool cpu_has_avx512();       // avx512f/bw/vl/dq + OS support for zmm state
bool cpu_has_avx512_bf16();
bool cpu_has_avx512_vnni();

// Columns of panels [p0, p1) of y = x·Wᵀ; x already in the weight's operand format.
void linear_f32(const float* x, int64_t m, int64_t ldx, const PackedMatrix& w, int64_t p0, int64_t p1,
                float* y, int64_t ldy, bool accumulate);
void linear_bf16(const uint16_t* x, int64_t m, int64_t ldx, const PackedMatrix& w, int64_t p0,
                 int64_t p1, float* y, int64_t ldy, bool accumulate);
// x: signed bytes from quantize_blocks, with per-block scales and sums (ldb blocks a row); needs VNNI.
void linear_i8(const int8_t* x, const float* x_scale, const int32_t* x_sum, int64_t m, int64_t ldx, int64_t ldb,
               const PackedMatrix& w, int64_t p0, int64_t p1, float* y, int64_t ldy, bool accumulate);
void quantize_blocks(const float* x, int64_t n, int64_t kp, int8_t* q, float* scales, int32_t* sums);

void rms_norm(const float* x, int64_t dim, const float* weight, float eps, float* out);
void silu_mul(const float* gate, const float* up, int64_t n, float* out);
void exp_inplace(float* x, int64_t n);
void to_bf16(const float* x, int64_t n, uint16_t* out);
float dot(const float* a, const float* b, int64_t n);

}  // namespace isc::kernels::avx512

#if ISC_HAVE_X86
namespace isc::kernels::avx512 {

// exp(x) for x ≤ 88.7 (larger saturates): 2^n · p(r), r = x − n·ln2 split in two parts for
// accuracy, p the Cephes degree-6 polynomial; ~1 ulp, and the same bits for the same input.
ISC_AVX512 static inline __m512 exp512(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(88.7f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

// 16 bf16 values (or fewer under `mask`) widened to fp32: bf16 is the top half of an fp32.
ISC_AVX512 static inline __m512 load_bf16(const uint16_t* p, __mmask16 mask) {
  const __m256i h = _mm256_maskz_loadu_epi16(mask, p);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

ISC_AVX512 static inline __mmask16 tail_mask(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
}

}  // namespace isc::kernels::avx512
#endif
