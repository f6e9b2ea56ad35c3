// Attention per (query row, kv head), dispatched to the instruction set's kernel (kernels/*/
// attention_*.cpp): the heads sharing a kv head run together so each key block and value row is
// loaded once. An int8 cache is widened to fp32 in registers (scales applied per key to the score
// and per value row to its softmax weight); every sum stays fp32. Max, exp, sum and the weighted
// values run in increasing key order, so a row's result depends on its own keys only.
#include "engine/attention.h"

#include <algorithm>
#include <vector>

#include "common/error.h"
#include "engine/kernels/attention_kernels.h"
#include "engine/kernels/avx2/kernels_avx2.h"
#include "engine/kernels/avx512/kernels_avx512.h"
#include "engine/parallel_split.h"

namespace isc::kernels {

namespace {

// Which kernel runs, per cache type, for the active path: int8 on AVX-512 needs VNNI, and the avx2
// kernels fill that gap where the CPU has AVX2 (every AVX-512 CPU does; still checked).
enum class Path { Portable, Avx2, Avx512 };

Path path_for(const KvView& kv, Isa isa) {
  static const bool vnni = avx512::cpu_has_avx512_vnni(), has_avx2 = avx2::cpu_has_avx2();
  if (isa >= Isa::Avx512 && (!kv.int8 || vnni)) return Path::Avx512;
  if (isa == Isa::Avx2 || (isa >= Isa::Avx512 && has_avx2)) return Path::Avx2;
  return Path::Portable;
}

template <typename T>
void attend_on(Path path, int gh, const float* q, const T* k, const T* v, const float* ksc, const float* vsc,
               const QuantQuery* qz, int64_t n, int64_t hd, float scale, float* s, int64_t sld, float* out) {
  switch (path) {
    case Path::Avx512: return avx512::attend(gh, q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
    case Path::Avx2: return avx2::attend(gh, q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
    case Path::Portable: return portable::attend(gh, q, k, v, ksc, vsc, qz, n, hd, scale, s, sld, out);
  }
}

// The heads of kv head `g` for one query row that sees n keys.
void attend_group(Path path, const float* q, const KvView& kv, int64_t g, int64_t group, int64_t n, int64_t hd,
                  float scale, float* s, int64_t sld, float* out) {
  if (n <= 0) throw Error("attention: a query must see at least its own key");
  const int64_t off = g * kv.capacity * hd;
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
      attend_on(path, gh, qh, k, v, ksc, vsc, &qz, n, hd, scale, s, sld, oh);
    } else if (kv.bf16) {
      const auto* k = static_cast<const uint16_t*>(kv.k) + off;
      const auto* v = static_cast<const uint16_t*>(kv.v) + off;
      attend_on(path, gh, qh, k, v, nullptr, nullptr, nullptr, n, hd, scale, s, sld, oh);
    } else {
      const auto* k = static_cast<const float*>(kv.k) + off;
      const auto* v = static_cast<const float*>(kv.v) + off;
      attend_on(path, gh, qh, k, v, nullptr, nullptr, nullptr, n, hd, scale, s, sld, oh);
    }
  }
}

// The first key blocks and value rows (and int8 scales) of kv head g, which the loops' own prefetches
// (kKeyAhead, kValueAhead) do not cover: asked for one work item ahead, they arrive while it runs.
void prefetch_start(const KvView& kv, int64_t g, int64_t hd, Isa isa) {
#if ISC_HAVE_X86
  if (isa == Isa::Portable) return;
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
  (void)kv, (void)g, (void)hd, (void)isa;
#endif
}

}  // namespace

void attention(const float* q, int64_t ldq, const std::vector<AttentionSpan>& spans, const AttentionShape& shape,
               float* out, int64_t ldo) {
  const int64_t H = shape.n_heads, KV = shape.n_kv_heads, hd = shape.head_dim;
  if (KV <= 0 || H % KV) throw Error("attention: heads must be a multiple of kv heads");
  const int64_t group = H / KV;
  const Isa isa = active_isa();  // read once, outside the threads
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
      if (it + 1 < e) prefetch_start(order[(it + 1) / KV].span->kv, (it + 1) % KV, hd, isa);
      const Row& r = order[it / KV];
      const int64_t g = it % KV, row = r.span->row0 + r.i;
      attend_group(path_for(r.span->kv, isa), q + row * ldq + g * group * hd, r.span->kv, g, group, r.span->pos0 + r.i + 1, hd, shape.scale,
                   scores.data(), sld, out + row * ldo + g * group * hd);
    }
  });
}

}  // namespace isc::kernels
