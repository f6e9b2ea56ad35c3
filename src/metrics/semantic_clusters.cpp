// Greedy representative clustering (Kuhn et al. 2023) and exact-match keys; see semantic_clusters.h.
#include "metrics/semantic_clusters.h"

#include <fmt/format.h>

#include "common/error.h"

namespace isc::metrics {

std::vector<int> cluster_by_equivalence(std::size_t n,
                                        const std::function<bool(std::size_t a, std::size_t b)>& equivalent) {
  std::vector<int> id(n, -1);
  std::vector<std::size_t> representative;  // first member of each cluster, in cluster order
  for (std::size_t m = 0; m < n; ++m) {
    for (std::size_t c = 0; c < representative.size(); ++c) {
      if (equivalent(representative[c], m)) {
        id[m] = static_cast<int>(c);
        break;
      }
    }
    if (id[m] < 0) {
      id[m] = static_cast<int>(representative.size());
      representative.push_back(m);
    }
  }
  return id;
}

std::vector<int> cluster_by_entailment(std::size_t n,
                                       const std::function<bool(std::size_t a, std::size_t b)>& entails) {
  return cluster_by_equivalence(n, [&](std::size_t r, std::size_t m) { return entails(r, m) && entails(m, r); });
}

std::vector<std::pair<std::size_t, std::size_t>> all_entailment_pairs(std::size_t n) {
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  if (n > 1) pairs.reserve(n * (n - 1));
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = 0; b < n; ++b)
      if (a != b) pairs.emplace_back(a, b);
  return pairs;
}

std::vector<int> cluster_by_entailment_matrix(std::size_t n, std::span<const std::uint8_t> entails) {
  if (entails.size() != n * n)
    throw Error(fmt::format("cluster_by_entailment_matrix: {} entries for {} samples; expected n * n = {}",
                            entails.size(), n, n * n));
  return cluster_by_entailment(n, [&](std::size_t a, std::size_t b) { return entails[a * n + b] != 0; });
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool is_trailing_punct(char c) { return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?'; }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// Strips one pair of matching surrounding quotes; false when there is none.
bool strip_quotes(std::string_view& s) {
  static constexpr std::pair<std::string_view, std::string_view> kPairs[] = {
      {"\"", "\""}, {"'", "'"}, {"`", "`"}, {"\xE2\x80\x9C", "\xE2\x80\x9D"}, {"\xE2\x80\x98", "\xE2\x80\x99"}};
  for (const auto& [open, close] : kPairs) {
    if (s.size() >= open.size() + close.size() && starts_with(s, open) && ends_with(s, close)) {
      s = s.substr(open.size(), s.size() - open.size() - close.size());
      return true;
    }
  }
  return false;
}

}  // namespace

std::string exact_match_key(std::string_view text) {
  std::string_view s = text;
  for (bool changed = true; changed;) {
    changed = false;
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1), changed = true;
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1), changed = true;
    while (!s.empty() && is_trailing_punct(s.back())) s.remove_suffix(1), changed = true;
    if (strip_quotes(s)) changed = true;
  }
  std::string out;
  out.reserve(s.size());
  bool in_space = false;
  for (char c : s) {
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

std::vector<int> cluster_by_exact_match(std::span<const std::string> texts) {
  std::vector<std::string> keys;
  keys.reserve(texts.size());
  for (const std::string& t : texts) keys.push_back(exact_match_key(t));
  return cluster_by_equivalence(keys.size(), [&](std::size_t a, std::size_t b) { return keys[a] == keys[b]; });
}

}  // namespace isc::metrics
