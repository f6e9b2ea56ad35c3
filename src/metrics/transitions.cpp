// Answer transitions between consecutive rounds; see transitions.h.
// The unparseable state gets its own row/column so the matrix always sums to n.
#include "metrics/transitions.h"

#include <fmt/format.h>

#include "common/error.h"

namespace isc::metrics {

namespace {

std::size_t matrix_index(int answer, int n_options) {
  return answer == kUnparseable ? static_cast<std::size_t>(n_options) : static_cast<std::size_t>(answer);
}

void check_answer(int answer, int n_options, const char* which, std::size_t i) {
  if (answer < kUnparseable || answer >= n_options)
    throw Error(fmt::format("answer_transitions: {} answer {} of conversation {} is outside [-1, {})", which, answer, i,
                            n_options));
}

}  // namespace

std::size_t TransitionCounts::count(int from, int to) const {
  if (from < kUnparseable || from >= n_options || to < kUnparseable || to >= n_options)
    throw Error(fmt::format("TransitionCounts::count: ({}, {}) is outside [-1, {})", from, to, n_options));
  return matrix[matrix_index(from, n_options)][matrix_index(to, n_options)];
}

double TransitionCounts::change_rate() const {
  if (n == 0) throw Error("TransitionCounts::change_rate: no conversations");
  return static_cast<double>(changed) / static_cast<double>(n);
}

TransitionCounts answer_transitions(std::span<const AnswerState> previous, std::span<const AnswerState> current,
                                    int n_options) {
  if (n_options < 0) throw Error(fmt::format("answer_transitions: n_options is {}, expected >= 0", n_options));
  if (previous.size() != current.size())
    throw Error(
        fmt::format("answer_transitions: {} previous answers but {} current answers", previous.size(), current.size()));
  if (previous.empty()) throw Error("answer_transitions: no conversations");
  TransitionCounts t;
  t.n_options = n_options;
  t.n = previous.size();
  const std::size_t side = static_cast<std::size_t>(n_options) + 1;
  t.matrix.assign(side, std::vector<std::size_t>(side, 0));
  for (std::size_t i = 0; i < previous.size(); ++i) {
    const AnswerState& a = previous[i];
    const AnswerState& b = current[i];
    check_answer(a.answer, n_options, "previous", i);
    check_answer(b.answer, n_options, "current", i);
    if (a.correct && b.correct)
      ++t.right_to_right;
    else if (a.correct)
      ++t.right_to_wrong;
    else if (b.correct)
      ++t.wrong_to_right;
    else
      ++t.wrong_to_wrong;
    if (a.answer == b.answer)
      ++t.unchanged;
    else
      ++t.changed;
    ++t.matrix[matrix_index(a.answer, n_options)][matrix_index(b.answer, n_options)];
  }
  return t;
}

}  // namespace isc::metrics
