// Per-answer scores (see score.h). An unparseable answer is counted as wrong rather than dropped,
// so accuracy is over all items of a round.
#include "tasks/score.h"

namespace isc::tasks {

Score score_answer(const TaskSpec& spec, const TaskItem& item, const ParsedAnswer& answer) {
  Score s;
  if (spec.scorer == "accuracy") {
    if (item.gold < 0) return s;
    s.correct = answer.index == item.gold;
    s.label = answer.index < 0 ? "unparsed" : (*s.correct ? "correct" : "wrong");
  } else if (spec.scorer == "pronoun") {
    s.label = to_string(answer.pronoun);
    s.value = answer.pronoun == PronounClass::neutral ? 1.0 : 0.0;
  }
  return s;
}

}  // namespace isc::tasks
