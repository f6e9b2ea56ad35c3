// JSON and text forms of the transition-theory result; see transition_theory.h.
// Field names follow the struct fields; an undefined statistic is {"unavailable": reason}.
#include <fmt/format.h>

#include "metrics/metrics_json.h"
#include "sim/transition_theory.h"

namespace isc::sim {

namespace {

using nlohmann::json;

json unavailable(const std::string& why) { return {{"unavailable", why}}; }

json estimate_json(const TransitionEstimate& e) {
  return {{"from_round", e.from_round},
          {"n", e.n},
          {"correct_before", e.correct_before},
          {"correct_to_correct", e.correct_to_correct},
          {"wrong_before", e.wrong_before},
          {"wrong_to_correct", e.wrong_to_correct},
          {"cl", e.cl ? to_json(*e.cl) : unavailable(e.cl_unavailable)},
          {"cs", e.cs ? to_json(*e.cs) : unavailable(e.cs_unavailable)}};
}

json interval_json(const std::optional<metrics::Interval>& v, const std::string& why) {
  if (!v) return unavailable(why);
  json j;
  metrics::to_json(j, *v);
  return j;
}

std::string prop(const std::optional<Proportion>& p, const std::string& why) {
  if (!p) return "unavailable (" + why + ")";
  return fmt::format("{:.3f} [{:.3f}, {:.3f}] ({}/{})", p->estimate, p->lower, p->upper, p->successes, p->n);
}

}  // namespace

nlohmann::json to_json(const TransitionTheoryResult& r) {
  json j = {{"options",
             {{"from_round", r.options.from_round},
              {"bootstrap_resamples", r.options.bootstrap_resamples},
              {"confidence_level", r.options.confidence_level},
              {"seed", r.options.seed}}},
            {"n_items", r.n_items},
            {"last_round", r.last_round},
            {"estimate", estimate_json(r.estimate)},
            {"start", r.start ? to_json(*r.start) : unavailable(fmt::format("no item has a correctness at round {}", r.options.from_round))}};
  if (!r.unavailable.empty()) j["unavailable"] = r.unavailable;
  j["alpha"] = r.alpha ? json(*r.alpha) : unavailable(r.unavailable);
  j["upper_bound"] = r.upper_bound ? json(*r.upper_bound) : unavailable(r.upper_bound_unavailable);
  j["upper_bound_ci"] = interval_json(r.upper_bound_ci, r.upper_bound_unavailable);
  json rounds = json::array();
  for (const PredictedRound& p : r.rounds)
    rounds.push_back(
        {{"round", p.round},
         {"n_observed", p.n_observed},
         {"observed", p.observed ? to_json(*p.observed) : unavailable("no item has a correctness this round")},
         {"predicted", p.predicted ? json(*p.predicted) : unavailable(r.unavailable)},
         {"predicted_ci", interval_json(p.predicted_ci, p.predicted_ci_unavailable)},
         {"residual", p.residual ? json(*p.residual) : unavailable("no observed accuracy this round")}});
  j["rounds"] = std::move(rounds);
  j["final_within_interval"] =
      r.final_within_interval ? json(*r.final_within_interval) : unavailable(r.final_within_interval_unavailable);
  json per = json::array();
  for (const TransitionEstimate& e : r.per_transition) per.push_back(estimate_json(e));
  j["per_transition"] = std::move(per);
  j["pooled"] = estimate_json(r.pooled);
  return j;
}

std::string to_text(const TransitionTheoryResult& r) {
  std::string out;
  const int from = r.options.from_round;
  out += fmt::format("transition theory (Yang et al.): CL, CS from rounds {}->{}; {} items\n", from, from + 1, r.n_items);
  out += fmt::format("  CL = {}; CS = {}\n", prop(r.estimate.cl, r.estimate.cl_unavailable),
                     prop(r.estimate.cs, r.estimate.cs_unavailable));
  out += fmt::format("  pooled over {} transitions: CL = {}; CS = {}\n", r.per_transition.size(),
                     prop(r.pooled.cl, r.pooled.cl_unavailable), prop(r.pooled.cs, r.pooled.cs_unavailable));
  if (!r.unavailable.empty()) {
    out += fmt::format("  prediction unavailable: {}\n", r.unavailable);
    return out;
  }
  std::string upp = r.upper_bound ? fmt::format("{:.3f}", *r.upper_bound) : "unavailable (" + r.upper_bound_unavailable + ")";
  if (r.upper_bound_ci) upp += fmt::format(" [{:.3f}, {:.3f}]", r.upper_bound_ci->lower, r.upper_bound_ci->upper);
  out += fmt::format("  alpha = {:.3f}; Upp = {}\n", *r.alpha, upp);
  for (const PredictedRound& p : r.rounds) {
    std::string pred = fmt::format("{:.3f}", *p.predicted);
    if (p.predicted_ci) pred += fmt::format(" [{:.3f}, {:.3f}]", p.predicted_ci->lower, p.predicted_ci->upper);
    const std::string obs = p.observed ? fmt::format("{:.3f} (n = {})", p.observed->estimate, p.n_observed) : "none";
    const std::string res = p.residual ? fmt::format("{:+.3f}", *p.residual) : "-";
    out += fmt::format("  round {:>2}: predicted {}, observed {}, residual {}\n", p.round, pred, obs, res);
  }
  out += r.final_within_interval
             ? fmt::format("  final round observed {} the predicted interval\n", *r.final_within_interval ? "within" : "outside")
             : fmt::format("  final round vs interval: unavailable ({})\n", r.final_within_interval_unavailable);
  return out;
}

}  // namespace isc::sim
