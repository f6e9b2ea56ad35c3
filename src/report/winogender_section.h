// Pronoun-task measures for the report: per condition and round, the share of gender-neutral answers
// and how the gendered ones track the occupations' labour statistics (tasks::summarize_winogender).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "store/records.h"
#include "tasks/winogender_summary.h"

namespace isc::report {

struct RunSummary;
struct Series;

struct PronounRound {
  int round = 0;
  tasks::WinogenderSummary summary;
};

// A condition's pronoun measures. Empty (no rounds) when its rows are not pronoun-scored or no item
// carries an occupation with its BLS share.
struct PronounRounds {
  std::size_t items = 0;           // conversations whose item has an occupation and its BLS share
  std::size_t items_left_out = 0;  // conversations whose item lacks them (in no round's numbers)
  std::vector<PronounRound> rounds;
};

// Recognised without reference to any task name: every stored row's extra.score_label names a
// pronoun class (tasks::to_string: "neutral", "male", "female", "unparseable"), and items carry the
// fields "occupation" (string) and "bls_pct_female" (number, 0..100). An early-stopped conversation's
// last answer is carried forward to `run_rounds`, as the metric rows are (item_rows.h). Throws
// isc::Error naming the item and round when only some rows carry a pronoun label, when a round names
// an item not in `items`, or when an item's occupation fields are malformed.
PronounRounds pronoun_rounds(const std::vector<ItemRecord>& items, const std::vector<RoundRecord>& rounds,
                             int run_rounds);

// The text table's lines for one condition ("" when it has no pronoun measures), each ending in '\n'.
std::string pronoun_text(const PronounRounds& pronouns);

// The HTML section: one table per (run, condition) with pronoun measures; "" when none has any.
std::string pronouns_section(const std::vector<RunSummary>& runs, const std::vector<Series>& series);

}  // namespace isc::report
