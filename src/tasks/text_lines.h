// The non-blank lines of a line-oriented data file (JSONL, TSV) with their 1-based numbers: the one
// place for the blank-line and CRLF rules that the line readers share.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace isc::tasks {

// Calls on_line(line, number) for each line of `path` that is not blank (only spaces and tabs),
// with the CR of a CRLF ending dropped; `number` counts every line from 1. Throws isc::Error
// "<path>: cannot read file" when unreadable.
void for_each_line(const std::string& path, const std::function<void(const std::string&, int64_t)>& on_line);

}  // namespace isc::tasks
