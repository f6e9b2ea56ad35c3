// Test tool: runs isc's mechanism analyses (simulation task, transition theory, geometric fit, Wilson
// intervals) on a JSON request from stdin and prints JSON, for tests/py/test_mechanism_math.py.
// Input: one request object or an array of them, each {"op": ..., ...}:
//   {"op": "simulation_task", "rows": [...], "options": {"folds", "l2", "seed", "confidence_level"}}
//   {"op": "transition_theory", "rows": [...], "options": {"from_round", "bootstrap_resamples", ...}}
//   {"op": "geometric_fit", "name": ..., "series": [[round, value], ...]}
//   {"op": "wilson", "args": [[successes, n, level], ...]}
// A row is {"item_id", "round", "concept", "uncertainty", "correct", "random_concepts"}; a missing or
// null field is absent. Output: the result's to_json (the simulation task's with pairs and
// out-of-fold predictions); a request that isc rejects gives {"error": "<isc::Error message>"}.
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "json_requests.h"
#include "sim/geometric_fit.h"
#include "sim/simulation_task.h"
#include "sim/transition_theory.h"
#include "sim/wilson_interval.h"

namespace {

using nlohmann::json;

template <class T>
std::optional<T> optional_field(const json& row, const char* key) {
  if (!row.contains(key) || row[key].is_null()) return std::nullopt;
  return row[key].get<T>();
}

std::vector<isc::sim::ItemRoundState> read_rows(const json& rows) {
  std::vector<isc::sim::ItemRoundState> out;
  for (const json& r : rows) {
    isc::sim::ItemRoundState s;
    s.item_id = r.at("item_id").get<std::string>();
    s.round = r.at("round").get<int>();
    s.concept_score = optional_field<double>(r, "concept");
    s.uncertainty = optional_field<double>(r, "uncertainty");
    s.correct = optional_field<bool>(r, "correct");
    if (r.contains("random_concepts") && !r["random_concepts"].is_null())
      s.random_concepts = r["random_concepts"].get<std::vector<double>>();
    out.push_back(std::move(s));
  }
  return out;
}

json run(const json& req) {
  const std::string op = req.at("op").get<std::string>();
  const json opts = req.value("options", json::object());
  if (op == "simulation_task") {
    isc::sim::SimulationTaskOptions o;
    o.folds = opts.value("folds", o.folds);
    o.l2 = opts.value("l2", o.l2);
    o.seed = opts.value("seed", o.seed);
    o.confidence_level = opts.value("confidence_level", o.confidence_level);
    const auto r = isc::sim::simulation_task(read_rows(req.at("rows")), o);
    json j = isc::sim::to_json(r, true);
    j["text"] = isc::sim::to_text(r);
    return j;
  }
  if (op == "transition_theory") {
    isc::sim::TransitionTheoryOptions o;
    o.from_round = opts.value("from_round", o.from_round);
    o.bootstrap_resamples = opts.value("bootstrap_resamples", o.bootstrap_resamples);
    o.confidence_level = opts.value("confidence_level", o.confidence_level);
    o.seed = opts.value("seed", o.seed);
    const auto r = isc::sim::transition_theory(read_rows(req.at("rows")), o);
    json j = isc::sim::to_json(r);
    j["text"] = isc::sim::to_text(r);
    return j;
  }
  if (op == "geometric_fit") {
    std::vector<isc::sim::SeriesPoint> series;
    for (const json& p : req.at("series")) series.push_back({p.at(0).get<int>(), p.at(1).get<double>()});
    const auto r = isc::sim::fit_geometric(req.value("name", std::string("series")), series);
    json j = isc::sim::to_json(r);
    j["text"] = isc::sim::to_text(r);
    return j;
  }
  if (op == "wilson") {
    json values = json::array();
    for (const json& a : req.at("args"))
      values.push_back(isc::sim::to_json(
          isc::sim::wilson_interval(a.at(0).get<std::size_t>(), a.at(1).get<std::size_t>(), a.at(2).get<double>())));
    return {{"values", values}};
  }
  throw isc::Error("mechanism_math: unknown op '" + op + "'");
}

}  // namespace

int main() { return isc::test_tools::serve_json_requests("mechanism_math", run); }
