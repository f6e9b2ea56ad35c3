// Resolution of relative data/model/task paths against the referring file's folder and its
// ancestors (see data_path.h), so the same file works from any working directory.
#include "tasks/data_path.h"

#include <filesystem>

#include "common/error.h"

namespace fs = std::filesystem;

namespace isc::tasks {

std::string find_path(const std::string& base_file, const std::string& path) {
  if (path.empty()) return "";
  const fs::path p(path);
  // error_code overloads: a name the OS rejects (e.g. a component over NAME_MAX) is simply not found
  std::error_code ec;
  if (p.is_absolute()) return fs::exists(p, ec) ? path : "";
  fs::path dir = fs::absolute(fs::path(base_file), ec).parent_path();
  while (!dir.empty()) {
    const fs::path candidate = dir / p;
    if (fs::exists(candidate, ec)) return candidate.lexically_normal().string();
    if (dir == dir.root_path()) break;
    dir = dir.parent_path();
  }
  if (fs::exists(p, ec)) return path;
  return "";
}

std::string resolve_path(const std::string& base_file, const std::string& path, const std::string& position,
                         const std::string& what) {
  if (path.empty()) throw Error(position + ": " + what + " path is empty");
  std::string found = find_path(base_file, path);
  if (found.empty())
    throw Error(position + ": " + what + " '" + path +
                "' not found (relative to the referring file, its parent folders, or the working directory)");
  return found;
}

}  // namespace isc::tasks
