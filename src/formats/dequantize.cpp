// Dequantisation kernels for the ggml block formats isc reads, one plain loop per format so the
// compiler can vectorise; arithmetic order matches ggml's reference code so results are bit-exact.
#include "formats/dequantize.h"

#include <array>
#include <cstring>
#include <string>

#include "common/error.h"

namespace isc {
namespace {

uint32_t fp16_bits_to_fp32_bits(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return sign | 0x7f800000u | (mantissa << 13);  // inf / NaN keep payload
  if (exponent != 0) return sign | ((exponent + 112) << 23) | (mantissa << 13);
  if (mantissa == 0) return sign;
  // subnormal half: shift the leading one into the implicit position of a normal float
  exponent = 113;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --exponent;
  }
  return sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
}

// All 65536 halves, so the hot loops do one load per conversion.
const float* fp16_table() {
  static const std::array<float, 65536> table = [] {
    std::array<float, 65536> t{};
    for (uint32_t h = 0; h < 65536; ++h) {
      const uint32_t bits = fp16_bits_to_fp32_bits(static_cast<uint16_t>(h));
      std::memcpy(&t[h], &bits, 4);
    }
    return t;
  }();
  return table.data();
}

inline uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t load_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

void dequant_f32(const uint8_t* src, float* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }

void dequant_f16(const uint8_t* src, float* dst, int64_t n) {
  const float* table = fp16_table();
  for (int64_t i = 0; i < n; ++i) dst[i] = table[load_u16(src + 2 * i)];
}

void dequant_bf16(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = static_cast<uint32_t>(load_u16(src + 2 * i)) << 16;
    std::memcpy(dst + i, &bits, 4);
  }
}

// Q8_0: fp16 d, 32 x int8.
void dequant_q8_0(const uint8_t* src, float* dst, int64_t nb) {
  const float* table = fp16_table();
  for (int64_t b = 0; b < nb; ++b, src += 34, dst += 32) {
    const float d = table[load_u16(src)];
    const auto* q = reinterpret_cast<const int8_t*>(src + 2);
    for (int j = 0; j < 32; ++j) dst[j] = static_cast<float>(q[j]) * d;
  }
}

// Q4_0: fp16 d, 16 bytes of nibbles; low nibbles are elements 0..15, high ones 16..31; offset 8.
void dequant_q4_0(const uint8_t* src, float* dst, int64_t nb) {
  const float* table = fp16_table();
  for (int64_t b = 0; b < nb; ++b, src += 18, dst += 32) {
    const float d = table[load_u16(src)];
    const uint8_t* q = src + 2;
    for (int j = 0; j < 16; ++j) {
      dst[j] = static_cast<float>((q[j] & 0x0f) - 8) * d;
      dst[j + 16] = static_cast<float>((q[j] >> 4) - 8) * d;
    }
  }
}

// Q4_1: fp16 d, fp16 m, 16 bytes of nibbles; x = d*q + m.
void dequant_q4_1(const uint8_t* src, float* dst, int64_t nb) {
  const float* table = fp16_table();
  for (int64_t b = 0; b < nb; ++b, src += 20, dst += 32) {
    const float d = table[load_u16(src)];
    const float m = table[load_u16(src + 2)];
    const uint8_t* q = src + 4;
    for (int j = 0; j < 16; ++j) {
      dst[j] = static_cast<float>(q[j] & 0x0f) * d + m;
      dst[j + 16] = static_cast<float>(q[j] >> 4) * d + m;
    }
  }
}

// Q5_0: fp16 d, 32-bit qh (fifth bit of element j is bit j), 16 bytes of nibbles; offset 16.
void dequant_q5_0(const uint8_t* src, float* dst, int64_t nb) {
  const float* table = fp16_table();
  for (int64_t b = 0; b < nb; ++b, src += 22, dst += 32) {
    const float d = table[load_u16(src)];
    const uint32_t qh = load_u32(src + 2);
    const uint8_t* q = src + 6;
    for (int j = 0; j < 16; ++j) {
      const int lo = (q[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (q[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      dst[j] = static_cast<float>(lo - 16) * d;
      dst[j + 16] = static_cast<float>(hi - 16) * d;
    }
  }
}

// Q5_1: fp16 d, fp16 m, 32-bit qh, 16 bytes of nibbles; x = d*q + m.
void dequant_q5_1(const uint8_t* src, float* dst, int64_t nb) {
  const float* table = fp16_table();
  for (int64_t b = 0; b < nb; ++b, src += 24, dst += 32) {
    const float d = table[load_u16(src)];
    const float m = table[load_u16(src + 2)];
    const uint32_t qh = load_u32(src + 4);
    const uint8_t* q = src + 8;
    for (int j = 0; j < 16; ++j) {
      const uint32_t lo = (q[j] & 0x0fu) | (((qh >> j) & 1u) << 4);
      const uint32_t hi = (q[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4);
      dst[j] = static_cast<float>(lo) * d + m;
      dst[j + 16] = static_cast<float>(hi) * d + m;
    }
  }
}

// Q2_K: 16 scale bytes (low nibble scale, high nibble min), 64 bytes of 2-bit quants, fp16 d, dmin.
// Each 32 quant bytes hold 128 elements as four 2-bit planes; each plane is two groups of 16.
void dequant_q2_k(const uint8_t* src, float* dst, int64_t nb) {
  const float* table = fp16_table();
  for (int64_t b = 0; b < nb; ++b, src += 84, dst += kQK_K) {
    const uint8_t* scales = src;
    const float d = table[load_u16(src + 80)];
    const float dmin = table[load_u16(src + 82)];
    float* y = dst;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* q = src + 16 + 32 * half;
      for (int plane = 0; plane < 4; ++plane) {
        const int shift = 2 * plane;
        for (int g = 0; g < 2; ++g) {
          const uint8_t sc = *scales++;
          const float dl = d * static_cast<float>(sc & 0x0f);
          const float ml = dmin * static_cast<float>(sc >> 4);
          for (int l = 0; l < 16; ++l) y[l] = dl * static_cast<float>((q[16 * g + l] >> shift) & 3) - ml;
          y += 16;
        }
      }
    }
  }
}

// Q3_K: 32-byte high-bit mask, 64 bytes of 2-bit quants, 12 bytes of 16 packed 6-bit scales, fp16 d.
// A clear mask bit means the quant is offset by -4.
void dequant_q3_k(const uint8_t* src, float* dst, int64_t nb) {
  const float* table = fp16_table();
  for (int64_t b = 0; b < nb; ++b, src += 110, dst += kQK_K) {
    const uint8_t* hmask = src;
    const uint8_t* packed = src + 96;
    const float d = table[load_u16(src + 108)];
    float dl[16];
    for (int i = 0; i < 16; ++i) {
      const int low = i < 8 ? (packed[i] & 0x0f) : (packed[i - 8] >> 4);
      const int high = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
      dl[i] = d * static_cast<float>((low | (high << 4)) - 32);
    }
    float* y = dst;
    int group = 0;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* q = src + 32 + 32 * half;
      for (int plane = 0; plane < 4; ++plane) {
        const int shift = 2 * plane;
        const uint8_t mask_bit = static_cast<uint8_t>(1u << (4 * half + plane));
        for (int g = 0; g < 2; ++g) {
          const float scale = dl[group++];
          for (int l = 0; l < 16; ++l) {
            const int k = 16 * g + l;
            const int v = ((q[k] >> shift) & 3) - ((hmask[k] & mask_bit) ? 0 : 4);
            y[l] = scale * static_cast<float>(v);
          }
          y += 16;
        }
      }
    }
  }
}

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block's 12 packed bytes:
// bytes 0-3 hold scales 0-3 (+ top bits of scales 4-7), 4-7 mins 0-3 (+ top bits of mins 4-7),
// 8-11 the low nibbles of scales 4-7 and (high nibble) mins 4-7.
inline void k_scale_min(int j, const uint8_t* s, int* scale, int* min) {
  if (j < 4) {
    *scale = s[j] & 63;
    *min = s[j + 4] & 63;
  } else {
    *scale = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
    *min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Scales and mins of the two 32-element sub-blocks of one 64-element pair (Q4_K and Q5_K).
void k_pair_scales(int pair, float d, float dmin, const uint8_t* scales, float* d1, float* m1, float* d2, float* m2) {
  int sc = 0, m = 0;
  k_scale_min(2 * pair, scales, &sc, &m);
  *d1 = d * static_cast<float>(sc);
  *m1 = dmin * static_cast<float>(m);
  k_scale_min(2 * pair + 1, scales, &sc, &m);
  *d2 = d * static_cast<float>(sc);
  *m2 = dmin * static_cast<float>(m);
}

// Q4_K: fp16 d, fp16 dmin, 12 scale bytes, 128 bytes of nibbles; each 32 bytes hold two
// 32-element sub-blocks (low nibbles first).
void dequant_q4_k(const uint8_t* src, float* dst, int64_t nb) {
  const float* table = fp16_table();
  for (int64_t b = 0; b < nb; ++b, src += 144, dst += kQK_K) {
    const float d = table[load_u16(src)];
    const float dmin = table[load_u16(src + 2)];
    const uint8_t* scales = src + 4;
    const uint8_t* q = src + 16;
    for (int pair = 0; pair < 4; ++pair, q += 32) {
      float d1, m1, d2, m2;
      k_pair_scales(pair, d, dmin, scales, &d1, &m1, &d2, &m2);
      float* y = dst + 64 * pair;
      for (int l = 0; l < 32; ++l) y[l] = d1 * static_cast<float>(q[l] & 0x0f) - m1;
      for (int l = 0; l < 32; ++l) y[32 + l] = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

// Q5_K: as Q4_K plus 32 bytes of fifth bits (bit j of byte l belongs to sub-block j, element l).
void dequant_q5_k(const uint8_t* src, float* dst, int64_t nb) {
  const float* table = fp16_table();
  for (int64_t b = 0; b < nb; ++b, src += 176, dst += kQK_K) {
    const float d = table[load_u16(src)];
    const float dmin = table[load_u16(src + 2)];
    const uint8_t* scales = src + 4;
    const uint8_t* qh = src + 16;
    const uint8_t* q = src + 48;
    for (int pair = 0; pair < 4; ++pair, q += 32) {
      float d1, m1, d2, m2;
      k_pair_scales(pair, d, dmin, scales, &d1, &m1, &d2, &m2);
      const int bit1 = 2 * pair, bit2 = 2 * pair + 1;
      float* y = dst + 64 * pair;
      for (int l = 0; l < 32; ++l)
        y[l] = d1 * static_cast<float>((q[l] & 0x0f) | (((qh[l] >> bit1) & 1) << 4)) - m1;
      for (int l = 0; l < 32; ++l)
        y[32 + l] = d2 * static_cast<float>((q[l] >> 4) | (((qh[l] >> bit2) & 1) << 4)) - m2;
    }
  }
}

// Q6_K: 128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16 int8 scales (one per 16
// elements), fp16 d; offset 32. Each 128-element half uses 64 low bytes and 32 high bytes.
void dequant_q6_k(const uint8_t* src, float* dst, int64_t nb) {
  const float* table = fp16_table();
  for (int64_t b = 0; b < nb; ++b, src += 210, dst += kQK_K) {
    const auto* sc = reinterpret_cast<const int8_t*>(src + 192);
    const float d = table[load_u16(src + 208)];
    float ds[16];
    for (int i = 0; i < 16; ++i) ds[i] = d * static_cast<float>(sc[i]);
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = src + 64 * half;
      const uint8_t* qh = src + 128 + 32 * half;
      const float* s = ds + 8 * half;
      float* y = dst + 128 * half;
      for (int l = 0; l < 32; ++l) {
        const int g = l / 16;
        const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = s[g] * static_cast<float>(q1);
        y[l + 32] = s[g + 2] * static_cast<float>(q2);
        y[l + 64] = s[g + 4] * static_cast<float>(q3);
        y[l + 96] = s[g + 6] * static_cast<float>(q4);
      }
    }
  }
}

// Q8_K: float32 d, 256 x int8, 16 int16 block sums (not needed to dequantise).
void dequant_q8_k(const uint8_t* src, float* dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 292, dst += kQK_K) {
    float d = 0;
    std::memcpy(&d, src, 4);
    const auto* q = reinterpret_cast<const int8_t*>(src + 4);
    for (int j = 0; j < kQK_K; ++j) dst[j] = d * static_cast<float>(q[j]);
  }
}

}  // namespace

float fp16_to_fp32(uint16_t bits) { return fp16_table()[bits]; }

float bf16_to_fp32(uint16_t bits) {
  const uint32_t f = static_cast<uint32_t>(bits) << 16;
  float out = 0;
  std::memcpy(&out, &f, 4);
  return out;
}

void dequantize(GgmlType type, const void* src, float* dst, int64_t n) {
  if (!ggml_can_dequantize(type)) throw Error("cannot dequantise tensor type " + ggml_type_name(type));
  const int64_t block = ggml_block_elements(type);
  if (n < 0 || n % block != 0)
    throw Error("dequantise " + ggml_type_name(type) + ": " + std::to_string(n) +
                " elements is not a whole number of " + std::to_string(block) + "-element blocks");
  const auto* s = static_cast<const uint8_t*>(src);
  const int64_t nb = n / block;
  switch (type) {
    case GgmlType::F32: return dequant_f32(s, dst, n);
    case GgmlType::F16: return dequant_f16(s, dst, n);
    case GgmlType::BF16: return dequant_bf16(s, dst, n);
    case GgmlType::Q8_0: return dequant_q8_0(s, dst, nb);
    case GgmlType::Q4_0: return dequant_q4_0(s, dst, nb);
    case GgmlType::Q4_1: return dequant_q4_1(s, dst, nb);
    case GgmlType::Q5_0: return dequant_q5_0(s, dst, nb);
    case GgmlType::Q5_1: return dequant_q5_1(s, dst, nb);
    case GgmlType::Q2_K: return dequant_q2_k(s, dst, nb);
    case GgmlType::Q3_K: return dequant_q3_k(s, dst, nb);
    case GgmlType::Q4_K: return dequant_q4_k(s, dst, nb);
    case GgmlType::Q5_K: return dequant_q5_k(s, dst, nb);
    case GgmlType::Q6_K: return dequant_q6_k(s, dst, nb);
    case GgmlType::Q8_K: return dequant_q8_k(s, dst, nb);
    default: break;
  }
  throw Error("cannot dequantise tensor type " + ggml_type_name(type));  // table and switch disagree
}

}  // namespace isc
