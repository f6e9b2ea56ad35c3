// RFC 4180 CSV parsing (see csv.h): a small state machine over the bytes, tracking lines so
// errors point at the row in an editor.
#include "tasks/csv.h"

#include <fmt/format.h>

#include "common/error.h"

namespace isc::tasks {

std::vector<CsvRow> parse_csv(std::string_view text, const std::string& file, char sep) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  int64_t line = 1;
  row.line = 1;
  bool row_has_content = false;  // distinguishes a blank line from a row with one empty field
  size_t i = 0;
  const size_t n = text.size();

  auto end_field = [&] {
    row.fields.push_back(std::move(field));
    field.clear();
  };
  auto end_row = [&] {
    end_field();
    if (row_has_content || row.fields.size() > 1) rows.push_back(std::move(row));
    row = CsvRow{};
    row_has_content = false;
  };

  while (i < n) {
    const char c = text[i];
    if (c == '"' && field.empty()) {
      // quoted field
      const int64_t open_line = line;
      ++i;
      bool closed = false;
      while (i < n) {
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        field += text[i++];
      }
      if (!closed) throw Error(fmt::format("{}:{}: unterminated quoted field", file, open_line));
      row_has_content = true;
      if (i < n && text[i] != sep && text[i] != '\n' && !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') &&
          text[i] != '\r')
        throw Error(fmt::format("{}:{}: expected ',' or end of line after a closing quote", file, line));
      continue;
    }
    if (c == sep) {
      row_has_content = true;
      end_field();
      ++i;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
      ++i;
      end_row();
      ++line;
      row.line = line;
    } else if (c == '"') {
      throw Error(fmt::format("{}:{}: unexpected '\"' inside an unquoted field", file, line));
    } else {
      field += c;
      row_has_content = true;
      ++i;
    }
  }
  if (!field.empty() || row_has_content || !row.fields.empty()) end_row();
  return rows;
}

}  // namespace isc::tasks
