// Convergence over rounds: the first round from which a per-round series (accuracy, ECE, entropy...)
// stays put, and per conversation the first round from which the answer never changes again.
#pragma once
#include <cstddef>
#include <span>
#include <vector>

namespace isc::metrics {

// Definition. For a series v_0 … v_{R−1} (R >= 1) and ε >= 0, index r is *settled* when every value
// from r on is within ε of both the value at r and the final value:
//     for all s >= r:  |v_s − v_r| <= ε  and  |v_s − v_{R−1}| <= ε.
// The convergence index is the smallest settled r. It always exists (r = R − 1 is settled). Settled
// indices need not be contiguous (a later value may be within ε of v_r yet 2ε from v_{r+1}); the
// smallest is what "converged by round r" means. Anchoring to the final value as well stops a slow drift of many small
// steps (each within ε of its neighbour, far from the end) from counting as settled. Throws isc::Error on an empty
// series, a non-finite value or ε < 0 / non-finite.
std::size_t convergence_index(std::span<const double> series, double epsilon);

struct ConvergencePoint {
  std::size_t index = 0;  // position in the series
  int round = 0;          // rounds[index]
};

// The same over a series labelled with its round numbers (rounds.size() == values.size()).
ConvergencePoint convergence_round(std::span<const int> rounds, std::span<const double> values, double epsilon);

// Per conversation: the first round after which the answer never changes, i.e. the smallest r with
// answers[s] == answers[r] for all s >= r (ε = 0 on answer indices; -1 counts as an answer value).
ConvergencePoint answer_convergence(std::span<const int> rounds, std::span<const int> answers);

struct ConversationConvergence {
  std::vector<int> round_per_conversation;  // in input order
  double mean_round = 0.0;
  // share of conversations whose answer never changes after the first round
  double share_settled_at_first = 0.0;
};

// Over conversations that share one list of rounds: answers_per_conversation[c][i] is the answer of
// conversation c in rounds[i]. Throws isc::Error on no conversations or a length mismatch.
ConversationConvergence conversation_convergence(std::span<const int> rounds,
                                                 std::span<const std::vector<int>> answers_per_conversation);

}  // namespace isc::metrics
