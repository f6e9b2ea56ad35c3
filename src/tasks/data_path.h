// Finds the file a task or run file refers to by a relative path. Project files say
// "../shared/data/..." relative to the project root, but are read from tasks/ or runs/.
#pragma once
#include <string>

namespace isc::tasks {

// An absolute path is returned as is. A relative one is tried against the folder of `base_file`,
// then each folder above it, then the working directory; the first that exists wins. Throws
// isc::Error "<position>: <what> '<path>' not found ..." when none exists.
std::string resolve_path(const std::string& base_file, const std::string& path, const std::string& position,
                         const std::string& what);

// Same search, but returns an empty string instead of throwing.
std::string find_path(const std::string& base_file, const std::string& path);

// A task given on the command line: a file path as is, or a bare name ("bbq") for a shipped task
// file, tasks/NAME.yaml (or .yml, .json), looked for under the working directory and its parents,
// then next to the isc binary. Throws isc::Error listing the shipped tasks when none is found.
std::string resolve_task_file(const std::string& task);

}  // namespace isc::tasks
