// Sample-based uncertainty estimators; definitions and edge cases are documented in sample_uncertainty.h.
// Cluster sums are taken in log space (log-sum-exp) so sequences of hundreds of tokens do not underflow.
#include "metrics/sample_uncertainty.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "common/error.h"

namespace isc::metrics {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// Validated log-probabilities (tolerated rounding above 0 read as 0), one per sample.
std::vector<double> checked_logprobs(std::span<const GenerationSample> samples, const char* metric) {
  if (samples.empty()) throw Error(fmt::format("{}: no samples", metric));
  std::vector<double> lp(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const GenerationSample& s = samples[i];
    if (std::isnan(s.logprob)) throw Error(fmt::format("{}: sample {}: logprob is NaN", metric, i));
    if (s.logprob > kLogprobTolerance)
      throw Error(fmt::format("{}: sample {}: logprob {} is above 0 (a log-probability is <= 0)", metric, i, s.logprob));
    if (s.cluster < 0) throw Error(fmt::format("{}: sample {}: cluster id {} is negative", metric, i, s.cluster));
    lp[i] = s.logprob > 0.0 ? 0.0 : s.logprob;
  }
  return lp;
}

double per_token(double logprob, std::size_t num_tokens) {
  return logprob / static_cast<double>(std::max<std::size_t>(num_tokens, 1));
}

double log_sum_exp(const std::vector<double>& x) {
  double m = kNegInf;
  for (double v : x) m = std::max(m, v);
  if (m == kNegInf) return kNegInf;
  double s = 0.0;
  for (double v : x) s += std::exp(v - m);
  return m + std::log(s);
}

// Which samples stand for a distinct sequence: the first occurrence of each key. Throws when one
// key appears in two clusters.
std::vector<bool> first_occurrences(std::span<const GenerationSample> samples, const char* metric) {
  std::vector<bool> first(samples.size(), false);
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto [it, inserted] = seen.emplace(samples[i].key, i);
    if (inserted) {
      first[i] = true;
    } else if (samples[it->second].cluster != samples[i].cluster) {
      throw Error(fmt::format("{}: samples {} and {} have the same key but clusters {} and {}; identical "
                              "sequences must be in one cluster",
                              metric, it->second, i, samples[it->second].cluster, samples[i].cluster));
    }
  }
  return first;
}

// Cluster index (order of first appearance) per sample, and the caller's id per index.
struct ClusterIndex {
  std::vector<std::size_t> of_sample;
  std::vector<int> ids;
};
ClusterIndex index_clusters(std::span<const GenerationSample> samples) {
  ClusterIndex ci;
  ci.of_sample.resize(samples.size());
  std::unordered_map<int, std::size_t> pos;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto [it, inserted] = pos.emplace(samples[i].cluster, ci.ids.size());
    if (inserted) ci.ids.push_back(samples[i].cluster);
    ci.of_sample[i] = it->second;
  }
  return ci;
}

ClusterLikelihoods cluster_likelihoods_checked(std::span<const GenerationSample> samples,
                                               const SemanticEntropyOptions& o, const char* metric) {
  const std::vector<double> lp = checked_logprobs(samples, metric);
  const ClusterIndex ci = index_clusters(samples);
  const std::vector<bool> first = o.distinct ? first_occurrences(samples, metric) : std::vector<bool>(samples.size(), true);
  std::vector<std::vector<double>> members(ci.ids.size());
  std::vector<double> all;
  ClusterLikelihoods out;
  out.cluster_ids = ci.ids;
  out.counts.assign(ci.ids.size(), 0);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    ++out.counts[ci.of_sample[i]];
    if (!first[i]) continue;
    const double ll = o.likelihood == SequenceLikelihood::Total ? lp[i] : per_token(lp[i], samples[i].num_tokens);
    members[ci.of_sample[i]].push_back(ll);
    all.push_back(ll);
  }
  out.log_prob.reserve(members.size());
  for (const auto& m : members) out.log_prob.push_back(log_sum_exp(m));
  if (o.normalize) {
    const double total = log_sum_exp(all);
    if (total == kNegInf)
      throw Error(fmt::format("{}: every sample has probability 0; cluster probabilities cannot be normalised", metric));
    for (double& v : out.log_prob) v -= total;
  }
  return out;
}

}  // namespace

double predictive_entropy(std::span<const GenerationSample> samples) {
  const std::vector<double> lp = checked_logprobs(samples, "predictive_entropy");
  double s = 0.0;
  for (double v : lp) s -= v;
  return s / static_cast<double>(lp.size());
}

double length_normalized_predictive_entropy(std::span<const GenerationSample> samples) {
  const std::vector<double> lp = checked_logprobs(samples, "length_normalized_predictive_entropy");
  double s = 0.0;
  for (std::size_t i = 0; i < lp.size(); ++i) s -= per_token(lp[i], samples[i].num_tokens);
  return s / static_cast<double>(lp.size());
}

ClusterLikelihoods cluster_likelihoods(std::span<const GenerationSample> samples, const SemanticEntropyOptions& options) {
  return cluster_likelihoods_checked(samples, options, "cluster_likelihoods");
}

double semantic_entropy(std::span<const GenerationSample> samples, const SemanticEntropyOptions& options) {
  if (!options.normalize)
    throw Error("semantic_entropy: options.normalize is false; -sum p log p needs p normalised over the clusters");
  const ClusterLikelihoods c = cluster_likelihoods_checked(samples, options, "semantic_entropy");
  double h = 0.0;
  for (double lp : c.log_prob)
    if (lp != kNegInf) h -= std::exp(lp) * lp;
  return h;
}

double semantic_entropy_mc_samples(std::span<const GenerationSample> samples, const SemanticEntropyOptions& options) {
  const ClusterLikelihoods c = cluster_likelihoods_checked(samples, options, "semantic_entropy_mc_samples");
  double s = 0.0;
  for (std::size_t k = 0; k < c.log_prob.size(); ++k) s -= static_cast<double>(c.counts[k]) * c.log_prob[k];
  return s / static_cast<double>(samples.size());
}

double semantic_entropy_mc_clusters(std::span<const GenerationSample> samples, const SemanticEntropyOptions& options,
                                    double llh_shift) {
  if (!std::isfinite(llh_shift)) throw Error(fmt::format("semantic_entropy_mc_clusters: llh_shift {} is not finite", llh_shift));
  const ClusterLikelihoods c = cluster_likelihoods_checked(samples, options, "semantic_entropy_mc_clusters");
  double s = 0.0;
  for (double lp : c.log_prob) s -= lp - llh_shift;
  return s / static_cast<double>(c.log_prob.size());
}

double discrete_semantic_entropy(std::span<const GenerationSample> samples) {
  checked_logprobs(samples, "discrete_semantic_entropy");
  const ClusterIndex ci = index_clusters(samples);
  std::vector<std::size_t> counts(ci.ids.size(), 0);
  for (std::size_t k : ci.of_sample) ++counts[k];
  const double n = static_cast<double>(samples.size());
  double h = 0.0;
  for (std::size_t c : counts) {
    const double p = static_cast<double>(c) / n;
    h -= p * std::log(p);
  }
  return h;
}

double reference_semantic_nll(std::span<const GenerationSample> samples, bool distinct) {
  const std::vector<double> lp = checked_logprobs(samples, "reference_semantic_nll");
  const ClusterIndex ci = index_clusters(samples);
  const std::vector<bool> first =
      distinct ? first_occurrences(samples, "reference_semantic_nll") : std::vector<bool>(samples.size(), true);
  std::vector<double> sum(ci.ids.size(), 0.0);
  std::vector<std::size_t> count(ci.ids.size(), 0);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (!first[i]) continue;
    sum[ci.of_sample[i]] -= per_token(lp[i], samples[i].num_tokens);
    ++count[ci.of_sample[i]];
  }
  double total = 0.0;
  for (std::size_t k = 0; k < sum.size(); ++k) total += sum[k] / static_cast<double>(count[k]);
  return total / static_cast<double>(sum.size());
}

SampleUncertaintySummary summarize_sample_uncertainty(std::span<const GenerationSample> samples) {
  SampleUncertaintySummary s;
  s.predictive_entropy = predictive_entropy(samples);  // validates first
  s.n_samples = samples.size();
  const std::vector<bool> first = first_occurrences(samples, "summarize_sample_uncertainty");
  s.n_distinct = static_cast<std::size_t>(std::count(first.begin(), first.end(), true));
  s.n_clusters = index_clusters(samples).ids.size();
  s.ln_predictive_entropy = length_normalized_predictive_entropy(samples);
  s.semantic_entropy = semantic_entropy(samples, {SequenceLikelihood::Total, true, true});
  s.ln_semantic_entropy = semantic_entropy(samples, {SequenceLikelihood::PerToken, true, true});
  s.discrete_semantic_entropy = discrete_semantic_entropy(samples);
  s.reference_semantic_nll = reference_semantic_nll(samples, false);
  return s;
}

OptionSampleEntropy option_sample_entropy(std::span<const int> answers, int n_options) {
  if (answers.empty()) throw Error("option_sample_entropy: no samples");
  if (n_options < 1) throw Error(fmt::format("option_sample_entropy: {} options; needs at least 1", n_options));
  OptionSampleEntropy r;
  r.counts.assign(static_cast<std::size_t>(n_options), 0);
  r.distribution.assign(static_cast<std::size_t>(n_options), 0.0);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const int a = answers[i];
    if (a < -1 || a >= n_options)
      throw Error(fmt::format("option_sample_entropy: sample {}: answer {} is outside [-1, {})", i, a, n_options));
    if (a == -1) {
      ++r.n_unparsed;
    } else {
      ++r.counts[static_cast<std::size_t>(a)];
      ++r.n_parsed;
    }
  }
  if (r.n_parsed == 0) return r;
  double h = 0.0;
  for (std::size_t k = 0; k < r.counts.size(); ++k) {
    const double p = static_cast<double>(r.counts[k]) / static_cast<double>(r.n_parsed);
    r.distribution[k] = p;
    if (p > 0.0) h -= p * std::log(p);
  }
  r.entropy = h;
  if (n_options >= 2) r.normalized = h / std::log(static_cast<double>(n_options));
  return r;
}

}  // namespace isc::metrics
