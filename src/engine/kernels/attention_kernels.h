// The per-instruction-set attention kernels behind engine/attention.h (internal): one kv group's
// query heads over one sequence's cache, in portable/, avx2/ and avx512/; attention.cpp dispatches.
#pragma once
#include <cstdint>

#include "engine/attention.h"
#include "engine/kernels/kernels.h"

namespace isc::kernels {

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

// Heads [0, gh) (gh ≤ kMaxHeadSet) at q + h·hd over keys [0, n) of one kv head; s: gh rows of scratch
// scores, sld apart (sld a multiple of kKeyBlock, ≥ n); out + h·hd. T: float, uint16_t (bf16) or
// int8_t; int8: ksc / vsc hold each key's and value's scale, qz the quantised query (a score is
// (q·k_int) · k_scale, a value row's weight p · v_scale); other types pass nullptr.
#define ISC_ATTEND_DECL                                                                                       \
  template <typename T>                                                                                       \
  void attend(int gh, const float* q, const T* keys, const T* vals, const float* ksc, const float* vsc,      \
              const QuantQuery* qz, int64_t n, int64_t hd, float scale, float* s, int64_t sld, float* out);

namespace portable { ISC_ATTEND_DECL }
namespace avx2 { ISC_ATTEND_DECL }
namespace avx512 { ISC_ATTEND_DECL }  // int8 needs VNNI
#undef ISC_ATTEND_DECL

// Each folder's attention file instantiates attend for the three cache types.
#define ISC_ATTEND_INSTANTIATE(T)                                                                      \
  template void attend<T>(int, const float*, const T*, const T*, const float*, const float*,           \
                          const QuantQuery*, int64_t, int64_t, float, float*, int64_t, float*);

}  // namespace isc::kernels
