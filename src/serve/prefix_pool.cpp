// Matching and LRU bookkeeping of the prefix cache (prefix_pool.h).
#include "serve/prefix_pool.h"

#include <algorithm>

#include "text/tokenizer.h"

namespace isc::serve {

PrefixPool::TextMatch PrefixPool::match_text(std::string_view text) const {
  TextMatch best;
  for (const Entry& e : entries_) {
    // common bytes, then the tokens that lie wholly inside them
    const size_t n = std::min(text.size(), e.text.size());
    size_t common = 0;
    while (common < n && text[common] == e.text[common]) ++common;
    const int64_t keep = std::upper_bound(e.ends.begin(), e.ends.end(), common) - e.ends.begin();
    if (keep < e.prompt_len || keep <= best.keep) continue;
    best.entry = &e;
    best.keep = keep;
    best.bytes = keep > 0 ? e.ends[keep - 1] : 0;
  }
  return best;
}

PrefixPool::TokenMatch PrefixPool::match_tokens(const std::vector<int32_t>& tokens, int64_t limit) const {
  TokenMatch best;
  for (const Entry& e : entries_) {
    const int64_t n = std::min({static_cast<int64_t>(tokens.size()), static_cast<int64_t>(e.tokens.size()), limit,
                                e.steered_from});
    int64_t k = 0;
    while (k < n && tokens[k] == e.tokens[k]) ++k;
    if (k > best.length) best = {&e, k};
  }
  return best;
}

uint64_t PrefixPool::add(uint64_t sequence, std::vector<int32_t> tokens, int64_t prompt_len, int64_t steered_from) {
  Entry e;
  e.sequence = sequence;
  e.prompt_len = prompt_len;
  e.steered_from = steered_from;
  for (int32_t id : tokens) {
    e.text += tok_.token_bytes(id);
    e.ends.push_back(e.text.size());
  }
  e.tokens = std::move(tokens);
  e.used = ++clock_;
  for (Entry& old : entries_) {
    if (old.tokens == e.tokens && old.prompt_len == e.prompt_len && old.steered_from == e.steered_from) {
      const uint64_t replaced = old.sequence;
      old = std::move(e);
      return replaced;
    }
  }
  entries_.push_back(std::move(e));
  return 0;
}

void PrefixPool::touch(uint64_t sequence) {
  for (Entry& e : entries_)
    if (e.sequence == sequence) e.used = ++clock_;
}

uint64_t PrefixPool::evict_oldest() {
  if (entries_.empty()) return 0;
  auto it = std::min_element(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  const uint64_t seq = it->sequence;
  entries_.erase(it);
  return seq;
}

}  // namespace isc::serve
