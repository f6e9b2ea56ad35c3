// add_sample_uncertainty (see round_uncertainty.h): keys for exact matching, metrics::
// cluster_by_entailment with the judge asked in batches for every round at once, then the
// estimators.
#include "protocol/round_uncertainty.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "common/error.h"
#include "metrics/sample_uncertainty.h"
#include "metrics/semantic_clusters.h"

namespace isc::protocol {

namespace {

// The exact-match identity of a sample: its option where it names one, else its normalised text.
std::string exact_key(const SampleRecord& s, bool options) {
  if (options && s.answer_index >= 0) return fmt::format("option {}", s.answer_index);
  return "text " + metrics::exact_match_key(s.parsed_answer);
}

// Finite values only: JSON has no infinity, and a missing number must not read as zero.
void put_estimate(nlohmann::json& out, const char* name, double value) {
  if (std::isfinite(value)) out[name] = value;
  else out["not_finite"].push_back(name);
}

}  // namespace

std::string sample_entailment_mode(const tasks::TaskSpec& task, const tasks::SamplesSpec& samples) {
  if (!samples.entailment.empty()) return samples.entailment;
  return task.kind == tasks::TaskKind::open_generation ? "judge" : "exact";
}

void add_sample_uncertainty(std::vector<RoundRecord>& records, const std::vector<std::string>& contexts,
                            const std::string& mode, const tasks::TaskSpec* option_task,
                            tasks::EntailmentJudge* judge) {
  if (contexts.size() != records.size()) throw Error("add_sample_uncertainty: one context per record");
  if (mode != "exact" && mode != "judge") throw Error("sample entailment '" + mode + "' (expected exact or judge)");
  if (mode == "judge" && !judge) throw Error("sample entailment 'judge' needs a judge");
  const bool options = option_task != nullptr;

  // Per record: each sample's exact key, the first sample of each distinct key, and its position
  // among those.
  std::vector<std::vector<std::string>> keys(records.size());
  std::vector<std::vector<size_t>> reps(records.size());
  std::vector<std::map<std::string, size_t>> rep_of_key(records.size());
  for (size_t r = 0; r < records.size(); ++r)
    for (size_t k = 0; k < records[r].samples.size(); ++k) {
      keys[r].push_back(exact_key(records[r].samples[k], options));
      if (rep_of_key[r].emplace(keys[r].back(), reps[r].size()).second) reps[r].push_back(k);
    }

  // metrics::cluster_by_entailment over each record's distinct answers. The judge is asked in
  // batches for all records at once: a pass clusters with what is known, taking a pair not yet
  // decided as "no" and noting it; the noted pairs are asked together and the pass runs again,
  // until one needs nothing new. That last pass is the algorithm with real answers, and the judge
  // was asked only pairs some pass needed. Exact mode: no pair entails, each key is a cluster.
  std::map<std::tuple<size_t, size_t, size_t>, bool> decided;  // (record, a, b) -> a entails b
  // an empty answer means nothing: it is equivalent only to another empty answer (an equal key)
  auto blank = [&](size_t r, size_t k) { return metrics::exact_match_key(records[r].samples[k].parsed_answer).empty(); };
  std::vector<std::vector<int>> rep_cluster(records.size());
  for (;;) {
    std::vector<std::tuple<size_t, size_t, size_t>> needed;
    for (size_t r = 0; r < records.size(); ++r) {
      const std::vector<size_t>& d = reps[r];
      rep_cluster[r] = metrics::cluster_by_entailment(d.size(), [&](size_t i, size_t j) {
        if (mode != "judge" || blank(r, d[i]) || blank(r, d[j])) return false;
        auto it = decided.find({r, d[i], d[j]});
        if (it != decided.end()) return it->second;
        needed.emplace_back(r, d[i], d[j]);
        return false;
      });
    }
    std::vector<tasks::EntailmentQuery> queries;
    std::vector<std::tuple<size_t, size_t, size_t>> asked;
    for (const auto& p : needed) {
      if (!decided.emplace(p, false).second) continue;  // a pair noted twice is asked once
      const auto [r, a, b] = p;
      queries.push_back({contexts[r], records[r].samples[a].parsed_answer, records[r].samples[b].parsed_answer});
      asked.push_back(p);
    }
    if (queries.empty()) break;
    const std::vector<EntailmentRecord> answers = judge->decide(queries);
    for (size_t i = 0; i < asked.size(); ++i) decided[asked[i]] = judge->entails(answers[i]);
  }

  for (size_t r = 0; r < records.size(); ++r) {
    RoundRecord& rec = records[r];
    const size_t n = rec.samples.size();
    if (n == 0) continue;
    std::vector<int> cluster(n);
    for (size_t k = 0; k < n; ++k) cluster[k] = rep_cluster[r][rep_of_key[r].at(keys[r][k])];
    std::vector<metrics::GenerationSample> gs;
    for (size_t k = 0; k < n; ++k) {
      SampleRecord& smp = rec.samples[k];
      smp.cluster = cluster[k];
      double lp = 0.0;
      for (const TokenRecord& t : smp.tokens) lp += t.logprob;
      gs.push_back({lp, smp.tokens.size(), smp.cluster, smp.generated_text});
    }
    const metrics::SampleUncertaintySummary u = metrics::summarize_sample_uncertainty(gs);
    nlohmann::json est = nlohmann::json::object();
    put_estimate(est, "predictive_entropy", u.predictive_entropy);
    put_estimate(est, "ln_predictive_entropy", u.ln_predictive_entropy);
    put_estimate(est, "semantic_entropy", u.semantic_entropy);
    put_estimate(est, "ln_semantic_entropy", u.ln_semantic_entropy);
    put_estimate(est, "discrete_semantic_entropy", u.discrete_semantic_entropy);
    put_estimate(est, "reference_semantic_nll", u.reference_semantic_nll);
    nlohmann::json counts = {{"samples", u.n_samples}, {"distinct", u.n_distinct}, {"clusters", u.n_clusters},
                             {"entailment", mode}};
    if (options) {
      std::vector<int> answers;
      for (const SampleRecord& smp : rec.samples) answers.push_back(smp.answer_index);
      // the round's options: as many as it has option probabilities (the item's options)
      const int k = rec.option_probs.empty() ? static_cast<int>(option_task->option_labels.size())
                                             : static_cast<int>(rec.option_probs.size());
      const auto o = metrics::option_sample_entropy(answers, k);
      if (o.entropy) put_estimate(est, "option_sample_entropy", *o.entropy);
      counts["unparsed"] = o.n_unparsed;
    }
    rec.extra["uncertainty"] = std::move(est);
    rec.extra["sampling"] = std::move(counts);
  }
  if (judge) {
    for (RoundRecord& rec : records)
      if (!rec.samples.empty()) rec.extra["sampling"]["judge"] = judge->judge();
  }
}

}  // namespace isc::protocol
