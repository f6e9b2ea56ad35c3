// End-to-end runs of the multi-round protocol on the real default model: a 3-round BBQ run into a
// fresh store, and an interrupted run resumed to the same rows as an uninterrupted one.
#include <filesystem>

#include <gtest/gtest.h>

#include "backend/embedded.h"
#include "protocol/experiment.h"
#include "protocol/runner.h"
#include "run_fixture.h"
#include "tasks/task_file.h"

namespace isc {
namespace {

using test::backend;
using test::model_path;
using test::quiet;
using test::temp_store;

tasks::RunSpec small_bbq(int limit, int rounds) {
  tasks::RunSpec s;
  s.task = std::string(ISC_SOURCE_DIR) + "/tasks/bbq.yaml";
  s.model = model_path();
  s.conditions = {"baseline", "self-correct"};
  s.rounds = rounds;
  s.limit = limit;
  s.shuffle = true;
  s.seed = 7;
  return s;
}

TEST(Runner, ThreeRoundBbqRunOnTheDefaultModel) {
  const std::string path = temp_store("e2e");
  Store store = Store::open(path, OpenMode::CreateOrOpen);
  protocol::Experiment e = protocol::prepare_experiment(small_bbq(6, 3));
  protocol::record_experiment(store, e, backend().info());
  protocol::RunStats st = protocol::run_experiment(backend(), store, e, quiet(8));
  EXPECT_TRUE(st.complete);
  EXPECT_EQ(st.rounds_committed, 6 * 2 * 3);
  EXPECT_EQ(store.find_run(e.run_id)->status, "finished");

  std::vector<RoundRecord> rounds = store.rounds(e.run_id);
  ASSERT_EQ(rounds.size(), 36u);
  int parsed = 0;
  for (const RoundRecord& r : rounds) {
    ASSERT_EQ(r.option_probs.size(), 3u);
    double sum = 0;
    for (double p : r.option_probs) sum += p;
    EXPECT_NEAR(sum, 1.0, 1e-9);
    EXPECT_TRUE(r.correct.has_value());
    if (r.answer_index >= 0) ++parsed;
    EXPECT_EQ(r.correct.value(), r.answer_index >= 0 && r.answer_index == [&] {
      for (const auto& it : e.items)
        if (it.item_id == r.item_id) return it.gold;
      return -2;
    }());
    if (r.round == 1) {
      EXPECT_EQ(r.assistant_prefill, "The single most likely answer choice is");
      EXPECT_LE(r.tokens.size(), 125u);
    } else {
      EXPECT_LE(r.tokens.size(), 8u);
      EXPECT_EQ(r.assistant_prefill.rfind("By evaluating my previous answer choice", 0), 0u);
      // a review round only adds its own turn: far fewer tokens than the whole history
      EXPECT_LT(static_cast<int64_t>(r.prompt_tokens.size()), r.context_tokens / 2);
    }
    for (const TokenRecord& t : r.tokens) EXPECT_EQ(t.top.size(), 5u);
  }
  EXPECT_GT(parsed, 18);  // the prefill makes the model name an option nearly always
  std::filesystem::remove(path);
}

// Canonical view of a run's rounds, without timing.
std::vector<std::string> canonical(const Store& s, const std::string& run_id) {
  std::vector<std::string> out;
  for (const RoundRecord& r : s.rounds(run_id)) {
    nlohmann::json j = {{"c", r.condition}, {"i", r.item_id}, {"r", r.round}, {"u", r.user_message},
                        {"p", r.prompt_tokens}, {"g", r.generated_text}, {"a", r.answer_index},
                        {"o", r.option_probs}, {"f", r.finish_reason}, {"x", r.context_tokens}};
    std::vector<int32_t> ids;
    for (const auto& t : r.tokens) ids.push_back(t.id);
    j["t"] = ids;
    out.push_back(j.dump());
  }
  return out;
}

TEST(Runner, InterruptedRunResumesToTheSameRows) {
  const std::string a = temp_store("full"), b = temp_store("resumed");
  // uninterrupted
  Store sa = Store::open(a, OpenMode::CreateOrOpen);
  protocol::Experiment ea = protocol::prepare_experiment(small_bbq(5, 3));
  protocol::record_experiment(sa, ea, backend().info());
  protocol::run_experiment(backend(), sa, ea, quiet(4));
  // interrupted after 7 rounds, then resumed in a fresh session (new conversations)
  {
    Store sb = Store::open(b, OpenMode::CreateOrOpen);
    protocol::Experiment eb = protocol::prepare_experiment(small_bbq(5, 3));
    protocol::record_experiment(sb, eb, backend().info());
    protocol::RunnerOptions o = quiet(4);
    o.stop_after_rounds = 7;
    protocol::RunStats st = protocol::run_experiment(backend(), sb, eb, o);
    EXPECT_FALSE(st.complete);
    EXPECT_LT(sb.count_rounds(eb.run_id), 30);
  }
  Store sb = Store::open(b, OpenMode::CreateOrOpen);
  const std::string id = protocol::unfinished_run_id(sb, "");
  protocol::Experiment eb = protocol::load_experiment(sb, id);
  protocol::RunStats st = protocol::run_experiment(backend(), sb, eb, quiet(3));
  EXPECT_TRUE(st.complete);
  const auto ra = canonical(sa, ea.run_id), rb = canonical(sb, id);
  ASSERT_EQ(ra.size(), rb.size());
  for (size_t i = 0; i < ra.size(); ++i) EXPECT_EQ(ra[i], rb[i]) << "row " << i;
  std::filesystem::remove(a);
  std::filesystem::remove(b);
}

}  // namespace
}  // namespace isc
