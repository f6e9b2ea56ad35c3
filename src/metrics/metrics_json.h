// JSON form of the metric results, for the store and the report: nlohmann::json to_json overloads
// (found by ADL, so `nlohmann::json j = round_metrics;` works). Undefined values become null.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include "metrics/accuracy.h"
#include "metrics/bbq_bias.h"
#include "metrics/bootstrap.h"
#include "metrics/calibration.h"
#include "metrics/round_metrics.h"
#include "metrics/transitions.h"

namespace isc::metrics {

void to_json(nlohmann::json& j, const Interval& v);
void to_json(nlohmann::json& j, const AccuracyResult& v);
void to_json(nlohmann::json& j, const BiasScore& v);
void to_json(nlohmann::json& j, const TransitionCounts& v);
void to_json(nlohmann::json& j, const ReliabilityBin& v);
void to_json(nlohmann::json& j, const RoundMetrics& v);

// Convenience: the JSON object of one round's metrics.
nlohmann::json to_json(const RoundMetrics& v);

const char* to_string(ConfidenceSource source);

}  // namespace isc::metrics
