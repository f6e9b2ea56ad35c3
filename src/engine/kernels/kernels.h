// Batch-invariant CPU kernels of the forward pass: weight × activation matmul on packed weights,
// RMSNorm, RoPE, SiLU·up. Each output element's arithmetic is fixed, whatever the batch around it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace isc::kernels {

// Which instruction set the kernels run on; chosen once per process, never per call or per shape,
// so a row's result cannot depend on the batch it arrived in. Ordered: each path needs the CPU
// features of the ones before it.
enum class Isa { Portable, Avx2, Avx512, Avx512Bf16 };
// The path in use: the environment's ISC_KERNELS (portable, avx2, avx512, avx512_bf16) if set,
// else the best this CPU has. A name that is unknown or that the CPU cannot run is an Error
// (thrown by the first call, and by every call after it).
Isa active_isa();
std::string isa_name(Isa isa);
// Tests: switch to another path this CPU can run (Error otherwise).
void set_isa(Isa isa);
// The best path this CPU has (ISC_KERNELS aside).
Isa detected_isa();

enum class WeightType { F32, BF16, I8 };

// A weight matrix W [n, k] laid out for y = x·Wᵀ: panels of 16 output columns. F32: [k][16];
// BF16: [k/2][16][2] (the pair order vdpbf16ps reads); I8: [k/4][16][4] bytes q + 128 (q in −127..127,
// symmetric per row of W with one fp32 scale max|w|/127 per output column), in the quad order
// vpdpbusd reads with the weights as its unsigned operand. k is padded with zeros to the pair size
// (BF16) or to the activation block (I8: kQuantBlock).
constexpr int64_t kQuantBlock = 32;

class PackedMatrix {
 public:
  static constexpr int64_t kPanel = 16;

  PackedMatrix() = default;
  static PackedMatrix pack(const float* w, int64_t n, int64_t k, WeightType type);

  int64_t n() const { return n_; }
  int64_t k() const { return k_; }
  int64_t k_padded() const { return kp_; }
  int64_t panels() const { return (n_ + kPanel - 1) / kPanel; }
  WeightType type() const { return type_; }
  bool empty() const { return n_ == 0; }
  size_t bytes() const { return bytes_; }
  const void* data() const { return data_.get(); }
  const float* scales() const { return scales_.get(); }  // I8 only: [panels * 16]
  // Row i of W as the kernels see it (rounded to the stored type): an embedding lookup.
  void unpack_row(int64_t i, float* out) const;

 private:
  struct Free { void operator()(void* p) const; };
  int64_t n_ = 0, k_ = 0, kp_ = 0;
  WeightType type_ = WeightType::F32;
  size_t bytes_ = 0;
  std::unique_ptr<void, Free> data_;
  std::unique_ptr<float[]> scales_;
};

// y[i, j] (+)= Σ_k x[i, k] · W[j, k] for rows i < m, columns j < W.n(). x is fp32. For BF16 weights it
// is rounded to bf16 (round-to-nearest-even) first and the sum runs in fp32 in one fixed order over
// k. For I8 each row of x is quantised on its own in blocks of kQuantBlock (quantize_blocks); per
// block the sum is exact in int32, then acc = fma(float(block sum), x_block_scale, acc) over blocks
// in order, and y = acc · w_scale[j]. Either way a row's result is the same for every m and every row
// position, written in fp32 (no rounding of the output). Threaded over output columns.
void linear(const float* x, int64_t m, int64_t ldx, const PackedMatrix& w, float* y, int64_t ldy,
            bool accumulate = false);

// One activation row to signed bytes for the I8 kernel, in blocks of kQuantBlock: per block
// q = round_even(x · 127/max|x|), scale max|x|/127 (0 for an all-zero block) and Σq (which undoes the
// weights' +128). Zeros pad the row to kp (a multiple of kQuantBlock). Blocks, not whole rows,
// because a few outlier channels would otherwise flatten every other value of the row to 0 or ±1.
void quantize_blocks(const float* x, int64_t n, int64_t kp, int8_t* q, float* scales, int32_t* sums);

// out[i, :] = x[i, :] / sqrt(mean(x[i, :]²) + eps) · weight, one row at a time.
void rms_norm(const float* x, int64_t m, int64_t dim, int64_t ldx, const float* weight, float eps,
              float* out, int64_t ldo);

// out[i, j] = silu(gu[i, j]) · gu[i, hidden + j]: gate columns first, then up columns.
void silu_mul(const float* gu, int64_t m, int64_t hidden, int64_t ldg, float* out, int64_t ldo);

// Rotate-half RoPE in place on `heads` heads of width 2·half per row, with per-row tables
// cos/sin [m][half] (angle = position · inverse frequency).
void rope(float* x, int64_t m, int64_t heads, int64_t half, int64_t ldx, const float* cos,
          const float* sin);

// fp32 → bf16 (round to nearest even, NaN kept quiet), the same rounding as at::Tensor::to.
uint16_t to_bf16(float f);
float from_bf16(uint16_t b);
void to_bf16(const float* x, int64_t n, uint16_t* out);

// exp on the active ISA's path (vectorised on AVX2 and AVX-512): used by softmax and SiLU.
void exp_inplace(float* x, int64_t n);

}  // namespace isc::kernels
