// The AVX-512 implementations behind kernels.h (internal): each function is compiled for AVX-512
// by a target attribute, so the rest of the binary still runs on CPUs without it.
#pragma once
#include <cstdint>

#include "engine/kernels.h"

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
// x: unsigned bytes (int8 + 128) with per-row scales and per-row sums of the signed values.
void linear_i8(const uint8_t* x, const float* x_scale, const int32_t* x_sum, int64_t m, int64_t ldx,
               const PackedMatrix& w, int64_t p0, int64_t p1, float* y, int64_t ldy, bool accumulate);

void rms_norm(const float* x, int64_t dim, const float* weight, float eps, float* out);
void silu_mul(const float* gate, const float* up, int64_t n, float* out);
void exp_inplace(float* x, int64_t n);
void to_bf16(const float* x, int64_t n, uint16_t* out);
float dot(const float* a, const float* b, int64_t n);

}  // namespace isc::kernels::avx512
