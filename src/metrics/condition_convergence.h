// Convergence of one condition across rounds: the convergence round of each per-round headline
// metric (convergence.h's definition) and the per-conversation answer convergence with its mean.
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "metrics/convergence.h"
#include "metrics/item_round.h"
#include "metrics/round_metrics.h"

namespace isc::metrics {

struct ConditionConvergence {
  double epsilon = 0.0;
  ConvergencePoint accuracy;
  // Present when every round has the metric (and, for bias, a defined score).
  std::optional<ConvergencePoint> ece;
  std::optional<ConvergencePoint> mean_entropy;  // nats
  std::optional<ConvergencePoint> bias_ambiguous;
  std::optional<ConvergencePoint> bias_disambiguated;
  std::optional<ConvergencePoint> mean_score;
  // Per sampled-uncertainty estimator present in every round (its mean), and its rank-calibration
  // error where every round has one.
  std::map<std::string, ConvergencePoint> sampled;
  std::map<std::string, ConvergencePoint> sampled_rce;
  // Present when every item has a row in every round (otherwise a conversation's last answer change
  // cannot be told).
  std::optional<ConversationConvergence> answers;
};

// `rounds` as returned by compute_round_metrics(rows, ...). One ε is applied to every series, all of
// which live on comparable unit scales (rates, ECE, scores in [0, 1], entropy in nats); call
// convergence_round directly for per-metric tolerances.
// Throws isc::Error when rounds is empty or the rows hold a round not in `rounds`.
ConditionConvergence summarize_convergence(const std::vector<RoundMetrics>& rounds, const std::vector<ItemRound>& rows,
                                           double epsilon);

void to_json(nlohmann::json& j, const ConvergencePoint& v);
void to_json(nlohmann::json& j, const ConversationConvergence& v);
void to_json(nlohmann::json& j, const ConditionConvergence& v);

}  // namespace isc::metrics
