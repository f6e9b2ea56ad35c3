// A fixed set of 20 three-option distributions and gold labels with metric values computed
// independently by numpy 2.4 (script below), shared by the entropy, calibration and Brier tests.
#pragma once
#include <vector>

namespace isc::metrics::testdata {

// Generated and evaluated with (numpy 2.4.6):
//   rng = np.random.default_rng(7); P = np.round(rng.dirichlet([0.6]*3, size=20), 3)
//   P[:, 2] = np.round(1 - P[:, 0] - P[:, 1], 3); gold = rng.integers(0, 3, size=20)
//   conf = P.max(1); corr = (P.argmax(1) == gold)
//   equal width: edges = np.arange(11)/10, bins [e_b, e_b+1) and the last closed,
//                ECE = Σ n_b/N |corr[m].mean() - conf[m].mean()|
//   adaptive:    np.array_split(np.argsort(conf, kind="stable"), 10), same sum
//   observed:    lo, hi = conf.min(), conf.max(); edges = lo + (hi-lo)/10 * np.arange(11), last
//                edge set to hi and closed; "reference": last edge as computed and half-open
//   brier:       ((P - np.eye(3)[gold])**2).sum(1).mean(); ((conf - corr)**2).mean()
//   entropy:     -(P * log P).sum(1) with 0 log 0 = 0, mean; and / np.log(3)
inline const std::vector<std::vector<double>> kProbs{
    {0.321, 0.597, 0.082}, {0.0, 0.888, 0.112},   {0.107, 0.346, 0.547}, {0.119, 0.014, 0.867}, {0.841, 0.134, 0.025},
    {0.607, 0.001, 0.392}, {0.429, 0.355, 0.216}, {0.155, 0.651, 0.194}, {0.06, 0.283, 0.657},  {0.804, 0.062, 0.134},
    {0.088, 0.332, 0.58},  {0.155, 0.349, 0.496}, {0.016, 0.96, 0.024},  {0.235, 0.082, 0.683}, {0.3, 0.677, 0.023},
    {0.534, 0.316, 0.15},  {0.35, 0.184, 0.466},  {0.021, 0.674, 0.305}, {0.56, 0.138, 0.302},  {0.238, 0.603, 0.159},
};
inline const std::vector<int> kGold{0, 1, 0, 2, 0, 1, 2, 1, 2, 2, 2, 2, 1, 1, 2, 1, 2, 2, 1, 1};

inline constexpr double kEceEqualWidth = 0.22094999999999998;
inline constexpr double kEceAdaptive = 0.28015;
inline constexpr double kEceObservedRange = 0.19505;
inline constexpr double kEceObservedRangeReference = 0.19305;
inline constexpr double kBrierMulticlass = 0.6738741;
inline constexpr double kBrierBinary = 0.25010595;
inline constexpr double kEntropyMean = 0.7696119880952927;
inline constexpr double kEntropyMeanNormalized = 0.700531020846602;
inline constexpr double kArgmaxAccuracy = 0.5;

}  // namespace isc::metrics::testdata
