// add_sample_uncertainty (see round_uncertainty.h): keys for exact matching, one batch of judge
// queries for every pair of distinct answers of every round, then clusters and estimators.
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

  // Per record: exact keys, and the distinct keys' representative samples.
  std::vector<std::vector<std::string>> keys(records.size());
  std::vector<std::vector<size_t>> reps(records.size());
  std::vector<tasks::EntailmentQuery> queries;
  std::map<std::tuple<size_t, size_t, size_t>, size_t> query_of;  // (record, rep a, rep b) -> query
  for (size_t r = 0; r < records.size(); ++r) {
    std::map<std::string, size_t> seen;
    for (size_t k = 0; k < records[r].samples.size(); ++k) {
      keys[r].push_back(exact_key(records[r].samples[k], options));
      if (seen.emplace(keys[r].back(), k).second) reps[r].push_back(k);
    }
    if (mode != "judge") continue;
    for (size_t a : reps[r])
      for (size_t b : reps[r]) {
        if (a == b) continue;
        const std::string& ta = records[r].samples[a].parsed_answer;
        const std::string& tb = records[r].samples[b].parsed_answer;
        // an empty answer means nothing: it entails only another empty answer (equal keys above)
        if (metrics::exact_match_key(ta).empty() || metrics::exact_match_key(tb).empty()) continue;
        query_of[{r, a, b}] = queries.size();
        queries.push_back({contexts[r], ta, tb});
      }
  }
  std::vector<EntailmentRecord> decisions;
  if (!queries.empty()) decisions = judge->decide(queries);

  for (size_t r = 0; r < records.size(); ++r) {
    RoundRecord& rec = records[r];
    const size_t n = rec.samples.size();
    if (n == 0) continue;
    auto entails = [&](size_t a, size_t b) {
      auto it = query_of.find({r, a, b});
      return it != query_of.end() && judge->entails(decisions[it->second]);
    };
    // samples with equal keys are equivalent without asking; others through their representatives
    std::map<std::string, size_t> rep_of;
    for (size_t k : reps[r]) rep_of[keys[r][k]] = k;
    const std::vector<int> cluster = metrics::cluster_by_equivalence(n, [&](size_t i, size_t j) {
      if (keys[r][i] == keys[r][j]) return true;
      if (mode != "judge") return false;
      const size_t a = rep_of[keys[r][i]], b = rep_of[keys[r][j]];
      return entails(a, b) && entails(b, a);
    });
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
