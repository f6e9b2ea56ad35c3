// Tokenizer core (added-token splitting, normalise + pre-tokenise, rank-ordered BPE with a per-word
// cache, llama.cpp's score-ordered SentencePiece merges, decoding) and its two front-ends:
// GGUF tokenizer.ggml.* metadata and Hugging Face tokenizer.json.
#include "text/tokenizer.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <queue>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "formats/gguf.h"
#include "text/pretokenizer.h"
#include "text/unicode.h"
#include "text/utf8.h"

namespace isc {

namespace {

const std::string kSpmSpace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's space

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool lstrip = false, rstrip = false, single_word = false;
};

// GPT-2's reversible byte <-> printable code point table: printable Latin-1 bytes stand for
// themselves, the rest are moved to U+0100 onwards in byte order.
const std::array<char32_t, 256>& byte_to_char() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      t[b] = printable ? char32_t(b) : next++;
    }
    return t;
  }();
  return table;
}

const std::unordered_map<char32_t, uint8_t>& char_to_byte() {
  static const std::unordered_map<char32_t, uint8_t> table = [] {
    std::unordered_map<char32_t, uint8_t> m;
    for (int b = 0; b < 256; ++b) m[byte_to_char()[b]] = static_cast<uint8_t>(b);
    return m;
  }();
  return table;
}

// "<0xAB>" -> 0xAB; -1 otherwise.
int parse_byte_token(const std::string& s) {
  if (s.size() != 6 || s.compare(0, 3, "<0x") != 0 || s[5] != '>') return -1;
  int v = 0;
  for (int i = 3; i < 5; ++i) {
    char c = s[i];
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  std::string out;
  size_t prev = 0;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, prev)) {
    out.append(s, prev, at - prev);
    out += to;
    prev = at + from.size();
  }
  out.append(s, prev, std::string::npos);
  return out;
}

// lstrip/rstrip of added tokens eat ASCII whitespace only (bytes >= 0x80 are parts of characters).
bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

}  // namespace

struct Tokenizer::Data {
  std::string source;  // file named in error messages
  enum class Algo { RankBpe, ScoreSpm } algo = Algo::RankBpe;
  bool byte_level = false;     // vocabulary spells bytes through the GPT-2 byte map
  bool byte_fallback = false;  // <0xXX> tokens stand in for characters missing from the vocabulary
  bool ignore_merges = false;  // a piece that is itself a token is emitted whole
  int32_t unk = -1;
  bool fuse_unk = false;

  std::vector<std::string> vocab;  // id -> text as stored
  std::unordered_map<std::string, int32_t> token_to_id;
  std::vector<float> scores;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;  // (left,right) -> (rank, merged id)
  std::array<int32_t, 256> byte_token{};  // byte_level: id of the byte's char; else <0xXX> id; -1 if none
  std::vector<std::string> bytes_of;      // decoded bytes per id
  std::vector<uint8_t> special;           // per id
  std::vector<uint8_t> is_added;          // per id: split out of the text before BPE
  std::vector<AddedToken> added;
  std::array<std::vector<int>, 256> added_by_first_all, added_by_first_plain;  // longest first

  std::vector<NormalizerStep> normalizers;
  std::vector<PreTokenizerStep> pre;
  bool spm_add_space_prefix = false;

  enum class StripPrefix { None, EverySegment, FirstSegment } strip_prefix = StripPrefix::None;

  int32_t bos = -1, eos = -1;
  bool add_bos = false;
  std::string chat_template;

  mutable std::mutex cache_mu;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache;

  [[noreturn]] void fail(const std::string& what) const { throw Error(source + ": " + what); }

  // Fills the lookup tables that depend on vocab/added/flags; called once by each front-end.
  void finish();

  void encode_segment(std::string_view seg, bool at_origin, std::vector<int32_t>& out) const;
  void bpe_piece(const std::string& piece, std::vector<int32_t>& out) const;
  void bpe_piece_uncached(const std::string& piece, std::vector<int32_t>& out) const;
  void spm_encode(const std::string& text, std::vector<int32_t>& out) const;
  void push_unk(std::vector<int32_t>& syms, bool& last_unk) const;
};

void Tokenizer::Data::finish() {
  int32_t n = static_cast<int32_t>(vocab.size());
  for (const auto& a : added) n = std::max(n, a.id + 1);
  vocab.resize(n);
  special.assign(n, 0);
  is_added.assign(n, 0);
  bytes_of.assign(n, {});
  for (const auto& a : added) {
    if (vocab[a.id].empty()) vocab[a.id] = a.content;
    token_to_id.emplace(a.content, a.id);
  }
  byte_token.fill(-1);
  if (byte_level) {
    const auto& b2c = byte_to_char();
    for (int b = 0; b < 256; ++b) {
      auto it = token_to_id.find(utf8::encode(b2c[b]));
      if (it != token_to_id.end()) byte_token[b] = it->second;
    }
  } else {
    for (int32_t id = 0; id < n; ++id) {
      int b = parse_byte_token(vocab[id]);
      if (b >= 0 && byte_token[b] < 0) byte_token[b] = id;
    }
  }
  const auto& c2b = char_to_byte();
  for (int32_t id = 0; id < n; ++id) {
    const std::string& t = vocab[id];
    if (byte_level) {
      std::string bytes;
      for (char32_t c : utf8::decode_all(t)) {
        auto it = c2b.find(c);
        if (it != c2b.end()) bytes.push_back(static_cast<char>(it->second));
        else utf8::append(bytes, c);  // not a byte-map char: the character itself
      }
      bytes_of[id] = std::move(bytes);
    } else {
      int b = parse_byte_token(t);
      if (b >= 0 && byte_token[b] == id) bytes_of[id] = std::string(1, static_cast<char>(b));
      else bytes_of[id] = replace_all(t, kSpmSpace, " ");
    }
  }
  for (const auto& a : added) {
    bytes_of[a.id] = a.content;
    is_added[a.id] = 1;
    if (a.special) special[a.id] = 1;
  }
  for (size_t i = 0; i < added.size(); ++i) {
    const auto& a = added[i];
    if (a.content.empty()) continue;
    auto first = static_cast<unsigned char>(a.content[0]);
    added_by_first_all[first].push_back(static_cast<int>(i));
    if (!a.special) added_by_first_plain[first].push_back(static_cast<int>(i));
  }
  for (auto* table : {&added_by_first_all, &added_by_first_plain})
    for (auto& v : *table)
      std::stable_sort(v.begin(), v.end(), [&](int x, int y) { return added[x].content.size() > added[y].content.size(); });
}

void Tokenizer::Data::push_unk(std::vector<int32_t>& syms, bool& last_unk) const {
  if (unk < 0) return;  // HF BPE without unk_token drops the character
  if (fuse_unk && last_unk) return;
  syms.push_back(unk);
  last_unk = true;
}

void Tokenizer::Data::bpe_piece_uncached(const std::string& piece, std::vector<int32_t>& out) const {
  std::vector<int32_t> ids;
  ids.reserve(piece.size());
  if (ignore_merges) {
    std::string key;
    if (byte_level)
      for (unsigned char b : piece) utf8::append(key, byte_to_char()[b]);
    else
      key = piece;
    auto it = token_to_id.find(key);
    if (it != token_to_id.end()) {
      out.push_back(it->second);
      return;
    }
  }
  bool last_unk = false;
  if (byte_level) {
    for (unsigned char b : piece) {
      if (byte_token[b] >= 0) { ids.push_back(byte_token[b]); last_unk = false; }
      else push_unk(ids, last_unk);
    }
  } else {
    for (size_t i = 0; i < piece.size();) {
      size_t len;
      utf8::decode(piece, i, len);
      auto it = token_to_id.find(piece.substr(i, len));
      if (it != token_to_id.end()) {
        ids.push_back(it->second);
        last_unk = false;
      } else {
        bool all = byte_fallback;
        for (size_t k = i; all && k < i + len; ++k) all = byte_token[static_cast<unsigned char>(piece[k])] >= 0;
        if (all) {
          for (size_t k = i; k < i + len; ++k) ids.push_back(byte_token[static_cast<unsigned char>(piece[k])]);
          last_unk = false;
        } else {
          push_unk(ids, last_unk);
        }
      }
      i += len;
    }
  }
  // Linked list of symbols; a min-heap of (rank, position) candidate merges, re-validated on pop.
  const int32_t n = static_cast<int32_t>(ids.size());
  std::vector<int32_t> prev(n), next(n);
  std::vector<uint8_t> alive(n, 1);
  for (int32_t i = 0; i < n; ++i) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
  struct Cand { int32_t rank, pos, id; };
  auto worse = [](const Cand& a, const Cand& b) { return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos; };
  std::priority_queue<Cand, std::vector<Cand>, decltype(worse)> heap(worse);
  auto consider = [&](int32_t l) {
    if (l < 0 || next[l] < 0) return;
    auto it = merges.find(pair_key(ids[l], ids[next[l]]));
    if (it != merges.end()) heap.push({it->second.first, l, it->second.second});
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    if (!alive[c.pos] || next[c.pos] < 0) continue;
    int32_t r = next[c.pos];
    auto it = merges.find(pair_key(ids[c.pos], ids[r]));
    if (it == merges.end() || it->second.second != c.id) continue;  // stale candidate
    ids[c.pos] = c.id;
    alive[r] = 0;
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.pos;
    consider(prev[c.pos]);
    consider(c.pos);
  }
  for (int32_t i = 0; i < n; ++i)
    if (alive[i]) out.push_back(ids[i]);
}

void Tokenizer::Data::bpe_piece(const std::string& piece, std::vector<int32_t>& out) const {
  constexpr size_t kMaxCachedPiece = 64;
  constexpr size_t kMaxCacheEntries = 1 << 18;
  if (piece.size() > kMaxCachedPiece) {
    bpe_piece_uncached(piece, out);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(cache_mu);
    auto it = cache.find(piece);
    if (it != cache.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  bpe_piece_uncached(piece, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(cache_mu);
  if (cache.size() >= kMaxCacheEntries) cache.clear();
  cache.emplace(piece, std::move(ids));
}

// llama.cpp's SentencePiece procedure: repeatedly merge the adjacent pair whose concatenation is the
// highest-scoring token (leftmost on ties); leftovers that are not tokens become <0xXX> bytes.
void Tokenizer::Data::spm_encode(const std::string& text, std::vector<int32_t>& out) const {
  struct Sym { size_t start, len; int32_t prev, next; };
  std::vector<Sym> syms;
  for (size_t i = 0; i < text.size();) {
    size_t len;
    utf8::decode(text, i, len);
    int32_t idx = static_cast<int32_t>(syms.size());
    syms.push_back({i, len, idx - 1, -1});
    if (idx > 0) syms[idx - 1].next = idx;
    i += len;
  }
  struct Bigram { float score; int32_t left, right; size_t size; };
  auto worse = [](const Bigram& a, const Bigram& b) { return a.score != b.score ? a.score < b.score : a.left > b.left; };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> heap(worse);
  auto consider = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    auto it = token_to_id.find(text.substr(syms[l].start, syms[l].len + syms[r].len));
    if (it == token_to_id.end() || size_t(it->second) >= scores.size()) return;
    heap.push({scores[it->second], l, r, syms[l].len + syms[r].len});
  };
  for (size_t i = 1; i < syms.size(); ++i) consider(int32_t(i - 1), int32_t(i));
  while (!heap.empty()) {
    Bigram b = heap.top();
    heap.pop();
    Sym& l = syms[b.left];
    Sym& r = syms[b.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.size || l.next != b.right) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = b.left;
    consider(l.prev, b.left);
    consider(b.left, l.next);
  }
  bool last_unk = false;
  for (int32_t i = syms.empty() ? -1 : 0; i >= 0; i = syms[i].next) {
    std::string piece = text.substr(syms[i].start, syms[i].len);
    auto it = token_to_id.find(piece);
    if (it != token_to_id.end()) {
      out.push_back(it->second);
      last_unk = false;
      continue;
    }
    for (unsigned char c : piece) {
      if (byte_token[c] >= 0) { out.push_back(byte_token[c]); last_unk = false; }
      else push_unk(out, last_unk);
    }
  }
}

void Tokenizer::Data::encode_segment(std::string_view seg, bool at_origin, std::vector<int32_t>& out) const {
  if (seg.empty()) return;
  if (algo == Algo::ScoreSpm) {
    std::string s = (spm_add_space_prefix ? kSpmSpace : std::string()) + replace_all(std::string(seg), " ", kSpmSpace);
    spm_encode(s, out);
    return;
  }
  std::string s = normalizers.empty() ? std::string(seg) : normalize(std::string(seg), normalizers);
  if (pre.empty()) {
    if (!s.empty()) bpe_piece(s, out);
    return;
  }
  for (const auto& p : pre_tokenize({{std::move(s), at_origin}}, pre)) bpe_piece(p.text, out);
}

// ---------------------------------------------------------------- public API

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  const Data& d = *d_;
  std::vector<int32_t> out;
  const auto& by_first = parse_special ? d.added_by_first_all : d.added_by_first_plain;
  size_t seg_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    const AddedToken* hit = nullptr;
    for (int k : by_first[static_cast<unsigned char>(text[i])]) {
      const auto& a = d.added[k];
      if (text.compare(i, a.content.size(), a.content) != 0) continue;
      if (a.single_word) {
        size_t len;
        bool before_word = false, after_word = false;
        if (i > 0) {
          size_t b = i - 1;
          while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
          before_word = unicode_category(utf8::decode(text, b, len)) <= UCat::Lo ||
                        unicode_is_number(utf8::decode(text, b, len)) || text[b] == '_';
        }
        size_t e = i + a.content.size();
        if (e < text.size()) {
          char32_t c = utf8::decode(text, e, len);
          after_word = unicode_is_letter(c) || unicode_is_number(c) || c == '_';
        }
        if (before_word || after_word) continue;
      }
      hit = &a;
      break;
    }
    if (!hit) {
      ++i;
      continue;
    }
    size_t seg_end = i;
    if (hit->lstrip)
      while (seg_end > seg_start && is_ascii_space(text[seg_end - 1])) --seg_end;
    d.encode_segment(text.substr(seg_start, seg_end - seg_start), seg_start == 0, out);
    out.push_back(hit->id);
    i += hit->content.size();
    if (hit->rstrip)
      while (i < text.size() && is_ascii_space(text[i])) ++i;
    seg_start = i;
  }
  d.encode_segment(text.substr(seg_start), seg_start == 0, out);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  const Data& d = *d_;
  std::string out;
  bool segment_start = d.strip_prefix != Data::StripPrefix::None;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size())
      throw Error(d.source + ": token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                  std::to_string(vocab_size()) + ")");
    if (d.is_added[id]) {
      out += d.bytes_of[id];
      if (d.strip_prefix == Data::StripPrefix::EverySegment) segment_start = true;
      continue;
    }
    const std::string& b = d.bytes_of[id];
    if (segment_start && !b.empty() && b[0] == ' ') out.append(b, 1, std::string::npos);
    else out += b;
    segment_start = false;
  }
  return out;
}

std::string Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw Error(d_->source + ": token id " + std::to_string(id) + " is outside the vocabulary");
  return d_->bytes_of[id];
}

std::string Tokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw Error(d_->source + ": token id " + std::to_string(id) + " is outside the vocabulary");
  return d_->vocab[id];
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(d_->vocab.size()); }

std::optional<int32_t> Tokenizer::find_token(std::string_view token_text) const {
  auto it = d_->token_to_id.find(std::string(token_text));
  if (it == d_->token_to_id.end()) return std::nullopt;
  return it->second;
}

int32_t Tokenizer::bos_id() const { return d_->bos; }
int32_t Tokenizer::eos_id() const { return d_->eos; }
bool Tokenizer::add_bos() const { return d_->add_bos; }
bool Tokenizer::is_special(int32_t id) const { return id >= 0 && id < vocab_size() && d_->special[id]; }
const std::string& Tokenizer::chat_template() const { return d_->chat_template; }

// ---------------------------------------------------------------- GGUF front-end

Tokenizer Tokenizer::from_gguf(const GgufFile& f) {
  auto d = std::make_shared<Data>();
  d->source = f.path();
  const std::string model = f.get_string("tokenizer.ggml.model");
  d->vocab = f.get_string_array("tokenizer.ggml.tokens");
  const int32_t n = static_cast<int32_t>(d->vocab.size());
  if (n == 0) d->fail("tokenizer.ggml.tokens: expected a non-empty token list");
  std::vector<int32_t> types(n, 1);
  if (const GgufValue* v = f.find("tokenizer.ggml.token_type")) {
    types = v->as_i32_array();
    if (static_cast<int32_t>(types.size()) != n)
      d->fail("tokenizer.ggml.token_type: expected " + std::to_string(n) + " entries, found " + std::to_string(types.size()));
  }
  for (int32_t id = 0; id < n; ++id) d->token_to_id.emplace(d->vocab[id], id);
  // control (3) and unknown (2) tokens are special; user-defined (4) ones are always split out
  for (int32_t id = 0; id < n; ++id) {
    if (types[id] == 2 || types[id] == 3 || types[id] == 4) {
      AddedToken a;
      a.id = id;
      a.content = d->vocab[id];
      a.special = types[id] != 4;
      d->added.push_back(std::move(a));
    }
  }
  int32_t default_bos = -1, default_eos = -1;
  bool default_add_bos = false;
  if (model == "gpt2") {
    d->byte_level = true;
    const std::string pre = f.get_string_or("tokenizer.ggml.pre", "default");
    NamedPreTokenizer named = gguf_pre_tokenizer(pre);
    for (const auto& pattern : named.patterns) {
      PreTokenizerStep step;
      step.regex = std::make_shared<Regex>(Regex::compile(pattern));
      d->pre.push_back(std::move(step));
    }
    d->ignore_merges = named.ignore_merges;
    default_add_bos = named.add_bos;
    const GgufValue* mv = f.find("tokenizer.ggml.merges");
    if (!mv) d->fail("tokenizer.ggml.merges: missing (required for a gpt2 tokenizer)");
    const auto merges = mv->as_string_array();
    for (size_t r = 0; r < merges.size(); ++r) {
      const std::string& m = merges[r];
      size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
      if (sp == std::string::npos) d->fail("tokenizer.ggml.merges[" + std::to_string(r) + "]: expected 'left right', got '" + m + "'");
      auto a = d->token_to_id.find(m.substr(0, sp));
      auto b = d->token_to_id.find(m.substr(sp + 1));
      auto ab = d->token_to_id.find(m.substr(0, sp) + m.substr(sp + 1));
      if (a == d->token_to_id.end() || b == d->token_to_id.end() || ab == d->token_to_id.end())
        d->fail("tokenizer.ggml.merges[" + std::to_string(r) + "]: '" + m + "' refers to a token not in the vocabulary");
      d->merges.emplace(pair_key(a->second, b->second), std::make_pair(static_cast<int32_t>(r), ab->second));
    }
  } else if (model == "llama") {
    d->algo = Data::Algo::ScoreSpm;
    const GgufValue* sv = f.find("tokenizer.ggml.scores");
    if (!sv) d->fail("tokenizer.ggml.scores: missing (required for a llama tokenizer)");
    d->scores = sv->as_f32_array();
    if (static_cast<int32_t>(d->scores.size()) != n)
      d->fail("tokenizer.ggml.scores: expected " + std::to_string(n) + " entries, found " + std::to_string(d->scores.size()));
    d->spm_add_space_prefix = f.get_bool_or("tokenizer.ggml.add_space_prefix", true);
    if (d->spm_add_space_prefix) d->strip_prefix = Data::StripPrefix::EverySegment;
    d->unk = static_cast<int32_t>(f.get_int_or("tokenizer.ggml.unknown_token_id", 0));
    default_bos = 1;
    default_eos = 2;
    default_add_bos = true;
  } else {
    d->fail("tokenizer.ggml.model '" + model + "': expected 'gpt2' or 'llama'");
  }
  auto id_key = [&](const char* key, int32_t fallback) {
    int64_t v = f.get_int_or(key, fallback);
    if (v < -1 || v >= n) d->fail(std::string(key) + ": id " + std::to_string(v) + " outside the vocabulary");
    return static_cast<int32_t>(v);
  };
  d->bos = id_key("tokenizer.ggml.bos_token_id", default_bos);
  d->eos = id_key("tokenizer.ggml.eos_token_id", default_eos);
  d->add_bos = f.get_bool_or("tokenizer.ggml.add_bos_token", default_add_bos);
  d->chat_template = f.get_string_or("tokenizer.chat_template", "");
  d->finish();
  return Tokenizer(std::move(d));
}

// ---------------------------------------------------------------- tokenizer.json front-end

namespace {

using nlohmann::json;

class JsonLoader {
 public:
  JsonLoader(Tokenizer::Data& d) : d_(d) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const { d_.fail(where + ": " + what); }

  const json& member(const json& obj, const std::string& where, const char* key) const {
    if (!obj.is_object()) fail(where, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end()) fail(where, std::string("missing \"") + key + "\"");
    return *it;
  }
  std::string str(const json& obj, const std::string& where, const char* key) const {
    const json& v = member(obj, where, key);
    if (!v.is_string()) fail(where + "." + key, "expected a string");
    return v.get<std::string>();
  }
  bool flag(const json& obj, const std::string& where, const char* key, bool fallback) const {
    if (!obj.is_object()) fail(where, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(where + "." + key, "expected true or false");
    return it->get<bool>();
  }

  std::shared_ptr<const Regex> pattern(const json& p, const std::string& where) const {
    if (!p.is_object()) fail(where, "expected {\"Regex\": ...} or {\"String\": ...}");
    std::string rx;
    if (p.contains("Regex")) {
      rx = str(p, where, "Regex");
    } else if (p.contains("String")) {
      for (char32_t c : utf8::decode_all(str(p, where, "String"))) {
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
        if (!alnum) rx.push_back('\\');
        utf8::append(rx, c);
      }
    } else {
      fail(where, "expected {\"Regex\": ...} or {\"String\": ...}");
    }
    try {
      return std::make_shared<Regex>(Regex::compile(rx));
    } catch (const Error& e) {
      fail(where, e.what());
    }
  }

  void normalizer(const json& n, const std::string& where) {
    if (n.is_null()) return;
    const std::string type = str(n, where, "type");
    if (type == "Sequence") {
      const json& list = member(n, where, "normalizers");
      if (!list.is_array()) fail(where + ".normalizers", "expected an array");
      for (size_t i = 0; i < list.size(); ++i) normalizer(list[i], where + ".normalizers[" + std::to_string(i) + "]");
    } else if (type == "Prepend") {
      NormalizerStep s;
      s.kind = NormalizerStep::Kind::Prepend;
      s.text = str(n, where, "prepend");
      if (s.text == kSpmSpace) d_.strip_prefix = Tokenizer::Data::StripPrefix::EverySegment;
      d_.normalizers.push_back(std::move(s));
    } else if (type == "Replace") {
      NormalizerStep s;
      s.kind = NormalizerStep::Kind::Replace;
      const json& p = member(n, where, "pattern");
      s.content = str(n, where, "content");
      if (p.is_object() && p.contains("String")) s.text = str(p, where + ".pattern", "String");
      else s.regex = pattern(p, where + ".pattern");
      if (s.text == " " && s.content == kSpmSpace) space_replacement_ = s.content;
      d_.normalizers.push_back(std::move(s));
    } else if (type == "Lowercase") {
      NormalizerStep s;
      s.kind = NormalizerStep::Kind::Lowercase;
      d_.normalizers.push_back(std::move(s));
    } else if (type == "Strip") {
      NormalizerStep s;
      s.kind = NormalizerStep::Kind::Strip;
      s.strip_left = flag(n, where, "left", false);
      s.strip_right = flag(n, where, "right", false);
      d_.normalizers.push_back(std::move(s));
    } else {
      fail(where, "unsupported normalizer type '" + type + "'");
    }
  }

  static SplitBehavior behavior(const std::string& b, const JsonLoader& self, const std::string& where) {
    if (b == "Removed") return SplitBehavior::Removed;
    if (b == "Isolated") return SplitBehavior::Isolated;
    if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
    if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
    if (b == "Contiguous") return SplitBehavior::Contiguous;
    self.fail(where, "unknown split behavior '" + b + "'");
  }

  void regex_step(const char* rx, SplitBehavior b, bool invert) {
    PreTokenizerStep s;
    s.regex = std::make_shared<Regex>(Regex::compile(rx));
    s.behavior = b;
    s.invert = invert;
    d_.pre.push_back(std::move(s));
  }

  void pre_tokenizer(const json& p, const std::string& where) {
    if (p.is_null()) return;
    const std::string type = str(p, where, "type");
    if (type == "Sequence") {
      const json& list = member(p, where, "pretokenizers");
      if (!list.is_array()) fail(where + ".pretokenizers", "expected an array");
      for (size_t i = 0; i < list.size(); ++i) pre_tokenizer(list[i], where + ".pretokenizers[" + std::to_string(i) + "]");
    } else if (type == "Split") {
      PreTokenizerStep s;
      s.regex = pattern(member(p, where, "pattern"), where + ".pattern");
      s.behavior = behavior(str(p, where, "behavior"), *this, where + ".behavior");
      s.invert = flag(p, where, "invert", false);
      d_.pre.push_back(std::move(s));
    } else if (type == "ByteLevel") {
      d_.byte_level = true;
      if (flag(p, where, "add_prefix_space", false)) {
        PreTokenizerStep s;
        s.kind = PreTokenizerStep::Kind::PrefixSpace;
        d_.pre.push_back(std::move(s));
      }
      if (flag(p, where, "use_regex", true)) regex_step(kGpt2SplitPattern, SplitBehavior::Isolated, false);
    } else if (type == "Digits") {
      regex_step(R"(\p{N})", flag(p, where, "individual_digits", false) ? SplitBehavior::Isolated : SplitBehavior::Contiguous,
                 false);
    } else if (type == "Metaspace") {
      PreTokenizerStep s;
      s.kind = PreTokenizerStep::Kind::Metaspace;
      s.replacement = str(p, where, "replacement");
      if (utf8::decode_all(s.replacement).size() != 1) fail(where + ".replacement", "expected a single character");
      s.split = flag(p, where, "split", true);
      if (p.contains("prepend_scheme")) {
        std::string scheme = str(p, where, "prepend_scheme");
        if (scheme == "always") s.prepend = PreTokenizerStep::Prepend::Always;
        else if (scheme == "first") s.prepend = PreTokenizerStep::Prepend::First;
        else if (scheme == "never") s.prepend = PreTokenizerStep::Prepend::Never;
        else fail(where + ".prepend_scheme", "expected always, first or never, got '" + scheme + "'");
      } else {
        s.prepend = flag(p, where, "add_prefix_space", true) ? PreTokenizerStep::Prepend::Always
                                                              : PreTokenizerStep::Prepend::Never;
      }
      if (s.prepend == PreTokenizerStep::Prepend::Always) d_.strip_prefix = Tokenizer::Data::StripPrefix::EverySegment;
      if (s.prepend == PreTokenizerStep::Prepend::First) d_.strip_prefix = Tokenizer::Data::StripPrefix::FirstSegment;
      space_replacement_ = s.replacement;
      d_.pre.push_back(std::move(s));
    } else if (type == "WhitespaceSplit") {
      regex_step(R"(\s+)", SplitBehavior::Removed, false);
    } else if (type == "Whitespace") {
      regex_step(R"(\w+|[^\w\s]+)", SplitBehavior::Removed, true);
    } else if (type == "Punctuation") {
      PreTokenizerStep s;
      s.regex = std::make_shared<Regex>(Regex::compile(R"([\p{P}!-/:-@\[-`{-~])"));
      s.behavior = p.contains("behavior") ? behavior(str(p, where, "behavior"), *this, where + ".behavior")
                                          : SplitBehavior::Isolated;
      d_.pre.push_back(std::move(s));
    } else {
      fail(where, "unsupported pre_tokenizer type '" + type + "'");
    }
  }

  void model(const json& m) {
    const std::string where = "model";
    if (!m.is_object()) fail(where, "expected an object");
    if (m.contains("type") && str(m, where, "type") != "BPE")
      fail(where + ".type", "unsupported model type '" + str(m, where, "type") + "' (expected BPE)");
    const json& vocab = member(m, where, "vocab");
    if (!vocab.is_object()) fail(where + ".vocab", "expected an object of token -> id");
    int64_t max_id = -1;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() > (1 << 30))
        fail(where + ".vocab[\"" + it.key() + "\"]", "expected a non-negative integer id");
      max_id = std::max<int64_t>(max_id, it.value().get<int64_t>());
    }
    d_.vocab.assign(static_cast<size_t>(max_id + 1), {});
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      int32_t id = static_cast<int32_t>(it.value().get<int64_t>());
      d_.vocab[id] = it.key();
      d_.token_to_id.emplace(it.key(), id);
    }
    d_.byte_fallback = flag(m, where, "byte_fallback", false);
    d_.ignore_merges = flag(m, where, "ignore_merges", false);
    d_.fuse_unk = flag(m, where, "fuse_unk", false);
    if (m.contains("dropout") && !m["dropout"].is_null() && !(m["dropout"].is_number() && m["dropout"].get<double>() == 0.0))
      fail(where + ".dropout", "BPE dropout is not supported (encoding must be deterministic)");
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (m.contains(k) && !m[k].is_null() && !(m[k].is_string() && m[k].get<std::string>().empty()))
        fail(where + "." + k, "not supported");
    if (m.contains("unk_token") && !m["unk_token"].is_null()) {
      std::string u = str(m, where, "unk_token");
      auto it = d_.token_to_id.find(u);
      if (it == d_.token_to_id.end()) fail(where + ".unk_token", "'" + u + "' is not in the vocabulary");
      d_.unk = it->second;
    }
    const json& merges = member(m, where, "merges");
    if (!merges.is_array()) fail(where + ".merges", "expected an array");
    for (size_t r = 0; r < merges.size(); ++r) {
      const std::string mw = where + ".merges[" + std::to_string(r) + "]";
      std::string a, b;
      const json& e = merges[r];
      if (e.is_string()) {
        const std::string s = e.get<std::string>();
        size_t sp = s.find(' ');
        if (sp == std::string::npos) fail(mw, "expected 'left right'");
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        a = e[0].get<std::string>();
        b = e[1].get<std::string>();
      } else {
        fail(mw, "expected \"left right\" or [left, right]");
      }
      auto ia = d_.token_to_id.find(a), ib = d_.token_to_id.find(b), iab = d_.token_to_id.find(a + b);
      if (ia == d_.token_to_id.end() || ib == d_.token_to_id.end() || iab == d_.token_to_id.end())
        fail(mw, "merge '" + a + " " + b + "' refers to a token not in the vocabulary");
      d_.merges.emplace(pair_key(ia->second, ib->second), std::make_pair(static_cast<int32_t>(r), iab->second));
    }
  }

  void added_tokens(const json& list) {
    if (list.is_null()) return;
    if (!list.is_array()) fail("added_tokens", "expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string w = "added_tokens[" + std::to_string(i) + "]";
      const json& t = list[i];
      AddedToken a;
      const json& id = member(t, w, "id");
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > (1 << 30))
        fail(w + ".id", "expected a non-negative integer");
      a.id = static_cast<int32_t>(id.get<int64_t>());
      a.content = str(t, w, "content");
      if (a.content.empty()) fail(w + ".content", "expected a non-empty string");
      a.special = flag(t, w, "special", false);
      a.lstrip = flag(t, w, "lstrip", false);
      a.rstrip = flag(t, w, "rstrip", false);
      a.single_word = flag(t, w, "single_word", false);
      d_.added.push_back(std::move(a));
    }
  }

  void post_processor(const json& p) {
    if (p.is_null() || !p.is_object() || !p.contains("type")) return;
    if (p["type"] == "Sequence" && p.contains("processors") && p["processors"].is_array()) {
      for (const auto& q : p["processors"]) post_processor(q);
      return;
    }
    if (p["type"] != "TemplateProcessing") return;
    const json& single = p.contains("single") ? p["single"] : json();
    if (single.is_array() && !single.empty() && single[0].is_object() && single[0].contains("SpecialToken")) {
      const json& st = single[0]["SpecialToken"];
      if (st.is_object() && st.contains("id") && st["id"].is_string()) {
        auto it = d_.token_to_id.find(st["id"].get<std::string>());
        if (it != d_.token_to_id.end()) {
          d_.add_bos = true;
          if (d_.bos < 0) d_.bos = it->second;
        }
      }
    }
  }

  std::string space_replacement_;

 private:
  Tokenizer::Data& d_;
};

std::optional<json> read_json_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number too large
    throw Error(p.string() + ": invalid JSON: " + e.what());
  }
}

// "<s>" or {"content": "<s>", ...}
std::optional<std::string> token_content(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return std::nullopt;
}

}  // namespace

Tokenizer Tokenizer::from_json_text(const std::string& json_text, const std::string& name) {
  auto d = std::make_shared<Data>();
  d->source = name;
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number too large
    throw Error(name + ": invalid JSON: " + e.what());
  }
  if (!j.is_object()) d->fail("expected a JSON object at the top level");
  JsonLoader loader(*d);
  loader.model(j.contains("model") ? j["model"] : json());
  loader.added_tokens(j.contains("added_tokens") ? j["added_tokens"] : json());
  loader.normalizer(j.contains("normalizer") ? j["normalizer"] : json(), "normalizer");
  loader.pre_tokenizer(j.contains("pre_tokenizer") ? j["pre_tokenizer"] : json(), "pre_tokenizer");
  if (j.contains("decoder") && j["decoder"].is_object() && j["decoder"].value("type", "") == "ByteLevel") d->byte_level = true;
  if (d->byte_level && !loader.space_replacement_.empty())
    d->fail("pre_tokenizer: a byte-level tokenizer cannot also replace spaces");
  for (const auto& a : d->added)
    if (size_t(a.id) < d->vocab.size() && !d->vocab[a.id].empty() && d->vocab[a.id] != a.content)
      d->fail("added_tokens: id " + std::to_string(a.id) + " is '" + a.content + "' but the vocabulary has '" +
              d->vocab[a.id] + "'");
  d->finish();
  loader.post_processor(j.contains("post_processor") ? j["post_processor"] : json());
  return Tokenizer(std::move(d));
}

Tokenizer Tokenizer::from_json_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open tokenizer.json");
  std::stringstream ss;
  ss << in.rdbuf();
  Tokenizer t = from_json_text(ss.str(), path);
  // Beside it: tokenizer_config.json (chat template, bos/eos text, add_bos_token), config.json (ids).
  auto d = std::const_pointer_cast<Data>(t.d_);
  const fs::path dir = fs::path(path).parent_path();
  if (auto cfg = read_json_file(dir / "tokenizer_config.json")) {
    const std::string where = (dir / "tokenizer_config.json").string();
    if (cfg->contains("chat_template")) {
      const json& ct = (*cfg)["chat_template"];
      if (ct.is_string()) {
        d->chat_template = ct.get<std::string>();
      } else if (ct.is_array()) {
        for (const auto& e : ct)
          if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string())
            d->chat_template = e["template"].get<std::string>();
      } else if (!ct.is_null()) {
        throw Error(where + ": chat_template: expected a string or a list of named templates");
      }
    }
    auto resolve = [&](const char* key, int32_t& target) {
      if (!cfg->contains(key) || (*cfg)[key].is_null()) return;
      auto text = token_content((*cfg)[key]);
      if (!text) throw Error(where + ": " + key + ": expected a string or {\"content\": ...}");
      auto id = t.find_token(*text);
      if (!id) throw Error(where + ": " + key + ": '" + *text + "' is not a token of " + path);
      target = *id;
    };
    resolve("bos_token", d->bos);
    resolve("eos_token", d->eos);
    if (cfg->contains("add_bos_token") && (*cfg)["add_bos_token"].is_boolean()) d->add_bos = (*cfg)["add_bos_token"].get<bool>();
  }
  if (auto cfg = read_json_file(dir / "config.json")) {
    auto id_of = [&](const char* key, int32_t& target) {
      if (target >= 0 || !cfg->contains(key)) return;
      const json& v = (*cfg)[key];
      const json& first = (v.is_array() && !v.empty()) ? v[0] : v;
      if (first.is_number_integer() && first.get<int64_t>() >= 0 && first.get<int64_t>() < t.vocab_size())
        target = static_cast<int32_t>(first.get<int64_t>());
    };
    id_of("bos_token_id", d->bos);
    id_of("eos_token_id", d->eos);
  }
  return t;
}

}  // namespace isc
