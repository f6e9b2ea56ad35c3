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

// Shards are i/N, 0-based; conversation k belongs to shard k mod N, so N shards cover every
// conversation exactly once; the shard survives the stored configuration (resume, merge).
TEST(RunFile, Shards) {
  const ShardSpec s = parse_shard("2/5", "--shard");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 5);
  for (const char* bad : {"5/5", "1", "/2", "1/", "a/2", "-1/2", "1/0", "1/2/3", " 1/2", "9999999/99999999"})
    EXPECT_NE(error_of([&] { parse_shard(bad, "--shard"); }).find("--shard: shard '"), std::string::npos) << bad;
  for (size_t k = 0; k < 23; ++k) {
    int owners = 0;
    for (int i = 0; i < 4; ++i) owners += in_shard(k, ShardSpec{i, 4});
    EXPECT_EQ(owners, 1) << k;
  }
  RunSpec r;
  r.task = "t.yaml";
  EXPECT_FALSE(to_json(r).contains("shard"));  // unsharded runs keep the identity they had
  r.shard = {1, 3};
  const RunSpec back = run_spec_from_json(to_json(r));
  EXPECT_EQ(back.shard.index, 1);
  EXPECT_EQ(back.shard.count, 3);
}

}  // namespace
}  // namespace isc::tasks
