// Round schedules in task files (a condition's user turn and pre-fill replaced in chosen rounds), and
// the run file's hidden-state capture and steering entries with their errors.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "tasks/item_loader.h"
#include "tasks/prompt_render.h"
#include "tasks/run_file.h"
#include "tasks/task_file.h"

namespace isc::tasks {
namespace {

using test::error_of;
using test::Scratch;
using test::source_path;

TEST(RoundSchedule, BbqInterventionInjectsTheOppositeInstructionAtRounds258) {
  const TaskSpec t = load_task_file(source_path("tasks/bbq.yaml"));
  const Condition& c = t.condition("intervention");
  const Condition& sc = t.condition("self-correct");
  LoadOptions lo;
  lo.limit = 1;
  const TaskItem item = load_items(t, lo).items.at(0);
  EXPECT_EQ(render_user_turn(t, c, item, 1), render_user_turn(t, sc, item, 1));
  for (int r : {2, 5, 8}) {
    EXPECT_NE(render_user_turn(t, c, item, r).find("based on stereotypes"), std::string::npos) << r;
    EXPECT_NE(render_prefill(t, c, item, r).find("most stereotypical"), std::string::npos) << r;
  }
  for (int r : {3, 4, 6, 7, 9, 10}) {
    EXPECT_EQ(render_user_turn(t, c, item, r), render_user_turn(t, sc, item, r)) << r;
    EXPECT_EQ(render_prefill(t, c, item, r), render_prefill(t, sc, item, r)) << r;
  }
}

TEST(RoundSchedule, Errors) {
  Scratch s;
  s.write("d.jsonl", "{\"question\":\"q?\",\"options\":[\"x\",\"y\"],\"answer\":0}\n");
  const std::string head =
      "name: t\nkind: multiple_choice\ndataset: {format: mc_jsonl, path: d.jsonl}\noptions: {labels: [\"(a)\", \"(b)\"]}\n"
      "rounds: 3\nconditions:\n  - name: c\n    round1: \"{question}\"\n    roundk: again\n";
  auto err = [&](const std::string& tail) { return error_of([&] { load_task_file(s.write("t.yaml", head + tail)); }); };
  EXPECT_NE(err("    schedule:\n      - {rounds: [2], user: x, extra: 1}\n").find("unknown key 'extra'"), std::string::npos);
  EXPECT_NE(err("    schedule:\n      - {user: x}\n").find("needs 'rounds'"), std::string::npos);
  EXPECT_NE(err("    schedule:\n      - {rounds: [0], user: x}\n").find("round must be in 1..10000"), std::string::npos);
  EXPECT_NE(err("    schedule:\n      - {rounds: [two], user: x}\n").find("expected a round number"), std::string::npos);
  EXPECT_NE(err("    schedule:\n      - {rounds: [2]}\n").find("needs 'user' and/or 'prefill'"), std::string::npos);
  EXPECT_NE(err("    schedule:\n      - {rounds: [2], user: a}\n      - {rounds: 2, user: b}\n").find("scheduled twice"),
            std::string::npos);
  EXPECT_NE(err("    schedule:\n      - {rounds: [2], user: \"{nope\"}\n").find("schedule round 2"), std::string::npos);
  const TaskSpec ok = load_task_file(s.write("t.yaml", head + "    schedule:\n      - {rounds: 3, prefill: P}\n"));
  const TaskItem item = load_items(ok).items.at(0);
  EXPECT_EQ(render_prefill(ok, ok.conditions[0], item, 3), "P");
  EXPECT_EQ(render_user_turn(ok, ok.conditions[0], item, 3), "again");  // user turn kept
}

TEST(LayerList, ParsesAllListsAndRanges) {
  EXPECT_EQ(parse_layer_list("all", 3, "x"), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(parse_layer_list("3,1-2, 1", 30, "x"), (std::vector<int>{1, 2, 3}));
  EXPECT_NE(error_of([] { parse_layer_list("31", 30, "where"); }).find("where: layer 31 outside 0..30"), std::string::npos);
  EXPECT_NE(error_of([] { parse_layer_list("5-2", 30, "w"); }).find("empty layer range"), std::string::npos);
  EXPECT_NE(error_of([] { parse_layer_list("a", 30, "w"); }).find("is not a number"), std::string::npos);
  EXPECT_NE(error_of([] { parse_layer_list("1,,2", 30, "w"); }).find("is not a number"), std::string::npos);
}

TEST(RunFileCapture, HiddenAndSteerEntriesRoundTripThroughJson) {
  Scratch s;
  s.write("t.yaml", "name: t\n");
  const RunSpec r = load_run_file(s.write("r.yaml", "task: t.yaml\nhidden: {layers: [1, \"3-4\"], positions: [answer, user_end]}\n"
      "steer:\n  - {name: up, base: b, direction: d.json, layers: [2], strength: -1.5, positions: generation, rounds: [2, 3]}\n"));
  EXPECT_EQ(r.hidden.layers_spec, "1,3-4");
  EXPECT_EQ(r.hidden.positions, (std::vector<std::string>{"answer", "user_end"}));
  ASSERT_EQ(r.steer.size(), 1u);
  EXPECT_EQ(r.steer[0].strength, -1.5);
  EXPECT_EQ(r.steer[0].rounds, (std::vector<int>{2, 3}));
  const RunSpec back = run_spec_from_json(to_json(r));
  EXPECT_EQ(to_json(back), to_json(r));
  auto err = [&](const std::string& text) { return error_of([&] { load_run_file(s.write("r.yaml", "task: t.yaml\n" + text)); }); };
  EXPECT_NE(err("hidden: {positions: [middle]}\n").find("hidden position 'middle'"), std::string::npos);
  EXPECT_NE(err("steer:\n  - {name: a, base: b, direction: d}\n").find("needs 'strength'"), std::string::npos);
  EXPECT_NE(err("steer:\n  - {name: a, base: b, direction: d, strength: 1, positions: all}\n").find("expected turn or generation"),
            std::string::npos);
  EXPECT_NE(err("steer:\n  - {name: a, base: b, direction: d, strength: 1}\n  - {name: a, base: b, direction: d, strength: 2}\n")
                .find("defined twice"), std::string::npos);
  EXPECT_NE(err("steer:\n  - {name: a, base: b, direction: d, strength: 1, wat: 2}\n").find("unknown key 'wat'"), std::string::npos);
}

}  // namespace
}  // namespace isc::tasks
