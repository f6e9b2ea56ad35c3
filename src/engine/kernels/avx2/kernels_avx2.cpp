// AVX2 + FMA matmul tiles and row kernels. A tile of MR rows × NR panels keeps 2·MR·NR ymm
// accumulators (a 16-column panel is two ymm) and walks k in one fixed order; tile sizes only
// decide which lanes run together, so a row's result never depends on the rows around it.
#include "engine/kernels/avx2/kernels_avx2.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"

namespace isc::kernels::avx2 {

#if ISC_HAVE_X86_AVX2

bool cpu_has_avx2() {
  // CPUID leaf 1: FMA (ECX 12), OSXSAVE (ECX 27), AVX (ECX 28); leaf 7: AVX2 (EBX 5); XCR0 bits
  // 1–2: the OS saves xmm and ymm state across context switches.
  uint32_t a, b, c, d;
  __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
  if (!(c & (1u << 12)) || !(c & (1u << 27)) || !(c & (1u << 28))) return false;
  uint32_t xlo, xhi;
  __asm__("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  if ((xlo & 0x6) != 0x6) return false;
  __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
  if (a < 7) return false;
  __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
  return (b & (1u << 5)) != 0;
}

namespace {

constexpr int kMaxPanels = 4;  // panels per group of the walk (run_tiles), and NR at most
constexpr int kMaxRows = 6;

// Stores one accumulator (8 columns, `cols` of them valid), adding to what is there if asked.
ISC_AVX2 inline void store_cols(float* dst, __m256 v, int64_t cols, bool accumulate) {
  if (accumulate) v = _mm256_add_ps(load8(dst, cols), v);
  store8(dst, v, cols);
}

template <int MR, int NR>
ISC_AVX2 void tile_f32(const float* x, int64_t ldx, const float* w, int64_t pstride, int64_t k, float* y,
                       int64_t ldy, int64_t ncols, bool accumulate) {
  __m256 acc[MR][2 * NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < 2 * NR; ++j) acc[i][j] = _mm256_setzero_ps();
  for (int64_t kk = 0; kk < k; ++kk) {
    __m256 wv[2 * NR];
#pragma GCC unroll 8
    for (int j = 0; j < 2 * NR; ++j) wv[j] = _mm256_load_ps(w + (j / 2) * pstride + kk * 16 + (j % 2) * 8);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m256 xb = _mm256_broadcast_ss(x + i * ldx + kk);
#pragma GCC unroll 8
      for (int j = 0; j < 2 * NR; ++j) acc[i][j] = _mm256_fmadd_ps(xb, wv[j], acc[i][j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < 2 * NR; ++j)
      if (ncols > 8 * j) store_cols(y + i * ldy + 8 * j, acc[i][j], ncols - 8 * j, accumulate);
}

// BF16 pairs [k/2][16][2]: one 32-bit lane holds a column's (even k, odd k) weights; the even one is
// widened by a shift, the odd one by masking the low half. Per element: acc = fma(x_even, w_even,
// acc), then acc = fma(x_odd, w_odd, acc), pairs in increasing k. The loop order keeps registers
// in bounds: one panel (4 widened weights) with rows inside, or several panels with the rows' few
// broadcasts outside (the compiler keeps a broadcast live across panels either way).
template <int MR, int NR>
ISC_AVX2 void tile_bf16(const float* x, int64_t ldx, const uint16_t* w, int64_t pstride, int64_t kpairs,
                        float* y, int64_t ldy, int64_t ncols, bool accumulate) {
  const __m256i high = _mm256_set1_epi32(static_cast<int32_t>(0xFFFF0000u));
  __m256 acc[MR][2 * NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < 2 * NR; ++j) acc[i][j] = _mm256_setzero_ps();
  for (int64_t kk = 0; kk < kpairs; ++kk) {
    __m256 we[2 * NR], wo[2 * NR];
#pragma GCC unroll 8
    for (int j = 0; j < 2 * NR; ++j) {
      const __m256i wp =
          _mm256_load_si256(reinterpret_cast<const __m256i*>(w + (j / 2) * pstride + kk * 32 + (j % 2) * 16));
      we[j] = _mm256_castsi256_ps(_mm256_slli_epi32(wp, 16));
      wo[j] = _mm256_castsi256_ps(_mm256_and_si256(wp, high));
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m256 xe = _mm256_broadcast_ss(x + i * ldx + 2 * kk), xo = _mm256_broadcast_ss(x + i * ldx + 2 * kk + 1);
#pragma GCC unroll 8
      for (int j = 0; j < 2 * NR; ++j) acc[i][j] = _mm256_fmadd_ps(xo, wo[j], _mm256_fmadd_ps(xe, we[j], acc[i][j]));
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < 2 * NR; ++j)
      if (ncols > 8 * j) store_cols(y + i * ldy + 8 * j, acc[i][j], ncols - 8 * j, accumulate);
}

template <typename X, typename W>
using TileFn = void (*)(const X*, int64_t, const W*, int64_t, int64_t, float*, int64_t, int64_t, bool);

// Per row count MR (index MR − 1): the widest tile whose accumulators, weights and broadcasts fit
// the 16 ymm registers (checked in the generated code: no spills in the k loop), with its panel
// count, and the one-panel tile for a group's last panels. F32: 1 row × 4 panels (8 accumulators,
// weights as memory operands), 2 × 2, 3–6 × 1 (≤ 12 + 2 weights + 1). BF16 widens each weight
// into two registers: 1 × 4, then 2–5 rows × 1 panel (≤ 10 + 4 + 2 broadcasts).
template <typename X, typename W>
struct Tiles {
  int max_rows;
  int panels[kMaxRows];
  TileFn<X, W> wide[kMaxRows];
  TileFn<X, W> one[kMaxRows];
};

const Tiles<float, float> kF32Tiles = {
    6,
    {4, 2, 1, 1, 1, 1},
    {tile_f32<1, 4>, tile_f32<2, 2>, tile_f32<3, 1>, tile_f32<4, 1>, tile_f32<5, 1>, tile_f32<6, 1>},
    {tile_f32<1, 1>, tile_f32<2, 1>, tile_f32<3, 1>, tile_f32<4, 1>, tile_f32<5, 1>, tile_f32<6, 1>}};
const Tiles<float, uint16_t> kBf16Tiles = {
    5,
    {4, 1, 1, 1, 1, 1},
    {tile_bf16<1, 4>, tile_bf16<2, 1>, tile_bf16<3, 1>, tile_bf16<4, 1>, tile_bf16<5, 1>, nullptr},
    {tile_bf16<1, 1>, tile_bf16<2, 1>, tile_bf16<3, 1>, tile_bf16<4, 1>, tile_bf16<5, 1>, nullptr}};

// Walks groups of kMaxPanels panels outside and row blocks of x inside, so a group's weights stay
// in cache while every row passes over them. `kdim` is what the tile loops over (k, or k pairs).
template <typename X, typename W>
void run_tiles(const Tiles<X, W>& tiles, const X* x, int64_t m, int64_t ldx, const W* w, int64_t pstride,
               int64_t kdim, int64_t n, int64_t p0, int64_t p1, float* y, int64_t ldy, bool accumulate) {
  for (int64_t g = p0; g < p1; g += kMaxPanels) {
    const int64_t g1 = std::min<int64_t>(p1, g + kMaxPanels);
    for (int64_t i = 0; i < m; i += tiles.max_rows) {
      const int mr = static_cast<int>(std::min<int64_t>(tiles.max_rows, m - i));
      const int nr = tiles.panels[mr - 1];
      for (int64_t p = g; p < g1;) {
        const bool wide = p + nr <= g1;
        const int64_t ncols = std::min<int64_t>((wide ? nr : 1) * 16, n - p * 16);
        (wide ? tiles.wide : tiles.one)[mr - 1](x + i * ldx, ldx, w + p * pstride, pstride, kdim, y + i * ldy + p * 16,
                                                ldy, ncols, accumulate);
        p += wide ? nr : 1;
      }
    }
  }
}

// I8: weight bytes (q + 128) zero-extended to int16, four columns × four k per ymm; the activation
// quad x[4k..4k+3] sign-extended to int16 and repeated; vpmaddwd gives exact pair sums (|·| ≤ 2·255·127),
// added in int32 over one block, then the pairs are combined per column (combine_pairs), the +128
// is removed (128 · the block's Σx) and the block folded into the fp32 accumulator by one FMA,
// blocks in increasing order: the same integers and the same fp32 steps as the portable kernel.
// 2 rows × 4 groups of int32 partials + 4 weight groups + 2 activation quads: 14 ymm (3 rows spill
// in the k loop); the fp32 block accumulators, touched once a block, may live in memory.
constexpr int kMaxRowsI8 = 2;

template <int MR, int NR>
ISC_AVX2 void tile_i8(const int8_t* x, int64_t ldx, const float* xs, const int32_t* xsum, int64_t ldb,
                      const uint8_t* w, int64_t pstride, int64_t blocks, const float* w_scale, float* y, int64_t ldy,
                      int64_t ncols, bool accumulate) {
  constexpr int64_t kQuads = kQuantBlock / 4;
  __m256 facc[MR][2 * NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < 2 * NR; ++j) facc[i][j] = _mm256_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    __m256i acc[MR][4 * NR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
      for (int g = 0; g < 4 * NR; ++g) acc[i][g] = _mm256_setzero_si256();
    const uint8_t* wb = w + b * kQuads * 64;
    for (int64_t kk = 0; kk < kQuads; ++kk) {
      __m256i xq[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        int32_t q4;
        std::memcpy(&q4, x + i * ldx + b * kQuantBlock + 4 * kk, 4);
        xq[i] = _mm256_cvtepi8_epi16(_mm_set1_epi32(q4));
      }
#pragma GCC unroll 16
      for (int g = 0; g < 4 * NR; ++g) {
        const __m256i wv = _mm256_cvtepu8_epi16(
            _mm_load_si128(reinterpret_cast<const __m128i*>(wb + (g / 4) * pstride + kk * 64 + (g % 4) * 16)));
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) acc[i][g] = _mm256_add_epi32(acc[i][g], _mm256_madd_epi16(wv, xq[i]));
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m256i bias = _mm256_set1_epi32(xsum[i * ldb + b] * 128);
      const __m256 sc = _mm256_set1_ps(xs[i * ldb + b]);
#pragma GCC unroll 8
      for (int j = 0; j < 2 * NR; ++j) {
        const __m256i exact = _mm256_sub_epi32(combine_pairs(acc[i][2 * j], acc[i][2 * j + 1]), bias);
        facc[i][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(exact), sc, facc[i][j]);
      }
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < 2 * NR; ++j) {
    if (ncols <= 8 * j) continue;
    const __m256 ws = _mm256_loadu_ps(w_scale + 8 * j);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      float* dst = y + i * ldy + 8 * j;
      __m256 v = opaque(_mm256_mul_ps(facc[i][j], ws));
      if (accumulate) v = _mm256_add_ps(load8(dst, ncols - 8 * j), v);
      store8(dst, v, ncols - 8 * j);
    }
  }
}

using TileI8Fn = void (*)(const int8_t*, int64_t, const float*, const int32_t*, int64_t, const uint8_t*, int64_t,
                          int64_t, const float*, float*, int64_t, int64_t, bool);
// one row: 2 panels (8 int32 partials); two rows: one panel
const TileI8Fn kI8Tiles[kMaxRowsI8] = {tile_i8<1, 2>, tile_i8<2, 1>};
constexpr int i8_panels_for_rows(int mr) { return mr == 1 ? 2 : 1; }

}  // namespace

void linear_f32(const float* x, int64_t m, int64_t ldx, const PackedMatrix& w, int64_t p0, int64_t p1,
                float* y, int64_t ldy, bool accumulate) {
  run_tiles(kF32Tiles, x, m, ldx, static_cast<const float*>(w.data()), w.k_padded() * 16,
            w.k_padded(), w.n(), p0, p1, y, ldy, accumulate);
}

void linear_bf16(const float* x, int64_t m, int64_t ldx, const PackedMatrix& w, int64_t p0, int64_t p1,
                 float* y, int64_t ldy, bool accumulate) {
  run_tiles(kBf16Tiles, x, m, ldx, static_cast<const uint16_t*>(w.data()),
            w.k_padded() * 16, w.k_padded() / 2, w.n(), p0, p1, y, ldy, accumulate);
}

void linear_i8(const int8_t* x, const float* x_scale, const int32_t* x_sum, int64_t m, int64_t ldx, int64_t ldb,
               const PackedMatrix& w, int64_t p0, int64_t p1, float* y, int64_t ldy, bool accumulate) {
  const int64_t pstride = w.k_padded() * 16;
  const auto* wd = static_cast<const uint8_t*>(w.data());
  const int64_t blocks = w.k_padded() / kQuantBlock;
  for (int64_t g = p0; g < p1; g += kMaxPanels) {
    const int64_t g1 = std::min<int64_t>(p1, g + kMaxPanels);
    for (int64_t i = 0; i < m; i += kMaxRowsI8) {
      const int mr = static_cast<int>(std::min<int64_t>(kMaxRowsI8, m - i));
      for (int64_t p = g; p < g1;) {
        const int nr = p + i8_panels_for_rows(mr) <= g1 ? i8_panels_for_rows(mr) : 1;
        const TileI8Fn tile = nr == 1 && mr == 1 ? tile_i8<1, 1> : kI8Tiles[mr - 1];
        tile(x + i * ldx, ldx, x_scale + i * ldb, x_sum + i * ldb, ldb, wd + p * pstride, pstride, blocks,
             w.scales() + p * 16, y + i * ldy + p * 16, ldy, std::min<int64_t>(nr * 16, w.n() - p * 16), accumulate);
        p += nr;
      }
    }
  }
}

// Same arithmetic as the portable quantize_blocks: q = x · (127/max|x|) rounded to nearest even
// (vcvtps2dq under the default rounding mode), zeros past n.
ISC_AVX2 void quantize_blocks(const float* x, int64_t n, int64_t kp, int8_t* q, float* scales, int32_t* sums) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  for (int64_t b = 0; b * kQuantBlock < kp; ++b) {
    const int64_t k0 = b * kQuantBlock, left = std::max<int64_t>(0, n - k0);
    __m256 v[4];
    __m256 mx = _mm256_setzero_ps();
    for (int c = 0; c < 4; ++c) {
      v[c] = left > 8 * c ? load8(x + k0 + 8 * c, left - 8 * c) : _mm256_setzero_ps();
      mx = _mm256_max_ps(mx, _mm256_and_ps(v[c], abs_mask));
    }
    const float amax = hmax8(mx);
    const __m256 inv = _mm256_set1_ps(amax > 0.0f ? 127.0f / amax : 0.0f);
    __m256i qi[4];
    for (int c = 0; c < 4; ++c) qi[c] = _mm256_cvtps_epi32(_mm256_mul_ps(v[c], inv));
    // int32 → int8 (values in −127..127, no saturation), then undo the per-lane interleave of the packs
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(qi[0], qi[1]), _mm256_packs_epi32(qi[2], qi[3]));
    const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + k0), ordered);
    scales[b] = amax / 127.0f;
    sums[b] = hsum8_epi32(_mm256_add_epi32(_mm256_add_epi32(qi[0], qi[1]), _mm256_add_epi32(qi[2], qi[3])));
  }
}

ISC_AVX2 void round_bf16(const float* x, int64_t n, float* out) {
  const __m256i bias = _mm256_set1_epi32(0x7FFF), one = _mm256_set1_epi32(1);
  const __m256i high = _mm256_set1_epi32(static_cast<int32_t>(0xFFFF0000u));
  const __m256 qnan = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000));
  for (int64_t k = 0; k < n; k += 8) {
    const __m256 v = load8(x + k, n - k);
    const __m256i u = _mm256_castps_si256(v);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), one);
    const __m256 r = _mm256_castsi256_ps(_mm256_and_si256(_mm256_add_epi32(u, _mm256_add_epi32(bias, lsb)), high));
    store8(out + k, _mm256_blendv_ps(r, qnan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q)), n - k);
  }
}

ISC_AVX2 void to_bf16(const float* x, int64_t n, uint16_t* out) {
  const __m256i bias = _mm256_set1_epi32(0x7FFF), one = _mm256_set1_epi32(1), qnan = _mm256_set1_epi32(0x7FC0);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256 v = _mm256_loadu_ps(x + k);
    const __m256i u = _mm256_castps_si256(v);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), one);
    __m256i r = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(bias, lsb)), 16);
    r = _mm256_blendv_epi8(r, qnan, _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
    // 0..0xFFFF packs to uint16 without saturation; the pack works per 128-bit lane
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), _MM_SHUFFLE(3, 1, 2, 0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + k), _mm256_castsi256_si128(packed));
  }
  for (; k < n; ++k) out[k] = kernels::to_bf16(x[k]);
}

ISC_AVX2 void rms_norm(const float* x, int64_t dim, const float* weight, float eps, float* out) {
  __m256 s = _mm256_setzero_ps();
  for (int64_t k = 0; k < dim; k += 8) {
    const __m256 v = load8(x + k, dim - k);
    s = _mm256_fmadd_ps(v, v, s);
  }
  const float r = 1.0f / std::sqrt(hsum8(s) / static_cast<float>(dim) + eps);
  const __m256 rv = _mm256_set1_ps(r);
  for (int64_t k = 0; k < dim; k += 8) {
    const __m256 v = _mm256_mul_ps(load8(x + k, dim - k), rv);
    store8(out + k, _mm256_mul_ps(v, load8(weight + k, dim - k)), dim - k);
  }
}

ISC_AVX2 void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int64_t k = 0; k < n; k += 8) {
    const __m256 g = load8(gate + k, n - k);
    const __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), g))));
    store8(out + k, _mm256_mul_ps(s, load8(up + k, n - k)), n - k);
  }
}

ISC_AVX2 void exp_inplace(float* x, int64_t n) {
  for (int64_t k = 0; k < n; k += 8) store8(x + k, exp256(load8(x + k, n - k)), n - k);
}

#else  // not x86: the portable path is the only one

bool cpu_has_avx2() { return false; }
void linear_f32(const float*, int64_t, int64_t, const PackedMatrix&, int64_t, int64_t, float*, int64_t, bool) {
  throw Error("AVX2 kernels are not built on this architecture");
}
void linear_bf16(const float*, int64_t, int64_t, const PackedMatrix&, int64_t, int64_t, float*, int64_t, bool) {
  throw Error("AVX2 kernels are not built on this architecture");
}
void linear_i8(const int8_t*, const float*, const int32_t*, int64_t, int64_t, int64_t, const PackedMatrix&, int64_t,
               int64_t, float*, int64_t, bool) {
  throw Error("AVX2 kernels are not built on this architecture");
}
void quantize_blocks(const float*, int64_t, int64_t, int8_t*, float*, int32_t*) { throw Error("no AVX2 here"); }
void round_bf16(const float*, int64_t, float*) { throw Error("no AVX2 on this architecture"); }
void rms_norm(const float*, int64_t, const float*, float, float*) { throw Error("no AVX2 on this architecture"); }
void silu_mul(const float*, const float*, int64_t, float*) { throw Error("no AVX2 on this architecture"); }
void exp_inplace(float*, int64_t) { throw Error("no AVX2 on this architecture"); }
void to_bf16(const float*, int64_t, uint16_t*) { throw Error("no AVX2 on this architecture"); }

#endif

}  // namespace isc::kernels::avx2
