// Attention per (query row, kv head): the heads sharing a kv head run together so each key block
// and value row is loaded once. An int8 cache is widened to fp32 in registers (scales applied per key
// to the score and per value row to its softmax weight); every sum stays fp32. Scores for 16 keys come out of one vector (keys are stored
// transposed); max, exp, sum and the weighted values run in increasing key order.
#include "engine/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstring>


#include "common/error.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/avx512/kernels_avx512.h"
#include "engine/parallel_split.h"

namespace isc::kernels {

namespace {

constexpr int kMaxHeadSet = 4;  // heads of one kv group computed together
// Prefetch distances, in key blocks and value rows ahead, by bytes per element: memory latency is
// what decode attention waits on, so the narrower the cache the more rows ahead (measured at batch 64,
// context 300: bf16 2/32 vs 1/8 +5 %, int8 4/64 vs 2/24 +4 %).
template <typename T> constexpr int64_t kKeyAhead = sizeof(T) == 1 ? 4 : sizeof(T) == 2 ? 2 : 1;
template <typename T> constexpr int64_t kValueAhead = sizeof(T) == 1 ? 64 : sizeof(T) == 2 ? 32 : 8;

// The query heads of one kv group quantised for an int8 cache (kernels::quantize_blocks per head):
// head h's bytes at q + h·ld (ld = head_dim rounded up to kQuantBlock), its nb block scales and sums
// at scale/sum + h·nb.
struct QuantQuery {
  const int8_t* q;
  const float* scale;
  const int32_t* sum;
  int64_t ld, nb;
};

// Scores of an int8 cache, plain: per block of kQuantBlock dimensions an exact integer sum, then
// acc = fma(float(sum), q_scale, acc) over blocks in order; score = acc · k_scale · scale.
void scores_i8_portable(int gh, const QuantQuery& qz, const uint8_t* keys, const float* ksc, int64_t n, int64_t hd,
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

// Heads [0, gh) at q + h·hd over keys [0, n); s: gh rows of scratch, sld apart. int8 (T = int8_t):
// ksc / vsc hold each key's and value's scale; a score is (q·k_int) · k_scale, a value row's weight
// p · v_scale. Other types pass nullptr.
template <typename T>
void attend_portable(int gh, const float* q, const T* keys, const T* vals, const float* ksc, const float* vsc,
                     const QuantQuery* qz, int64_t n, int64_t hd, float scale, float* s, int64_t sld, float* out) {
  constexpr bool i8 = sizeof(T) == 1;
  if constexpr (i8) scores_i8_portable(gh, *qz, reinterpret_cast<const uint8_t*>(keys), ksc, n, hd, scale, s, sld);
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

#if ISC_HAVE_X86
template <typename T>
ISC_AVX512 inline __m512 load_kv(const T* p, __mmask16 m) {
  if constexpr (sizeof(T) == 2) return avx512::load_bf16(p, m);
  else if constexpr (sizeof(T) == 1) return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p)));
  else return _mm512_maskz_loadu_ps(m, p);
}

// scores_i8_portable with vpdpbusd: the keys (q + 128, unsigned) times 4 query bytes broadcast; the
// +128 comes back out as 128·Σq of the block, so the int32 sums and what follows are the same bits.
template <int GH>
ISC_AVX512_VNNI void scores_i8_avx512(const QuantQuery& qz, const uint8_t* keys, const float* ksc, int64_t n, int64_t hd,
                                      float scale, float* s, int64_t sld) {
  using avx512::tail_mask;
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
  using avx512::tail_mask;
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
      const __m512 e = _mm512_maskz_mov_ps(m, avx512::exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, sh + j), mx)));
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

template <typename T>
void attend_avx512_heads(int gh, const float* q, const T* k, const T* v, const float* ksc, const float* vsc,
                         const QuantQuery* qz, int64_t n, int64_t hd, float scale, float* s, int64_t sld, float* out) {
  switch (gh) {
    case 1: return attend_avx512<1>(q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
    case 2: return attend_avx512<2>(q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
    case 3: return attend_avx512<3>(q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
    default: return attend_avx512<4>(q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
  }
}
#endif

// The heads of kv head `g` for one query row that sees n keys.
void attend_group(const float* q, const KvView& kv, int64_t g, int64_t group, int64_t n, int64_t hd, float scale,
                  float* s, int64_t sld, float* out) {
  if (n <= 0) throw Error("attention: a query must see at least its own key");
  const int64_t off = g * kv.capacity * hd;
  const bool fast = active_isa() != Isa::Portable;
#if ISC_HAVE_X86
  static const bool vnni = avx512::cpu_has_avx512_vnni();
#endif
  for (int64_t h0 = 0; h0 < group; h0 += kMaxHeadSet) {
    const int gh = static_cast<int>(std::min<int64_t>(kMaxHeadSet, group - h0));
    const float* qh = q + h0 * hd;
    float* oh = out + h0 * hd;
    if (kv.int8) {
      const auto* k = static_cast<const int8_t*>(kv.k) + g * kv.capacity * int8_key_dims(hd);
      const auto* v = static_cast<const int8_t*>(kv.v) + off;
      const float* ksc = kv.k_scale + g * kv.capacity;
      const float* vsc = kv.v_scale + g * kv.capacity;
      // the query heads to bytes, per head in blocks of kQuantBlock: a row's own values only
      thread_local std::vector<int8_t> qq;
      thread_local std::vector<float> qs;
      thread_local std::vector<int32_t> qsum;
      const int64_t nb = (hd + kQuantBlock - 1) / kQuantBlock, ld = nb * kQuantBlock;
      if (static_cast<int64_t>(qq.size()) < gh * ld) qq.resize(gh * ld);
      if (static_cast<int64_t>(qs.size()) < gh * nb) qs.resize(gh * nb), qsum.resize(gh * nb);
      for (int h = 0; h < gh; ++h)
        quantize_blocks(qh + h * hd, hd, ld, qq.data() + h * ld, qs.data() + h * nb, qsum.data() + h * nb);
      const QuantQuery qz{qq.data(), qs.data(), qsum.data(), ld, nb};
#if ISC_HAVE_X86
      if (fast && vnni) { attend_avx512_heads(gh, qh, k, v, ksc, vsc, &qz, n, hd, scale, s, sld, oh); continue; }
#endif
      attend_portable(gh, qh, k, v, ksc, vsc, &qz, n, hd, scale, s, sld, oh);
    } else if (kv.bf16) {
      const auto* k = static_cast<const uint16_t*>(kv.k) + off;
      const auto* v = static_cast<const uint16_t*>(kv.v) + off;
#if ISC_HAVE_X86
      if (fast) { attend_avx512_heads(gh, qh, k, v, nullptr, nullptr, nullptr, n, hd, scale, s, sld, oh); continue; }
#endif
      attend_portable(gh, qh, k, v, nullptr, nullptr, nullptr, n, hd, scale, s, sld, oh);
    } else {
      const auto* k = static_cast<const float*>(kv.k) + off;
      const auto* v = static_cast<const float*>(kv.v) + off;
#if ISC_HAVE_X86
      if (fast) { attend_avx512_heads(gh, qh, k, v, nullptr, nullptr, nullptr, n, hd, scale, s, sld, oh); continue; }
#endif
      attend_portable(gh, qh, k, v, nullptr, nullptr, nullptr, n, hd, scale, s, sld, oh);
    }
  }
  (void)fast;
}

// The first key blocks and value rows (and int8 scales) of kv head g, which the loops' own prefetches
// (kKeyAhead, kValueAhead) do not cover: asked for one work item ahead, they arrive while it runs.
void prefetch_start(const KvView& kv, int64_t g, int64_t hd) {
#if ISC_HAVE_X86
  if (active_isa() == Isa::Portable) return;
  const int64_t es = kv.int8 ? 1 : kv.bf16 ? 2 : 4, kd = kv.int8 ? int8_key_dims(hd) : hd;
  const int64_t key_bytes = std::min<int64_t>(4096, kv.capacity * kd * es);
  const int64_t value_bytes = std::min<int64_t>(4096, kv.capacity * hd * es);
  const char* k = static_cast<const char*>(kv.k) + g * kv.capacity * kd * es;
  const char* v = static_cast<const char*>(kv.v) + g * kv.capacity * hd * es;
  for (int64_t o = 0; o < key_bytes; o += 64) _mm_prefetch(k + o, _MM_HINT_T0);
  for (int64_t o = 0; o < value_bytes; o += 64) _mm_prefetch(v + o, _MM_HINT_T0);
  if (kv.int8) {
    for (int64_t o = 0; o < 4 && o * 16 < kv.capacity; ++o) {
      _mm_prefetch(reinterpret_cast<const char*>(kv.k_scale + g * kv.capacity + o * 16), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(kv.v_scale + g * kv.capacity + o * 16), _MM_HINT_T0);
    }
  }
#else
  (void)kv, (void)g, (void)hd;
#endif
}

}  // namespace

void attention(const float* q, int64_t ldq, const std::vector<AttentionSpan>& spans, const AttentionShape& shape,
               float* out, int64_t ldo) {
  const int64_t H = shape.n_heads, KV = shape.n_kv_heads, hd = shape.head_dim;
  if (KV <= 0 || H % KV) throw Error("attention: heads must be a multiple of kv heads");
  const int64_t group = H / KV;
  // (span, row) pairs, alternating from the cheap and the expensive end, so that the contiguous
  // ranges at::parallel_for hands to the threads cost about the same.
  struct Row { const AttentionSpan* span; int64_t i; };
  std::vector<Row> rows;
  int64_t max_keys = 0;
  for (const AttentionSpan& sp : spans) {
    if (sp.pos0 + sp.len > sp.kv.capacity) throw Error("attention: span past its cache's capacity");
    for (int64_t i = 0; i < sp.len; ++i) rows.push_back({&sp, i});
    max_keys = std::max(max_keys, sp.pos0 + sp.len);
  }
  std::vector<Row> order;
  order.reserve(rows.size());
  for (size_t a = 0, b = rows.size(); a < b;) {
    order.push_back(rows[a++]);
    if (a < b) order.push_back(rows[--b]);
  }
  const int64_t sld = (max_keys + 15) / 16 * 16;
  const int64_t items = static_cast<int64_t>(order.size()) * KV;
  parallel_ranges(SplitKind::attention, 0, items, 1, [&](int64_t b, int64_t e) {
    thread_local std::vector<float> scores;
    if (static_cast<int64_t>(scores.size()) < sld * kMaxHeadSet) scores.resize(sld * kMaxHeadSet);
    for (int64_t it = b; it < e; ++it) {
      if (it + 1 < e) prefetch_start(order[(it + 1) / KV].span->kv, (it + 1) % KV, hd);
      const Row& r = order[it / KV];
      const int64_t g = it % KV, row = r.span->row0 + r.i;
      attend_group(q + row * ldq + g * group * hd, r.span->kv, g, group, r.span->pos0 + r.i + 1, hd, shape.scale,
                   scores.data(), sld, out + row * ldo + g * group * hd);
    }
  });
}

}  // namespace isc::kernels
