// Tests of the rank-calibration error and indication diagram (hand-computed small cases, perfectly
// and reversely rank-calibrated measures, the bin-edge rule) and of AUROC / PRR (closed forms, ties,
// the undefined cases).
#include "metrics/rank_calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "common/error.h"
#include "metrics/selective_prediction.h"

namespace isc::metrics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(RankCalibration, PerfectlyRankCalibratedWithOneSamplePerBinIsZero) {
  const std::vector<double> u{0.1, 0.5, 0.2, 0.9, 0.7, 0.3};
  std::vector<double> q;
  for (double x : u) q.push_back(1.0 - x);  // strictly decreasing in u
  const RankCalibration r = rank_calibration(u, q, u.size());
  EXPECT_NEAR(r.rce, 0.0, 1e-15);
  EXPECT_NEAR(r.diagram_deviation, 0.0, 1e-15);
  ASSERT_EQ(r.bins.size(), 6u);
  for (const RankCalibrationBin& b : r.bins) EXPECT_NEAR(b.quality_rank, 1.0 - b.uncertainty_rank, 1e-15);
  // Any monotone transform of the uncertainty changes nothing.
  std::vector<double> e;
  for (double x : u) e.push_back(std::exp(5 * x));
  EXPECT_NEAR(rank_calibration_error(e, q, u.size()), 0.0, 1e-15);
}

TEST(RankCalibration, PerfectMeasureWithBinsScoresTheWithinBinFloor) {
  // n = 8, B = 4: bins of 2 with strictly decreasing means. The diagram is exactly on the
  // anti-diagonal, but u_i varies inside a bin while q_i does not:
  // RCE = Σ_b floor(m_b^2 / 4) / (n (n - 1)) = 4 · 1 / 56 = 1/14.
  const std::vector<double> u{1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<double> q{8, 7, 6, 5, 4, 3, 2, 1};
  const RankCalibration r = rank_calibration(u, q, 4);
  EXPECT_NEAR(r.rce, 1.0 / 14, 1e-15);
  EXPECT_NEAR(r.diagram_deviation, 0.0, 1e-15);
  // Default B = 20 > n: one sample per bin, so 0.
  EXPECT_NEAR(rank_calibration_error(u, q), 0.0, 1e-15);
}

TEST(RankCalibration, ReversedMeasureIsLarge) {
  // Quality increasing with uncertainty, B = n = 5: q_i = 1 - u_i, so |1 - 2i/4| = 1, .5, 0, .5, 1.
  const std::vector<double> u{1, 2, 3, 4, 5};
  const std::vector<double> q{0.1, 0.2, 0.3, 0.4, 0.5};
  EXPECT_NEAR(rank_calibration_error(u, q, 5), 0.6, 1e-15);
  EXPECT_NEAR(rank_calibration_error(u, q, 5, 2), 0.5, 1e-15);  // (1 + .25 + 0 + .25 + 1) / 5
  const RankCalibration r = rank_calibration(u, q, 5);
  // y_b = x_b for every bin: deviation = mean |2 x_b - 1| = 0.6 as well.
  EXPECT_NEAR(r.diagram_deviation, 0.6, 1e-15);
}

TEST(RankCalibration, HandComputedBins) {
  // n = 6, B = 3: bins {0,1}, {2,3}, {4,5} with mean qualities 0.9, 0.3, 0.4.
  const std::vector<double> u{0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
  const std::vector<double> q{1.0, 0.8, 0.2, 0.4, 0.7, 0.1};
  const RankCalibration r = rank_calibration(u, q, 3);
  ASSERT_EQ(r.bins.size(), 3u);
  EXPECT_NEAR(r.bins[0].mean_quality, 0.9, 1e-15);
  EXPECT_NEAR(r.bins[1].mean_quality, 0.3, 1e-15);
  EXPECT_NEAR(r.bins[2].mean_quality, 0.4, 1e-15);
  // From the top: (#{reg >= reg_b} - 1)/5 - (2 - 1)/(2·5): 1/5 - 0.1, 5/5 - 0.1, 3/5 - 0.1.
  EXPECT_NEAR(r.bins[0].quality_rank_from_top, 0.1, 1e-15);
  EXPECT_NEAR(r.bins[1].quality_rank_from_top, 0.9, 1e-15);
  EXPECT_NEAR(r.bins[2].quality_rank_from_top, 0.5, 1e-15);
  // u_i = i/5: |.1-0| + |.1-.2| + |.9-.4| + |.9-.6| + |.5-.8| + |.5-1| = 1.8; / 6 = 0.3
  EXPECT_NEAR(r.rce, 0.3, 1e-15);
  // Diagram: x = 0.1, 0.5, 0.9; y (from the bottom) = 6/5-... = 0.9, 0.1, 0.5; ideal 1 - x.
  EXPECT_NEAR(r.bins[0].uncertainty_rank, 0.1, 1e-15);
  EXPECT_NEAR(r.bins[1].uncertainty_rank, 0.5, 1e-15);
  EXPECT_NEAR(r.bins[2].uncertainty_rank, 0.9, 1e-15);
  EXPECT_NEAR(r.bins[0].quality_rank, 0.9, 1e-15);
  EXPECT_NEAR(r.bins[1].quality_rank, 0.1, 1e-15);
  EXPECT_NEAR(r.bins[2].quality_rank, 0.5, 1e-15);
  // (2·0 + 2·0.4 + 2·0.4) / 6
  EXPECT_NEAR(r.diagram_deviation, 1.6 / 6, 1e-15);
  EXPECT_EQ(r.bins[1].uncertainty_lower, 0.3);
  EXPECT_EQ(r.bins[1].uncertainty_upper, 0.4);
}

TEST(RankCalibration, TiesBetweenBinMeansAreNotDetied) {
  // n = 4, B = 2, both bins at mean 0.5: every sample has #{reg >= reg_i} = 4, so
  // q_i = 3/3 - (1/2)/3 = 5/6 for all; u_i = 0, 1/3, 2/3, 1; RCE = (5/6 + 3/6 + 1/6 + 1/6)/4 = 5/12.
  const std::vector<double> u{0.1, 0.2, 0.3, 0.4};
  const std::vector<double> q{1, 0, 1, 0};
  const RankCalibration r = rank_calibration(u, q, 2);
  EXPECT_NEAR(r.rce, 5.0 / 12, 1e-15);
  EXPECT_NEAR(r.bins[0].quality_rank, 5.0 / 6, 1e-15);
  // x = 1/6, 5/6; deviation = (2 |5/6 - 5/6| + 2 |5/6 - 1/6|) / 4 = 1/3
  EXPECT_NEAR(r.diagram_deviation, 1.0 / 3, 1e-15);
}

TEST(RankCalibration, BinEdgesRoundHalfToEven) {
  // n = 10, B = 4: linspace edges 0, 2.5, 5, 7.5, 10 round to 0, 2, 5, 8, 10 (half to even).
  std::vector<double> u(10), q(10);
  for (int i = 0; i < 10; ++i) u[i] = i, q[i] = -i;
  const RankCalibration r = rank_calibration(u, q, 4);
  ASSERT_EQ(r.bins.size(), 4u);
  EXPECT_EQ(r.bins[0].count, 2u);
  EXPECT_EQ(r.bins[1].count, 3u);
  EXPECT_EQ(r.bins[2].count, 3u);
  EXPECT_EQ(r.bins[3].count, 2u);
  EXPECT_EQ(r.bins[3].begin, 8u);
  // n = 3, B = 5: edges 0, 0.6, 1.2, 1.8, 2.4, 3 -> 0, 1, 1, 2, 2, 3: three bins of one, two empty skipped.
  const RankCalibration s = rank_calibration(std::vector<double>{3, 1, 2}, std::vector<double>{0, 1, 0.5}, 5);
  EXPECT_EQ(s.n_bins, 5u);
  ASSERT_EQ(s.bins.size(), 3u);
  EXPECT_NEAR(s.rce, 0.0, 1e-15);
}

TEST(RankCalibration, TiedUncertaintiesKeepInputOrderAndInfinityIsOrdered) {
  const std::vector<double> u{1, 1, -kInf, kInf};
  const std::vector<double> q{0.5, 0.4, 1.0, 0.0};
  const RankCalibration r = rank_calibration(u, q, 4);
  // Sorted: -inf (1.0), 1 (0.5), 1 (0.4), inf (0.0): decreasing, so rank-calibrated.
  EXPECT_NEAR(r.rce, 0.0, 1e-15);
  EXPECT_EQ(r.bins[0].uncertainty_lower, -kInf);
  EXPECT_NEAR(r.bins[1].mean_quality, 0.5, 1e-15);  // stable: input order among the tie
}

TEST(RankCalibration, RejectsBadInput) {
  const std::vector<double> two{0.1, 0.2};
  EXPECT_THROW(rank_calibration(std::vector<double>{0.1}, std::vector<double>{1.0}), Error);
  EXPECT_THROW(rank_calibration(two, std::vector<double>{1.0}), Error);
  EXPECT_THROW(rank_calibration(two, two, 0), Error);
  EXPECT_THROW(rank_calibration(two, two, 2, 3), Error);
  EXPECT_THROW(rank_calibration(std::vector<double>{0.1, std::nan("")}, two), Error);
  EXPECT_THROW(rank_calibration(two, std::vector<double>{0.1, kInf}), Error);
}

TEST(RankCalibration, BoundedAndFiniteOnRandomData) {
  std::mt19937 rng(3);
  std::normal_distribution<double> g;
  for (int t = 0; t < 50; ++t) {
    const std::size_t n = 2 + rng() % 300;
    std::vector<double> u(n), q(n);
    for (std::size_t i = 0; i < n; ++i) u[i] = g(rng), q[i] = (rng() % 2) ? g(rng) : std::round(g(rng));
    const RankCalibration r = rank_calibration(u, q, 1 + rng() % 30);
    EXPECT_TRUE(std::isfinite(r.rce));
    EXPECT_GE(r.rce, 0.0);
    EXPECT_LE(r.rce, 1.0);
    EXPECT_GE(r.diagram_deviation, 0.0);
    EXPECT_LE(r.diagram_deviation, 1.0);
  }
}

// --- AUROC

TEST(SelectivePrediction, AurocClosedForms) {
  // sklearn's doc example: y = [0, 0, 1, 1], scores [0.1, 0.4, 0.35, 0.8] -> 0.75.
  EXPECT_NEAR(*uncertainty_auroc(std::vector<double>{0.1, 0.4, 0.35, 0.8}, std::vector<int>{0, 0, 1, 1}), 0.75, 1e-15);
  // Ties count one half: incorrect at 1, 2; correct at 0, 1: (1 + 0.5 + 1 + 1) / 4.
  EXPECT_NEAR(*uncertainty_auroc(std::vector<double>{0, 1, 1, 2}, std::vector<int>{0, 0, 1, 1}), 0.875, 1e-15);
  EXPECT_NEAR(*uncertainty_auroc(std::vector<double>{3, 3, 3, 3}, std::vector<int>{0, 1, 0, 1}), 0.5, 1e-15);
  // Perfect and reversed detectors; infinities are ordered.
  EXPECT_EQ(*uncertainty_auroc(std::vector<double>{-kInf, kInf}, std::vector<int>{0, 1}), 1.0);
  EXPECT_EQ(*uncertainty_auroc(std::vector<double>{5, 1, 2}, std::vector<int>{0, 1, 1}), 0.0);
}

TEST(SelectivePrediction, AurocUndefinedAndBadInput) {
  EXPECT_FALSE(uncertainty_auroc(std::vector<double>{0.1, 0.2}, std::vector<int>{1, 1}).has_value());
  EXPECT_FALSE(uncertainty_auroc(std::vector<double>{0.1}, std::vector<int>{0}).has_value());
  EXPECT_THROW(uncertainty_auroc(std::vector<double>{}, std::vector<int>{}), Error);
  EXPECT_THROW(uncertainty_auroc(std::vector<double>{0.1, 0.2}, std::vector<int>{1}), Error);
  EXPECT_THROW(uncertainty_auroc(std::vector<double>{0.1, 0.2}, std::vector<int>{1, 2}), Error);
  EXPECT_THROW(uncertainty_auroc(std::vector<double>{0.1, std::nan("")}, std::vector<int>{0, 1}), Error);
}

// --- prediction-rejection ratio

TEST(SelectivePrediction, PrrOracleAndReversed) {
  const std::vector<double> q{1, 0, 1, 0};
  // Perfect order keeps 1, 1, 0, 0: Q(4..1) = .5, 2/3, 1, 1; AUC = 19/24.
  const PredictionRejection p = prediction_rejection(std::vector<double>{0.1, 0.9, 0.2, 0.8}, q);
  EXPECT_NEAR(p.auc_uncertainty, 19.0 / 24, 1e-15);
  EXPECT_NEAR(p.auc_oracle, 19.0 / 24, 1e-15);
  EXPECT_NEAR(p.auc_random, 0.5, 1e-15);
  ASSERT_TRUE(p.prr.has_value());
  EXPECT_NEAR(*p.prr, 1.0, 1e-15);
  ASSERT_EQ(p.curve.size(), 4u);
  EXPECT_NEAR(p.curve[1], 2.0 / 3, 1e-15);
  // Reversed: Q = .5, 1/3, 0, 0; AUC = 5/24; PRR = (5/24 - 1/2) / (19/24 - 1/2) = -1.
  EXPECT_NEAR(*prediction_rejection(std::vector<double>{0.9, 0.1, 0.8, 0.2}, q).prr, -1.0, 1e-14);
}

TEST(SelectivePrediction, PrrHandComputed) {
  // Order by u keeps 0.2, 0.9, 0.5: Q = 1.6/3, 0.55, 0.2; AUC = 77/180. Oracle 0.9, 0.5, 0.2:
  // Q = 1.6/3, 0.7, 0.9; AUC = 128/180. Random 96/180. PRR = (77 - 96) / (128 - 96) = -19/32.
  const PredictionRejection p =
      prediction_rejection(std::vector<double>{0.1, 0.2, 0.3}, std::vector<double>{0.2, 0.9, 0.5});
  EXPECT_NEAR(p.auc_uncertainty, 77.0 / 180, 1e-15);
  EXPECT_NEAR(p.auc_oracle, 128.0 / 180, 1e-15);
  EXPECT_NEAR(*p.prr, -19.0 / 32, 1e-14);
  // max_rejection 0.5 of 4 samples: R = 2, points r = 0, 1 only.
  const PredictionRejection h = prediction_rejection(std::vector<double>{0.1, 0.2, 0.3, 0.4},
                                                     std::vector<double>{0.0, 1.0, 1.0, 0.0}, 0.5);
  ASSERT_EQ(h.curve.size(), 2u);
  EXPECT_NEAR(h.auc_uncertainty, (0.5 + 2.0 / 3) / 2, 1e-15);
  EXPECT_NEAR(h.auc_oracle, (0.5 + 2.0 / 3) / 2, 1e-15);
  EXPECT_NEAR(*h.prr, 1.0, 1e-14);
}

TEST(SelectivePrediction, PrrTiesInExpectation) {
  // u = 0.1, 0.5, 0.5 with q = 1, 1, 0: the tie keeps its mean 0.5 per member: Q = 2/3, .75, 1.
  // Equals the mean over both tie orders: ((2/3 + 1 + 1) + (2/3 + .5 + 1)) / 6 = 29/36.
  const PredictionRejection p =
      prediction_rejection(std::vector<double>{0.1, 0.5, 0.5}, std::vector<double>{1, 1, 0});
  EXPECT_NEAR(p.auc_uncertainty, 29.0 / 36, 1e-15);
  EXPECT_NEAR(*p.prr, 0.625, 1e-14);  // (29/36 - 24/36) / (32/36 - 24/36)
  // All uncertainties equal: exactly random.
  EXPECT_NEAR(*prediction_rejection(std::vector<double>{2, 2, 2, 2}, std::vector<double>{1, 0, 0.5, 1}).prr, 0.0, 1e-15);
}

TEST(SelectivePrediction, PrrUndefinedAndBadInput) {
  // Constant quality: oracle == random, undefined.
  const PredictionRejection c = prediction_rejection(std::vector<double>{0.1, 0.2, 0.3}, std::vector<double>{0.7, 0.7, 0.7});
  EXPECT_FALSE(c.prr.has_value());
  EXPECT_NEAR(c.auc_oracle, c.auc_random, 1e-15);
  // One point on the curve (n = 1, or R = 1): every order gives Q(n).
  EXPECT_FALSE(prediction_rejection(std::vector<double>{0.1}, std::vector<double>{1.0}).prr.has_value());
  EXPECT_FALSE(prediction_rejection(std::vector<double>{0.1, 0.2, 0.3}, std::vector<double>{1, 0, 1}, 0.5).prr.has_value());
  EXPECT_THROW(prediction_rejection(std::vector<double>{}, std::vector<double>{}), Error);
  EXPECT_THROW(prediction_rejection(std::vector<double>{0.1}, std::vector<double>{1, 0}), Error);
  EXPECT_THROW(prediction_rejection(std::vector<double>{0.1, 0.2}, std::vector<double>{1, 0}, 0.0), Error);
  EXPECT_THROW(prediction_rejection(std::vector<double>{0.1, 0.2}, std::vector<double>{1, 0}, 1.5), Error);
  EXPECT_THROW(prediction_rejection(std::vector<double>{0.1, 0.2}, std::vector<double>{1, 0}, 0.4), Error);  // R = 0
  EXPECT_THROW(prediction_rejection(std::vector<double>{std::nan(""), 0.2}, std::vector<double>{1, 0}), Error);
  EXPECT_THROW(prediction_rejection(std::vector<double>{0.1, 0.2}, std::vector<double>{kInf, 0}), Error);
}

}  // namespace
}  // namespace isc::metrics
