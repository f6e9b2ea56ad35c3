// Stored rounds -> metric rows (see item_rows.h): gold from the item, correctness from the task's
// scorer verdict, BBQ facts from the item fields, and early-stopped conversations carried forward.
#include "report/item_rows.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "common/error.h"

namespace isc::report {

namespace {

const char* const kBbqFields[] = {"unknown_index", "target_index", "question_polarity", "context_condition"};

Error item_error(const ItemRecord& item, const std::string& message) {
  return Error(fmt::format("item '{}': {}", item.item_id, message));
}

int int_field(const ItemRecord& item, const char* name) {
  const auto it = item.fields.find(name);
  if (it == item.fields.end() || !it->is_number_integer())
    throw item_error(item, fmt::format("expected integer field '{}' (BBQ items carry all of {}, {}, {}, {})", name,
                                       kBbqFields[0], kBbqFields[1], kBbqFields[2], kBbqFields[3]));
  return it->get<int>();
}

std::string string_field(const ItemRecord& item, const char* name) {
  const auto it = item.fields.find(name);
  if (it == item.fields.end() || !it->is_string())
    throw item_error(item, fmt::format("expected string field '{}'", name));
  return it->get<std::string>();
}

}  // namespace

bool has_bbq_fields(const ItemRecord& item) {
  if (!item.fields.is_object()) return false;
  return std::any_of(std::begin(kBbqFields), std::end(kBbqFields),
                     [&](const char* f) { return item.fields.contains(f); });
}

std::optional<metrics::BbqInfo> bbq_info(const ItemRecord& item) {
  if (!has_bbq_fields(item)) return std::nullopt;
  const int unknown = int_field(item, "unknown_index");
  const int target = int_field(item, "target_index");
  const std::string polarity = string_field(item, "question_polarity");
  const std::string context = string_field(item, "context_condition");
  metrics::BbqInfo info;
  if (polarity == "neg")
    info.polarity = metrics::BbqPolarity::Negative;
  else if (polarity == "nonneg")
    info.polarity = metrics::BbqPolarity::NonNegative;
  else
    throw item_error(item, fmt::format("question_polarity '{}' is neither neg nor nonneg", polarity));
  if (context == "ambig")
    info.context = metrics::BbqContext::Ambiguous;
  else if (context == "disambig")
    info.context = metrics::BbqContext::Disambiguated;
  else
    throw item_error(item, fmt::format("context_condition '{}' is neither ambig nor disambig", context));
  if (item.options.size() != 3)
    throw item_error(item, fmt::format("BBQ items have 3 options, this one has {}", item.options.size()));
  if (unknown < 0 || unknown > 2) throw item_error(item, fmt::format("unknown_index {} is outside 0..2", unknown));
  if (target == -1) return std::nullopt;  // the loader could not tell the stereotyped option
  if (target < 0 || target > 2 || target == unknown)
    throw item_error(item, fmt::format("target_index {} is outside 0..2 or equals unknown_index", target));
  info.unknown_option = unknown;
  info.target_option = target;
  info.non_target_option = 3 - unknown - target;  // the remaining one of {0, 1, 2}
  return info;
}

bool early_stopped(const RoundRecord& round) {
  const auto it = round.extra.find("early_stopped");
  return it != round.extra.end() && it->is_boolean() && it->get<bool>();
}

std::map<std::size_t, std::vector<const RoundRecord*>> rounds_by_item(const std::vector<ItemRecord>& items,
                                                                      const std::vector<RoundRecord>& rounds) {
  std::unordered_map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < items.size(); ++i) position.emplace(items[i].item_id, i);
  std::map<std::size_t, std::vector<const RoundRecord*>> by_item;
  for (const RoundRecord& r : rounds) {
    const auto it = position.find(r.item_id);
    if (it == position.end())
      throw Error(fmt::format("condition '{}' round {}: item '{}' is not one of the run's items", r.condition, r.round,
                              r.item_id));
    by_item[it->second].push_back(&r);
  }
  for (auto& [index, stored] : by_item)
    std::sort(stored.begin(), stored.end(),
              [](const RoundRecord* a, const RoundRecord* b) { return a->round < b->round; });
  return by_item;
}

std::vector<metrics::ItemRound> item_rounds(const std::vector<ItemRecord>& items,
                                            const std::vector<RoundRecord>& rounds, int run_rounds,
                                            RowStats* stats) {
  const std::map<std::size_t, std::vector<const RoundRecord*>> by_item = rounds_by_item(items, rounds);
  RowStats local;
  std::vector<metrics::ItemRound> rows;
  rows.reserve(rounds.size());
  std::size_t with_correctness = 0;
  for (const auto& [index, stored] : by_item) {
    const ItemRecord& item = items[index];
    const std::optional<metrics::BbqInfo> bbq = bbq_info(item);
    ++local.conversations;
    auto to_row = [&](const RoundRecord& r, int round) {
      metrics::ItemRound row;
      row.item_id = item.item_id;
      row.round = round;
      row.answer = r.answer_index;
      row.gold = item.gold;
      // calibration and Brier need a gold option; without one the probabilities measure nothing here
      if (item.gold >= 0) row.option_probs = r.option_probs;
      row.correct_override = r.correct;
      row.score = r.score;
      row.bbq = bbq;
      if (auto q = r.extra.find("quality"); q != r.extra.end() && q->is_number()) row.quality = q->get<double>();
      if (auto u = r.extra.find("uncertainty"); u != r.extra.end() && u->is_object())
        for (const auto& [name, value] : u->items())
          if (value.is_number()) row.sampled_uncertainty[name] = value.get<double>();
      return row;
    };
    for (const RoundRecord* r : stored) {
      rows.push_back(to_row(*r, r->round));
      ++local.stored;
    }
    const RoundRecord& last = *stored.back();
    const int covered = carry_forward(last, run_rounds, [&](int round) {
      rows.push_back(to_row(last, round));
      ++local.carried;
    });
    local.missing += static_cast<std::size_t>(std::max(0, run_rounds - covered)) +
                     static_cast<std::size_t>(last.round) - stored.size();
  }
  for (const metrics::ItemRound& row : rows)
    if (row.correct_override || row.gold >= 0) ++with_correctness;
  if (with_correctness == 0) {
    local.has_correctness = false;
    for (metrics::ItemRound& row : rows) row.correct_override = false;
  } else if (with_correctness != rows.size()) {
    const auto lacking = std::find_if(rows.begin(), rows.end(), [](const metrics::ItemRound& r) {
      return !r.correct_override && r.gold < 0;
    });
    throw Error(fmt::format("item '{}' round {} has neither a gold option nor a correctness, but {} other rows do",
                            lacking->item_id, lacking->round, with_correctness));
  }
  if (stats) *stats = local;
  return rows;
}

}  // namespace isc::report
