// Concept data: the labelled texts or contrast pairs a concept direction is learnt from. Read from a
// concept file: a YAML spec (concepts/*.yaml) that builds them from a dataset, or a user's JSONL.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace isc::tasks {
class YamlMap;
}

namespace isc::concepts {

struct ConceptPair {
  std::string positive;        // the text expressing the positive pole
  std::string negative;        // its counterpart expressing the negative pole
  std::optional<int> label;    // CCS-style pairs: 1 = the positive statement is true, 0 = false
};

struct ConceptData {
  std::string name;            // e.g. "bias"
  std::string description;
  std::string positive_pole;   // what label 1 / the positive member means, e.g. "anti-stereotyped"
  std::string negative_pole;
  std::string file;            // the concept file it was read from
  std::string source;          // provenance: builder and dataset path as written, limit, seed
  // How a text reaches the model: "none" = the text alone (the reference's statements), "user" =
  // as a user turn through the model's chat template, state taken after the generation prompt.
  std::string wrap = "none";
  // Exactly one of the two is filled:
  std::vector<std::string> texts;   // labelled texts
  std::vector<int> labels;          // 1 = positive pole, 0 = negative pole
  std::vector<ConceptPair> pairs;   // contrast pairs
  bool paired() const { return !pairs.empty(); }
  size_t size() const { return paired() ? pairs.size() : texts.size(); }
  // sha256 (hex) over the examples as used, in order (provenance). Each example is one line:
  // texts "<label>\t<bytes>\t<text>\n", pairs "<label or ->\t<bytes>\t<positive>\t<bytes>\t<negative>\n",
  // where <bytes> is the decimal byte length of the text that follows.
  std::string data_sha256;
  // Source records a builder left out, by reason (e.g. "no toxicity score": 12); empty for JSONL.
  std::map<std::string, int64_t> skipped;
  // Examples the file yields before the `limit` of load_concept_file (after a builder's own
  // options such as `balance` and the source's `limit`).
  int64_t available = 0;
};

// Reads a concept file: *.yaml / *.yml / *.json (a spec with a `source` builder, see
// concepts/README.md) or *.jsonl (lines {"text", "label"} or {"positive", "negative"[, "label"]}).
// `limit` > 0 keeps a deterministic subsample of that many examples (seeded, identical on every
// platform, kept in file order; labelled texts are subsampled per class in proportion, with at least
// one of each). Throws isc::Error "file:line: ..." on malformed lines, mixed line kinds, empty data,
// a single class, or a missing dataset; "file:line:col: ..." on a bad spec.
ConceptData load_concept_file(const std::string& path, int64_t limit = 0, uint64_t seed = 0);

// A user JSONL concept file alone (what load_concept_file does for *.jsonl, without a limit).
ConceptData load_concept_jsonl(const std::string& path);

// --- building blocks, exposed for the builders and the tests ---

// `k` of the indices 0..n-1 (all when k == 0 or k >= n), in increasing order: a Fisher–Yates
// shuffle driven by splitmix64(seed) with rejection sampling, so the choice is the same everywhere.
std::vector<size_t> seeded_sample(size_t n, size_t k, uint64_t seed);

// The reference study's BBQ statement: a question "Who <rest>?" with `answer` in place of "Who"
// (first letter capitalised) and the final "?" replaced by "."; nullopt unless the question starts
// with "Who " and ends with "?". ("Who was forgetful?", "The grandfather") -> "The grandfather was forgetful."
std::optional<std::string> bbq_statement(const std::string& question, const std::string& answer);

// Pronoun swap of one sentence to one grammatical gender (whole ASCII words, case kept: "he",
// "He", "HE"). feminine: he->she, him->her, his->her (before a word) or hers (before punctuation,
// the end, or a function word), himself->herself, and hers->her before a word (the reference pool
// writes "hers constitution"). masculine: she->he, herself->himself, hers->his,
// her->him (before punctuation, the end, or a function word such as "that", "to", "and") or his
// (before any other word). Words of the target gender are left as they are.
std::string to_feminine(const std::string& sentence);
std::string to_masculine(const std::string& sentence);
// gender_swap pairs are (to_feminine(s), to_masculine(to_feminine(s))).
// Whether the sentence has one of he, she, him, her, his, hers, himself, herself as a whole word.
bool has_gendered_pronoun(const std::string& sentence);

// The `source` builders of a YAML spec (concept_builders.cpp). Each reads its own options from
// `source` (unknown keys are errors), resolves `path` like a task file's data path, and fills
// texts+labels or pairs, plus source (provenance) and skipped. Common options (`limit`, `seed`)
// and the hash are applied by load_concept_file.
void build_from_jsonl(const tasks::YamlMap& source, ConceptData& out);
void build_bbq_statements(const tasks::YamlMap& source, ConceptData& out);
void build_realtoxicity(const tasks::YamlMap& source, ConceptData& out);
void build_jailbreak_ccs(const tasks::YamlMap& source, ConceptData& out);
void build_gender_swap(const tasks::YamlMap& source, ConceptData& out);

// The two CCS statements built from a response by jailbreak_ccs.
std::string harmful_ccs_statement(const std::string& response, bool harmful);

}  // namespace isc::concepts
