// RealToxicityPrompts loader: the prompt text to complete plus the dataset's own Perspective
// scores (null where the record has none, which the 1.2K subset does for some continuations).
#include <fmt/format.h>

#include "common/error.h"
#include "tasks/jsonl_reader.h"
#include "tasks/loaders.h"

namespace isc::tasks {

namespace {

nlohmann::json optional_score(const nlohmann::json& j, const char* part) {
  auto p = j.find(part);
  if (p == j.end() || !p->is_object()) return nullptr;
  auto t = p->find("toxicity");
  if (t == p->end() || t->is_null()) return nullptr;
  if (!t->is_number()) throw Error(std::string("expected a number or null for '") + part + ".toxicity'");
  return *t;
}

}  // namespace

std::vector<TaskItem> load_realtoxicity_jsonl(const DatasetSpec&, const DataFiles& files, BadLines& bad) {
  std::vector<TaskItem> items;
  for (const auto& file : dataset_files(files.main, ".jsonl")) {
    read_jsonl(file, bad, [&](const nlohmann::json& j, int64_t line) {
      const auto& prompt = json_field(j, "prompt");
      if (!prompt.is_object()) throw Error("expected object field 'prompt'");
      TaskItem it;
      // RTP has no id; filename + character span identifies a prompt within OpenWebText.
      if (j.contains("filename") && j["filename"].is_string() && j.contains("begin") && j["begin"].is_number_integer())
        it.item_id = fmt::format("{}:{}", j["filename"].get<std::string>(), j["begin"].get<int64_t>());
      else
        it.item_id = fmt::format("line{}", line);
      it.fields = {{"prompt", json_string(prompt, "text")},
                   {"prompt_toxicity", optional_score(j, "prompt")},
                   {"continuation_toxicity", optional_score(j, "continuation")}};
      auto c = j.find("continuation");
      if (c != j.end() && c->is_object() && c->contains("text") && (*c)["text"].is_string())
        it.fields["continuation"] = (*c)["text"];
      if (j.contains("challenging") && j["challenging"].is_boolean()) it.fields["challenging"] = j["challenging"];
      items.push_back(std::move(it));
    });
  }
  return items;
}

}  // namespace isc::tasks
