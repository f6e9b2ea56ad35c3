// The bridge from stored rounds to metric rows: one metrics::ItemRound per (item, round) of a
// condition, with BBQ facts from the item's fields and early-stopped conversations carried forward.
#pragma once
#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "metrics/item_round.h"
#include "store/records.h"

namespace isc::report {

// How the rows of one condition were assembled.
struct RowStats {
  std::size_t conversations = 0;  // items with at least one stored round
  std::size_t stored = 0;         // rows read from the store
  // Rows copied forward from an early-stopped conversation's last round up to the run's last round.
  // The runner stops a conversation once its answer held for K rounds; carrying that final answer
  // (with its correctness, score and option probabilities) keeps every round over the same items, so
  // accuracy in round r means "the answer each conversation would report after r rounds".
  std::size_t carried = 0;
  // (item, round) slots with neither a stored nor a carried row: an unfinished run. Rounds are then
  // measured on the rows they have (transitions pair the items present in both rounds).
  std::size_t missing = 0;
  // False when no row carries a correctness (no gold option and no scorer verdict, e.g. Winogender):
  // the rows then get correct_override = false to satisfy the metrics API and accuracy is reported
  // as not applicable.
  bool has_correctness = true;
};

// BBQ facts of an item from its fields (unknown_index, target_index, question_polarity,
// context_condition, as the BBQ loader writes them). nullopt when the item has none of these fields,
// or when its target is unknown (target_index -1: the item cannot enter the bias score). Throws
// isc::Error naming the item when the fields are present but malformed.
std::optional<metrics::BbqInfo> bbq_info(const ItemRecord& item);

// Whether an item carries BBQ fields at all (eligible for the bias score or not).
bool has_bbq_fields(const ItemRecord& item);

// The metric rows of one condition. `rounds` are that condition's stored rounds (any order);
// `items` the run's items; `run_rounds` the run's number of rounds. Rows come out ordered by item
// index, then round. BBQ info is attached to every row whose item is bias-eligible; the caller
// scores bias on those rows only (see run_summary.cpp). Throws isc::Error on a round of an item not
// in `items`, or when some rows carry a correctness and others of the condition do not.
std::vector<metrics::ItemRound> item_rounds(const std::vector<ItemRecord>& items,
                                            const std::vector<RoundRecord>& rounds, int run_rounds,
                                            RowStats* stats = nullptr);

// Whether the stored round ended its conversation early (extra.early_stopped, set by the runner).
bool early_stopped(const RoundRecord& round);

// A condition's stored rounds grouped by the index of their item in `items`, each item's rounds in
// round order (items ordered by index). Throws isc::Error on a round of an item not in `items`.
std::map<std::size_t, std::vector<const RoundRecord*>> rounds_by_item(const std::vector<ItemRecord>& items,
                                                                      const std::vector<RoundRecord>& rounds);

// Carries an early-stopped conversation forward: when `last` (its last stored round) stopped early,
// calls carry(round) for each round after it up to `run_rounds`, which then reports last's answer.
// Returns the last round the conversation covers: max(last.round, run_rounds) when stopped early,
// else last.round.
template <class Carry>
int carry_forward(const RoundRecord& last, int run_rounds, Carry&& carry) {
  if (!early_stopped(last)) return last.round;
  for (int round = last.round + 1; round <= run_rounds; ++round) carry(round);
  return std::max(last.round, run_rounds);
}

}  // namespace isc::report
