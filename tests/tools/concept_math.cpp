// Test tool: runs isc's statistics and concept-direction maths on a JSON request from stdin and
// prints JSON, so tests/py/test_concept_math.py can compare every number with scipy / scikit-learn.
// Input: one request object or an array of them, each {"op": ..., ...}; output: the matching result
// object(s); a request that isc rejects gives {"error": "<isc::Error message>"}.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "json_requests.h"
#include "concepts/ccs.h"
#include "concepts/direction_methods.h"
#include "metrics/correlation.h"
#include "metrics/regression.h"

namespace {

using nlohmann::json;
using isc::metrics::Matrix;

Matrix to_matrix(const json& j) {
  Matrix m(static_cast<int64_t>(j.size()), j.empty() ? 0 : static_cast<int64_t>(j[0].size()));
  for (int64_t r = 0; r < m.rows; ++r) {
    if (static_cast<int64_t>(j[r].size()) != m.cols) throw isc::Error("concept_math: ragged matrix");
    for (int64_t c = 0; c < m.cols; ++c) m.at(r, c) = j[r][c].get<double>();
  }
  return m;
}

json logistic_json(const isc::metrics::LogisticFit& f) {
  return {{"intercept", f.intercept},   {"coef", f.coef},           {"std_errors", f.std_errors},
          {"z_values", f.z_values},     {"p_values", f.p_values},   {"iterations", f.iterations},
          {"converged", f.converged},   {"separated", f.separated}, {"log_likelihood", f.log_likelihood},
          {"column_mean", f.column_mean}, {"column_std", f.column_std}};
}

json scalar_batch(const json& req, const char* key, double (*fn)(const std::vector<double>&)) {
  json out = json::array();
  for (const auto& args : req.at(key)) out.push_back(fn(args.get<std::vector<double>>()));
  return {{"values", out}};
}

json ccs_json(const json& req) {
  const Matrix pos = to_matrix(req.at("positive")), neg = to_matrix(req.at("negative"));
  isc::concepts::CcsOptions o;
  o.ntries = req.value("ntries", o.ntries);
  o.epochs = req.value("epochs", o.epochs);
  o.learning_rate = req.value("lr", o.learning_rate);
  o.weight_decay = req.value("weight_decay", o.weight_decay);
  o.var_normalize = req.value("var_normalize", o.var_normalize);
  o.seed = req.value("seed", o.seed);
  const isc::concepts::CcsProbe p = isc::concepts::train_ccs(pos, neg, o);
  json inits = json::array();
  for (int t = 0; t < o.ntries; ++t) {
    const auto init = isc::concepts::ccs_initial_parameters(pos.cols, o.seed, t);
    inits.push_back({{"weights", init.weights}, {"bias", init.bias}});
  }
  json out = {{"weights", p.weights},   {"bias", p.bias},         {"loss", p.loss},
              {"best_try", p.best_try}, {"try_losses", p.try_losses}, {"inits", inits},
              {"mean_pos", p.mean_pos}, {"mean_neg", p.mean_neg}, {"std_pos", p.std_pos},
              {"std_neg", p.std_neg}};
  if (req.contains("labels")) {
    const auto acc = isc::concepts::ccs_accuracy(p, pos, neg, req.at("labels").get<std::vector<int>>());
    out["accuracy"] = acc.accuracy;
    out["flipped"] = acc.flipped;
  }
  return out;
}

json run(const json& req) {
  namespace m = isc::metrics;
  namespace c = isc::concepts;
  const std::string op = req.at("op").get<std::string>();
  if (op == "pearson" || op == "spearman") {
    const auto x = req.at("x").get<std::vector<double>>(), y = req.at("y").get<std::vector<double>>();
    const m::Correlation r = op == "pearson" ? m::pearson(x, y) : m::spearman(x, y);
    return {{"r", r.r}, {"p", r.p_value}, {"n", r.n}};
  }
  if (op == "ranks") {
    const auto x = req.at("x").get<std::vector<double>>();
    std::vector<double> r(x.size());
    m::average_ranks(x, r);
    return {{"ranks", r}};
  }
  if (op == "betainc")
    return scalar_batch(req, "args", [](const std::vector<double>& a) { return m::regularized_incomplete_beta(a.at(0), a.at(1), a.at(2)); });
  if (op == "t_p") return scalar_batch(req, "args", [](const std::vector<double>& a) { return m::student_t_two_sided_p(a.at(0), a.at(1)); });
  if (op == "f_sf") return scalar_batch(req, "args", [](const std::vector<double>& a) { return m::f_distribution_sf(a.at(0), a.at(1), a.at(2)); });
  if (op == "norm_p") return scalar_batch(req, "args", [](const std::vector<double>& a) { return m::normal_two_sided_p(a.at(0)); });
  if (op == "ols") {
    const m::OlsFit f = m::ols(to_matrix(req.at("X")), req.at("y").get<std::vector<double>>());
    return {{"intercept", f.intercept}, {"coef", f.coef},     {"std_errors", f.std_errors}, {"t_values", f.t_values},
            {"p_values", f.p_values},   {"r2", f.r2},         {"adj_r2", f.adj_r2},         {"f_stat", f.f_stat},
            {"f_p_value", f.f_p_value}, {"n", f.n}};
  }
  if (op == "logistic") {
    m::LogisticOptions o;
    o.l2 = req.value("l2", 0.0);
    o.standardize = req.value("standardize", false);
    return logistic_json(m::logistic_regression(to_matrix(req.at("X")), req.at("y").get<std::vector<int>>(), o));
  }
  if (op == "standardize") {
    const m::Standardized s = m::standardize(to_matrix(req.at("X")));
    json rows = json::array();
    for (int64_t r = 0; r < s.X.rows; ++r) rows.push_back(std::vector<double>(s.X.row(r), s.X.row(r) + s.X.cols));
    return {{"X", rows}, {"mean", s.mean}, {"scale", s.scale}};
  }
  if (op == "probe") {
    const Matrix X = to_matrix(req.at("X"));
    const auto y = req.at("y").get<std::vector<int>>();
    const c::Probe p = c::train_probe(X, y, req.value("l2", 1.0));
    std::vector<double> probs;
    for (int64_t r = 0; r < X.rows; ++r) probs.push_back(p.probability(X.row(r)));
    return {{"weights", p.weights}, {"bias", p.bias}, {"mean", p.mean}, {"scale", p.scale},
            {"raw_direction", p.raw_direction()}, {"probabilities", probs}};
  }
  if (op == "mean_difference")
    return {{"direction", c::mean_difference(to_matrix(req.at("X")), req.at("y").get<std::vector<int>>())}};
  if (op == "mean_difference_paired")
    return {{"direction", c::mean_difference_paired(to_matrix(req.at("positive")), to_matrix(req.at("negative")))}};
  if (op == "pca_diff") return {{"direction", c::pca_diff(to_matrix(req.at("positive")), to_matrix(req.at("negative")))}};
  if (op == "pca_center")
    return {{"direction", c::pca_center(to_matrix(req.at("positive")), to_matrix(req.at("negative")))}};
  if (op == "first_pc") return {{"direction", c::first_principal_component(to_matrix(req.at("X")))}};
  if (op == "direction_accuracy") {
    const Matrix X = to_matrix(req.at("X"));
    const auto y = req.at("y").get<std::vector<int>>();
    const auto d = req.at("direction").get<std::vector<double>>();
    const double t = c::midpoint_threshold(X, y, d);
    return {{"threshold", t}, {"accuracy", c::direction_accuracy(X, y, d, t)}};
  }
  if (op == "ccs") return ccs_json(req);
  throw isc::Error("concept_math: unknown op '" + op + "'");
}

}  // namespace

int main() { return isc::test_tools::serve_json_requests("concept_math", run); }
