// Run-file tests: the shipped example resolves its task and model, and malformed run files fail
// with file:line:col.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "tasks/run_file.h"

namespace isc::tasks {
namespace {

using test::error_of;
using test::Scratch;
using test::source_path;

TEST(RunFile, ShippedExample) {
  const RunSpec r = load_run_file(source_path("runs/bbq-selfcorrect.yaml"));
  EXPECT_NE(r.task.find("tasks/bbq.yaml"), std::string::npos);
  EXPECT_NE(r.model.find("models/SmolLM2-135M-Instruct.Q4_1.gguf"), std::string::npos);
  EXPECT_EQ(r.conditions, (std::vector<std::string>{"baseline", "self-correct"}));
  EXPECT_EQ(r.rounds, 5);
  EXPECT_EQ(r.limit, 200);
  EXPECT_TRUE(r.shuffle);
  EXPECT_EQ(r.seed, 1234u);
  EXPECT_EQ(r.sampling.temperature, 0.0);
  EXPECT_EQ(r.max_batch, 64);
  EXPECT_EQ(r.out, "results/bbq-selfcorrect.sqlite");
  EXPECT_EQ(to_json(r)["conditions"][1], "self-correct");
}

TEST(RunFile, Errors) {
  Scratch s;
  s.write("t.yaml", "name: t\n");
  auto err = [&](const std::string& text) { return error_of([&] { load_run_file(s.write("r.yaml", text)); }); };
  const std::string f = s.path("r.yaml");
  EXPECT_NE(err("model: m\n").find(f + ":1:1: a run file needs key 'task'"), std::string::npos);
  EXPECT_NE(err("task: missing.yaml\n").find(f + ":1:7: task file 'missing.yaml' not found"), std::string::npos);
  EXPECT_NE(err("task: t.yaml\nlimt: 3\n").find(f + ":2:1: unknown key 'limt'"), std::string::npos);
  EXPECT_NE(err("task: t.yaml\nrounds: -1\n").find(f + ":2:9: expected 'rounds' in 0..10000"), std::string::npos);
  EXPECT_NE(err("task: t.yaml\nsampling: {top_p: 0}\n").find("expected 'top_p' in (0, 1]"), std::string::npos);
  EXPECT_NE(err("task: t.yaml\nsampling: {temperature: hot}\n").find("expected a number for 'temperature'"), std::string::npos);
  EXPECT_NE(err("task: t.yaml\nshuffle: maybe\n").find("expected true or false for 'shuffle'"), std::string::npos);
  EXPECT_NE(err("task: t.yaml\nbackend: openai\n").find("needs backend_url"), std::string::npos);
  EXPECT_NE(err("task: t.yaml\nconditions: {a: 1}\n").find("expected a list of strings for 'conditions'"), std::string::npos);
  EXPECT_NE(err("task: [t.yaml\n").find(f + ":"), std::string::npos);
  const RunSpec ok = load_run_file(s.write("r.yaml", "task: t.yaml\ncategories: Age\n"));
  EXPECT_EQ(ok.categories, (std::vector<std::string>{"Age"}));
  EXPECT_EQ(ok.model, "");
}

}  // namespace
}  // namespace isc::tasks
