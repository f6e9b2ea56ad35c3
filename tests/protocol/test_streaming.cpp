// No round barrier, on the real default model: streamed turns join the forward passes of turns in
// flight and give the results they give alone, and a pooled run stores the rows of a run that takes
// one conversation at a time (also when it is killed and resumed).
#include <filesystem>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "backend/embedded.h"
#include "protocol/experiment.h"
#include "protocol/runner.h"
#include "run_fixture.h"
#include "store/store.h"

namespace isc {
namespace {

using test::backend;
using test::model_path;
using test::quiet;
using test::temp_store;

TurnRequest turn(uint64_t conversation, const std::string& user, int max_new_tokens) {
  TurnRequest q;
  q.conversation = conversation;
  q.user_message = user;
  q.assistant_prefill = "1, 2, 3,";
  q.sampling.max_new_tokens = max_new_tokens;
  q.sampling.top_logprobs = 2;
  q.score_continuations = {" (a)", " (b)"};
  return q;
}

// Everything a turn's result holds but its timing.
std::string result_row(const TurnResult& r) {
  nlohmann::json toks = nlohmann::json::array();
  for (const GeneratedToken& t : r.tokens) {
    nlohmann::json top = nlohmann::json::array();
    for (const TokenAlternative& a : t.top) top.push_back({a.id, a.logprob});
    toks.push_back({t.id, t.logprob, top});
  }
  return nlohmann::json{{"text", r.text},           {"tokens", toks},
                        {"finish", r.finish_reason}, {"prompt", r.prompt_tokens},
                        {"context", r.context_tokens}, {"prefilled", r.prefilled_tokens},
                        {"cont", r.continuation_logprobs}, {"kept", r.cache_kept},
                        {"cached", r.generated_cached}}
      .dump();
}

// A count that goes on for all its tokens, and answers of two tokens.
const char* kLong = "Count from 1 to 200, separated by commas. Is counting (a) easy or (b) hard?";
const char* kShort = "Say yes. Is the sky (a) blue or (b) green?";
const char* kReview = "Review your previous answer and answer again.";

TEST(EmbeddedStreaming, ANextTurnJoinsWhileAnotherIsStillGenerating) {
  EmbeddedBackend& b = backend();
  // Each conversation alone, through run_turns.
  auto alone = [&](const std::vector<TurnRequest>& turns) {
    const uint64_t id = b.open_conversation();
    std::vector<std::string> rows;
    for (TurnRequest q : turns) {
      q.conversation = id;
      rows.push_back(result_row(b.run_turns({q})[0]));
    }
    b.close_conversation(id);
    return rows;
  };
  const std::vector<std::string> long_alone = alone({turn(0, kLong, 40)});
  const std::vector<std::string> short_alone = alone({turn(0, kShort, 2), turn(0, kReview, 2)});

  const uint64_t a = b.open_conversation(), s = b.open_conversation();
  b.submit_turn(turn(a, kLong, 40));
  b.submit_turn(turn(s, kShort, 2));
  std::vector<FinishedTurn> first = b.collect(1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].request.conversation, s);  // the short one is done, the long one generating
  EXPECT_EQ(result_row(first[0].result), short_alone[0]);
  // its review turn starts at once and finishes while the long turn is still generating
  b.submit_turn(turn(s, kReview, 2));
  std::vector<FinishedTurn> second = b.collect(1);
  ASSERT_EQ(second.size(), 1u);
  ASSERT_EQ(second[0].request.conversation, s);
  EXPECT_EQ(result_row(second[0].result), short_alone[1]);
  // a batched call (a judge on the run's own model) runs alongside as well
  const uint64_t j = b.open_conversation();
  const TurnResult judged = b.run_turns({turn(j, kShort, 2)})[0];
  b.close_conversation(j);
  EXPECT_EQ(result_row(judged), short_alone[0]);
  std::vector<FinishedTurn> last = b.collect(1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].request.conversation, a);
  EXPECT_EQ(result_row(last[0].result), long_alone[0]);
  EXPECT_TRUE(b.collect(1).empty());  // nothing left in flight

  // A conversation closed with its turn in flight takes nothing further from the engine.
  b.submit_turn(turn(a, kReview, 40));
  b.close_conversation(a);
  b.close_conversation(s);
  EXPECT_TRUE(b.collect(1).empty());
  EXPECT_TRUE(b.engine().idle());
}

// Every stored field of every round but its timing, with its hidden states and samples, keyed by
// (condition, item, round) in the store's order; then the run's token totals.
std::vector<std::string> stored_rows(const Store& s, const std::string& run_id) {
  std::vector<std::string> out;
  for (const RoundRecord& r : s.rounds(run_id)) {
    nlohmann::json toks = nlohmann::json::array();
    for (const TokenRecord& t : r.tokens) toks.push_back({t.id, t.text, t.logprob, t.top});
    out.push_back(nlohmann::json{{"c", r.condition}, {"i", r.item_id}, {"r", r.round}, {"u", r.user_message},
                                 {"pre", r.assistant_prefill}, {"p", r.prompt_tokens}, {"g", r.generated_text},
                                 {"t", toks}, {"f", r.finish_reason}, {"pa", r.parsed_answer}, {"a", r.answer_index},
                                 {"o", r.option_probs}, {"ok", r.correct ? int(*r.correct) : -1},
                                 {"s", r.score ? *r.score : -1.0}, {"x", r.extra}, {"ctx", r.context_tokens}}
                      .dump());
  }
  for (const HiddenStateRecord& h : s.hidden_states(run_id))
    out.push_back(nlohmann::json{{"c", h.condition}, {"i", h.item_id}, {"r", h.round}, {"pos", h.position},
                                 {"l", h.layer}, {"v", h.values}}
                      .dump());
  for (const SampleRecord& m : s.samples(run_id)) {
    nlohmann::json toks = nlohmann::json::array();
    for (const TokenRecord& t : m.tokens) toks.push_back({t.id, t.logprob});
    out.push_back(nlohmann::json{{"c", m.condition}, {"i", m.item_id}, {"r", m.round}, {"k", m.sample},
                                 {"seed", m.seed}, {"g", m.generated_text}, {"t", toks}, {"f", m.finish_reason},
                                 {"a", m.answer_index}, {"s", m.score ? *m.score : -1.0}, {"cl", m.cluster}}
                      .dump());
  }
  const RunRecord run = *s.find_run(run_id);
  out.push_back(fmt::format("status {} generated {} prefilled {}", run.status, run.generated_tokens,
                            run.prefilled_tokens));
  return out;
}

// BBQ, both conditions, 3 rounds, hidden states and two samples a round; round 1 generates up to
// 24 tokens and review rounds up to 4, so some conversations reach round 2 while others are
// still in round 1.
protocol::Experiment small_run() {
  tasks::RunSpec s;
  s.task = std::string(ISC_SOURCE_DIR) + "/tasks/bbq.yaml";
  s.model = model_path();
  s.conditions = {"baseline", "self-correct"};
  s.rounds = 3;
  s.limit = 3;
  s.shuffle = true;
  s.seed = 5;
  s.hidden.layers = {3, 30};
  s.samples.n = 2;
  s.samples.max_new_tokens = 4;
  protocol::Experiment e = protocol::prepare_experiment(s);
  e.task.max_new_tokens_round1 = 24;
  e.task.max_new_tokens_roundk = 4;
  return e;
}

struct FinishedRun {
  std::vector<std::string> rows;
  protocol::RunStats stats;
};

FinishedRun run_whole(const std::string& name, int pool) {
  const std::string path = temp_store(name);
  Store store = Store::open(path, OpenMode::CreateOrOpen);
  protocol::Experiment e = small_run();
  protocol::record_experiment(store, e, backend().info());
  FinishedRun r;
  r.stats = protocol::run_experiment(backend(), store, e, quiet(pool));
  EXPECT_TRUE(r.stats.complete);
  r.rows = stored_rows(store, e.run_id);
  std::filesystem::remove(path);
  return r;
}

// One conversation at a time: no schedule to depend on.
const FinishedRun& reference_run() {
  static const FinishedRun r = run_whole("one-at-a-time", 1);
  return r;
}

void expect_same_rows(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "row " << i;
}

TEST(StreamingRuns, APoolStoresTheRowsOfOneConversationAtATime) {
  const FinishedRun& one = reference_run();
  ASSERT_EQ(one.rows.size(), 18u + 18u * 2 + 18u * 2 + 1);  // rounds, hidden states, samples, totals
  EXPECT_EQ(one.stats.rounds_started_ahead, 0);  // alone, nothing else is ever in flight
  const FinishedRun pool = run_whole("pool", 4);
  // the barrier is gone: some conversation started a round while another's earlier round ran
  EXPECT_GT(pool.stats.rounds_started_ahead, 0);
  EXPECT_EQ(pool.stats.rounds_committed, one.stats.rounds_committed);
  EXPECT_EQ(pool.stats.generated_tokens, one.stats.generated_tokens);
  EXPECT_EQ(pool.stats.prefilled_tokens, one.stats.prefilled_tokens);
  expect_same_rows(pool.rows, one.rows);
}

TEST(StreamingRuns, AStreamedRunKilledMidwayResumesToTheSameRows) {
  const std::string path = temp_store("killed");
  {
    Store store = Store::open(path, OpenMode::CreateOrOpen);
    protocol::Experiment e = small_run();
    protocol::record_experiment(store, e, backend().info());
    protocol::RunnerOptions o = quiet(4);
    o.stop_after_rounds = 5;  // stops with turns in flight, rounds 1 and 2 mixed
    const protocol::RunStats st = protocol::run_experiment(backend(), store, e, o);
    EXPECT_FALSE(st.complete);
    EXPECT_GE(st.rounds_committed, 5);
    EXPECT_LT(store.count_rounds(e.run_id), 18);
  }
  EXPECT_TRUE(backend().engine().idle());  // the dropped turns left nothing in the engine
  Store store = Store::open(path, OpenMode::CreateOrOpen);
  const std::string id = protocol::unfinished_run_id(store, "");
  protocol::Experiment e = protocol::load_experiment(store, id);
  e.task.max_new_tokens_round1 = 24;  // as small_run() (not part of the stored task file)
  e.task.max_new_tokens_roundk = 4;
  EXPECT_TRUE(protocol::run_experiment(backend(), store, e, quiet(3)).complete);
  expect_same_rows(stored_rows(store, id), reference_run().rows);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace isc
