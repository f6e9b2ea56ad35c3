// Per-answer scores (see score.h). An unparseable answer is counted as wrong rather than dropped,
// so accuracy is over all items of a round.
#include "tasks/score.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace isc::tasks {

WordListShare word_list_share(const std::vector<std::string>& sorted_words, std::string_view text) {
  WordListShare out;
  std::string word;
  auto flush = [&] {
    while (!word.empty() && (word.back() == '\'' || word.back() == '-')) word.pop_back();
    size_t b = 0;
    while (b < word.size() && (word[b] == '\'' || word[b] == '-')) ++b;
    word.erase(0, b);
    if (!word.empty()) {
      ++out.words;
      if (std::binary_search(sorted_words.begin(), sorted_words.end(), word)) ++out.listed;
    }
    word.clear();
  };
  for (unsigned char c : text) {
    // letters, apostrophes and hyphens make words; bytes >= 0x80 (non-ASCII letters) too, so that
    // "naïve" is one word and never matches an ASCII list entry by accident
    if (std::isalpha(c) || c == '\'' || c == '-' || c >= 0x80) word += static_cast<char>(std::tolower(c));
    else flush();
  }
  flush();
  return out;
}

Score score_answer(const TaskSpec& spec, const TaskItem& item, const ParsedAnswer& answer) {
  Score s;
  if (spec.scorer == "accuracy") {
    if (item.gold < 0) return s;
    s.correct = answer.index == item.gold;
    s.label = answer.index < 0 ? "unparsed" : (*s.correct ? "correct" : "wrong");
  } else if (spec.scorer == "word_list") {
    const WordListShare share = word_list_share(spec.scorer_words, answer.text);
    // an empty answer rewrote nothing: the worst score, and never "correct"
    s.value = share.words == 0 ? 1.0 : static_cast<double>(share.listed) / static_cast<double>(share.words);
    s.correct = share.words > 0 && share.listed == 0;
    s.label = share.words == 0 ? "empty" : fmt::format("{} of {} words listed", share.listed, share.words);
  } else if (spec.scorer == "pronoun") {
    s.label = to_string(answer.pronoun);
    s.value = answer.pronoun == PronounClass::neutral ? 1.0 : 0.0;
  }
  return s;
}

std::optional<double> answer_quality(const TaskSpec& spec, const std::optional<bool>& correct,
                                     const std::optional<double>& score) {
  // lower is better for these scores
  if (spec.scorer == "toxicity" || spec.scorer == "word_list")
    return score ? std::optional<double>(1.0 - *score) : std::nullopt;
  if (correct) return *correct ? 1.0 : 0.0;
  return score;
}

}  // namespace isc::tasks
