// Concept files: dispatch on the kind (YAML spec or user JSONL), the user JSONL reader, the seeded
// subsample, the checks every concept data set must pass, and its provenance hash.
#include "concepts/concept_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>

#include "common/error.h"
#include "common/sha256.h"
#include "tasks/jsonl_reader.h"
#include "tasks/yaml_fields.h"

namespace isc::concepts {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Uniform in [0, n) by rejection (no modulo bias, no library-specific distribution).
uint64_t uniform_below(uint64_t& state, uint64_t n) {
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  for (;;) {
    const uint64_t x = splitmix64(state);
    if (x < limit) return x % n;
  }
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

std::string hash_examples(const ConceptData& d) {
  std::string buf;
  if (d.paired()) {
    for (const auto& p : d.pairs)
      buf += fmt::format("{}\t{}\t{}\t{}\t{}\n", p.label ? std::to_string(*p.label) : "-", p.positive.size(),
                         p.positive, p.negative.size(), p.negative);
  } else {
    for (size_t i = 0; i < d.texts.size(); ++i)
      buf += fmt::format("{}\t{}\t{}\n", d.labels[i], d.texts[i].size(), d.texts[i]);
  }
  return sha256_hex(buf.data(), buf.size());
}

// Keeps `limit` examples (0 = all): pairs uniformly, labelled texts per class in proportion.
void subsample(ConceptData& d, int64_t limit, uint64_t seed) {
  if (limit <= 0 || static_cast<size_t>(limit) >= d.size()) return;
  const size_t k = static_cast<size_t>(limit);
  if (d.paired()) {
    std::vector<ConceptPair> kept;
    for (size_t i : seeded_sample(d.pairs.size(), k, seed)) kept.push_back(std::move(d.pairs[i]));
    d.pairs = std::move(kept);
    return;
  }
  std::vector<size_t> pos, neg;
  for (size_t i = 0; i < d.labels.size(); ++i) (d.labels[i] == 1 ? pos : neg).push_back(i);
  size_t kp = static_cast<size_t>((static_cast<double>(k) * pos.size()) / d.labels.size() + 0.5);
  if (k >= 2 && !pos.empty() && !neg.empty()) kp = std::clamp<size_t>(kp, 1, k - 1);
  kp = std::min(kp, pos.size());
  const size_t kn = std::min(k - kp, neg.size());
  std::vector<size_t> keep;
  // (seeded_sample takes k = 0 as "all")
  if (kp > 0)
    for (size_t i : seeded_sample(pos.size(), kp, seed)) keep.push_back(pos[i]);
  // a different stream for the other class, so its choice does not mirror the first
  if (kn > 0)
    for (size_t i : seeded_sample(neg.size(), kn, seed ^ 0xA5A5A5A5A5A5A5A5ULL)) keep.push_back(neg[i]);
  std::sort(keep.begin(), keep.end());
  std::vector<std::string> texts;
  std::vector<int> labels;
  for (size_t i : keep) {
    texts.push_back(std::move(d.texts[i]));
    labels.push_back(d.labels[i]);
  }
  d.texts = std::move(texts);
  d.labels = std::move(labels);
}

// The checks every concept data set passes after loading (and again after a limit).
void check_usable(const ConceptData& d, const std::string& where) {
  if (d.size() == 0) throw Error(where + ": no examples");
  if (d.paired()) return;
  bool has0 = false, has1 = false;
  for (int l : d.labels) (l == 1 ? has1 : has0) = true;
  if (!has0 || !has1)
    throw Error(fmt::format("{}: only texts of label {} ({}); a concept needs both classes", where, has1 ? 1 : 0,
                            has1 ? d.positive_pole : d.negative_pole));
}

std::string describe_keys(const nlohmann::json& j) {
  std::string keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys += (keys.empty() ? "" : ", ") + it.key();
  return keys;
}

int json_label(const nlohmann::json& j) {
  const auto& v = j.at("label");
  if (!(v.is_number_integer() || v.is_number_unsigned()) || (v.get<int64_t>() != 0 && v.get<int64_t>() != 1))
    throw Error("expected 'label' to be 0 or 1, found " + v.dump());
  return static_cast<int>(v.get<int64_t>());
}

std::string json_text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw Error(std::string("expected a string field '") + key + "'");
  if (!it->is_string()) throw Error(std::string("expected a string for '") + key + "', found " + it->type_name());
  std::string s = it->get<std::string>();
  if (blank(s)) throw Error(std::string("expected a non-empty string for '") + key + "'");
  return s;
}

ConceptData load_spec(const std::string& path) {
  const YAML::Node root = tasks::load_yaml_file(path);
  const tasks::YamlMap m(path, root, "a concept file");
  m.allow_only({"name", "description", "positive", "negative", "wrap", "source"});
  if (!m.has("source")) throw Error(m.position() + ": a concept file needs key 'source'");
  const tasks::YamlMap src = *m.map("source");
  const std::string format = src.required_string("format");

  ConceptData d;
  d.file = path;
  if (format == "jsonl") build_from_jsonl(src, d);
  else if (format == "bbq_statements") build_bbq_statements(src, d);
  else if (format == "realtoxicity") build_realtoxicity(src, d);
  else if (format == "jailbreak_ccs") build_jailbreak_ccs(src, d);
  else if (format == "gender_swap") build_gender_swap(src, d);
  else
    throw Error(src.position_of("format") + ": unknown source format '" + format +
                "' (expected one of: jsonl, bbq_statements, realtoxicity, jailbreak_ccs, gender_swap)");

  d.file = path;
  d.name = m.string("name").value_or(std::filesystem::path(path).stem().string());
  if (d.name.empty()) throw Error(m.position_of("name") + ": expected a non-empty name");
  if (auto v = m.string("description")) d.description = *v;
  if (auto v = m.string("positive")) d.positive_pole = *v;
  if (auto v = m.string("negative")) d.negative_pole = *v;
  if (auto v = m.string("wrap")) {
    if (*v != "none" && *v != "user")
      throw Error(m.position_of("wrap") + ": unknown wrap '" + *v + "' (expected none or user)");
    d.wrap = *v;
  }

  // the source's own subsample (gender_swap defaults to 2000 sentences)
  const long long def_limit = format == "gender_swap" ? 2000 : 0;
  const long long limit = src.integer("limit").value_or(def_limit);
  if (limit < 0) throw Error(src.position_of("limit") + ": expected 'limit' >= 0 (0 = all)");
  const long long seed = src.integer("seed").value_or(0);
  if (seed < 0) throw Error(src.position_of("seed") + ": expected 'seed' >= 0");
  check_usable(d, src.position());
  subsample(d, limit, static_cast<uint64_t>(seed));
  if (limit > 0) d.source += fmt::format(", limit {} seed {}", limit, seed);
  return d;
}

}  // namespace

std::vector<size_t> seeded_sample(size_t n, size_t k, uint64_t seed) {
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  if (k == 0 || k >= n) return idx;
  uint64_t state = seed;
  for (size_t i = 0; i < k; ++i) {  // partial Fisher–Yates: position i gets a uniform pick of i..n-1
    const size_t j = i + static_cast<size_t>(uniform_below(state, n - i));
    std::swap(idx[i], idx[j]);
  }
  idx.resize(k);
  std::sort(idx.begin(), idx.end());
  return idx;
}

ConceptData load_concept_jsonl(const std::string& path) {
  ConceptData d;
  d.file = path;
  d.name = std::filesystem::path(path).stem().string();
  d.positive_pole = "label 1";
  d.negative_pole = "label 0";
  d.source = "jsonl " + path;
  enum class Kind { none, text, pair };
  Kind kind = Kind::none;
  int64_t first_line = 0;
  int pair_labels = -1;  // -1 unknown, 0 none, 1 all: pairs either all carry a label or none does
  tasks::BadLines bad(false);
  tasks::read_jsonl(path, bad, [&](const nlohmann::json& j, int64_t line) {
    const bool is_text = j.contains("text");
    const bool is_pair = j.contains("positive") || j.contains("negative");
    if (is_text == is_pair)
      throw Error(is_text ? "expected either 'text' or 'positive'/'negative', not both"
                          : "expected {\"text\": str, \"label\": 0|1} or {\"positive\": str, \"negative\": str"
                            "[, \"label\": 0|1]}, found keys: " + describe_keys(j));
    const Kind k = is_text ? Kind::text : Kind::pair;
    if (kind == Kind::none) {
      kind = k;
      first_line = line;
    } else if (k != kind) {
      throw Error(fmt::format("expected a {} like line {} (a file holds one kind of line)",
                              kind == Kind::text ? "labelled text {\"text\", \"label\"}"
                                                 : "contrast pair {\"positive\", \"negative\"}",
                              first_line));
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& key = it.key();
      const bool known = key == "label" || (is_text ? key == "text" : key == "positive" || key == "negative");
      if (!known)
        throw Error(fmt::format("unknown key '{}' (expected {})", key, is_text ? "text, label" : "positive, negative, label"));
    }
    if (is_text) {
      std::string text = json_text(j, "text");
      if (!j.contains("label")) throw Error("expected field 'label' (0 or 1)");
      d.labels.push_back(json_label(j));
      d.texts.push_back(std::move(text));
      return;
    }
    ConceptPair p;
    p.positive = json_text(j, "positive");
    p.negative = json_text(j, "negative");
    if (p.positive == p.negative) throw Error("expected 'positive' and 'negative' to differ");
    const int has_label = j.contains("label") ? 1 : 0;
    if (pair_labels >= 0 && has_label != pair_labels)
      throw Error(fmt::format("expected {} 'label' like line {} (pairs either all have a label or none)",
                              pair_labels ? "a" : "no", first_line));
    pair_labels = has_label;
    if (has_label) p.label = json_label(j);
    d.pairs.push_back(std::move(p));
  });
  if (d.size() == 0)
    throw Error(path + ": no examples (expected lines {\"text\": str, \"label\": 0|1} or "
                       "{\"positive\": str, \"negative\": str})");
  check_usable(d, path);
  return d;
}

ConceptData load_concept_file(const std::string& path, int64_t limit, uint64_t seed) {
  if (limit < 0) throw Error(fmt::format("{}: expected a limit >= 0, found {}", path, limit));
  const std::string ext = std::filesystem::path(path).extension().string();
  ConceptData d;
  if (ext == ".jsonl") {
    if (!std::filesystem::is_regular_file(path)) throw Error(path + ": file not found");
    d = load_concept_jsonl(path);
  } else if (ext == ".yaml" || ext == ".yml" || ext == ".json") {
    d = load_spec(path);
  } else {
    throw Error(path + ": expected a concept file ending in .yaml, .yml, .json (a spec) or .jsonl (examples)");
  }
  d.available = static_cast<int64_t>(d.size());
  subsample(d, limit, seed);
  if (limit > 0 && static_cast<size_t>(limit) < static_cast<size_t>(d.available))
    d.source += fmt::format("; limit {} seed {}", limit, seed);
  check_usable(d, path);
  d.data_sha256 = hash_examples(d);
  return d;
}

}  // namespace isc::concepts
