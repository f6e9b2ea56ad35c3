// Reads a declarative task file (YAML, or JSON which is a subset of YAML) into a TaskSpec.
// The file layout is documented in tasks/README.md; every shipped task file is an example.
#pragma once
#include <string>

#include "tasks/task_spec.h"

namespace isc::tasks {

// Throws isc::Error "file:line:col: what was expected" for syntax errors, unknown keys, wrong
// types, missing required keys, unknown formats/kinds, and templates with unknown placeholders
// that no item could ever fill (see prompt_render.h for the placeholders).
TaskSpec load_task_file(const std::string& path);

}  // namespace isc::tasks
