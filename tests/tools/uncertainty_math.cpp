// Test tool: runs isc's sample-uncertainty, clustering, rank-calibration and selective-prediction
// maths on a JSON request from stdin and prints JSON, so tests/py/test_uncertainty_math.py can
// compare every number with numpy / scipy / scikit-learn.
// Input: one request object or an array of them, each {"op": ..., ...}; output: the matching result
// object(s); a request that isc rejects gives {"error": "<isc::Error message>"}. Non-finite numbers
// travel as the strings "inf", "-inf", "nan" both ways (JSON has no literal for them).
#include <cmath>
#include <cstdint>
#include <iostream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "json_requests.h"
#include "metrics/rank_calibration.h"
#include "metrics/sample_uncertainty.h"
#include "metrics/selective_prediction.h"
#include "metrics/semantic_clusters.h"

namespace {

using nlohmann::json;
namespace m = isc::metrics;

double number(const json& j) {
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    throw isc::Error("uncertainty_math: bad number string '" + s + "'");
  }
  return j.get<double>();
}

std::vector<double> numbers(const json& j) {
  std::vector<double> v;
  for (const auto& x : j) v.push_back(number(x));
  return v;
}

json out(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

json out(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(out(x));
  return a;
}

json out(const std::optional<double>& v) { return v ? out(*v) : json(nullptr); }

// Runs f, giving its value or {"error": message} so one rejected estimator does not hide the rest.
template <class F>
json attempt(F&& f) {
  try {
    return f();
  } catch (const isc::Error& e) {
    return json{{"error", e.what()}};
  }
}

std::vector<m::GenerationSample> samples_of(const json& req) {
  std::vector<m::GenerationSample> s;
  for (const auto& j : req.at("samples"))
    s.push_back({number(j.at("logprob")), j.at("num_tokens").get<std::size_t>(), j.at("cluster").get<int>(),
                 j.at("key").get<std::string>()});
  return s;
}

m::SemanticEntropyOptions options_of(const json& req) {
  m::SemanticEntropyOptions o;
  const std::string lk = req.value("likelihood", std::string("total"));
  if (lk == "total") {
    o.likelihood = m::SequenceLikelihood::Total;
  } else if (lk == "per_token") {
    o.likelihood = m::SequenceLikelihood::PerToken;
  } else {
    throw isc::Error("uncertainty_math: likelihood must be total or per_token, not " + lk);
  }
  o.distinct = req.value("distinct", o.distinct);
  o.normalize = req.value("normalize", o.normalize);
  return o;
}

json samples_json(const json& req) {
  const auto s = samples_of(req);
  const m::SemanticEntropyOptions o = options_of(req);
  const double shift = req.value("llh_shift", 0.0);
  json r;
  r["predictive_entropy"] = attempt([&] { return out(m::predictive_entropy(s)); });
  r["ln_predictive_entropy"] = attempt([&] { return out(m::length_normalized_predictive_entropy(s)); });
  r["cluster_likelihoods"] = attempt([&] {
    const m::ClusterLikelihoods c = m::cluster_likelihoods(s, o);
    return json{{"cluster_ids", c.cluster_ids}, {"log_prob", out(c.log_prob)}, {"counts", c.counts}};
  });
  r["semantic_entropy"] = attempt([&] { return out(m::semantic_entropy(s, o)); });
  r["semantic_entropy_mc_samples"] = attempt([&] { return out(m::semantic_entropy_mc_samples(s, o)); });
  r["semantic_entropy_mc_clusters"] = attempt([&] { return out(m::semantic_entropy_mc_clusters(s, o, shift)); });
  r["discrete_semantic_entropy"] = attempt([&] { return out(m::discrete_semantic_entropy(s)); });
  r["reference_semantic_nll"] = attempt([&] { return out(m::reference_semantic_nll(s, false)); });
  r["reference_semantic_nll_distinct"] = attempt([&] { return out(m::reference_semantic_nll(s, true)); });
  r["summary"] = attempt([&] {
    const m::SampleUncertaintySummary u = m::summarize_sample_uncertainty(s);
    return json{{"n_samples", u.n_samples},
                {"n_distinct", u.n_distinct},
                {"n_clusters", u.n_clusters},
                {"predictive_entropy", out(u.predictive_entropy)},
                {"ln_predictive_entropy", out(u.ln_predictive_entropy)},
                {"semantic_entropy", out(u.semantic_entropy)},
                {"ln_semantic_entropy", out(u.ln_semantic_entropy)},
                {"discrete_semantic_entropy", out(u.discrete_semantic_entropy)},
                {"reference_semantic_nll", out(u.reference_semantic_nll)}};
  });
  return r;
}

json cluster_json(const json& req) {
  const auto rows = req.at("entails");
  const std::size_t n = rows.size();
  std::vector<std::uint8_t> mat;
  for (const auto& row : rows) {
    if (row.size() != n) throw isc::Error("uncertainty_math: entails must be an n x n matrix");
    for (const auto& v : row) mat.push_back(static_cast<std::uint8_t>(v.get<int>() != 0));
  }
  std::size_t calls = 0;
  const auto ids = m::cluster_by_entailment(n, [&](std::size_t a, std::size_t b) {
    ++calls;
    return mat[a * n + b] != 0;
  });
  if (m::cluster_by_entailment_matrix(n, mat) != ids) throw isc::Error("uncertainty_math: matrix form disagrees");
  return {{"ids", ids}, {"calls", calls}, {"pairs", m::all_entailment_pairs(n).size()}};
}

json run(const json& req) {
  const std::string op = req.at("op").get<std::string>();
  if (op == "samples") return samples_json(req);
  if (op == "cluster") return cluster_json(req);
  if (op == "exact_match") {
    const auto texts = req.at("texts").get<std::vector<std::string>>();
    std::vector<std::string> keys;
    for (const auto& t : texts) keys.push_back(m::exact_match_key(t));
    return {{"keys", keys}, {"ids", m::cluster_by_exact_match(texts)}};
  }
  if (op == "option_entropy") {
    const m::OptionSampleEntropy e =
        m::option_sample_entropy(req.at("answers").get<std::vector<int>>(), req.at("n_options").get<int>());
    return {{"distribution", e.distribution}, {"counts", e.counts},          {"n_parsed", e.n_parsed},
            {"n_unparsed", e.n_unparsed},     {"entropy", out(e.entropy)}, {"normalized", out(e.normalized)}};
  }
  if (op == "rank_calibration") {
    const m::RankCalibration r =
        m::rank_calibration(numbers(req.at("uncertainty")), numbers(req.at("quality")),
                            req.value("n_bins", m::kRankCalibrationBins), req.value("p", 1));
    json bins = json::array();
    for (const auto& b : r.bins)
      bins.push_back({{"begin", b.begin},
                      {"count", b.count},
                      {"uncertainty_lower", out(b.uncertainty_lower)},
                      {"uncertainty_upper", out(b.uncertainty_upper)},
                      {"mean_quality", b.mean_quality},
                      {"uncertainty_rank", b.uncertainty_rank},
                      {"quality_rank", b.quality_rank},
                      {"quality_rank_from_top", b.quality_rank_from_top}});
    return {{"rce", r.rce}, {"diagram_deviation", r.diagram_deviation}, {"n", r.n}, {"n_bins", r.n_bins}, {"bins", bins}};
  }
  if (op == "auroc")
    return {{"auroc", out(m::uncertainty_auroc(numbers(req.at("uncertainty")), req.at("incorrect").get<std::vector<int>>()))}};
  if (op == "prr") {
    const m::PredictionRejection p =
        m::prediction_rejection(numbers(req.at("uncertainty")), numbers(req.at("quality")), req.value("max_rejection", 1.0));
    return {{"auc_uncertainty", p.auc_uncertainty}, {"auc_oracle", p.auc_oracle}, {"auc_random", p.auc_random},
            {"prr", out(p.prr)},                    {"curve", p.curve},           {"oracle_curve", p.oracle_curve}};
  }
  throw isc::Error("uncertainty_math: unknown op '" + op + "'");
}

}  // namespace

int main() { return isc::test_tools::serve_json_requests("uncertainty_math", run); }
