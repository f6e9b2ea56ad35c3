// The ways of finding a concept direction in hidden-state space from labelled or paired states:
// a logistic-regression probe, the mean difference, PCA of paired differences / of pair-centred
// states (RepE, repeng), and CCS (Burns et al. 2022, in ccs.h). Sign: the positive class projects higher.
#pragma once
#include <cstddef>  // size_t, which metrics/matrix.h uses
#include <cstdint>
#include <vector>

#include "metrics/matrix.h"
#include "metrics/regression.h"

namespace isc::concepts {

using metrics::Matrix;

// A linear probe: P(positive | h) = σ(w · (h − mean) / scale + b), with scale the per-feature
// standard deviation of the training states (features standardised before the L2 fit).
struct Probe {
  std::vector<double> weights;  // in standardised space
  double bias = 0.0;
  std::vector<double> mean, scale;
  double probability(const float* h) const;
  double probability(const double* h) const;
  // The probe's direction in raw hidden-state space (w / scale), unit length.
  std::vector<double> raw_direction() const;
};

// L2-penalised logistic regression on standardised features (sklearn LogisticRegression(C=1/l2) on
// StandardScaler output; a constant feature gets scale 1 and weight 0). labels: 1 = positive pole.
// Throws isc::Error on one class or shapes, and on l2 = 0 with perfectly separable classes.
Probe train_probe(const Matrix& states, const std::vector<int>& labels, double l2 = 1.0);

// mean(states with label 1) − mean(states with label 0).
std::vector<double> mean_difference(const Matrix& states, const std::vector<int>& labels);
// Paired: mean over pairs of (positive − negative).
std::vector<double> mean_difference_paired(const Matrix& positive, const Matrix& negative);

// First principal component (unit length) of the paired differences positive − negative, after
// centring them (sklearn PCA semantics, as repeng's pca_diff), with the sign chosen so that, over
// pairs, the positive member projects higher more often than lower (repeng's rule; on a tie the
// sign of first_principal_component stays). Exact: repeng's default sklearn solver turns randomized
// (approximate) for inputs over 500 wide. Throws isc::Error on fewer than 2 pairs or shapes.
std::vector<double> pca_diff(const Matrix& positive, const Matrix& negative);
// First principal component of all states after subtracting each pair's midpoint (repeng's
// pca_center), sign as above.
std::vector<double> pca_center(const Matrix& positive, const Matrix& negative);

// Unit-length first principal component of the (internally centred) rows, by power iteration on
// the covariance (products Xcᵀ(Xc v), never the d×d matrix) from a fixed start inside the row space,
// until |C v − λ v| ≤ 1e-10·λ; sign: largest-magnitude entry positive (sklearn's svd_flip).
// Deterministic. Throws isc::Error on fewer than 2 rows, zero variance, or no convergence within
// 10,000 iterations (top two eigenvalues too close to tell apart).
std::vector<double> first_principal_component(const Matrix& rows);

// Fraction of rows the direction classifies right with the threshold halfway between the class
// means of the projection (used to report a direction's accuracy on held-out states).
double direction_accuracy(const Matrix& states, const std::vector<int>& labels, const std::vector<double>& direction,
                          double threshold);
double midpoint_threshold(const Matrix& states, const std::vector<int>& labels, const std::vector<double>& direction);

}  // namespace isc::concepts
