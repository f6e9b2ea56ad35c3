// Uncertainty as a selector: AUROC of the uncertainty as a detector of incorrect answers, and the
// prediction–rejection ratio (PRR) of Malinin et al. (2017; "Uncertainty estimation in
// autoregressive structured prediction", 2021) as LM-Polygraph computes it
// (ue_metrics/pred_rej_area.py + normalize_metric against oracle and random).
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace isc::metrics {

// AUROC = P(u_incorrect > u_correct) + 0.5 · P(u_incorrect = u_correct) over all (incorrect,
// correct) pairs: the Mann–Whitney U of the incorrect group over n_incorrect · n_correct, computed
// from average ranks; equal to sklearn.metrics.roc_auc_score(incorrect, uncertainty). 1 = the
// uncertainty ranks every wrong answer above every right one, 0.5 = chance.
// incorrect[i] is 1 (incorrect) or 0 (correct). nullopt when all labels are equal (undefined).
// Throws isc::Error on empty input, different lengths, a label other than 0/1, or a NaN
// uncertainty (±inf is allowed).
std::optional<double> uncertainty_auroc(std::span<const double> uncertainty, std::span<const int> incorrect);

// Prediction–rejection. The samples are ordered by uncertainty, most certain first; rejecting the
// r most uncertain keeps k = n - r, and the curve is Q(k) = mean quality of the kept k. With
// R = floor(max_rejection · n) rejection counts r = 0, 1, ..., R - 1 (rejection rates r / n, each
// with weight 1/R: a left Riemann sum over [0, R/n]; rate 1, nothing kept, is not a point):
//   AUC(order) = (1/R) Σ_{r=0}^{R-1} Q(n - r)          (LM-Polygraph's PredictionRejectionArea)
//   oracle     = AUC of the order by quality, best first (LM-Polygraph: uncertainty = -quality)
//   random     = mean quality, the exact expectation of AUC over random orders (every Q(k) has
//                that expectation; LM-Polygraph averages 1000 seeded shuffles to estimate it)
//   PRR        = (AUC(uncertainty) - random) / (oracle - random)
// 1 = as good as the oracle, 0 = no better than random, negative = worse. Ties in uncertainty are
// resolved in expectation over random tie-breaking (a tie group straddling the cut contributes its
// mean quality per kept member); LM-Polygraph's np.argsort breaks them in an unspecified order.
// PRR is invariant under a positive affine map of the quality, so LM-Polygraph's min-max
// normalisation of the target changes nothing; the AUCs here are on the caller's quality scale.
// Any finite quality works (the usual is a score in [0, 1], e.g. ROUGE-L or accuracy).
// prr is nullopt when it is undefined: all qualities equal (oracle == random), or R < 2 (with one
// point the curve is Q(n) = mean for every order); LM-Polygraph returns the raw AUC there instead.
struct PredictionRejection {
  double auc_uncertainty = 0.0;
  double auc_oracle = 0.0;
  double auc_random = 0.0;
  std::optional<double> prr;
  std::vector<double> curve;         // Q(n - r) for r = 0..R-1 under the uncertainty order
  std::vector<double> oracle_curve;  // the same under the oracle order
};
// Throws isc::Error on empty input, different lengths, a NaN uncertainty, a non-finite quality, or
// max_rejection outside (0, 1] or so small that R = 0.
PredictionRejection prediction_rejection(std::span<const double> uncertainty, std::span<const double> quality,
                                         double max_rejection = 1.0);

}  // namespace isc::metrics
