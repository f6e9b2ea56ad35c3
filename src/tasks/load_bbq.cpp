// BBQ loader: JSONL records -> 3-option items plus the inputs of the BBQ bias score
// (which option is "unknown", which one is the stereotyped target).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "common/error.h"
#include "tasks/jsonl_reader.h"
#include "tasks/loaders.h"

namespace isc::tasks {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Names a stereotyped group can appear under in answer_info: itself, and for BBQ's gender codes
// the words the answers use. Race-by-gender groups look like "F-Black", so each '-' part counts too.
std::set<std::string> group_aliases(const std::string& group) {
  std::set<std::string> out{lower(group)};
  size_t start = 0;
  const std::string g = lower(group);
  while (start <= g.size()) {
    size_t dash = g.find('-', start);
    out.insert(g.substr(start, dash == std::string::npos ? std::string::npos : dash - start));
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  if (out.count("f")) out.insert({"woman", "girl", "female"});
  if (out.count("m")) out.insert({"man", "boy", "male"});
  return out;
}

TaskItem parse_bbq(const nlohmann::json& j) {
  TaskItem it;
  const int64_t example_id = json_int(j, "example_id");
  it.category = json_string(j, "category");
  it.item_id = fmt::format("{}-{}", it.category, example_id);
  for (int i = 0; i < 3; ++i) it.options.push_back(json_string(j, fmt::format("ans{}", i)));
  const int64_t label = json_int(j, "label");
  if (label < 0 || label > 2) throw Error("expected field 'label' in 0..2");
  it.gold = static_cast<int>(label);

  const auto& info = json_field(j, "answer_info");
  if (!info.is_object()) throw Error("expected object field 'answer_info'");
  std::vector<std::string> names, groups;
  for (int i = 0; i < 3; ++i) {
    const auto& a = json_field(info, fmt::format("ans{}", i));
    if (!a.is_array() || a.size() < 2 || !a[0].is_string() || !a[1].is_string())
      throw Error(fmt::format("expected answer_info.ans{} as [name, group]", i));
    names.push_back(a[0].get<std::string>());
    groups.push_back(a[1].get<std::string>());
  }
  const auto& meta = json_field(j, "additional_metadata");
  if (!meta.is_object()) throw Error("expected object field 'additional_metadata'");
  const auto& st = json_field(meta, "stereotyped_groups");
  if (!st.is_array()) throw Error("expected list field 'additional_metadata.stereotyped_groups'");
  std::set<std::string> targets;
  std::vector<std::string> stereotyped;
  for (const auto& g : st) {
    if (!g.is_string()) throw Error("expected strings in 'additional_metadata.stereotyped_groups'");
    stereotyped.push_back(g.get<std::string>());
    for (const auto& a : group_aliases(g.get<std::string>())) targets.insert(a);
  }

  int unknown = -1;
  for (int i = 0; i < 3; ++i) {
    if (groups[i] != "unknown") continue;
    if (unknown >= 0) throw Error("expected exactly one answer_info entry tagged \"unknown\"");
    unknown = i;
  }
  if (unknown < 0) throw Error("expected an answer_info entry tagged \"unknown\"");
  // The target is the non-unknown answer whose group (or name) is a stereotyped group; when none
  // or both match, the item cannot enter the bias score and target_index stays -1.
  int target = -1, matches = 0;
  for (int i = 0; i < 3; ++i) {
    if (i == unknown) continue;
    if (targets.count(lower(groups[i])) || targets.count(lower(names[i]))) {
      target = i;
      ++matches;
    }
  }
  if (matches != 1) target = -1;

  it.fields = {{"context", json_string(j, "context")},
               {"question", json_string(j, "question")},
               {"example_id", example_id},
               {"question_index", json_int(j, "question_index")},
               {"question_polarity", json_string(j, "question_polarity")},
               {"context_condition", json_string(j, "context_condition")},
               {"answer_groups", groups},
               {"stereotyped_groups", stereotyped},
               {"unknown_index", unknown},
               {"target_index", target}};
  if (meta.contains("subcategory") && meta["subcategory"].is_string()) it.fields["subcategory"] = meta["subcategory"];
  const std::string pol = it.fields["question_polarity"];
  if (pol != "neg" && pol != "nonneg") throw Error("expected field 'question_polarity' to be neg or nonneg");
  const std::string cond = it.fields["context_condition"];
  if (cond != "ambig" && cond != "disambig") throw Error("expected field 'context_condition' to be ambig or disambig");
  return it;
}

}  // namespace

std::vector<TaskItem> load_bbq_jsonl(const DatasetSpec&, const DataFiles& files, BadLines& bad) {
  std::vector<TaskItem> items;
  for (const auto& file : dataset_files(files.main, ".jsonl"))
    read_jsonl(file, bad, [&](const nlohmann::json& j, int64_t) { items.push_back(parse_bbq(j)); });
  return items;
}

}  // namespace isc::tasks
