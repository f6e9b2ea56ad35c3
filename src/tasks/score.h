// Per-answer scoring of a round: correctness for multiple-choice/classification tasks, the
// pronoun class for Winogender, the listed-word share of a rewrite. Toxicity is scored in batches
// by a ToxicityScorer instead.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/answer_parser.h"
#include "tasks/task_spec.h"

namespace isc::tasks {

struct Score {
  std::optional<bool> correct;   // accuracy scorer, items with a gold option; unparsed = wrong
  std::optional<double> value;   // pronoun scorer: 1 for a gender-neutral answer, else 0
  std::string label;             // "correct" / "wrong" / "unparsed"; or the pronoun class
};

// Words of a text (runs of letters, ' and -, lowercased, ' and - trimmed) and how many of them
// are in `sorted_words` (sorted, lowercase).
struct WordListShare {
  size_t words = 0;
  size_t listed = 0;
};
WordListShare word_list_share(const std::vector<std::string>& sorted_words, std::string_view text);

// By spec.scorer: accuracy | pronoun | word_list | toxicity | none (the last two give an empty Score here).
Score score_answer(const TaskSpec& spec, const TaskItem& item, const ParsedAnswer& answer);

// An answer's quality in [0, 1], higher = better, from its scores: what uncertainty estimators
// are calibrated against. accuracy: 1 if correct; pronoun: the neutral indicator; toxicity:
// 1 − toxicity; word_list: 1 − the listed words' share. nullopt when the task gives the answer no score.
std::optional<double> answer_quality(const TaskSpec& spec, const std::optional<bool>& correct,
                                     const std::optional<double>& score);

}  // namespace isc::tasks
