// Calibration of answer confidences: expected calibration error (equal-width, equal-mass, and the
// reference study's observed-range variant) and the reliability bins behind them, for plots.
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "metrics/distribution_check.h"

namespace isc::metrics {

// Which answer's probability is "the confidence".
enum class ConfidenceSource {
  // Confidence = max_k p_k (ties: lowest index); correct = (that argmax option == gold). The
  // usual ECE convention and the reference code's (it scores the highest-probability choice).
  Argmax,
  // Confidence = p[parsed answer]; correct = whether the parsed answer is correct. A row whose
  // answer could not be parsed has no such confidence and is left out of calibration.
  ParsedAnswer,
};

struct CalibrationPoint {
  double confidence = 0.0;  // in [0, 1]
  bool correct = false;
};

// The calibration point of one row under `source`; nullopt only for ParsedAnswer with answer == -1.
// `correct_override` replaces "answer == gold" for ParsedAnswer (tasks scored by other means).
// Throws isc::Error on a malformed distribution, an answer/gold outside [-1, K), or Argmax with
// gold < 0.
std::optional<CalibrationPoint> calibration_point(std::span<const double> option_probs, int answer, int gold,
                                                  ConfidenceSource source,
                                                  std::optional<bool> correct_override = std::nullopt,
                                                  double tolerance = kDefaultProbabilityTolerance);

// One bin of a reliability diagram. Mean confidence and accuracy are undefined for an empty bin.
struct ReliabilityBin {
  double lower = 0.0;
  double upper = 0.0;
  std::size_t count = 0;
  std::optional<double> mean_confidence;
  std::optional<double> accuracy;
};

// ECE = Σ_b (count_b / N) · |accuracy_b − mean_confidence_b| over non-empty bins; N = all points.
double ece_from_bins(std::span<const ReliabilityBin> bins, std::size_t n_points);

// Equal-width bins on [0, 1]: bin b = [b/B, (b+1)/B), the last bin closed so confidence 1.0 is in it.
// All functions below throw isc::Error on no points, n_bins == 0, or a confidence outside [0, 1].
std::vector<ReliabilityBin> reliability_bins_equal_width(std::span<const CalibrationPoint> points,
                                                         std::size_t n_bins = 10);
double ece_equal_width(std::span<const CalibrationPoint> points, std::size_t n_bins = 10);

// Equal-mass (adaptive) bins: points sorted by confidence (stable, ties keep input order) and cut
// into n_bins contiguous groups whose sizes differ by at most one, the larger groups first (the
// numpy.array_split rule); with fewer points than bins, one point per bin. lower/upper are the
// smallest/largest confidence in the bin.
std::vector<ReliabilityBin> reliability_bins_equal_mass(std::span<const CalibrationPoint> points,
                                                        std::size_t n_bins = 10);
double ece_adaptive(std::span<const CalibrationPoint> points, std::size_t n_bins = 10);

// The reference study's variant (HaitaoMao/LLM-self-correction, analysis/uncerntainty.py,
// ECEError.ece_score): n_bins equal-width bins spanning the observed [min, max] confidence rather
// than [0, 1]; edge_i = min + i · (max − min) / n_bins, bins [edge_i, edge_{i+1}).
enum class ObservedRangeTop {
  // The last bin is closed at max, so every point lands in a bin; if all confidences are equal,
  // all points fall in the last bin.
  IncludeMax,
  // As the reference code does: the last bin is half-open too, so points at (or, through rounding
  // of the edges, near) the maximum fall in no bin yet still count in N. Kept to reproduce the
  // reference's numbers; throws if every point is dropped (the reference crashes there). The
  // reference also divides by zero on any empty bin; empty bins are skipped here instead.
  DropMaxLikeReference,
};
std::vector<ReliabilityBin> reliability_bins_observed_range(std::span<const CalibrationPoint> points,
                                                            std::size_t n_bins = 10,
                                                            ObservedRangeTop top = ObservedRangeTop::IncludeMax);
double ece_observed_range(std::span<const CalibrationPoint> points, std::size_t n_bins = 10,
                          ObservedRangeTop top = ObservedRangeTop::IncludeMax);

}  // namespace isc::metrics
