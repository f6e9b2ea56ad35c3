// Rank-calibration of an uncertainty measure against a generation-quality score: the
// rank-calibration error (RCE) and the indication diagram of Huang, Li, Yu, Sesia, Hassani, Lee,
// Bastani & Dobriban, "Uncertainty in Language Models: Assessment through Rank-Calibration"
// (arXiv 2404.03163, 2024); estimator as in their code, github.com/shuoli90/Rank-Calibration,
// metrics/calibration.py (plugin_RCE_est, regressed_correctness_vs_uncertainty_cdf) and
// utils/make_plots.py (indication_diagram).
//
// Orientation: higher uncertainty should mean lower quality. Pass an uncertainty (PE, semantic
// entropy, NLL, ...); for a confidence measure pass its negation (their code does, for verbalised
// confidence). quality is any real score where higher is better (ROUGE, accuracy 0/1, ...).
//
// Definition (population): with U' an independent copy of U and reg(u) = E[A | U = u],
//   RCE = E_U | P_U'( reg(U') >= reg(U) ) - P_U'( U' <= U ) |,
// zero exactly when the order of the uncertainties is the reverse of the order of the expected
// qualities ("rank-calibrated").
//
// Empirical estimator computed here (their plug-in, p = 1 by default, kernel smoothing not offered):
//  1. Sort the n pairs by uncertainty, ascending; ties keep input order (stable sort; their
//     np.argsort leaves the order of ties unspecified, so with tied uncertainties the two can
//     differ). Position i = 0..n-1 gets the uncertainty rank u_i = i / (n - 1).
//  2. Equal-mass bins over positions: edges e_k = round_half_even(k * (n / B)) for k = 0..B-1 and
//     e_B = n (numpy.linspace(0, n, B + 1) then Python round()); bin b holds positions
//     [e_b, e_{b+1}); empty bins (possible when n < B) are skipped.
//  3. reg_i = mean quality of i's bin (the regressed quality, constant within a bin).
//  4. The quality rank from the top, de-tied within the bin:
//        q_i = (#{j : reg_j >= reg_i} - 1) / (n - 1) - (m_b - 1) / (2 (n - 1)),
//     m_b = size of i's bin. The first term is the plug-in P(reg(U') >= reg(U)) over the other
//     samples; the second removes the ties that binning itself creates, giving the bin the mean
//     rank its members would have if they were ordered. Ties between DIFFERENT bins' means (common
//     with 0/1 quality: several bins at accuracy 1) are not de-tied: they count as ">=", as in
//     their code.
//  5. RCE = (1/n) Σ_i |q_i - u_i|^p, p in {1, 2} (p = 2 gives their squared-error variant).
// Because u_i varies within a bin while q_i does not, a perfectly rank-calibrated sample does not
// score 0 unless every bin holds one sample: with strictly decreasing bin means the estimator's
// floor is Σ_b floor(m_b^2 / 4) / (n (n - 1)) ≈ 1 / (4 B) for p = 1. diagram_deviation below is 0
// there at any B. A reversed measure scores about 1/2.
//
// Indication diagram (their indication_diagram, binned option): per non-empty bin b,
//   x_b = uncertainty_rank  = mean of u_i over the bin = (e_b + (m_b - 1)/2) / (n - 1);
//   y_b = quality_rank      = (#{j : reg_j <= reg_b} - 1) / (n - 1) - (m_b - 1) / (2 (n - 1)),
// the relative rank of the bin's expected quality from the bottom (their red bars). Ideal:
// y_b = 1 - x_b (the anti-diagonal); y_b below it = over-optimistic (quality lower than the
// uncertainty promises), above = pessimistic. diagram_deviation = Σ_b (m_b / n) |y_b - (1 - x_b)|,
// the mass-weighted gap to the anti-diagonal (not part of the paper; a bin-level summary).
//
// Default B = 20, the value their code uses everywhere (run/compute_stats.py, make_plots).
#pragma once
#include <cstddef>
#include <span>
#include <vector>

namespace isc::metrics {

inline constexpr std::size_t kRankCalibrationBins = 20;

struct RankCalibrationBin {
  std::size_t begin = 0;              // first position (in ascending-uncertainty order)
  std::size_t count = 0;              // m_b
  double uncertainty_lower = 0.0;     // smallest uncertainty in the bin
  double uncertainty_upper = 0.0;     // largest uncertainty in the bin
  double mean_quality = 0.0;          // reg_b
  double uncertainty_rank = 0.0;      // x_b
  double quality_rank = 0.0;          // y_b (from the bottom; ideal 1 - x_b)
  double quality_rank_from_top = 0.0; // q_i of the bin's members (what RCE compares with u_i)
};

struct RankCalibration {
  double rce = 0.0;                   // the empirical RCE (power p as requested)
  double diagram_deviation = 0.0;
  std::size_t n = 0;
  std::size_t n_bins = 0;             // B requested; bins below holds only the non-empty ones
  std::vector<RankCalibrationBin> bins;
};

// Throws isc::Error when the lengths differ, n < 2, n_bins == 0, p is not 1 or 2, an uncertainty
// is NaN (±inf is allowed: it only has to be ordered), or a quality is not finite.
RankCalibration rank_calibration(std::span<const double> uncertainty, std::span<const double> quality,
                                 std::size_t n_bins = kRankCalibrationBins, int p = 1);
double rank_calibration_error(std::span<const double> uncertainty, std::span<const double> quality,
                              std::size_t n_bins = kRankCalibrationBins, int p = 1);

}  // namespace isc::metrics
