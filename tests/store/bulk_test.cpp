// Many rounds: 20,000 round rows written (2,000 one transaction each, the rest in batches) and read
// back intact. Timings are printed for the record, never asserted (DESIGN §6).
#include <chrono>

#include <gtest/gtest.h>

#include "store/store.h"
#include "store_test_util.h"

namespace isc {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(StoreBulk, TwentyThousandRounds) {
  test::ScratchDir dir;
  auto store = Store::open(dir.file("bulk.sqlite"), OpenMode::CreateOrOpen);
  constexpr int kItems = 2000, kRounds = 5;
  auto run = test::sample_run("bulk", kRounds);
  store.create_run(run);
  store.add_items("bulk", test::sample_items(kItems));

  // Baseline round 1: one transaction per round, as the runner commits a finished (item, round).
  // Only 2,000 of them: each waits for an fsync (synchronous=FULL), milliseconds on a busy disk.
  auto start = std::chrono::steady_clock::now();
  for (int item = 0; item < kItems; ++item) store.commit_round("bulk", test::sample_round("baseline", item, 1, 125));
  const double single = seconds_since(start);

  // The other 18,000 rounds in batches of 100 per transaction.
  start = std::chrono::steady_clock::now();
  std::vector<RoundRecord> batch;
  for (const char* condition : {"baseline", "self-correct"})
    for (int round = 1; round <= kRounds; ++round)
      for (int item = 0; item < kItems; ++item) {
        if (round == 1 && std::string(condition) == "baseline") continue;
        batch.push_back(test::sample_round(condition, item, round, round == 1 ? 125 : 8));
        if (batch.size() == 100) {
          store.commit_rounds("bulk", batch);
          batch.clear();
        }
      }
  const double batched = seconds_since(start);

  start = std::chrono::steady_clock::now();
  const auto back = store.rounds("bulk");
  const double read = seconds_since(start);
  ASSERT_EQ(back.size(), 2u * kItems * kRounds);
  EXPECT_EQ(store.count_rounds("bulk"), 2 * kItems * kRounds);
  size_t i = 0;
  for (const char* condition : {"baseline", "self-correct"})
    for (int item = 0; item < kItems; ++item)
      for (int round = 1; round <= kRounds; ++round, ++i)
        if (i % 97 == 0) test::expect_same_round(back[i], test::sample_round(condition, item, round, round == 1 ? 125 : 8));

  start = std::chrono::steady_clock::now();
  const auto done = store.completed("bulk");
  const double keys = seconds_since(start);
  EXPECT_EQ(done.size(), back.size());
  std::printf("[ timing   ] %d rounds one per transaction: %.2fs (%.0f/s); %d in batches of 100: %.2fs (%.0f/s); "
              "read back %zu rounds: %.2fs; completed(): %.3fs\n",
              kItems, single, kItems / single, 9 * kItems, batched, 9 * kItems / batched, back.size(), read, keys);
}

}  // namespace
}  // namespace isc
