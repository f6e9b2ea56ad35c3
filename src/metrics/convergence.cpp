// Convergence rounds of per-round series and of per-conversation answers; see convergence.h.
// A direct O(R²) scan: R is the number of rounds (a handful), so clarity wins over cleverness.
#include "metrics/convergence.h"

#include <fmt/format.h>

#include <cmath>

#include "common/error.h"

namespace isc::metrics {

std::size_t convergence_index(std::span<const double> series, double epsilon) {
  if (series.empty()) throw Error("convergence_index: empty series");
  if (!std::isfinite(epsilon) || epsilon < 0.0)
    throw Error(fmt::format("convergence_index: epsilon {} must be finite and >= 0", epsilon));
  for (std::size_t i = 0; i < series.size(); ++i)
    if (!std::isfinite(series[i]))
      throw Error(fmt::format("convergence_index: value {} at position {} is not finite", series[i], i));
  const double last = series.back();
  for (std::size_t r = 0; r < series.size(); ++r) {
    bool settled = true;
    for (std::size_t s = r; s < series.size() && settled; ++s)
      settled = std::fabs(series[s] - series[r]) <= epsilon && std::fabs(series[s] - last) <= epsilon;
    if (settled) return r;
  }
  return series.size() - 1;  // unreachable: the last index is always settled
}

ConvergencePoint convergence_round(std::span<const int> rounds, std::span<const double> values, double epsilon) {
  if (rounds.size() != values.size())
    throw Error(fmt::format("convergence_round: {} rounds but {} values", rounds.size(), values.size()));
  const std::size_t i = convergence_index(values, epsilon);
  return {i, rounds[i]};
}

ConvergencePoint answer_convergence(std::span<const int> rounds, std::span<const int> answers) {
  if (rounds.size() != answers.size())
    throw Error(fmt::format("answer_convergence: {} rounds but {} answers", rounds.size(), answers.size()));
  if (answers.empty()) throw Error("answer_convergence: no rounds");
  // the answer is fixed from the start of the final run of equal answers
  std::size_t r = answers.size() - 1;
  while (r > 0 && answers[r - 1] == answers.back()) --r;
  return {r, rounds[r]};
}

ConversationConvergence conversation_convergence(std::span<const int> rounds,
                                                 std::span<const std::vector<int>> answers_per_conversation) {
  if (answers_per_conversation.empty()) throw Error("conversation_convergence: no conversations");
  ConversationConvergence c;
  c.round_per_conversation.reserve(answers_per_conversation.size());
  std::size_t settled_at_first = 0;
  double sum = 0.0;
  for (std::size_t k = 0; k < answers_per_conversation.size(); ++k) {
    const std::vector<int>& answers = answers_per_conversation[k];
    if (answers.size() != rounds.size())
      throw Error(fmt::format("conversation_convergence: conversation {} has {} answers for {} rounds", k,
                              answers.size(), rounds.size()));
    const ConvergencePoint p = answer_convergence(rounds, answers);
    c.round_per_conversation.push_back(p.round);
    sum += p.round;
    if (p.index == 0) ++settled_at_first;
  }
  const double n = static_cast<double>(answers_per_conversation.size());
  c.mean_round = sum / n;
  c.share_settled_at_first = static_cast<double>(settled_at_first) / n;
  return c;
}

}  // namespace isc::metrics
