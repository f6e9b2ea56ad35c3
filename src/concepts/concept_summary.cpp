// The concept statistics of a run (see concept_summary.h): stored item probes joined with their
// rounds, reduced per (condition, round), related to the option uncertainty, by layer and by steering.
#include "concepts/concept_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <span>
#include <tuple>
#include <unordered_map>

#include "common/error.h"
#include "metrics/accuracy.h"
#include "metrics/entropy.h"
#include "metrics/item_round.h"

namespace isc::concepts {

namespace {

using nlohmann::json;

// One probed state joined with its stored round.
struct Observation {
  std::size_t item = 0;  // index into the run's items
  int round = 0;
  double cosine = 0.0;
  std::optional<double> probability;
  std::optional<double> uncertainty;  // normalised option entropy
  std::optional<bool> correct;
};

// The per-round metrics' rule (metrics::answer_correct); nothing when the item has neither a
// scorer verdict nor a gold option.
std::optional<bool> correctness(const RoundRecord& r, const ItemRecord& item) {
  if (!r.correct && item.gold < 0) return std::nullopt;
  return metrics::answer_correct(r.correct, r.answer_index, item.gold);
}

std::optional<double> uncertainty(const RoundRecord& r) {
  if (r.option_probs.size() < 2) return std::nullopt;  // ln 1 = 0: no uncertainty over one option
  try {
    return metrics::normalized_entropy(r.option_probs);
  } catch (const Error& e) {
    throw Error(fmt::format("condition '{}' item '{}' round {}: option probabilities: {}", r.condition, r.item_id,
                            r.round, e.what()));
  }
}

// FNV-1a: a platform-independent hash that turns a statistic's identity into a bootstrap stream.
std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

double mean(std::span<const double> v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

bool constant(std::span<const double> v) {
  return std::all_of(v.begin(), v.end(), [&](double x) { return x == v.front(); });
}

// The run's rows indexed for the joins.
class RunIndex {
 public:
  explicit RunIndex(const ConceptInputs& in) : in_(in) {
    for (std::size_t i = 0; i < in.items.size(); ++i) item_of_.emplace(in.items[i].item_id, i);
    for (const RoundRecord& r : in.rounds) rounds_[{r.condition, item(r.item_id, r.condition, r.round), r.round}] = &r;
    for (const ItemProbeRecord& p : in.item_probes) probes_[{p.condition, p.name, p.position, p.layer}].push_back(&p);
  }

  std::size_t item(const std::string& id, const std::string& condition, int round) const {
    const auto it = item_of_.find(id);
    if (it == item_of_.end())
      throw Error(fmt::format("run '{}' condition '{}' round {}: item '{}' is not one of the run's items",
                              in_.run.run_id, condition, round, id));
    return it->second;
  }

  const RoundRecord* round(const std::string& condition, std::size_t item, int round) const {
    const auto it = rounds_.find({condition, item, round});
    return it == rounds_.end() ? nullptr : it->second;
  }

  // The condition's rounds as (item, round) -> row.
  std::map<std::pair<int, std::size_t>, const RoundRecord*> condition_rounds(const std::string& condition) const {
    std::map<std::pair<int, std::size_t>, const RoundRecord*> out;
    for (const auto& [key, r] : rounds_)
      if (std::get<0>(key) == condition) out[{std::get<2>(key), std::get<1>(key)}] = r;
    return out;
  }

  // Probes of (name, position, layer) in `condition`, joined, ordered by round then item index.
  std::vector<Observation> observations(const std::string& condition, const std::string& name,
                                        const std::string& position, int layer) const {
    std::vector<Observation> out;
    const auto group = probes_.find({condition, name, position, layer});
    if (group == probes_.end()) return out;
    for (const ItemProbeRecord* probe : group->second) {
      const ItemProbeRecord& p = *probe;
      Observation o;
      o.item = item(p.item_id, p.condition, p.round);
      o.round = p.round;
      o.cosine = p.cosine;
      o.probability = p.probability;
      const RoundRecord* r = round(p.condition, o.item, p.round);
      if (!r)
        throw Error(fmt::format("run '{}' condition '{}' item '{}' round {}: item probe '{}' has no stored round",
                                in_.run.run_id, p.condition, p.item_id, p.round, p.name));
      o.uncertainty = uncertainty(*r);
      o.correct = correctness(*r, in_.items[o.item]);
      out.push_back(o);
    }
    std::sort(out.begin(), out.end(), [](const Observation& a, const Observation& b) {
      return a.round != b.round ? a.round < b.round : a.item < b.item;
    });
    return out;
  }

 private:
  const ConceptInputs& in_;
  std::unordered_map<std::string, std::size_t> item_of_;
  std::map<std::tuple<std::string, std::size_t, int>, const RoundRecord*> rounds_;
  std::map<std::tuple<std::string, std::string, std::string, int>, std::vector<const ItemProbeRecord*>> probes_;
};

// Observations grouped by round (ascending).
std::map<int, std::vector<const Observation*>> by_round(const std::vector<Observation>& obs) {
  std::map<int, std::vector<const Observation*>> out;
  for (const Observation& o : obs) out[o.round].push_back(&o);
  return out;
}

double mean_cosine(const std::vector<const Observation*>& obs) {
  double s = 0;
  for (const Observation* o : obs) s += o->cosine;
  return s / static_cast<double>(obs.size());
}

RoundConcept round_concept(int round, const std::vector<const Observation*>& obs, const ConceptSummaryOptions& options,
                           std::uint64_t stream) {
  RoundConcept rc;
  rc.round = round;
  rc.n = obs.size();
  rc.mean = mean_cosine(obs);
  if (options.bootstrap_resamples == 0) {
    rc.ci_unavailable = "intervals off (0 bootstrap resamples)";
  } else if (obs.size() < 2) {
    rc.ci_unavailable = "one item: no interval";
  } else {
    const metrics::ResampleMetric metric = [&obs](std::span<const std::size_t> idx) -> std::optional<double> {
      double s = 0;
      for (std::size_t i : idx) s += obs[i]->cosine;
      return s / static_cast<double>(idx.size());
    };
    rc.ci = metrics::bootstrap_percentile(
        obs.size(), metric,
        {options.bootstrap_resamples, options.confidence_level,
         metrics::derive_seed(options.seed, static_cast<std::uint64_t>(static_cast<std::int64_t>(round)), stream)});
  }
  double p = 0, u = 0;
  for (const Observation* o : obs) {
    if (o->probability) p += *o->probability, ++rc.n_probability;
    if (o->uncertainty) u += *o->uncertainty, ++rc.n_uncertainty;
  }
  if (rc.n_probability) rc.mean_probability = p / static_cast<double>(rc.n_probability);
  if (rc.n_uncertainty) rc.mean_uncertainty = u / static_cast<double>(rc.n_uncertainty);
  return rc;
}

CorrelationResult correlate(const std::vector<double>& x, const std::vector<double>& y, const char* unit) {
  CorrelationResult c;
  c.n = x.size();
  if (x.size() < 3) {
    c.unavailable = fmt::format("needs at least 3 {} with option probabilities, has {}", unit, x.size());
  } else if (constant(x)) {
    c.unavailable = fmt::format("the concept score is constant over the {}", unit);
  } else if (constant(y)) {
    c.unavailable = fmt::format("the uncertainty is constant over the {}", unit);
  } else {
    try {
      c.pearson = metrics::pearson(x, y);
      c.spearman = metrics::spearman(x, y);
    } catch (const Error& e) {
      c.pearson.reset();
      c.spearman.reset();
      c.unavailable = e.what();
    }
    if (c.pearson && !(std::isfinite(c.pearson->r) && std::isfinite(c.spearman->r) &&
                       std::isfinite(c.pearson->p_value) && std::isfinite(c.spearman->p_value))) {
      c.pearson.reset();
      c.spearman.reset();
      c.unavailable = "the correlation is undefined on these values";
    }
  }
  return c;
}

bool all_finite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

OlsResult regress_uncertainty(const std::vector<double>& scores, const std::vector<double>& unc) {
  OlsResult r;
  if (scores.size() < 3) {
    r.unavailable = fmt::format("needs at least 3 (item, round) pairs with option probabilities, has {}", scores.size());
    return r;
  }
  if (constant(scores)) {
    r.unavailable = "the concept score is constant: no slope";
    return r;
  }
  if (constant(unc)) {
    r.unavailable = "the uncertainty is constant: nothing to explain";
    return r;
  }
  metrics::Matrix x(static_cast<int64_t>(scores.size()), 1);
  for (std::size_t i = 0; i < scores.size(); ++i) x.at(static_cast<int64_t>(i), 0) = scores[i];
  try {
    metrics::OlsFit fit = metrics::ols(x, unc);
    std::vector<double> all = {fit.intercept, fit.r2, fit.adj_r2, fit.f_stat, fit.f_p_value};
    for (const auto* v : {&fit.coef, &fit.std_errors, &fit.t_values, &fit.p_values}) all.insert(all.end(), v->begin(), v->end());
    if (all_finite(all))
      r.fit = std::move(fit);
    else
      r.unavailable = "the fit is undefined on these values (a perfect fit leaves no residual variance)";
  } catch (const Error& e) {
    r.unavailable = e.what();
  }
  return r;
}

LogisticResult regress_correctness(const std::vector<Observation>& obs) {
  LogisticResult r;
  std::vector<double> scores, unc;
  std::vector<int> y;
  for (const Observation& o : obs)
    if (o.correct && o.uncertainty) {
      scores.push_back(o.cosine);
      unc.push_back(*o.uncertainty);
      y.push_back(*o.correct ? 1 : 0);
      r.n_correct += *o.correct;
    }
  r.n = y.size();
  if (r.n < 4) {
    r.unavailable = fmt::format("needs at least 4 (item, round) pairs with a correctness and option probabilities, has {}", r.n);
  } else if (r.n_correct == 0 || r.n_correct == r.n) {
    r.unavailable = fmt::format("one class: all {} answers are {}", r.n, r.n_correct ? "correct" : "wrong");
  } else if (constant(scores)) {
    r.unavailable = "the concept score is constant: it cannot be standardised";
  } else if (constant(unc)) {
    r.unavailable = "the uncertainty is constant: it cannot be standardised";
  }
  if (!r.unavailable.empty()) return r;
  metrics::Matrix x(static_cast<int64_t>(r.n), 2);
  for (std::size_t i = 0; i < r.n; ++i) {
    x.at(static_cast<int64_t>(i), 0) = scores[i];
    x.at(static_cast<int64_t>(i), 1) = unc[i];
  }
  metrics::LogisticOptions options;
  options.standardize = true;
  try {
    metrics::LogisticFit fit = metrics::logistic_regression(x, y, options);
    std::vector<double> all = {fit.intercept, fit.log_likelihood};
    for (const auto* v : {&fit.coef, &fit.std_errors, &fit.z_values, &fit.p_values}) all.insert(all.end(), v->begin(), v->end());
    if (fit.separated)
      r.unavailable = "perfectly separated: the maximum-likelihood coefficients are infinite";
    else if (!fit.converged)
      r.unavailable = fmt::format("did not converge in {} iterations", fit.iterations);
    else if (!all_finite(all))
      r.unavailable = "the fit is undefined on these values";
    else
      r.fit = std::move(fit);
  } catch (const Error& e) {
    r.unavailable = e.what();
  }
  return r;
}

ConditionConcept condition_concept(const std::string& condition, const std::vector<Observation>& obs,
                                   const std::string& identity, const ConceptSummaryOptions& options) {
  ConditionConcept cc;
  cc.condition = condition;
  const std::uint64_t stream = fnv1a(condition + '\x1f' + identity);
  std::optional<double> previous;
  std::vector<double> round_concept_means, round_uncertainty_means;
  for (const auto& [round, group] : by_round(obs)) {
    RoundConcept rc = round_concept(round, group, options, stream);
    if (previous) rc.delta = rc.mean - *previous;
    previous = rc.mean;
    if (rc.mean_uncertainty) {
      round_concept_means.push_back(rc.mean);
      round_uncertainty_means.push_back(*rc.mean_uncertainty);
    }
    cc.rounds.push_back(std::move(rc));
  }
  cc.round_level = correlate(round_concept_means, round_uncertainty_means, "rounds");
  std::vector<double> item_concept, item_uncertainty;
  for (const Observation& o : obs)
    if (o.uncertainty) {
      item_concept.push_back(o.cosine);
      item_uncertainty.push_back(*o.uncertainty);
    }
  cc.item_level = correlate(item_concept, item_uncertainty, "(item, round) pairs");
  cc.ols = regress_uncertainty(item_concept, item_uncertainty);
  cc.logistic = regress_correctness(obs);
  return cc;
}

LayerShift layer_shift(const std::string& condition, const std::vector<Observation>& obs) {
  LayerShift s;
  s.condition = condition;
  const auto groups = by_round(obs);
  s.first_round = groups.begin()->first;
  s.last_round = groups.rbegin()->first;
  if (groups.size() < 2)
    s.unavailable = fmt::format("only round {} is probed", s.first_round);
  else
    s.shift = mean_cosine(groups.rbegin()->second) - mean_cosine(groups.begin()->second);
  return s;
}

std::optional<double> heldout_accuracy(const std::vector<ProbeRecord>& probes, const std::string& name, int layer) {
  const std::string wanted = name + "/heldout_accuracy";
  std::optional<double> found;
  for (const ProbeRecord& p : probes) {
    if (p.round != 0 || p.layer != layer || p.name != wanted) continue;
    const json& v = p.value;
    std::optional<double> value;
    if (v.is_number()) value = v.get<double>();
    for (const char* key : {"accuracy", "value"})
      if (!value && v.is_object() && v.contains(key) && v[key].is_number()) value = v[key].get<double>();
    // the run-wide row (condition "") wins over a per-condition one
    if (value && std::isfinite(*value) && (!found || p.condition.empty())) found = value;
  }
  return found;
}

std::string string_field(const json& entry, const char* key, const std::string& run_id, std::size_t index) {
  if (!entry.is_object() || !entry.contains(key) || !entry[key].is_string() || entry[key].get_ref<const std::string&>().empty())
    throw Error(fmt::format("run '{}': config steer[{}]: '{}' is not a non-empty string", run_id, index, key));
  return entry[key].get<std::string>();
}

// Accuracy (metrics::accuracy_of) and mean normalised entropy (metrics::entropy_summary) of rows.
std::optional<double> accuracy_of_rows(const std::vector<std::optional<bool>>& correct) {
  std::vector<metrics::AnswerState> states;
  for (const std::optional<bool>& c : correct) {
    if (!c) return std::nullopt;
    states.push_back({0, *c});
  }
  if (states.empty()) return std::nullopt;
  return metrics::accuracy_of(states).accuracy;
}

std::optional<double> entropy_of_rows(const std::vector<const RoundRecord*>& rows) {
  std::vector<std::vector<double>> dists;
  for (const RoundRecord* r : rows) {
    if (r->option_probs.size() < 2) return std::nullopt;
    uncertainty(*r);  // validates with the row named in the error
    dists.push_back(r->option_probs);
  }
  if (dists.empty()) return std::nullopt;
  return metrics::entropy_summary(dists).mean_normalized;
}

void set_diff(std::optional<double> base, std::optional<double> steered, std::optional<double>& b,
              std::optional<double>& s, std::optional<double>& d) {
  b = base;
  s = steered;
  if (base && steered) d = *steered - *base;
}

SteeringEffect steering_effect(const json& spec, std::size_t index, const ConceptInputs& in, const RunIndex& index_of,
                               const std::string& name, const std::string& position, int layer) {
  SteeringEffect e;
  e.condition = string_field(spec, "name", in.run.run_id, index);
  e.base = string_field(spec, "base", in.run.run_id, index);
  e.spec = spec;
  const auto steered_rows = index_of.condition_rounds(e.condition);
  const auto base_rows = index_of.condition_rounds(e.base);
  if (steered_rows.empty()) {
    e.unavailable = fmt::format("condition '{}' has no stored rounds", e.condition);
    return e;
  }
  if (base_rows.empty()) {
    e.unavailable = fmt::format("base condition '{}' has no stored rounds", e.base);
    return e;
  }
  std::map<std::pair<int, std::size_t>, double> steered_concept, base_concept;
  for (const Observation& o : index_of.observations(e.condition, name, position, layer))
    steered_concept[{o.round, o.item}] = o.cosine;
  for (const Observation& o : index_of.observations(e.base, name, position, layer)) base_concept[{o.round, o.item}] = o.cosine;

  std::map<int, SteeringRound> rounds;
  std::map<int, std::vector<const RoundRecord*>> base_of, steered_of;
  std::map<int, std::vector<std::optional<bool>>> base_correct, steered_correct;
  std::map<int, std::vector<double>> base_cos, steered_cos;
  for (const auto& [key, steered] : steered_rows) {
    const auto b = base_rows.find(key);
    if (b == base_rows.end()) continue;
    const auto [round, item] = key;
    SteeringRound& sr = rounds[round];
    sr.round = round;
    ++sr.n;
    base_of[round].push_back(b->second);
    steered_of[round].push_back(steered);
    base_correct[round].push_back(correctness(*b->second, in.items[item]));
    steered_correct[round].push_back(correctness(*steered, in.items[item]));
    const auto sc = steered_concept.find(key), bc = base_concept.find(key);
    if (sc != steered_concept.end() && bc != base_concept.end()) {
      ++sr.n_concept;
      steered_cos[round].push_back(sc->second);
      base_cos[round].push_back(bc->second);
    }
  }
  if (rounds.empty()) {
    e.unavailable = fmt::format("conditions '{}' and '{}' share no stored (item, round)", e.condition, e.base);
    return e;
  }
  for (auto& [round, sr] : rounds) {
    set_diff(accuracy_of_rows(base_correct[round]), accuracy_of_rows(steered_correct[round]), sr.accuracy_base,
             sr.accuracy_steered, sr.accuracy_diff);
    set_diff(entropy_of_rows(base_of[round]), entropy_of_rows(steered_of[round]), sr.entropy_base, sr.entropy_steered,
             sr.entropy_diff);
    if (sr.n_concept)
      set_diff(mean(base_cos[round]), mean(steered_cos[round]), sr.concept_base, sr.concept_steered, sr.concept_diff);
    e.rounds.push_back(sr);
  }
  return e;
}

}  // namespace

std::string probe_base_name(const std::string& name, const std::string& position) { return name + "@" + position; }

std::vector<ConceptKey> concept_keys(const std::vector<ItemProbeRecord>& item_probes) {
  std::map<std::pair<std::string, std::string>, std::set<int>> keys;
  for (const ItemProbeRecord& p : item_probes) keys[{p.name, p.position}].insert(p.layer);
  std::vector<ConceptKey> out;
  for (const auto& [key, layers] : keys) out.push_back({key.first, key.second, {layers.begin(), layers.end()}});
  return out;
}

ConceptInputs read_concept_inputs(const Store& store, const std::string& run_id) {
  ConceptInputs in;
  std::optional<RunRecord> run = store.find_run(run_id);
  if (!run) throw Error(fmt::format("{}: run '{}' is not in the store", store.path(), run_id));
  in.run = std::move(*run);
  in.items = store.items(run_id);
  in.rounds = store.rounds(run_id);
  in.probes = store.probes(run_id);
  in.item_probes = store.item_probes(run_id);
  return in;
}

ConceptSummary summarize_concept(const ConceptInputs& in, const std::string& name, const std::string& position,
                                 int layer, const ConceptSummaryOptions& options) {
  ConceptSummary s;
  s.run_id = in.run.run_id;
  s.name = name;
  s.position = position;
  s.layer = layer;
  s.options = options;
  const RunIndex index(in);

  // the run's conditions first, in its order, then any other condition the probes name
  std::vector<std::string> conditions = in.run.conditions;
  std::set<int> layers;
  for (const ItemProbeRecord& p : in.item_probes) {
    if (p.name != name || p.position != position) continue;
    layers.insert(p.layer);
    if (std::find(conditions.begin(), conditions.end(), p.condition) == conditions.end()) conditions.push_back(p.condition);
  }
  if (!layers.count(layer))
    throw Error(fmt::format("run '{}': no item probes named '{}' at position '{}', layer {}", in.run.run_id, name,
                            position, layer));

  const std::string identity = fmt::format("{}@{}#{}", name, position, layer);
  for (const std::string& condition : conditions) {
    const std::vector<Observation> obs = index.observations(condition, name, position, layer);
    if (!obs.empty()) s.conditions.push_back(condition_concept(condition, obs, identity, options));
  }
  for (int l : layers) {
    LayerProfile profile;
    profile.layer = l;
    for (const std::string& condition : conditions) {
      const std::vector<Observation> obs = index.observations(condition, name, position, l);
      if (!obs.empty()) profile.conditions.push_back(layer_shift(condition, obs));
    }
    profile.heldout_accuracy = heldout_accuracy(in.probes, name, l);
    s.layers.push_back(std::move(profile));
  }
  // The steered conditions are in the stored run spec (RunRecord::config "run", tasks::to_json).
  const json* spec = in.run.config.is_object() && in.run.config.contains("run") ? &in.run.config.at("run") : nullptr;
  const auto steer = spec && spec->is_object() ? spec->find("steer") : json::const_iterator();
  if (spec && spec->is_object() && steer != spec->end() && !steer->is_null()) {
    if (!steer->is_array()) throw Error(fmt::format("run '{}': config run.steer is not a list", in.run.run_id));
    for (std::size_t i = 0; i < steer->size(); ++i)
      s.steering.push_back(steering_effect((*steer)[i], i, in, index, name, position, layer));
  }
  return s;
}

ConceptSummary summarize_concept(const Store& store, const std::string& run_id, const std::string& name,
                                 const std::string& position, int layer, const ConceptSummaryOptions& options) {
  return summarize_concept(read_concept_inputs(store, run_id), name, position, layer, options);
}

}  // namespace isc::concepts
