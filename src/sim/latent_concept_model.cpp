// The latent-concept model (see latent_concept_model.h): validation, closed forms, the paper's
// formula, and the seeded simulation of conversations.
#include "sim/latent_concept_model.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

#include <fmt/format.h>

#include "common/error.h"
#include "metrics/entropy.h"
#include "protocol/round_seed.h"
#include "store/utf8.h"  // header-only and torch-free: the project's one seed derivation

namespace isc::sim {

namespace {

constexpr double kSumTolerance = 1e-9;

// A round's random numbers: a standard normal (the evidence noise) and a uniform (the answer draw),
// taken in this order from one generator seeded per (seed, condition, item, round).
class RoundRandom {
 public:
  RoundRandom(uint64_t seed, const std::string& condition, const std::string& item_id, int round)
      : gen_(protocol::turn_seed(seed, condition, item_id, round)) {}

  // [0, 1) with 53 random bits; written out rather than std::uniform_real_distribution, whose
  // output is not fixed by the standard, so stores are the same on every standard library.
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1p-53; }

  // Box–Muller; u1 in (0, 1] keeps the log finite.
  double normal() {
    const double u1 = static_cast<double>((gen_() >> 11) + 1) * 0x1p-53;
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  std::mt19937_64 gen_;
};

void check_distribution_field(const std::vector<double>& p, const std::string& field, const std::string& at) {
  double sum = 0.0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (!std::isfinite(p[k]) || p[k] < 0.0 || p[k] > 1.0)
      throw Error(fmt::format("{}: {}[{}] = {} (expected a probability in [0, 1])", at, field, k, p[k]));
    sum += p[k];
  }
  if (std::fabs(sum - 1.0) > kSumTolerance)
    throw Error(fmt::format("{}: {} sums to {:.12g} (expected 1)", at, field, sum));
}

int draw_answer(const std::vector<double>& predictive, AnswerRule rule, double u) {
  if (rule == AnswerRule::Argmax)
    return static_cast<int>(std::max_element(predictive.begin(), predictive.end()) - predictive.begin());
  double cumulative = 0.0;
  int last_possible = 0;
  for (std::size_t k = 0; k < predictive.size(); ++k) {
    if (predictive[k] <= 0.0) continue;
    last_possible = static_cast<int>(k);
    cumulative += predictive[k];
    if (u < cumulative) return last_possible;
  }
  return last_possible;  // u beyond the rounded total: the last option that can occur
}

}  // namespace

void validate(const LatentConceptParams& p, const std::string& where) {
  const std::string at = fmt::format("{}: condition '{}'", where, p.name);
  if (p.name.empty()) throw Error(where + ": a condition has no name");
  // the name goes into the store's JSON columns, which hold UTF-8 only
  if (!is_valid_utf8(p.name)) throw Error(fmt::format("{}: condition name '{}' is not valid UTF-8", where, utf8_lossy(p.name)));
  if (!std::isfinite(p.prior_log_odds) || std::fabs(p.prior_log_odds) > kMaxAbsLogOdds)
    throw Error(fmt::format("{}: prior log-odds {} (expected a finite value in [-{}, {}], i.e. prior in about "
                            "[2e-22, 1 - 2e-22])",
                            at, p.prior_log_odds, kMaxAbsLogOdds, kMaxAbsLogOdds));
  auto sd = [&](double v, const char* field) {
    if (!std::isfinite(v) || v < 0.0 || v > kMaxSd)
      throw Error(fmt::format("{}: {} = {} (expected a standard deviation in [0, {}])", at, field, v, kMaxSd));
  };
  sd(p.prior_sd, "prior_sd");
  sd(p.evidence_sd, "evidence_sd");
  auto ratio = [&](double v, const char* field) {
    if (!std::isfinite(v) || v < 1.0 / kMaxLikelihoodRatio || v > kMaxLikelihoodRatio)
      throw Error(fmt::format("{}: {} = {} (expected a likelihood ratio in [1e-6, 1e6]; 1 = no evidence)", at, field, v));
  };
  ratio(p.lr_instruction, "lr_instruction");
  ratio(p.lr_output, "lr_output");
  if (p.output_evidence == OutputEvidence::Answer && p.lr_output != 1.0)
    throw Error(fmt::format("{}: lr_output = {} is not used with output_evidence answer (the answer's own evidence "
                            "replaces it); leave it out or set it to 1",
                            at, p.lr_output));
  const std::size_t k = p.answers_positive.size();
  if (k < 2 || static_cast<int>(k) > kMaxOptions)
    throw Error(fmt::format("{}: answers_positive has {} options (expected 2..{})", at, k, kMaxOptions));
  if (p.answers_negative.size() != k)
    throw Error(fmt::format("{}: answers_negative has {} options, answers_positive {} (expected the same K)", at,
                            p.answers_negative.size(), k));
  check_distribution_field(p.answers_positive, "answers_positive", at);
  check_distribution_field(p.answers_negative, "answers_negative", at);
  if (p.gold < 0 || p.gold >= static_cast<int>(k))
    throw Error(fmt::format("{}: gold = {} (expected an option index in 0..{})", at, p.gold, k - 1));
  if (p.output_evidence == OutputEvidence::Answer)
    for (std::size_t i = 0; i < k; ++i)
      if ((p.answers_positive[i] == 0.0) != (p.answers_negative[i] == 0.0))
        throw Error(fmt::format("{}: option {} has probability 0 under one concept only, so with output_evidence "
                                "answer its evidence would be infinite (expected both 0 or both > 0)",
                                at, i));
}

double logistic(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

double logit(double p) { return std::log(p) - std::log1p(-p); }

double log_logistic(double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }

double closed_form_log_odds(const LatentConceptParams& p, double prior_log_odds, int round) {
  if (p.output_evidence != OutputEvidence::Fixed)
    throw Error(fmt::format("condition '{}': the closed form needs output_evidence fixed", p.name));
  return prior_log_odds + round * std::log(p.lr_instruction) + (round - 1) * std::log(p.lr_output);
}

double closed_form_posterior(const LatentConceptParams& p, int round) {
  return logistic(closed_form_log_odds(p, p.prior_log_odds, round));
}

double log_paper_posterior(double log_odds_1, double log_odds_2, int round) {
  const double log_p1 = log_logistic(log_odds_1);
  return log_p1 + (round - 1) * (log_logistic(log_odds_2) - log_p1);
}

double paper_posterior(double log_odds_1, double log_odds_2, int round) {
  if (round == 1) return logistic(log_odds_1);  // exactly p_1, not exp(log p_1)
  if (round == 2) return logistic(log_odds_2);  // c·p_1 = p_2
  return std::exp(log_paper_posterior(log_odds_1, log_odds_2, round));
}

double closed_form_paper_posterior(const LatentConceptParams& p, int round) {
  return paper_posterior(closed_form_log_odds(p, p.prior_log_odds, 1), closed_form_log_odds(p, p.prior_log_odds, 2),
                         round);
}

std::optional<int> closed_form_paper_exceeds_one(const LatentConceptParams& p, int max_round) {
  const double lo1 = closed_form_log_odds(p, p.prior_log_odds, 1), lo2 = closed_form_log_odds(p, p.prior_log_odds, 2);
  for (int t = 1; t <= max_round; ++t)
    if (log_paper_posterior(lo1, lo2, t) > 0.0 && paper_posterior(lo1, lo2, t) > 1.0) return t;
  return std::nullopt;
}

std::vector<double> predictive_distribution(const LatentConceptParams& p, double posterior) {
  std::vector<double> out(p.answers_positive.size());
  for (std::size_t k = 0; k < out.size(); ++k)
    out[k] = posterior * p.answers_positive[k] + (1.0 - posterior) * p.answers_negative[k];
  return out;
}

double answer_log_evidence(const LatentConceptParams& p, int option) {
  const double a = p.answers_positive.at(option), b = p.answers_negative.at(option);
  if (a == 0.0 && b == 0.0) return 0.0;
  return std::log(a) - std::log(b);
}

SimulatedConversation simulate_conversation(const LatentConceptParams& p, uint64_t seed, const std::string& item_id,
                                            int rounds) {
  SimulatedConversation c;
  c.item_id = item_id;
  RoundRandom prior_random(seed, p.name, item_id, 0);
  const double prior_log_odds = p.prior_log_odds + p.prior_sd * prior_random.normal();
  double noise_sum = 0.0, answer_evidence_sum = 0.0;
  // Round 2 is simulated even for T = 1: the paper's ratio c = p_2/p_1 needs it.
  const int simulated = std::max(rounds, 2);
  std::vector<SimulatedRound> all;
  all.reserve(simulated);
  for (int t = 1; t <= simulated; ++t) {
    RoundRandom random(seed, p.name, item_id, t);
    noise_sum += p.evidence_sd * random.normal();
    SimulatedRound r;
    r.round = t;
    // Fixed evidence uses the closed-form expression itself, so noise-free runs equal it exactly.
    r.log_odds = p.output_evidence == OutputEvidence::Fixed
                     ? closed_form_log_odds(p, prior_log_odds, t) + noise_sum
                     : prior_log_odds + t * std::log(p.lr_instruction) + answer_evidence_sum + noise_sum;
    r.posterior = logistic(r.log_odds);
    r.predictive = predictive_distribution(p, r.posterior);
    r.entropy = metrics::entropy_nats(r.predictive);
    r.answer = draw_answer(r.predictive, p.answer, random.uniform());
    r.correct = r.answer == p.gold;
    answer_evidence_sum += answer_log_evidence(p, r.answer);
    all.push_back(std::move(r));
  }
  for (SimulatedRound& r : all) {
    r.log_posterior_paper = log_paper_posterior(all[0].log_odds, all[1].log_odds, r.round);
    r.posterior_paper = paper_posterior(all[0].log_odds, all[1].log_odds, r.round);
  }
  all.resize(rounds);
  c.rounds = std::move(all);
  return c;
}

std::string simulated_item_id(int64_t index) { return fmt::format("sim-{:06d}", index + 1); }

std::vector<SimulatedConversation> simulate_condition(const LatentConceptParams& p, uint64_t seed, int64_t items,
                                                      int rounds, const std::string& where) {
  validate(p, where);
  if (rounds < 1 || rounds > kMaxRounds)
    throw Error(fmt::format("{}: rounds = {} (expected 1..{})", where, rounds, kMaxRounds));
  if (items < 1) throw Error(fmt::format("{}: items = {} (expected >= 1)", where, items));
  std::vector<SimulatedConversation> out;
  out.reserve(static_cast<std::size_t>(items));
  for (int64_t i = 0; i < items; ++i) out.push_back(simulate_conversation(p, seed, simulated_item_id(i), rounds));
  return out;
}

std::string to_string(OutputEvidence e) { return e == OutputEvidence::Fixed ? "fixed" : "answer"; }
std::string to_string(AnswerRule r) { return r == AnswerRule::Sample ? "sample" : "argmax"; }

OutputEvidence parse_output_evidence(const std::string& text, const std::string& where) {
  if (text == "fixed") return OutputEvidence::Fixed;
  if (text == "answer") return OutputEvidence::Answer;
  throw Error(fmt::format("{}: output_evidence '{}' (expected fixed or answer)", where, text));
}

AnswerRule parse_answer_rule(const std::string& text, const std::string& where) {
  if (text == "sample") return AnswerRule::Sample;
  if (text == "argmax") return AnswerRule::Argmax;
  throw Error(fmt::format("{}: answer '{}' (expected sample or argmax)", where, text));
}

nlohmann::json to_json(const LatentConceptParams& p) {
  return {{"name", p.name},
          {"prior", logistic(p.prior_log_odds)},
          {"prior_log_odds", p.prior_log_odds},
          {"prior_sd", p.prior_sd},
          {"lr_instruction", p.lr_instruction},
          {"lr_output", p.lr_output},
          {"evidence_sd", p.evidence_sd},
          {"output_evidence", to_string(p.output_evidence)},
          {"answers_positive", p.answers_positive},
          {"answers_negative", p.answers_negative},
          {"gold", p.gold},
          {"answer", to_string(p.answer)}};
}

}  // namespace isc::sim
