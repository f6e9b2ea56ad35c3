// Every field of runs, items, rounds, metrics and probes comes back exactly as written (unicode,
// partial UTF-8, NULLs, big JSON), and nothing stored is overwritten: duplicates are errors.
#include <gtest/gtest.h>

#include "store/store.h"
#include "store_test_util.h"

namespace isc {
namespace {

using test::error_of;
using test::ScratchDir;

class StoreRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<Store>(Store::open(dir_.file("store.sqlite"), OpenMode::CreateOrOpen));
    store_->create_run(test::sample_run());
    store_->add_items(kRun, test::sample_items(6));
  }
  static constexpr const char* kRun = "bbq-run-1";
  ScratchDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreRoundTrip, RunFields) {
  auto run = test::sample_run("second");
  run.wall_seconds = 12.5;
  run.generated_tokens = 1ll << 40;
  run.prefilled_tokens = 77;
  run.finished_at = "";
  run.config["big"] = nlohmann::json::array();
  for (int i = 0; i < 20000; ++i) run.config["big"].push_back({{"i", i}, {"s", "ünïcödé"}});
  store_->create_run(run);
  const auto back = store_->find_run("second");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->run_id, run.run_id);
  EXPECT_EQ(back->task, run.task);
  EXPECT_EQ(back->config, run.config);
  EXPECT_EQ(back->model, run.model);
  EXPECT_EQ(back->model_sha256, run.model_sha256);
  EXPECT_EQ(back->engine_version, run.engine_version);
  EXPECT_EQ(back->conditions, run.conditions);
  EXPECT_EQ(back->rounds, run.rounds);
  EXPECT_EQ(back->started_at, run.started_at);
  EXPECT_EQ(back->finished_at, run.finished_at);
  EXPECT_EQ(back->status, run.status);
  EXPECT_EQ(back->wall_seconds, run.wall_seconds);
  EXPECT_EQ(back->generated_tokens, run.generated_tokens);
  EXPECT_EQ(back->prefilled_tokens, run.prefilled_tokens);
  EXPECT_FALSE(store_->find_run("nope"));
  EXPECT_EQ(store_->runs().size(), 2u);
}

TEST_F(StoreRoundTrip, DuplicateRunIsAnError) {
  auto message = error_of([&] { store_->create_run(test::sample_run()); });
  EXPECT_NE(message.find("exists already"), std::string::npos) << message;
}

TEST_F(StoreRoundTrip, BadRunsAreRefused) {
  auto run = test::sample_run("x");
  run.conditions = {"a", "a"};
  EXPECT_NE(error_of([&] { store_->create_run(run); }).find("twice"), std::string::npos);
  run.conditions = {};
  EXPECT_NE(error_of([&] { store_->create_run(run); }).find("no conditions"), std::string::npos);
  run = test::sample_run("x", 0);
  EXPECT_NE(error_of([&] { store_->create_run(run); }).find("rounds"), std::string::npos);
  run = test::sample_run("x");
  run.config = {{"bad", std::string("\xFF\xFE")}};  // JSON cannot hold invalid UTF-8
  EXPECT_NE(error_of([&] { store_->create_run(run); }).find("config"), std::string::npos);
  EXPECT_FALSE(store_->find_run("x"));
}

TEST_F(StoreRoundTrip, ProgressFinishAndReopen) {
  store_->update_run_progress(kRun, 10.5, 1000, 5000);
  store_->update_run_progress(kRun, 20.0, 2000, 9000);
  EXPECT_NE(error_of([&] { store_->update_run_progress(kRun, 5.0, 2000, 9000); }).find("decrease"), std::string::npos);
  auto run = store_->find_run(kRun);
  EXPECT_EQ(run->wall_seconds, 20.0);
  EXPECT_EQ(run->generated_tokens, 2000);
  EXPECT_EQ(run->prefilled_tokens, 9000);
  EXPECT_NE(error_of([&] { store_->finish_run(kRun, "done", "t"); }).find("finished or failed"), std::string::npos);
  store_->finish_run(kRun, "failed", "2026-11-25T21:00:00Z");
  EXPECT_EQ(store_->find_run(kRun)->status, "failed");
  EXPECT_NE(error_of([&] { store_->finish_run(kRun, "finished", "t"); }).find("already"), std::string::npos);
  store_->reopen_run(kRun);
  EXPECT_EQ(store_->find_run(kRun)->status, "running");
  EXPECT_EQ(store_->find_run(kRun)->finished_at, "");
  store_->finish_run(kRun, "finished", "2026-11-25T22:00:00Z");
  EXPECT_EQ(store_->find_run(kRun)->finished_at, "2026-11-25T22:00:00Z");
  EXPECT_NE(error_of([&] { store_->reopen_run(kRun); }).find("finished"), std::string::npos);
  EXPECT_NE(error_of([&] { store_->update_run_progress("nope", 1, 1, 1); }).find("no run"), std::string::npos);
}

TEST_F(StoreRoundTrip, ItemsAreIdempotentAndNeverOverwritten) {
  const auto items = test::sample_items(6);
  store_->add_items(kRun, items);  // identical again: fine
  const auto back = store_->items(kRun);
  ASSERT_EQ(back.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(back[i].item_id, items[i].item_id);
    EXPECT_EQ(back[i].index, items[i].index);
    EXPECT_EQ(back[i].category, items[i].category);
    EXPECT_EQ(back[i].options, items[i].options);
    EXPECT_EQ(back[i].gold, items[i].gold);
    EXPECT_EQ(back[i].fields, items[i].fields);
  }
  auto changed = items;
  changed[3].gold = (changed[3].gold + 1) % 3;
  changed.push_back(test::sample_items(7).back());  // a new item in the same failing batch
  auto message = error_of([&] { store_->add_items(kRun, changed); });
  EXPECT_NE(message.find("item-0003"), std::string::npos) << message;
  EXPECT_NE(message.find("differs"), std::string::npos) << message;
  EXPECT_EQ(store_->items(kRun).size(), 6u);  // the batch was rolled back as a whole
  auto clash = test::sample_items(7).back();
  clash.index = 2;
  message = error_of([&] { store_->add_items(kRun, {clash}); });
  EXPECT_NE(message.find("index 2"), std::string::npos) << message;
  EXPECT_NE(error_of([&] { store_->add_items("nope", items); }).find("no run"), std::string::npos);
}

TEST_F(StoreRoundTrip, EveryRoundFieldComesBack) {
  std::vector<RoundRecord> written;
  for (const char* condition : {"baseline", "self-correct"})
    for (int item = 0; item < 6; ++item)
      for (int round = 1; round <= 5; ++round) written.push_back(test::sample_round(condition, item, round));
  // the oddities: empty everything, embedded NUL bytes, big JSON, invalid UTF-8 in plain text
  written[0].tokens.clear();
  written[0].prompt_tokens.clear();
  written[0].option_probs.clear();
  written[0].generated_text = "";
  written[0].extra = nullptr;
  written[1].generated_text = std::string("nul\0inside \xE2\x82", 14);  // ends mid-character
  written[1].user_message = "emoji 🙂 and CJK 漢字 and RTL עברית";
  written[2].extra = nlohmann::json::object();
  for (int i = 0; i < 5000; ++i) written[2].extra[fmt::format("k{}", i)] = std::vector<double>{1.0 / (i + 1), -i * 1e300};
  written[3].score = -0.0;
  written[3].correct = false;
  written[4].option_probs = {1.0 / 3.0, 2.0 / 3.0, 5e-324};
  written[5].tokens[0].logprob = -std::numeric_limits<float>::infinity();
  written[5].tokens[1].text = std::string("\0", 1);
  for (const auto& r : written) store_->commit_round(kRun, r);

  EXPECT_EQ(store_->count_rounds(kRun), static_cast<int64_t>(written.size()));
  const auto back = store_->rounds(kRun);
  ASSERT_EQ(back.size(), written.size());  // written in (condition, item index, round) order already
  for (size_t i = 0; i < back.size(); ++i) test::expect_same_round(back[i], written[i]);
  const auto baseline = store_->rounds(kRun, std::string("baseline"));
  EXPECT_EQ(baseline.size(), written.size() / 2);
  for (const auto& r : baseline) EXPECT_EQ(r.condition, "baseline");
  EXPECT_TRUE(store_->rounds(kRun, std::string("no-such-condition")).empty());
  const auto done = store_->completed(kRun);
  EXPECT_EQ(done.size(), written.size());
  EXPECT_TRUE(done.count({"self-correct", "item-0005", 5}));
}

TEST_F(StoreRoundTrip, DuplicateRoundIsAnErrorAndBatchesAreAtomic) {
  store_->commit_round(kRun, test::sample_round("baseline", 0, 1));
  auto changed = test::sample_round("baseline", 0, 1);
  changed.parsed_answer = "zzz";
  auto message = error_of([&] { store_->commit_round(kRun, changed); });
  EXPECT_NE(message.find("stored already"), std::string::npos) << message;
  EXPECT_NE(message.find("item-0000"), std::string::npos) << message;
  EXPECT_EQ(store_->rounds(kRun)[0].parsed_answer, test::sample_round("baseline", 0, 1).parsed_answer);
  // a batch with one duplicate in the middle writes nothing
  std::vector<RoundRecord> batch = {test::sample_round("baseline", 1, 1), test::sample_round("baseline", 0, 1),
                                    test::sample_round("baseline", 2, 1)};
  EXPECT_NE(error_of([&] { store_->commit_rounds(kRun, batch); }).find("stored already"), std::string::npos);
  EXPECT_EQ(store_->count_rounds(kRun), 1);
  // a duplicate inside one batch too
  batch = {test::sample_round("baseline", 1, 1), test::sample_round("baseline", 1, 1)};
  EXPECT_NE(error_of([&] { store_->commit_rounds(kRun, batch); }).find("stored already"), std::string::npos);
  EXPECT_EQ(store_->count_rounds(kRun), 1);
  store_->commit_rounds(kRun, {test::sample_round("baseline", 1, 1), test::sample_round("baseline", 2, 1)});
  EXPECT_EQ(store_->count_rounds(kRun), 3);
}

TEST_F(StoreRoundTrip, RoundsOutsideTheRunAreRefused) {
  EXPECT_NE(error_of([&] { store_->commit_round(kRun, test::sample_round("hint", 0, 1)); }).find("condition"),
            std::string::npos);
  EXPECT_NE(error_of([&] { store_->commit_round(kRun, test::sample_round("baseline", 0, 6)); }).find("round outside"),
            std::string::npos);
  EXPECT_NE(error_of([&] { store_->commit_round(kRun, test::sample_round("baseline", 0, 0)); }).find("round outside"),
            std::string::npos);
  EXPECT_NE(error_of([&] { store_->commit_round(kRun, test::sample_round("baseline", 99, 1)); }).find("not in the run"),
            std::string::npos);
  EXPECT_NE(error_of([&] { store_->commit_round("nope", test::sample_round("baseline", 0, 1)); }).find("no run"),
            std::string::npos);
  auto nan = test::sample_round("baseline", 0, 1);
  nan.option_probs[1] = std::nan("");
  EXPECT_NE(error_of([&] { store_->commit_round(kRun, nan); }).find("non-finite"), std::string::npos);
  auto bad_json = test::sample_round("baseline", 0, 1);
  bad_json.extra = {{"text", std::string("\xC3")}};
  EXPECT_NE(error_of([&] { store_->commit_round(kRun, bad_json); }).find("extra"), std::string::npos);
  EXPECT_EQ(store_->count_rounds(kRun), 0);
}

TEST_F(StoreRoundTrip, MetricsAndProbes) {
  std::vector<MetricRecord> metrics = {{"baseline", 1, "accuracy", 0.5},
                                       {"baseline", 2, "accuracy", 0.625},
                                       {"", 0, "convergence_round", {{"baseline", 2}, {"self-correct", 3}}},
                                       {"self-correct", 1, "ece/bins=10", {{"value", 0.1}, {"bins", {1, 2, 3}}}}};
  store_->put_metrics(kRun, metrics);
  store_->put_metrics(kRun, metrics);  // identical: no-op
  auto back = store_->metrics(kRun);
  ASSERT_EQ(back.size(), 4u);
  EXPECT_EQ(back[0].name, "convergence_round");  // ordered by condition, round, name
  EXPECT_EQ(back[0].value, metrics[2].value);
  EXPECT_EQ(back[2].value, 0.625);
  auto message = error_of([&] { store_->put_metrics(kRun, {{"baseline", 1, "accuracy", 0.75}}); });
  EXPECT_NE(message.find("different"), std::string::npos) << message;
  EXPECT_EQ(store_->metrics(kRun)[1].value, 0.5);
  store_->clear_metrics(kRun);
  EXPECT_TRUE(store_->metrics(kRun).empty());
  store_->put_metrics(kRun, {{"baseline", 1, "accuracy", 0.75}});
  EXPECT_EQ(store_->metrics(kRun)[0].value, 0.75);

  std::vector<ProbeRecord> probes = {{"self-correct", 2, 20, "morality", {{"mean", 0.3}, {"per_item", {0.1, 0.5}}}},
                                     {"self-correct", 1, 20, "morality", {{"mean", 0.2}}}};
  store_->put_probes(kRun, probes);
  store_->put_probes(kRun, probes);
  auto probes_back = store_->probes(kRun);
  ASSERT_EQ(probes_back.size(), 2u);
  EXPECT_EQ(probes_back[0].round, 1);
  EXPECT_EQ(probes_back[0].layer, 20);
  EXPECT_EQ(probes_back[1].value, probes[0].value);
  EXPECT_NE(error_of([&] { store_->put_probes(kRun, {{"self-correct", 1, 20, "morality", 1}}); }).find("different"),
            std::string::npos);
}

}  // namespace
}  // namespace isc
