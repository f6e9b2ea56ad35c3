// Lookups over the generated Unicode tables: binary search, with a direct table for Latin-1
// because nearly all tokenizer input is ASCII.
#include "text/unicode.h"

#include <algorithm>
#include <array>

namespace isc {
namespace {

UCat lookup_category(char32_t cp) {
  using unicode_data::kCategoryRanges;
  const auto* end = kCategoryRanges + unicode_data::kCategoryRangeCount;
  const auto* it = std::upper_bound(kCategoryRanges, end, uint32_t(cp),
                                    [](uint32_t v, const unicode_data::CategoryRange& r) { return v < r.first; });
  if (it == kCategoryRanges) return UCat::Cn;
  --it;
  return cp <= it->last ? UCat(it->cat) : UCat::Cn;
}

const std::array<UCat, 256>& latin1_categories() {
  static const std::array<UCat, 256> table = [] {
    std::array<UCat, 256> t{};
    for (char32_t c = 0; c < 256; ++c) t[c] = lookup_category(c);
    return t;
  }();
  return table;
}

char32_t lookup_case(const unicode_data::CaseMapping* table, size_t n, char32_t cp) {
  const auto* end = table + n;
  const auto* it = std::lower_bound(table, end, uint32_t(cp),
                                    [](const unicode_data::CaseMapping& m, uint32_t v) { return m.from < v; });
  return (it != end && it->from == cp) ? char32_t(it->to) : cp;
}

}  // namespace

UCat unicode_category(char32_t cp) {
  if (cp < 256) return latin1_categories()[cp];
  return lookup_category(cp);
}

bool unicode_is_white_space(char32_t cp) {
  for (size_t i = 0; i < unicode_data::kWhiteSpaceRangeCount; ++i) {
    const auto& r = unicode_data::kWhiteSpaceRanges[i];
    if (cp < r.first) return false;
    if (cp <= r.last) return true;
  }
  return false;
}

char32_t unicode_to_lower(char32_t cp) {
  if (cp < 128) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  return lookup_case(unicode_data::kLowerMap, unicode_data::kLowerMapCount, cp);
}

char32_t unicode_to_upper(char32_t cp) {
  if (cp < 128) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  return lookup_case(unicode_data::kUpperMap, unicode_data::kUpperMapCount, cp);
}

}  // namespace isc
