// The task-side pieces of sampled uncertainty and the generation tasks: the run file's samples
// entry, the entailment prompt file, text-line datasets, the word-list scorer, and the shipped
// debiasing and detoxification tasks.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "tasks/entailment_judge.h"
#include "tasks/item_loader.h"
#include "tasks/run_file.h"
#include "tasks/score.h"
#include "tasks/task_file.h"

namespace isc::tasks {
namespace {

using test::error_of;
using test::Scratch;
using test::source_path;

TEST(RunFileSamples, ParsedRoundTrippedAndChecked) {
  Scratch s;
  s.write("t.yaml", "name: t\n");
  const RunSpec r = load_run_file(s.write(
      "r.yaml", "task: t.yaml\nsamples: {n: 5, temperature: 0.7, top_p: 0.9, max_new_tokens: 20, entailment: judge}\n"));
  EXPECT_EQ(r.samples.n, 5);
  EXPECT_EQ(r.samples.temperature, 0.7);
  EXPECT_EQ(r.samples.top_p, 0.9);
  EXPECT_EQ(r.samples.max_new_tokens, 20);
  EXPECT_EQ(r.samples.entailment, "judge");
  const RunSpec back = run_spec_from_json(to_json(r));
  EXPECT_EQ(to_json(back), to_json(r));
  auto err = [&](const std::string& text) { return error_of([&] { load_run_file(s.write("r.yaml", text)); }); };
  const std::string f = s.path("r.yaml");
  EXPECT_NE(err("task: t.yaml\nsamples: {n: 65}\n").find(f + ":2:14: expected 'n' in 0..64"), std::string::npos);
  EXPECT_NE(err("task: t.yaml\nsamples: {n: 2, temperature: 0}\n").find("expected 'temperature' > 0"), std::string::npos);
  EXPECT_NE(err("task: t.yaml\nsamples: {n: 2, entailment: nli}\n").find("samples entailment 'nli' (expected exact or judge)"),
            std::string::npos);
  EXPECT_NE(err("task: t.yaml\nsamples: {n: 2, sample: 3}\n").find("unknown key 'sample'"), std::string::npos);
  EXPECT_NE(err("task: t.yaml\nsamples: {n: 2, entailment_prompt: nope.yaml}\n").find("prompt file 'nope.yaml' not found"),
            std::string::npos);
}

TEST(EntailmentPrompt, ShippedFileAndErrors) {
  const EntailmentPrompt p = load_entailment_prompt(source_path("prompts/entailment.yaml"));
  EXPECT_EQ(p.labels, (std::vector<std::string>{"entailment", "neutral", "contradiction"}));
  EXPECT_EQ(p.entails, "entailment");
  EXPECT_EQ(p.sha256.size(), 64u);
  Scratch s;
  auto err = [&](const std::string& text) { return error_of([&] { load_entailment_prompt(s.write("p.yaml", text)); }); };
  const std::string f = s.path("p.yaml");
  EXPECT_NE(err("user: \"{a} and {b}\"\nlabels: [yes]\nentails: yes\n").find(f + ":2:9: expected at least two labels"),
            std::string::npos);
  EXPECT_NE(err("user: \"{a} and {b}\"\nlabels: [yes, no]\nentails: maybe\n").find("'maybe' is not one of the labels"),
            std::string::npos);
  EXPECT_NE(err("user: \"{a} and {c}\"\nlabels: [yes, no]\nentails: yes\n").find("unknown placeholder {c}"),
            std::string::npos);
  EXPECT_NE(err("user: \"{a}\"\nlabels: [yes, no]\nentails: yes\n").find("needs both {a} and {b}"), std::string::npos);
  EXPECT_NE(err("user: \"{a} {b}\"\nlabels: [yes, yes]\nentails: yes\n").find("listed twice"), std::string::npos);
  EXPECT_NE(err("user: [\n").find(f + ":"), std::string::npos);
}

TEST(WordListScorer, SharesOfListedWords) {
  const std::vector<std::string> words = {"he", "her", "his", "she"};
  const auto a = word_list_share(words, "She said his plan -- and HER idea -- worked.");
  EXPECT_EQ(a.words, 8u);  // she said his plan and her idea worked
  EXPECT_EQ(a.listed, 3u);
  EXPECT_EQ(word_list_share(words, "They said their plan worked.").listed, 0u);
  EXPECT_EQ(word_list_share(words, "").words, 0u);
  EXPECT_EQ(word_list_share(words, "she's 'he' hers").listed, 1u);  // "she's" and "hers" are other words
  EXPECT_EQ(word_list_share(words, "naïve he").words, 2u);
}

TEST(DebiasingTask, LoadsScoresAndDefaultsToTenRounds) {
  const TaskSpec t = load_task_file(source_path("tasks/debiasing.yaml"));
  EXPECT_EQ(t.rounds, 10);
  EXPECT_EQ(t.scorer, "word_list");
  EXPECT_GT(t.scorer_words.size(), 50u);
  LoadOptions o;
  o.limit = 5;
  const LoadedItems items = load_items(t, o);
  ASSERT_EQ(items.items.size(), 5u);
  EXPECT_EQ(items.items[0].item_id, "line 1");
  EXPECT_NE(items.items[0].fields.at("text").get<std::string>().find("hers re-alignment"), std::string::npos);
  ParsedAnswer neutral{-1, "In furtherance of their re-alignment, the army moved.", true};
  ParsedAnswer gendered{-1, "In furtherance of her re-alignment, he moved.", true};
  ParsedAnswer empty{-1, "", false};
  const Score a = score_answer(t, items.items[0], neutral), b = score_answer(t, items.items[0], gendered),
              c = score_answer(t, items.items[0], empty);
  EXPECT_EQ(*a.value, 0.0);
  EXPECT_TRUE(*a.correct);
  EXPECT_DOUBLE_EQ(*b.value, 2.0 / 7.0);  // in furtherance of her re-alignment he moved
  EXPECT_FALSE(*b.correct);
  EXPECT_EQ(*c.value, 1.0);  // an empty rewrite is the worst, never correct
  EXPECT_FALSE(*c.correct);
  EXPECT_DOUBLE_EQ(*answer_quality(t, b.correct, b.value), 1.0 - 2.0 / 7.0);
  EXPECT_EQ(load_task_file(source_path("tasks/realtoxicity.yaml")).rounds, 10);
}

TEST(DebiasingTask, WordListErrors) {
  Scratch s;
  const std::string base =
      "name: d\nkind: open_generation\ndataset: {format: text_lines, path: x.txt}\nparser: {kind: completion}\n"
      "conditions:\n  - name: c\n    round1: \"{text}\"\n";
  EXPECT_NE(error_of([&] { load_task_file(s.write("a.yaml", base + "scorer: word_list\n")); })
                .find("scorer word_list needs a 'word_list' file"),
            std::string::npos);
  s.write("w.txt", "he\nnot a word\n");
  EXPECT_NE(error_of([&] { load_task_file(s.write("b.yaml", base + "scorer: word_list\nword_list: w.txt\n")); })
                .find(s.path("w.txt") + ":2: expected one word a line"),
            std::string::npos);
  s.write("e.txt", "# nothing\n\n");
  EXPECT_NE(error_of([&] { load_task_file(s.write("c.yaml", base + "scorer: word_list\nword_list: e.txt\n")); })
                .find("the word list is empty"),
            std::string::npos);
  // one round by default when the task has no review prompt
  EXPECT_EQ(load_task_file(s.write("d.yaml", base)).rounds, 1);
}

}  // namespace
}  // namespace isc::tasks
