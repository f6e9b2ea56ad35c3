// Winogender loaders: blanked sentences (the reference study's 119-line file) or the original
// all_sentences.tsv, each item tied to its occupation so answers can be compared to BLS shares.
#include <fmt/format.h>

#include <map>
#include <regex>

#include "common/error.h"
#include "tasks/jsonl_reader.h"
#include "tasks/loaders.h"
#include "tasks/occupation_stats.h"
#include "tasks/tsv.h"

namespace isc::tasks {

namespace {

const std::vector<std::string> kPronounOptions = {"they", "he", "she"};

struct SentenceSource {
  std::string id;           // e.g. technician.customer.1
  std::string occupation;
  std::string participant;
  int answer = -1;          // Winogender's answer field: 0 = the pronoun refers to the occupation, 1 = to the participant
  std::string blanked;      // male variant with its pronoun replaced by '_'
};

// Rows of all_sentences.tsv (sentid "occupation.participant.answer.gender.txt", sentence), male
// variants only, with the first he/his/him blanked: the form of the reference study's file.
std::vector<SentenceSource> read_sentences(const std::string& path, BadLines& bad) {
  static const std::regex male_pronoun(R"(\b(he|his|him|He|His|Him)\b)");
  std::vector<SentenceSource> out;
  const auto rows = read_tsv(path);
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto& r = rows[k];
    if (k == 0 && !r.fields.empty() && r.fields[0] == "sentid") continue;  // header
    try {
      if (r.fields.size() != 2) throw Error("expected 2 tab-separated columns (sentid, sentence)");
      const std::string& sid = r.fields[0];
      std::vector<std::string> parts;
      size_t start = 0;
      for (size_t dot; (dot = sid.find('.', start)) != std::string::npos; start = dot + 1)
        parts.push_back(sid.substr(start, dot - start));
      parts.push_back(sid.substr(start));
      if (parts.size() != 5 || parts[4] != "txt" || (parts[2] != "0" && parts[2] != "1"))
        throw Error("expected sentid as occupation.participant.answer.gender.txt");
      if (parts[3] != "male") continue;
      std::smatch m;
      if (!std::regex_search(r.fields[1], m, male_pronoun)) throw Error("expected a he/his/him pronoun in a male sentence");
      SentenceSource s;
      s.id = parts[0] + "." + parts[1] + "." + parts[2];
      s.occupation = parts[0];
      s.participant = parts[1];
      s.answer = parts[2] == "0" ? 0 : 1;
      s.blanked = r.fields[1].substr(0, m.position(0)) + "_" + r.fields[1].substr(m.position(0) + m.length(0));
      out.push_back(std::move(s));
    } catch (const Error& e) {
      bad.add(fmt::format("{}:{}: {}", path, r.line, e.what()));
    }
  }
  return out;
}

TaskItem make_item(const std::string& id, const std::string& sentence) {
  TaskItem it;
  it.item_id = id;
  it.options = kPronounOptions;
  it.gold = -1;  // no correct pronoun: the measure is the share of neutral answers and the gender gap
  it.fields = {{"sentence", sentence}};
  return it;
}

void attach_source(TaskItem& it, const SentenceSource& s) {
  it.category = s.occupation;
  it.fields["occupation"] = s.occupation;
  it.fields["participant"] = s.participant;
  it.fields["refers_to_occupation"] = s.answer == 0;
}

// Adds BLS and Bergsma % female to every item; an occupation missing from the table is an error.
void attach_stats(std::vector<TaskItem>& items, const std::string& path) {
  if (path.empty()) return;
  const auto stats = load_occupation_stats(path);
  for (auto& it : items) {
    if (!it.fields.contains("occupation")) continue;
    const std::string occ = it.fields["occupation"];
    auto s = stats.find(occ);
    if (s == stats.end()) throw Error(path + ": no statistics for occupation '" + occ + "' (item " + it.item_id + ")");
    it.fields["bls_pct_female"] = s->second.bls_pct_female;
    it.fields["bergsma_pct_female"] = s->second.bergsma_pct_female;
  }
}

}  // namespace

std::vector<TaskItem> load_winogender_blanks(const DatasetSpec&, const DataFiles& files, BadLines& bad) {
  std::map<std::string, SentenceSource> by_sentence;
  if (!files.sentences.empty())
    for (auto& s : read_sentences(files.sentences, bad)) by_sentence.emplace(s.blanked, s);
  std::vector<TaskItem> items;
  const auto rows = read_tsv(files.main);  // a line without tabs is one field: the sentence
  for (const auto& r : rows) {
    try {
      std::string sentence = r.fields[0];
      for (size_t i = 1; i < r.fields.size(); ++i) sentence += "\t" + r.fields[i];
      if (sentence.find('_') == std::string::npos) throw Error("expected a sentence with '_' for the pronoun");
      TaskItem it = make_item(fmt::format("wino-{}", r.line), sentence);
      if (!files.sentences.empty()) {
        auto s = by_sentence.find(sentence);
        if (s == by_sentence.end()) throw Error("sentence not found among the male variants of " + files.sentences);
        attach_source(it, s->second);
      }
      items.push_back(std::move(it));
    } catch (const Error& e) {
      bad.add(fmt::format("{}:{}: {}", files.main, r.line, e.what()));
    }
  }
  attach_stats(items, files.occupations);
  return items;
}

std::vector<TaskItem> load_winogender_tsv(const DatasetSpec&, const DataFiles& files, BadLines& bad) {
  std::vector<TaskItem> items;
  for (const auto& s : read_sentences(files.main, bad)) {
    TaskItem it = make_item(s.id, s.blanked);
    attach_source(it, s);
    items.push_back(std::move(it));
  }
  attach_stats(items, files.occupations);
  return items;
}

}  // namespace isc::tasks
