// One conversation's answer in one round, reduced to what accuracy and transition counts need:
// the parsed option index (-1 = unparseable) and whether that answer counts as correct.
#pragma once

namespace isc::metrics {

inline constexpr int kUnparseable = -1;

struct AnswerState {
  int answer = kUnparseable;  // parsed option index, or kUnparseable
  bool correct = false;       // an unparseable answer is never correct for multiple choice
};

}  // namespace isc::metrics
