// An RFC 4180 CSV parser: quoted fields, doubled quotes, embedded newlines, CRLF or LF rows.
// Data sets such as the jailbreak judging set have model outputs with newlines inside fields.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace isc::tasks {

struct CsvRow {
  std::vector<std::string> fields;
  int64_t line = 0;  // 1-based line where the row starts
};

// Parses the whole text; `file` only names the source in errors. Throws isc::Error
// "file:line: unterminated quoted field" (line of the opening quote), "file:line: expected ','
// or end of line after a closing quote", "file:line: unexpected '\"' inside an unquoted field".
// Blank lines are skipped; a UTF-8 byte-order mark at the start is ignored.
std::vector<CsvRow> parse_csv(std::string_view text, const std::string& file, char separator = ',');

}  // namespace isc::tasks
