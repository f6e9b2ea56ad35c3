// Concept directions as saved by `isc concept train`: per (layer, method) a unit direction in
// hidden-state space and, where the method has one, a probe readout; with the provenance to trust them.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace isc::concepts {

// P(positive | h) = σ(Σ_j weights_j · (h_j − mean_j) / scale_j + bias): a logistic probe on
// standardised states, or a CCS probe on its positive-side normalisation.
struct Readout {
  std::vector<double> weights, mean, scale;
  double bias = 0.0;
  double probability(const float* h) const;
};

struct LayerDirection {
  int layer = 0;                  // 0 = embeddings, l = output of block l
  std::string method;             // probe | mean_diff | pca_diff | pca_center | ccs | control_vector
  std::vector<double> direction;  // unit length; the positive pole projects higher
  std::optional<Readout> readout;
  double threshold = 0.0;         // projection threshold halfway between the class means (train)
  double train_accuracy = 0.0;
  std::optional<double> heldout_accuracy;  // absent when there is no held-out split
  int64_t n_train = 0, n_heldout = 0;
  double state_norm = 0.0;        // mean |h| of the training states: the scale of a steering strength
  nlohmann::json details;         // method-specific (CCS try losses, flipped, ...)
};

struct ConceptDirections {
  std::string concept_name, description, positive_pole, negative_pole;
  std::string concept_file, data_source, data_sha256, wrap;
  int64_t n_examples = 0;
  std::string model, model_sha256;
  int dim = 0, n_layers = 0;
  std::string position = "last";  // where the states of the concept texts were taken
  std::string created_at;
  uint64_t seed = 0;
  double heldout_fraction = 0.0;
  std::vector<LayerDirection> directions;

  // Content hash (12 hex digits) naming these directions in the store's probes.
  std::string id() const;
  const LayerDirection* find(int layer, const std::string& method) const;
  std::vector<std::string> methods() const;
};

nlohmann::json to_json(const ConceptDirections& d);
ConceptDirections directions_from_json(const nlohmann::json& j, const std::string& where);

// True when the file is a direction file (JSON with "format": "isc-concept-directions"), so that
// a .json concept spec and a direction file can both be given where either is accepted.
bool is_direction_file(const std::string& path);

// Written to path.part then renamed. Throws isc::Error naming the file.
void save_directions(const std::string& path, const ConceptDirections& d);
// Throws isc::Error "file: ..." for a missing, malformed or inconsistent file (wrong widths,
// non-unit or non-finite directions).
ConceptDirections load_directions(const std::string& path);

}  // namespace isc::concepts
