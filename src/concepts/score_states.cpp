// score_hidden_states: cosine in double precision over the stored (fp16-rounded) state, so a
// score is a pure function of the stored row and the direction file.
#include "concepts/score_states.h"

#include <cmath>

#include <fmt/format.h>

#include "common/error.h"

namespace isc::concepts {

std::string probe_name(const ConceptDirections& d, const std::string& method) { return d.concept_name + "/" + method; }

std::vector<ItemProbeRecord> score_hidden_states(const std::vector<HiddenStateRecord>& states,
                                                 const ConceptDirections& d, const std::string& method,
                                                 const std::string& where) {
  std::vector<ItemProbeRecord> out;
  const std::string name = probe_name(d, method);
  for (const HiddenStateRecord& h : states) {
    const LayerDirection* l = d.find(h.layer, method);
    if (!l) continue;
    const std::string row = fmt::format("condition {} item {} round {} position {} layer {}", h.condition, h.item_id,
                                        h.round, h.position, h.layer);
    if (static_cast<int>(h.values.size()) != d.dim)
      throw Error(fmt::format("{}: {}: a state of width {} against directions of width {} (another model?)", where, row,
                              h.values.size(), d.dim));
    double dot = 0, nn = 0;
    for (size_t j = 0; j < h.values.size(); ++j) {
      const double v = h.values[j];
      if (!std::isfinite(v)) throw Error(fmt::format("{}: {}: the stored hidden state holds a non-finite value", where, row));
      dot += v * l->direction[j];
      nn += v * v;
    }
    if (!(nn > 0)) throw Error(fmt::format("{}: {}: the stored hidden state is all zeros", where, row));
    ItemProbeRecord p;
    p.condition = h.condition;
    p.item_id = h.item_id;
    p.round = h.round;
    p.position = h.position;
    p.layer = h.layer;
    p.name = name;
    p.cosine = dot / std::sqrt(nn);  // the direction is unit length
    if (l->readout) p.probability = l->readout->probability(h.values.data());
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace isc::concepts
