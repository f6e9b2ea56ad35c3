// Accuracy and parse rate; see accuracy.h.
// Both entry points funnel into accuracy_of so there is one counting loop.
#include "metrics/accuracy.h"

#include <fmt/format.h>

#include <vector>

#include "common/error.h"

namespace isc::metrics {

AccuracyResult accuracy(std::span<const int> answers, std::span<const int> gold) {
  if (answers.size() != gold.size())
    throw Error(fmt::format("accuracy: {} answers but {} gold labels", answers.size(), gold.size()));
  std::vector<AnswerState> states(answers.size());
  for (std::size_t i = 0; i < answers.size(); ++i) {
    if (answers[i] < kUnparseable)
      throw Error(fmt::format("accuracy: answer {} at item {} is below -1", answers[i], i));
    if (gold[i] < 0) throw Error(fmt::format("accuracy: gold index {} at item {} is negative", gold[i], i));
    states[i] = {answers[i], answers[i] >= 0 && answers[i] == gold[i]};
  }
  return accuracy_of(states);
}

AccuracyResult accuracy_of(std::span<const AnswerState> states) {
  if (states.empty()) throw Error("accuracy: no items");
  AccuracyResult r;
  r.n = states.size();
  for (const AnswerState& s : states) {
    if (s.answer < kUnparseable) throw Error(fmt::format("accuracy: answer index {} is below -1", s.answer));
    if (s.correct) ++r.n_correct;
    if (s.answer >= 0) ++r.n_parsed;
  }
  r.accuracy = static_cast<double>(r.n_correct) / static_cast<double>(r.n);
  r.parse_rate = static_cast<double>(r.n_parsed) / static_cast<double>(r.n);
  return r;
}

}  // namespace isc::metrics
