// JSON and text forms of the simulation task's result; see simulation_task.h.
// Field names follow the struct fields; an undefined statistic is {"unavailable": reason}.
#include <fmt/format.h>

#include "sim/simulation_task.h"

namespace isc::sim {

namespace {

using nlohmann::json;

json unavailable(const std::string& why) { return {{"unavailable", why}}; }

json classifier_json(const ClassifierResult& c, bool with_pairs) {
  json j = {{"name", c.name}, {"features", c.features}};
  if (!c.accuracy) {
    j["accuracy"] = unavailable(c.unavailable);
    return j;
  }
  j["accuracy"] = to_json(*c.accuracy);
  j["single_class_folds"] = c.single_class_folds;
  j["unfit_folds"] = c.unfit_folds;
  if (with_pairs) {
    j["predictions"] = c.predictions;
    j["probabilities"] = c.probabilities;
  }
  return j;
}

json random_json(const RandomDirectionBaseline& r) {
  json j = {{"directions", r.directions}, {"directions_constant", r.directions_constant}};
  if (!r.mean_accuracy) {
    j["mean_accuracy"] = unavailable(r.unavailable);
    return j;
  }
  j["accuracies"] = r.accuracies;
  j["mean_accuracy"] = *r.mean_accuracy;
  j["lower"] = *r.lower;
  j["upper"] = *r.upper;
  j["share_beaten"] = r.share_beaten ? json(*r.share_beaten) : unavailable("the concept direction's classifier is unavailable");
  return j;
}

json full_fit_json(const FullDataFit& f) {
  if (!f.fit) return unavailable(f.unavailable);
  const metrics::LogisticFit& fit = *f.fit;
  if (!f.inference_unavailable.empty())
    return {{"coefficient", unavailable(f.inference_unavailable)}, {"iterations", fit.iterations}};
  return {{"intercept", fit.intercept},
          {"coefficient", fit.coef[0]},
          {"coefficient_raw", *f.coefficient_raw},
          {"std_error", fit.std_errors[1]},
          {"intercept_std_error", fit.std_errors[0]},
          {"z_value", fit.z_values[1]},
          {"p_value", fit.p_values[1]},
          {"column_mean", fit.column_mean[0]},
          {"column_std", fit.column_std[0]},
          {"log_likelihood", fit.log_likelihood},
          {"iterations", fit.iterations}};
}

json direction_json(const DirectionResult& d, bool with_pairs) {
  json j = {{"feature", d.feature}, {"label", d.label}, {"n_pairs", d.n_pairs}, {"n_items", d.n_items}};
  if (!d.unavailable.empty()) {
    j["unavailable"] = d.unavailable;
    return j;
  }
  j["n_positive"] = d.n_positive;
  json cs = json::array();
  for (const ClassifierResult& c : d.classifiers) cs.push_back(classifier_json(c, with_pairs));
  j["classifiers"] = std::move(cs);
  if (d.random_directions) j["random_directions"] = random_json(*d.random_directions);
  j["full_fit"] = full_fit_json(d.full_fit);
  return j;
}

std::string percent(const Proportion& p) {
  return fmt::format("{:.2f}% [{:.2f}, {:.2f}] ({}/{})", 100 * p.estimate, 100 * p.lower, 100 * p.upper, p.successes, p.n);
}

void direction_text(std::string& out, const DirectionResult& d, const SimulationTaskOptions& o) {
  out += fmt::format("{} -> {}: ", d.feature, d.label);
  if (!d.unavailable.empty()) {
    out += fmt::format("unavailable: {}\n", d.unavailable);
    return;
  }
  out += fmt::format("{} pairs, {} items, {} positive; {}-fold CV grouped by item, l2 = {}, Wilson {:.0f}%\n", d.n_pairs,
                     d.n_items, d.n_positive, o.folds, o.l2, 100 * o.confidence_level);
  for (const ClassifierResult& c : d.classifiers) {
    if (!c.accuracy) {
      out += fmt::format("  {:<42} unavailable: {}\n", c.name, c.unavailable);
      continue;
    }
    std::string note;
    if (c.single_class_folds) note += fmt::format("; {} one-class training folds predicted their class", c.single_class_folds);
    if (c.unfit_folds) note += fmt::format("; {} folds unfit, predicted the training majority", c.unfit_folds);
    out += fmt::format("  {:<42} {}{}\n", c.name, percent(*c.accuracy), note);
  }
  if (const auto& r = d.random_directions) {
    if (!r->mean_accuracy)
      out += fmt::format("  {:<42} unavailable: {}\n", "random directions", r->unavailable);
    else
      out += fmt::format("  {:<42} mean {:.2f}% [{:.2f}, {:.2f}] over {} directions{}; concept beats {}\n",
                         "random directions", 100 * *r->mean_accuracy, 100 * *r->lower, 100 * *r->upper,
                         r->accuracies.size(),
                         r->directions_constant ? fmt::format(" ({} constant left out)", r->directions_constant) : "",
                         r->share_beaten ? fmt::format("{:.1f}%", 100 * *r->share_beaten) : std::string("(unavailable)"));
  }
  const FullDataFit& f = d.full_fit;
  if (!f.fit)
    out += fmt::format("  full-data fit: unavailable: {}\n", f.unavailable);
  else if (!f.inference_unavailable.empty())
    out += fmt::format("  full-data fit: unavailable: {}\n", f.inference_unavailable);
  else
    out += fmt::format("  full-data fit: coef {:.4g} per sd (SE {:.3g}, p = {:.3g}); {:.4g} per unit\n", f.fit->coef[0],
                       f.fit->std_errors[1], f.fit->p_values[1], *f.coefficient_raw);
}

}  // namespace

nlohmann::json to_json(const SimulationTaskResult& r, bool with_pairs) {
  json j = {{"options",
             {{"folds", r.options.folds},
              {"l2", r.options.l2},
              {"seed", r.options.seed},
              {"confidence_level", r.options.confidence_level}}},
            {"n_states", r.n_states},
            {"n_items", r.n_items},
            {"n_pairs", r.pairs.size()}};
  if (!r.unavailable.empty()) j["unavailable"] = r.unavailable;
  j["forward"] = direction_json(r.forward, with_pairs);
  j["reverse"] = direction_json(r.reverse, with_pairs);
  if (with_pairs) {
    json ps = json::array();
    for (const RoundPair& p : r.pairs)
      ps.push_back({{"item_id", p.item_id},
                    {"round", p.round},
                    {"concept_before", p.concept_before},
                    {"concept_after", p.concept_after},
                    {"uncertainty_before", p.uncertainty_before},
                    {"uncertainty_after", p.uncertainty_after},
                    {"random_deltas", p.random_deltas},
                    {"fold", p.fold}});
    j["pairs"] = std::move(ps);
  }
  return j;
}

std::string to_text(const SimulationTaskResult& r) {
  std::string out;
  if (!r.unavailable.empty()) {
    out += fmt::format("simulation task: unavailable: {}\n", r.unavailable);
    return out;
  }
  direction_text(out, r.forward, r.options);
  direction_text(out, r.reverse, r.options);
  return out;
}

}  // namespace isc::sim
