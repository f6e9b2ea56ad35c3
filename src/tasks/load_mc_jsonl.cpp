// Loader for user-defined multiple-choice JSONL: field names come from the task file so any
// dataset can be used without recompiling; the answer may be an index, a letter or the text.
#include <fmt/format.h>

#include <cctype>

#include "common/error.h"
#include "tasks/jsonl_reader.h"
#include "tasks/loaders.h"

namespace isc::tasks {

namespace {

std::string scalar_text(const nlohmann::json& v, const std::string& key) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  throw Error("expected string or integer field '" + key + "'");
}

int answer_index(const nlohmann::json& a, const std::vector<std::string>& options, const std::string& key) {
  const int n = static_cast<int>(options.size());
  if (a.is_number_integer()) {
    const int64_t i = a.get<int64_t>();
    if (i < 0 || i >= n) throw Error(fmt::format("expected field '{}' in 0..{}", key, n - 1));
    return static_cast<int>(i);
  }
  if (!a.is_string()) throw Error("expected field '" + key + "' as an option index, letter or option text");
  const std::string s = a.get<std::string>();
  for (int i = 0; i < n; ++i)
    if (s == options[i]) return i;
  // a letter, bare or in parentheses: "b", "B", "(b)"
  std::string core;
  for (char c : s)
    if (c != '(' && c != ')' && c != ' ') core += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (core.size() == 1 && core[0] >= 'a' && core[0] < 'a' + n) return core[0] - 'a';
  throw Error(fmt::format("expected field '{}' to be an option index, a letter a..{} or one of the options", key,
                          static_cast<char>('a' + n - 1)));
}

// A new item with the parts both formats share: its id (the id field, or "line<N>" without one)
// and its category when the task names a category field.
TaskItem item_with_id(const DatasetSpec& ds, const nlohmann::json& j, int64_t line) {
  TaskItem it;
  it.item_id = ds.id_field.empty() ? fmt::format("line{}", line) : scalar_text(json_field(j, ds.id_field), ds.id_field);
  if (!ds.category_field.empty()) it.category = json_string(j, ds.category_field);
  return it;
}

}  // namespace

std::vector<TaskItem> load_mc_jsonl(const DatasetSpec& ds, const DataFiles& files, BadLines& bad) {
  std::vector<TaskItem> items;
  for (const auto& file : dataset_files(files.main, ".jsonl")) {
    read_jsonl(file, bad, [&](const nlohmann::json& j, int64_t line) {
      TaskItem it = item_with_id(ds, j, line);
      const auto& opts = json_field(j, ds.options_field);
      if (!opts.is_array() || opts.size() < 2) throw Error("expected field '" + ds.options_field + "' as a list of at least 2 strings");
      for (const auto& o : opts) {
        if (!o.is_string()) throw Error("expected strings in field '" + ds.options_field + "'");
        it.options.push_back(o.get<std::string>());
      }
      it.gold = answer_index(json_field(j, ds.answer_field), it.options, ds.answer_field);
      it.fields = nlohmann::json::object();
      for (const auto& [k, v] : j.items())
        if (k != ds.options_field) it.fields[k] = v;
      it.fields["question"] = json_string(j, ds.question_field);
      items.push_back(std::move(it));
    });
  }
  return items;
}

std::vector<TaskItem> load_open_jsonl(const DatasetSpec& ds, const DataFiles& files, BadLines& bad) {
  std::vector<TaskItem> items;
  for (const auto& file : dataset_files(files.main, ".jsonl")) {
    read_jsonl(file, bad, [&](const nlohmann::json& j, int64_t line) {
      TaskItem it = item_with_id(ds, j, line);
      it.fields = j;
      it.fields["prompt"] = json_string(j, ds.prompt_field);
      items.push_back(std::move(it));
    });
  }
  return items;
}

}  // namespace isc::tasks
