// ggml tensor element types as stored in GGUF files: ids, names, block geometry (elements per block,
// bytes per block) and which ones isc can dequantise. Layout facts follow ggml's definitions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"

namespace isc {

// Ids are ggml's; gaps (4, 5, 31-33, 36-38) are types ggml has since removed.
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40, Q1_0 = 41,
};

// Elements per K-quant super-block.
inline constexpr int64_t kQK_K = 256;

// What isc knows about one type: its name, block geometry and whether it dequantises it.
struct GgmlTypeTraits {
  const char* name;
  int64_t block_elements;
  size_t block_bytes;
  bool can_dequantize;
};

// nullptr for an id ggml does not (or no longer) define.
inline const GgmlTypeTraits* ggml_type_traits(GgmlType type) {
  // Indexed by id; a null name marks a gap.
  static constexpr GgmlTypeTraits kTable[] = {
      {"F32", 1, 4, true},          {"F16", 1, 2, true},         {"Q4_0", 32, 18, true},
      {"Q4_1", 32, 20, true},       {nullptr, 0, 0, false},      {nullptr, 0, 0, false},
      {"Q5_0", 32, 22, true},       {"Q5_1", 32, 24, true},      {"Q8_0", 32, 34, true},
      {"Q8_1", 32, 40, false},      {"Q2_K", 256, 84, true},     {"Q3_K", 256, 110, true},
      {"Q4_K", 256, 144, true},     {"Q5_K", 256, 176, true},    {"Q6_K", 256, 210, true},
      {"Q8_K", 256, 292, true},     {"IQ2_XXS", 256, 66, false}, {"IQ2_XS", 256, 74, false},
      {"IQ3_XXS", 256, 98, false},  {"IQ1_S", 256, 50, false},   {"IQ4_NL", 32, 18, false},
      {"IQ3_S", 256, 110, false},   {"IQ2_S", 256, 82, false},   {"IQ4_XS", 256, 136, false},
      {"I8", 1, 1, false},          {"I16", 1, 2, false},        {"I32", 1, 4, false},
      {"I64", 1, 8, false},         {"F64", 1, 8, false},        {"IQ1_M", 256, 56, false},
      {"BF16", 1, 2, true},         {nullptr, 0, 0, false},      {nullptr, 0, 0, false},
      {nullptr, 0, 0, false},       {"TQ1_0", 256, 54, false},   {"TQ2_0", 256, 66, false},
      {nullptr, 0, 0, false},       {nullptr, 0, 0, false},      {nullptr, 0, 0, false},
      {"MXFP4", 32, 17, false},     {"NVFP4", 64, 36, false},    {"Q1_0", 128, 18, false},
  };
  const auto id = static_cast<uint32_t>(type);
  if (id >= sizeof(kTable) / sizeof(kTable[0]) || kTable[id].name == nullptr) return nullptr;
  return &kTable[id];
}

// True when the id names a type whose block geometry isc knows (it may still not dequantise it).
inline bool ggml_type_known(GgmlType type) { return ggml_type_traits(type) != nullptr; }

// "Q4_1" etc; "type#N" for an unknown id.
inline std::string ggml_type_name(GgmlType type) {
  if (const auto* t = ggml_type_traits(type)) return t->name;
  return "type#" + std::to_string(static_cast<uint32_t>(type));
}

inline const GgmlTypeTraits& ggml_known_type_traits(GgmlType type) {
  if (const auto* t = ggml_type_traits(type)) return *t;
  throw Error("unknown ggml tensor type id " + std::to_string(static_cast<uint32_t>(type)));
}

// Elements per block (1 for F32/F16/BF16, 32, 256 ...); throws isc::Error for an unknown id.
inline int64_t ggml_block_elements(GgmlType type) { return ggml_known_type_traits(type).block_elements; }

// Bytes per block; throws isc::Error for an unknown id.
inline size_t ggml_block_bytes(GgmlType type) { return ggml_known_type_traits(type).block_bytes; }

// F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K Q8_K.
inline bool ggml_can_dequantize(GgmlType type) {
  const auto* t = ggml_type_traits(type);
  return t != nullptr && t->can_dequantize;
}

}  // namespace isc
