// Tests of the report's Concepts section and concept blocks of `isc report`: present only for runs
// with item probes, and every plotted or tabled number equal to one the test computes from the probes.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "metrics/entropy.h"
#include "report/report_command.h"
#include "report_test_util.h"
#include "store/store.h"
#include "synthetic_store.h"

namespace isc::report {
namespace {

struct Page {
  std::string html, text;
  nlohmann::json json;
};

Page render(const std::string& store, const std::string& dir) {
  ReportRequest r;
  r.stores = {store};
  r.html_path = dir + "/page.html";
  r.generated_at = "2026-01-03 00:00 UTC";
  std::ostringstream text;
  run_report(r, text);
  r.format = TableFormat::Json;
  r.html_path.reset();
  std::ostringstream json;
  run_report(r, json);
  std::ifstream in(dir + "/page.html", std::ios::binary);
  std::stringstream html;
  html << in.rdbuf();
  return {html.str(), text.str(), nlohmann::json::parse(json.str())};
}

// The markup of the element that starts at the first occurrence of `start` and ends at `end`.
std::string element(const std::string& html, const std::string& start, const std::string& end) {
  const auto a = html.find(start);
  if (a == std::string::npos) return "";
  const auto b = html.find(end, a);
  return html.substr(a, b == std::string::npos ? std::string::npos : b + end.size() - a);
}

// All values of attribute `attr` on elements matching `tag_prefix` (e.g. "<circle class=\"pt\"").
std::vector<std::string> attributes(const std::string& html, const std::string& tag_prefix, const std::string& attr) {
  std::vector<std::string> out;
  const std::regex re(attr + "=\"([^\"]*)\"");
  for (auto at = html.find(tag_prefix); at != std::string::npos; at = html.find(tag_prefix, at + 1)) {
    const std::string tag = html.substr(at, html.find('>', at) - at);
    std::smatch m;
    if (std::regex_search(tag, m, re)) out.push_back(m[1]);
  }
  return out;
}

// Mean cosine per (condition, round) of the stored probes at (position, layer), from the store.
std::map<std::pair<std::string, int>, double> probe_means(const std::string& path, const std::string& position, int layer) {
  const Store store = Store::open(path, OpenMode::ReadOnly);
  std::map<std::pair<std::string, int>, std::pair<double, int>> sums;
  for (const ItemProbeRecord& p : store.item_probes("synthetic-run", "bias/mean_diff"))
    if (p.position == position && p.layer == layer) {
      auto& s = sums[{p.condition, p.round}];
      s.first += p.cosine;
      ++s.second;
    }
  std::map<std::pair<std::string, int>, double> out;
  for (const auto& [key, s] : sums) out[key] = s.first / s.second;
  return out;
}

class ConceptsSection : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    test::SyntheticSpec spec;
    spec.concepts = true;
    test::write_synthetic_store(dir_->file("c.sqlite"), spec);
    page_ = new Page(render(dir_->file("c.sqlite"), dir_->file("")));
  }
  static void TearDownTestSuite() {
    delete page_;
    delete dir_;
  }
  static test::TempDir* dir_;
  static Page* page_;
};
test::TempDir* ConceptsSection::dir_ = nullptr;
Page* ConceptsSection::page_ = nullptr;

TEST(ConceptsSectionAbsent, NoItemProbesNoSection) {
  test::TempDir dir;
  test::write_synthetic_store(dir.file("s.sqlite"), {});
  const Page page = render(dir.file("s.sqlite"), dir.file(""));
  EXPECT_EQ(page.html.find("id=\"concepts\""), std::string::npos);
  EXPECT_EQ(page.html.find("href=\"#concepts\""), std::string::npos);
  EXPECT_EQ(page.text.find("concept "), std::string::npos);
  EXPECT_FALSE(page.json["runs"][0].contains("concepts"));
}

TEST(ConceptsSectionDegenerate, OneRoundSaysWhatIsUnavailable) {
  test::TempDir dir;
  test::SyntheticSpec spec;
  spec.concepts = true;
  spec.rounds = 1;
  test::write_synthetic_store(dir.file("one.sqlite"), spec);
  const Page page = render(dir.file("one.sqlite"), dir.file(""));
  const std::string section = element(page.html, "<section id=\"concepts\">", "</section>");
  ASSERT_FALSE(section.empty());
  EXPECT_NE(section.find("unavailable: only round 1 is probed"), std::string::npos);
  EXPECT_NE(section.find("unavailable: needs at least 3 rounds with option probabilities, has 1"), std::string::npos);
  EXPECT_EQ(section.find("id=\"concept-0-0-layers\""), std::string::npos);  // no empty chart
  EXPECT_FALSE(std::regex_search(section, std::regex("[^a-z](nan|inf)[^a-z]", std::regex::icase)));
  EXPECT_NE(page.text.find("unavailable: needs at least 3 rounds"), std::string::npos);
}

TEST_F(ConceptsSection, OneBlockPerPositionAtTheDeepestLayer) {
  const std::string& html = page_->html;
  EXPECT_NE(html.find("<a href=\"#concepts\">concepts</a>"), std::string::npos);
  ASSERT_NE(html.find("<section id=\"concepts\">"), std::string::npos);
  EXPECT_EQ(attributes(html, "<div class=\"concept\"", "data-position"), (std::vector<std::string>{"answer", "user_end"}));
  EXPECT_EQ(attributes(html, "<div class=\"concept\"", "data-layer"), (std::vector<std::string>{"4", "4"}));
  EXPECT_EQ(attributes(html, "<div class=\"concept\"", "data-concept")[0], "bias/mean_diff");
  // never a NaN or an infinity in the section
  const std::string section = element(html, "<section id=\"concepts\">", "</section>");
  EXPECT_FALSE(std::regex_search(section, std::regex("[^a-z](nan|inf)[^a-z]", std::regex::icase)));
}

TEST_F(ConceptsSection, CurvesShowTheStoredMeansPerRound) {
  for (const auto& [index, position] : {std::pair{0, "answer"}, std::pair{1, "user_end"}}) {
    const auto means = probe_means(dir_->file("c.sqlite"), position, 4);
    const std::string chart = element(page_->html, fmt::format("<svg class=\"chart\" id=\"concept-0-{}-curve\"", index), "</svg>");
    ASSERT_FALSE(chart.empty());
    const std::vector<std::string> labels = attributes(chart, "<g class=\"series\"", "data-label");
    ASSERT_EQ(labels, (std::vector<std::string>{"baseline", "self-correct", "self-correct+steer"}));
    for (std::size_t k = 0; k < labels.size(); ++k) {
      const std::string series = element(chart, fmt::format("<g class=\"series\" data-series=\"{}\"", k), "</g>");
      const std::vector<std::string> rounds = attributes(series, "<circle class=\"pt\"", "data-round");
      const std::vector<std::string> values = attributes(series, "<circle class=\"pt\"", "data-value");
      ASSERT_EQ(rounds.size(), 3u) << labels[k];
      for (std::size_t i = 0; i < rounds.size(); ++i)
        EXPECT_NEAR(std::stod(values[i]), means.at({labels[k], std::stoi(rounds[i])}), 1e-12) << labels[k];
      EXPECT_NE(series.find("<polygon class=\"band\""), std::string::npos);  // the bootstrap band
    }
  }
}

TEST_F(ConceptsSection, ScatterPairsConceptWithUncertaintyPerRound) {
  const std::string path = dir_->file("c.sqlite");
  const Store store = Store::open(path, OpenMode::ReadOnly);
  std::map<std::pair<std::string, int>, std::pair<double, int>> entropy;
  for (const RoundRecord& r : store.rounds("synthetic-run")) {
    auto& e = entropy[{r.condition, r.round}];
    e.first += metrics::normalized_entropy(r.option_probs);
    ++e.second;
  }
  const auto means = probe_means(path, "answer", 4);
  const std::string chart = element(page_->html, "<svg class=\"chart\" id=\"concept-0-0-scatter\"", "</svg>");
  ASSERT_FALSE(chart.empty());
  for (const std::string condition : {"baseline", "self-correct", "self-correct+steer"}) {
    const std::string series = element(chart, fmt::format("<g class=\"series\" data-condition=\"{}\"", condition), "</g>");
    const auto rounds = attributes(series, "<circle class=\"pt\"", "data-round");
    const auto xs = attributes(series, "<circle class=\"pt\"", "data-x");
    const auto ys = attributes(series, "<circle class=\"pt\"", "data-y");
    ASSERT_EQ(rounds.size(), 3u) << condition;
    for (std::size_t i = 0; i < rounds.size(); ++i) {
      const int round = std::stoi(rounds[i]);
      EXPECT_NEAR(std::stod(xs[i]), means.at({condition, round}), 1e-12);
      const auto& e = entropy.at({condition, round});
      EXPECT_NEAR(std::stod(ys[i]), e.first / e.second, 1e-12);
    }
  }
  // r is shown per condition (3 rounds each: defined unless a series is constant)
  const std::string block = element(page_->html, "<div class=\"concept\" id=\"concept-0-0\"", "data-part=\"layers\"");
  EXPECT_EQ(attributes(block, "<li class=\"corr\"", "data-condition").size(), 3u);
  EXPECT_NE(block.find("Pearson r = "), std::string::npos);
}

TEST_F(ConceptsSection, SteeringTableIsSteeredMinusBase) {
  const Store store = Store::open(dir_->file("c.sqlite"), OpenMode::ReadOnly);
  std::map<int, int> both;  // items stored in both conditions per round
  std::map<std::pair<std::string, int>, int> stored;
  for (const RoundRecord& r : store.rounds("synthetic-run")) ++stored[{r.condition, r.round}];
  for (int round = 1; round <= 3; ++round)
    both[round] = std::min(stored[{"self-correct", round}], stored[{"self-correct+steer", round}]);
  const std::string table = element(page_->html, "<div class=\"card steering\"", "</table>");
  ASSERT_FALSE(table.empty());
  EXPECT_NE(table.find("data-steered=\"self-correct+steer\" data-base=\"self-correct\""), std::string::npos);
  for (int round = 1; round <= 3; ++round) {
    const std::string row = element(table, fmt::format("<tr data-round=\"{}\">", round), "</tr>");
    EXPECT_NE(row.find(fmt::format("data-key=\"n\">{}<", both[round])), std::string::npos) << row;
    // the steered offset at layer 4: 0.25 − 0.05
    const auto diff = attributes(row, "<td class=\"num\" data-key=\"concept_diff\"", "data-value");
    ASSERT_EQ(diff.size(), 1u);
    EXPECT_NEAR(std::stod(diff[0]), 0.2, 1e-12);
  }
  EXPECT_NE(page_->html.find("id=\"concept-0-0-steer-0\""), std::string::npos);  // its curves
}

TEST_F(ConceptsSection, LayerProfileWithHeldOutAccuracy) {
  const auto m2 = probe_means(dir_->file("c.sqlite"), "answer", 2), m4 = probe_means(dir_->file("c.sqlite"), "answer", 4);
  const std::string table = element(page_->html, "<table class=\"layer-table\">", "</table>");
  for (const auto& [layer, means, heldout] : {std::tuple{2, &m2, 0.75}, std::tuple{4, &m4, 0.9}}) {
    const std::string row = element(table, fmt::format("<tr data-layer=\"{}\">", layer), "</tr>");
    const auto shift = attributes(row, "<td class=\"num\" data-key=\"shift\"", "data-value");
    ASSERT_EQ(shift.size(), 3u);
    EXPECT_NEAR(std::stod(shift[0]), means->at({"baseline", 3}) - means->at({"baseline", 1}), 1e-12);
    const auto acc = attributes(row, "<td class=\"num\" data-key=\"heldout_accuracy\"", "data-value");
    ASSERT_EQ(acc.size(), 1u);
    EXPECT_DOUBLE_EQ(std::stod(acc[0]), heldout);
  }
  const std::string chart = element(page_->html, "<svg class=\"chart\" id=\"concept-0-0-layers\"", "</svg>");
  EXPECT_EQ(attributes(chart, "<circle class=\"pt\"", "data-layer").size(), 6u);  // 3 conditions × 2 layers
  EXPECT_NE(page_->html.find("id=\"concept-0-0-heldout\""), std::string::npos);
}

TEST_F(ConceptsSection, TextAndJsonCarryTheSameNumbers) {
  EXPECT_NE(page_->text.find("run synthetic-run: concept bias/mean_diff at answer, layer 4"), std::string::npos);
  EXPECT_NE(page_->text.find("steering self-correct+steer vs self-correct"), std::string::npos);
  const nlohmann::json& concepts = page_->json["runs"][0]["concepts"];
  ASSERT_EQ(concepts.size(), 2u);
  EXPECT_EQ(concepts[0]["position"], "answer");
  const auto means = probe_means(dir_->file("c.sqlite"), "answer", 4);
  EXPECT_NEAR(concepts[0]["conditions"][1]["rounds"][0]["mean"].get<double>(), means.at({"self-correct", 1}), 1e-12);
  EXPECT_NEAR(concepts[0]["steering"][0]["rounds"][0]["concept_diff"].get<double>(), 0.2, 1e-12);
  // the page shows the same interval as the JSON
  const double lower = concepts[0]["conditions"][0]["rounds"][0]["lower"].get<double>();
  EXPECT_NE(page_->html.find(fmt::format("95% CI {:.3f}", lower)), std::string::npos);
}

}  // namespace
}  // namespace isc::report
