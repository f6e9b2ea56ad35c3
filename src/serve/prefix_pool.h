// The prefix cache of `isc serve`: finished sequences kept after their requests, least recently used
// first out, so a later prompt that extends one computes only its new tokens. Torch-free: the pool
// holds sequence ids and their tokens; the engine thread forks and releases the sequences.
//
// Two questions are asked of it, kept apart on purpose:
//  * How is a prompt *text* tokenized? As the embedded backend tokenizes a conversation's next turn
//    (EmbeddedBackend::tokens_to_append): when the text extends an earlier request's whole prompt
//    (and usually what was generated after it), that sequence's tokens are kept as they are and only the
//    text beyond them is encoded. A multi-round client sends the previous prompt + the answer + the
//    next turn, so it gets the embedded conversation's tokens (the answer's own tokens included).
//    A text that extends no earlier prompt is encoded afresh (Engine::encode_prompt), as the first
//    turn of an embedded conversation is: a shared system prompt or a partial match inside another
//    request's prompt must not change how this prompt is split into tokens.
//  * How much is computed? The longest run of prompt tokens that some cached sequence starts with
//    is forked (copied, not recomputed); the model is batch- and chunk-invariant, so the rows are
//    identical to a cold computation.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace isc {
class Tokenizer;
}

namespace isc::serve {

class PrefixPool {
 public:
  struct Entry {
    uint64_t sequence = 0;        // the engine's SequenceId
    std::vector<int32_t> tokens;  // what its cache holds
    int64_t prompt_len = 0;       // tokens of the request's prompt (the rest were generated)
    // First row computed under steering (rows before it are plain); tokens.size() = none
    int64_t steered_from = 0;
    std::string text;             // the tokens' bytes, concatenated
    std::vector<size_t> ends;     // byte end of each token in `text`
    uint64_t used = 0;            // LRU clock
  };

  explicit PrefixPool(const Tokenizer& tokenizer) : tok_(tokenizer) {}

  // The entry whose tokens' bytes cover the most of `text`, the covered part holding at least its
  // whole prompt (the text continues that request: its prompt + its answer + more); nullptr if none.
  // `keep` = its tokens to keep, `bytes` = the bytes of `text` they cover.
  struct TextMatch {
    const Entry* entry = nullptr;
    int64_t keep = 0;
    size_t bytes = 0;
  };
  TextMatch match_text(std::string_view text) const;

  // The entry sharing the longest token prefix with `tokens` (at most `limit` tokens, and none of
  // them computed under steering); length 0 = nothing to reuse.
  struct TokenMatch {
    const Entry* entry = nullptr;
    int64_t length = 0;
  };
  TokenMatch match_tokens(const std::vector<int32_t>& tokens, int64_t limit) const;

  // Takes a finished sequence. An entry with exactly the same tokens is replaced (its sequence id is
  // returned for release, else 0).
  uint64_t add(uint64_t sequence, std::vector<int32_t> tokens, int64_t prompt_len, int64_t steered_from);
  void touch(uint64_t sequence);
  // Removes the least recently used entry and returns its sequence (0 when empty).
  uint64_t evict_oldest();
  size_t size() const { return entries_.size(); }

 private:
  const Tokenizer& tok_;
  std::vector<Entry> entries_;  // few hundred at most: linear scans are cheap next to a forward pass
  uint64_t clock_ = 0;
};

}  // namespace isc::serve
