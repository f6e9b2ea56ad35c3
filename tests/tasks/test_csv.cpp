// RFC 4180 CSV parser cases: quoting, doubled quotes, embedded newlines, CRLF, and the errors.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "tasks/csv.h"

namespace isc::tasks {
namespace {

using test::error_of;
using Fields = std::vector<std::string>;

TEST(Csv, PlainAndQuotedFields) {
  const auto rows = parse_csv("a,b,c\n1,\"two, three\",\"say \"\"hi\"\"\"\n", "f.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(rows[1].fields, (Fields{"1", "two, three", "say \"hi\""}));
  EXPECT_EQ(rows[1].line, 2);
}

TEST(Csv, EmbeddedNewlinesAndCrlf) {
  const auto rows = parse_csv("h1,h2\r\n\"line1\r\nline2\nline3\",x\r\nnext,\"\"\r\n", "f.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].fields, (Fields{"line1\r\nline2\nline3", "x"}));
  EXPECT_EQ(rows[2].line, 5);
  EXPECT_EQ(rows[2].fields, (Fields{"next", ""}));
}

TEST(Csv, EmptyFieldsBlankLinesBomAndNoFinalNewline) {
  const auto rows = parse_csv("\xEF\xBB\xBFq,,\n\n,\nlast,row", "f.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields, (Fields{"q", "", ""}));
  EXPECT_EQ(rows[1].fields, (Fields{"", ""}));
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_EQ(rows[2].fields, (Fields{"last", "row"}));
  EXPECT_TRUE(parse_csv("", "f.csv").empty());
}

TEST(Csv, Errors) {
  EXPECT_EQ(error_of([] { parse_csv("a,b\n1,\"open\nstill open", "f.csv"); }), "f.csv:2: unterminated quoted field");
  EXPECT_EQ(error_of([] { parse_csv("a,b\n\"x\"y,z\n", "f.csv"); }),
            "f.csv:2: expected ',' or end of line after a closing quote");
  EXPECT_EQ(error_of([] { parse_csv("a,b\nx\"y,z\n", "f.csv"); }), "f.csv:2: unexpected '\"' inside an unquoted field");
}

TEST(Csv, OtherSeparator) {
  const auto rows = parse_csv("a;\"b;c\"\n", "f.csv", ';');
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "b;c"}));
}

}  // namespace
}  // namespace isc::tasks
