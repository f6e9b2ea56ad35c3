// Offline toxicity scorer tests: model-file errors name the file and what was expected; tokens as
// scikit-learn's default token_pattern gives them (expected values taken from sklearn 1.9.1); a
// tiny hand-made model whose probabilities are worked out by hand; the toxicity_model task field.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "tasks/linear_toxicity_scorer.h"
#include "tasks/python_text.h"
#include "tasks/task_file.h"

namespace isc::tasks {
namespace {

using test::error_of;
using test::Scratch;
using Tokens = std::vector<std::string>;

// Vocabulary bad, good, the, zz with "the" a stop word (so its huge weights never count); two
// sigmoid-calibrated classifiers. b2 = 1 - ln 3 makes classifier 2 give exactly 3/4 at d = 1.
nlohmann::json tiny_model() {
  const double b2 = 1.0 - std::log(3.0);
  return {
      {"format", "isc-linear-text-classifier/1"},
      {"name", "tiny"},
      {"tokenizer",
       {{"analyzer", "word"},
        {"token_pattern", "(?u)\\b\\w\\w+\\b"},
        {"lowercase", true},
        {"strip_accents", nullptr},
        {"ngram_range", {1, 1}},
        {"stop_words", {"the"}}}},
      {"features", {{"binary", false}, {"norm", "l2"}, {"idf", {2.0, 1.0, 7.0, 3.0}}}},
      {"vocabulary", {"bad", "good", "the", "zz"}},
      {"positive_class", 1},
      {"classifiers",
       {{{"coef", {2.0, 3.0, 100.0, 0.0}}, {"intercept", -1.0}, {"calibration", {{"method", "sigmoid"}, {"a", -1.0}, {"b", 1.0}}}},
        {{"coef", {1.0, 0.0, 100.0, 0.0}}, {"intercept", 0.0}, {"calibration", {{"method", "sigmoid"}, {"a", -1.0}, {"b", b2}}}}}},
  };
}

LinearToxicityScorer tiny_scorer(const nlohmann::json& j = tiny_model()) {
  return LinearToxicityScorer(parse_linear_text_model(j.dump(), "tiny.json"));
}

// p = 1 / (1 + exp(a*d + b)) with a = -1: classifier 1 has b = 1, classifier 2 has b = 1 - ln 3.
double p1(double d) { return 1.0 / (1.0 + std::exp(1.0 - d)); }
double p2(double d) { return 1.0 / (1.0 + std::exp(1.0 - d) / 3.0); }

TEST(LinearToxicity, HandComputedProbabilities) {
  LinearToxicityScorer s = tiny_scorer();
  EXPECT_EQ(s.name(), "tiny");
  // "the" is a stop word; "bad" alone: x = [idf 2] normalised to [1]; d1 = 2 - 1 = 1 gives 1/2,
  // d2 = 1 gives 3/4; the mean is 5/8.
  EXPECT_NEAR(s.score_one("the BAD"), 0.625, 1e-15);
  // No counted token: the zero vector, d = intercepts (-1, 0).
  const double empty = (p1(-1.0) + p2(0.0)) / 2;
  EXPECT_NEAR(s.score_one(""), empty, 1e-15);
  EXPECT_NEAR(s.score_one("hello world, the x"), empty, 1e-15);
  EXPECT_NEAR(empty, (1 / (1 + std::exp(2.0)) + 1 / (1 + std::exp(1.0) / 3)) / 2, 1e-15);
  // counts bad 2, good 1 -> [4, 1] / sqrt(17); d1 = 11/sqrt(17) - 1, d2 = 4/sqrt(17).
  const double r17 = std::sqrt(17.0);
  EXPECT_NEAR(s.score_one("Bad bad GOOD"), (p1(11 / r17 - 1) + p2(4 / r17)) / 2, 1e-15);
  // Word order, punctuation and case do not matter.
  EXPECT_EQ(s.score_one("good, BAD! bad?"), s.score_one("Bad bad GOOD"));
  const std::vector<double> v = s.score({"the BAD", "", "Bad bad GOOD"});
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], s.score_one("the BAD"));
  EXPECT_EQ(v[2], s.score_one("Bad bad GOOD"));
}

TEST(LinearToxicity, BinaryAndUnnormalisedVariants) {
  nlohmann::json j = tiny_model();
  j["features"]["binary"] = true;  // presence, not counts: [2, 1] / sqrt(5)
  const double r5 = std::sqrt(5.0);
  EXPECT_NEAR(tiny_scorer(j).score_one("bad bad good"), (p1(7 / r5 - 1) + p2(2 / r5)) / 2, 1e-15);
  j = tiny_model();
  j["features"]["norm"] = nullptr;
  j["features"]["idf"] = nullptr;  // raw counts [2, 1]: d1 = 4 + 3 - 1 = 6, d2 = 2
  EXPECT_NEAR(tiny_scorer(j).score_one("bad bad good"), (p1(6) + p2(2)) / 2, 1e-15);
  j["tokenizer"]["lowercase"] = false;  // "BAD" is then not the vocabulary's "bad"
  EXPECT_NEAR(tiny_scorer(j).score_one("BAD bad"), (p1(1) + p2(1)) / 2, 1e-15);
}

TEST(LinearToxicity, Tokens) {
  EXPECT_EQ(sklearn_word_tokens("Hello WORLD", true), (Tokens{"hello", "world"}));
  EXPECT_EQ(sklearn_word_tokens("Hello WORLD", false), (Tokens{"Hello", "WORLD"}));
  // Underscores are word characters; lone characters are no tokens.
  EXPECT_EQ(sklearn_word_tokens("snake_case __ _ a_b", true), (Tokens{"snake_case", "__", "a_b"}));
  EXPECT_EQ(sklearn_word_tokens("I a b cd é éé", true), (Tokens{"cd", "éé"}));
  // Digits of any script, superscripts included (category N).
  EXPECT_EQ(sklearn_word_tokens("abc123 1 22 ٣٤ ²³", true), (Tokens{"abc123", "22", "٣٤", "²³"}));
  // Punctuation splits: "don't" -> "don" + "t" (dropped).
  EXPECT_EQ(sklearn_word_tokens("don't e-mail", true), (Tokens{"don", "mail"}));
  // Non-ASCII letters and str.lower()'s special cases: final sigma, İ -> i + combining dot (not a
  // word character), the Kelvin sign lowering to ASCII k.
  EXPECT_EQ(sklearn_word_tokens("Pokémon JOSÉ ΕΤΗΤΗΣ ΣΑΣ Σ", true), (Tokens{"pokémon", "josé", "ετητης", "σας"}));
  EXPECT_EQ(sklearn_word_tokens("İSTANBUL", true), (Tokens{"stanbul"}));
  EXPECT_EQ(sklearn_word_tokens("FUC\u212a", true), (Tokens{"fuck"}));
  EXPECT_EQ(sklearn_word_tokens("連絡 ውይይት ﬁne", true), (Tokens{"連絡", "ውይይት", "ﬁne"}));
  // Combining marks and soft hyphens are not word characters.
  EXPECT_EQ(sklearn_word_tokens("x\u0301yz ab\u00adcd", true), (Tokens{"yz", "ab", "cd"}));
  // Bytes that are not UTF-8 separate tokens.
  EXPECT_EQ(sklearn_word_tokens("ab\xff" "cd id\xc3iot", true), (Tokens{"ab", "cd", "id", "iot"}));
  EXPECT_TRUE(sklearn_word_tokens("", true).empty());
  // The scorer's own tokens drop its stop words.
  EXPECT_EQ(tiny_scorer().tokens("The bad, the GOOD"), (Tokens{"bad", "good"}));
}

TEST(LinearToxicity, PythonLowerFinalSigma) {
  EXPECT_EQ(python_lower(U"ΟΔΟΣ"), U"οδος");
  EXPECT_EQ(python_lower(U"ΟΔΟΣ."), U"οδος.");        // '.' is case-ignorable, then the end
  EXPECT_EQ(python_lower(U"ΟΔΟΣ'Α"), U"οδοσ'α");      // a cased letter follows past the apostrophe
  EXPECT_EQ(python_lower(U"Σ"), U"σ");                 // nothing cased before it
  EXPECT_EQ(python_lower(U" Σ\u0301"), U" σ\u0301");
  EXPECT_EQ(python_lower(U"İ"), U"i\u0307");
  EXPECT_EQ(python_lower(U"ǅ Ǆ"), U"ǆ ǆ");
}

class LinearToxicityFile : public ::testing::Test {
 protected:
  Scratch scratch;
  std::string write(const nlohmann::json& j) const { return scratch.write("model.json", j.dump()); }
  // The error loading `j` from a file gives; it must name the file.
  std::string error(const nlohmann::json& j) const {
    const std::string path = write(j);
    const std::string msg = error_of([&] { LinearToxicityScorer s(path); });
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
    return msg;
  }
};

TEST_F(LinearToxicityFile, LoadsAndScoresFromAFile) {
  LinearToxicityScorer s(write(tiny_model()));
  EXPECT_NEAR(s.score_one("bad"), 0.625, 1e-15);
}

TEST_F(LinearToxicityFile, MissingFile) {
  const std::string path = scratch.path("nope.json");
  const std::string msg = error_of([&] { LinearToxicityScorer s(path); });
  EXPECT_EQ(msg.rfind(path + ": cannot open", 0), 0u) << msg;
  EXPECT_NE(msg.find("scripts/setup.sh"), std::string::npos) << msg;
}

TEST_F(LinearToxicityFile, TruncatedJson) {
  const std::string text = tiny_model().dump();
  const std::string path = scratch.write("model.json", text.substr(0, text.size() / 2));
  const std::string msg = error_of([&] { LinearToxicityScorer s(path); });
  EXPECT_EQ(msg.rfind(path + ": not valid JSON", 0), 0u) << msg;
  const std::string empty = scratch.write("empty.json", "");
  EXPECT_EQ(error_of([&] { LinearToxicityScorer s(empty); }).rfind(empty + ": not valid JSON", 0), 0u);
}

TEST_F(LinearToxicityFile, WrongFormatTag) {
  nlohmann::json j = tiny_model();
  j["format"] = "isc-linear-text-classifier/2";
  EXPECT_NE(error(j).find("format is 'isc-linear-text-classifier/2', expected 'isc-linear-text-classifier/1'"),
            std::string::npos);
  EXPECT_NE(error(nlohmann::json::array({1, 2})).find("expected a JSON object"), std::string::npos);
}

TEST_F(LinearToxicityFile, LengthMismatches) {
  nlohmann::json j = tiny_model();
  j["classifiers"][1]["coef"] = {1.0, 2.0, 3.0};
  EXPECT_NE(error(j).find("expected 'classifiers[1].coef' to hold 4 numbers (the vocabulary size), found 3"),
            std::string::npos);
  j = tiny_model();
  j["features"]["idf"].push_back(1.0);
  EXPECT_NE(error(j).find("expected 'features.idf' to hold 4 numbers (the vocabulary size), found 5"),
            std::string::npos);
}

TEST_F(LinearToxicityFile, MissingAndIllTypedFields) {
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases = {
      {[](nlohmann::json& j) { j.erase("vocabulary"); }, "missing field 'vocabulary'"},
      {[](nlohmann::json& j) { j["tokenizer"].erase("lowercase"); }, "missing field 'tokenizer.lowercase'"},
      {[](nlohmann::json& j) { j["tokenizer"]["lowercase"] = "yes"; }, "expected 'tokenizer.lowercase' to be true or false"},
      {[](nlohmann::json& j) { j["classifiers"][1]["intercept"] = "x"; }, "expected 'classifiers[1].intercept' to be a number"},
      {[](nlohmann::json& j) { j["classifiers"][0]["coef"][2] = nullptr; }, "expected 'classifiers[0].coef[2]' to be a number"},
      {[](nlohmann::json& j) { j["classifiers"][0]["calibration"].erase("a"); }, "missing field 'classifiers[0].calibration.a'"},
      {[](nlohmann::json& j) { j["classifiers"][0]["calibration"]["method"] = "isotonic"; }, "only \"sigmoid\" is implemented"},
      {[](nlohmann::json& j) { j["classifiers"] = nlohmann::json::array(); }, "expected 'classifiers' to be a non-empty array"},
      {[](nlohmann::json& j) { j["vocabulary"] = {"bad", "good", "bad", "zz"}; }, "vocabulary[2] 'bad' repeats an earlier entry"},
      {[](nlohmann::json& j) { j["vocabulary"][1] = 5; }, "expected 'vocabulary[1]' to be a string"},
      {[](nlohmann::json& j) { j["tokenizer"]["token_pattern"] = "\\w+"; }, "only '(?u)\\b\\w\\w+\\b' is implemented"},
      {[](nlohmann::json& j) { j["tokenizer"]["ngram_range"] = {1, 2}; }, "expected 'tokenizer.ngram_range' to be [1, 1]"},
      {[](nlohmann::json& j) { j["features"]["norm"] = "l1"; }, "expected 'features.norm' to be \"l2\" or null"},
      {[](nlohmann::json& j) { j["features"] = 3; }, "expected 'features' to be an object"},
      {[](nlohmann::json& j) { j["positive_class"] = 0; }, "expected 'positive_class' to be 1"},
      {[](nlohmann::json& j) { j["name"] = ""; }, "expected 'name' to be a non-empty string"},
  };
  for (const auto& [mutate, want] : cases) {
    nlohmann::json j = tiny_model();
    mutate(j);
    const std::string msg = error(j);
    EXPECT_NE(msg.find(want), std::string::npos) << msg;
  }
  // JSON has no infinity, but an overflowing literal reads as one.
  const std::string path = scratch.write("inf.json", [] {
    std::string t = tiny_model().dump();
    const std::string from = "\"intercept\":-1.0";
    return t.replace(t.find(from), from.size(), "\"intercept\":-1e999");
  }());
  const std::string msg = error_of([&] { LinearToxicityScorer s(path); });
  EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
}

// The exported alt-profanity-check model, when scripts/setup.sh has made it: two values that
// profanity_check.predict_prob gives (tests/py/test_toxicity_scorer.py compares every text).
TEST(LinearToxicity, ExportedModelWhenPresent) {
  const std::string path = test::source_path("models/toxicity-alt-profanity-check.json");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not exported (scripts/setup.sh)";
  LinearToxicityScorer s(path);
  EXPECT_EQ(s.name(), "alt-profanity-check");
  EXPECT_EQ(s.score_one(""), 0.036375752016469504);
  EXPECT_EQ(s.score_one("you are a fucking idiot"), 0.99999999999407674);
  EXPECT_EQ(s.score_one("Hello, how are you today?"), 0.031866961004460098);
}

TEST(LinearToxicity, TaskFileField) {
  const TaskSpec r = load_task_file(test::source_path("tasks/realtoxicity.yaml"));
  EXPECT_EQ(r.toxicity_model, "../models/toxicity-alt-profanity-check.json");
  Scratch s;
  const std::string base = "name: t\nkind: open_generation\ndataset: {format: open_jsonl, path: d.jsonl}\n"
                           "conditions: [{name: c, round1: \"{prompt}\"}]\n";
  EXPECT_EQ(load_task_file(s.write("a.yaml", base + "scorer: toxicity\ntoxicity_model: m.json\n")).toxicity_model, "m.json");
  EXPECT_EQ(load_task_file(s.write("b.yaml", base + "scorer: toxicity\n")).toxicity_model, "");
  const std::string msg = error_of([&] { load_task_file(s.write("c.yaml", base + "toxicity_model: m.json\n")); });
  EXPECT_NE(msg.find(":5:17: toxicity_model is only used with scorer: toxicity"), std::string::npos) << msg;
}

}  // namespace
}  // namespace isc::tasks
