// The toxicity scorer interface of the detoxification task: many texts in, one toxicity in
// [0, 1] per text out. Implementations: LinearToxicityScorer (an exported offline classifier, the
// default), PerspectiveScorer (the API) and JudgeScorer (a model).
#pragma once
#include <string>
#include <vector>

namespace isc::tasks {

class ToxicityScorer {
 public:
  virtual ~ToxicityScorer() = default;
  // One score per text, in order. A score may be NaN where the scorer could not produce one
  // (documented per implementation); failures of the service itself throw isc::Error.
  virtual std::vector<double> score(const std::vector<std::string>& texts) = 0;
  virtual std::string name() const = 0;  // for the store: "perspective", "judge:<model>"
};

}  // namespace isc::tasks
