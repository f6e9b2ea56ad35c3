// JSONL reading and typed JSON field access for the dataset loaders (see jsonl_reader.h).
// Every failure is one line with the file and line number, because data files are hand-edited.
#include "tasks/jsonl_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "tasks/text_lines.h"

namespace fs = std::filesystem;

namespace isc::tasks {

void BadLines::add(const std::string& message) {
  if (!skip_) throw Error(message);
  messages_.push_back(message);
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void read_jsonl(const std::string& path, BadLines& bad,
                const std::function<void(const nlohmann::json&, int64_t)>& on_record) {
  for_each_line(path, [&](const std::string& line, int64_t number) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      bad.add(fmt::format("{}:{}: expected one JSON object per line (parse error at byte {})", path, number, e.byte));
      return;
    } catch (const nlohmann::json::exception& e) {  // e.g. out_of_range: a number too large for a double
      bad.add(fmt::format("{}:{}: expected one JSON object per line ({})", path, number, e.what()));
      return;
    }
    try {
      if (!j.is_object()) throw Error("expected a JSON object");
      on_record(j, number);
    } catch (const Error& e) {
      bad.add(fmt::format("{}:{}: {}", path, number, e.what()));
    } catch (const nlohmann::json::exception& e) {
      bad.add(fmt::format("{}:{}: unexpected value ({})", path, number, e.what()));
    }
  });
}

std::vector<std::string> dataset_files(const std::string& path, const std::string& extension) {
  if (!fs::is_directory(path)) return {path};
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(path))
    if (e.is_regular_file() && e.path().extension() == extension) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw Error(path + ": folder has no " + extension + " files");
  return files;
}

const nlohmann::json& json_field(const nlohmann::json& j, const std::string& key) {
  auto it = j.find(key);
  if (it == j.end()) throw Error("expected field '" + key + "'");
  return *it;
}

std::string json_string(const nlohmann::json& j, const std::string& key) {
  const auto& v = json_field(j, key);
  if (!v.is_string()) throw Error("expected string field '" + key + "'");
  return v.get<std::string>();
}

int64_t json_int(const nlohmann::json& j, const std::string& key) {
  const auto& v = json_field(j, key);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    try {
      size_t used = 0;
      long long n = std::stoll(s, &used);
      if (used == s.size()) return n;
    } catch (const std::exception&) {
    }
  }
  throw Error("expected integer field '" + key + "'");
}

}  // namespace isc::tasks
