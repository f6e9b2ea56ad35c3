// Scores stored hidden states against concept directions: per state, cos(h, direction) (the
// reference's concept score) and the readout's P(positive | h) where the method has one.
#pragma once
#include <string>
#include <vector>

#include "concepts/direction_file.h"
#include "store/records.h"

namespace isc::concepts {

// The probe name a method's scores are stored under: "<concept>/<method>".
std::string probe_name(const ConceptDirections& d, const std::string& method);

// Every state whose layer has a `method` direction is scored; others are skipped. Throws isc::Error
// "<where>: ..." for a width mismatch or a non-finite value in a state (naming its row).
std::vector<ItemProbeRecord> score_hidden_states(const std::vector<HiddenStateRecord>& states,
                                                 const ConceptDirections& d, const std::string& method,
                                                 const std::string& where);

}  // namespace isc::concepts
