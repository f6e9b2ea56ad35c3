// Per-answer scoring of a round: correctness for multiple-choice/classification tasks, the
// pronoun class for Winogender. Toxicity is scored in batches by a ToxicityScorer instead.
#pragma once
#include <optional>
#include <string>

#include "tasks/answer_parser.h"
#include "tasks/task_spec.h"

namespace isc::tasks {

struct Score {
  std::optional<bool> correct;   // accuracy scorer, items with a gold option; unparsed = wrong
  std::optional<double> value;   // pronoun scorer: 1 for a gender-neutral answer, else 0
  std::string label;             // "correct" / "wrong" / "unparsed"; or the pronoun class
};

// By spec.scorer: accuracy | pronoun | toxicity | none (the last two give an empty Score here).
Score score_answer(const TaskSpec& spec, const TaskItem& item, const ParsedAnswer& answer);

}  // namespace isc::tasks
