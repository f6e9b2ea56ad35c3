// Crash safety: a child process that commits rounds is SIGKILLed at random moments, again and
// again; every time the store must open intact with only whole rounds, and after the last
// (uninterrupted) resume it must equal a store written without interruption, row for row.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "store/store.h"
#include "store_test_util.h"

namespace isc {
namespace {

constexpr const char* kRun = "crash-run";
constexpr int kItems = 40;
constexpr int kRounds = 4;
const std::vector<std::string> kConditions = {"baseline", "self-correct"};

// The whole experiment in commit order; rounds of items 20.. go in batches of 3 (commit_rounds).
std::vector<std::vector<RoundRecord>> commit_plan() {
  std::vector<std::vector<RoundRecord>> plan;
  for (const auto& condition : kConditions)
    for (int round = 1; round <= kRounds; ++round)
      for (int item = 0; item < kItems; ++item) {
        auto r = test::sample_round(condition, item, round, round == 1 ? 60 : 8);
        if (item < 20 || plan.back().size() == 3 || plan.back()[0].round != round || plan.back()[0].condition != condition)
          plan.push_back({});
        plan.back().push_back(std::move(r));
      }
  return plan;
}

// What `isc run`/`isc resume` do with the store: set up the run if needed, skip finished rounds,
// commit the rest, finish. Used by the child processes and for the uninterrupted reference.
void run_experiment(const std::string& path) {
  auto store = Store::open(path, OpenMode::CreateOrOpen);
  auto run = test::sample_run(kRun, kRounds);
  run.conditions = kConditions;
  const auto existing = store.find_run(kRun);
  if (existing && existing->status == "finished") return;
  if (!existing) store.create_run(run);
  store.add_items(kRun, test::sample_items(kItems));
  const auto done = store.completed(kRun);
  int64_t commits = 0;
  for (const auto& batch : commit_plan()) {
    const auto& first = batch.front();
    if (done.count({first.condition, first.item_id, first.round})) continue;
    if (batch.size() == 1)
      store.commit_round(kRun, first);
    else
      store.commit_rounds(kRun, batch);
    if (++commits % 25 == 0) {
      const auto n = store.count_rounds(kRun);
      store.update_run_progress(kRun, 0.5 * static_cast<double>(n), 10 * n, 100 * n);
    }
  }
  const auto n = store.count_rounds(kRun);
  store.update_run_progress(kRun, 0.5 * static_cast<double>(n), 10 * n, 100 * n);
  store.finish_run(kRun, "finished", "2026-11-25T23:00:00Z");
}

// Checks a store left by a killed writer: intact, and holding a prefix of the plan made of whole
// batches with every round complete. Returns the number of rounds stored.
size_t check_after_kill(const std::string& path) {
  auto store = Store::open(path, OpenMode::ReadOnly);
  EXPECT_EQ(store.integrity_check(), "ok");
  if (!store.find_run(kRun)) return 0;
  const auto stored = store.rounds(kRun);
  std::map<RoundKey, const RoundRecord*> by_key;
  for (const auto& r : stored) by_key[{r.condition, r.item_id, r.round}] = &r;
  size_t seen = 0;
  bool gap = false;
  for (const auto& batch : commit_plan()) {
    size_t present = 0;
    for (const auto& r : batch) {
      auto found = by_key.find({r.condition, r.item_id, r.round});
      if (found == by_key.end()) continue;
      ++present;
      test::expect_same_round(*found->second, r);
    }
    EXPECT_TRUE(present == 0 || present == batch.size()) << "a batch was stored in part";
    EXPECT_FALSE(gap && present > 0) << "stored rounds are not a prefix of the commit order";
    if (present == 0) gap = true;
    seen += present;
  }
  EXPECT_EQ(seen, stored.size());
  return stored.size();
}

TEST(StoreCrash, KilledWriterLosesOnlyRoundsInFlightAndResumeEqualsUninterrupted) {
  test::ScratchDir dir;
  const auto reference = dir.file("reference.sqlite");
  const auto started = std::chrono::steady_clock::now();
  run_experiment(reference);
  const double full_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  size_t total = 0;
  for (const auto& batch : commit_plan()) total += batch.size();

  const auto path = dir.file("killed.sqlite");
  std::mt19937 rng(20261125);
  // Kill times spread over the whole run (including open and schema creation at the start).
  std::uniform_real_distribution<double> kill_at(0.0, std::max(full_ms * 0.35, 5.0));
  int kills_mid_run = 0;
  size_t previous = 0;
  for (int attempt = 0; attempt < 12; ++attempt) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        run_experiment(path);
      } catch (...) {
        _exit(3);
      }
      _exit(0);
    }
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(kill_at(rng)));
    kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
        << "the writer failed on its own (exit " << WEXITSTATUS(status) << ")";
    const size_t stored = check_after_kill(path);
    EXPECT_GE(stored, previous) << "committed rounds were lost";
    if (WIFSIGNALED(status) && stored > previous && stored < total) ++kills_mid_run;
    std::printf("[ crash    ] kill %d after the writer stored %zu of %zu rounds%s\n", attempt, stored, total,
                WIFSIGNALED(status) ? "" : " (it had finished)");
    previous = stored;
    if (stored == total) break;
  }
  EXPECT_GE(kills_mid_run, 1) << "no kill landed in the middle of the run; the test proved nothing";

  run_experiment(path);  // the final resume, uninterrupted
  EXPECT_EQ(Store::open(path, OpenMode::ReadOnly).integrity_check(), "ok");
  EXPECT_EQ(test::canonical_dump(path), test::canonical_dump(reference));
  EXPECT_EQ(Store::open(path, OpenMode::ReadOnly).count_rounds(kRun), static_cast<int64_t>(total));
}

}  // namespace
}  // namespace isc
