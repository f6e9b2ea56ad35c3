// UTF-8 decoding and encoding for the tokenizer. Invalid bytes never stop decoding: each one
// becomes its own code unit in U+DC80..U+DCFF (lone surrogates, which valid UTF-8 cannot hold),
// so splitting stays byte-exact on arbitrary input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace isc::utf8 {

constexpr char32_t kInvalidByteBase = 0xDC00;

inline bool is_invalid_byte_marker(char32_t cp) { return cp >= 0xDC80 && cp <= 0xDCFF; }

// Decodes the sequence starting at s[i]; sets len to the bytes consumed (>= 1). Returns the code
// point, or kInvalidByteBase + byte (len 1) for an invalid, overlong, surrogate or truncated sequence.
inline char32_t decode(std::string_view s, size_t i, size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  len = 1;
  if (b0 < 0x80) return b0;
  size_t need;
  char32_t cp;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) { need = 1; cp = b0 & 0x1F; min = 0x80; }
  else if ((b0 & 0xF0) == 0xE0) { need = 2; cp = b0 & 0x0F; min = 0x800; }
  else if ((b0 & 0xF8) == 0xF0) { need = 3; cp = b0 & 0x07; min = 0x10000; }
  else return kInvalidByteBase + b0;
  if (i + need >= s.size()) return kInvalidByteBase + b0;  // truncated
  for (size_t k = 1; k <= need; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return kInvalidByteBase + b0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return kInvalidByteBase + b0;
  len = need + 1;
  return cp;
}

inline void append(std::string& out, char32_t cp) {
  if (is_invalid_byte_marker(cp)) {
    out.push_back(static_cast<char>(cp - kInvalidByteBase));
  } else if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

inline std::string encode(char32_t cp) {
  std::string s;
  append(s, cp);
  return s;
}

// Code points of s (invalid bytes as markers) and, when offsets is given, the byte offset of each
// code point plus a final entry s.size().
inline std::vector<char32_t> decode_all(std::string_view s, std::vector<uint32_t>* offsets = nullptr) {
  std::vector<char32_t> cps;
  cps.reserve(s.size());
  if (offsets) { offsets->clear(); offsets->reserve(s.size() + 1); }
  for (size_t i = 0; i < s.size();) {
    size_t len;
    char32_t cp = decode(s, i, len);
    if (offsets) offsets->push_back(static_cast<uint32_t>(i));
    cps.push_back(cp);
    i += len;
  }
  if (offsets) offsets->push_back(static_cast<uint32_t>(s.size()));
  return cps;
}

inline bool is_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t len;
    if (is_invalid_byte_marker(decode(s, i, len))) return false;
    i += len;
  }
  return true;
}

}  // namespace isc::utf8
