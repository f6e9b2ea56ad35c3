// compute_round_metrics: validates one condition's rows, groups them by round and runs each metric
// on each round; see round_metrics.h for the conventions. Metric arithmetic lives in the other files.
#include "metrics/round_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "metrics/selective_prediction.h"
#include <cmath>
#include <map>
#include <string>
#include <unordered_map>

#include "common/error.h"
#include "metrics/brier.h"
#include "metrics/entropy.h"

namespace isc::metrics {

namespace {

constexpr const char* kMetric = "compute_round_metrics";

// Tags that give every interval of a round its own bootstrap stream (see derive_seed).
enum MetricTag : std::uint64_t {
  kTagAccuracy = 1,
  kTagEce = 2,
  kTagEntropy = 3,
  kTagBiasAmbiguous = 4,
  kTagBiasDisambiguated = 5,
  kTagScore = 6,
  kTagAccuracyArgmax = 7,
  kTagSampledFirst = 100,  // one per sampled-uncertainty estimator, in name order
};

std::string where(const ItemRound& r) { return fmt::format("item '{}' round {}", r.item_id, r.round); }

Error row_error(const ItemRound& r, const std::string& message) {
  return Error(fmt::format("{}: {}: {}", kMetric, where(r), message));
}

bool row_correct(const ItemRound& r) { return answer_correct(r.correct_override, r.answer, r.gold); }

// What the condition's rows carry; each optional part must be on every row or on none.
struct ConditionShape {
  bool has_probs = false;
  bool has_score = false;
  bool has_bbq = false;
  int n_options = 0;
};

template <class HasPart>
bool all_or_none(const std::vector<ItemRound>& rows, HasPart has_part, const char* part) {
  const auto n_with = std::count_if(rows.begin(), rows.end(), has_part);
  if (n_with == 0) return false;
  if (static_cast<std::size_t>(n_with) == rows.size()) return true;
  const auto lacking = std::find_if_not(rows.begin(), rows.end(), has_part);
  throw row_error(*lacking, fmt::format("has no {} but {} other rows of the condition do", part, n_with));
}

void check_options(const MetricsOptions& o) {
  if (o.ece_bins == 0) throw Error(fmt::format("{}: ece_bins is 0", kMetric));
  if (o.adaptive_ece_bins == 0) throw Error(fmt::format("{}: adaptive_ece_bins is 0", kMetric));
  if (!(o.confidence_level > 0.0 && o.confidence_level < 1.0))
    throw Error(fmt::format("{}: confidence_level {} is outside (0, 1)", kMetric, o.confidence_level));
  if (!(o.probability_tolerance >= 0.0))
    throw Error(fmt::format("{}: probability_tolerance {} is negative", kMetric, o.probability_tolerance));
}

// Validates the BBQ facts of one row by scoring it alone, so the rules live only in bbq_bias.cpp.
void check_bbq_row(const ItemRound& r) {
  const BbqResponse response{*r.bbq, r.answer, r.gold};
  try {
    if (r.bbq->context == BbqContext::Ambiguous)
      bias_score_ambiguous({&response, 1});
    else
      bias_score_disambiguated({&response, 1});
  } catch (const Error& e) {
    throw row_error(r, e.what());
  }
}

ConditionShape inspect_rows(const std::vector<ItemRound>& rows, const MetricsOptions& options) {
  if (rows.empty()) throw Error(fmt::format("{}: no rows", kMetric));
  ConditionShape shape;
  shape.has_probs = all_or_none(
      rows, [](const ItemRound& r) { return !r.option_probs.empty(); }, "option probabilities");
  shape.has_score = all_or_none(
      rows, [](const ItemRound& r) { return r.score.has_value(); }, "score");
  shape.has_bbq = all_or_none(
      rows, [](const ItemRound& r) { return r.bbq.has_value(); }, "BBQ info");
  int largest_index = -1;
  for (const ItemRound& r : rows) {
    if (r.answer < -1) throw row_error(r, fmt::format("answer index {} is below -1", r.answer));
    if (r.gold < -1) throw row_error(r, fmt::format("gold index {} is below -1", r.gold));
    if (r.gold < 0 && !r.correct_override) throw row_error(r, "has neither a gold index nor a correctness override");
    if (r.score && !std::isfinite(*r.score)) throw row_error(r, fmt::format("score {} is not finite", *r.score));
    largest_index = std::max({largest_index, r.answer, r.gold});
    if (r.bbq)
      largest_index = std::max({largest_index, r.bbq->target_option, r.bbq->non_target_option, r.bbq->unknown_option});
    if (shape.has_probs) {
      check_distribution(r.option_probs, kMetric, where(r), options.probability_tolerance);
      if (r.gold < 0) throw row_error(r, "has option probabilities but no gold index (needed for ECE and Brier)");
    }
    if (r.bbq) check_bbq_row(r);
  }
  if (shape.has_probs) {
    shape.n_options = static_cast<int>(rows.front().option_probs.size());
    for (const ItemRound& r : rows)
      if (static_cast<int>(r.option_probs.size()) != shape.n_options)
        throw row_error(r,
                        fmt::format("has {} option probabilities but item '{}' round {} has {}", r.option_probs.size(),
                                    rows.front().item_id, rows.front().round, shape.n_options));
    if (largest_index >= shape.n_options) {
      const auto bad = std::find_if(rows.begin(), rows.end(), [&](const ItemRound& r) {
        return r.answer >= shape.n_options || r.gold >= shape.n_options ||
               (r.bbq &&
                std::max({r.bbq->target_option, r.bbq->non_target_option, r.bbq->unknown_option}) >= shape.n_options);
      });
      throw row_error(*bad, fmt::format("an option index is >= the {} options", shape.n_options));
    }
  } else {
    shape.n_options = largest_index + 1;
  }
  return shape;
}

// Rows grouped by round (ascending), each round's rows sorted by item id.
std::map<int, std::vector<const ItemRound*>> group_by_round(const std::vector<ItemRound>& rows) {
  std::map<int, std::vector<const ItemRound*>> by_round;
  for (const ItemRound& r : rows) by_round[r.round].push_back(&r);
  for (auto& [round, rs] : by_round) {
    std::sort(rs.begin(), rs.end(), [](const ItemRound* a, const ItemRound* b) { return a->item_id < b->item_id; });
    for (std::size_t i = 1; i < rs.size(); ++i)
      if (rs[i]->item_id == rs[i - 1]->item_id) throw row_error(*rs[i], "appears twice");
  }
  return by_round;
}

void check_same_items(const std::map<int, std::vector<const ItemRound*>>& by_round) {
  const auto& [first_round, first] = *by_round.begin();
  for (const auto& [round, rs] : by_round) {
    const std::size_t common = std::min(first.size(), rs.size());
    for (std::size_t i = 0; i <= common; ++i) {
      const std::string* a = i < first.size() ? &first[i]->item_id : nullptr;
      const std::string* b = i < rs.size() ? &rs[i]->item_id : nullptr;
      if (!a && !b) break;
      if (a && b && *a == *b) continue;
      // sorted lists: the smaller id of the two is the one the other round lacks
      if (b && (!a || *b < *a))
        throw Error(fmt::format("{}: item '{}' is in round {} but not in round {}", kMetric, *b, round, first_round));
      throw Error(fmt::format("{}: item '{}' is in round {} but not in round {}", kMetric, *a, first_round, round));
    }
  }
}

// A resample metric: the mean of `values` over the drawn indices.
ResampleMetric mean_of(const std::vector<double>& values) {
  return [&values](std::span<const std::size_t> idx) -> std::optional<double> {
    double sum = 0.0;
    for (std::size_t i : idx) sum += values[i];
    return sum / static_cast<double>(idx.size());
  };
}

double mean(const std::vector<double>& values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

class RoundComputer {
 public:
  RoundComputer(const MetricsOptions& options, const ConditionShape& shape) : options_(options), shape_(shape) {}

  RoundMetrics compute(int round, const std::vector<const ItemRound*>& rs,
                       const std::vector<const ItemRound*>* previous, std::optional<int> previous_round) const {
    RoundMetrics m;
    m.round = round;
    m.n_items = rs.size();
    m.n_options = shape_.n_options;
    std::vector<AnswerState> states;
    std::vector<double> correct;
    for (const ItemRound* r : rs) {
      states.push_back({r->answer, row_correct(*r)});
      correct.push_back(states.back().correct ? 1.0 : 0.0);
    }
    m.accuracy = accuracy_of(states);
    m.accuracy_ci = interval(round, kTagAccuracy, correct.size(), mean_of(correct));
    if (shape_.has_bbq) m.bias = bias(round, rs);
    if (previous) {
      m.previous_round = previous_round;
      m.transitions = transitions(rs, *previous);
    }
    if (shape_.has_probs) {
      m.entropy = entropy(round, rs);
      m.calibration = calibration(round, rs);
      std::vector<double> argmax_correct;
      for (const ItemRound* r : rs) {
        const auto& p = r->option_probs;
        const auto best = std::max_element(p.begin(), p.end()) - p.begin();  // first maximum
        argmax_correct.push_back(best == r->gold ? 1.0 : 0.0);
      }
      m.accuracy_argmax = mean(argmax_correct);
      m.accuracy_argmax_ci = interval(round, kTagAccuracyArgmax, argmax_correct.size(), mean_of(argmax_correct));
    }
    if (shape_.has_score) {
      std::vector<double> scores;
      for (const ItemRound* r : rs) scores.push_back(*r->score);
      m.score = ScoreMetrics{mean(scores), interval(round, kTagScore, scores.size(), mean_of(scores))};
    }
    m.sampled = sampled(round, rs);
    return m;
  }

 private:
  std::optional<Interval> interval(int round, MetricTag tag, std::size_t n, const ResampleMetric& metric) const {
    if (options_.bootstrap_resamples == 0) return std::nullopt;
    const BootstrapOptions b{
        options_.bootstrap_resamples, options_.confidence_level,
        derive_seed(options_.seed, static_cast<std::uint64_t>(static_cast<std::int64_t>(round)), tag)};
    return bootstrap_percentile(n, metric, b);
  }

  std::vector<SampledUncertaintyMetrics> sampled(int round, const std::vector<const ItemRound*>& rs) const {
    std::map<std::string, std::vector<const ItemRound*>> by_estimator;
    for (const ItemRound* r : rs)
      for (const auto& [name, value] : r->sampled_uncertainty) by_estimator[name].push_back(r);
    std::vector<SampledUncertaintyMetrics> out;
    std::uint64_t tag = kTagSampledFirst;
    for (const auto& [name, rows] : by_estimator) {
      SampledUncertaintyMetrics s;
      s.estimator = name;
      s.n = rows.size();
      std::vector<double> values, u_q, quality;
      std::vector<int> incorrect;  // by the task's verdict, where every row has one
      bool verdicts = true;
      for (const ItemRound* r : rows) {
        const double v = r->sampled_uncertainty.at(name);
        if (!std::isfinite(v)) throw row_error(*r, "sampled uncertainty '" + name + "' is not finite");
        values.push_back(v);
        if (r->quality) {
          u_q.push_back(v);
          quality.push_back(*r->quality);
        }
        verdicts = verdicts && (r->correct_override || r->gold >= 0);
        incorrect.push_back(row_correct(*r) ? 0 : 1);
      }
      if (verdicts) s.auroc = uncertainty_auroc(values, incorrect);
      s.mean = mean(values);
      s.mean_ci = interval(round, static_cast<MetricTag>(tag++), values.size(), mean_of(values));
      s.n_quality = quality.size();
      if (quality.size() >= 2) {
        s.rank_calibration = rank_calibration(u_q, quality);
        bool binary = true;
        for (double q : quality) binary = binary && (q == 0.0 || q == 1.0);
        if (binary && !s.auroc) {  // no verdicts, or verdicts of one class (rows without correctness)
          std::vector<int> wrong;
          for (double q : quality) wrong.push_back(q == 0.0 ? 1 : 0);
          s.auroc = uncertainty_auroc(u_q, wrong);
        }
        s.prr = prediction_rejection(u_q, quality).prr;
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  BiasMetrics bias(int round, const std::vector<const ItemRound*>& rs) const {
    std::vector<BbqResponse> ambiguous, disambiguated;
    for (const ItemRound* r : rs)
      (r->bbq->context == BbqContext::Ambiguous ? ambiguous : disambiguated).push_back({*r->bbq, r->answer, r->gold});
    BiasMetrics b;
    b.scores = {bias_score_ambiguous(ambiguous), bias_score_disambiguated(disambiguated)};
    // each condition is resampled within its own items, so its sample size stays fixed
    auto subset_metric = [](const std::vector<BbqResponse>& part, BiasScore (*score)(std::span<const BbqResponse>)) {
      return ResampleMetric([&part, score](std::span<const std::size_t> idx) {
        std::vector<BbqResponse> drawn;
        drawn.reserve(idx.size());
        for (std::size_t i : idx) drawn.push_back(part[i]);
        return score(drawn).score;
      });
    };
    if (b.scores.ambiguous.score)
      b.ambiguous_ci =
          interval(round, kTagBiasAmbiguous, ambiguous.size(), subset_metric(ambiguous, bias_score_ambiguous));
    if (b.scores.disambiguated.score)
      b.disambiguated_ci = interval(round, kTagBiasDisambiguated, disambiguated.size(),
                                    subset_metric(disambiguated, bias_score_disambiguated));
    return b;
  }

  std::optional<TransitionCounts> transitions(const std::vector<const ItemRound*>& rs,
                                              const std::vector<const ItemRound*>& previous) const {
    std::unordered_map<std::string, const ItemRound*> before;
    for (const ItemRound* r : previous) before.emplace(r->item_id, r);
    std::vector<AnswerState> from, to;
    for (const ItemRound* r : rs) {
      const auto it = before.find(r->item_id);
      if (it == before.end()) continue;  // only possible when rounds may differ in items
      from.push_back({it->second->answer, row_correct(*it->second)});
      to.push_back({r->answer, row_correct(*r)});
    }
    if (from.empty()) return std::nullopt;
    return answer_transitions(from, to, shape_.n_options);
  }

  EntropyMetrics entropy(int round, const std::vector<const ItemRound*>& rs) const {
    std::vector<std::vector<double>> distributions;
    for (const ItemRound* r : rs) distributions.push_back(r->option_probs);
    EntropySummary s = entropy_summary(distributions, options_.probability_tolerance);
    EntropyMetrics e{s.mean, s.mean_normalized, std::nullopt};
    e.mean_ci = interval(round, kTagEntropy, s.per_item.size(), mean_of(s.per_item));
    return e;
  }

  std::optional<CalibrationMetrics> calibration(int round, const std::vector<const ItemRound*>& rs) const {
    std::vector<CalibrationPoint> points;
    std::vector<std::vector<double>> distributions;
    std::vector<int> gold;
    for (const ItemRound* r : rs) {
      if (auto p = calibration_point(r->option_probs, r->answer, r->gold, options_.confidence_source,
                                     r->correct_override, options_.probability_tolerance))
        points.push_back(*p);
      distributions.push_back(r->option_probs);
      gold.push_back(r->gold);
    }
    if (points.empty()) return std::nullopt;  // ParsedAnswer and no answer parsed this round
    CalibrationMetrics c;
    c.source = options_.confidence_source;
    c.n = points.size();
    c.reliability = reliability_bins_equal_width(points, options_.ece_bins);
    c.ece = ece_from_bins(c.reliability, points.size());
    c.ece_adaptive = ece_adaptive(points, options_.adaptive_ece_bins);
    c.ece_observed_range = ece_observed_range(points, options_.ece_bins, options_.observed_range_top);
    c.brier_binary = brier_binary(points);
    c.brier_multiclass = brier_multiclass(distributions, gold, options_.probability_tolerance);
    const std::size_t bins = options_.ece_bins;
    c.ece_ci = interval(round, kTagEce, points.size(), [&points, bins](std::span<const std::size_t> idx) {
      std::vector<CalibrationPoint> drawn;
      drawn.reserve(idx.size());
      for (std::size_t i : idx) drawn.push_back(points[i]);
      return std::optional<double>(ece_equal_width(drawn, bins));
    });
    return c;
  }

  const MetricsOptions& options_;
  const ConditionShape& shape_;
};

}  // namespace

std::vector<RoundMetrics> compute_round_metrics(const std::vector<ItemRound>& rows, const MetricsOptions& options) {
  check_options(options);
  const ConditionShape shape = inspect_rows(rows, options);
  const auto by_round = group_by_round(rows);
  if (options.require_same_items_each_round) check_same_items(by_round);
  const RoundComputer computer(options, shape);
  std::vector<RoundMetrics> out;
  out.reserve(by_round.size());
  const std::vector<const ItemRound*>* previous = nullptr;
  std::optional<int> previous_round;
  for (const auto& [round, rs] : by_round) {
    out.push_back(computer.compute(round, rs, previous, previous_round));
    previous = &rs;
    previous_round = round;
  }
  return out;
}

}  // namespace isc::metrics
