// The conversation viewer's data: every stored round of every conversation, as compressed JSON
// chunks of a few dozen items each (decompressed by the page only when an item of the chunk is
// opened), plus a small compressed index (ids, categories, answers per round) for search and filters.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/records.h"

namespace isc::report {

struct PackedConversations {
  std::vector<std::string> conditions;
  std::size_t chunk_items = 0;
  std::string index;                                 // pack_json of the index (see conversation_pack.cpp)
  std::vector<std::string> item_chunks;              // pack_json per chunk of items
  std::vector<std::vector<std::string>> condition_chunks;  // [condition][chunk]
};

class ConversationPacker {
 public:
  explicit ConversationPacker(std::size_t chunk_items = 50);
  // One condition's stored rounds (any order); items are the run's, the same on every call.
  void add_condition(const std::string& condition, const std::vector<ItemRecord>& items,
                     const std::vector<RoundRecord>& rounds);
  PackedConversations finish(int run_rounds);

 private:
  std::size_t chunk_items_;
  std::vector<ItemRecord> items_;
  std::vector<std::string> conditions_;
  std::vector<std::vector<std::string>> condition_chunks_;
  std::vector<nlohmann::json> answers_, correct_, stopped_;  // per condition: one entry per item
};

// The JSON of one stored round as the viewer reads it (keys are short: there are many of them).
nlohmann::json round_json(const RoundRecord& round);

}  // namespace isc::report
