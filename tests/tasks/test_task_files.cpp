// Tests of the task-file reader: every shipped task file loads with the intended settings, and
// malformed task files fail with one line naming file:line:col and what was expected.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "tasks/item_loader.h"
#include "tasks/prompt_render.h"
#include "tasks/task_file.h"

namespace isc::tasks {
namespace {

using test::error_of;
using test::Scratch;
using test::source_path;

TEST(TaskFiles, EveryShippedTaskFileLoadsAndItsItemsRender) {
  for (const char* f : {"tasks/bbq.yaml", "tasks/winogender.yaml", "tasks/wikibio.yaml", "tasks/realtoxicity.yaml",
                        "tasks/jailbreak.yaml", "tasks/examples/generic_mc.yaml", "tasks/examples/generic_open.yaml"}) {
    SCOPED_TRACE(f);
    const TaskSpec t = load_task_file(source_path(f));
    EXPECT_FALSE(t.name.empty());
    EXPECT_FALSE(t.conditions.empty());
    LoadOptions o;
    o.limit = 3;
    const auto items = load_items(t, o);  // also renders every condition's prompts for item 0
    EXPECT_EQ(items.items.size(), 3u);
  }
}

TEST(TaskFiles, BbqSettingsFollowTheReferenceStudy) {
  const TaskSpec t = load_task_file(source_path("tasks/bbq.yaml"));
  EXPECT_EQ(t.name, "bbq");
  EXPECT_EQ(t.kind, TaskKind::multiple_choice);
  EXPECT_EQ(t.rounds, 5);
  EXPECT_EQ(t.max_new_tokens_round1, 125);
  EXPECT_EQ(t.max_new_tokens_roundk, 8);
  EXPECT_EQ(t.option_labels, (std::vector<std::string>{"(a)", "(b)", "(c)"}));
  std::vector<std::string> names;
  for (const auto& c : t.conditions) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"baseline", "self-correct", "negation", "hint", "intervention"}));
  EXPECT_EQ(t.condition("self-correct").round1_prefill, "The single most likely answer choice is");
  EXPECT_NE(error_of([&] { t.condition("nope"); }).find("no condition 'nope'"), std::string::npos);
}

TEST(TaskFiles, JsonTaskFileIsAccepted) {
  Scratch s;
  s.write("d.jsonl", "{\"question\":\"q?\",\"options\":[\"x\",\"y\"],\"answer\":0}\n");
  const std::string f = s.write("t.json", R"J({"name": "j", "kind": "multiple_choice",
    "dataset": {"format": "mc_jsonl", "path": "d.jsonl"}, "options": {"labels": ["(a)", "(b)"]},
    "conditions": [{"name": "c", "round1": "{question} {choices}."}]})J");
  const TaskSpec t = load_task_file(f);
  const auto items = load_items(t);
  ASSERT_EQ(items.items.size(), 1u);
  EXPECT_EQ(render_user_turn(t, t.conditions[0], items.items[0], 1), "q? (a) x (b) y.");
}

struct BadTask {
  const char* text;
  const char* expected;  // substring of the error
};

class MalformedTaskFile : public ::testing::TestWithParam<BadTask> {};

TEST_P(MalformedTaskFile, FailsWithPosition) {
  Scratch s;
  const std::string f = s.write("t.yaml", GetParam().text);
  const std::string e = error_of([&] { load_task_file(f); });
  EXPECT_NE(e.find(f + ":"), std::string::npos) << e;
  EXPECT_NE(e.find(GetParam().expected), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << "one line: " << e;
}

constexpr const char* kHead =
    "name: t\nkind: multiple_choice\ndataset: {format: mc_jsonl, path: d.jsonl}\noptions: {labels: [\"(a)\", \"(b)\"]}\n";

INSTANTIATE_TEST_SUITE_P(
    TaskFiles, MalformedTaskFile,
    ::testing::Values(
        BadTask{"name: [unclosed\n", "t.yaml:"},
        BadTask{"name: t\nkind: essay\n", ":2:7: unknown kind 'essay'"},
        BadTask{"just a string\n", "expected a map for a task file"},
        BadTask{"", "expected a map for a task file"},
        BadTask{"? [a, b]\n: 1\n", "expected a plain key"},
        BadTask{"name: t\nkind: multiple_choice\nconditions: []\n", "needs a 'dataset' map"},
        BadTask{"name: t\nkind: multiple_choice\ndataset: {format: parquet, path: x}\n", "unknown dataset format 'parquet'"},
        BadTask{"name: t\nkind: multiple_choice\ndataset: {format: mc_jsonl, path: d.jsonl}\nconditions: [{name: c, round1: x}]\n",
                "needs options.labels"},
        BadTask{"name: t\nkind: multiple_choice\ndataset: {format: mc_jsonl, path: d.jsonl}\noptions: {labels: [\"(a)\"]}\n"
                "roundz: 3\nconditions: [{name: c, round1: x}]\n",
                ":5:1: unknown key 'roundz'"},
        BadTask{"name: t\nkind: multiple_choice\ndataset: {format: mc_jsonl, path: d.jsonl}\noptions: {labels: [\"(a)\"]}\n"
                "rounds: many\nconditions: [{name: c, round1: x}]\n",
                ":5:9: expected an integer for 'rounds'"},
        BadTask{"name: t\nkind: multiple_choice\ndataset: {format: mc_jsonl, path: d.jsonl}\noptions: {labels: [\"(a)\"]}\n"
                "rounds: 0\nconditions: [{name: c, round1: x}]\n",
                "expected a positive integer for 'rounds'"},
        BadTask{"name: t\nkind: multiple_choice\ndataset: {format: mc_jsonl, path: d.jsonl}\noptions: {labels: [\"(a)\"]}\n"
                "conditions: [{name: c, round1: \"{question\"}]\n",
                "condition 'c' round1: unterminated or malformed placeholder"},
        BadTask{"name: t\nkind: multiple_choice\ndataset: {format: mc_jsonl, path: d.jsonl}\noptions: {labels: [\"(a)\"]}\n"
                "rounds: 2\nconditions: [{name: c, round1: x}]\n",
                "has no roundk prompt"},
        BadTask{"name: t\nkind: multiple_choice\ndataset: {format: mc_jsonl, path: d.jsonl}\noptions: {labels: [\"(a)\"]}\n"
                "conditions: [{name: c, round1: x}, {name: c, round1: y}]\n",
                "condition 'c' defined twice"},
        BadTask{"name: t\nkind: multiple_choice\ndataset: {format: mc_jsonl, path: d.jsonl}\noptions: {labels: [\"(a)\"]}\n"
                "conditions: [{name: c}]\n",
                "has no round1 prompt"},
        BadTask{"name: t\nkind: multiple_choice\ndataset: {format: mc_jsonl, path: d.jsonl}\noptions: {labels: [\"(a)\"]}\n"
                "parser: {kind: regex}\nconditions: [{name: c, round1: x}]\n",
                "unknown parser 'regex'"}));

TEST(TaskFiles, MissingFileIsAnError) {
  EXPECT_NE(error_of([] { load_task_file("/nonexistent/task.yaml"); }).find("file not found"), std::string::npos);
}

TEST(TaskFiles, UnknownPlaceholderNamesTaskFileConditionAndPlaceholder) {
  Scratch s;
  s.write("d.jsonl", "{\"question\":\"q?\",\"options\":[\"x\",\"y\"],\"answer\":0}\n");
  const std::string f = s.write("t.yaml", std::string(kHead) + "conditions: [{name: c, round1: \"{question} {colour}\"}]\n");
  const TaskSpec t = load_task_file(f);  // syntax is fine; the placeholder is unknown for these items
  const std::string e = error_of([&] { load_items(t); });
  EXPECT_NE(e.find(f + ": condition 'c' round1: unknown placeholder {colour}"), std::string::npos) << e;
}

TEST(TaskFiles, DataPathNotFoundNamesTheDatasetEntry) {
  Scratch s;
  const std::string f = s.write("t.yaml", std::string(kHead) + "conditions: [{name: c, round1: x}]\n");
  const std::string e = error_of([&] { load_items(load_task_file(f)); });
  EXPECT_NE(e.find(f + ":3:10: dataset 'd.jsonl' not found"), std::string::npos) << e;
}

}  // namespace
}  // namespace isc::tasks
