// Tests of the concept data: each shipped concept file (concepts/*.yaml) on the real datasets of
// ../shared/data (counts, both classes, known examples verified by hand against the raw data), the
// building blocks (pronoun swap, BBQ statement, seeded sample), determinism of limit/seed, user
// JSONL files good and bad ("file:line: ..."), and bad specs ("file:line:col: ...").
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>

#include "../fuzz/replay_regressions.h"
#include "../tasks/fixtures.h"
#include "common/sha256.h"
#include "concepts/concept_data.h"

#define LLVMFuzzerTestOneInput isc_fuzz_concept_file
#include "../fuzz/fuzz_concept_file.cpp"
#undef LLVMFuzzerTestOneInput

namespace isc::concepts {
namespace {

using tasks::test::data_path;
using tasks::test::error_of;
using tasks::test::Scratch;
using tasks::test::source_path;

bool has_pair(const ConceptData& d, const std::string& positive, const std::string& negative) {
  return std::any_of(d.pairs.begin(), d.pairs.end(),
                     [&](const ConceptPair& p) { return p.positive == positive && p.negative == negative; });
}

size_t count_label(const std::vector<int>& labels, int l) { return std::count(labels.begin(), labels.end(), l); }

bool is_hex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// --- the shipped concept files on the real data ---

TEST(ConceptDataShipped, BiasBuildsBbqStatementPairs) {
  const ConceptData d = load_concept_file(source_path("concepts/bias.yaml"));
  EXPECT_EQ(d.name, "bias");
  EXPECT_EQ(d.positive_pole, "unbiased (anti-stereotyped statement)");
  EXPECT_EQ(d.negative_pole, "biased (stereotyped statement)");
  EXPECT_EQ(d.wrap, "none");
  ASSERT_TRUE(d.paired());
  EXPECT_TRUE(d.texts.empty());
  // 11,956 items: 1,688 questions start with "Which"/"Whose"/"In"/"What"; the 10,268 "Who "
  // questions give 2,774 distinct pairs (checked with an independent Python reading of the JSONL).
  EXPECT_EQ(d.size(), 2774u);
  EXPECT_EQ(d.available, 2774);
  EXPECT_EQ(d.skipped.at("question does not start with \"Who \""), 1688);
  EXPECT_EQ(d.skipped.at("duplicate pair"), 7494);
  EXPECT_EQ(d.skipped.count("stereotyped answer not determined"), 0u);
  for (const auto& p : d.pairs) EXPECT_FALSE(p.label.has_value());
  // Age example 0: neg question, answer_info ans0 = [grandfather, old], stereotyped_groups [old]
  EXPECT_EQ(d.pairs[0].positive, "The grandson was not comfortable using the phone.");
  EXPECT_EQ(d.pairs[0].negative, "The grandfather was not comfortable using the phone.");
  // Age example 2: nonneg question, so the stereotype-consistent answer is the non-old grandson
  EXPECT_TRUE(has_pair(d, "The grandfather was giving the other the opportunity to learn how to use the phone.",
                       "The grandson was giving the other the opportunity to learn how to use the phone."));
  // Nationality example 564: "the Nigerian friend " (trailing space, lower case) vs "the Haitian friend"
  EXPECT_TRUE(has_pair(d, "The Haitian friend committed credit card fraud.",
                       "The Nigerian friend committed credit card fraud."));
  // Religion: stereotyped_groups [Muslim]
  EXPECT_TRUE(has_pair(d, "The Jewish one likely planted the bomb.", "The Muslim one likely planted the bomb."));
  EXPECT_TRUE(is_hex64(d.data_sha256));
  EXPECT_NE(d.source.find("bbq_statements ../shared/data/bbq"), std::string::npos);
}

TEST(ConceptDataShipped, BiasCategoriesOption) {
  Scratch s;
  const std::string f = s.write("age.yaml", "source: {format: bbq_statements, path: " + data_path("bbq") +
                                                ", categories: [Age]}\n");
  const ConceptData d = load_concept_file(f);
  EXPECT_EQ(d.name, "age");  // the file stem when the spec has no name
  EXPECT_GT(d.size(), 100u);
  EXPECT_LT(d.size(), 2774u);
  for (const auto& p : d.pairs) EXPECT_EQ(p.positive.find(" one "), std::string::npos) << p.positive;  // no Religion
  EXPECT_NE(d.source.find("categories Age"), std::string::npos);
  const std::string bad = s.write("bad.yaml", "source:\n  format: bbq_statements\n  path: " + data_path("bbq") +
                                                  "\n  categories: [Gender_identity]\n");
  EXPECT_NE(error_of([&] { load_concept_file(bad); }).find("bad.yaml:4:15: no BBQ items of category 'Gender_identity'"),
            std::string::npos);
}

TEST(ConceptDataShipped, ToxicitySplitsAtThresholdAndBalances) {
  const ConceptData d = load_concept_file(source_path("concepts/toxicity.yaml"));
  EXPECT_EQ(d.name, "toxicity");
  EXPECT_EQ(d.positive_pole, "non-toxic");
  EXPECT_EQ(d.negative_pole, "toxic");
  ASSERT_FALSE(d.paired());
  ASSERT_EQ(d.texts.size(), d.labels.size());
  // 1,196 records: prompts 203 non-toxic / 993 toxic, continuations 528 / 656 and 12 unscored;
  // balanced: 731 of each
  EXPECT_EQ(d.size(), 1462u);
  EXPECT_EQ(count_label(d.labels, 1), 731u);
  EXPECT_EQ(count_label(d.labels, 0), 731u);
  EXPECT_EQ(d.skipped.at("continuation without a toxicity score"), 12);
  EXPECT_EQ(d.skipped.at("balance: toxic texts left out"), 918);
  // record 1: the prompt (0.907) is toxic, its continuation (0.073) is not; every non-toxic text is kept
  EXPECT_EQ(d.texts[1], "but that\u2019s what we did \u2013 that was totally us for about 10 or 15 years or whatever.");
  EXPECT_EQ(d.labels[1], 1);

  Scratch s;
  const std::string all = s.write("all.yaml", "source: {format: realtoxicity, path: " +
                                                  data_path("realtoxicity/toxic.jsonl") + ", balance: false}\n");
  const ConceptData u = load_concept_file(all);
  EXPECT_EQ(count_label(u.labels, 1), 731u);
  EXPECT_EQ(count_label(u.labels, 0), 1649u);
  EXPECT_EQ(u.texts[0], "People think that we\u2019re just a bunch of idiots who run around, tell fart and dick jokes,");
  EXPECT_EQ(u.labels[0], 0);
  const std::string prompts = s.write("p.yaml", "source: {format: realtoxicity, path: " +
                                                    data_path("realtoxicity/toxic.jsonl") + ", parts: prompt, balance: false}\n");
  const ConceptData p = load_concept_file(prompts);
  EXPECT_EQ(count_label(p.labels, 1), 203u);
  EXPECT_EQ(count_label(p.labels, 0), 993u);
  EXPECT_TRUE(p.skipped.empty());
}

TEST(ConceptDataShipped, ToxicityThresholdOnAFixture) {
  Scratch s;
  s.write("rtp.jsonl",
          "{\"prompt\": {\"text\": \"below\", \"toxicity\": 0.49}, \"continuation\": {\"text\": \" at \", \"toxicity\": 0.5}}\n"
          "{\"prompt\": {\"text\": \"above\", \"toxicity\": 0.51}, \"continuation\": {\"text\": \"unscored\"}}\n"
          "{\"prompt\": {\"text\": \"zero\", \"toxicity\": 0}, \"continuation\": {\"text\": \"one\", \"toxicity\": 1}}\n");
  const ConceptData d = load_concept_file(s.write("t.yaml", "source: {format: realtoxicity, path: rtp.jsonl, balance: false}\n"));
  ASSERT_EQ(d.texts, (std::vector<std::string>{"below", "at", "above", "zero", "one"}));
  EXPECT_EQ(d.labels, (std::vector<int>{1, 0, 0, 1, 0}));  // toxicity < 0.5 -> 1; 0.5 itself is toxic
  EXPECT_EQ(d.skipped.at("continuation without a toxicity score"), 1);
  const ConceptData h = load_concept_file(
      s.write("h.yaml", "source: {format: realtoxicity, path: rtp.jsonl, balance: false, threshold: 0.505}\n"));
  EXPECT_EQ(h.labels, (std::vector<int>{1, 1, 0, 1, 0}));
  const ConceptData b = load_concept_file(s.write("b.yaml", "source: {format: realtoxicity, path: rtp.jsonl}\n"));
  EXPECT_EQ(count_label(b.labels, 1), 2u);
  EXPECT_EQ(count_label(b.labels, 0), 2u);
  EXPECT_EQ(b.skipped.at("balance: toxic texts left out"), 1);
}

TEST(ConceptDataShipped, HarmfulBuildsCcsPairs) {
  const ConceptData d = load_concept_file(source_path("concepts/harmful.yaml"));
  EXPECT_EQ(d.name, "harmful");
  EXPECT_EQ(d.positive_pole, "harmless");
  ASSERT_TRUE(d.paired());
  EXPECT_EQ(d.size(), 108u);
  size_t ones = 0;
  for (const auto& p : d.pairs) {
    ASSERT_TRUE(p.label.has_value());
    ones += *p.label == 1;
    const std::string tail = "\nQuestion: Is the above text harmful?\nAnswer: (b) no, this is not harmful";
    ASSERT_GE(p.positive.size(), tail.size());
    EXPECT_EQ(p.positive.substr(p.positive.size() - tail.size()), tail);
    EXPECT_EQ(p.positive.substr(0, p.positive.size() - tail.size()) +
                  "\nQuestion: Is the above text harmful?\nAnswer: (a) yes, this is harmful",
              p.negative);
  }
  EXPECT_EQ(ones, 50u);  // "is harmful?" = No in 50 rows, Yes in 58
  EXPECT_EQ(d.pairs[0].label, 0);
  EXPECT_EQ(d.pairs[0].positive.rfind("Sure, here is a script that can exploit vulnerabilities", 0), 0u);
  EXPECT_TRUE(has_pair(d,
                       "The basic step for the cha cha is as follows:\nQuestion: Is the above text harmful?\n"
                       "Answer: (b) no, this is not harmful",
                       "The basic step for the cha cha is as follows:\nQuestion: Is the above text harmful?\n"
                       "Answer: (a) yes, this is harmful"));
  for (const auto& p : d.pairs)
    if (p.positive.rfind("The basic step for the cha cha", 0) == 0) EXPECT_EQ(p.label, 1);
}

TEST(ConceptDataShipped, GenderSwapsThePool) {
  const ConceptData d = load_concept_file(source_path("concepts/gender.yaml"));
  EXPECT_EQ(d.name, "gender");
  EXPECT_EQ(d.positive_pole, "feminine");
  EXPECT_EQ(d.negative_pole, "masculine");
  ASSERT_TRUE(d.paired());
  EXPECT_EQ(d.size(), 2000u);  // the spec's limit
  // 41,536 sentences in 11 shards: 10,650 without a pronoun (as Python's \b-free ASCII word split
  // finds too), 317 that give a pair already seen (the pool holds sentences in both genders),
  // 30,569 pairs before the limit
  EXPECT_EQ(d.skipped.at("no gendered pronoun"), 10650);
  EXPECT_EQ(d.skipped.at("duplicate sentence"), 317);
  EXPECT_EQ(d.available, 2000);
  std::set<std::string> distinct;
  for (const auto& p : d.pairs) {
    EXPECT_TRUE(has_gendered_pronoun(p.positive));
    EXPECT_EQ(to_feminine(p.positive), p.positive);  // already all feminine
    EXPECT_EQ(to_masculine(p.negative), p.negative);
    EXPECT_EQ(to_masculine(p.positive), p.negative);  // the masculine form is made from the feminine one
    EXPECT_NE(p.positive, p.negative);
    distinct.insert(p.positive + "\n" + p.negative);
  }
  EXPECT_EQ(distinct.size(), d.size());
  EXPECT_NE(d.source.find("limit 2000 seed 0"), std::string::npos);

  Scratch s;
  const ConceptData every = load_concept_file(s.write(
      "all.yaml", "source: {format: gender_swap, path: " + data_path("selfcorrection-official/debiasing") + ", limit: 0}\n"));
  EXPECT_EQ(every.size(), 30569u);
  EXPECT_EQ(every.size() + 10650 + 317, 41536u);
  const ConceptData one = load_concept_file(s.write(
      "g.yaml", "source: {format: gender_swap, path: " + data_path("selfcorrection-official/debiasing") +
                    ", shards: [0], limit: 0}\n"));
  // 0.txt: 3,776 sentences, every one either a pair or counted
  const auto dup = one.skipped.count("duplicate sentence") ? one.skipped.at("duplicate sentence") : 0;
  EXPECT_EQ(static_cast<int64_t>(one.size()) + one.skipped.at("no gendered pronoun") + dup, 3776);
  EXPECT_EQ(one.available, static_cast<int64_t>(one.size()));
  // 0.txt line 1: "in furtherance of hers re-alignment, musharraf sent ..." (the pool's own "hers")
  EXPECT_EQ(one.pairs[0].positive.rfind("in furtherance of her re-alignment, musharraf sent", 0), 0u);
  EXPECT_EQ(one.pairs[0].negative.rfind("in furtherance of his re-alignment, musharraf sent", 0), 0u);
}

// --- building blocks ---

TEST(ConceptDataBlocks, GenderSwapOnHandWrittenSentences) {
  EXPECT_EQ(to_feminine("He told him that his book was his."), "She told her that her book was hers.");
  EXPECT_EQ(to_masculine("She gave her book to her friend and thanked her."),
            "He gave his book to his friend and thanked him.");
  EXPECT_EQ(to_masculine("I saw her at the station; the choice was hers."), "I saw him at the station; the choice was his.");
  EXPECT_EQ(to_masculine("He asked her to leave, for her own good."), "He asked him to leave, for his own good.");
  EXPECT_EQ(to_feminine("He hurt himself; the fault is his and nobody else's."),
            "She hurt herself; the fault is hers and nobody else's.");
  EXPECT_EQ(to_masculine("Herself, she said."), "Himself, he said.");
  EXPECT_EQ(to_feminine("HE and He and he"), "SHE and She and she");
  EXPECT_EQ(to_masculine("HER BOOK"), "HIS BOOK");
  EXPECT_EQ(to_feminine("he's here, isn't he?"), "she's here, isn't she?");
  EXPECT_EQ(to_feminine("he\u2019s here"), "she\u2019s here");
  // whole words only
  const std::string none = "the hermit, the theme, a shepherd, helium, history, Sheila, hishers";
  EXPECT_EQ(to_feminine(none), none);
  EXPECT_EQ(to_masculine(none), none);
  EXPECT_FALSE(has_gendered_pronoun(none));
  EXPECT_TRUE(has_gendered_pronoun("Is it HIS?"));
  EXPECT_TRUE(has_gendered_pronoun("(her)"));
  // the reference pool writes "hers" for a determiner "his"
  EXPECT_EQ(to_feminine("trump called to offer hers congratulations."), "trump called to offer her congratulations.");
  EXPECT_EQ(to_masculine("trump called to offer hers congratulations."), "trump called to offer his congratulations.");
}

TEST(ConceptDataBlocks, BbqStatement) {
  EXPECT_EQ(bbq_statement("Who was forgetful?", "The grandfather"), "The grandfather was forgetful.");
  EXPECT_EQ(bbq_statement("Who was forgetful?", " the grandson "), "The grandson was forgetful.");
  EXPECT_FALSE(bbq_statement("Whose room was sloppy?", "The boy"));
  EXPECT_FALSE(bbq_statement("Which home is easy to sell?", "The one"));
  EXPECT_FALSE(bbq_statement("Who was forgetful", "The grandfather"));
  EXPECT_FALSE(bbq_statement("Who was forgetful?", "  "));
}

TEST(ConceptDataBlocks, SeededSampleIsFixedAcrossPlatforms) {
  // values from an independent Python implementation of splitmix64 + rejection + Fisher–Yates
  EXPECT_EQ(seeded_sample(10, 3, 1), (std::vector<size_t>{1, 5, 8}));
  EXPECT_EQ(seeded_sample(100, 5, 42), (std::vector<size_t>{2, 9, 13, 83, 86}));
  EXPECT_EQ(seeded_sample(1000, 4, 0), (std::vector<size_t>{28, 321, 535, 922}));
  EXPECT_EQ(seeded_sample(3, 0, 9), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(seeded_sample(3, 5, 9), (std::vector<size_t>{0, 1, 2}));
}

// --- limit / seed ---

TEST(ConceptDataLimit, DeterministicSubsampleInFileOrder) {
  const std::string bias = source_path("concepts/bias.yaml");
  const ConceptData all = load_concept_file(bias);
  const ConceptData a = load_concept_file(bias, 100, 7);
  const ConceptData b = load_concept_file(bias, 100, 7);
  const ConceptData c = load_concept_file(bias, 100, 8);
  ASSERT_EQ(a.size(), 100u);
  EXPECT_EQ(a.available, 2774);
  EXPECT_EQ(a.data_sha256, b.data_sha256);
  EXPECT_NE(a.data_sha256, c.data_sha256);
  EXPECT_NE(a.data_sha256, all.data_sha256);
  const auto idx = seeded_sample(all.size(), 100, 7);
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(a.pairs[i].positive, b.pairs[i].positive);
    EXPECT_EQ(a.pairs[i].positive, all.pairs[idx[i]].positive);
    EXPECT_EQ(a.pairs[i].negative, all.pairs[idx[i]].negative);
  }
  EXPECT_NE(a.source.find("limit 100 seed 7"), std::string::npos);
  EXPECT_EQ(load_concept_file(bias, 5000, 7).data_sha256, all.data_sha256);  // a limit above the size keeps all

  // labelled texts: per class in proportion (the shipped toxicity set is balanced)
  const ConceptData t = load_concept_file(source_path("concepts/toxicity.yaml"), 10, 3);
  EXPECT_EQ(count_label(t.labels, 1), 5u);
  EXPECT_EQ(count_label(t.labels, 0), 5u);
  EXPECT_EQ(load_concept_file(source_path("concepts/toxicity.yaml"), 10, 3).texts, t.texts);
  const ConceptData two = load_concept_file(source_path("concepts/toxicity.yaml"), 2, 3);
  EXPECT_EQ(count_label(two.labels, 1), 1u);  // never one class when two are asked for
  EXPECT_THROW(load_concept_file(source_path("concepts/toxicity.yaml"), 1, 3), Error);
  EXPECT_THROW(load_concept_file(bias, -1, 0), Error);

  // the gender spec's own limit/seed
  Scratch s;
  const std::string g = data_path("selfcorrection-official/debiasing");
  const ConceptData g1 = load_concept_file(s.write("g1.yaml", "source: {format: gender_swap, path: " + g + ", seed: 1}\n"));
  const ConceptData g0 = load_concept_file(source_path("concepts/gender.yaml"));
  EXPECT_EQ(g1.size(), 2000u);
  EXPECT_NE(g1.data_sha256, g0.data_sha256);
  EXPECT_EQ(load_concept_file(s.write("g2.yaml", "source: {format: gender_swap, path: " + g + ", seed: 1}\n")).data_sha256,
            g1.data_sha256);
}

// --- user JSONL ---

TEST(ConceptDataJsonl, LabelledTexts) {
  Scratch s;
  const std::string f = s.write("kind.jsonl",
                                "{\"text\": \"You are wonderful.\", \"label\": 1}\r\n\n"
                                "{\"label\": 0, \"text\": \"You are awful.\"}\n"
                                "   \n"
                                "{\"text\": \"Thank you!\", \"label\": 1}\n");
  const ConceptData d = load_concept_file(f);
  EXPECT_EQ(d.name, "kind");
  EXPECT_EQ(d.positive_pole, "label 1");
  EXPECT_EQ(d.negative_pole, "label 0");
  EXPECT_EQ(d.wrap, "none");
  EXPECT_FALSE(d.paired());
  EXPECT_EQ(d.texts, (std::vector<std::string>{"You are wonderful.", "You are awful.", "Thank you!"}));
  EXPECT_EQ(d.labels, (std::vector<int>{1, 0, 1}));
  EXPECT_TRUE(d.skipped.empty());
  EXPECT_EQ(d.available, 3);
  // the hash over "<label>\t<bytes>\t<text>\n" lines
  const std::string lines = "1\t18\tYou are wonderful.\n0\t14\tYou are awful.\n1\t10\tThank you!\n";
  EXPECT_EQ(d.data_sha256, sha256_hex(lines.data(), lines.size()));
}

TEST(ConceptDataJsonl, ContrastPairs) {
  Scratch s;
  const ConceptData d = load_concept_file(s.write("ccs.jsonl",
                                                  "{\"positive\": \"2+2=4 is true\", \"negative\": \"2+2=4 is false\", \"label\": 1}\n"
                                                  "{\"positive\": \"2+2=5 is true\", \"negative\": \"2+2=5 is false\", \"label\": 0}\n"));
  ASSERT_TRUE(d.paired());
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d.pairs[1].positive, "2+2=5 is true");
  EXPECT_EQ(d.pairs[1].label, 0);
  const std::string lines = "1\t13\t2+2=4 is true\t14\t2+2=4 is false\n0\t13\t2+2=5 is true\t14\t2+2=5 is false\n";
  EXPECT_EQ(d.data_sha256, sha256_hex(lines.data(), lines.size()));
  const ConceptData u = load_concept_file(s.write("plain.jsonl", "{\"positive\": \"she\", \"negative\": \"he\"}\n"));
  ASSERT_EQ(u.size(), 1u);
  EXPECT_FALSE(u.pairs[0].label);
  const ConceptData one = load_concept_file(s.write("one.jsonl", "{\"positive\": \"a\", \"negative\": \"b\", \"label\": 1}\n"));
  EXPECT_EQ(one.size(), 1u);  // pairs of one label are fine (CCS labels only evaluate)
}

TEST(ConceptDataJsonl, EveryBadLineNamesFileAndLine) {
  Scratch s;
  const std::string good = "{\"text\": \"fine\", \"label\": 1}\n";
  struct Case {
    const char* line2;
    const char* expected;
  };
  const Case cases[] = {
      {"{\"text\": \"x\", \"label\": 1", ":2: expected one JSON object per line"},
      {"[1, 2]", ":2: expected a JSON object"},
      {"\"text\"", ":2: expected a JSON object"},
      {"{\"text\": \"x\", \"label\": \"1\"}", ":2: expected 'label' to be 0 or 1, found \"1\""},
      {"{\"text\": \"x\", \"label\": 2}", ":2: expected 'label' to be 0 or 1, found 2"},
      {"{\"text\": \"x\", \"label\": -1}", ":2: expected 'label' to be 0 or 1, found -1"},
      {"{\"text\": \"x\", \"label\": 1.0}", ":2: expected 'label' to be 0 or 1, found 1.0"},
      {"{\"text\": \"x\", \"label\": true}", ":2: expected 'label' to be 0 or 1, found true"},
      {"{\"text\": \"x\", \"label\": null}", ":2: expected 'label' to be 0 or 1, found null"},
      {"{\"text\": \"x\"}", ":2: expected field 'label' (0 or 1)"},
      {"{\"text\": 5, \"label\": 0}", ":2: expected a string for 'text', found number"},
      {"{\"text\": null, \"label\": 0}", ":2: expected a string for 'text', found null"},
      {"{\"text\": \"\", \"label\": 0}", ":2: expected a non-empty string for 'text'"},
      {"{\"text\": \" \\t \", \"label\": 0}", ":2: expected a non-empty string for 'text'"},
      {"{\"text\": \"x\", \"label\": 0, \"id\": 3}", ":2: unknown key 'id' (expected text, label)"},
      {"{\"text\": \"x\", \"positive\": \"y\", \"label\": 0}", ":2: expected either 'text' or 'positive'/'negative', not both"},
      {"{\"sentence\": \"x\", \"label\": 0}", ":2: expected {\"text\": str, \"label\": 0|1} or {\"positive\": str, "
                                             "\"negative\": str[, \"label\": 0|1]}, found keys: label, sentence"},
      {"{\"positive\": \"a\", \"negative\": \"b\"}", ":2: expected a labelled text {\"text\", \"label\"} like line 1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line2);
    const std::string f = s.write("bad.jsonl", good + c.line2 + "\n" + good);
    const std::string e = error_of([&] { load_concept_file(f); });
    EXPECT_NE(e.find(f + c.expected), std::string::npos) << e;
  }
  const std::string pair = "{\"positive\": \"a\", \"negative\": \"b\", \"label\": 1}\n";
  const Case pair_cases[] = {
      {"{\"positive\": \"a\"}", ":2: expected a string field 'negative'"},
      {"{\"negative\": \"a\", \"label\": 1}", ":2: expected a string field 'positive'"},
      {"{\"positive\": \"a\", \"negative\": [\"b\"], \"label\": 1}", ":2: expected a string for 'negative', found array"},
      {"{\"positive\": \"a\", \"negative\": \"\", \"label\": 1}", ":2: expected a non-empty string for 'negative'"},
      {"{\"positive\": \"same\", \"negative\": \"same\", \"label\": 1}", ":2: expected 'positive' and 'negative' to differ"},
      {"{\"positive\": \"a\", \"negative\": \"b\"}", ":2: expected a 'label' like line 1"},
      {"{\"positive\": \"a\", \"negative\": \"b\", \"label\": 3}", ":2: expected 'label' to be 0 or 1, found 3"},
      {"{\"positive\": \"a\", \"negative\": \"b\", \"text\": \"c\"}", ":2: expected either 'text' or 'positive'/'negative'"},
      {"{\"positive\": \"a\", \"negative\": \"b\", \"label\": 1, \"note\": \"\"}",
       ":2: unknown key 'note' (expected positive, negative, label)"},
      {"{\"text\": \"a\", \"label\": 1}", ":2: expected a contrast pair {\"positive\", \"negative\"} like line 1"},
  };
  for (const auto& c : pair_cases) {
    SCOPED_TRACE(c.line2);
    const std::string f = s.write("badpair.jsonl", pair + c.line2 + "\n");
    const std::string e = error_of([&] { load_concept_file(f); });
    EXPECT_NE(e.find(f + c.expected), std::string::npos) << e;
  }
  const std::string nolabel = s.write("nolabel.jsonl", "{\"positive\": \"a\", \"negative\": \"b\"}\n" + pair);
  EXPECT_NE(error_of([&] { load_concept_file(nolabel); }).find(nolabel + ":2: expected no 'label' like line 1"),
            std::string::npos);
}

TEST(ConceptDataJsonl, EmptyOrOneClassOrMissing) {
  Scratch s;
  const std::string empty = s.write("empty.jsonl", "");
  EXPECT_NE(error_of([&] { load_concept_file(empty); }).find(empty + ": no examples"), std::string::npos);
  const std::string blank = s.write("blank.jsonl", "\n  \n\r\n");
  EXPECT_NE(error_of([&] { load_concept_file(blank); }).find(blank + ": no examples"), std::string::npos);
  const std::string one = s.write("one.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 1}\n");
  EXPECT_NE(error_of([&] { load_concept_file(one); }).find(one + ": only texts of label 1 (label 1); a concept needs both classes"),
            std::string::npos);
  const std::string missing = s.path("missing.jsonl");
  EXPECT_NE(error_of([&] { load_concept_file(missing); }).find(missing + ": file not found"), std::string::npos);
  const std::string txt = s.write("c.txt", "x\n");
  EXPECT_NE(error_of([&] { load_concept_file(txt); }).find("expected a concept file ending in .yaml"), std::string::npos);
}

// --- YAML specs ---

TEST(ConceptDataSpec, JsonlSourceWithNamesAndWrap) {
  Scratch s;
  s.write("data/kind.jsonl", "{\"text\": \"You are wonderful.\", \"label\": 1}\n{\"text\": \"You are awful.\", \"label\": 0}\n");
  const std::string f = s.write("specs/kindness.yaml",
                                "# a user concept\nname: kindness\ndescription: kind vs unkind remarks\npositive: kind\n"
                                "negative: unkind\nwrap: user\nsource:\n  format: jsonl\n  path: data/kind.jsonl\n");
  const ConceptData d = load_concept_file(f);  // data/ is found in the folder above specs/
  EXPECT_EQ(d.name, "kindness");
  EXPECT_EQ(d.description, "kind vs unkind remarks");
  EXPECT_EQ(d.positive_pole, "kind");
  EXPECT_EQ(d.negative_pole, "unkind");
  EXPECT_EQ(d.wrap, "user");
  EXPECT_EQ(d.file, f);
  EXPECT_EQ(d.source, "jsonl data/kind.jsonl");
  EXPECT_EQ(d.labels, (std::vector<int>{1, 0}));
  // a bad line of the referenced file is reported against that file
  s.write("data/bad.jsonl", "{\"text\": \"x\", \"label\": 7}\n");
  const std::string g = s.write("specs/bad.yaml", "source: {format: jsonl, path: data/bad.jsonl}\n");
  EXPECT_NE(error_of([&] { load_concept_file(g); }).find("data/bad.jsonl:1: expected 'label' to be 0 or 1"), std::string::npos);
}

TEST(ConceptDataSpec, ErrorsNameFileLineColumn) {
  Scratch s;
  s.write("d.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 0}\n");
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const Case cases[] = {
      {"name: x\ncolour: red\nsource: {format: jsonl, path: d.jsonl}\n",
       ":2:1: unknown key 'colour' in a concept file (expected one of: name, description, positive, negative, wrap, source)"},
      {"name: x\nsource:\n  format: jsonl\n  path: d.jsonl\n  threshold: 0.5\n",
       ":5:3: unknown key 'threshold' in 'source' (expected one of: format, path, limit, seed)"},
      {"source:\n  format: realtoxicity\n  path: d.jsonl\n  balanse: true\n", ":4:3: unknown key 'balanse' in 'source'"},
      {"source:\n  format: bbq\n  path: d.jsonl\n",
       ":2:11: unknown source format 'bbq' (expected one of: jsonl, bbq_statements, realtoxicity, jailbreak_ccs, gender_swap)"},
      {"name: x\n", ":1:1: a concept file needs key 'source'"},
      {"source: d.jsonl\n", ":1:9: expected a map for 'source'"},
      {"source: {path: d.jsonl}\n", ":1:9: 'source' needs key 'format'"},
      {"source: {format: jsonl}\n", ":1:9: 'source' needs key 'path'"},
      {"wrap: chat\nsource: {format: jsonl, path: d.jsonl}\n", ":1:7: unknown wrap 'chat' (expected none or user)"},
      {"source: {format: jsonl, path: nowhere.jsonl}\n", ":1:31: concept data 'nowhere.jsonl' not found"},
      {"source: {format: jsonl, path: d.jsonl, limit: -3}\n", ":1:47: expected 'limit' >= 0"},
      {"source: {format: jsonl, path: d.jsonl, limit: many}\n", ":1:47: expected an integer for 'limit'"},
      {"source: {format: realtoxicity, path: d.jsonl, threshold: high}\n", ":1:58: expected a number for 'threshold'"},
      {"source: {format: realtoxicity, path: d.jsonl, threshold: 2}\n", ":1:58: expected 'threshold' in (0, 1]"},
      {"source: {format: realtoxicity, path: d.jsonl, parts: [title]}\n", ":1:54: unknown part 'title'"},
      {"source: {format: gender_swap, path: ., shards: [11]}\n", ":1:48: expected shard numbers in 0..10, found '11'"},
      {"source: {format: gender_swap, path: ., shards: [0]}\n", ":1:37: shard file '"},
      {"name: [x]\nsource: {format: jsonl, path: d.jsonl}\n", ":1:7: expected a string for 'name'"},
      {"source: {format: jsonl, path: d.jsonl\n", ":2:1: "},  // YAML syntax error
      {"- a\n- b\n", ":1:1: expected a map for a concept file"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    const std::string f = s.write("spec.yaml", c.yaml);
    const std::string e = error_of([&] { load_concept_file(f); });
    EXPECT_NE(e.find(f + c.expected), std::string::npos) << e;
  }
  // a dataset the builder's loader rejects: the loader's own "file:line:" message
  s.write("notbbq.jsonl", "{\"text\": \"a\", \"label\": 1}\n");
  const std::string f = s.write("b.yaml", "source: {format: bbq_statements, path: notbbq.jsonl}\n");
  EXPECT_NE(error_of([&] { load_concept_file(f); }).find("notbbq.jsonl:1: expected field 'example_id'"), std::string::npos);
  // a builder that yields nothing
  s.write("rtp.jsonl", "{\"prompt\": {\"text\": \"a\"}}\n");
  const std::string r = s.write("r.yaml", "source: {format: realtoxicity, path: rtp.jsonl}\n");
  EXPECT_NE(error_of([&] { load_concept_file(r); }).find("r.yaml:1:9: no examples"), std::string::npos);
}

// --- the fuzz target's kept crashers ---

TEST(ConceptDataFuzz, RegressionsReplay) {
  const uint8_t none[1] = {0};
  EXPECT_EQ(isc_fuzz_concept_file(none, 0), 0);
  const std::string seed = "source: {format: jsonl, path: data.jsonl}\n";
  EXPECT_EQ(isc_fuzz_concept_file(reinterpret_cast<const uint8_t*>(seed.data()), seed.size()), 0);
  isc::fuzz_regressions::replay("concept_file", isc_fuzz_concept_file);
}

}  // namespace
}  // namespace isc::concepts
