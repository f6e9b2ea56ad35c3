// The steering set of a steered condition: strength × a concept direction per layer, read from a
// direction file (unit directions) or a GGUF control vector (vectors as written), checked against the model.
#pragma once
#include <memory>
#include <string>

#include "engine/steering.h"
#include "tasks/run_file.h"

namespace isc::concepts {

// Throws isc::Error naming the file for a direction from another model (hash or width), a layer
// outside 1..n_layers or not in the file, or a method the file lacks.
std::shared_ptr<const Steering> load_steering(const tasks::SteerSpec& spec, int n_layers, int dim,
                                              const std::string& model_sha256);

}  // namespace isc::concepts
