// libFuzzer target: arbitrary text as a concept file, read both as a user JSONL (concept.jsonl) and
// as a YAML spec (concept.yaml) by load_concept_file; the scratch folder also holds a tiny dataset
// for every builder (data.jsonl, bbq.jsonl, rtp.jsonl, jb.csv, debiasing/0.txt) so that specs can
// name them. The text also goes through the pronoun swaps and the BBQ statement builder, whose
// invariants are checked. Crashes, hangs, broken invariants and non-isc::Error are bugs.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "common/error.h"
#include "concepts/concept_data.h"
#include "scratch_folder.h"

namespace fuzz_concept_file {

// The tiny dataset of every builder, so that specs can name them.
const std::vector<std::pair<std::string, std::string>> kSeeds = {
    {"data.jsonl", "{\"text\": \"kind words\", \"label\": 1}\n{\"text\": \"cruel words\", \"label\": 0}\n"},
    {"bbq.jsonl",
     "{\"example_id\": 0, \"question_index\": \"1\", \"question_polarity\": \"neg\", \"context_condition\": "
     "\"ambig\", \"category\": \"Age\", \"answer_info\": {\"ans0\": [\"grandfather\", \"old\"], \"ans1\": "
     "[\"grandson\", \"nonOld\"], \"ans2\": [\"Can't be determined\", \"unknown\"]}, \"additional_metadata\": "
     "{\"stereotyped_groups\": [\"old\"]}, \"context\": \"c\", \"question\": \"Who was forgetful?\", \"ans0\": "
     "\"The grandfather\", \"ans1\": \"The grandson\", \"ans2\": \"Can't be determined\", \"label\": 2}\n"},
    {"rtp.jsonl", "{\"prompt\": {\"text\": \"a\", \"toxicity\": 0.9}, \"continuation\": "
                  "{\"text\": \"b\", \"toxicity\": 0.1}}\n{\"prompt\": {\"text\": \"c\"}}\n"},
    {"jb.csv", "prompt,response,is harmful?\np,\"r\nr\",Yes\nq,s,No\n"},
    {"debiasing/0.txt", "he said his piece.\nshe told her friend.\nno pronoun\n"},
};

bool has_word(const std::string& s, const std::regex& words) { return std::regex_search(s, words); }

void check(const isc::concepts::ConceptData& d, int64_t limit) {
  if (d.size() == 0 || d.name.empty() || d.data_sha256.size() != 64) std::abort();
  if (d.paired() != d.texts.empty() || d.labels.size() != d.texts.size()) std::abort();
  if (limit > 0 && d.size() > static_cast<size_t>(limit)) std::abort();
  if (d.available < static_cast<int64_t>(d.size())) std::abort();
  bool has0 = false, has1 = false;
  for (int l : d.labels) {
    if (l != 0 && l != 1) std::abort();
    (l ? has1 : has0) = true;
  }
  if (!d.paired() && !(has0 && has1)) std::abort();
  for (const auto& p : d.pairs)
    if (p.label && *p.label != 0 && *p.label != 1) std::abort();
}

}  // namespace fuzz_concept_file

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace isc::concepts;
  static const isc::fuzz::ScratchFolder scratch("concept_file", fuzz_concept_file::kSeeds);
  const int64_t limit = static_cast<int64_t>(size % 4);
  for (const char* name : {"concept.jsonl", "concept.yaml"}) {
    const std::string path = scratch.write(name, data, size);
    try {
      fuzz_concept_file::check(load_concept_file(path, limit, size), limit);
    } catch (const isc::Error&) {
      // rejected input
    }
  }
  // the swaps leave no pronoun of the other gender, and never touch a sentence without pronouns
  static const std::regex masculine("(^|[^A-Za-z0-9_])(he|him|his|himself)($|[^A-Za-z0-9_])", std::regex::icase);
  static const std::regex feminine("(^|[^A-Za-z0-9_])(she|her|hers|herself)($|[^A-Za-z0-9_])", std::regex::icase);
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (size < 512) {  // std::regex recurses per character
    const std::string f = to_feminine(text), m = to_masculine(text);
    if (fuzz_concept_file::has_word(f, masculine) || fuzz_concept_file::has_word(m, feminine)) std::abort();
    if (!has_gendered_pronoun(text) && (f != text || m != text)) std::abort();
  }
  if (auto s = bbq_statement(text, "The one")) {
    if (s->empty() || s->back() != '.') std::abort();
  }
  return 0;
}
