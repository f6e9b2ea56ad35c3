// Dequantisation of ggml block formats to float32, bit-exact with ggml's reference definitions
// (fp16 scales; K-quants with 256-element super-blocks and 6-bit packed scales/mins).
#pragma once
#include <cstdint>

#include "formats/ggml_types.h"

namespace isc {

// Exact IEEE half -> float conversion (subnormals, infinities and NaN payloads preserved).
float fp16_to_fp32(uint16_t bits);
// bfloat16 -> float: the upper half of a float32.
float bf16_to_fp32(uint16_t bits);

// Dequantises n elements (a multiple of the block size) of raw block data; src needs
// n / ggml_block_elements(type) * ggml_block_bytes(type) readable bytes (no alignment needed).
// Throws isc::Error for a type that cannot be dequantised or an n that is not whole blocks.
void dequantize(GgmlType type, const void* src, float* dst, int64_t n);

}  // namespace isc
