// The study's latent-concept model fitted to a run's per-round means (accuracy, concept score,
// uncertainty) by weighted least squares, with standard errors, goodness of fit and residuals.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace isc::sim {

// The model read at the population level: in round t (1-based) a share p_t of the conversations
// holds the positive concept C_p, and its log-odds moves by the same amount every review round,
//     logit p_t = ℓ_1 + λ·(t − 1),   λ = log(LR_i·LR_y),
// the correctly normalised odds form O_t = O_1·(LR_i·LR_y)^{t−1} (only the product of the instruction
// and output likelihood ratios is identifiable from one condition). Every observed per-round mean is
// the mixture of its value under each concept: y_t = y(C_n) + (y(C_p) − y(C_n))·p_t. C_p is the
// pole with the higher concept score where the concept is fitted (what the direction measures), else
// the concept with the higher accuracy, else the higher end of the first series.

struct ObservedSeries {
  std::string name;            // "accuracy", "concept", "uncertainty"
  std::vector<int> rounds;     // ascending
  std::vector<double> mean;    // per round
  std::vector<double> std_error;  // per round, > 0 (the weights are 1 / se²)
};

struct FittedValue {
  double estimate = 0.0;
  std::optional<double> std_error;  // absent at a bound or when the fit is singular
};

struct FittedSeries {
  std::string name;
  FittedValue under_negative;  // y(C_n)
  FittedValue under_positive;  // y(C_p)
  double r2 = 0.0;             // weighted, of this series' per-round means
  std::vector<int> rounds;
  std::vector<double> observed, fitted, residual;  // residual = observed − fitted, per round
};

struct ConceptModelFit {
  std::size_t n_points = 0, n_parameters = 0;
  FittedValue first_log_odds;  // ℓ_1
  FittedValue log_lr;          // λ per review round
  double first_posterior = 0.0;  // σ(ℓ_1)
  double lr_per_round = 0.0;     // e^λ
  // the rounds' posterior p_t from the first fitted round to the last
  std::vector<int> rounds;
  std::vector<double> posterior;
  double chi2 = 0.0;           // Σ weighted squared residuals
  int df = 0;                  // n_points − n_parameters
  double reduced_chi2 = 0.0;   // chi2 / df; ≫ 1 = the curves do not follow the model within their errors
  bool at_bound = false;       // ℓ_1 or λ reached its search bound (a change within one round)
  std::string note;            // caveats: why standard errors are missing, extrapolated values
  std::vector<FittedSeries> series;
};

struct ConceptModelResult {
  std::optional<ConceptModelFit> fit;
  std::string unavailable;  // why there is no fit
};

// Throws isc::Error on series of different rounds, a non-finite value, or a standard error <= 0.
// Returns no fit (with the reason) when there are fewer points than parameters + 1, fewer than 3
// rounds, or every series is constant.
ConceptModelResult fit_concept_model(const std::vector<ObservedSeries>& series);

nlohmann::json to_json(const ConceptModelResult& result);
std::string to_text(const ConceptModelResult& result);  // lines ending in '\n'

}  // namespace isc::sim
