// WikiBio hallucination loader (SelfCheckGPT data via the reference study): is a generated
// sentence supported by its passage? Both "minor" and "major inaccurate" count as inaccurate.
#include <fmt/format.h>

#include "common/error.h"
#include "tasks/jsonl_reader.h"
#include "tasks/loaders.h"

namespace isc::tasks {

namespace {

// 1-based line of a byte offset, for JSON syntax errors.
int64_t line_of(const std::string& text, size_t byte) {
  int64_t line = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

}  // namespace

std::vector<TaskItem> load_wikibio_json(const DatasetSpec&, const DataFiles& files, BadLines& bad) {
  const std::string& path = files.main;
  const std::string text = read_text_file(path);
  nlohmann::json list;
  try {
    list = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(fmt::format("{}:{}: expected a JSON list of {{Context, Sentence, Label}} (parse error at byte {})", path,
                            line_of(text, e.byte), e.byte));
  } catch (const nlohmann::json::exception& e) {  // e.g. out_of_range: a number too large for a double
    throw Error(fmt::format("{}: expected a JSON list of {{Context, Sentence, Label}} ({})", path, e.what()));
  }
  if (!list.is_array()) throw Error(path + ":1: expected a JSON list of {Context, Sentence, Label}");
  std::vector<TaskItem> items;
  for (size_t k = 0; k < list.size(); ++k) {
    try {
      const auto& e = list[k];
      if (!e.is_object()) throw Error("expected an object {Context, Sentence, Label}");
      const std::string label = json_string(e, "Label");
      TaskItem it;
      it.item_id = fmt::format("wikibio-{}", k);
      it.options = {"accurate", "inaccurate"};
      if (label == "accurate") it.gold = 0;
      else if (label == "minor inaccurate" || label == "major inaccurate") it.gold = 1;
      else throw Error("expected Label accurate, minor inaccurate or major inaccurate, found '" + label + "'");
      it.fields = {{"context", json_string(e, "Context")}, {"sentence", json_string(e, "Sentence")}, {"label", label}};
      items.push_back(std::move(it));
    } catch (const Error& err) {
      // a JSON list has no line per entry; the entry's 0-based index locates it
      bad.add(fmt::format("{}: entry {}: {}", path, k, err.what()));
    }
  }
  return items;
}

}  // namespace isc::tasks
