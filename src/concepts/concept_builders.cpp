// The `source` builders of concept specs: BBQ stereotype statements, RealToxicityPrompts texts,
// jailbreak CCS pairs, pronoun-swapped sentence pairs. They read the datasets through the task
// loaders (src/tasks), so a dataset is parsed, and its bad lines reported, in one place.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <utility>

#include "common/error.h"
#include "concepts/concept_data.h"
#include "tasks/data_path.h"
#include "tasks/jsonl_reader.h"
#include "tasks/loaders.h"
#include "tasks/text_lines.h"
#include "tasks/yaml_fields.h"

namespace isc::concepts {

namespace {

struct Source {
  std::string written;   // the path as the spec writes it (provenance)
  std::string resolved;
};

Source source_path(const tasks::YamlMap& src) {
  Source s;
  s.written = src.required_string("path");
  s.resolved = tasks::resolve_path(src.file(), s.written, src.position_of("path"), "concept data");
  return s;
}

tasks::DatasetSpec dataset_spec(const tasks::YamlMap& src, const std::string& format, const Source& s) {
  tasks::DatasetSpec ds;
  ds.format = format;
  ds.path = s.written;
  ds.base_file = src.file();
  ds.position = src.position();
  return ds;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "her"/"his" followed by one of these (or by punctuation / the end) is an object or a standalone
// possessive ("told her that", "the book is his and"); before any other word it is a determiner.
const std::set<std::string>& function_words() {
  static const std::set<std::string> words = {
      "a",     "about", "after", "again", "against", "all",   "also",  "am",     "an",    "and",   "any",
      "are",   "as",    "at",    "back",  "be",      "been",  "before", "being", "below", "but",   "by",
      "can",   "could", "did",   "do",    "does",    "down",  "during", "each",  "even",  "for",   "from",
      "had",   "has",   "have",  "he",    "her",     "here",  "him",   "his",    "how",   "i",     "if",
      "in",    "into",  "is",    "it",    "its",     "just",  "may",   "me",     "might", "more",  "most",
      "must",  "my",    "no",    "nor",   "not",     "now",   "of",    "off",    "on",    "once",  "only",
      "or",    "our",   "out",   "over",  "shall",   "she",   "should", "since", "so",    "some",  "than",
      "that",  "the",   "their", "them",  "then",    "there", "these", "they",   "this",  "those", "through",
      "to",    "too",   "under", "until", "up",      "us",    "very",  "was",    "we",    "were",  "what",
      "when",  "where", "whether", "which", "while", "who",   "whom",  "why",    "will",  "with",  "would",
      "yet",   "you",   "your"};
  return words;
}

// Whether the word starting at `pos` (after spaces) is absent, punctuation, or a function word.
bool followed_by_non_noun(const std::string& s, size_t pos) {
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
  if (pos >= s.size() || !word_char(s[pos])) return true;
  size_t end = pos;
  while (end < s.size() && word_char(s[end])) ++end;
  return function_words().count(lower(s.substr(pos, end - pos))) > 0;
}

// `replacement` in the case pattern of `original`: all lower, Capitalised, or ALL CAPS.
std::string match_case(const std::string& original, const std::string& replacement) {
  bool all_upper = true, any_alpha = false;
  for (char c : original)
    if (std::isalpha(static_cast<unsigned char>(c))) {
      any_alpha = true;
      all_upper = all_upper && std::isupper(static_cast<unsigned char>(c));
    }
  std::string out = replacement;
  if (any_alpha && all_upper && original.size() > 1) {
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  } else if (!original.empty() && std::isupper(static_cast<unsigned char>(original[0]))) {
    out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  }
  return out;
}

// Rewrites each whole ASCII word w of s as pick(lower(w), end of w) when that returns non-empty.
template <class Pick>
std::string rewrite_words(const std::string& s, Pick&& pick) {
  std::string out;
  out.reserve(s.size() + 16);
  size_t i = 0;
  while (i < s.size()) {
    if (!word_char(s[i])) {
      out += s[i++];
      continue;
    }
    size_t end = i;
    while (end < s.size() && word_char(s[end])) ++end;
    const std::string word = s.substr(i, end - i);
    const std::string to = pick(lower(word), end);
    out += to.empty() ? word : match_case(word, to);
    i = end;
  }
  return out;
}

}  // namespace

std::string to_feminine(const std::string& sentence) {
  return rewrite_words(sentence, [&](const std::string& w, size_t end) -> std::string {
    if (w == "he") return "she";
    if (w == "him") return "her";
    if (w == "himself") return "herself";
    if (w == "his") return followed_by_non_noun(sentence, end) ? "hers" : "her";
    // the reference pool's own swap wrote "hers" for every "his" ("hers constitution")
    if (w == "hers" && !followed_by_non_noun(sentence, end)) return "her";
    return "";
  });
}

std::string to_masculine(const std::string& sentence) {
  return rewrite_words(sentence, [&](const std::string& w, size_t end) -> std::string {
    if (w == "she") return "he";
    if (w == "herself") return "himself";
    if (w == "hers") return "his";
    if (w == "her") return followed_by_non_noun(sentence, end) ? "him" : "his";
    return "";
  });
}

bool has_gendered_pronoun(const std::string& sentence) {
  static const std::set<std::string> pronouns = {"he", "she", "him", "her", "his", "hers", "himself", "herself"};
  bool found = false;
  rewrite_words(sentence, [&](const std::string& w, size_t) -> std::string {
    found = found || pronouns.count(w) > 0;
    return "";
  });
  return found;
}

std::optional<std::string> bbq_statement(const std::string& question, const std::string& answer) {
  if (question.size() < 5 || question.compare(0, 4, "Who ") != 0 || question.back() != '?') return std::nullopt;
  std::string a = trim(answer);
  if (a.empty()) return std::nullopt;
  a[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(a[0])));
  return a + question.substr(3, question.size() - 4) + ".";
}

std::string harmful_ccs_statement(const std::string& response, bool harmful) {
  std::string s = response;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s + "\nQuestion: Is the above text harmful?\nAnswer: " +
         (harmful ? "(a) yes, this is harmful" : "(b) no, this is not harmful");
}

void build_from_jsonl(const tasks::YamlMap& src, ConceptData& out) {
  src.allow_only({"format", "path", "limit", "seed"});
  const Source s = source_path(src);
  const std::string file = out.file;
  out = load_concept_jsonl(s.resolved);
  out.file = file;
  out.source = "jsonl " + s.written;
}

void build_bbq_statements(const tasks::YamlMap& src, ConceptData& out) {
  src.allow_only({"format", "path", "categories", "limit", "seed"});
  const Source s = source_path(src);
  const auto categories = src.string_list("categories");
  tasks::DataFiles files;
  files.main = s.resolved;
  tasks::BadLines bad(false);
  const auto items = tasks::load_bbq_jsonl(dataset_spec(src, "bbq_jsonl", s), files, bad);
  out.positive_pole = "unbiased (anti-stereotyped statement)";
  out.negative_pole = "biased (stereotyped statement)";
  std::set<std::pair<std::string, std::string>> seen;
  std::set<std::string> used_categories;
  for (const auto& it : items) {
    if (categories && std::find(categories->begin(), categories->end(), it.category) == categories->end()) continue;
    used_categories.insert(it.category);
    const std::string question = it.fields.at("question").get<std::string>();
    const int target = it.fields.at("target_index").get<int>();
    const int unknown = it.fields.at("unknown_index").get<int>();
    if (question.compare(0, 4, "Who ") != 0) {
      ++out.skipped["question does not start with \"Who \""];
      continue;
    }
    if (target < 0) {
      ++out.skipped["stereotyped answer not determined"];
      continue;
    }
    int other = -1;
    for (int i = 0; i < 3; ++i)
      if (i != target && i != unknown) other = i;
    // neg question: the stereotype names the target group; nonneg: it names the other group
    const bool neg = it.fields.at("question_polarity").get<std::string>() == "neg";
    const int stereo = neg ? target : other, anti = neg ? other : target;
    auto pos = bbq_statement(question, it.options[anti]);
    auto negs = bbq_statement(question, it.options[stereo]);
    if (!pos || !negs || *pos == *negs) {
      ++out.skipped["no statement pair"];
      continue;
    }
    if (!seen.insert({*pos, *negs}).second) {
      ++out.skipped["duplicate pair"];
      continue;
    }
    out.pairs.push_back({std::move(*pos), std::move(*negs), std::nullopt});
  }
  if (categories)
    for (const auto& c : *categories)
      if (!used_categories.count(c))
        throw Error(src.position_of("categories") + ": no BBQ items of category '" + c + "'");
  out.source = "bbq_statements " + s.written;
  if (categories) {
    std::string list;
    for (const auto& c : *categories) list += (list.empty() ? "" : ",") + c;
    out.source += " categories " + list;
  }
}

void build_realtoxicity(const tasks::YamlMap& src, ConceptData& out) {
  src.allow_only({"format", "path", "threshold", "parts", "balance", "limit", "seed"});
  const Source s = source_path(src);
  const double threshold = src.number("threshold").value_or(0.5);
  if (!(threshold > 0.0 && threshold <= 1.0))
    throw Error(src.position_of("threshold") + ": expected 'threshold' in (0, 1]");
  const bool balance = src.boolean("balance").value_or(true);
  const auto parts = src.string_list("parts").value_or(std::vector<std::string>{"prompt", "continuation"});
  bool use_prompt = false, use_cont = false;
  for (const auto& p : parts) {
    if (p == "prompt") use_prompt = true;
    else if (p == "continuation") use_cont = true;
    else throw Error(src.position_of("parts") + ": unknown part '" + p + "' (expected prompt, continuation)");
  }
  if (parts.empty()) throw Error(src.position_of("parts") + ": expected at least one of prompt, continuation");
  const uint64_t seed = static_cast<uint64_t>(std::max<long long>(0, src.integer("seed").value_or(0)));
  tasks::DataFiles files;
  files.main = s.resolved;
  tasks::BadLines bad(false);
  const auto items = tasks::load_realtoxicity_jsonl(dataset_spec(src, "realtoxicity_jsonl", s), files, bad);
  out.positive_pole = "non-toxic";
  out.negative_pole = "toxic";
  std::set<std::string> seen;
  auto consider = [&](const tasks::TaskItem& it, const char* text_key, const char* score_key, const char* what) {
    const auto& score = it.fields.at(score_key);
    if (score.is_null()) {
      ++out.skipped[fmt::format("{} without a toxicity score", what)];
      return;
    }
    auto t = it.fields.find(text_key);
    const std::string text = t == it.fields.end() ? "" : trim(t->get<std::string>());
    if (text.empty()) {
      ++out.skipped[fmt::format("{} without text", what)];
      return;
    }
    if (!seen.insert(text).second) {
      ++out.skipped["duplicate text"];
      return;
    }
    out.texts.push_back(text);
    out.labels.push_back(score.get<double>() < threshold ? 1 : 0);
  };
  for (const auto& it : items) {
    if (use_prompt) consider(it, "prompt", "prompt_toxicity", "prompt");
    if (use_cont) consider(it, "continuation", "continuation_toxicity", "continuation");
  }
  out.source = fmt::format("realtoxicity {} parts {} threshold {}", s.written,
                           use_prompt && use_cont ? "prompt,continuation" : use_prompt ? "prompt" : "continuation",
                           threshold);
  if (!balance) return;
  std::vector<size_t> pos, neg;
  for (size_t i = 0; i < out.labels.size(); ++i) (out.labels[i] == 1 ? pos : neg).push_back(i);
  if (pos.empty() || neg.empty() || pos.size() == neg.size()) return;
  auto& larger = pos.size() > neg.size() ? pos : neg;
  const size_t n = std::min(pos.size(), neg.size());
  std::vector<bool> keep(out.labels.size(), true);
  const auto chosen = seeded_sample(larger.size(), n, seed);
  std::vector<bool> chosen_mask(larger.size(), false);
  for (size_t i : chosen) chosen_mask[i] = true;
  for (size_t i = 0; i < larger.size(); ++i)
    if (!chosen_mask[i]) keep[larger[i]] = false;
  std::vector<std::string> texts;
  std::vector<int> labels;
  for (size_t i = 0; i < keep.size(); ++i)
    if (keep[i]) {
      texts.push_back(std::move(out.texts[i]));
      labels.push_back(out.labels[i]);
    }
  out.skipped[fmt::format("balance: {} texts left out", out.labels[larger.front()] == 1 ? "non-toxic" : "toxic")] +=
      static_cast<int64_t>(larger.size() - n);
  out.texts = std::move(texts);
  out.labels = std::move(labels);
  out.source += fmt::format(" balanced seed {}", seed);
}

void build_jailbreak_ccs(const tasks::YamlMap& src, ConceptData& out) {
  src.allow_only({"format", "path", "limit", "seed"});
  const Source s = source_path(src);
  tasks::DataFiles files;
  files.main = s.resolved;
  tasks::BadLines bad(false);
  const auto items = tasks::load_jailbreak_csv(dataset_spec(src, "jailbreak_csv", s), files, bad);
  out.positive_pole = "harmless";
  out.negative_pole = "harmful";
  for (const auto& it : items) {
    const std::string response = it.fields.at("response").get<std::string>();
    if (trim(response).empty()) {
      ++out.skipped["empty response"];
      continue;
    }
    ConceptPair p;
    p.positive = harmful_ccs_statement(response, false);
    p.negative = harmful_ccs_statement(response, true);
    p.label = it.gold == 1 ? 1 : 0;  // options Yes/No: gold 1 = "No", not harmful
    out.pairs.push_back(std::move(p));
  }
  out.source = "jailbreak_ccs " + s.written;
}

void build_gender_swap(const tasks::YamlMap& src, ConceptData& out) {
  src.allow_only({"format", "path", "shards", "limit", "seed"});
  const Source s = source_path(src);
  std::vector<int> shards;
  if (auto list = src.string_list("shards")) {
    for (const auto& v : *list) {
      int k = -1;
      try {
        size_t used = 0;
        k = std::stoi(v, &used);
        if (used != v.size()) k = -1;
      } catch (const std::exception&) {
      }
      if (k < 0 || k > 10) throw Error(src.position_of("shards") + ": expected shard numbers in 0..10, found '" + v + "'");
      shards.push_back(k);
    }
    if (shards.empty()) throw Error(src.position_of("shards") + ": expected at least one shard");
  } else {
    for (int k = 0; k <= 10; ++k) shards.push_back(k);
  }
  out.positive_pole = "feminine";
  out.negative_pole = "masculine";
  std::set<std::string> seen;
  std::string shard_list;
  for (int k : shards) {
    const std::string file = (std::filesystem::path(s.resolved) / fmt::format("{}.txt", k)).string();
    if (!std::filesystem::is_regular_file(file))
      throw Error(src.position_of("path") + ": shard file '" + file + "' not found");
    shard_list += (shard_list.empty() ? "" : ",") + std::to_string(k);
    tasks::for_each_line(file, [&](const std::string& line, int64_t) {
      const std::string sentence = trim(line);
      if (!has_gendered_pronoun(sentence)) {
        ++out.skipped["no gendered pronoun"];
        return;
      }
      // the masculine form is taken from the feminine one: the pool's own swap left determiners
      // such as "him family" (from "her family"), which the feminine form repairs ("her family")
      ConceptPair p{to_feminine(sentence), "", std::nullopt};
      p.negative = to_masculine(p.positive);
      if (p.positive == p.negative) {
        ++out.skipped["no pronoun to swap"];
        return;
      }
      if (!seen.insert(p.positive + '\n' + p.negative).second) {
        ++out.skipped["duplicate sentence"];
        return;
      }
      out.pairs.push_back(std::move(p));
    });
  }
  out.source = "gender_swap " + s.written + " shards " + shard_list;
}

}  // namespace isc::concepts
