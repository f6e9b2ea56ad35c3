// AVX-512 matmul tiles and row kernels. A tile of MR rows × NR panels keeps MR·NR accumulators in
// registers and walks k in one fixed order; tile sizes only decide which lanes run together.
#include "engine/kernels/avx512/kernels_avx512.h"

#include <cmath>
#include <cstring>

#include "common/error.h"

namespace isc::kernels::avx512 {

#if ISC_HAVE_X86

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("fma");
}
bool cpu_has_avx512_bf16() {
  // gcc 12's __builtin_cpu_supports knows avx512bf16; leaf 7 subleaf 1 EAX bit 5 is the source.
  return cpu_has_avx512() && __builtin_cpu_supports("avx512bf16");
}
bool cpu_has_avx512_vnni() { return cpu_has_avx512() && __builtin_cpu_supports("avx512vnni"); }

namespace {

constexpr int kMaxRows = 6;    // MR: rows of x per tile
constexpr int kMaxPanels = 4;  // NR: 16-column panels of W per tile

inline int32_t load_i32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Stores one accumulator (16 columns, `cols` of them valid), adding to what is there if asked.
ISC_AVX512 inline void store_cols(float* dst, __m512 v, int64_t cols, bool accumulate) {
  const __mmask16 m = tail_mask(cols);
  if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst), v);
  _mm512_mask_storeu_ps(dst, m, v);
}

template <int MR, int NR>
ISC_AVX512_BF16 void tile_bf16(const uint16_t* x, int64_t ldx, const uint16_t* w, int64_t pstride,
                               int64_t kpairs, float* y, int64_t ldy, int64_t ncols, bool accumulate) {
  __m512 acc[MR][NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < kpairs; ++kk) {
    __m512i wv[NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) wv[j] = _mm512_load_si512(w + j * pstride + kk * 32);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512i xb = _mm512_set1_epi32(load_i32(x + i * ldx + 2 * kk));
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], (__m512bh)xb, (__m512bh)wv[j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j)
      if (ncols > 16 * j) store_cols(y + i * ldy + 16 * j, acc[i][j], ncols - 16 * j, accumulate);
}

template <int MR, int NR>
ISC_AVX512 void tile_f32(const float* x, int64_t ldx, const float* w, int64_t pstride, int64_t k,
                         float* y, int64_t ldy, int64_t ncols, bool accumulate) {
  __m512 acc[MR][NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < k; ++kk) {
    __m512 wv[NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) wv[j] = _mm512_load_ps(w + j * pstride + kk * 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 xb = _mm512_set1_ps(x[i * ldx + kk]);
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(xb, wv[j], acc[i][j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j)
      if (ncols > 16 * j) store_cols(y + i * ldy + 16 * j, acc[i][j], ncols - 16 * j, accumulate);
}

template <typename X, typename W>
using TileFn = void (*)(const X*, int64_t, const W*, int64_t, int64_t, float*, int64_t, int64_t, bool);

#define ISC_TILE_ROW(F, MR) {F<MR, 1>, F<MR, 2>, F<MR, 3>, F<MR, 4>}
#define ISC_TILE_TABLE(F) \
  {ISC_TILE_ROW(F, 1), ISC_TILE_ROW(F, 2), ISC_TILE_ROW(F, 3), ISC_TILE_ROW(F, 4), ISC_TILE_ROW(F, 5), ISC_TILE_ROW(F, 6)}

// Weight bytes (q + 128, unsigned) × activation bytes (signed), four k at a time (vpdpbusd), exact
// in int32 over one activation block; then the +128 is removed (128 · the block's Σq), and the block
// is folded into an fp32 accumulator with its scale by one FMA, blocks in increasing order. The
// final scaling uses the _round_ forms so the compiler cannot contract it with the accumulate.
constexpr int kMaxRowsI8 = 3;  // 3 × 4 int32 + 3 × 4 fp32 accumulators + 4 weights fit 32 registers

template <int MR, int NR>
ISC_AVX512_VNNI void tile_i8(const int8_t* x, int64_t ldx, const float* xs, const int32_t* xsum, int64_t ldb,
                             const uint8_t* w, int64_t pstride, int64_t blocks, const float* w_scale, float* y,
                             int64_t ldy, int64_t ncols, bool accumulate) {
  constexpr int64_t kQuads = kQuantBlock / 4;
  __m512 facc[MR][NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) facc[i][j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    __m512i acc[MR][NR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_si512();
    const uint8_t* wb = w + b * kQuads * 64;
#pragma GCC unroll 8
    for (int64_t kk = 0; kk < kQuads; ++kk) {
      __m512i wv[NR];
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) wv[j] = _mm512_load_si512(wb + j * pstride + kk * 64);
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        const __m512i xb = _mm512_set1_epi32(load_i32(x + i * ldx + b * kQuantBlock + 4 * kk));
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], wv[j], xb);
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512i bias = _mm512_set1_epi32(xsum[i * ldb + b] * 128);
      const __m512 sc = _mm512_set1_ps(xs[i * ldb + b]);
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j)
        facc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][j], bias)), sc, facc[i][j]);
    }
  }
  constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
#pragma GCC unroll 8
  for (int j = 0; j < NR; ++j) {
    if (ncols <= 16 * j) continue;
    const __m512 ws = _mm512_loadu_ps(w_scale + 16 * j);
    const __mmask16 m = tail_mask(ncols - 16 * j);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 v = _mm512_mul_round_ps(facc[i][j], ws, kRound);
      float* dst = y + i * ldy + 16 * j;
      _mm512_mask_storeu_ps(dst, m, accumulate ? _mm512_add_round_ps(_mm512_maskz_loadu_ps(m, dst), v, kRound) : v);
    }
  }
}

using TileI8Fn = void (*)(const int8_t*, int64_t, const float*, const int32_t*, int64_t, const uint8_t*, int64_t,
                          int64_t, const float*, float*, int64_t, int64_t, bool);
#define ISC_TILE_I8_ROW(MR) {tile_i8<MR, 1>, tile_i8<MR, 2>, tile_i8<MR, 3>, tile_i8<MR, 4>}
const TileI8Fn kI8Tiles[kMaxRowsI8][kMaxPanels] = {ISC_TILE_I8_ROW(1), ISC_TILE_I8_ROW(2), ISC_TILE_I8_ROW(3)};

const TileFn<uint16_t, uint16_t> kBf16Tiles[kMaxRows][kMaxPanels] = ISC_TILE_TABLE(tile_bf16);
const TileFn<float, float> kF32Tiles[kMaxRows][kMaxPanels] = ISC_TILE_TABLE(tile_f32);

// Walks panel groups of W outside and row blocks of x inside, so a group's weights stay in cache
// while every row passes over them. `kdim` is what the tile loops over (k pairs, or k).
template <typename X, typename W>
void run_tiles(const TileFn<X, W> (&tiles)[kMaxRows][kMaxPanels], const X* x, int64_t m, int64_t ldx,
               const W* w, int64_t pstride, int64_t kdim, int64_t n, int64_t p0, int64_t p1, float* y,
               int64_t ldy, bool accumulate) {
  for (int64_t p = p0; p < p1; p += kMaxPanels) {
    const int64_t nr = std::min<int64_t>(kMaxPanels, p1 - p);
    const int64_t ncols = std::min<int64_t>(nr * 16, n - p * 16);
    for (int64_t i = 0; i < m; i += kMaxRows) {
      const int64_t mr = std::min<int64_t>(kMaxRows, m - i);
      tiles[mr - 1][nr - 1](x + i * ldx, ldx, w + p * pstride, pstride, kdim, y + i * ldy + p * 16, ldy,
                            ncols, accumulate);
    }
  }
}

}  // namespace

void linear_f32(const float* x, int64_t m, int64_t ldx, const PackedMatrix& w, int64_t p0, int64_t p1,
                float* y, int64_t ldy, bool accumulate) {
  const int64_t pstride = w.k_padded() * 16;
  run_tiles(kF32Tiles, x, m, ldx, static_cast<const float*>(w.data()), pstride, w.k_padded(), w.n(), p0, p1,
            y, ldy, accumulate);
}

void linear_bf16(const uint16_t* x, int64_t m, int64_t ldx, const PackedMatrix& w, int64_t p0,
                 int64_t p1, float* y, int64_t ldy, bool accumulate) {
  const int64_t pstride = w.k_padded() * 16;
  run_tiles(kBf16Tiles, x, m, ldx, static_cast<const uint16_t*>(w.data()), pstride, w.k_padded() / 2,
            w.n(), p0, p1, y, ldy, accumulate);
}

void linear_i8(const int8_t* x, const float* x_scale, const int32_t* x_sum, int64_t m, int64_t ldx, int64_t ldb,
               const PackedMatrix& w, int64_t p0, int64_t p1, float* y, int64_t ldy, bool accumulate) {
  const int64_t pstride = w.k_padded() * 16;
  const auto* wd = static_cast<const uint8_t*>(w.data());
  const int64_t blocks = w.k_padded() / kQuantBlock;
  for (int64_t p = p0; p < p1; p += kMaxPanels) {
    const int64_t nr = std::min<int64_t>(kMaxPanels, p1 - p);
    const int64_t ncols = std::min<int64_t>(nr * 16, w.n() - p * 16);
    for (int64_t i = 0; i < m; i += kMaxRowsI8) {
      const int64_t mr = std::min<int64_t>(kMaxRowsI8, m - i);
      kI8Tiles[mr - 1][nr - 1](x + i * ldx, ldx, x_scale + i * ldb, x_sum + i * ldb, ldb, wd + p * pstride, pstride,
                               blocks, w.scales() + p * 16, y + i * ldy + p * 16, ldy, ncols, accumulate);
    }
  }
}

// Same arithmetic as the portable quantize_blocks: x · (127/max) rounded to nearest even.
ISC_AVX512 void quantize_blocks(const float* x, int64_t n, int64_t kp, int8_t* q, float* scales, int32_t* sums) {
  for (int64_t b = 0; b * kQuantBlock < kp; ++b) {
    const int64_t k0 = b * kQuantBlock, left = std::max<int64_t>(0, n - k0);
    const __m512 v0 = _mm512_maskz_loadu_ps(tail_mask(left), x + k0);
    const __m512 v1 = _mm512_maskz_loadu_ps(tail_mask(std::max<int64_t>(0, left - 16)), x + k0 + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const __m512 inv = _mm512_set1_ps(amax > 0.0f ? 127.0f / amax : 0.0f);
    constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_round_ps(v0, inv, kRound));
    const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_round_ps(v1, inv, kRound));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k0), _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k0 + 16), _mm512_cvtepi32_epi8(q1));
    scales[b] = amax / 127.0f;
    sums[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
  }
}

ISC_AVX512 void rms_norm(const float* x, int64_t dim, const float* weight, float eps, float* out) {
  __m512 s = _mm512_setzero_ps();
  for (int64_t k = 0; k < dim; k += 16) {
    const __m512 v = _mm512_maskz_loadu_ps(tail_mask(dim - k), x + k);
    s = _mm512_fmadd_ps(v, v, s);
  }
  const float r = 1.0f / std::sqrt(_mm512_reduce_add_ps(s) / static_cast<float>(dim) + eps);
  const __m512 rv = _mm512_set1_ps(r);
  for (int64_t k = 0; k < dim; k += 16) {
    const __mmask16 mk = tail_mask(dim - k);
    const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(mk, x + k), rv);
    _mm512_mask_storeu_ps(out + k, mk, _mm512_mul_ps(v, _mm512_maskz_loadu_ps(mk, weight + k)));
  }
}

ISC_AVX512 void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t k = 0; k < n; k += 16) {
    const __mmask16 mk = tail_mask(n - k);
    const __m512 g = _mm512_maskz_loadu_ps(mk, gate + k);
    const __m512 s = _mm512_div_ps(g, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), g))));
    _mm512_mask_storeu_ps(out + k, mk, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(mk, up + k)));
  }
}

ISC_AVX512 void exp_inplace(float* x, int64_t n) {
  for (int64_t k = 0; k < n; k += 16) {
    const __mmask16 mk = tail_mask(n - k);
    _mm512_mask_storeu_ps(x + k, mk, exp512(_mm512_maskz_loadu_ps(mk, x + k)));
  }
}

ISC_AVX512 void to_bf16(const float* x, int64_t n, uint16_t* out) {
  const __m512i bias = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1), qnan = _mm512_set1_epi32(0x7FC0);
  for (int64_t k = 0; k < n; k += 16) {
    const __mmask16 mk = tail_mask(n - k);
    const __m512 v = _mm512_maskz_loadu_ps(mk, x + k);
    const __m512i u = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(bias, lsb)), 16);
    r = _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), qnan);
    _mm256_mask_storeu_epi16(out + k, mk, _mm512_cvtepi32_epi16(r));
  }
}

ISC_AVX512 float dot(const float* a, const float* b, int64_t n) {
  __m512 s = _mm512_setzero_ps();
  for (int64_t k = 0; k < n; k += 16) {
    const __mmask16 mk = tail_mask(n - k);
    s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, a + k), _mm512_maskz_loadu_ps(mk, b + k), s);
  }
  return _mm512_reduce_add_ps(s);
}

#else  // not x86: the portable path is the only one

bool cpu_has_avx512() { return false; }
bool cpu_has_avx512_bf16() { return false; }
bool cpu_has_avx512_vnni() { return false; }
void linear_f32(const float*, int64_t, int64_t, const PackedMatrix&, int64_t, int64_t, float*, int64_t, bool) {
  throw Error("AVX-512 kernels are not built on this architecture");
}
void linear_bf16(const uint16_t*, int64_t, int64_t, const PackedMatrix&, int64_t, int64_t, float*, int64_t, bool) {
  throw Error("AVX-512 kernels are not built on this architecture");
}
void linear_i8(const int8_t*, const float*, const int32_t*, int64_t, int64_t, int64_t, const PackedMatrix&, int64_t,
               int64_t, float*, int64_t, bool) {
  throw Error("AVX-512 kernels are not built on this architecture");
}
void quantize_blocks(const float*, int64_t, int64_t, int8_t*, float*, int32_t*) {
  throw Error("no AVX-512 on this architecture");
}
void rms_norm(const float*, int64_t, const float*, float, float*) { throw Error("no AVX-512 on this architecture"); }
void silu_mul(const float*, const float*, int64_t, float*) { throw Error("no AVX-512 on this architecture"); }
void exp_inplace(float*, int64_t) { throw Error("no AVX-512 on this architecture"); }
void to_bf16(const float*, int64_t, uint16_t*) { throw Error("no AVX-512 on this architecture"); }
float dot(const float*, const float*, int64_t) { throw Error("no AVX-512 on this architecture"); }

#endif

}  // namespace isc::kernels::avx512
