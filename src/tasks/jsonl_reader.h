// Line-by-line JSONL reading with "file:line:" errors and optional skipping of bad lines,
// plus typed field getters whose messages say which field and type was expected.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/item_loader.h"

namespace isc::tasks {

// Calls on_record(json, line_number) for each non-blank line. A line that is not JSON, or for
// which on_record throws isc::Error (message without position), is reported to `bad` as
// "file:line: message".
void read_jsonl(const std::string& path, BadLines& bad,
                const std::function<void(const nlohmann::json&, int64_t)>& on_record);

// The *.jsonl files of a folder in name order, or the path itself when it is a file.
std::vector<std::string> dataset_files(const std::string& path, const std::string& extension);

// Field getters for one record; they throw isc::Error "expected <type> field '<key>'".
const nlohmann::json& json_field(const nlohmann::json& j, const std::string& key);
std::string json_string(const nlohmann::json& j, const std::string& key);
int64_t json_int(const nlohmann::json& j, const std::string& key);  // accepts "12" too (BBQ's question_index)

// Whole file contents; throws isc::Error "<path>: cannot read" when unreadable.
std::string read_text_file(const std::string& path);

}  // namespace isc::tasks
