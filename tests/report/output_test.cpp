// Tests of the report outputs on the synthetic store: the text table, JSON and CSV carry the same
// numbers as the summary; the HTML page is well formed, escapes store text and embeds data that
// decodes back to the store's rows; the encoders round-trip.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "common/error.h"
#include "report/encode.h"
#include "report/report_command.h"
#include "report_test_util.h"
#include "synthetic_store.h"

namespace isc::report {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

class OutputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    test::write_synthetic_store(dir_->file("s.sqlite"), {});
  }
  static void TearDownTestSuite() { delete dir_; }
  std::string report(TableFormat format, std::optional<std::string> html = std::nullopt) {
    ReportRequest r;
    r.stores = {dir_->file("s.sqlite")};
    r.format = format;
    r.html_path = html;
    r.generated_at = "2026-01-03 00:00 UTC";
    r.chunk_items = 8;
    std::ostringstream out;
    run_report(r, out);
    return out.str();
  }
  static test::TempDir* dir_;
};
test::TempDir* OutputTest::dir_ = nullptr;

TEST_F(OutputTest, TextTable) {
  const std::string text = report(TableFormat::Text);
  std::cout << text;
  EXPECT_NE(text.find("condition baseline: 30 conversations"), std::string::npos);
  EXPECT_NE(text.find("condition self-correct: 30 conversations, 18 rounds carried forward after early stop"),
            std::string::npos);
  EXPECT_NE(text.find("0.600 ["), std::string::npos);  // baseline round 1 accuracy with its CI
  EXPECT_NE(text.find("0.967"), std::string::npos);    // parse rate 29/30
  EXPECT_NE(text.find("converged (ε = 0.01): accuracy r2"), std::string::npos);
  EXPECT_NE(text.find("bias amb"), std::string::npos);
}

TEST_F(OutputTest, JsonCarriesTheSummaryNumbers) {
  const nlohmann::json j = nlohmann::json::parse(report(TableFormat::Json));
  ASSERT_EQ(j["runs"].size(), 1u);
  const auto& conditions = j["runs"][0]["conditions"];
  ASSERT_EQ(conditions.size(), 2u);
  EXPECT_EQ(conditions[0]["condition"], "baseline");
  EXPECT_DOUBLE_EQ(conditions[0]["rounds"][0]["values"]["accuracy"].get<double>(), 18.0 / 30);
  EXPECT_DOUBLE_EQ(conditions[0]["rounds"][0]["accuracy"]["accuracy"].get<double>(), 18.0 / 30);
  EXPECT_EQ(conditions[0]["rounds"][1]["values"]["right_to_wrong"].get<double>(), 2.0);
  EXPECT_TRUE(conditions[0]["rounds"][0]["values"]["right_to_wrong"].is_null());
  EXPECT_EQ(conditions[1]["rows"]["carried_forward"], 18);
  EXPECT_EQ(conditions[0]["convergence"]["accuracy"]["round"], 2);
  EXPECT_EQ(conditions[0]["categories"].size(), 3u);
  EXPECT_DOUBLE_EQ(j["runs"][0]["run"]["tokens_per_second"].get<double>(), 200.0);
}

TEST_F(OutputTest, CsvHasOneRowPerConditionAndRound) {
  const std::string csv = report(TableFormat::Csv);
  std::vector<std::string> lines;
  std::istringstream in(csv);
  for (std::string line; std::getline(in, line);) lines.push_back(line.substr(0, line.find('\r')));
  ASSERT_EQ(lines.size(), 1u + 2 * 3);
  std::vector<std::string> header;
  std::istringstream h(lines[0]);
  for (std::string f; std::getline(h, f, ',');) header.push_back(f);
  const auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  ASSERT_LT(column("accuracy"), header.size());
  ASSERT_LT(column("converged_round_accuracy"), header.size());
  std::vector<std::string> row;
  std::istringstream r(lines[1]);
  for (std::string f; std::getline(r, f, ',');) row.push_back(f);
  EXPECT_EQ(row[column("condition")], "baseline");
  EXPECT_EQ(row[column("round")], "1");
  EXPECT_DOUBLE_EQ(std::stod(row[column("accuracy")]), 18.0 / 30);
  EXPECT_DOUBLE_EQ(std::stod(row[column("parse_rate")]), 29.0 / 30);
  EXPECT_EQ(row[column("right_to_wrong")], "");
  EXPECT_EQ(row[column("converged_round_accuracy")], "2");
}

TEST_F(OutputTest, HtmlIsWellFormedAndEscapesStoreText) {
  const std::string path = dir_->file("r.html");
  report(TableFormat::Text, path);
  const std::string html = read_file(path);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* tag : {"svg", "section", "table", "figure", "script", "dl"})
    EXPECT_EQ(count(html, fmt::format("<{}", tag)), count(html, fmt::format("</{}>", tag))) << tag;
  // the injected markup of item 7 never appears as markup; the page loads nothing from outside
  EXPECT_EQ(html.find("window.__pwned"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  // plots: accuracy by both rules, parse rate, two bias charts, entropy and ECE, 3 points per
  // condition each
  for (const char* chart : {"chart-accuracy", "chart-accuracy_argmax", "chart-parse_rate", "chart-bias_ambiguous",
                            "chart-bias_disambiguated", "chart-mean_entropy", "chart-ece"})
    EXPECT_NE(html.find(fmt::format("id=\"{}\"", chart)), std::string::npos) << chart;
  EXPECT_EQ(count(html, "class=\"pt\""), 7u * 2 * 3);
  // data blocks: index, 4 item chunks of 8 items, 2 conditions × 4 chunks
  EXPECT_EQ(count(html, "type=\"application/octet-stream\""), 1u + 4 + 8);
  const std::regex index_re("id=\"isc-index-0\">([^<]*)<");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, index_re));
  const nlohmann::json index = nlohmann::json::parse(zlib_decompress(base64_decode(m[1].str())));
  EXPECT_EQ(index["items"].size(), 30u);
  EXPECT_EQ(index["items"][7][0], "q\"'<i>&7");
  EXPECT_EQ(index["answers"][0][29][0], -1);
  EXPECT_EQ(index["stopped"][1][0], 2);
  EXPECT_EQ(index["conditions"][1], "self-correct");
}

TEST(Encode, HtmlEscape) {
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("ok \xE2\x80"), "ok \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(html_escape("Zürich ✓"), "Zürich ✓");
}

TEST(Encode, ScriptJsonCannotCloseItsElement) {
  const std::string s = script_json({{"t", "</script><!-- \xE2\x80\xA8 &"}});
  EXPECT_EQ(s.find('<'), std::string::npos);
  EXPECT_EQ(s.find('>'), std::string::npos);
  EXPECT_EQ(s.find('&'), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(s)["t"], "</script><!-- \xE2\x80\xA8 &");
}

TEST(Encode, Base64AndZlibRoundTrip) {
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  std::string bytes;
  for (int i = 0; i < 5000; ++i) bytes += static_cast<char>(i * 7 % 256);
  EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
  EXPECT_EQ(zlib_decompress(zlib_compress(bytes)), bytes);
  EXPECT_THROW(zlib_decompress("not zlib"), Error);
}

TEST(ReportErrors, MissingStoreAndBadOptions) {
  ReportRequest r;
  std::ostringstream out;
  EXPECT_THROW(run_report(r, out), Error);
  r.stores = {"/nonexistent/dir/store.sqlite"};
  EXPECT_THROW(run_report(r, out), Error);
  EXPECT_THROW(parse_confidence("median"), Error);
  EXPECT_EQ(parse_confidence("parsed"), metrics::ConfidenceSource::ParsedAnswer);
}

}  // namespace
}  // namespace isc::report
