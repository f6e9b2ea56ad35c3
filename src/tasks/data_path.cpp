// Resolution of relative data/model/task paths against the referring file's folder and its
// ancestors (see data_path.h), so the same file works from any working directory.
#include "tasks/data_path.h"

#include <algorithm>
#include <filesystem>
#include <vector>

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

namespace {

// Folders that may hold the shipped task files: tasks/ under the working directory and its
// parents, then next to the isc binary (a build folder of the project, or an installed share/isc).
std::vector<fs::path> task_folders() {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::path dir = fs::current_path(ec); !ec && !dir.empty(); dir = dir.parent_path()) {
    out.push_back(dir / "tasks");
    if (dir == dir.root_path()) break;
  }
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path bin = exe.parent_path();
    for (const fs::path& d : {bin / "tasks", bin.parent_path() / "tasks", bin.parent_path() / "share" / "isc" / "tasks"})
      out.push_back(d);
  }
  return out;
}

}  // namespace

std::string resolve_task_file(const std::string& task) {
  std::error_code ec;
  if (fs::exists(task, ec)) return task;
  const fs::path p(task);
  const bool bare = !task.empty() && !p.has_parent_path() && !p.has_extension() && task != "." && task != "..";
  if (!bare) throw Error("task file '" + task + "' not found");
  std::vector<std::string> names;
  for (const fs::path& dir : task_folders()) {
    for (const char* ext : {".yaml", ".yml", ".json"}) {
      const fs::path candidate = dir / (task + ext);
      if (fs::is_regular_file(candidate, ec)) return candidate.lexically_normal().string();
    }
    if (names.empty() && fs::is_directory(dir, ec))
      for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  std::string known;
  for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
  throw Error("task '" + task + "' not found: no such file, and no tasks/" + task +
              ".yaml in the working directory, its parents or next to isc" +
              (known.empty() ? std::string() : " (shipped tasks: " + known + ")"));
}

}  // namespace isc::tasks
