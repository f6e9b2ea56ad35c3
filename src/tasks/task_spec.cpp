// Small helpers of TaskSpec: condition lookup and names of the enums (for messages and the store).
// Kept apart from the file reader so code that builds specs in memory needs no YAML.
#include "tasks/task_spec.h"

#include "common/error.h"

namespace isc::tasks {

const Condition& TaskSpec::condition(const std::string& wanted) const {
  for (const auto& c : conditions)
    if (c.name == wanted) return c;
  std::string names;
  for (const auto& c : conditions) names += (names.empty() ? "" : ", ") + c.name;
  throw Error(file + ": task '" + name + "' has no condition '" + wanted + "' (it has: " + names + ")");
}

const char* to_string(TaskKind kind) {
  switch (kind) {
    case TaskKind::multiple_choice: return "multiple_choice";
    case TaskKind::open_generation: return "open_generation";
    case TaskKind::classification: return "classification";
  }
  return "?";
}

const char* to_string(ParserKind kind) {
  switch (kind) {
    case ParserKind::option: return "option";
    case ParserKind::pronoun: return "pronoun";
    case ParserKind::completion: return "completion";
  }
  return "?";
}

}  // namespace isc::tasks
