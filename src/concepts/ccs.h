// Contrast-Consistent Search (Burns et al. 2022, "Discovering Latent Knowledge in Language Models
// Without Supervision"): an unsupervised linear probe on contrast pairs (x+, x−).
#pragma once
#include <cstddef>  // size_t, which metrics/matrix.h uses
#include <cstdint>
#include <optional>
#include <vector>

#include "metrics/matrix.h"

namespace isc::concepts {

struct CcsOptions {
  int ntries = 10;            // random restarts; the try with the lowest final loss is kept
  int epochs = 1000;          // full-batch AdamW steps per try (torch.optim.AdamW semantics:
                              // betas 0.9/0.999, eps 1e-8, decoupled decay on weights and bias)
  double learning_rate = 1e-3;
  double weight_decay = 0.01;
  bool var_normalize = true;  // divide each side by its per-feature std after centring
  uint64_t seed = 0;
};

// p(x) = σ(w · norm(x) + b); loss = mean((p(x+) − (1 − p(x−)))²) + mean(min(p(x+), p(x−))²).
struct CcsProbe {
  std::vector<double> weights;
  double bias = 0.0;
  // per side normalisation: norm(x+) = (x+ − mean_pos) / std_pos, likewise for x−
  std::vector<double> mean_pos, mean_neg, std_pos, std_neg;
  double loss = 0.0;            // of the kept try, at its final parameters (after the last step)
  int best_try = 0;             // index of the kept try: argmin of try_losses (first on ties)
  std::vector<double> try_losses;  // final loss of every try, in order
  // average of p(x+) and 1 − p(x−): the probe's belief that the positive statement is true
  double credence(const double* pos, const double* neg) const;
  // p of a single state normalised as a positive-side state (used to score run states)
  double probability(const float* h) const;
};

// The initial parameters of try `try_index`: every weight and the bias uniform in [−1/√d, 1/√d)
// (the range of torch.nn.Linear's default init), drawn from splitmix64 started at
// seed ^ (0xD1B54A32D192ED03 · (try_index + 1)), weights first, then the bias. Exposed so a reference
// implementation can start from the same point.
struct CcsParameters {
  std::vector<double> weights;
  double bias = 0.0;
};
CcsParameters ccs_initial_parameters(int64_t dim, uint64_t seed, int try_index);

// The CCS loss of parameters on already-normalised pairs (rows of xpos / xneg).
double ccs_loss(const CcsParameters& params, const metrics::Matrix& xpos, const metrics::Matrix& xneg);

// positive/negative: one row per pair. Throws isc::Error on fewer than 2 pairs or shapes that differ.
CcsProbe train_ccs(const metrics::Matrix& positive, const metrics::Matrix& negative, const CcsOptions& options = {});

// Accuracy against labels (1 = the positive statement is true) of credence > 0.5, taken as
// max(acc, 1 − acc) as Burns et al. do (CCS cannot know which side is "true"); `flipped` says which.
struct CcsAccuracy {
  double accuracy = 0.0;
  bool flipped = false;
};
CcsAccuracy ccs_accuracy(const CcsProbe& probe, const metrics::Matrix& positive, const metrics::Matrix& negative,
                         const std::vector<int>& labels);

}  // namespace isc::concepts
