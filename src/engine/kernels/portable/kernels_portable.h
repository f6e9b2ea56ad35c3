// The portable implementations behind kernels.h (internal): plain C++ for every CPU, with the
// same operand layouts and the same per-block integer arithmetic as the vector paths.
#pragma once
#include <cstdint>

#include "engine/kernels/kernels.h"

namespace isc::kernels::portable {

// Columns of panels [p0, p1) of y = x·Wᵀ; x already in the weight's operand format.
void linear_f32(const float* x, int64_t m, int64_t ldx, const PackedMatrix& w, int64_t p0, int64_t p1,
                float* y, int64_t ldy, bool accumulate);
void linear_bf16(const uint16_t* x, int64_t m, int64_t ldx, const PackedMatrix& w, int64_t p0,
                 int64_t p1, float* y, int64_t ldy, bool accumulate);
void linear_i8(const int8_t* x, const float* x_scale, const int32_t* x_sum, int64_t m, int64_t ldx, int64_t ldb,
               const PackedMatrix& w, int64_t p0, int64_t p1, float* y, int64_t ldy, bool accumulate);
void quantize_blocks(const float* x, int64_t n, int64_t kp, int8_t* q, float* scales, int32_t* sums);

void rms_norm(const float* x, int64_t dim, const float* weight, float eps, float* out);
void silu_mul(const float* gate, const float* up, int64_t n, float* out);
void exp_inplace(float* x, int64_t n);
void to_bf16(const float* x, int64_t n, uint16_t* out);

}  // namespace isc::kernels::portable
