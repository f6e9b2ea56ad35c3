// Tests of the latent-concept model's fit to per-round means: exact recovery of known parameters
// from noise-free curves, recovery within the reported errors from noisy ones, and its refusals.
#include "sim/concept_model_fit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace isc::sim {
namespace {

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// y_t = under_n + (under_p − under_n)·σ(l1 + λ(t − 1)), rounds 1..T.
ObservedSeries curve(const std::string& name, int T, double l1, double lambda, double under_n, double under_p,
                     double se) {
  ObservedSeries s;
  s.name = name;
  for (int t = 1; t <= T; ++t) {
    s.rounds.push_back(t);
    s.mean.push_back(under_n + (under_p - under_n) * logistic(l1 + lambda * (t - 1)));
    s.std_error.push_back(se);
  }
  return s;
}

TEST(ConceptModelFit, RecoversNoiseFreeParameters) {
  // p_1 = σ(−1) ≈ 0.27 rising by log LR = 0.6 per round over 10 rounds
  const std::vector<ObservedSeries> series{curve("accuracy", 10, -1.0, 0.6, 0.2, 0.9, 0.01),
                                           curve("concept", 10, -1.0, 0.6, 0.05, 0.25, 0.002)};
  const ConceptModelResult r = fit_concept_model(series);
  ASSERT_TRUE(r.fit) << r.unavailable;
  const ConceptModelFit& f = *r.fit;
  EXPECT_NEAR(f.first_log_odds.estimate, -1.0, 1e-4);
  EXPECT_NEAR(f.log_lr.estimate, 0.6, 1e-4);
  EXPECT_NEAR(f.lr_per_round, std::exp(0.6), 1e-3);
  EXPECT_NEAR(f.series[0].under_negative.estimate, 0.2, 1e-4);
  EXPECT_NEAR(f.series[0].under_positive.estimate, 0.9, 1e-4);
  EXPECT_NEAR(f.series[1].under_negative.estimate, 0.05, 1e-4);
  EXPECT_NEAR(f.series[1].under_positive.estimate, 0.25, 1e-4);
  EXPECT_LT(f.chi2, 1e-6);
  EXPECT_EQ(f.df, 20 - 6);
  ASSERT_TRUE(f.log_lr.std_error);
  EXPECT_GT(*f.log_lr.std_error, 0.0);
  EXPECT_FALSE(f.at_bound);
  for (const FittedSeries& s : f.series) EXPECT_NEAR(s.r2, 1.0, 1e-9);
}

TEST(ConceptModelFit, OrientsPositiveConceptToHigherAccuracy) {
  // accuracy falls: the posterior of C_p (higher accuracy) falls, so λ < 0
  const std::vector<ObservedSeries> series{curve("accuracy", 8, 1.0, -0.8, 0.3, 0.8, 0.01)};
  const ConceptModelResult r = fit_concept_model(series);
  ASSERT_TRUE(r.fit) << r.unavailable;
  EXPECT_NEAR(r.fit->log_lr.estimate, -0.8, 1e-3);
  EXPECT_NEAR(r.fit->first_log_odds.estimate, 1.0, 1e-3);
  EXPECT_GT(r.fit->series[0].under_positive.estimate, r.fit->series[0].under_negative.estimate);
}

TEST(ConceptModelFit, PositiveConceptFollowsTheConceptScoreWhereItIsFitted) {
  // the concept score rises while accuracy falls: C_p is the concept score's positive pole, so
  // λ > 0 and the accuracy under C_p is the lower one
  const std::vector<ObservedSeries> series{curve("accuracy", 8, -1.0, 0.7, 0.8, 0.3, 0.01),
                                           curve("concept", 8, -1.0, 0.7, 0.0, 0.2, 0.002)};
  const ConceptModelResult r = fit_concept_model(series);
  ASSERT_TRUE(r.fit) << r.unavailable;
  EXPECT_NEAR(r.fit->log_lr.estimate, 0.7, 1e-3);
  EXPECT_NEAR(r.fit->series[0].under_positive.estimate, 0.3, 1e-3);
  EXPECT_NEAR(r.fit->series[1].under_positive.estimate, 0.2, 1e-3);
}

TEST(ConceptModelFit, NoisyMeansRecoveredWithinTheirErrors) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  int within = 0;
  const int trials = 40;
  for (int k = 0; k < trials; ++k) {
    std::vector<ObservedSeries> series{curve("accuracy", 10, -1.5, 0.5, 0.1, 0.9, 0.01),
                                       curve("concept", 10, -1.5, 0.5, 0.0, 0.2, 0.003)};
    for (ObservedSeries& s : series)
      for (std::size_t t = 0; t < s.mean.size(); ++t) s.mean[t] += s.std_error[t] * noise(rng);
    const ConceptModelResult r = fit_concept_model(series);
    ASSERT_TRUE(r.fit);
    ASSERT_TRUE(r.fit->log_lr.std_error);
    if (std::fabs(r.fit->log_lr.estimate - 0.5) <= 2.0 * *r.fit->log_lr.std_error) ++within;
  }
  // a 2-SE interval covers the truth about 95% of the time
  EXPECT_GE(within, 32);
}

TEST(ConceptModelFit, StepWithinOneRoundIsAtTheBound) {
  // round 1 low, every later round high: the likelihood ratio is only bounded below
  ObservedSeries s;
  s.name = "accuracy";
  for (int t = 1; t <= 6; ++t) {
    s.rounds.push_back(t);
    s.mean.push_back(t == 1 ? 0.3 : 0.7);
    s.std_error.push_back(0.02);
  }
  const ConceptModelResult r = fit_concept_model({s});
  ASSERT_TRUE(r.fit);
  EXPECT_TRUE(r.fit->at_bound);
  EXPECT_FALSE(r.fit->log_lr.std_error);
  EXPECT_FALSE(r.fit->note.empty());
  EXPECT_NEAR(r.fit->series[0].fitted[0], 0.3, 1e-3);
  EXPECT_NEAR(r.fit->series[0].fitted[3], 0.7, 1e-3);
  const nlohmann::json j = to_json(r);
  EXPECT_TRUE(j["log_lr_per_round"]["std_error"].contains("unavailable"));
}

TEST(ConceptModelFit, DegenerateDataHasAReasonAndNoFit) {
  EXPECT_FALSE(fit_concept_model({curve("accuracy", 2, 0, 1, 0.2, 0.8, 0.01)}).fit);  // 2 rounds
  // 1 series × 3 rounds = 3 points for 4 parameters
  const ConceptModelResult few = fit_concept_model({curve("accuracy", 3, 0, 1, 0.2, 0.8, 0.01)});
  EXPECT_FALSE(few.fit);
  EXPECT_NE(few.unavailable.find("parameters"), std::string::npos);
  const ConceptModelResult flat = fit_concept_model({curve("accuracy", 6, 0, 0, 0.5, 0.5, 0.01)});
  EXPECT_FALSE(flat.fit);
  EXPECT_NE(flat.unavailable.find("constant"), std::string::npos);
  EXPECT_EQ(to_json(flat).at("unavailable"), flat.unavailable);
}

TEST(ConceptModelFit, MalformedSeriesThrow) {
  ObservedSeries a = curve("accuracy", 5, 0, 1, 0.2, 0.8, 0.01);
  ObservedSeries b = curve("concept", 4, 0, 1, 0.2, 0.8, 0.01);
  EXPECT_THROW(fit_concept_model({a, b}), Error);
  ObservedSeries c = a;
  c.std_error[2] = 0.0;
  EXPECT_THROW(fit_concept_model({c}), Error);
  ObservedSeries d = a;
  d.mean[1] = std::nan("");
  EXPECT_THROW(fit_concept_model({d}), Error);
  EXPECT_THROW(fit_concept_model({}), Error);
}

}  // namespace
}  // namespace isc::sim
