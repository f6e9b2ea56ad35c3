// Packs conversations for the viewer (see conversation_pack.h). Index layout:
//   {"rounds": R, "chunk": N, "conditions": [...],
//    "items": [[id, category, question], ...]            (run item order),
//    "answers": [[[a_1..a_R] per item] per condition],   (null where no round was stored)
//    "correct": same shape with 1 / 0 / null, "stopped": [[round or 0 per item] per condition]}
// Item chunk k: [{"id","category","options","gold","fields"}] for items k·N … k·N+N−1.
// Condition chunk k: one entry per item of the chunk, null or the array of its round objects.
#include "report/conversation_pack.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "report/encode.h"
#include "report/item_rows.h"

namespace isc::report {

namespace {

// Three decimals of a logprob are more than a shade or a tooltip can show; they halve the data.
double rounded(double v, double scale) { return std::round(v * scale) / scale; }

std::string short_question(const ItemRecord& item) {
  const auto it = item.fields.find("question");
  if (it == item.fields.end() || !it->is_string()) return "";
  std::string q = it->get<std::string>();
  if (q.size() > 200) q.resize(200);  // may cut a UTF-8 sequence: script_json replaces it
  return q;
}

}  // namespace

nlohmann::json round_json(const RoundRecord& r) {
  nlohmann::json tokens = nlohmann::json::array();
  for (const TokenRecord& t : r.tokens) {
    nlohmann::json top = nlohmann::json::array();
    for (const auto& [text, lp] : t.top) top.push_back({text, rounded(lp, 1000)});
    tokens.push_back({t.text, rounded(t.logprob, 1000), std::move(top)});
  }
  nlohmann::json probs = nlohmann::json::array();
  for (double p : r.option_probs) probs.push_back(rounded(p, 10000));
  nlohmann::json j = {{"r", r.round},          {"u", r.user_message}, {"p", r.assistant_prefill},
                      {"t", std::move(tokens)}, {"a", r.parsed_answer}, {"i", r.answer_index},
                      {"o", std::move(probs)}, {"f", r.finish_reason}};
  if (r.tokens.empty()) j["x"] = r.generated_text;
  j["c"] = r.correct ? nlohmann::json(*r.correct) : nlohmann::json(nullptr);
  j["s"] = r.score ? nlohmann::json(*r.score) : nlohmann::json(nullptr);
  if (early_stopped(r)) j["e"] = true;
  if (!r.samples.empty()) {
    nlohmann::json m = nlohmann::json::array();
    for (const SampleRecord& smp : r.samples) {
      double lp = 0.0;
      for (const TokenRecord& t : smp.tokens) lp += t.logprob;
      m.push_back({smp.parsed_answer, smp.cluster, smp.score ? nlohmann::json(rounded(*smp.score, 1000)) : nlohmann::json(nullptr),
                   rounded(lp, 100), smp.tokens.size()});
    }
    j["m"] = std::move(m);
  }
  return j;
}

ConversationPacker::ConversationPacker(std::size_t chunk_items) : chunk_items_(chunk_items ? chunk_items : 1) {}

void ConversationPacker::add_condition(const std::string& condition, const std::vector<ItemRecord>& items,
                                       const std::vector<RoundRecord>& rounds) {
  if (items_.empty()) items_ = items;
  std::unordered_map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < items_.size(); ++i) position.emplace(items_[i].item_id, i);
  std::vector<std::vector<const RoundRecord*>> by_item(items_.size());
  for (const RoundRecord& r : rounds) {
    const auto it = position.find(r.item_id);
    if (it != position.end()) by_item[it->second].push_back(&r);  // item_rounds reports strays
  }
  nlohmann::json answers = nlohmann::json::array(), correct = nlohmann::json::array(),
                 stopped = nlohmann::json::array();
  std::vector<std::string> chunks;
  nlohmann::json chunk = nlohmann::json::array();
  for (std::size_t i = 0; i < items_.size(); ++i) {
    auto& rs = by_item[i];
    std::sort(rs.begin(), rs.end(), [](const RoundRecord* a, const RoundRecord* b) { return a->round < b->round; });
    nlohmann::json a = nlohmann::json::array(), c = nlohmann::json::array(), conv = nlohmann::json::array();
    int stop = 0;
    for (const RoundRecord* r : rs) {
      while (static_cast<int>(a.size()) + 1 < r->round) {
        a.push_back(nullptr);
        c.push_back(nullptr);
      }
      a.push_back(r->answer_index);
      c.push_back(r->correct ? nlohmann::json(*r->correct ? 1 : 0) : nlohmann::json(nullptr));
      conv.push_back(round_json(*r));
      if (early_stopped(*r)) stop = r->round;
    }
    answers.push_back(std::move(a));
    correct.push_back(std::move(c));
    stopped.push_back(stop);
    chunk.push_back(rs.empty() ? nlohmann::json(nullptr) : std::move(conv));
    if (chunk.size() == chunk_items_ || i + 1 == items_.size()) {
      chunks.push_back(pack_json(chunk));
      chunk = nlohmann::json::array();
    }
  }
  conditions_.push_back(condition);
  condition_chunks_.push_back(std::move(chunks));
  answers_.push_back(std::move(answers));
  correct_.push_back(std::move(correct));
  stopped_.push_back(std::move(stopped));
}

PackedConversations ConversationPacker::finish(int run_rounds) {
  PackedConversations out;
  out.conditions = conditions_;
  out.chunk_items = chunk_items_;
  nlohmann::json items = nlohmann::json::array();
  nlohmann::json chunk = nlohmann::json::array();
  for (std::size_t i = 0; i < items_.size(); ++i) {
    const ItemRecord& item = items_[i];
    items.push_back({item.item_id, item.category, short_question(item)});
    chunk.push_back({{"id", item.item_id},
                     {"category", item.category},
                     {"options", item.options},
                     {"gold", item.gold},
                     {"fields", item.fields}});
    if (chunk.size() == chunk_items_ || i + 1 == items_.size()) {
      out.item_chunks.push_back(pack_json(chunk));
      chunk = nlohmann::json::array();
    }
  }
  out.index = pack_json({{"rounds", run_rounds},
                         {"chunk", chunk_items_},
                         {"conditions", conditions_},
                         {"items", std::move(items)},
                         {"answers", answers_},
                         {"correct", correct_},
                         {"stopped", stopped_}});
  out.condition_chunks = std::move(condition_chunks_);
  return out;
}

}  // namespace isc::report
