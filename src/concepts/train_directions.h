// `isc concept train`: runs a concept's texts through a model (batched, through any Backend that
// returns hidden states), splits them train / held-out, and fits the chosen methods at every chosen layer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "concepts/ccs.h"
#include "concepts/concept_data.h"
#include "concepts/direction_file.h"

namespace isc::concepts {

struct TrainOptions {
  std::vector<int> layers;             // 0..n_layers
  std::vector<std::string> methods;    // probe | mean_diff | pca_diff | pca_center | ccs
  double heldout_fraction = 0.2;       // of the examples (pairs stay whole)
  uint64_t seed = 0;
  double l2 = 1.0;                     // probe penalty (sklearn C = 1 / l2)
  CcsOptions ccs;
  // When set, the training states are also written there as .npy (states_L<layer>.npy [rows, dim],
  // labels.npy, heldout.npy, index.json), so the directions can be re-derived in Python.
  std::string export_states_dir;
};

// Every method the data allows when none are named: labelled texts get probe and mean_diff, pairs all five.
std::vector<std::string> default_methods(const ConceptData& data);

// Throws isc::Error for a method the data cannot support (PCA/CCS need pairs), too few examples for
// a split, or a backend without hidden states. `model`, `model_sha256`, `n_layers`, `dim` are recorded.
ConceptDirections train_directions(Backend& backend, const ConceptData& data, const TrainOptions& options,
                                   const std::string& model, const std::string& model_sha256, int n_layers, int dim);

}  // namespace isc::concepts
