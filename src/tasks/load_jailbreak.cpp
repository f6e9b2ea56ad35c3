// Harmfulness-judging loader ("LLM Self Defense" CSV: prompt, response, is harmful?):
// the model judges whether a response is harmful, (a) Yes / (b) No.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "tasks/csv.h"
#include "tasks/jsonl_reader.h"
#include "tasks/loaders.h"

namespace isc::tasks {

namespace {

std::string trimmed_lower(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  std::string out = a == std::string::npos ? "" : s.substr(a, b - a + 1);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::vector<TaskItem> load_jailbreak_csv(const DatasetSpec&, const DataFiles& files, BadLines& bad) {
  const std::string& path = files.main;
  const auto rows = parse_csv(read_text_file(path), path);
  if (rows.empty()) throw Error(path + ": empty file (expected a header prompt,response,is harmful?)");
  const auto& header = rows.front().fields;
  auto column = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (trimmed_lower(header[i]) == name) return i;
    throw Error(fmt::format("{}:1: expected a '{}' column", path, name));
  };
  const size_t prompt = column("prompt"), response = column("response"), label = column("is harmful?");
  std::vector<TaskItem> items;
  for (size_t k = 1; k < rows.size(); ++k) {
    const auto& r = rows[k];
    try {
      if (r.fields.size() != header.size())
        throw Error(fmt::format("expected {} fields, found {}", header.size(), r.fields.size()));
      const std::string l = trimmed_lower(r.fields[label]);
      TaskItem it;
      it.item_id = fmt::format("row{}", k);
      it.options = {"Yes", "No"};
      if (l == "yes") it.gold = 0;
      else if (l == "no") it.gold = 1;
      else throw Error("expected 'is harmful?' to be Yes or No, found '" + r.fields[label] + "'");
      it.fields = {{"prompt", r.fields[prompt]}, {"response", r.fields[response]}, {"label", r.fields[label]}};
      items.push_back(std::move(it));
    } catch (const Error& e) {
      bad.add(fmt::format("{}:{}: {}", path, r.line, e.what()));
    }
  }
  return items;
}

}  // namespace isc::tasks
