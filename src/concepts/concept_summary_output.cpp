// The concept summary as people and the store see it: JSON, the text block `isc concept score` and
// `isc report` print, and the probes-table rows that hold it. Computed in concept_summary.cpp.
#include <fmt/format.h>

#include "concepts/concept_summary.h"

namespace isc::concepts {

namespace {

using nlohmann::json;

// ---- JSON

json or_null(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json correlation_json(const metrics::Correlation& c) { return {{"r", c.r}, {"p_value", c.p_value}, {"n", c.n}}; }

json round_json(const RoundConcept& r) {
  json j = {{"round", r.round},
            {"n", r.n},
            {"mean", r.mean},
            {"delta", or_null(r.delta)},
            {"mean_probability", or_null(r.mean_probability)},
            {"n_probability", r.n_probability},
            {"mean_uncertainty", or_null(r.mean_uncertainty)},
            {"n_uncertainty", r.n_uncertainty}};
  if (r.ci) {
    j["lower"] = r.ci->lower;
    j["upper"] = r.ci->upper;
    j["level"] = r.ci->level;
    j["resamples"] = r.ci->resamples;
  } else {
    j["lower"] = j["upper"] = nullptr;
    j["ci_unavailable"] = r.ci_unavailable;
  }
  return j;
}

json correlation_result_json(const CorrelationResult& c) {
  if (!c.pearson) return {{"n", c.n}, {"unavailable", c.unavailable}};
  return {{"n", c.n}, {"pearson", correlation_json(*c.pearson)}, {"spearman", correlation_json(*c.spearman)}};
}

json ols_json(const OlsResult& o) {
  if (!o.fit) return {{"unavailable", o.unavailable}};
  const metrics::OlsFit& f = *o.fit;
  return {{"model", "uncertainty ~ concept"},
          {"intercept", f.intercept},
          {"slope", f.coef.at(0)},
          {"std_errors", f.std_errors},
          {"t_values", f.t_values},
          {"p_values", f.p_values},
          {"r2", f.r2},
          {"adj_r2", f.adj_r2},
          {"f_stat", f.f_stat},
          {"f_p_value", f.f_p_value},
          {"n", f.n}};
}

json logistic_json(const LogisticResult& l) {
  json j = {{"model", "correct ~ concept + uncertainty (standardised)"}, {"n", l.n}, {"n_correct", l.n_correct}};
  if (!l.fit) {
    j["unavailable"] = l.unavailable;
    return j;
  }
  const metrics::LogisticFit& f = *l.fit;
  j["intercept"] = f.intercept;
  j["coef"] = {{"concept", f.coef.at(0)}, {"uncertainty", f.coef.at(1)}};
  j["std_errors"] = f.std_errors;
  j["z_values"] = f.z_values;
  j["p_values"] = f.p_values;
  j["iterations"] = f.iterations;
  j["log_likelihood"] = f.log_likelihood;
  return j;
}

json shift_json(const LayerShift& s) {
  json j = {{"condition", s.condition}, {"first_round", s.first_round}, {"last_round", s.last_round}};
  if (s.shift)
    j["shift"] = *s.shift;
  else
    j["unavailable"] = s.unavailable;
  return j;
}

json steering_round_json(const SteeringRound& r, const std::string& base) {
  return {{"round", r.round},
          {"base", base},
          {"n", r.n},
          {"accuracy_base", or_null(r.accuracy_base)},
          {"accuracy_steered", or_null(r.accuracy_steered)},
          {"accuracy_diff", or_null(r.accuracy_diff)},
          {"entropy_base", or_null(r.entropy_base)},
          {"entropy_steered", or_null(r.entropy_steered)},
          {"entropy_diff", or_null(r.entropy_diff)},
          {"n_concept", r.n_concept},
          {"concept_base", or_null(r.concept_base)},
          {"concept_steered", or_null(r.concept_steered)},
          {"concept_diff", or_null(r.concept_diff)}};
}

// ---- text

std::string num(const std::optional<double>& v, const char* format = "{:.3f}") {
  return v ? fmt::format(fmt::runtime(format), *v) : "-";
}

std::string correlation_text(const CorrelationResult& c) {
  if (!c.pearson) return "unavailable: " + c.unavailable;
  return fmt::format("Pearson r {:.3f} (p {:.3g}), Spearman rho {:.3f} (p {:.3g}), n {}", c.pearson->r,
                     c.pearson->p_value, c.spearman->r, c.spearman->p_value, c.n);
}

}  // namespace

nlohmann::json to_json(const ConceptSummary& s) {
  json conditions = json::array();
  for (const ConditionConcept& c : s.conditions) {
    json rounds = json::array();
    for (const RoundConcept& r : c.rounds) rounds.push_back(round_json(r));
    conditions.push_back({{"condition", c.condition},
                          {"rounds", rounds},
                          {"round_correlation", correlation_result_json(c.round_level)},
                          {"item_correlation", correlation_result_json(c.item_level)},
                          {"ols", ols_json(c.ols)},
                          {"logistic", logistic_json(c.logistic)}});
  }
  json layers = json::array();
  for (const LayerProfile& l : s.layers) {
    json shifts = json::array();
    for (const LayerShift& c : l.conditions) shifts.push_back(shift_json(c));
    layers.push_back({{"layer", l.layer}, {"heldout_accuracy", or_null(l.heldout_accuracy)}, {"conditions", shifts}});
  }
  json steering = json::array();
  for (const SteeringEffect& e : s.steering) {
    json j = {{"condition", e.condition}, {"base", e.base}, {"spec", e.spec}};
    if (!e.unavailable.empty()) j["unavailable"] = e.unavailable;
    j["rounds"] = json::array();
    for (const SteeringRound& r : e.rounds) j["rounds"].push_back(steering_round_json(r, e.base));
    steering.push_back(std::move(j));
  }
  return {{"run_id", s.run_id},
          {"name", s.name},
          {"position", s.position},
          {"layer", s.layer},
          {"bootstrap",
           {{"resamples", s.options.bootstrap_resamples}, {"level", s.options.confidence_level}, {"seed", s.options.seed}}},
          {"conditions", conditions},
          {"layers", layers},
          {"steering", steering}};
}

std::string to_text(const ConceptSummary& s) {
  std::string t = fmt::format("concept {} at {}, layer {} (cosine with the direction; uncertainty = normalised option entropy)\n",
                              s.name, s.position, s.layer);
  for (const ConditionConcept& c : s.conditions) {
    t += fmt::format("  condition {}:\n", c.condition);
    for (const RoundConcept& r : c.rounds) {
      t += fmt::format("    round {}: concept {:.4f}", r.round, r.mean);
      t += r.ci ? fmt::format(" [{:.4f}, {:.4f}]", r.ci->lower, r.ci->upper) : std::string(" [-]");
      t += fmt::format(" change {}, n {}", num(r.delta, "{:+.4f}"), r.n);
      if (r.mean_probability) t += fmt::format(", P(+) {:.3f}", *r.mean_probability);
      t += fmt::format(", uncertainty {}\n", num(r.mean_uncertainty));
    }
    t += "    concept vs uncertainty, per-round means: " + correlation_text(c.round_level) + "\n";
    t += "    concept vs uncertainty, (item, round) pairs: " + correlation_text(c.item_level) + "\n";
    if (c.ols.fit)
      t += fmt::format("    OLS uncertainty ~ concept: slope {:.4f} (p {:.3g}), R2 {:.3f}, F {:.3f} (p {:.3g}), n {}\n",
                       c.ols.fit->coef[0], c.ols.fit->p_values[1], c.ols.fit->r2, c.ols.fit->f_stat,
                       c.ols.fit->f_p_value, c.ols.fit->n);
    else
      t += "    OLS uncertainty ~ concept: unavailable: " + c.ols.unavailable + "\n";
    if (c.logistic.fit)
      t += fmt::format("    logistic correct ~ concept + uncertainty (per SD): concept {:.3f} (p {:.3g}), uncertainty {:.3f} "
                       "(p {:.3g}), n {}\n",
                       c.logistic.fit->coef[0], c.logistic.fit->p_values[1], c.logistic.fit->coef[1],
                       c.logistic.fit->p_values[2], c.logistic.n);
    else
      t += "    logistic correct ~ concept + uncertainty: unavailable: " + c.logistic.unavailable + "\n";
  }
  if (!s.layers.empty()) t += "  layer profile (shift = last probed round's mean - first's):\n";
  for (const LayerProfile& l : s.layers) {
    t += fmt::format("    layer {}:", l.layer);
    for (const LayerShift& c : l.conditions)
      t += fmt::format(" {} {}", c.condition, c.shift ? fmt::format("{:+.4f}", *c.shift) : "unavailable (" + c.unavailable + ")");
    if (l.heldout_accuracy) t += fmt::format(", held-out accuracy {:.3f}", *l.heldout_accuracy);
    t += "\n";
  }
  for (const SteeringEffect& e : s.steering) {
    t += fmt::format("  steering {} vs {} (steered - base):", e.condition, e.base);
    if (!e.unavailable.empty()) {
      t += " unavailable: " + e.unavailable + "\n";
      continue;
    }
    t += "\n";
    for (const SteeringRound& r : e.rounds)
      t += fmt::format("    round {}: n {}, accuracy {}, entropy {}, concept {} (n {})\n", r.round, r.n,
                       num(r.accuracy_diff, "{:+.3f}"), num(r.entropy_diff, "{:+.4f}"), num(r.concept_diff, "{:+.4f}"),
                       r.n_concept);
  }
  return t;
}

std::vector<ProbeRecord> probe_records(const ConceptSummary& s) {
  const std::string base = probe_base_name(s.name, s.position);
  std::vector<ProbeRecord> out;
  for (const ConditionConcept& c : s.conditions) {
    for (const RoundConcept& r : c.rounds) {
      json v = round_json(r);
      v["seed"] = s.options.seed;
      out.push_back({c.condition, r.round, s.layer, base, std::move(v)});
    }
    out.push_back({c.condition, 0, s.layer, base + "/round_correlation", correlation_result_json(c.round_level)});
    out.push_back({c.condition, 0, s.layer, base + "/item_correlation", correlation_result_json(c.item_level)});
    out.push_back({c.condition, 0, s.layer, base + "/ols", ols_json(c.ols)});
    out.push_back({c.condition, 0, s.layer, base + "/logistic", logistic_json(c.logistic)});
  }
  for (const LayerProfile& l : s.layers)
    for (const LayerShift& c : l.conditions) out.push_back({c.condition, 0, l.layer, base + "/shift", shift_json(c)});
  for (const SteeringEffect& e : s.steering) {
    if (!e.unavailable.empty())
      out.push_back({e.condition, 0, s.layer, base + "/steering", {{"base", e.base}, {"unavailable", e.unavailable}}});
    for (const SteeringRound& r : e.rounds)
      out.push_back({e.condition, r.round, s.layer, base + "/steering", steering_round_json(r, e.base)});
  }
  return out;
}

}  // namespace isc::concepts
