// Text preparation before BPE: a small backtracking regex engine over code points (the subset
// tokenizer.json and llama.cpp pre-tokenizer patterns use), the split steps built on it
// (HF Split/Digits/ByteLevel/Metaspace, llama.cpp regex lists) and the simple normalizers.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace isc {

// A compiled pattern. Supports alternation, groups ((...), (?:...), (?i:...), (?i), (?>...)),
// lookahead (?=...) (?!...), classes with ranges, \p{..}/\P{..} general categories, \s \S \d \D
// \w \W, escapes, ., ^ $ \A \z \b \B, quantifiers ? * + {n} {n,} {n,m} greedy, lazy (?) and
// possessive (+). Anything else is an isc::Error naming the pattern and position.
class Regex {
 public:
  static Regex compile(std::string_view pattern);

  // Non-overlapping matches, leftmost first, as [begin, end) code-point indices; empty matches
  // included. Throws isc::Error if the pattern backtracks beyond a budget on this input.
  std::vector<std::pair<size_t, size_t>> find_all(std::span<const char32_t> text) const;
  // End of the match starting exactly at `start`, or -1.
  long match_at(std::span<const char32_t> text, size_t start) const;

  const std::string& pattern() const;

  struct Program;

 private:
  std::shared_ptr<const Program> prog_;
};

// HF SplitDelimiterBehavior: what happens to the matched part when a piece is split.
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// A piece of text on its way to the BPE model. at_origin: it starts at offset 0 of the input
// (Metaspace's prepend_scheme "first" needs this).
struct TextPiece {
  std::string text;
  bool at_origin = false;
};

struct PreTokenizerStep {
  enum class Kind { RegexSplit, PrefixSpace, Metaspace };
  Kind kind = Kind::RegexSplit;
  std::shared_ptr<const Regex> regex;   // RegexSplit
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;
  std::string replacement;              // Metaspace: the space replacement (UTF-8)
  enum class Prepend { Always, First, Never } prepend = Prepend::Always;
  bool split = true;                    // Metaspace: split before each replacement
};

// Splits every piece by every step in order.
std::vector<TextPiece> pre_tokenize(std::vector<TextPiece> pieces, const std::vector<PreTokenizerStep>& steps);

// Splits code points [0, n) at the given matches according to behavior; returns [begin, end) ranges.
std::vector<std::pair<size_t, size_t>> split_ranges(size_t n, const std::vector<std::pair<size_t, size_t>>& matches,
                                                    SplitBehavior behavior, bool invert);

struct NormalizerStep {
  enum class Kind { Prepend, Replace, Lowercase, Strip };
  Kind kind = Kind::Prepend;
  std::string text;                     // Prepend: prefix; Replace: literal pattern (when no regex)
  std::shared_ptr<const Regex> regex;   // Replace with a Regex pattern
  std::string content;                  // Replace: the replacement
  bool strip_left = false, strip_right = false;
};

std::string normalize(std::string text, const std::vector<NormalizerStep>& steps);

// The GPT-2 split pattern HF's ByteLevel pre-tokenizer uses.
extern const char* const kGpt2SplitPattern;

// The regexes llama.cpp applies, in order, for a GGUF tokenizer.ggml.pre name; isc::Error naming
// the name when unknown. ignore_merges / add_bos report llama.cpp's per-name flags.
struct NamedPreTokenizer {
  std::vector<std::string> patterns;
  bool ignore_merges = false;
  bool add_bos = false;
};
NamedPreTokenizer gguf_pre_tokenizer(const std::string& name);

}  // namespace isc
