// Uncertainty of a question from N sampled generations (T = 1): predictive entropy, semantic
// entropy in its published forms, discrete semantic entropy, the reference study's "semantic
// uncertainty" (a mean NLL, not an entropy), and the entropy of sampled multiple-choice answers.
// All values are in nats. Every estimator here is a function of the samples alone; the clusters
// come from semantic_clusters.h (or any other equivalence judgement).
//
// Conventions shared by every function taking GenerationSample:
//   - Input: at least one sample. logprob is the sum of the generated tokens' log-probabilities
//     under the model at T = 1 (nats). NaN, +inf, or a value above kLogprobTolerance is an
//     isc::Error naming the sample; a value in (0, kLogprobTolerance] (float rounding of an
//     almost-certain sequence) is read as 0. -inf is allowed: the sample has probability 0.
//   - Length normalisation divides by max(num_tokens, 1): an empty sample (0 tokens) counts as one
//     token, so nothing divides by zero and its per-token log-likelihood is its logprob (0 for a
//     truly empty sequence, i.e. likelihood 1).
//   - cluster is any non-negative id (clusters are the distinct values); a negative id is an error.
//   - key identifies the exact sequence (the generated text or its token ids, NOT a normalised
//     form: "Paris" and "Paris." are two sequences of one meaning and both count). Samples with the
//     same key are one sequence drawn several times; where an estimator counts distinct sequences,
//     the first occurrence stands for all (its logprob and length), and two samples with the same
//     key in different clusters are an isc::Error (an oracle should call identical texts
//     equivalent; cluster_by_exact_match and an NLI oracle short-circuited on equal text do).
//   - No function returns NaN: undefined cases throw isc::Error (or, where stated, give nullopt).
//
// Edge cases: N = 1 gives PE = -logprob, every semantic entropy 0 (one cluster of probability 1)
// except the unnormalised Monte-Carlo forms (-log p(s)); all samples identical gives one cluster
// and semantic entropy 0; a -inf sample makes PE and LN-PE +inf, contributes 0 to the normalised
// semantic entropy, and makes the Monte-Carlo forms +inf when its cluster has no other mass;
// when every sample has probability 0 the normalised forms throw (there is no distribution).
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace isc::metrics {

inline constexpr double kLogprobTolerance = 1e-6;

struct GenerationSample {
  double logprob = 0.0;         // Σ token log-probabilities (nats), <= 0
  std::size_t num_tokens = 0;   // generated tokens the logprob covers
  int cluster = 0;              // meaning class id, >= 0
  std::string key;              // exact-sequence identity for de-duplication
};

// Which likelihood stands for a sequence.
enum class SequenceLikelihood {
  Total,     // p(s) = exp(logprob)
  PerToken,  // p(s) = exp(logprob / max(num_tokens, 1)), the geometric-mean token probability
             // (Kuhn et al.'s "length-normalised" semantic entropy; Farquhar et al.'s code default)
};

// --- predictive entropy (no clusters, no de-duplication: each draw is a Monte-Carlo sample)

// PE = -(1/N) Σ_i logprob_i, the Monte-Carlo estimate of the sequence entropy H(S | x).
double predictive_entropy(std::span<const GenerationSample> samples);
// LN-PE = -(1/N) Σ_i logprob_i / max(len_i, 1) (Malinin & Gales 2021's length-normalised form).
double length_normalized_predictive_entropy(std::span<const GenerationSample> samples);

// --- semantic entropy

struct SemanticEntropyOptions {
  SequenceLikelihood likelihood = SequenceLikelihood::Total;
  // true: p(c) sums each distinct key once. false: every sample's likelihood is added, duplicates
  // included — what Kuhn et al.'s code and LM-Polygraph's default (use_unique_responses = False,
  // issue 223) do; there p(c) can exceed 1.
  bool distinct = true;
  // true: p(c) / Σ_c' p(c') over the OBSERVED clusters (Farquhar et al.'s "sum_normalized").
  // false: the raw sum (Kuhn's code, LM-Polygraph).
  bool normalize = true;
};

// Per cluster, log p(c) = log Σ_{s in c} p(s) under `options` (log-sum-exp; normalised by the
// log of the total when options.normalize). Index = position of the cluster in order of first
// appearance among the samples; cluster_ids gives the caller's id at each index.
struct ClusterLikelihoods {
  std::vector<int> cluster_ids;
  std::vector<double> log_prob;     // may be -inf for a cluster of zero-probability samples
  std::vector<std::size_t> counts;  // samples (all draws, duplicates included) per cluster
};
ClusterLikelihoods cluster_likelihoods(std::span<const GenerationSample> samples,
                                       const SemanticEntropyOptions& options = {});

// SE = -Σ_c p(c) log p(c) with p(c) normalised over the observed clusters (0 log 0 = 0): the
// "Rao" form of Farquhar et al.'s code. options.normalize must be true (an entropy needs a
// distribution); throws otherwise, or when every sample has probability 0.
double semantic_entropy(std::span<const GenerationSample> samples, const SemanticEntropyOptions& options = {});

// Monte-Carlo form over samples: -(1/N) Σ_i log p(c(s_i)), every draw counted. LM-Polygraph's
// SemanticEntropy ("mean") is options {Total, distinct = false, normalize = false}.
double semantic_entropy_mc_samples(std::span<const GenerationSample> samples, const SemanticEntropyOptions& options);

// Monte-Carlo form over clusters: -(1/C) Σ_c (log p(c) - llh_shift), each observed cluster once.
// Kuhn et al.'s code (get_predictive_entropy_over_concepts) is options {PerToken (their
// "predictive_entropy_over_concepts") or Total ("unnormalised_entropy_over_concepts"),
// distinct = false, normalize = false} with llh_shift = 5 (a constant they subtract; it moves
// every value by +5 and changes no ranking).
double semantic_entropy_mc_clusters(std::span<const GenerationSample> samples, const SemanticEntropyOptions& options,
                                    double llh_shift = 0.0);

// Discrete semantic entropy (Farquhar et al. 2024, Nature): -Σ_c (n_c/N) log(n_c/N), n_c the
// number of draws in cluster c (duplicates counted: frequencies of draws). No likelihoods used.
double discrete_semantic_entropy(std::span<const GenerationSample> samples);

// The reference study's "semantic uncertainty" (HaitaoMao/LLM-self-correction,
// analysis/uncertainty_estimate_new.py, entropy_estimate): per cluster, the mean over its samples
// of the per-token NLL -logprob_i / max(len_i, 1) (their model loss, a per-token mean); then the
// unweighted mean of those over the clusters. A mean NLL, NOT an entropy: one confident cluster
// and one unlikely cluster average to a large value. distinct = false keeps every draw (that
// file); true drops repeated keys first (their older analysis/uncerntainty.py took set(samples)).
// Their clustering (neither direction a contradiction) is the caller's oracle choice.
double reference_semantic_nll(std::span<const GenerationSample> samples, bool distinct = false);

// Every estimator above with its defaults, plus counts, in one call.
struct SampleUncertaintySummary {
  std::size_t n_samples = 0;
  std::size_t n_distinct = 0;           // distinct keys
  std::size_t n_clusters = 0;
  double predictive_entropy = 0.0;      // PE
  double ln_predictive_entropy = 0.0;   // LN-PE
  double semantic_entropy = 0.0;        // {Total, distinct, normalised}
  double ln_semantic_entropy = 0.0;     // {PerToken, distinct, normalised}
  double discrete_semantic_entropy = 0.0;
  double reference_semantic_nll = 0.0;  // distinct = false
};
SampleUncertaintySummary summarize_sample_uncertainty(std::span<const GenerationSample> samples);

// --- multiple choice answered by sampling

// The empirical distribution of the sampled answers' option indices (−1 = could not be parsed)
// over K options, and its entropy. Unparsed samples are left out of the distribution and counted.
struct OptionSampleEntropy {
  std::vector<double> distribution;       // K entries, counts / n_parsed (all 0 when none parsed)
  std::vector<std::size_t> counts;        // K entries
  std::size_t n_parsed = 0;
  std::size_t n_unparsed = 0;
  std::optional<double> entropy;          // nats; nullopt when no sample was parsed
  std::optional<double> normalized;       // entropy / ln K; nullopt also when K < 2
};
// Throws isc::Error on no samples, K < 1, or an index outside [-1, K).
OptionSampleEntropy option_sample_entropy(std::span<const int> answers, int n_options);

}  // namespace isc::metrics
