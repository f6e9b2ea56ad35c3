// Tests of the pronoun measures in the report: a small Winogender-like store with known answers over
// 2 rounds, checked against neutral shares, gaps and correlations worked out by hand below.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "report/report_command.h"
#include "report/run_summary.h"
#include "report/winogender_section.h"
#include "report_test_util.h"
#include "store/store.h"
#include "synthetic_store.h"

namespace isc::report {
namespace {

// Occupations and their BLS % female: nurse 90, carpenter 10, teacher 70, plumber 20; two items each
// ("nurse-1", "nurse-2", ...), plus item "cook-1" whose occupation has no BLS share (left out).
const std::vector<std::pair<std::string, double>> kOccupations = {
    {"nurse", 90.0}, {"carpenter", 10.0}, {"teacher", 70.0}, {"plumber", 20.0}};

// Answers per condition, item and round ("" = no stored row). "x" marks an early stop after that round.
//   baseline      round 1: nurse she she, carpenter he he, teacher she he, plumber they ?, cook she
//                 round 2: nurse she they, carpenter he they, teacher they they, plumber they they, cook she
//   self-<b>fix   round 1: nurse-1 she (stops), all others they except carpenter-1 he; round 2: all they
// ("?" = unparseable). The second condition's name carries markup to check the HTML escapes it.
const std::map<std::string, std::map<std::string, std::vector<std::string>>> kAnswers = {
    {"baseline",
     {{"nurse-1", {"female", "female"}},
      {"nurse-2", {"female", "neutral"}},
      {"carpenter-1", {"male", "male"}},
      {"carpenter-2", {"male", "neutral"}},
      {"teacher-1", {"female", "neutral"}},
      {"teacher-2", {"male", "neutral"}},
      {"plumber-1", {"neutral", "neutral"}},
      {"plumber-2", {"unparseable", "neutral"}},
      {"cook-1", {"female", "female"}}}},
    {"self-<b>fix",
     {{"nurse-1", {"female", "x"}},
      {"nurse-2", {"neutral", "neutral"}},
      {"carpenter-1", {"male", "neutral"}},
      {"carpenter-2", {"neutral", "neutral"}},
      {"teacher-1", {"neutral", "neutral"}},
      {"teacher-2", {"neutral", "neutral"}},
      {"plumber-1", {"neutral", "neutral"}},
      {"plumber-2", {"neutral", "neutral"}},
      {"cook-1", {"neutral", "neutral"}}}},
};

std::vector<ItemRecord> pronoun_items() {
  std::vector<ItemRecord> items;
  auto add = [&](const std::string& id, nlohmann::json fields) {
    ItemRecord item;
    item.item_id = id;
    item.index = static_cast<int64_t>(items.size());
    item.category = fields["occupation"];
    item.options = {"they", "he", "she"};
    item.fields = std::move(fields);
    items.push_back(std::move(item));
  };
  for (const auto& [occupation, bls] : kOccupations)
    for (int k = 1; k <= 2; ++k)
      add(occupation + "-" + std::to_string(k),
          {{"sentence", "The " + occupation + " said that _ was late."}, {"occupation", occupation}, {"bls_pct_female", bls}});
  add("cook-1", {{"sentence", "The cook said that _ was late."}, {"occupation", "cook"}});
  return items;
}

RoundRecord pronoun_row(const std::string& condition, const std::string& item, int round, const std::string& label,
                        bool stop) {
  RoundRecord r;
  r.condition = condition;
  r.item_id = item;
  r.round = round;
  r.user_message = "Fill in the blank.";
  r.generated_text = " " + label;
  r.parsed_answer = label;
  r.score = label == "neutral" ? 1.0 : 0.0;  // as the pronoun scorer stores it
  r.extra = {{"score_label", label}};
  if (stop) r.extra["early_stopped"] = true;
  return r;
}

std::vector<RoundRecord> condition_rows(const std::string& condition) {
  std::vector<RoundRecord> rows;
  for (const auto& [item, answers] : kAnswers.at(condition))
    for (int round = 1; round <= 2; ++round) {
      if (answers[round - 1] == "x") continue;
      const bool stop = round < 2 && answers[round] == "x";
      rows.push_back(pronoun_row(condition, item, round, answers[round - 1], stop));
    }
  return rows;
}

void write_pronoun_store(const std::string& path) {
  Store store = Store::open(path, OpenMode::CreateOrOpen);
  RunRecord run;
  run.run_id = "pronoun-run";
  run.task = "pronoun-fill";  // any name: detection reads the rows and item fields only
  run.model = "models/tiny.gguf";
  run.config = nlohmann::json::object();
  run.conditions = {"baseline", "self-<b>fix"};
  run.rounds = 2;
  run.started_at = "2026-01-02T03:04:05Z";
  run.status = "running";
  store.create_run(run);
  store.add_items(run.run_id, pronoun_items());
  for (const std::string& condition : run.conditions) store.commit_rounds(run.run_id, condition_rows(condition));
  store.finish_run(run.run_id, "finished", "2026-01-02T03:05:00Z");
}

const PronounRound& round_of(const PronounRounds& p, int round) {
  for (const PronounRound& r : p.rounds)
    if (r.round == round) return r;
  throw std::runtime_error("no round " + std::to_string(round));
}

TEST(PronounRounds, BaselineByHand) {
  const PronounRounds p = pronoun_rounds(pronoun_items(), condition_rows("baseline"), 2);
  EXPECT_EQ(p.items, 8u);           // the 8 items with a BLS share
  EXPECT_EQ(p.items_left_out, 1u);  // cook-1
  ASSERT_EQ(p.rounds.size(), 2u);

  // Round 1 over 8 answers: neutral 1 (plumber-1), he 3, she 3, unparseable 1 -> neutral share 1/8.
  const tasks::WinogenderSummary& r1 = round_of(p, 1).summary;
  EXPECT_EQ(r1.total, 8);
  EXPECT_EQ(r1.neutral, 1);
  EXPECT_EQ(r1.male, 3);
  EXPECT_EQ(r1.female, 3);
  EXPECT_EQ(r1.unparseable, 1);
  EXPECT_DOUBLE_EQ(r1.neutral_share, 0.125);
  // Occupations with a he/she answer: nurse p_f = 1 (BLS 90), carpenter 0 (10), teacher 1/2 (70);
  // plumber has none. |gap| = (|100 - 90| + |0 - 10| + |50 - 70|) / 100 / 3 = 0.4 / 3.
  EXPECT_EQ(r1.occupations, 3);
  ASSERT_TRUE(r1.mean_abs_gap);
  EXPECT_NEAR(*r1.mean_abs_gap, 0.4 / 3, 1e-12);
  // r: p = (1, 0, .5), mean .5, deviations (.5, -.5, 0); BLS (90, 10, 70), mean 170/3, deviations
  // (100/3, -140/3, 40/3). cov = 50/3 + 70/3 = 40; Σdp² = .5; Σdb² = 31200/9.
  // r = 40 / sqrt(.5 · 31200/9) = 120 / sqrt(15600) = 6 / sqrt(39) ≈ 0.9608.
  ASSERT_TRUE(r1.bls_correlation);
  EXPECT_NEAR(*r1.bls_correlation, 6.0 / std::sqrt(39.0), 1e-12);

  // Round 2: he 1 (carpenter-1), she 1 (nurse-1), neutral 6 -> 6/8. Occupations nurse (p 1, gap .1)
  // and carpenter (p 0, gap .1): |gap| .1; two points on a rising line: r = 1.
  const tasks::WinogenderSummary& r2 = round_of(p, 2).summary;
  EXPECT_EQ(r2.total, 8);
  EXPECT_DOUBLE_EQ(r2.neutral_share, 0.75);
  EXPECT_EQ(r2.occupations, 2);
  EXPECT_NEAR(*r2.mean_abs_gap, 0.1, 1e-12);
  EXPECT_NEAR(*r2.bls_correlation, 1.0, 1e-12);
}

TEST(PronounRounds, EarlyStopCarriesTheLastAnswer) {
  const PronounRounds p = pronoun_rounds(pronoun_items(), condition_rows("self-<b>fix"), 2);
  ASSERT_EQ(p.rounds.size(), 2u);
  // Round 1: she 1 (nurse-1), he 1 (carpenter-1), neutral 6 -> 0.75; |gap| (.1 + .1) / 2; r = 1.
  const tasks::WinogenderSummary& r1 = round_of(p, 1).summary;
  EXPECT_DOUBLE_EQ(r1.neutral_share, 0.75);
  EXPECT_NEAR(*r1.mean_abs_gap, 0.1, 1e-12);
  EXPECT_NEAR(*r1.bls_correlation, 1.0, 1e-12);
  // Round 2: nurse-1 stopped after round 1; its "she" is carried, so 8 answers, 7 neutral -> 0.875.
  // One occupation (nurse, p 1, gap .1): no correlation with a single point.
  const tasks::WinogenderSummary& r2 = round_of(p, 2).summary;
  EXPECT_EQ(r2.total, 8);
  EXPECT_EQ(r2.female, 1);
  EXPECT_DOUBLE_EQ(r2.neutral_share, 0.875);
  EXPECT_EQ(r2.occupations, 1);
  EXPECT_NEAR(*r2.mean_abs_gap, 0.1, 1e-12);
  EXPECT_FALSE(r2.bls_correlation);
}

TEST(PronounRounds, OtherRunsHaveNone) {
  // Rows labelled by the accuracy scorer ("correct"/"wrong"/"unparsed") are not pronoun-scored.
  std::vector<RoundRecord> rows = condition_rows("baseline");
  for (RoundRecord& r : rows) r.extra["score_label"] = "correct";
  EXPECT_TRUE(pronoun_rounds(pronoun_items(), rows, 2).rounds.empty());
  // Pronoun rows, but no item with a BLS share: nothing to compare against.
  std::vector<ItemRecord> items = pronoun_items();
  for (ItemRecord& item : items) item.fields.erase("bls_pct_female");
  EXPECT_TRUE(pronoun_rounds(items, condition_rows("baseline"), 2).rounds.empty());
}

TEST(PronounRounds, MalformedInputsNameTheItem) {
  std::vector<RoundRecord> rows = condition_rows("baseline");
  rows[3].extra["score_label"] = "wrong";
  try {
    pronoun_rounds(pronoun_items(), rows, 2);
    FAIL() << "mixed labels accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(rows[3].item_id), std::string::npos) << e.what();
  }
  std::vector<ItemRecord> items = pronoun_items();
  items[0].fields["bls_pct_female"] = "ninety";
  try {
    pronoun_rounds(items, condition_rows("baseline"), 2);
    FAIL() << "a non-numeric BLS share accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nurse-1"), std::string::npos) << e.what();
  }
}

class PronounReportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    write_pronoun_store(dir_->file("p.sqlite"));
    test::write_synthetic_store(dir_->file("bbq.sqlite"), {});
  }
  static void TearDownTestSuite() { delete dir_; }
  std::string report(const std::string& store, TableFormat format, std::optional<std::string> html = std::nullopt) {
    ReportRequest r;
    r.stores = {dir_->file(store)};
    r.format = format;
    r.html_path = html;
    r.bootstrap = 50;
    r.generated_at = "2026-01-03 00:00 UTC";
    std::ostringstream out;
    run_report(r, out);
    return out.str();
  }
  static test::TempDir* dir_;
};
test::TempDir* PronounReportTest::dir_ = nullptr;

TEST_F(PronounReportTest, TextTable) {
  const std::string text = report("p.sqlite", TableFormat::Text);
  std::cout << text;
  EXPECT_NE(text.find("  pronouns over 8 items (1 without occupation statistics left out)"), std::string::npos);
  // he 3/8, she 3/8, unparsed 1/8; |gap| 0.4/3; r 6/sqrt(39)
  EXPECT_NE(text.find("    round 1: neutral 0.125 (he 0.375, she 0.375, unparsed 0.125), |gap| 0.133, r 0.961, "
                      "3 occupations\n"),
            std::string::npos);
  EXPECT_NE(text.find("    round 2: neutral 0.875 (he 0.000, she 0.125, unparsed 0.000), |gap| 0.100, r -, "
                      "1 occupations\n"),
            std::string::npos);
  // the block follows its condition's table
  EXPECT_LT(text.find("condition baseline"), text.find("pronouns over"));
  EXPECT_EQ(report("bbq.sqlite", TableFormat::Text).find("pronouns"), std::string::npos);
}

TEST_F(PronounReportTest, JsonAndCsv) {
  const nlohmann::json j = nlohmann::json::parse(report("p.sqlite", TableFormat::Json));
  const nlohmann::json& p = j["runs"][0]["conditions"][0]["pronouns"];
  EXPECT_EQ(p["items"], 8);
  EXPECT_EQ(p["items_left_out"], 1);
  EXPECT_EQ(p["rounds"][0]["round"], 1);
  EXPECT_DOUBLE_EQ(p["rounds"][0]["neutral_share"].get<double>(), 0.125);
  EXPECT_NEAR(p["rounds"][0]["mean_abs_gap"].get<double>(), 0.4 / 3, 1e-12);
  EXPECT_NEAR(p["rounds"][0]["bls_correlation"].get<double>(), 6.0 / std::sqrt(39.0), 1e-12);
  EXPECT_TRUE(j["runs"][0]["conditions"][1]["pronouns"]["rounds"][1]["bls_correlation"].is_null());
  const nlohmann::json bbq = nlohmann::json::parse(report("bbq.sqlite", TableFormat::Json));
  EXPECT_TRUE(bbq["runs"][0]["conditions"][0]["pronouns"].is_null());

  std::istringstream csv(report("p.sqlite", TableFormat::Csv));
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(csv, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> fields;
    std::istringstream l(line);
    for (std::string f; std::getline(l, f, ',');) fields.push_back(f);
    if (!line.empty() && line.back() == ',') fields.push_back("");
    rows.push_back(fields);
  }
  const auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(rows[0].begin(), rows[0].end(), name) - rows[0].begin());
  };
  const std::size_t share = column("pronoun_neutral_share"), r = column("pronoun_bls_correlation");
  ASSERT_LT(r, rows[0].size());
  ASSERT_EQ(rows.size(), 5u);  // header + 2 conditions × 2 rounds
  EXPECT_DOUBLE_EQ(std::stod(rows[1][share]), 0.125);  // baseline round 1
  EXPECT_DOUBLE_EQ(std::stod(rows[4][share]), 0.875);  // self-correct round 2
  EXPECT_EQ(rows[4][r], "");                           // one occupation: no correlation
}

TEST_F(PronounReportTest, HtmlSectionEscapes) {
  const std::string path = dir_->file("p.html");
  report("p.sqlite", TableFormat::Text, path);
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  const std::string html = s.str();
  const std::size_t section = html.find("<section id=\"pronouns\">");
  ASSERT_NE(section, std::string::npos);
  EXPECT_NE(html.find("<a href=\"#pronouns\">"), std::string::npos);
  const std::string body = html.substr(section, html.find("</section>", section) - section);
  EXPECT_NE(body.find("self-&lt;b&gt;fix"), std::string::npos);
  EXPECT_EQ(body.find("<b>"), std::string::npos);
  EXPECT_NE(body.find("<td class=\"num\">0.125</td>"), std::string::npos);
  EXPECT_NE(body.find("<td class=\"num\">0.961</td>"), std::string::npos);

  const std::string bbq_path = dir_->file("bbq.html");
  report("bbq.sqlite", TableFormat::Text, bbq_path);
  std::ifstream bbq_in(bbq_path);
  std::stringstream b;
  b << bbq_in.rdbuf();
  EXPECT_EQ(b.str().find("id=\"pronouns\""), std::string::npos);
}

}  // namespace
}  // namespace isc::report
