// Accuracy and parse rate of one round: the share of items answered correctly (an unparseable
// answer counts as wrong) and the share whose answer could be parsed at all.
#pragma once
#include <cstddef>
#include <span>

#include "metrics/answer_state.h"

namespace isc::metrics {

struct AccuracyResult {
  std::size_t n = 0;          // items
  std::size_t n_correct = 0;  // items answered correctly
  std::size_t n_parsed = 0;   // items whose answer index is >= 0
  double accuracy = 0.0;      // n_correct / n
  double parse_rate = 0.0;    // n_parsed / n
};

// Multiple choice: correct iff answers[i] >= 0 and answers[i] == gold[i]. Gold must be >= 0.
// Throws isc::Error on empty input, mismatched lengths, or an index below -1 / a negative gold.
AccuracyResult accuracy(std::span<const int> answers, std::span<const int> gold);

// Correctness already decided per item (e.g. by a task scorer for non-multiple-choice tasks).
AccuracyResult accuracy_of(std::span<const AnswerState> states);

}  // namespace isc::metrics
