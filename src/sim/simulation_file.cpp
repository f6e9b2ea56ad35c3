// Simulation-file reader (see simulation_file.h): strict keys and typed values with "file:line:col"
// errors, a `defaults` map the conditions refine, and the range checks shared with the flags.
#include "sim/simulation_file.h"

#include <cmath>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "tasks/yaml_fields.h"

namespace isc::sim {

namespace {

using tasks::YamlMap;

// A prior given as a probability must lie strictly inside (0, 1); its log-odds is what the model keeps.
double prior_to_log_odds(double prior, const std::string& at) {
  if (!(prior > 0.0 && prior < 1.0))
    throw Error(fmt::format("{}: prior = {} (expected a probability p(C_p|q_0) strictly between 0 and 1)", at, prior));
  return logit(prior);
}

std::vector<double> number_list(const YamlMap& m, const std::string& key) {
  const YAML::Node v = m.node()[key];
  if (!v.IsSequence())
    throw Error(fmt::format("{}: expected a list of probabilities for '{}'", m.position_of(key), key));
  std::vector<double> out;
  for (const auto& e : v) {
    try {
      if (!e.IsScalar()) throw YAML::Exception(e.Mark(), "not a scalar");
      out.push_back(e.as<double>());
    } catch (const YAML::Exception&) {
      throw Error(fmt::format("{}: expected a number in '{}'", tasks::yaml_position(m.file(), e), key));
    }
  }
  return out;
}

// The parameter fields one map (defaults or a condition) sets, applied over `p`.
void read_parameters(const YamlMap& m, LatentConceptParams& p) {
  if (m.has("prior") && m.has("prior_log_odds"))
    throw Error(m.position_of("prior_log_odds") + ": give either 'prior' or 'prior_log_odds', not both");
  if (auto v = m.number("prior")) p.prior_log_odds = prior_to_log_odds(*v, m.position_of("prior"));
  if (auto v = m.number("prior_log_odds")) p.prior_log_odds = *v;
  if (auto v = m.number("prior_sd")) p.prior_sd = *v;
  if (auto v = m.number("lr_instruction")) p.lr_instruction = *v;
  if (auto v = m.number("lr_output")) p.lr_output = *v;
  if (auto v = m.number("evidence_sd")) p.evidence_sd = *v;
  if (auto v = m.string("output_evidence")) p.output_evidence = parse_output_evidence(*v, m.position_of("output_evidence"));
  if (auto v = m.string("answer")) p.answer = parse_answer_rule(*v, m.position_of("answer"));
  if (m.has("answers_positive")) p.answers_positive = number_list(m, "answers_positive");
  if (m.has("answers_negative")) p.answers_negative = number_list(m, "answers_negative");
  if (auto v = m.integer("gold")) {
    if (*v < 0 || *v >= kMaxOptions)
      throw Error(fmt::format("{}: gold = {} (expected an option index in 0..{})", m.position_of("gold"), *v, kMaxOptions - 1));
    p.gold = static_cast<int>(*v);
  }
}

#define ISC_SIM_PARAMETER_KEYS                                                                                    \
  "prior", "prior_log_odds", "prior_sd", "lr_instruction", "lr_output", "evidence_sd", "output_evidence", "answer", \
      "answers_positive", "answers_negative", "gold"

}  // namespace

SimulationSpec load_simulation_file(const std::string& path) {
  const YamlMap m(path, tasks::load_yaml_file(path), "a simulation file");
  m.allow_only({"items", "rounds", "seed", "predict_stop", "defaults", "conditions"});
  SimulationSpec s;
  s.file = path;
  if (auto v = m.integer("items")) {
    if (*v < 1 || *v > kMaxItems) throw Error(fmt::format("{}: expected 'items' in 1..{}", m.position_of("items"), kMaxItems));
    s.items = *v;
  }
  if (auto v = m.integer("rounds")) {
    if (*v < 1 || *v > kMaxRounds) throw Error(fmt::format("{}: expected 'rounds' in 1..{}", m.position_of("rounds"), kMaxRounds));
    s.rounds = static_cast<int>(*v);
  }
  if (auto v = m.integer("seed")) {
    if (*v < 0) throw Error(m.position_of("seed") + ": expected a non-negative integer for 'seed'");
    s.seed = static_cast<uint64_t>(*v);
  }
  if (auto v = m.number("predict_stop")) {
    if (!(*v >= 0.0) || !std::isfinite(*v))
      throw Error(m.position_of("predict_stop") + ": expected 'predict_stop' >= 0 (0 = off)");
    s.predict_stop = *v;
  }
  LatentConceptParams defaults;
  if (auto d = m.map("defaults")) {
    d->allow_only({ISC_SIM_PARAMETER_KEYS});
    read_parameters(*d, defaults);
  }
  const auto conditions = m.map_list("conditions");
  if (!conditions || conditions->empty())
    throw Error(m.position_of("conditions") + ": a simulation file needs a non-empty list 'conditions'");
  for (const YamlMap& c : *conditions) {
    c.allow_only({"name", ISC_SIM_PARAMETER_KEYS});
    LatentConceptParams p = defaults;
    p.name = c.required_string("name");
    read_parameters(c, p);
    validate(p, c.position());  // the condition's line; the message names the field
    s.conditions.push_back(std::move(p));
  }
  validate_simulation_spec(s, path);
  return s;
}

void apply_overrides(SimulationSpec& s, const ParameterOverrides& o, const std::string& where) {
  if (o.prior && o.prior_log_odds) throw Error(where + ": give either --prior or --prior-log-odds, not both");
  for (LatentConceptParams& p : s.conditions) {
    if (o.prior) p.prior_log_odds = prior_to_log_odds(*o.prior, where + ": --prior");
    if (o.prior_log_odds) p.prior_log_odds = *o.prior_log_odds;
    if (o.prior_sd) p.prior_sd = *o.prior_sd;
    if (o.lr_instruction) p.lr_instruction = *o.lr_instruction;
    if (o.lr_output) p.lr_output = *o.lr_output;
    if (o.evidence_sd) p.evidence_sd = *o.evidence_sd;
    if (o.output_evidence) p.output_evidence = parse_output_evidence(*o.output_evidence, where + ": --output-evidence");
    if (o.answer) p.answer = parse_answer_rule(*o.answer, where + ": --answer");
    if (o.answers_positive) p.answers_positive = *o.answers_positive;
    if (o.answers_negative) p.answers_negative = *o.answers_negative;
    if (o.gold) p.gold = *o.gold;
  }
}

void select_conditions(SimulationSpec& s, const std::vector<std::string>& names, const std::string& where) {
  std::vector<LatentConceptParams> chosen;
  for (const std::string& n : names) {
    bool found = false;
    for (const LatentConceptParams& p : s.conditions)
      if (p.name == n) {
        chosen.push_back(p);
        found = true;
      }
    if (!found) {
      std::vector<std::string> known;
      for (const LatentConceptParams& p : s.conditions) known.push_back(p.name);
      throw Error(fmt::format("{}: no condition '{}' (the simulation has {})", where, n, fmt::join(known, ", ")));
    }
  }
  s.conditions = std::move(chosen);
}

void validate_simulation_spec(const SimulationSpec& s, const std::string& where) {
  if (s.conditions.empty()) throw Error(where + ": no conditions to simulate");
  if (s.items < 1 || s.items > kMaxItems) throw Error(fmt::format("{}: items = {} (expected 1..{})", where, s.items, kMaxItems));
  if (s.rounds < 1 || s.rounds > kMaxRounds)
    throw Error(fmt::format("{}: rounds = {} (expected 1..{})", where, s.rounds, kMaxRounds));
  if (!(s.predict_stop >= 0.0) || !std::isfinite(s.predict_stop))
    throw Error(fmt::format("{}: predict_stop = {} (expected a finite number >= 0; 0 = off)", where, s.predict_stop));
  std::set<std::string> names;
  for (const LatentConceptParams& p : s.conditions) {
    validate(p, where);
    if (!names.insert(p.name).second) throw Error(fmt::format("{}: condition '{}' is defined twice", where, p.name));
    const LatentConceptParams& first = s.conditions.front();
    if (p.answers_positive.size() != first.answers_positive.size() || p.gold != first.gold)
      throw Error(fmt::format("{}: condition '{}' has {} options and gold {}, condition '{}' {} and {} (the conditions "
                              "share the run's items, so they need the same K and gold)",
                              where, p.name, p.answers_positive.size(), p.gold, first.name,
                              first.answers_positive.size(), first.gold));
  }
}

nlohmann::json to_json(const SimulationSpec& s) {
  nlohmann::json conditions = nlohmann::json::array();
  for (const LatentConceptParams& p : s.conditions) conditions.push_back(to_json(p));
  return {{"file", s.file},
          {"model", "latent-concept"},
          {"items", s.items},
          {"rounds", s.rounds},
          {"seed", s.seed},
          {"predict_stop", s.predict_stop},
          {"conditions", conditions}};
}

}  // namespace isc::sim
