// Python-compatible lower-casing and \w tokenisation (see python_text.h). The rules are the ones
// CPython documents for str.lower() and re; the tables come from Python's own unicodedata.
#include "tasks/python_text.h"

#include <algorithm>

#include "text/utf8.h"

namespace isc::tasks {

namespace {

bool in_ranges(const unicode_data::CodeRange* ranges, size_t n, char32_t cp) {
  const auto* end = ranges + n;
  const auto* it = std::upper_bound(ranges, end, uint32_t(cp),
                                    [](uint32_t v, const unicode_data::CodeRange& r) { return v < r.first; });
  if (it == ranges) return false;
  --it;
  return cp <= it->last;
}

bool case_ignorable(char32_t cp) {
  return in_ranges(python_text_data::kCaseIgnorableRanges, python_text_data::kCaseIgnorableRangeCount, cp);
}
bool cased(char32_t cp) { return in_ranges(python_text_data::kCasedRanges, python_text_data::kCasedRangeCount, cp); }

constexpr char32_t kCapitalSigma = 0x03A3, kSmallSigma = 0x03C3, kFinalSigma = 0x03C2;
constexpr char32_t kCapitalIWithDot = 0x0130, kCombiningDotAbove = 0x0307;

// Capital sigma at text[i] lowers to the final form when a cased character precedes it and no cased
// character follows it, case-ignorable characters being skipped on both sides (Unicode's
// Final_Sigma condition, which str.lower() applies to its whole input).
bool final_sigma_at(std::u32string_view text, size_t i) {
  size_t j = i;
  while (j > 0 && case_ignorable(text[j - 1])) --j;
  if (j == 0 || !cased(text[j - 1])) return false;
  size_t k = i + 1;
  while (k < text.size() && case_ignorable(text[k])) ++k;
  return k == text.size() || !cased(text[k]);
}

}  // namespace

bool python_is_word_char(char32_t cp) {
  if (cp < 128) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '_';
  return unicode_is_letter(cp) || unicode_is_number(cp);
}

std::u32string python_lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == kCapitalSigma) {
      out.push_back(final_sigma_at(text, i) ? kFinalSigma : kSmallSigma);
    } else if (c == kCapitalIWithDot) {
      out.push_back(U'i');
      out.push_back(kCombiningDotAbove);
    } else {
      out.push_back(unicode_to_lower(c));
    }
  }
  return out;
}

std::vector<std::string> sklearn_word_tokens(std::string_view utf8, bool lowercase) {
  // Invalid bytes decode to markers in U+DC80..U+DCFF (lone surrogates): not word characters, not
  // cased, not case-ignorable, so they separate tokens exactly like U+FFFD would.
  std::vector<char32_t> decoded = utf8::decode_all(utf8);
  std::u32string text(decoded.begin(), decoded.end());
  if (lowercase) text = python_lower(text);
  std::vector<std::string> tokens;
  size_t i = 0;
  while (i < text.size()) {
    if (!python_is_word_char(text[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && python_is_word_char(text[end])) ++end;
    // \b\w\w+\b only matches a whole run (a match starting inside one fails the leading \b), and
    // only a run of at least two characters.
    if (end - i >= 2) {
      std::string tok;
      for (size_t k = i; k < end; ++k) utf8::append(tok, text[k]);
      tokens.push_back(std::move(tok));
    }
    i = end;
  }
  return tokens;
}

}  // namespace isc::tasks
