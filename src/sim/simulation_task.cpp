// The simulation task and its baselines: pairs of consecutive rounds, item-grouped folds, out-of-fold
// logistic predictions; see simulation_task.h. The JSON and text forms are in simulation_task_output.cpp.
#include "sim/simulation_task.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "common/error.h"
#include "metrics/bootstrap.h"

namespace isc::sim {

namespace {

// splitmix64 (Steele, Lea & Flood 2014): a tiny generator whose output is fixed by its definition,
// so the folds can be rebuilt anywhere (Python included) from the seed.
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
};

void check_finite(double v, const ItemRoundState& s, const char* what) {
  if (!std::isfinite(v))
    throw Error(fmt::format("simulation task: item '{}' round {}: {} is not finite", s.item_id, s.round, what));
}

std::string number(double v) { return fmt::format("{:.6g}", v); }

// One classifier's columns, one value per pair each.
struct Feature {
  std::string name;
  std::vector<double> values;
};

// "round index is constant (1 in every pair)", or empty.
std::string constant_reason(const std::vector<Feature>& features) {
  for (const Feature& f : features) {
    const auto [lo, hi] = std::minmax_element(f.values.begin(), f.values.end());
    if (*lo == *hi) return fmt::format("{} is constant ({} in every pair)", f.name, number(*lo));
  }
  return {};
}

// Out-of-fold predictions of logistic regression on `features` (none = the training majority).
ClassifierResult cross_validate(std::string name, const std::vector<Feature>& features, const std::vector<int>& labels,
                                const std::vector<int>& folds, int n_folds, const SimulationTaskOptions& options) {
  ClassifierResult result;
  result.name = std::move(name);
  for (const Feature& f : features) result.features.push_back(f.name);
  if (std::string why = constant_reason(features); !why.empty()) {
    result.unavailable = std::move(why);
    return result;
  }
  const std::size_t n = labels.size();
  const auto k = static_cast<int64_t>(features.size());
  result.predictions.assign(n, 0);
  result.probabilities.assign(n, 0.0);
  metrics::LogisticOptions lo;
  lo.l2 = options.l2;
  lo.standardize = true;  // on the training fold only: the fit keeps its mean / std for predicting
  for (int fold = 0; fold < n_folds; ++fold) {
    std::vector<std::size_t> train;
    for (std::size_t i = 0; i < n; ++i)
      if (folds[i] != fold) train.push_back(i);
    std::size_t positives = 0;
    for (std::size_t i : train) positives += static_cast<std::size_t>(labels[i]);
    const double share = static_cast<double>(positives) / static_cast<double>(train.size());
    // DummyClassifier("most_frequent") breaks a tie towards the smaller class, 0.
    const int majority = 2 * positives > train.size() ? 1 : 0;
    const bool one_class = positives == 0 || positives == train.size();
    std::optional<metrics::LogisticFit> fit;
    if (k > 0 && one_class) {
      ++result.single_class_folds;
    } else if (k > 0) {
      metrics::Matrix X(static_cast<int64_t>(train.size()), k);
      std::vector<int> y;
      for (std::size_t r = 0; r < train.size(); ++r) {
        for (int64_t c = 0; c < k; ++c) X.at(static_cast<int64_t>(r), c) = features[c].values[train[r]];
        y.push_back(labels[train[r]]);
      }
      try {
        fit = metrics::logistic_regression(X, y, lo);
      } catch (const Error&) {
        ++result.unfit_folds;  // only reachable with l2 = 0 (a constant or collinear training column)
      }
    }
    std::vector<double> row(static_cast<std::size_t>(k));
    for (std::size_t i = 0; i < n; ++i) {
      if (folds[i] != fold) continue;
      if (fit) {
        for (int64_t c = 0; c < k; ++c) row[static_cast<std::size_t>(c)] = features[c].values[i];
        result.predictions[i] = fit->decision(row.data()) > 0.0 ? 1 : 0;  // sklearn's predict: decision_function > 0
        result.probabilities[i] = fit->predict(row.data());
      } else if (k > 0 && one_class) {
        result.predictions[i] = positives ? 1 : 0;
        result.probabilities[i] = positives ? 1.0 : 0.0;
      } else {
        result.predictions[i] = majority;
        result.probabilities[i] = share;
      }
    }
  }
  std::size_t right = 0;
  for (std::size_t i = 0; i < n; ++i) right += result.predictions[i] == labels[i] ? 1 : 0;
  result.accuracy = wilson_interval(right, n, options.confidence_level);
  return result;
}

FullDataFit full_data_fit(const Feature& feature, const std::vector<int>& labels, double l2) {
  FullDataFit out;
  if (std::string why = constant_reason({feature}); !why.empty()) {
    out.unavailable = std::move(why);
    return out;
  }
  metrics::Matrix X(static_cast<int64_t>(labels.size()), 1);
  for (std::size_t i = 0; i < labels.size(); ++i) X.at(static_cast<int64_t>(i), 0) = feature.values[i];
  metrics::LogisticOptions lo;
  lo.l2 = l2;
  lo.standardize = true;
  try {
    out.fit = metrics::logistic_regression(X, labels, lo);
  } catch (const Error& e) {
    out.unavailable = e.what();
    return out;
  }
  if (out.fit->separated)
    out.inference_unavailable = fmt::format(
        "{} separates the pairs perfectly (l2 = 0): the maximum-likelihood coefficient is infinite", feature.name);
  else if (!out.fit->converged)
    out.inference_unavailable = fmt::format("the fit did not converge in {} iterations", out.fit->iterations);
  else
    out.coefficient_raw = out.fit->coef[0] / out.fit->column_std[0];
  return out;
}

RandomDirectionBaseline random_baseline(const std::vector<RoundPair>& pairs, const std::vector<int>& labels,
                                        const std::vector<int>& folds, int n_folds, const ClassifierResult& own,
                                        const SimulationTaskOptions& options) {
  RandomDirectionBaseline out;
  for (const RoundPair& p : pairs) out.directions = std::max(out.directions, p.random_deltas.size());
  std::size_t missing = 0;
  for (const RoundPair& p : pairs)
    if (p.random_deltas.size() != out.directions) ++missing;
  if (out.directions == 0) {
    out.unavailable = "no random directions were scored";
    return out;
  }
  if (missing > 0) {
    out.unavailable = fmt::format("random direction scores are missing or uneven in {} of {} pairs", missing, pairs.size());
    return out;
  }
  for (std::size_t j = 0; j < out.directions; ++j) {
    Feature f{fmt::format("random direction {} change", j + 1), {}};
    for (const RoundPair& p : pairs) f.values.push_back(p.random_deltas[j]);
    if (!constant_reason({f}).empty()) {
      ++out.directions_constant;
      continue;
    }
    const ClassifierResult r = cross_validate(f.name, {f}, labels, folds, n_folds, options);
    out.accuracies.push_back(r.accuracy->estimate);
  }
  if (out.accuracies.empty()) {
    out.unavailable = fmt::format("every one of the {} random directions' score changes is constant", out.directions);
    return out;
  }
  double sum = 0.0;
  for (double a : out.accuracies) sum += a;
  out.mean_accuracy = sum / static_cast<double>(out.accuracies.size());
  std::vector<double> sorted = out.accuracies;
  std::sort(sorted.begin(), sorted.end());
  out.lower = metrics::quantile_sorted(sorted, 0.5 * (1.0 - options.confidence_level));
  out.upper = metrics::quantile_sorted(sorted, 0.5 * (1.0 + options.confidence_level));
  if (own.accuracy) {
    std::size_t beaten = 0;
    for (double a : out.accuracies) beaten += a < own.accuracy->estimate ? 1 : 0;
    out.share_beaten = static_cast<double>(beaten) / static_cast<double>(out.accuracies.size());
  }
  return out;
}

// The pair values a direction's classifiers use.
Feature column(const std::vector<RoundPair>& pairs, std::string name, double (*get)(const RoundPair&)) {
  Feature f{std::move(name), {}};
  f.values.reserve(pairs.size());
  for (const RoundPair& p : pairs) f.values.push_back(get(p));
  return f;
}

struct DirectionSpec {
  std::string feature, label;
  std::string never, always;  // the one-class reasons, given n
  Feature own, round, earlier;
  std::string earlier_name;
  bool with_random;
};

DirectionResult run_direction(const DirectionSpec& spec, const std::vector<RoundPair>& pairs,
                              const std::vector<int>& labels, std::size_t n_items, int n_folds,
                              const SimulationTaskOptions& options) {
  DirectionResult d;
  d.feature = spec.feature;
  d.label = spec.label;
  d.n_pairs = pairs.size();
  d.n_items = n_items;
  d.labels = labels;
  for (int v : labels) d.n_positive += static_cast<std::size_t>(v);
  if (d.n_positive == 0) {
    d.unavailable = fmt::format("{} in these {} pairs", spec.never, pairs.size());
    return d;
  }
  if (d.n_positive == pairs.size()) {
    d.unavailable = fmt::format("{} in all {} pairs", spec.always, pairs.size());
    return d;
  }
  std::vector<int> folds;
  for (const RoundPair& p : pairs) folds.push_back(p.fold);
  d.classifiers.push_back(cross_validate(spec.feature, {spec.own}, labels, folds, n_folds, options));
  d.classifiers.push_back(cross_validate("majority class", {}, labels, folds, n_folds, options));
  d.classifiers.push_back(cross_validate("round index", {spec.round}, labels, folds, n_folds, options));
  d.classifiers.push_back(cross_validate(spec.earlier_name, {spec.earlier}, labels, folds, n_folds, options));
  d.classifiers.push_back(cross_validate(spec.feature + " + " + spec.earlier_name, {spec.own, spec.earlier}, labels,
                                         folds, n_folds, options));
  if (spec.with_random)
    d.random_directions = random_baseline(pairs, labels, folds, n_folds, d.classifiers.front(), options);
  d.full_fit = full_data_fit(spec.own, labels, options.l2);
  return d;
}

}  // namespace

std::vector<RoundPair> round_pairs(const std::vector<ItemRoundState>& states) {
  std::map<std::string, std::map<int, const ItemRoundState*>> by_item;
  for (const ItemRoundState& s : states) {
    if (s.round < 1) throw Error(fmt::format("simulation task: item '{}': round {} (rounds are 1-based)", s.item_id, s.round));
    if (s.concept_score) check_finite(*s.concept_score, s, "the concept score");
    if (s.uncertainty) check_finite(*s.uncertainty, s, "the uncertainty");
    for (double v : s.random_concepts) check_finite(v, s, "a random direction's score");
    if (!by_item[s.item_id].emplace(s.round, &s).second)
      throw Error(fmt::format("simulation task: item '{}' round {} appears twice", s.item_id, s.round));
  }
  std::vector<RoundPair> pairs;
  for (const auto& [id, rounds] : by_item)
    for (const auto& [t, a] : rounds) {
      const auto next = rounds.find(t + 1);
      if (next == rounds.end()) continue;
      const ItemRoundState* b = next->second;
      if (!a->concept_score || !a->uncertainty || !b->concept_score || !b->uncertainty) continue;
      RoundPair p;
      p.item_id = id;
      p.round = t;
      p.concept_before = *a->concept_score;
      p.concept_after = *b->concept_score;
      p.uncertainty_before = *a->uncertainty;
      p.uncertainty_after = *b->uncertainty;
      if (!a->random_concepts.empty() && a->random_concepts.size() == b->random_concepts.size())
        for (std::size_t j = 0; j < a->random_concepts.size(); ++j)
          p.random_deltas.push_back(b->random_concepts[j] - a->random_concepts[j]);
      pairs.push_back(std::move(p));
    }
  return pairs;
}

std::vector<int> assign_folds(const std::vector<std::string>& item_ids, int folds, std::uint64_t seed) {
  if (folds < 2) throw Error(fmt::format("assign_folds: {} folds (need at least 2)", folds));
  if (item_ids.size() < static_cast<std::size_t>(folds))
    throw Error(fmt::format("assign_folds: {} items for {} folds", item_ids.size(), folds));
  for (std::size_t i = 1; i < item_ids.size(); ++i)
    if (!(item_ids[i - 1] < item_ids[i])) throw Error("assign_folds: item ids must be sorted and unique");
  std::vector<std::size_t> order(item_ids.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  SplitMix64 rng{seed};
  for (std::size_t i = order.size() - 1; i >= 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng.next() % (i + 1));
    std::swap(order[i], order[j]);
  }
  std::vector<int> fold(item_ids.size());
  for (std::size_t p = 0; p < order.size(); ++p) fold[order[p]] = static_cast<int>(p % static_cast<std::size_t>(folds));
  return fold;
}

SimulationTaskResult simulation_task(const std::vector<ItemRoundState>& states, const SimulationTaskOptions& options) {
  if (options.folds < 2) throw Error(fmt::format("simulation task: {} folds (need at least 2)", options.folds));
  if (!std::isfinite(options.l2) || options.l2 < 0.0)
    throw Error(fmt::format("simulation task: l2 must be finite and >= 0, got {}", options.l2));
  if (!(options.confidence_level > 0.0 && options.confidence_level < 1.0))
    throw Error(fmt::format("simulation task: confidence level must lie in (0, 1), got {}", options.confidence_level));

  SimulationTaskResult result;
  result.options = options;
  result.n_states = states.size();
  result.pairs = round_pairs(states);
  std::vector<std::string> items;
  for (const RoundPair& p : result.pairs)
    if (items.empty() || items.back() != p.item_id) items.push_back(p.item_id);  // pairs are sorted by item
  result.n_items = items.size();

  const auto& pairs = result.pairs;
  DirectionSpec forward{"concept change", "uncertainty decreased", "uncertainty never decreased",
                        "uncertainty decreased", column(pairs, "concept change", [](const RoundPair& p) { return p.concept_delta(); }),
                        column(pairs, "round index", [](const RoundPair& p) { return double(p.round); }),
                        column(pairs, "earlier uncertainty", [](const RoundPair& p) { return p.uncertainty_before; }),
                        "earlier uncertainty", true};
  DirectionSpec reverse{"uncertainty change", "concept increased", "concept never increased",
                        "concept increased", column(pairs, "uncertainty change", [](const RoundPair& p) { return p.uncertainty_delta(); }),
                        column(pairs, "round index", [](const RoundPair& p) { return double(p.round); }),
                        column(pairs, "earlier concept", [](const RoundPair& p) { return p.concept_before; }),
                        "earlier concept", false};
  result.forward.feature = forward.feature;
  result.forward.label = forward.label;
  result.reverse.feature = reverse.feature;
  result.reverse.label = reverse.label;

  if (pairs.empty())
    result.unavailable = fmt::format(
        "no pairs: no item has two consecutive stored rounds that both have a concept score and an uncertainty "
        "({} rows)", states.size());
  else if (items.size() < static_cast<std::size_t>(options.folds))
    result.unavailable = fmt::format("{}-fold cross-validation needs at least {} items; this condition has {}",
                                     options.folds, options.folds, items.size());
  if (!result.unavailable.empty()) {
    for (DirectionResult* d : {&result.forward, &result.reverse}) {
      d->n_pairs = pairs.size();
      d->n_items = items.size();
      d->unavailable = result.unavailable;
    }
    return result;
  }

  const std::vector<int> item_fold = assign_folds(items, options.folds, options.seed);
  for (std::size_t i = 0, p = 0; p < result.pairs.size(); ++p) {
    while (items[i] != result.pairs[p].item_id) ++i;
    result.pairs[p].fold = item_fold[i];
  }
  std::vector<int> decreased, increased;
  for (const RoundPair& p : pairs) {
    decreased.push_back(p.uncertainty_delta() <= 0.0 ? 1 : 0);
    increased.push_back(p.concept_delta() > 0.0 ? 1 : 0);
  }
  result.forward = run_direction(forward, pairs, decreased, items.size(), options.folds, options);
  result.reverse = run_direction(reverse, pairs, increased, items.size(), options.folds, options);
  return result;
}

}  // namespace isc::sim
