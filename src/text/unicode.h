// Unicode code-point properties the tokenizer's regexes need (general category, White_Space,
// simple case mapping), backed by tables generated from Python's unicodedata.
#pragma once
#include <cstddef>
#include <cstdint>

namespace isc {

// Unicode general categories; the order is fixed by scripts/gen_unicode_tables.py.
enum class UCat : uint8_t {
  Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe,
  Pi, Pf, Po, Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf, Cs, Co, Cn
};
constexpr int kUCatCount = 30;

UCat unicode_category(char32_t cp);
bool unicode_is_white_space(char32_t cp);  // the White_Space property (what \s means)
char32_t unicode_to_lower(char32_t cp);    // simple (1:1) mapping; cp itself when none
char32_t unicode_to_upper(char32_t cp);

inline bool unicode_is_letter(char32_t cp) { return unicode_category(cp) <= UCat::Lo; }
inline bool unicode_is_number(char32_t cp) {
  UCat c = unicode_category(cp);
  return c == UCat::Nd || c == UCat::Nl || c == UCat::No;
}

namespace unicode_data {
struct CategoryRange { uint32_t first, last; uint8_t cat; };
struct CodeRange { uint32_t first, last; };
struct CaseMapping { uint32_t from, to; };
extern const CategoryRange kCategoryRanges[];
extern const size_t kCategoryRangeCount;
extern const CodeRange kWhiteSpaceRanges[];
extern const size_t kWhiteSpaceRangeCount;
extern const CaseMapping kLowerMap[];
extern const size_t kLowerMapCount;
extern const CaseMapping kUpperMap[];
extern const size_t kUpperMapCount;
}  // namespace unicode_data

}  // namespace isc
