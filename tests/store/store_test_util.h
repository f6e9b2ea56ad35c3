// Shared fixtures for the store tests: a scratch directory, deterministic sample rows that exercise
// every field (unicode, partial UTF-8, NULLs, big JSON), field-by-field comparison, canonical dumps.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "store/records.h"

namespace isc::test {

// A fresh directory under the system temp dir, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "isc-store-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The message of the isc::Error that `body` must throw.
template <typename Body>
std::string error_of(Body&& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an isc::Error";
  return "";
}

inline RunRecord sample_run(const std::string& run_id = "bbq-run-1", int rounds = 5) {
  RunRecord run;
  run.run_id = run_id;
  run.task = "bbq";
  run.config = {{"seed", 1234}, {"limit", 300}, {"sampling", {{"temperature", 0.0}}}, {"note", "Zürich ✓ 日本語"}};
  run.model = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
  run.model_sha256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
  run.engine_version = "isc 0.1.0";
  run.conditions = {"baseline", "self-correct"};
  run.rounds = rounds;
  run.started_at = "2026-11-25T20:30:11Z";
  run.status = "running";
  return run;
}

inline std::vector<ItemRecord> sample_items(int count) {
  std::vector<ItemRecord> items;
  for (int i = 0; i < count; ++i) {
    ItemRecord item;
    item.item_id = fmt::format("item-{:04}", i);
    item.index = i;
    item.category = i % 2 ? "Age" : "Gender_identity";
    item.options = {"The grandfather", "The grandson", "Can't be determined"};
    item.gold = i % 3;
    item.fields = {{"context", fmt::format("Context {} with “quotes” and émojis 🙂", i)}, {"question", "Who was forgetful?"}};
    items.push_back(std::move(item));
  }
  return items;
}

// Deterministic round `n` of item `item` in `condition`; varies which optional fields are NULL.
inline RoundRecord sample_round(const std::string& condition, int item, int round, int tokens = 12) {
  RoundRecord r;
  r.condition = condition;
  r.item_id = fmt::format("item-{:04}", item);
  r.round = round;
  r.user_message = round == 1 ? fmt::format("Context: item {}\n\nWho? (a) x (b) y (c) z.", item)
                              : "Evaluate your previous choice and explanation.";
  r.assistant_prefill = "The single most likely answer choice is";
  for (int i = 0; i < 5 + round; ++i) r.prompt_tokens.push_back(1000 * round + i - 7);
  for (int t = 0; t < tokens; ++t) {
    TokenRecord token;
    token.id = 40000 + t * 7 + item;
    // Every 5th token is the first 2 bytes of "🙂" (F0 9F 99 82): partial UTF-8, as byte-level BPE makes.
    token.text = t % 5 == 4 ? std::string("\xF0\x9F", 2) : fmt::format(" tok{}", t);
    token.logprob = -0.125f * static_cast<float>(t + 1) - 1e-7f * static_cast<float>(item);
    for (int k = 0; k < 3; ++k) token.top.emplace_back(fmt::format(" alt{}é", k), -1.5f - static_cast<float>(k));
    r.tokens.push_back(std::move(token));
    r.generated_text += r.tokens.back().text;
  }
  r.finish_reason = round % 2 ? "length" : "stop";
  r.parsed_answer = std::string(1, static_cast<char>('a' + (item + round) % 3));
  r.answer_index = (item + round) % 3;
  r.option_probs = {0.1 + 1e-3 * item, 0.3, 0.6 - 1e-3 * item};
  if ((item + round) % 3 != 0) r.correct = (item + round) % 3 == 1;
  if (round % 2 == 0) r.score = 0.25 * round + 1e-9 * item;
  r.extra = {{"probe", {{"layer", 20}, {"score", -0.5}}}, {"n", item}};
  r.seconds = 0.001 * (item + 1) * round;
  r.context_tokens = 100 * round + item;
  return r;
}

inline void expect_same_round(const RoundRecord& a, const RoundRecord& b) {
  const std::string key = fmt::format("{}/{}/{}", b.condition, b.item_id, b.round);
  EXPECT_EQ(a.condition, b.condition) << key;
  EXPECT_EQ(a.item_id, b.item_id) << key;
  EXPECT_EQ(a.round, b.round) << key;
  EXPECT_EQ(a.user_message, b.user_message) << key;
  EXPECT_EQ(a.assistant_prefill, b.assistant_prefill) << key;
  EXPECT_EQ(a.prompt_tokens, b.prompt_tokens) << key;
  EXPECT_EQ(a.generated_text, b.generated_text) << key;
  ASSERT_EQ(a.tokens.size(), b.tokens.size()) << key;
  for (size_t i = 0; i < a.tokens.size(); ++i) {
    EXPECT_EQ(a.tokens[i].id, b.tokens[i].id) << key;
    EXPECT_EQ(a.tokens[i].text, b.tokens[i].text) << key;
    EXPECT_EQ(a.tokens[i].logprob, b.tokens[i].logprob) << key;  // exact: stored as the same float
    EXPECT_EQ(a.tokens[i].top, b.tokens[i].top) << key;
  }
  EXPECT_EQ(a.finish_reason, b.finish_reason) << key;
  EXPECT_EQ(a.parsed_answer, b.parsed_answer) << key;
  EXPECT_EQ(a.answer_index, b.answer_index) << key;
  EXPECT_EQ(a.option_probs, b.option_probs) << key;  // exact: JSON keeps 17 significant digits
  EXPECT_EQ(a.correct, b.correct) << key;
  EXPECT_EQ(a.score, b.score) << key;
  EXPECT_EQ(a.extra, b.extra) << key;
  EXPECT_EQ(a.seconds, b.seconds) << key;
  EXPECT_EQ(a.context_tokens, b.context_tokens) << key;
}

// Every row of every table, in key order, as SQL literals (quote() renders blobs as X'..'), read
// straight from the file rather than through the Store, so two stores can be compared byte for byte.
inline std::string canonical_dump(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::string dump;
  SQLite::Statement tables(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  while (tables.executeStep()) {
    const std::string table = tables.getColumn(0).getString();
    dump += "table " + table + "\n";
    SQLite::Statement columns(db, fmt::format("SELECT name FROM pragma_table_info('{}') ORDER BY cid", table));
    std::vector<std::string> quoted;
    while (columns.executeStep()) quoted.push_back(fmt::format("quote({})", columns.getColumn(0).getString()));
    SQLite::Statement rows(db, fmt::format("SELECT {} FROM {} ORDER BY {}", fmt::join(quoted, " || '|' || "), table,
                                           fmt::join(quoted, ", ")));
    while (rows.executeStep()) dump += rows.getColumn(0).getString() + "\n";
  }
  return dump;
}

}  // namespace isc::test
