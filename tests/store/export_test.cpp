// Exports: the JSON document holds every row of a run in valid UTF-8 (partial token bytes kept as
// hex), the timing-free form compares runs, and the rounds CSV is RFC 4180 with one row per round.
#include <sstream>

#include <gtest/gtest.h>

#include "store/export.h"
#include "store/store.h"
#include "store/utf8.h"
#include "store_test_util.h"

namespace isc {
namespace {

TEST(Utf8, ValidationAndRepair) {
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("é 漢字 🙂"));
  EXPECT_FALSE(is_valid_utf8("\xF0\x9F"));          // truncated 4-byte sequence
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_EQ(utf8_lossy("a\xF0\x9F" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8_lossy("ok é"), "ok é");
  EXPECT_EQ(hex_bytes(std::string("\x00\xF0\x9F", 3)), "00f09f");
}

class StoreExport : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<Store>(Store::open(dir_.file("store.sqlite"), OpenMode::CreateOrOpen));
    store_->create_run(test::sample_run());
    store_->add_items("bbq-run-1", test::sample_items(2));
    for (int item = 0; item < 2; ++item)
      for (int round = 1; round <= 3; ++round) store_->commit_round("bbq-run-1", test::sample_round("baseline", item, round));
    store_->put_metrics("bbq-run-1", {{"baseline", 1, "accuracy", 0.5}});
    store_->put_probes("bbq-run-1", {{"baseline", 1, 12, "morality", 0.25}});
  }
  test::ScratchDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreExport, JsonHoldsEveryRowAndDumps) {
  const auto doc = export_run_json(*store_, "bbq-run-1");
  EXPECT_EQ(doc["run"]["run_id"], "bbq-run-1");
  EXPECT_EQ(doc["run"]["config"], test::sample_run().config);
  EXPECT_EQ(doc["items"].size(), 2u);
  ASSERT_EQ(doc["rounds"].size(), 6u);
  EXPECT_EQ(doc["metrics"].size(), 1u);
  EXPECT_EQ(doc["probes"].size(), 1u);
  const auto& round = doc["rounds"][0];
  const auto expected = test::sample_round("baseline", 0, 1);
  EXPECT_EQ(round["option_probs"], nlohmann::json(expected.option_probs));
  EXPECT_EQ(round["prompt_tokens"], nlohmann::json(expected.prompt_tokens));
  EXPECT_EQ(round["tokens"][4]["bytes_hex"], "f09f");  // the partial "🙂"
  EXPECT_FALSE(round["tokens"][0].contains("bytes_hex"));
  EXPECT_TRUE(round.contains("seconds"));
  EXPECT_NO_THROW(doc.dump());  // valid UTF-8 throughout, despite the partial tokens
}

TEST_F(StoreExport, TimingFreeFormComparesRuns) {
  const auto with = export_run_json(*store_, "bbq-run-1");
  const auto without = export_run_json(*store_, "bbq-run-1", {.timing = false});
  EXPECT_FALSE(without["rounds"][0].contains("seconds"));
  EXPECT_FALSE(without["run"].contains("wall_seconds"));
  EXPECT_FALSE(without["run"].contains("started_at"));
  EXPECT_NE(with, without);
  EXPECT_NE(test::error_of([&] { export_run_json(*store_, "nope"); }).find("no run"), std::string::npos);
}

TEST_F(StoreExport, RoundsCsv) {
  std::ostringstream out;
  export_rounds_csv(*store_, "bbq-run-1", out);
  const std::string csv = out.str();
  EXPECT_EQ(csv.rfind("run_id,condition,item_id,round,user_message,", 0), 0u);
  // round 1's user message has line breaks, so it is quoted; 1 header + 6 rounds
  EXPECT_NE(csv.find("\"Context: item 0\n\nWho? (a) x (b) y (c) z.\""), std::string::npos);
  size_t records = 0;
  bool quoted = false;
  for (size_t i = 0; i < csv.size(); ++i) {
    if (csv[i] == '"') quoted = !quoted;
    if (!quoted && csv[i] == '\n') ++records;
  }
  EXPECT_EQ(records, 7u);
  EXPECT_NE(csv.find("\"{\"\"n\"\":0,\"\"probe\"\":"), std::string::npos);  // quotes doubled inside JSON
}

}  // namespace
}  // namespace isc
