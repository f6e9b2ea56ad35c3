// The sampled-uncertainty estimators as the report shows them: a fixed order, short column
// titles and axis labels, so the text table, the machine table and the HTML agree.
#pragma once
#include <string>
#include <vector>

namespace isc::report {

struct EstimatorView {
  const char* name;   // the key in a round's extra["uncertainty"]
  const char* short_title;
  const char* title;
};

inline const std::vector<EstimatorView>& estimator_views() {
  static const std::vector<EstimatorView> views = {
      {"semantic_entropy", "SE", "Semantic entropy (distinct samples, sequence likelihood)"},
      {"ln_semantic_entropy", "LN-SE", "Semantic entropy, length-normalised likelihood"},
      {"discrete_semantic_entropy", "DSE", "Discrete semantic entropy (cluster counts)"},
      {"predictive_entropy", "PE", "Predictive entropy over samples"},
      {"ln_predictive_entropy", "LN-PE", "Length-normalised predictive entropy"},
      {"reference_semantic_nll", "ref-NLL", "Reference study's 'semantic uncertainty' (mean NLL over clusters)"},
      {"option_sample_entropy", "opt-SE", "Entropy of the sampled options"},
  };
  return views;
}

}  // namespace isc::report
