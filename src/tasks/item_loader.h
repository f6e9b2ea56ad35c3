// Loading a task's items: dispatch on the dataset format, filters, category selection, optional
// seeded sampling, limit; bad data lines either stop the load or are skipped and counted.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tasks/task_spec.h"

namespace isc::tasks {

struct LoadOptions {
  int64_t limit = 0;                       // 0 = all items
  std::vector<std::string> categories;     // empty = all; otherwise keep items of these categories
  bool skip_bad_lines = false;             // false: the first bad line throws "file:line: ..."
  std::optional<uint64_t> shuffle_seed;    // set: items are shuffled with this seed before the limit
  std::string data_root;                   // non-empty: relative dataset paths resolve against it first
};

struct LoadedItems {
  std::vector<TaskItem> items;             // index = position in this list
  int64_t skipped_lines = 0;               // bad lines skipped (only with skip_bad_lines)
  std::vector<std::string> skipped;        // their one-line errors, in file order
};

// Throws isc::Error for a missing file, bad lines (unless skipped), an empty dataset, a filter
// or category that matches nothing, duplicate item ids, and prompts that cannot be rendered.
LoadedItems load_items(const TaskSpec& spec, const LoadOptions& options = {});

// Collects bad-line errors: rethrows unless skipping, then records them.
class BadLines {
 public:
  explicit BadLines(bool skip) : skip_(skip) {}
  void add(const std::string& message);  // "file:line: what was expected"
  int64_t count() const { return static_cast<int64_t>(messages_.size()); }
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  bool skip_;
  std::vector<std::string> messages_;
};

}  // namespace isc::tasks
