// JSON serialisation of the metric results; see metrics_json.h.
// Field names match the C++ struct fields so a reader of the store can find their definitions.
#include "metrics/metrics_json.h"

#include <nlohmann/json.hpp>

namespace isc::metrics {

namespace {

template <class T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

const char* to_string(ConfidenceSource source) {
  return source == ConfidenceSource::Argmax ? "argmax" : "parsed_answer";
}

void to_json(nlohmann::json& j, const Interval& v) {
  j = {{"point", v.point}, {"lower", v.lower},         {"upper", v.upper},
       {"level", v.level}, {"resamples", v.resamples}, {"resamples_used", v.resamples_used}};
}

void to_json(nlohmann::json& j, const AccuracyResult& v) {
  j = {{"n", v.n},
       {"n_correct", v.n_correct},
       {"n_parsed", v.n_parsed},
       {"accuracy", v.accuracy},
       {"parse_rate", v.parse_rate}};
}

void to_json(nlohmann::json& j, const BiasScore& v) {
  j = {{"n_items", v.n_items},   {"n_correct", v.n_correct}, {"n_non_unknown", v.n_non_unknown},
       {"n_biased", v.n_biased}, {"accuracy", v.accuracy},   {"score", or_null(v.score)}};
}

void to_json(nlohmann::json& j, const TransitionCounts& v) {
  j = {{"n", v.n},
       {"n_options", v.n_options},
       {"right_to_right", v.right_to_right},
       {"right_to_wrong", v.right_to_wrong},
       {"wrong_to_right", v.wrong_to_right},
       {"wrong_to_wrong", v.wrong_to_wrong},
       {"changed", v.changed},
       {"unchanged", v.unchanged},
       {"matrix", v.matrix},
       {"matrix_last_index_is_unparseable", true}};
}

void to_json(nlohmann::json& j, const ReliabilityBin& v) {
  j = {{"lower", v.lower},
       {"upper", v.upper},
       {"count", v.count},
       {"mean_confidence", or_null(v.mean_confidence)},
       {"accuracy", or_null(v.accuracy)}};
}

void to_json(nlohmann::json& j, const RoundMetrics& v) {
  j = nlohmann::json::object();
  j["round"] = v.round;
  j["n_items"] = v.n_items;
  j["n_options"] = v.n_options;
  j["accuracy"] = v.accuracy;
  j["accuracy_ci"] = or_null(v.accuracy_ci);
  if (v.bias) {
    j["bias"] = {{"ambiguous", v.bias->scores.ambiguous},
                 {"disambiguated", v.bias->scores.disambiguated},
                 {"ambiguous_ci", or_null(v.bias->ambiguous_ci)},
                 {"disambiguated_ci", or_null(v.bias->disambiguated_ci)}};
  } else {
    j["bias"] = nullptr;
  }
  j["previous_round"] = or_null(v.previous_round);
  j["transitions"] = or_null(v.transitions);
  if (v.entropy) {
    j["entropy"] = {{"mean", v.entropy->mean},
                    {"mean_normalized", v.entropy->mean_normalized},
                    {"mean_ci", or_null(v.entropy->mean_ci)}};
  } else {
    j["entropy"] = nullptr;
  }
  if (v.calibration) {
    const CalibrationMetrics& c = *v.calibration;
    j["calibration"] = {{"source", to_string(c.source)},
                        {"n", c.n},
                        {"ece", c.ece},
                        {"ece_adaptive", c.ece_adaptive},
                        {"ece_observed_range", c.ece_observed_range},
                        {"brier_binary", c.brier_binary},
                        {"brier_multiclass", c.brier_multiclass},
                        {"reliability", c.reliability},
                        {"ece_ci", or_null(c.ece_ci)}};
  } else {
    j["calibration"] = nullptr;
  }
  if (v.score) {
    j["score"] = {{"mean", v.score->mean}, {"mean_ci", or_null(v.score->mean_ci)}};
  } else {
    j["score"] = nullptr;
  }
  j["accuracy_argmax"] = or_null(v.accuracy_argmax);
  j["accuracy_argmax_ci"] = or_null(v.accuracy_argmax_ci);
  nlohmann::json sampled = nlohmann::json::object();
  for (const SampledUncertaintyMetrics& s : v.sampled) {
    nlohmann::json e = {{"n", s.n}, {"mean", s.mean}, {"mean_ci", or_null(s.mean_ci)}, {"n_quality", s.n_quality},
                        {"auroc", or_null(s.auroc)}, {"prr", or_null(s.prr)}};
    if (s.rank_calibration) {
      nlohmann::json bins = nlohmann::json::array();
      for (const RankCalibrationBin& b : s.rank_calibration->bins)
        bins.push_back({{"count", b.count}, {"uncertainty_lower", b.uncertainty_lower},
                        {"uncertainty_upper", b.uncertainty_upper}, {"mean_quality", b.mean_quality},
                        {"uncertainty_rank", b.uncertainty_rank}, {"quality_rank", b.quality_rank}});
      e["rce"] = s.rank_calibration->rce;
      e["rank_diagram_deviation"] = s.rank_calibration->diagram_deviation;
      e["rank_bins"] = std::move(bins);
    } else {
      e["rce"] = nullptr;
    }
    sampled[s.estimator] = std::move(e);
  }
  j["sampled_uncertainty"] = std::move(sampled);
}

nlohmann::json to_json(const RoundMetrics& v) {
  nlohmann::json j;
  to_json(j, v);
  return j;
}

}  // namespace isc::metrics
