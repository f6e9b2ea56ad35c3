// load_steering: a direction file contributes strength × its unit direction at each chosen layer; a
// control vector contributes strength × its own vector, as llama.cpp applies it.
#include "concepts/steering_vectors.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"
#include "concepts/control_vector.h"
#include "concepts/direction_file.h"

namespace isc::concepts {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::shared_ptr<const Steering> load_steering(const tasks::SteerSpec& spec, int n_layers, int dim,
                                              const std::string& model_sha256) {
  auto steering = std::make_shared<Steering>();
  const std::string& path = spec.direction;
  const float k = static_cast<float>(spec.strength);
  auto check_layer = [&](int layer) {
    if (layer < 1 || layer > n_layers)
      throw Error(fmt::format("{}: steering layer {} outside 1..{} (the output of block l is layer l)", path, layer, n_layers));
  };
  if (ends_with(path, ".gguf")) {
    const ControlVector cv = read_control_vector(path);
    for (const auto& [layer, v] : cv.by_layer) {
      if (static_cast<int>(v.size()) != dim)
        throw Error(fmt::format("{}: control vector of width {} for a model of width {}", path, v.size(), dim));
      if (!spec.layers.empty() && std::find(spec.layers.begin(), spec.layers.end(), layer) == spec.layers.end()) continue;
      check_layer(layer);
      std::vector<float> s(v.size());
      for (size_t j = 0; j < v.size(); ++j) s[j] = k * v[j];
      steering->add[layer] = std::move(s);
    }
    for (int layer : spec.layers)
      if (!steering->add.count(layer)) throw Error(fmt::format("{}: no direction.{} for layer {}", path, layer - 1, layer));
  } else {
    const ConceptDirections d = load_directions(path);
    if (!d.model_sha256.empty() && !model_sha256.empty() && d.model_sha256 != model_sha256)
      throw Error(fmt::format("{}: directions were trained on another model (sha256 {}…, this model {}…)", path,
                              d.model_sha256.substr(0, 12), model_sha256.substr(0, 12)));
    if (d.dim != dim) throw Error(fmt::format("{}: directions of width {} for a model of width {}", path, d.dim, dim));
    std::vector<int> layers = spec.layers;
    if (layers.empty())
      for (const auto& l : d.directions)
        if (l.method == spec.method && l.layer >= 1) layers.push_back(l.layer);
    if (layers.empty()) throw Error(fmt::format("{}: no '{}' directions at layers 1..{}", path, spec.method, n_layers));
    for (int layer : layers) {
      check_layer(layer);
      const LayerDirection* l = d.find(layer, spec.method);
      if (!l) throw Error(fmt::format("{}: no '{}' direction for layer {}", path, spec.method, layer));
      std::vector<float> s(l->direction.size());
      for (size_t j = 0; j < s.size(); ++j) s[j] = static_cast<float>(spec.strength * l->direction[j]);
      steering->add[layer] = std::move(s);
    }
  }
  if (steering->add.empty()) throw Error(fmt::format("{}: no steering vectors selected", path));
  return steering;
}

}  // namespace isc::concepts
