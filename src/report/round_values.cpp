// metric_value and friends (see round_values.h): where each report column comes from in RoundMetrics.
#include "report/round_values.h"

namespace isc::report {

const std::vector<Metric>& all_metrics() {
  static const std::vector<Metric> metrics = {
      Metric::Accuracy, Metric::AccuracyArgmax, Metric::ParseRate, Metric::BiasAmbiguous, Metric::BiasDisambiguated,
      Metric::RightToWrong, Metric::WrongToRight, Metric::Changed, Metric::Entropy,
      Metric::Ece, Metric::EceAdaptive, Metric::Brier, Metric::Score};
  return metrics;
}

MetricValue metric_value(const metrics::RoundMetrics& m, Metric metric, bool has_correctness) {
  MetricValue v;
  auto count = [&](std::size_t metrics::TransitionCounts::*field) {
    if (m.transitions && has_correctness) v.value = static_cast<double>((*m.transitions).*field);
  };
  switch (metric) {
    case Metric::Accuracy:
      if (has_correctness) {
        v.value = m.accuracy.accuracy;
        v.ci = m.accuracy_ci;
      }
      break;
    case Metric::AccuracyArgmax:
      if (m.accuracy_argmax) {
        v.value = *m.accuracy_argmax;
        v.ci = m.accuracy_argmax_ci;
      }
      break;
    case Metric::ParseRate:
      // only answers that name an option can be parsed; open generation has no options
      if (m.n_options > 0) v.value = m.accuracy.parse_rate;
      break;
    case Metric::BiasAmbiguous:
      if (m.bias) {
        v.value = m.bias->scores.ambiguous.score;
        v.ci = m.bias->ambiguous_ci;
      }
      break;
    case Metric::BiasDisambiguated:
      if (m.bias) {
        v.value = m.bias->scores.disambiguated.score;
        v.ci = m.bias->disambiguated_ci;
      }
      break;
    case Metric::RightToWrong:
      count(&metrics::TransitionCounts::right_to_wrong);
      break;
    case Metric::WrongToRight:
      count(&metrics::TransitionCounts::wrong_to_right);
      break;
    case Metric::Changed:
      if (m.transitions && m.n_options > 0) v.value = static_cast<double>(m.transitions->changed);
      break;
    case Metric::Entropy:
      if (m.entropy) {
        v.value = m.entropy->mean;
        v.ci = m.entropy->mean_ci;
      }
      break;
    case Metric::Ece:
      if (m.calibration && has_correctness) {
        v.value = m.calibration->ece;
        v.ci = m.calibration->ece_ci;
      }
      break;
    case Metric::EceAdaptive:
      if (m.calibration && has_correctness) v.value = m.calibration->ece_adaptive;
      break;
    case Metric::Brier:
      if (m.calibration && has_correctness) v.value = m.calibration->brier_multiclass;
      break;
    case Metric::Score:
      if (m.score) {
        v.value = m.score->mean;
        v.ci = m.score->mean_ci;
      }
      break;
  }
  return v;
}

std::optional<metrics::ConvergencePoint> metric_convergence(const metrics::ConditionConvergence& c, Metric metric) {
  switch (metric) {
    case Metric::Accuracy: return c.accuracy;
    case Metric::BiasAmbiguous: return c.bias_ambiguous;
    case Metric::BiasDisambiguated: return c.bias_disambiguated;
    case Metric::Entropy: return c.mean_entropy;
    case Metric::Ece: return c.ece;
    case Metric::Score: return c.mean_score;
    default: return std::nullopt;
  }
}

const char* metric_key(Metric metric) {
  switch (metric) {
    case Metric::Accuracy: return "accuracy";
    case Metric::AccuracyArgmax: return "accuracy_argmax";
    case Metric::ParseRate: return "parse_rate";
    case Metric::BiasAmbiguous: return "bias_ambiguous";
    case Metric::BiasDisambiguated: return "bias_disambiguated";
    case Metric::RightToWrong: return "right_to_wrong";
    case Metric::WrongToRight: return "wrong_to_right";
    case Metric::Changed: return "changed";
    case Metric::Entropy: return "mean_entropy";
    case Metric::Ece: return "ece";
    case Metric::EceAdaptive: return "ece_adaptive";
    case Metric::Brier: return "brier";
    case Metric::Score: return "mean_score";
  }
  return "?";
}

const char* metric_title(Metric metric) {
  switch (metric) {
    case Metric::Accuracy: return "accuracy";
    case Metric::AccuracyArgmax: return "acc argmax";
    case Metric::ParseRate: return "parsed";
    case Metric::BiasAmbiguous: return "bias amb";
    case Metric::BiasDisambiguated: return "bias dis";
    case Metric::RightToWrong: return "r→w";
    case Metric::WrongToRight: return "w→r";
    case Metric::Changed: return "changed";
    case Metric::Entropy: return "entropy";
    case Metric::Ece: return "ECE";
    case Metric::EceAdaptive: return "aECE";
    case Metric::Brier: return "Brier";
    case Metric::Score: return "score";
  }
  return "?";
}

bool is_count(Metric metric) {
  return metric == Metric::RightToWrong || metric == Metric::WrongToRight || metric == Metric::Changed;
}

bool has_series_convergence(Metric metric) {
  return metric == Metric::Accuracy || metric == Metric::BiasAmbiguous || metric == Metric::BiasDisambiguated ||
         metric == Metric::Entropy || metric == Metric::Ece || metric == Metric::Score;
}

}  // namespace isc::report
