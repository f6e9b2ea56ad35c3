// The hidden_states and item_probes tables: fp16 storage (exact for representable values, fp32 when a
// value does not fit), order and filters, committed with their rounds, idempotent concept scores.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "common/half.h"
#include "store/store.h"
#include "store_test_util.h"

namespace isc {
namespace {

using test::ScratchDir;
using test::sample_items;
using test::sample_round;
using test::sample_run;

TEST(HiddenStates, StoredWithTheirRoundsAsHalfOrFloat) {
  ScratchDir dir;
  Store store = Store::open(dir.file("s.sqlite"), OpenMode::CreateOrOpen);
  store.create_run(sample_run());
  store.add_items("bbq-run-1", sample_items(2));
  RoundRecord a = sample_round("baseline", 0, 1);
  RoundRecord b = sample_round("baseline", 1, 1);
  std::vector<float> small = {0.5f, -1.25f, 1024.0f, 3.0e-5f}, big = {1.0f, 70000.0f, -2.0f, 0.1f};
  a.hidden = {{"baseline", a.item_id, 1, "answer", 10, small}, {"baseline", a.item_id, 1, "user_end", 10, small}};
  b.hidden = {{"baseline", b.item_id, 1, "answer", 10, big}};
  store.commit_rounds("bbq-run-1", {a, b});
  EXPECT_EQ(store.count_hidden_states("bbq-run-1"), 3);
  const auto answer = store.hidden_states("bbq-run-1", std::string("answer"));
  ASSERT_EQ(answer.size(), 2u);
  for (size_t i = 0; i < small.size(); ++i)  // fp16: the value rounded to half precision, exactly
    EXPECT_EQ(answer[0].values[i], half_to_float(float_to_half(small[i])));
  EXPECT_EQ(answer[1].values, big);  // 70000 does not fit fp16: kept as fp32, nothing clipped
  EXPECT_EQ(store.hidden_state_kinds("bbq-run-1"),
            (std::vector<std::pair<std::string, int>>{{"answer", 10}, {"user_end", 10}}));
  // a state that does not belong to its round is refused with the round
  RoundRecord c = sample_round("baseline", 0, 2);
  c.hidden = {{"baseline", a.item_id, 1, "answer", 10, small}};
  EXPECT_THROW(store.commit_rounds("bbq-run-1", {c}), Error);
  EXPECT_EQ(store.count_rounds("bbq-run-1"), 2);
}

TEST(ItemProbes, IdempotentAndNeverSilentlyOverwritten) {
  ScratchDir dir;
  Store store = Store::open(dir.file("s.sqlite"), OpenMode::CreateOrOpen);
  store.create_run(sample_run());
  store.add_items("bbq-run-1", sample_items(1));
  const RoundRecord r = sample_round("baseline", 0, 1);
  store.commit_rounds("bbq-run-1", {r});
  ItemProbeRecord p{"baseline", r.item_id, 1, "answer", 10, "bias/mean_diff", 0.25, 0.7};
  store.put_item_probes("bbq-run-1", {p});
  store.put_item_probes("bbq-run-1", {p});  // the same again: no-op
  ASSERT_EQ(store.item_probes("bbq-run-1").size(), 1u);
  EXPECT_EQ(*store.item_probes("bbq-run-1")[0].probability, 0.7);
  ItemProbeRecord q = p;
  q.cosine = 0.3;
  EXPECT_THROW(store.put_item_probes("bbq-run-1", {q}), Error);
  q = p;
  q.round = 2;  // no such round
  EXPECT_THROW(store.put_item_probes("bbq-run-1", {q}), Error);
  q = p;
  q.cosine = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(store.put_item_probes("bbq-run-1", {q}), Error);
  EXPECT_EQ(store.item_probes("bbq-run-1", std::string("other")).size(), 0u);
}

}  // namespace
}  // namespace isc
