// Tests of the sample-based uncertainty estimators and the semantic clustering: hand-computed values
// for every estimator (de-duplication against LM-Polygraph issue 223's example), the documented edge
// cases (N = 1, identical samples, empty samples, -inf, NaN), and the clustering's order dependence.
#include "metrics/sample_uncertainty.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "metrics/semantic_clusters.h"

namespace isc::metrics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

GenerationSample sample(double p, std::size_t len, int cluster, std::string key) {
  return GenerationSample{std::log(p), len, cluster, std::move(key)};
}

// LM-Polygraph issue 223: 'Paris' x3 (p 0.6, 2 tokens), 'Its Paris' (0.3, 3 tokens), 'London'
// (0.1, 1 token); the first four mean the same.
std::vector<GenerationSample> issue_223() {
  return {sample(0.6, 2, 0, "Paris"), sample(0.6, 2, 0, "Paris"), sample(0.6, 2, 0, "Paris"),
          sample(0.3, 3, 0, "Its Paris"), sample(0.1, 1, 1, "London")};
}

TEST(SampleUncertainty, PredictiveEntropyAndLengthNormalised) {
  const auto s = issue_223();
  // PE = -(3 ln 0.6 + ln 0.3 + ln 0.1) / 5
  EXPECT_NEAR(predictive_entropy(s), -(3 * std::log(0.6) + std::log(0.3) + std::log(0.1)) / 5, 1e-14);
  // LN-PE = -(3 ln 0.6 / 2 + ln 0.3 / 3 + ln 0.1 / 1) / 5
  EXPECT_NEAR(length_normalized_predictive_entropy(s),
              -(3 * std::log(0.6) / 2 + std::log(0.3) / 3 + std::log(0.1)) / 5, 1e-14);
}

TEST(SemanticEntropy, DistinctSamplesKeepClusterProbabilitiesAtTheirShare) {
  const auto s = issue_223();
  // Distinct: p(c0) = 0.6 + 0.3 = 0.9, p(c1) = 0.1 (the total is 1 already).
  const ClusterLikelihoods d = cluster_likelihoods(s, {SequenceLikelihood::Total, true, false});
  ASSERT_EQ(d.log_prob.size(), 2u);
  EXPECT_NEAR(std::exp(d.log_prob[0]), 0.9, 1e-14);
  EXPECT_NEAR(std::exp(d.log_prob[1]), 0.1, 1e-14);
  EXPECT_EQ(d.counts[0], 4u);
  EXPECT_EQ(d.counts[1], 1u);
  // The LM-Polygraph default (every sample summed) gives p(c0) = 0.6 * 3 + 0.3 = 2.1 > 1.
  const ClusterLikelihoods bug = cluster_likelihoods(s, {SequenceLikelihood::Total, false, false});
  EXPECT_NEAR(std::exp(bug.log_prob[0]), 2.1, 1e-13);
  EXPECT_GT(std::exp(bug.log_prob[0]), 1.0);
  // SE = -0.9 ln 0.9 - 0.1 ln 0.1 = 0.32508297339144826
  EXPECT_NEAR(semantic_entropy(s), 0.32508297339144826, 1e-14);
  // Counting duplicates and normalising: p = (2.1, 0.1) / 2.2
  const double a = 2.1 / 2.2, b = 0.1 / 2.2;
  EXPECT_NEAR(semantic_entropy(s, {SequenceLikelihood::Total, false, true}), -a * std::log(a) - b * std::log(b), 1e-14);
  // Normalised cluster probabilities sum to 1.
  const ClusterLikelihoods n = cluster_likelihoods(s, {SequenceLikelihood::Total, false, true});
  EXPECT_NEAR(std::exp(n.log_prob[0]) + std::exp(n.log_prob[1]), 1.0, 1e-14);
}

TEST(SemanticEntropy, LengthNormalisedLikelihood) {
  const auto s = issue_223();
  // p(s) = exp(logprob / len): Paris 0.6^(1/2), Its Paris 0.3^(1/3), London 0.1.
  const double c0 = std::sqrt(0.6) + std::cbrt(0.3), c1 = 0.1, z = c0 + c1;
  const double want = -(c0 / z) * std::log(c0 / z) - (c1 / z) * std::log(c1 / z);
  EXPECT_NEAR(semantic_entropy(s, {SequenceLikelihood::PerToken, true, true}), want, 1e-14);
}

TEST(SemanticEntropy, MonteCarloForms) {
  const auto s = issue_223();
  // LM-Polygraph "mean": -(1/N) Σ_i log p(c(s_i)) with raw sums: -(4 ln 2.1 + ln 0.1) / 5
  EXPECT_NEAR(semantic_entropy_mc_samples(s, {SequenceLikelihood::Total, false, false}),
              -(4 * std::log(2.1) + std::log(0.1)) / 5, 1e-13);
  // Distinct + normalised: -(4 ln 0.9 + ln 0.1) / 5
  EXPECT_NEAR(semantic_entropy_mc_samples(s, {}), -(4 * std::log(0.9) + std::log(0.1)) / 5, 1e-14);
  // Kuhn's code: -(1/C) Σ_c (log p(c) - 5) = 5 - (ln 2.1 + ln 0.1) / 2
  EXPECT_NEAR(semantic_entropy_mc_clusters(s, {SequenceLikelihood::Total, false, false}, 5.0),
              5.0 - (std::log(2.1) + std::log(0.1)) / 2, 1e-13);
  EXPECT_NEAR(semantic_entropy_mc_clusters(s, {}), -(std::log(0.9) + std::log(0.1)) / 2, 1e-14);
  EXPECT_THROW(semantic_entropy_mc_clusters(s, {}, kInf), Error);
  EXPECT_THROW(semantic_entropy(s, {SequenceLikelihood::Total, true, false}), Error);  // not a distribution
}

TEST(SemanticEntropy, DiscreteFromCounts) {
  // counts 4 and 1 of 5: -0.8 ln 0.8 - 0.2 ln 0.2 = 0.5004024235381879
  EXPECT_NEAR(discrete_semantic_entropy(issue_223()), 0.5004024235381879, 1e-14);
  // Likelihoods play no part.
  auto s = issue_223();
  for (auto& x : s) x.logprob = -100.0;
  EXPECT_NEAR(discrete_semantic_entropy(s), 0.5004024235381879, 1e-14);
  // Any non-negative ids; three singletons: ln 3.
  const std::vector<GenerationSample> three{sample(0.5, 1, 7, "a"), sample(0.2, 1, 3, "b"), sample(0.1, 1, 42, "c")};
  EXPECT_NEAR(discrete_semantic_entropy(three), std::log(3.0), 1e-14);
}

TEST(SemanticEntropy, ReferenceSemanticNll) {
  const auto s = issue_223();
  // Cluster 0: mean of per-token NLLs (-ln 0.6 / 2 three times, -ln 0.3 / 3); cluster 1: -ln 0.1.
  const double c0 = (3 * (-std::log(0.6) / 2) + (-std::log(0.3) / 3)) / 4, c1 = -std::log(0.1);
  EXPECT_NEAR(reference_semantic_nll(s), (c0 + c1) / 2, 1e-14);
  // With duplicates dropped, cluster 0 is (-ln 0.6 / 2, -ln 0.3 / 3).
  const double d0 = (-std::log(0.6) / 2 - std::log(0.3) / 3) / 2;
  EXPECT_NEAR(reference_semantic_nll(s, true), (d0 + c1) / 2, 1e-14);
  // Not an entropy: one cluster still gives the mean NLL, not 0.
  const std::vector<GenerationSample> one{sample(0.25, 2, 0, "x")};
  EXPECT_NEAR(reference_semantic_nll(one), -std::log(0.25) / 2, 1e-14);
}

TEST(SampleUncertainty, SummaryMatchesTheFunctions) {
  const auto s = issue_223();
  const SampleUncertaintySummary u = summarize_sample_uncertainty(s);
  EXPECT_EQ(u.n_samples, 5u);
  EXPECT_EQ(u.n_distinct, 3u);
  EXPECT_EQ(u.n_clusters, 2u);
  EXPECT_DOUBLE_EQ(u.predictive_entropy, predictive_entropy(s));
  EXPECT_DOUBLE_EQ(u.ln_predictive_entropy, length_normalized_predictive_entropy(s));
  EXPECT_DOUBLE_EQ(u.semantic_entropy, semantic_entropy(s));
  EXPECT_DOUBLE_EQ(u.ln_semantic_entropy, semantic_entropy(s, {SequenceLikelihood::PerToken, true, true}));
  EXPECT_DOUBLE_EQ(u.discrete_semantic_entropy, discrete_semantic_entropy(s));
  EXPECT_DOUBLE_EQ(u.reference_semantic_nll, reference_semantic_nll(s));
}

TEST(SampleUncertainty, SingleSample) {
  const std::vector<GenerationSample> one{sample(0.2, 4, 0, "only")};
  EXPECT_NEAR(predictive_entropy(one), -std::log(0.2), 1e-15);
  EXPECT_NEAR(length_normalized_predictive_entropy(one), -std::log(0.2) / 4, 1e-15);
  EXPECT_EQ(semantic_entropy(one), 0.0);
  EXPECT_EQ(discrete_semantic_entropy(one), 0.0);
  EXPECT_EQ(semantic_entropy_mc_samples(one, {}), 0.0);
  EXPECT_NEAR(semantic_entropy_mc_samples(one, {SequenceLikelihood::Total, false, false}), -std::log(0.2), 1e-15);
  EXPECT_NEAR(semantic_entropy_mc_clusters(one, {SequenceLikelihood::Total, false, false}), -std::log(0.2), 1e-15);
}

TEST(SampleUncertainty, AllSamplesIdentical) {
  const std::vector<GenerationSample> same(5, sample(0.4, 3, 0, "yes"));
  EXPECT_EQ(semantic_entropy(same), 0.0);
  EXPECT_EQ(discrete_semantic_entropy(same), 0.0);
  EXPECT_NEAR(predictive_entropy(same), -std::log(0.4), 1e-15);
  // Distinct: one sequence of probability 0.4; duplicates summed: 5 * 0.4 = 2.
  EXPECT_NEAR(std::exp(cluster_likelihoods(same, {SequenceLikelihood::Total, true, false}).log_prob[0]), 0.4, 1e-15);
  EXPECT_NEAR(std::exp(cluster_likelihoods(same, {SequenceLikelihood::Total, false, false}).log_prob[0]), 2.0, 1e-14);
  EXPECT_EQ(summarize_sample_uncertainty(same).n_distinct, 1u);
}

TEST(SampleUncertainty, EmptySampleCountsAsOneToken) {
  // A 0-token sample with logprob 0 has likelihood 1 and per-token log-likelihood 0.
  const std::vector<GenerationSample> s{GenerationSample{0.0, 0, 0, ""}, sample(0.5, 2, 1, "no")};
  EXPECT_NEAR(length_normalized_predictive_entropy(s), -(0.0 + std::log(0.5) / 2) / 2, 1e-15);
  const double c1 = std::sqrt(0.5), z = 1.0 + c1;
  EXPECT_NEAR(semantic_entropy(s, {SequenceLikelihood::PerToken, true, true}),
              -(1 / z) * std::log(1 / z) - (c1 / z) * std::log(c1 / z), 1e-14);
  EXPECT_NEAR(reference_semantic_nll(s), (0.0 - std::log(0.5) / 2) / 2, 1e-15);
  // 0 tokens but a logprob (e.g. an end-of-sequence token not counted): divided by 1.
  const std::vector<GenerationSample> eos{GenerationSample{-0.3, 0, 0, ""}};
  EXPECT_NEAR(length_normalized_predictive_entropy(eos), 0.3, 1e-15);
  EXPECT_TRUE(std::isfinite(reference_semantic_nll(eos)));
}

TEST(SampleUncertainty, MinusInfinityLogprobs) {
  std::vector<GenerationSample> s{sample(0.5, 1, 0, "a"), GenerationSample{-kInf, 2, 1, "b"}};
  EXPECT_EQ(predictive_entropy(s), kInf);
  EXPECT_EQ(length_normalized_predictive_entropy(s), kInf);
  EXPECT_EQ(reference_semantic_nll(s), kInf);
  // The zero-probability cluster carries no mass: one cluster of probability 1 remains.
  EXPECT_EQ(semantic_entropy(s), 0.0);
  EXPECT_EQ(semantic_entropy_mc_clusters(s, {}), kInf);
  EXPECT_EQ(semantic_entropy_mc_samples(s, {}), kInf);
  EXPECT_NEAR(discrete_semantic_entropy(s), std::log(2.0), 1e-15);
  // -inf inside a cluster with other mass is harmless.
  s[1].cluster = 0;
  EXPECT_NEAR(semantic_entropy_mc_samples(s, {SequenceLikelihood::Total, true, false}), -std::log(0.5), 1e-15);
  // Every sample at probability 0: nothing to normalise.
  const std::vector<GenerationSample> none{GenerationSample{-kInf, 1, 0, "a"}, GenerationSample{-kInf, 1, 1, "b"}};
  EXPECT_THROW(semantic_entropy(none), Error);
  EXPECT_EQ(semantic_entropy_mc_samples(none, {SequenceLikelihood::Total, true, false}), kInf);
}

TEST(SampleUncertainty, RejectsBadInput) {
  EXPECT_THROW(predictive_entropy(std::vector<GenerationSample>{}), Error);
  EXPECT_THROW(semantic_entropy(std::vector<GenerationSample>{}), Error);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<GenerationSample> s = issue_223();
  s[2].logprob = nan;
  try {
    semantic_entropy(s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("NaN"), std::string::npos) << e.what();
  }
  EXPECT_THROW(predictive_entropy(s), Error);
  EXPECT_THROW(discrete_semantic_entropy(s), Error);
  EXPECT_THROW(reference_semantic_nll(s), Error);
  s[2].logprob = kInf;
  EXPECT_THROW(predictive_entropy(s), Error);
  s[2].logprob = 0.1;
  EXPECT_THROW(length_normalized_predictive_entropy(s), Error);
  s[2].logprob = 1e-9;  // float rounding above 0 is read as 0
  EXPECT_NO_THROW(predictive_entropy(s));
  s = issue_223();
  s[0].cluster = -1;
  EXPECT_THROW(discrete_semantic_entropy(s), Error);
  // One sequence in two clusters cannot be de-duplicated.
  s = issue_223();
  s[1].cluster = 1;
  EXPECT_THROW(semantic_entropy(s), Error);
  EXPECT_THROW(summarize_sample_uncertainty(s), Error);
  EXPECT_NO_THROW(semantic_entropy(s, {SequenceLikelihood::Total, false, true}));  // nothing de-duplicated
}

TEST(SampleUncertainty, OptionEntropyOfSampledAnswers) {
  const std::vector<int> a{0, 0, 1, -1};
  const OptionSampleEntropy e = option_sample_entropy(a, 3);
  EXPECT_EQ(e.n_parsed, 3u);
  EXPECT_EQ(e.n_unparsed, 1u);
  ASSERT_EQ(e.distribution.size(), 3u);
  EXPECT_NEAR(e.distribution[0], 2.0 / 3, 1e-15);
  EXPECT_EQ(e.distribution[2], 0.0);
  // -(2/3 ln 2/3 + 1/3 ln 1/3) = 0.6365141682948128
  ASSERT_TRUE(e.entropy.has_value());
  EXPECT_NEAR(*e.entropy, 0.6365141682948128, 1e-15);
  EXPECT_NEAR(*e.normalized, 0.6365141682948128 / std::log(3.0), 1e-15);
  const OptionSampleEntropy none = option_sample_entropy(std::vector<int>{-1, -1}, 4);
  EXPECT_FALSE(none.entropy.has_value());
  EXPECT_FALSE(none.normalized.has_value());
  EXPECT_EQ(none.n_unparsed, 2u);
  const OptionSampleEntropy k1 = option_sample_entropy(std::vector<int>{0, 0}, 1);
  EXPECT_EQ(*k1.entropy, 0.0);
  EXPECT_FALSE(k1.normalized.has_value());
  EXPECT_THROW(option_sample_entropy(std::vector<int>{}, 3), Error);
  EXPECT_THROW(option_sample_entropy(std::vector<int>{3}, 3), Error);
  EXPECT_THROW(option_sample_entropy(std::vector<int>{-2}, 3), Error);
  EXPECT_THROW(option_sample_entropy(std::vector<int>{0}, 0), Error);
}

// --- clustering

TEST(SemanticClusters, TransitiveOraclePartitionsByClass) {
  const std::vector<char> cls{'a', 'b', 'a', 'c', 'b', 'a'};
  const auto eq = [&](std::size_t x, std::size_t y) { return cls[x] == cls[y]; };
  EXPECT_EQ(cluster_by_entailment(cls.size(), eq), (std::vector<int>{0, 1, 0, 2, 1, 0}));
  EXPECT_EQ(cluster_by_equivalence(cls.size(), eq), (std::vector<int>{0, 1, 0, 2, 1, 0}));
  EXPECT_TRUE(cluster_by_entailment(0, eq).empty());
  EXPECT_EQ(cluster_by_entailment(1, eq), std::vector<int>{0});
}

TEST(SemanticClusters, NonTransitiveOracleDependsOnOrder) {
  // a ~ b and b ~ c (both directions) but not a ~ c.
  const auto make = [](std::vector<char> names) {
    return [names](std::size_t x, std::size_t y) {
      const char p = names[x], q = names[y];
      return (p == 'a' && q == 'b') || (p == 'b' && q == 'a') || (p == 'b' && q == 'c') || (p == 'c' && q == 'b');
    };
  };
  // Order a, b, c: b joins a's cluster; c is compared with a only and starts its own.
  EXPECT_EQ(cluster_by_entailment(3, make({'a', 'b', 'c'})), (std::vector<int>{0, 0, 1}));
  // Order b, a, c: b represents the cluster, and both a and c join it.
  EXPECT_EQ(cluster_by_entailment(3, make({'b', 'a', 'c'})), (std::vector<int>{0, 0, 0}));
}

TEST(SemanticClusters, NeedsEntailmentInBothDirections) {
  // 0 entails 1 ("Paris" => "a city in France"?) but not the reverse: two clusters.
  const auto one_way = [](std::size_t x, std::size_t y) { return x == 0 && y == 1; };
  EXPECT_EQ(cluster_by_entailment(2, one_way), (std::vector<int>{0, 1}));
  const auto other_way = [](std::size_t x, std::size_t y) { return x == 1 && y == 0; };
  EXPECT_EQ(cluster_by_entailment(2, other_way), (std::vector<int>{0, 1}));
}

TEST(SemanticClusters, AsksOnlyRepresentativesAndShortCircuits) {
  std::vector<std::pair<std::size_t, std::size_t>> asked;
  const std::vector<int> cls{0, 1, 0, 1};
  const auto entails = [&](std::size_t x, std::size_t y) {
    asked.emplace_back(x, y);
    return cls[x] == cls[y];
  };
  EXPECT_EQ(cluster_by_entailment(4, entails), (std::vector<int>{0, 1, 0, 1}));
  // 1: (0,1) fails -> new. 2: (0,2),(2,0) -> joins 0. 3: (0,3) fails, (1,3),(3,1) -> joins 1.
  const std::vector<std::pair<std::size_t, std::size_t>> want{{0, 1}, {0, 2}, {2, 0}, {0, 3}, {1, 3}, {3, 1}};
  EXPECT_EQ(asked, want);
}

TEST(SemanticClusters, MatrixFormEqualsOracleForm) {
  EXPECT_EQ(all_entailment_pairs(3).size(), 6u);
  EXPECT_EQ(all_entailment_pairs(3).front(), (std::pair<std::size_t, std::size_t>{0, 1}));
  EXPECT_TRUE(all_entailment_pairs(1).empty());
  EXPECT_TRUE(all_entailment_pairs(0).empty());
  std::mt19937 rng(7);
  for (int t = 0; t < 200; ++t) {
    const std::size_t n = 1 + rng() % 8;
    std::vector<std::uint8_t> m(n * n);
    for (auto& v : m) v = static_cast<std::uint8_t>(rng() % 3 != 0);  // dense: many joins
    const auto oracle = [&](std::size_t a, std::size_t b) { return m[a * n + b] != 0; };
    EXPECT_EQ(cluster_by_entailment_matrix(n, m), cluster_by_entailment(n, oracle));
  }
  EXPECT_THROW(cluster_by_entailment_matrix(3, std::vector<std::uint8_t>(8)), Error);
}

TEST(SemanticClusters, ExactMatchKey) {
  EXPECT_EQ(exact_match_key("  \"Paris.\" "), "paris");
  EXPECT_EQ(exact_match_key("It's  PARIS!"), "it's paris");
  EXPECT_EQ(exact_match_key("'Rome'."), "rome");
  EXPECT_EQ(exact_match_key("\xE2\x80\x9C" "Berlin" "\xE2\x80\x9D"), "berlin");
  EXPECT_EQ(exact_match_key("`x`"), "x");
  EXPECT_EQ(exact_match_key("\"unmatched"), "\"unmatched");
  EXPECT_EQ(exact_match_key("New\t\nYork ?!"), "new york");
  EXPECT_EQ(exact_match_key("..."), "");
  EXPECT_EQ(exact_match_key(""), "");
  EXPECT_EQ(exact_match_key("Zürich"), "zürich");  // non-ASCII bytes unchanged
  EXPECT_EQ(exact_match_key("3.14"), "3.14");       // only trailing punctuation goes
  const std::vector<std::string> texts{"Paris", "paris.", "London", " \"PARIS\"", "Its Paris"};
  EXPECT_EQ(cluster_by_exact_match(texts), (std::vector<int>{0, 0, 1, 0, 2}));
}

}  // namespace
}  // namespace isc::metrics
