// Simulating every condition of a spec and applying the --predict-stop rule (see simulation_run.h).
#include "sim/simulation_run.h"

#include <span>

#include "metrics/predicted_change.h"

namespace isc::sim {

ConversationStop predict_stop(const SimulatedConversation& c, double epsilon) {
  ConversationStop stop;
  stop.kept_rounds = static_cast<int>(c.rounds.size());
  if (epsilon <= 0.0) return stop;
  std::vector<std::vector<double>> states;
  for (const SimulatedRound& r : c.rounds) states.push_back(r.predictive);
  if (const auto t = metrics::predicted_stop_index(states, epsilon)) {
    stop.kept_rounds = c.rounds[*t].round;
    stop.remaining = metrics::predicted_remaining_change(std::span(states).first(*t + 1));
  }
  return stop;
}

std::vector<SimulatedCondition> run_simulation(const SimulationSpec& spec) {
  const std::string where = spec.file.empty() ? "simulate" : spec.file;
  validate_simulation_spec(spec, where);
  std::vector<SimulatedCondition> out;
  for (const LatentConceptParams& p : spec.conditions) {
    SimulatedCondition c;
    c.params = p;
    c.conversations = simulate_condition(p, spec.seed, spec.items, spec.rounds, where);
    for (const SimulatedConversation& conv : c.conversations) c.stops.push_back(predict_stop(conv, spec.predict_stop));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace isc::sim
