// A whole simulation: every condition's conversations and, under --predict-stop, the round each
// conversation stops at (the rule of metrics::predicted_settled on its predictive distributions).
#pragma once
#include <optional>
#include <vector>

#include "sim/latent_concept_model.h"
#include "sim/simulation_file.h"

namespace isc::sim {

struct ConversationStop {
  int kept_rounds = 0;              // rounds recorded: T, or the round where the rule stopped it
  std::optional<double> remaining;  // the predicted remaining change, when it stopped before T
  bool early_stopped() const { return remaining.has_value(); }
};

struct SimulatedCondition {
  LatentConceptParams params;
  std::vector<SimulatedConversation> conversations;
  std::vector<ConversationStop> stops;  // one per conversation
};

// Where a conversation stops: after round t < T as soon as predicted_settled(π_1..π_t, epsilon), as
// `isc run --predict-stop` does; epsilon 0 = never (kept_rounds = T).
ConversationStop predict_stop(const SimulatedConversation& conversation, double epsilon);

// Validates the spec ("<spec.file or flags>: ...") and simulates every condition.
std::vector<SimulatedCondition> run_simulation(const SimulationSpec& spec);

}  // namespace isc::sim
