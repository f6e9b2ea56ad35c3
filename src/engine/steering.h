// A steering vector set: per layer, a vector added to the residual stream after that block (the
// "control vector" of llama.cpp and repeng), already scaled by its strength. Torch-free.
#pragma once
#include <map>
#include <memory>
#include <vector>

namespace isc {

struct Steering {
  // isc layer l (1..n_layers: the output of block l) -> vector of the model's width
  std::map<int, std::vector<float>> add;
};

// Rows [begin, end) of a job's appended tokens that carry a steering set.
struct SteeringSpan {
  int64_t begin = 0;
  int64_t end = 0;
  std::shared_ptr<const Steering> steering;
};

}  // namespace isc
