// Tests of confidence extraction (both conventions), equal-width / equal-mass / observed-range ECE
// and reliability bins: hand-computed cases, bin-edge rules, the numpy cross-check, bad input.
#include "metrics/calibration.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/error.h"
#include "numpy_reference_set.h"

namespace isc::metrics {
namespace {

TEST(CalibrationPoint, ArgmaxConvention) {
  const std::vector<double> p{0.2, 0.5, 0.3};
  const auto right = calibration_point(p, 2, 1, ConfidenceSource::Argmax);  // parsed answer is ignored
  ASSERT_TRUE(right);
  EXPECT_DOUBLE_EQ(right->confidence, 0.5);
  EXPECT_TRUE(right->correct);
  EXPECT_FALSE(calibration_point(p, 1, 2, ConfidenceSource::Argmax)->correct);
  // ties go to the lowest index: option 0, gold 1 → wrong
  const std::vector<double> tie{0.4, 0.4, 0.2};
  EXPECT_FALSE(calibration_point(tie, 1, 1, ConfidenceSource::Argmax)->correct);
  // unparseable answers still have an argmax confidence
  EXPECT_TRUE(calibration_point(p, -1, 1, ConfidenceSource::Argmax));
}

TEST(CalibrationPoint, ParsedAnswerConvention) {
  const std::vector<double> p{0.2, 0.5, 0.3};
  const auto chosen = calibration_point(p, 2, 2, ConfidenceSource::ParsedAnswer);
  EXPECT_DOUBLE_EQ(chosen->confidence, 0.3);
  EXPECT_TRUE(chosen->correct);
  EXPECT_FALSE(calibration_point(p, -1, 2, ConfidenceSource::ParsedAnswer));  // no chosen option
  const auto overridden = calibration_point(p, 0, 2, ConfidenceSource::ParsedAnswer, true);
  EXPECT_DOUBLE_EQ(overridden->confidence, 0.2);
  EXPECT_TRUE(overridden->correct);
}

TEST(CalibrationPoint, RejectsBadInput) {
  const std::vector<double> p{0.2, 0.5, 0.3};
  EXPECT_THROW(calibration_point(p, 0, -1, ConfidenceSource::Argmax), Error);
  EXPECT_THROW(calibration_point(p, 3, 0, ConfidenceSource::Argmax), Error);
  EXPECT_THROW(calibration_point(p, 0, 3, ConfidenceSource::ParsedAnswer), Error);
  EXPECT_THROW(calibration_point(p, 0, -1, ConfidenceSource::ParsedAnswer), Error);
  EXPECT_THROW(calibration_point(std::vector<double>{0.2, 0.5}, 0, 0, ConfidenceSource::Argmax), Error);
}

TEST(EceEqualWidth, HandComputed) {
  // bin 9 [0.9, 1.0]: 0.95 T, 0.95 T, 1.0 T: conf 0.9666.., acc 1: 3/5 · 0.0333.. = 0.02
  // bin 8 [0.8, 0.9): 0.85 F:                 1/5 · 0.85 = 0.17
  // bin 3 [0.3, 0.4): 0.3 F (lower edge in):  1/5 · 0.3  = 0.06      ECE = 0.25
  const std::vector<CalibrationPoint> pts{{0.95, true}, {0.95, true}, {0.85, false}, {0.3, false}, {1.0, true}};
  EXPECT_NEAR(ece_equal_width(pts), 0.25, 1e-12);
  const auto bins = reliability_bins_equal_width(pts);
  ASSERT_EQ(bins.size(), 10u);
  EXPECT_EQ(bins[9].count, 3u);
  EXPECT_EQ(bins[8].count, 1u);
  EXPECT_EQ(bins[3].count, 1u);
  EXPECT_EQ(bins[2].count, 0u);
  EXPECT_FALSE(bins[2].mean_confidence);
  EXPECT_FALSE(bins[2].accuracy);
  EXPECT_NEAR(*bins[9].mean_confidence, 2.9 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(*bins[9].accuracy, 1.0);
  EXPECT_DOUBLE_EQ(bins[3].lower, 0.3);
  EXPECT_DOUBLE_EQ(bins[3].upper, 0.4);
  EXPECT_DOUBLE_EQ(bins[9].upper, 1.0);
}

TEST(EceEqualWidth, EdgesAreLowerInclusive) {
  // 0 → bin 0; 0.1 → bin 1 (not 0); 0.5 → bin 5; 1.0 → bin 9 (the last bin is closed)
  const std::vector<CalibrationPoint> pts{{0.0, false}, {0.1, false}, {0.5, true}, {1.0, true}};
  const auto bins = reliability_bins_equal_width(pts);
  EXPECT_EQ(bins[0].count, 1u);
  EXPECT_EQ(bins[1].count, 1u);
  EXPECT_EQ(bins[4].count, 0u);
  EXPECT_EQ(bins[5].count, 1u);
  EXPECT_EQ(bins[9].count, 1u);
  // two bins: [0, 0.5) and [0.5, 1]
  const auto two = reliability_bins_equal_width(pts, 2);
  EXPECT_EQ(two[0].count, 2u);
  EXPECT_EQ(two[1].count, 2u);
}

TEST(EceEqualWidth, PerfectCalibrationIsZero) {
  // four points at 0.75, three right: accuracy 0.75 = confidence
  const std::vector<CalibrationPoint> pts{{0.75, true}, {0.75, true}, {0.75, true}, {0.75, false}};
  EXPECT_DOUBLE_EQ(ece_equal_width(pts), 0.0);
}

TEST(EceAdaptive, HandComputed) {
  // sorted: 0.2F 0.4F 0.6T | 0.8F 0.9T (5 points, 2 bins: sizes 3 and 2, larger first)
  // bin 0: conf 0.4, acc 1/3: 3/5 · 1/15 = 0.04;  bin 1: conf 0.85, acc 0.5: 2/5 · 0.35 = 0.14
  const std::vector<CalibrationPoint> pts{{0.9, true}, {0.2, false}, {0.6, true}, {0.4, false}, {0.8, false}};
  EXPECT_NEAR(ece_adaptive(pts, 2), 0.18, 1e-12);
  const auto bins = reliability_bins_equal_mass(pts, 2);
  ASSERT_EQ(bins.size(), 2u);
  EXPECT_EQ(bins[0].count, 3u);
  EXPECT_DOUBLE_EQ(bins[0].lower, 0.2);
  EXPECT_DOUBLE_EQ(bins[0].upper, 0.6);
  EXPECT_DOUBLE_EQ(bins[1].lower, 0.8);
  EXPECT_DOUBLE_EQ(bins[1].upper, 0.9);
}

TEST(EceAdaptive, FewerPointsThanBins) {
  // one point per bin: |1 - 0.7| and |0 - 0.2|, each weight 1/2: 0.15 + 0.1 = 0.25
  const std::vector<CalibrationPoint> pts{{0.7, true}, {0.2, false}};
  EXPECT_EQ(reliability_bins_equal_mass(pts, 10).size(), 2u);
  EXPECT_NEAR(ece_adaptive(pts, 10), 0.25, 1e-12);
}

TEST(EceObservedRange, HandComputed) {
  // dyadic values so edges are exact: lo 0.25, hi 0.75, 2 bins of width 0.25: [0.25, 0.5) [0.5, 0.75]
  // bin 0: 0.25F 0.375T: conf 0.3125, acc 0.5: 2/4 · 0.1875 = 0.09375
  // bin 1: 0.5T 0.75T:  conf 0.625, acc 1:    2/4 · 0.375  = 0.1875     ECE = 0.28125
  const std::vector<CalibrationPoint> pts{{0.25, false}, {0.375, true}, {0.5, true}, {0.75, true}};
  EXPECT_DOUBLE_EQ(ece_observed_range(pts, 2), 0.28125);
  const auto bins = reliability_bins_observed_range(pts, 2);
  EXPECT_DOUBLE_EQ(bins[0].lower, 0.25);
  EXPECT_DOUBLE_EQ(bins[1].upper, 0.75);
  // reference behaviour: 0.75 falls in no bin but N stays 4: bin 1 = {0.5T}: 1/4 · 0.5 = 0.125
  // ECE = 0.09375 + 0.125 = 0.21875
  EXPECT_DOUBLE_EQ(ece_observed_range(pts, 2, ObservedRangeTop::DropMaxLikeReference), 0.21875);
}

TEST(EceObservedRange, DiffersFromZeroOneBins) {
  // 0.25F 0.375T 0.5T 0.75T on ten [0,1] bins: bins 2, 3, 5, 7 hold one point each:
  // (0.25 + 0.625 + 0.5 + 0.25) / 4 = 0.40625, unlike the observed-range 0.28125
  const std::vector<CalibrationPoint> pts{{0.25, false}, {0.375, true}, {0.5, true}, {0.75, true}};
  EXPECT_DOUBLE_EQ(ece_equal_width(pts), 0.40625);
}

TEST(EceObservedRange, AllConfidencesEqual) {
  // one bin: |2/3 - 0.6| = 0.0666..
  const std::vector<CalibrationPoint> pts{{0.6, true}, {0.6, true}, {0.6, false}};
  EXPECT_NEAR(ece_observed_range(pts), 2.0 / 3.0 - 0.6, 1e-12);
  EXPECT_THROW(ece_observed_range(pts, 10, ObservedRangeTop::DropMaxLikeReference), Error);
}

TEST(Ece, MatchesNumpy) {
  std::vector<CalibrationPoint> pts;
  std::size_t right = 0;
  for (std::size_t i = 0; i < testdata::kProbs.size(); ++i) {
    pts.push_back(*calibration_point(testdata::kProbs[i], -1, testdata::kGold[i], ConfidenceSource::Argmax));
    right += pts.back().correct ? 1 : 0;
  }
  EXPECT_DOUBLE_EQ(static_cast<double>(right) / pts.size(), testdata::kArgmaxAccuracy);
  EXPECT_NEAR(ece_equal_width(pts), testdata::kEceEqualWidth, 1e-12);
  EXPECT_NEAR(ece_adaptive(pts), testdata::kEceAdaptive, 1e-12);
  EXPECT_NEAR(ece_observed_range(pts), testdata::kEceObservedRange, 1e-12);
  EXPECT_NEAR(ece_observed_range(pts, 10, ObservedRangeTop::DropMaxLikeReference), testdata::kEceObservedRangeReference,
              1e-12);
}

TEST(Ece, BinCountsSumToN) {
  std::vector<CalibrationPoint> pts;
  for (std::size_t i = 0; i < testdata::kProbs.size(); ++i)
    pts.push_back(*calibration_point(testdata::kProbs[i], -1, testdata::kGold[i], ConfidenceSource::Argmax));
  for (const auto& bins :
       {reliability_bins_equal_width(pts), reliability_bins_equal_mass(pts), reliability_bins_observed_range(pts)}) {
    std::size_t n = 0;
    for (const auto& b : bins) n += b.count;
    EXPECT_EQ(n, pts.size());
  }
}

TEST(Ece, RejectsBadInput) {
  const std::vector<CalibrationPoint> none;
  EXPECT_THROW(ece_equal_width(none), Error);
  EXPECT_THROW(ece_adaptive(none), Error);
  EXPECT_THROW(ece_observed_range(none), Error);
  const std::vector<CalibrationPoint> one{{0.5, true}};
  EXPECT_THROW(ece_equal_width(one, 0), Error);
  EXPECT_THROW(ece_adaptive(one, 0), Error);
  EXPECT_THROW(ece_equal_width(std::vector<CalibrationPoint>{{1.01, true}}), Error);
  EXPECT_THROW(ece_equal_width(std::vector<CalibrationPoint>{{-0.1, true}}), Error);
  EXPECT_THROW(ece_from_bins(std::vector<ReliabilityBin>{}, 0), Error);
}

}  // namespace
}  // namespace isc::metrics
