// Plain text datasets: one item per non-blank line (e.g. sentences to rewrite), the line exposed
// as {text}; ids "line N" so an item keeps its id when other lines are added after it.
#include <fmt/format.h>

#include "common/error.h"
#include "store/utf8.h"
#include "tasks/loaders.h"
#include "tasks/text_lines.h"

namespace isc::tasks {

std::vector<TaskItem> load_text_lines(const DatasetSpec&, const DataFiles& files, BadLines& bad) {
  std::vector<TaskItem> items;
  for_each_line(files.main, [&](const std::string& line, int64_t number) {
    if (!is_valid_utf8(line)) {
      bad.add(fmt::format("{}:{}: expected UTF-8 text", files.main, number));
      return;
    }
    TaskItem it;
    it.item_id = fmt::format("line {}", number);
    it.fields = {{"text", line}};
    items.push_back(std::move(it));
  });
  return items;
}

}  // namespace isc::tasks
