// Tests of the multi-class and binary Brier scores: hand-computed cases, the numpy cross-check on a
// fixed set, and input validation.
#include "metrics/brier.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/error.h"
#include "numpy_reference_set.h"

namespace isc::metrics {
namespace {

TEST(Brier, MulticlassHandComputed) {
  // {0.2, 0.5, 0.3} gold 1: 0.2² + 0.5² + 0.3² = 0.04 + 0.25 + 0.09 = 0.38
  // {1, 0, 0} gold 0: 0;  {0, 1, 0} gold 0: 1 + 1 = 2 (the maximum)
  // mean = (0.38 + 0 + 2) / 3 = 0.79333...
  const std::vector<std::vector<double>> p{{0.2, 0.5, 0.3}, {1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}};
  const std::vector<int> gold{1, 0, 0};
  EXPECT_NEAR(brier_multiclass(p, gold), 2.38 / 3.0, 1e-12);
}

TEST(Brier, BinaryHandComputed) {
  // (0.5 - 1)² = 0.25, (0.8 - 0)² = 0.64, (1 - 1)² = 0: mean = 0.89 / 3
  const std::vector<CalibrationPoint> pts{{0.5, true}, {0.8, false}, {1.0, true}};
  EXPECT_NEAR(brier_binary(pts), 0.89 / 3.0, 1e-12);
}

TEST(Brier, MatchesNumpy) {
  EXPECT_NEAR(brier_multiclass(testdata::kProbs, testdata::kGold), testdata::kBrierMulticlass, 1e-12);
  std::vector<CalibrationPoint> pts;
  for (std::size_t i = 0; i < testdata::kProbs.size(); ++i)
    pts.push_back(*calibration_point(testdata::kProbs[i], -1, testdata::kGold[i], ConfidenceSource::Argmax));
  EXPECT_NEAR(brier_binary(pts), testdata::kBrierBinary, 1e-12);
}

TEST(Brier, RejectsBadInput) {
  const std::vector<std::vector<double>> p{{0.5, 0.5}};
  EXPECT_THROW(brier_multiclass(p, std::vector<int>{}), Error);
  EXPECT_THROW(brier_multiclass(std::vector<std::vector<double>>{}, std::vector<int>{}), Error);
  EXPECT_THROW(brier_multiclass(p, std::vector<int>{2}), Error);
  EXPECT_THROW(brier_multiclass(p, std::vector<int>{-1}), Error);
  EXPECT_THROW(brier_multiclass(std::vector<std::vector<double>>{{0.5, 0.6}}, std::vector<int>{0}), Error);
  EXPECT_THROW(brier_binary(std::vector<CalibrationPoint>{}), Error);
  EXPECT_THROW(brier_binary(std::vector<CalibrationPoint>{{1.5, true}}), Error);
}

}  // namespace
}  // namespace isc::metrics
