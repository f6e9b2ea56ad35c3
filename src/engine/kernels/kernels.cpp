// Kernel dispatch (ISA chosen once per process), weight packing and threading over output columns;
// the arithmetic itself lives in one folder per instruction set (portable/, avx2/, avx512/).
#include "engine/kernels/kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/core.h>

#include "common/error.h"
#include "engine/kernels/avx2/kernels_avx2.h"
#include "engine/kernels/avx512/kernels_avx512.h"
#include "engine/kernels/portable/kernels_portable.h"
#include "engine/parallel_split.h"

namespace isc::kernels {

namespace {

Isa detect() {
  if (avx512::cpu_has_avx512_bf16()) return Isa::Avx512Bf16;
  if (avx512::cpu_has_avx512()) return Isa::Avx512;
  if (avx2::cpu_has_avx2()) return Isa::Avx2;
  return Isa::Portable;
}

constexpr Isa kAllIsas[] = {Isa::Portable, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16};

// The path a process starts on: ISC_KERNELS if set, else the best detected. On a bad ISC_KERNELS
// `error` says why and active_isa() throws it (until a test's set_isa picks a path).
struct Start {
  Isa isa = Isa::Portable;
  std::string error;
};

Start start_isa() {
  const Isa best = detected_isa();  // CPUID once per process
  const char* env = std::getenv("ISC_KERNELS");
  if (!env || !*env) return {best, {}};
  for (Isa isa : kAllIsas) {
    if (isa_name(isa) != env) continue;
    if (static_cast<int>(isa) > static_cast<int>(best))
      return {Isa::Portable, fmt::format("ISC_KERNELS={}: this CPU cannot run that kernel path (it has up to {})",
                                         env, isa_name(best))};
    return {isa, {}};
  }
  return {Isa::Portable,
          fmt::format("ISC_KERNELS={}: unknown kernel path (use portable, avx2, avx512 or avx512_bf16)", env)};
}

const Start& start() {
  static const Start s = start_isa();
  return s;
}

// The active path; −1 while a bad ISC_KERNELS is in force.
std::atomic<int>& isa_slot() {
  static std::atomic<int> slot{start().error.empty() ? static_cast<int>(start().isa) : -1};
  return slot;
}

int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

bool has_vnni() {
  static const bool ok = avx512::cpu_has_avx512_vnni();
  return ok;
}

// AVX-512 CPUs have AVX2 too; the avx2 kernels fill the gaps of the avx512 path (bf16 without
// vdpbf16ps, int8 without VNNI), checked rather than assumed.
bool has_avx2() {
  static const bool ok = avx2::cpu_has_avx2();
  return ok;
}

// Splits panels [0, panels) over the threads in whole tiles; the split only decides who computes
// a column, never how.
template <typename F>
void for_panels(int64_t panels, int64_t work_per_panel, const F& f) {
  constexpr int64_t kGroup = 4;
  const int64_t groups = (panels + kGroup - 1) / kGroup;
  // below ~64k multiply-adds per group a thread costs more than it saves
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, work_per_panel * kGroup));
  parallel_ranges(SplitKind::matmul, 0, groups, grain, [&](int64_t g0, int64_t g1) {
    f(g0 * kGroup, std::min(panels, g1 * kGroup));
  });
}

}  // namespace

Isa detected_isa() {
  static const Isa isa = detect();
  return isa;
}
Isa active_isa() {
  const int v = isa_slot().load(std::memory_order_relaxed);
  if (v < 0) throw Error(start().error);
  return static_cast<Isa>(v);
}
void set_isa(Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(detected_isa()))
    throw Error(fmt::format("kernels: this CPU cannot run the {} path", isa_name(isa)));
  isa_slot().store(static_cast<int>(isa));
}
std::string isa_name(Isa isa) {
  switch (isa) {
    case Isa::Portable: return "portable";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Avx512Bf16: return "avx512_bf16";
  }
  return "?";
}

uint16_t to_bf16(float f) {
  if (std::isnan(f)) return 0x7FC0;
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  u += 0x7FFF + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

float from_bf16(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

void to_bf16(const float* x, int64_t n, uint16_t* out) {
  const Isa isa = active_isa();
  if (isa >= Isa::Avx512) return avx512::to_bf16(x, n, out);
  if (isa == Isa::Avx2) return avx2::to_bf16(x, n, out);
  portable::to_bf16(x, n, out);
}

void PackedMatrix::Free::operator()(void* p) const { std::free(p); }

PackedMatrix PackedMatrix::pack(const float* w, int64_t n, int64_t k, WeightType type) {
  if (n <= 0 || k <= 0) throw Error(fmt::format("PackedMatrix: bad shape [{}, {}]", n, k));
  PackedMatrix p;
  p.n_ = n;
  p.k_ = k;
  p.type_ = type;
  p.kp_ = type == WeightType::F32 ? k : type == WeightType::BF16 ? round_up(k, 2) : round_up(k, kQuantBlock);
  const int64_t panels = p.panels();
  const size_t elem = type == WeightType::F32 ? 4 : type == WeightType::BF16 ? 2 : 1;
  p.bytes_ = static_cast<size_t>(panels * 16 * p.kp_) * elem;
  void* mem = std::aligned_alloc(64, static_cast<size_t>(round_up(static_cast<int64_t>(p.bytes_), 64)));
  if (!mem) throw Error(fmt::format("PackedMatrix: out of memory for {} bytes", p.bytes_));
  p.data_.reset(mem);
  std::memset(mem, 0, p.bytes_);
  if (type == WeightType::F32) {
    float* d = static_cast<float*>(mem);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c) d[(r / 16) * p.kp_ * 16 + c * 16 + r % 16] = w[r * k + c];
  } else if (type == WeightType::BF16) {
    uint16_t* d = static_cast<uint16_t*>(mem);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c)
        d[(r / 16) * p.kp_ * 16 + (c / 2) * 32 + (r % 16) * 2 + c % 2] = to_bf16(w[r * k + c]);
  } else {
    // symmetric per output row: q = round_even(w · 127/max|w|), stored as q + 128 (vpdpbusd's
    // unsigned operand); padding stays 0, which only ever meets zero activations
    uint8_t* d = static_cast<uint8_t*>(mem);
    p.scales_.reset(new float[panels * 16]());
    for (int64_t r = 0; r < n; ++r) {
      const float* row = w + r * k;
      float amax = 0.0f;
      for (int64_t c = 0; c < k; ++c) amax = std::max(amax, std::fabs(row[c]));
      const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
      for (int64_t c = 0; c < k; ++c) {
        const int32_t q = std::clamp(static_cast<int32_t>(std::nearbyint(row[c] * inv)), -127, 127);
        d[(r / 16) * p.kp_ * 16 + (c / 4) * 64 + (r % 16) * 4 + c % 4] = static_cast<uint8_t>(q + 128);
      }
      p.scales_[r] = amax / 127.0f;
    }
  }
  return p;
}

void PackedMatrix::unpack_row(int64_t r, float* out) const {
  if (r < 0 || r >= n_) throw Error(fmt::format("PackedMatrix: row {} outside 0..{}", r, n_ - 1));
  const int64_t base = (r / 16) * kp_ * 16;
  if (type_ == WeightType::F32) {
    const float* d = static_cast<const float*>(data_.get()) + base;
    for (int64_t c = 0; c < k_; ++c) out[c] = d[c * 16 + r % 16];
  } else if (type_ == WeightType::BF16) {
    const uint16_t* d = static_cast<const uint16_t*>(data_.get()) + base;
    for (int64_t c = 0; c < k_; ++c) out[c] = from_bf16(d[(c / 2) * 32 + (r % 16) * 2 + c % 2]);
  } else {
    const uint8_t* d = static_cast<const uint8_t*>(data_.get()) + base;
    const float sc = scales_[r];
    for (int64_t c = 0; c < k_; ++c) out[c] = static_cast<float>(d[(c / 4) * 64 + (r % 16) * 4 + c % 4] - 128) * sc;
  }
}

void linear(const float* x, int64_t m, int64_t ldx, const PackedMatrix& w, float* y, int64_t ldy,
            bool accumulate) {
  if (m <= 0) return;
  if (w.empty()) throw Error("linear: empty weight matrix");
  const Isa isa = active_isa();
  const int64_t work = m * w.k_padded() * 16;
  if (w.type() == WeightType::F32) {
    // the kernels read k_padded (== k) columns of x: no conversion needed
    for_panels(w.panels(), work, [&](int64_t p0, int64_t p1) {
      if (isa >= Isa::Avx512) avx512::linear_f32(x, m, ldx, w, p0, p1, y, ldy, accumulate);
      else if (isa == Isa::Avx2) avx2::linear_f32(x, m, ldx, w, p0, p1, y, ldy, accumulate);
      else portable::linear_f32(x, m, ldx, w, p0, p1, y, ldy, accumulate);
    });
    return;
  }
  if (w.type() == WeightType::BF16) {
    const int64_t kp = w.k_padded();
    if (isa == Isa::Avx2 || (isa == Isa::Avx512 && has_avx2())) {
      // x rounded to bf16 but kept as fp32 (what the FMA kernel broadcasts), padded with zeros
      thread_local std::vector<float> xr;
      xr.assign(static_cast<size_t>(m * kp), 0.0f);
      for (int64_t i = 0; i < m; ++i) avx2::round_bf16(x + i * ldx, w.k(), xr.data() + i * kp);
      const float* xp = xr.data();  // the caller's buffer: worker threads have their own `xr`
      for_panels(w.panels(), work, [&](int64_t p0, int64_t p1) {
        avx2::linear_bf16(xp, m, kp, w, p0, p1, y, ldy, accumulate);
      });
      return;
    }
    // x rounded to bf16 once, rows padded with zeros to the pair size
    thread_local std::vector<uint16_t> xb;
    xb.assign(static_cast<size_t>(m * kp), 0);
    for (int64_t i = 0; i < m; ++i) to_bf16(x + i * ldx, w.k(), xb.data() + i * kp);
    const uint16_t* xp = xb.data();  // the caller's buffer: worker threads have their own `xb`
    for_panels(w.panels(), work, [&](int64_t p0, int64_t p1) {
      if (isa == Isa::Avx512Bf16) avx512::linear_bf16(xp, m, kp, w, p0, p1, y, ldy, accumulate);
      else portable::linear_bf16(xp, m, kp, w, p0, p1, y, ldy, accumulate);
    });
    return;
  }
  // I8: every row quantised on its own in blocks (bytes, scales, sums), then exact integer sums
  // (the same integers and fp32 steps on every path, so every path gives the same bits)
  const int64_t kp = w.k_padded(), nb = kp / kQuantBlock;
  thread_local std::vector<int8_t> xq;
  thread_local std::vector<float> xs;
  thread_local std::vector<int32_t> xsum;
  xq.resize(static_cast<size_t>(m * kp));
  xs.resize(static_cast<size_t>(m * nb));
  xsum.resize(static_cast<size_t>(m * nb));
  for (int64_t i = 0; i < m; ++i)
    quantize_blocks(x + i * ldx, w.k(), kp, xq.data() + i * kp, xs.data() + i * nb, xsum.data() + i * nb);
  const int8_t* xp = xq.data();  // the caller's buffers: worker threads have their own
  const float* sp = xs.data();
  const int32_t* up = xsum.data();
  const bool vnni = isa >= Isa::Avx512 && has_vnni();
  const bool madd = !vnni && (isa == Isa::Avx2 || (isa >= Isa::Avx512 && has_avx2()));
  for_panels(w.panels(), work, [&](int64_t p0, int64_t p1) {
    if (vnni) avx512::linear_i8(xp, sp, up, m, kp, nb, w, p0, p1, y, ldy, accumulate);
    else if (madd) avx2::linear_i8(xp, sp, up, m, kp, nb, w, p0, p1, y, ldy, accumulate);
    else portable::linear_i8(xp, sp, up, m, kp, nb, w, p0, p1, y, ldy, accumulate);
  });
}

void quantize_blocks(const float* x, int64_t n, int64_t kp, int8_t* q, float* scales, int32_t* sums) {
  if (kp < n || kp % kQuantBlock) throw Error("quantize_blocks: bad padded length");
  const Isa isa = active_isa();
  if (isa >= Isa::Avx512) return avx512::quantize_blocks(x, n, kp, q, scales, sums);
  if (isa == Isa::Avx2) return avx2::quantize_blocks(x, n, kp, q, scales, sums);
  portable::quantize_blocks(x, n, kp, q, scales, sums);
}

void rms_norm(const float* x, int64_t m, int64_t dim, int64_t ldx, const float* weight, float eps,
              float* out, int64_t ldo) {
  const Isa isa = active_isa();
  for (int64_t i = 0; i < m; ++i) {
    if (isa >= Isa::Avx512) avx512::rms_norm(x + i * ldx, dim, weight, eps, out + i * ldo);
    else if (isa == Isa::Avx2) avx2::rms_norm(x + i * ldx, dim, weight, eps, out + i * ldo);
    else portable::rms_norm(x + i * ldx, dim, weight, eps, out + i * ldo);
  }
}

void silu_mul(const float* gu, int64_t m, int64_t hidden, int64_t ldg, float* out, int64_t ldo) {
  const Isa isa = active_isa();
  for (int64_t i = 0; i < m; ++i) {
    const float* g = gu + i * ldg;
    const float* u = g + hidden;
    float* o = out + i * ldo;
    if (isa >= Isa::Avx512) avx512::silu_mul(g, u, hidden, o);
    else if (isa == Isa::Avx2) avx2::silu_mul(g, u, hidden, o);
    else portable::silu_mul(g, u, hidden, o);
  }
}

void rope(float* x, int64_t m, int64_t heads, int64_t half, int64_t ldx, const float* cos, const float* sin) {
  for (int64_t i = 0; i < m; ++i) {
    const float* c = cos + i * half;
    const float* s = sin + i * half;
    for (int64_t h = 0; h < heads; ++h) {
      float* a = x + i * ldx + h * 2 * half;
      float* b = a + half;
      for (int64_t j = 0; j < half; ++j) {
        const float x1 = a[j], x2 = b[j];
        a[j] = x1 * c[j] - x2 * s[j];
        b[j] = x2 * c[j] + x1 * s[j];
      }
    }
  }
}

void exp_inplace(float* x, int64_t n) {
  const Isa isa = active_isa();
  if (isa >= Isa::Avx512) return avx512::exp_inplace(x, n);
  if (isa == Isa::Avx2) return avx2::exp_inplace(x, n);
  portable::exp_inplace(x, n);
}

}  // namespace isc::kernels
