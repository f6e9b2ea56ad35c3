// Answer transitions between two consecutive rounds of the same conversations: how correctness moved
// (right→right, right→wrong, wrong→right, wrong→wrong), how often the answer changed, and the full
// option×option matrix of previous answer → current answer.
#pragma once
#include <cstddef>
#include <span>
#include <vector>

#include "metrics/answer_state.h"

namespace isc::metrics {

struct TransitionCounts {
  int n_options = 0;
  std::size_t n = 0;  // paired conversations
  std::size_t right_to_right = 0;
  std::size_t right_to_wrong = 0;
  std::size_t wrong_to_right = 0;
  std::size_t wrong_to_wrong = 0;
  std::size_t changed = 0;  // answer index differs (unparseable → unparseable is unchanged)
  std::size_t unchanged = 0;
  // (n_options + 1) × (n_options + 1): matrix[from][to]; index n_options stands for "unparseable",
  // so an answer that becomes unparseable is still visible. Use count() to index with -1.
  std::vector<std::vector<std::size_t>> matrix;

  // Count of previous answer `from` → current answer `to`; either may be -1 (unparseable).
  std::size_t count(int from, int to) const;
  // changed / n.
  double change_rate() const;
};

// previous[i] and current[i] are the same conversation in consecutive rounds.
// n_options may be 0 (tasks without answer options: everything is "unparseable").
// Throws isc::Error on empty input, mismatched lengths, n_options < 0, or an answer outside
// [-1, n_options).
TransitionCounts answer_transitions(std::span<const AnswerState> previous, std::span<const AnswerState> current,
                                    int n_options);

}  // namespace isc::metrics
