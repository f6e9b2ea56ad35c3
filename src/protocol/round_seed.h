// The sampling seed of one turn, derived from (run seed, condition, item, round, sample) alone,
// so a conversation samples the same tokens whatever else runs beside it or after a resume.
#pragma once
#include <cstdint>
#include <string_view>

namespace isc::protocol {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

inline uint64_t hash_text(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

inline uint64_t turn_seed(uint64_t run_seed, std::string_view condition, std::string_view item_id, int round,
                          int sample = 0) {
  uint64_t h = mix64(run_seed);
  h = mix64(h ^ hash_text(condition));
  h = mix64(h ^ hash_text(item_id));
  h = mix64(h ^ static_cast<uint64_t>(round));
  return mix64(h ^ static_cast<uint64_t>(sample));
}

}  // namespace isc::protocol
