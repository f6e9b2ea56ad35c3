// Convergence summary of one condition; see condition_convergence.h.
// Series are pulled out of the RoundMetrics so the per-round numbers and their convergence agree.
#include "metrics/condition_convergence.h"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.h"

namespace isc::metrics {

namespace {

// The convergence point of get(round) over all rounds, or nullopt when some round lacks the value.
template <class Get>
std::optional<ConvergencePoint> series_convergence(const std::vector<RoundMetrics>& rounds, double epsilon, Get get) {
  std::vector<int> labels;
  std::vector<double> values;
  for (const RoundMetrics& m : rounds) {
    const std::optional<double> v = get(m);
    if (!v) return std::nullopt;
    labels.push_back(m.round);
    values.push_back(*v);
  }
  return convergence_round(labels, values, epsilon);
}

template <class T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

ConditionConvergence summarize_convergence(const std::vector<RoundMetrics>& rounds, const std::vector<ItemRound>& rows,
                                           double epsilon) {
  if (rounds.empty()) throw Error("summarize_convergence: no rounds");
  ConditionConvergence c;
  c.epsilon = epsilon;
  c.accuracy =
      *series_convergence(rounds, epsilon, [](const RoundMetrics& m) { return std::optional(m.accuracy.accuracy); });
  c.ece = series_convergence(rounds, epsilon, [](const RoundMetrics& m) {
    return m.calibration ? std::optional(m.calibration->ece) : std::nullopt;
  });
  c.mean_entropy = series_convergence(
      rounds, epsilon, [](const RoundMetrics& m) { return m.entropy ? std::optional(m.entropy->mean) : std::nullopt; });
  c.bias_ambiguous = series_convergence(
      rounds, epsilon, [](const RoundMetrics& m) { return m.bias ? m.bias->scores.ambiguous.score : std::nullopt; });
  c.bias_disambiguated = series_convergence(rounds, epsilon, [](const RoundMetrics& m) {
    return m.bias ? m.bias->scores.disambiguated.score : std::nullopt;
  });
  c.mean_score = series_convergence(
      rounds, epsilon, [](const RoundMetrics& m) { return m.score ? std::optional(m.score->mean) : std::nullopt; });
  for (const SampledUncertaintyMetrics& first : rounds.front().sampled) {
    auto find = [&](const RoundMetrics& m) -> const SampledUncertaintyMetrics* {
      for (const auto& s : m.sampled)
        if (s.estimator == first.estimator) return &s;
      return nullptr;
    };
    if (auto p = series_convergence(rounds, epsilon, [&](const RoundMetrics& m) {
          const auto* s = find(m);
          return s ? std::optional(s->mean) : std::nullopt;
        }))
      c.sampled[first.estimator] = *p;
    if (auto p = series_convergence(rounds, epsilon, [&](const RoundMetrics& m) {
          const auto* s = find(m);
          return s && s->rank_calibration ? std::optional(s->rank_calibration->rce) : std::nullopt;
        }))
      c.sampled_rce[first.estimator] = *p;
  }

  std::map<int, std::size_t> position;
  std::vector<int> labels;
  for (const RoundMetrics& m : rounds) {
    position.emplace(m.round, labels.size());
    labels.push_back(m.round);
  }
  // answers[item][round position]; a missing (item, round) leaves a hole and disables the summary
  std::map<std::string, std::vector<std::optional<int>>> answers;
  for (const ItemRound& r : rows) {
    const auto it = position.find(r.round);
    if (it == position.end())
      throw Error(fmt::format("summarize_convergence: item '{}' has round {}, which the round metrics lack", r.item_id,
                              r.round));
    auto& slots = answers.try_emplace(r.item_id, labels.size()).first->second;
    slots[it->second] = r.answer;
  }
  std::vector<std::vector<int>> complete;
  for (const auto& [item, slots] : answers) {
    std::vector<int> a;
    for (const std::optional<int>& s : slots) {
      if (!s) return c;  // answers stays nullopt, as documented
      a.push_back(*s);
    }
    complete.push_back(std::move(a));
  }
  if (!complete.empty()) c.answers = conversation_convergence(labels, complete);
  return c;
}

void to_json(nlohmann::json& j, const ConvergencePoint& v) { j = {{"index", v.index}, {"round", v.round}}; }

void to_json(nlohmann::json& j, const ConversationConvergence& v) {
  j = {{"round_per_conversation", v.round_per_conversation},
       {"mean_round", v.mean_round},
       {"share_settled_at_first", v.share_settled_at_first}};
}

void to_json(nlohmann::json& j, const ConditionConvergence& v) {
  j = {{"epsilon", v.epsilon},
       {"accuracy", v.accuracy},
       {"ece", or_null(v.ece)},
       {"mean_entropy", or_null(v.mean_entropy)},
       {"bias_ambiguous", or_null(v.bias_ambiguous)},
       {"bias_disambiguated", or_null(v.bias_disambiguated)},
       {"mean_score", or_null(v.mean_score)},
       {"sampled", v.sampled},
       {"sampled_rce", v.sampled_rce},
       {"answers", or_null(v.answers)}};
}

}  // namespace isc::metrics
