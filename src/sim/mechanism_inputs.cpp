// read_mechanism_inputs (see mechanism_inputs.h): one pass over a run's rounds, item probes and (for
// the random-direction control) hidden states.
#include "sim/mechanism_inputs.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "concepts/concept_summary.h"
#include "concepts/direction_file.h"
#include "metrics/entropy.h"
#include "metrics/item_round.h"

namespace isc::sim {

namespace {

using Key = std::tuple<std::string, std::string, int>;  // condition, item, round

// The round's uncertainty under `source`, nullopt when the round has none.
std::optional<double> round_uncertainty(const RoundRecord& r, const std::string& source) {
  if (source == "option_entropy") {
    if (r.option_probs.empty()) return std::nullopt;
    return metrics::entropy_nats(r.option_probs);
  }
  const auto u = r.extra.find("uncertainty");
  if (u == r.extra.end() || !u->is_object()) return std::nullopt;
  const auto v = u->find(source);
  if (v == u->end() || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

std::string choose_uncertainty(const std::vector<RoundRecord>& rounds, const std::string& asked,
                               std::string* unavailable) {
  std::set<std::string> sampled;
  bool options = false;
  for (const RoundRecord& r : rounds) {
    options = options || !r.option_probs.empty();
    const auto u = r.extra.find("uncertainty");
    if (u != r.extra.end() && u->is_object())
      for (const auto& [k, v] : u->items())
        if (v.is_number()) sampled.insert(k);
  }
  const std::string have = fmt::format("option_entropy{}{}", options ? "" : " (none: no option probabilities)",
                                       sampled.empty() ? "" : ", " + fmt::format("{}", fmt::join(sampled, ", ")));
  if (!asked.empty()) {
    if ((asked == "option_entropy" && options) || sampled.count(asked)) return asked;
    throw Error(fmt::format("analyze: the run has no uncertainty '{}'; it has: {}", asked, have));
  }
  if (options) return "option_entropy";
  if (sampled.count("ln_semantic_entropy")) return "ln_semantic_entropy";
  if (!sampled.empty()) return *sampled.begin();
  *unavailable = "the rounds carry no uncertainty: no option probabilities and no samples (run with --samples N, "
                 "e.g. --samples 5, for open generation)";
  return "";
}

// Correctness: the task's verdict, else the option against the gold option, else (tasks scored in
// [0, 1] such as toxicity) quality >= 0.5, the conventional "acceptable" threshold.
std::optional<bool> round_correct(const RoundRecord& r, const ItemRecord& item) {
  if (r.correct) return r.correct;
  if (item.gold >= 0) return metrics::answer_correct(std::nullopt, r.answer_index, item.gold);
  const auto q = r.extra.find("quality");
  if (q != r.extra.end() && q->is_number()) return q->get<double>() >= 0.5;
  return std::nullopt;
}

// The option-probability argmax (ties: the lower index) against the gold option.
std::optional<bool> argmax_correct(const RoundRecord& r, const ItemRecord& item) {
  if (r.option_probs.empty() || item.gold < 0) return std::nullopt;
  std::size_t best = 0;
  for (std::size_t k = 1; k < r.option_probs.size(); ++k)
    if (r.option_probs[k] > r.option_probs[best]) best = k;
  return static_cast<int>(best) == item.gold;
}

bool stopped_early(const RoundRecord& r) {
  const auto it = r.extra.find("early_stopped");
  return it != r.extra.end() && it->is_boolean() && it->get<bool>();
}

double dot(const std::vector<float>& h, const std::vector<double>& d) {
  double sum = 0;
  for (std::size_t i = 0; i < h.size(); ++i) sum += h[i] * d[i];
  return sum;
}

double cosine(const std::vector<float>& h, const std::vector<double>& d) {
  double dot = 0, hh = 0, dd = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    dot += h[i] * d[i];
    hh += static_cast<double>(h[i]) * h[i];
    dd += d[i] * d[i];
  }
  return hh > 0 && dd > 0 ? dot / std::sqrt(hh * dd) : 0.0;
}

}  // namespace

MechanismInputs read_mechanism_inputs(const Store& store, const std::string& run_id,
                                      const MechanismInputOptions& options) {
  MechanismInputs in;
  std::optional<RunRecord> run = store.find_run(run_id);
  if (!run) throw Error(fmt::format("{}: run '{}' is not in the store", store.path(), run_id));
  in.run = std::move(*run);
  const std::vector<ItemRecord> items = store.items(run_id);
  std::map<std::string, const ItemRecord*> item_of;
  for (const ItemRecord& it : items) item_of[it.item_id] = &it;
  std::vector<RoundRecord> rounds = store.rounds(run_id);
  if (rounds.empty()) throw Error(fmt::format("{}: run '{}' has no stored rounds", store.path(), run_id));

  // The concept score.
  const std::vector<ItemProbeRecord> probes = store.item_probes(run_id);
  const std::vector<concepts::ConceptKey> keys = concepts::concept_keys(probes);
  std::map<Key, double> concept_of;
  if (keys.empty()) {
    if (!options.concept_name.empty())
      throw Error(fmt::format("analyze: run '{}' has no concept scores, so not '{}'", run_id, options.concept_name));
    in.concept_unavailable =
        "the run has no concept scores: capture hidden states (isc run --hidden-layers ...) and score a concept "
        "(isc concept score STORE --concept concepts/NAME.yaml) first";
  } else {
    const concepts::ConceptKey* key = nullptr;
    std::vector<std::string> names;
    for (const concepts::ConceptKey& k : keys) {
      names.push_back(k.name + "@" + k.position);
      if ((options.concept_name.empty() || k.name == options.concept_name) &&
          (options.concept_position.empty() || k.position == options.concept_position) && !key)
        key = &k;
    }
    if (!key)
      throw Error(fmt::format("analyze: run '{}' has no concept scores '{}{}'; it has: {}", run_id, options.concept_name,
                              options.concept_position.empty() ? "" : "@" + options.concept_position,
                              fmt::join(names, ", ")));
    const int layer = options.concept_layer.value_or(key->layers.back());
    if (std::find(key->layers.begin(), key->layers.end(), layer) == key->layers.end())
      throw Error(fmt::format("analyze: concept '{}@{}' was not scored at layer {}; layers: {}", key->name,
                              key->position, layer, fmt::join(key->layers, ", ")));
    in.concept_name = key->name;
    in.concept_position = key->position;
    in.concept_layer = layer;
    for (const ItemProbeRecord& p : probes)
      if (p.name == in.concept_name && p.position == in.concept_position && p.layer == layer)
        concept_of[{p.condition, p.item_id, p.round}] = p.cosine;
  }

  in.uncertainty = choose_uncertainty(rounds, options.uncertainty, &in.uncertainty_unavailable);
  if (options.correctness != "answer" && options.correctness != "argmax")
    throw Error(fmt::format("analyze: correctness '{}' (expected answer or argmax)", options.correctness));
  const bool argmax = options.correctness == "argmax";
  if (argmax && std::none_of(rounds.begin(), rounds.end(), [](const RoundRecord& r) { return !r.option_probs.empty(); }))
    throw Error(fmt::format("analyze: run '{}' has no option probabilities, so no argmax correctness", run_id));
  in.correctness = options.correctness;

  // The concept's own unit direction, for the projection variant.
  std::vector<double> direction;
  if (options.directions_file.empty()) {
    in.projection_unavailable = "no direction file given (isc analyze --directions FILE)";
  } else if (in.concept_name.empty()) {
    in.projection_unavailable = in.concept_unavailable;
  } else {
    const concepts::ConceptDirections dirs = concepts::load_directions(options.directions_file);
    const std::string method = in.concept_name.substr(in.concept_name.find('/') + 1);
    if (dirs.model_sha256 != in.run.model_sha256)
      throw Error(fmt::format("{}: the directions were learnt on another model ({}) than run '{}' ran ({})",
                              options.directions_file, dirs.model, run_id, in.run.model));
    const concepts::LayerDirection* d = dirs.find(in.concept_layer, method);
    if (!d)
      throw Error(fmt::format("{}: no '{}' direction at layer {} (the concept score analysed)", options.directions_file,
                              method, in.concept_layer));
    direction = d->direction;
  }

  // The control for the concept direction: random directions scored on the same hidden states.
  std::map<Key, std::vector<double>> random_of, projection_of;
  if (!in.concept_name.empty() && (options.random_directions > 0 || !direction.empty())) {
    const std::vector<HiddenStateRecord> states = store.hidden_states(run_id, in.concept_position, in.concept_layer);
    if (states.empty()) {
      if (!direction.empty())
        in.projection_unavailable = fmt::format("the run stored no hidden states at {} layer {}", in.concept_position,
                                                in.concept_layer);
      direction.clear();
      in.random_unavailable = fmt::format("the run stored no hidden states at {} layer {} to score random directions on",
                                          in.concept_position, in.concept_layer);
    } else {
      const std::size_t dim = states.front().values.size();
      std::mt19937_64 rng(options.seed);
      std::normal_distribution<double> normal;
      if (!direction.empty() && direction.size() != dim)
        throw Error(fmt::format("{}: directions of width {}, the run's hidden states have {}", options.directions_file,
                                direction.size(), dim));
      // Unit random directions: the same norm as the concept's, so projections compare.
      std::vector<std::vector<double>> dirs(static_cast<std::size_t>(options.random_directions),
                                            std::vector<double>(dim));
      for (auto& d : dirs) {
        double norm = 0.0;
        for (double& v : d) norm += (v = normal(rng)) * v;
        for (double& v : d) v /= std::sqrt(norm);
      }
      for (const HiddenStateRecord& h : states) {
        if (h.values.size() != dim)
          throw Error(fmt::format("{}: hidden state ({}, {}, round {}) has {} values, others {}", store.path(),
                                  h.condition, h.item_id, h.round, h.values.size(), dim));
        std::vector<double> scores, projections;
        for (const auto& d : dirs) scores.push_back(cosine(h.values, d));
        if (!direction.empty()) {
          projections.push_back(dot(h.values, direction));
          for (const auto& d : dirs) projections.push_back(dot(h.values, d));
        }
        random_of[{h.condition, h.item_id, h.round}] = std::move(scores);
        if (!direction.empty()) projection_of[{h.condition, h.item_id, h.round}] = std::move(projections);
      }
      in.random_directions = dirs.size();
    }
  }

  if (!in.concept_name.empty() && in.random_directions == 0 && in.random_unavailable.empty())
    in.random_unavailable = "no random directions asked for (--random-directions 0)";

  // The rounds moved (not copied) into their condition and item, in one pass.
  std::map<std::string, std::map<std::string, std::vector<RoundRecord>>> by_condition;
  for (RoundRecord& r : rounds) {
    std::vector<RoundRecord>& list = by_condition[r.condition][r.item_id];
    list.push_back(std::move(r));
  }
  for (const std::string& cname : in.run.conditions) {
    ConditionInputs c;
    c.condition = cname;
    std::map<int, std::pair<double, double>> sim_sum;  // round -> (posterior, paper) sums
    std::map<int, std::size_t> sim_n;
    const auto grouped = by_condition.find(cname);
    if (grouped == by_condition.end()) continue;
    c.rounds_by_item = std::move(grouped->second);
    for (auto& [item_id, list] : c.rounds_by_item) {
      const auto it = item_of.find(item_id);
      if (it == item_of.end())
        throw Error(fmt::format("{}: round of item '{}' which is not in run '{}'", store.path(), item_id, run_id));
      std::sort(list.begin(), list.end(), [](const RoundRecord& a, const RoundRecord& b) { return a.round < b.round; });
      for (const RoundRecord& r : list) {
        ItemRoundState s;
        s.item_id = item_id;
        s.round = r.round;
        if (auto f = concept_of.find({cname, item_id, r.round}); f != concept_of.end()) s.concept_score = f->second;
        if (!in.uncertainty.empty()) s.uncertainty = round_uncertainty(r, in.uncertainty);
        s.correct = argmax ? argmax_correct(r, *it->second) : round_correct(r, *it->second);
        if (auto f = random_of.find({cname, item_id, r.round}); f != random_of.end()) s.random_concepts = f->second;
        c.stored.push_back(s);
        c.carried.push_back(s);
        if (auto f = projection_of.find({cname, item_id, r.round}); f != projection_of.end()) {
          ItemRoundState p = s;
          p.concept_score = f->second[0];
          p.random_concepts.assign(f->second.begin() + 1, f->second.end());
          c.projected.push_back(std::move(p));
        }
        if (const auto sim = r.extra.find("simulation"); sim != r.extra.end() && sim->is_object()) {
          auto& acc = sim_sum[r.round];
          acc.first += sim->value("posterior", 0.0);
          acc.second += sim->value("posterior_paper", 0.0);
          ++sim_n[r.round];
        }
      }
      if (stopped_early(list.back())) {
        ++c.early_stopped;
        ItemRoundState last = c.stored.back();
        last.concept_score.reset();  // no hidden state was captured after the stop
        last.random_concepts.clear();
        for (int round = list.back().round + 1; round <= in.run.rounds; ++round) {
          last.round = round;
          c.carried.push_back(last);
        }
      }
    }
    for (const auto& [round, sums] : sim_sum) {
      c.simulated_rounds.push_back(round);
      c.simulated_posterior.push_back(sums.first / static_cast<double>(sim_n[round]));
      c.simulated_paper.push_back(sums.second / static_cast<double>(sim_n[round]));
    }
    in.conditions.push_back(std::move(c));
  }
  return in;
}

}  // namespace isc::sim
