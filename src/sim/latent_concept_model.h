// The study's latent-concept model of self-correction (Liu et al. 2024) as a generative simulation:
// a binary concept C ∈ {C_p, C_n} whose posterior drives the answer distribution, round after round.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace isc::sim {

// How the model's own previous output counts as evidence for the concept.
enum class OutputEvidence {
  Fixed,   // a constant likelihood ratio LR_y per earlier output (the paper's assumption)
  Answer,  // the realised answer's log p(y|C_p)/p(y|C_n) under the per-concept answer distributions
};

// How a round's answer is chosen from its predictive distribution.
enum class AnswerRule {
  Sample,  // drawn from π_t (seeded per condition, item and round)
  Argmax,  // the most probable option (ties: the lowest index)
};

// The parameters of one experimental condition. Round t (1-based) has seen the instruction t times
// and its own earlier outputs t−1 times, so in odds form
//   log O_t = log O_0 + t·log LR_i + (t−1)·log LR_y  (+ noise),  O = p(C_p|q) / p(C_n|q).
struct LatentConceptParams {
  std::string name;                 // the condition's name
  double prior_log_odds = 0.0;      // logit p(C_p | q_0)
  double prior_sd = 0.0;            // per-conversation spread of log O_0
  double lr_instruction = 1.0;      // LR_i = p(instruction|C_p) / p(instruction|C_n)
  double lr_output = 1.0;           // LR_y, used when output_evidence is Fixed
  double evidence_sd = 0.0;         // per-(conversation, round) noise on the round's log-evidence
  OutputEvidence output_evidence = OutputEvidence::Fixed;
  std::vector<double> answers_positive;  // p(y | C_p) over the K options
  std::vector<double> answers_negative;  // p(y | C_n)
  int gold = 0;                     // the correct option
  AnswerRule answer = AnswerRule::Sample;
};

// Limits the validation enforces (and kMaxRounds the simulation); a likelihood ratio beyond them makes every posterior 0 or 1 in
// one round, which says nothing and overflows the paper's formula.
inline constexpr double kMaxAbsLogOdds = 50.0;
inline constexpr double kMaxLikelihoodRatio = 1e6;
inline constexpr double kMaxSd = 20.0;
inline constexpr int kMaxOptions = 26;  // option labels A..Z
inline constexpr int kMaxRounds = 10000;

// Throws isc::Error "<where>: condition '<name>': <field> ... (expected ...)" on the first bad
// field: empty name, log-odds not finite or |.| > 50, sd outside [0, 20], LR outside (0, 1e6],
// answer distributions of different sizes, K outside 2..26, entries negative or not summing to 1
// (within 1e-9), gold outside 0..K−1, and, with Answer evidence, an option with probability 0 under
// one concept but not the other (its evidence would be infinite).
void validate(const LatentConceptParams& params, const std::string& where);

double logistic(double log_odds);       // σ(x), stable for large |x|
double logit(double probability);       // log(p / (1 − p))

// Noise-free, Fixed output evidence: log O_t = prior_log_odds + t·log LR_i + (t−1)·log LR_y.
// The simulation computes the same expression, so with no noise both agree bit for bit.
double closed_form_log_odds(const LatentConceptParams& params, double prior_log_odds, int round);
double closed_form_posterior(const LatentConceptParams& params, int round);

// log σ(x), finite for every finite x (σ(x) itself underflows to 0 below x ≈ −745).
double log_logistic(double log_odds);

// The paper's p(C_p|q_t) = c^{t−1}·p_1 with c = p_2/p_1 held fixed, from the log-odds of rounds 1
// and 2: equal to the correct posterior at rounds 1 and 2, and not clipped, so it exceeds 1 once
// c > 1 has been applied often enough. Its log is always finite; the value may overflow to +inf.
double log_paper_posterior(double log_odds_1, double log_odds_2, int round);
double paper_posterior(double log_odds_1, double log_odds_2, int round);
// The noise-free closed form of the paper's formula for a condition (Fixed output evidence).
double closed_form_paper_posterior(const LatentConceptParams& params, int round);
// The first round in 1..max_round where closed_form_paper_posterior > 1; nullopt if none.
std::optional<int> closed_form_paper_exceeds_one(const LatentConceptParams& params, int max_round);

// π_t = p·answers_positive + (1 − p)·answers_negative.
std::vector<double> predictive_distribution(const LatentConceptParams& params, double posterior);

// log p(y|C_p) − log p(y|C_n) of option y (0 when both are 0: such an answer is never drawn).
double answer_log_evidence(const LatentConceptParams& params, int option);

// One round of one simulated conversation.
struct SimulatedRound {
  int round = 0;                         // 1-based
  double log_odds = 0.0;                 // log O_t
  double posterior = 0.0;                // p(C_p | q_t), the correct model
  double posterior_paper = 0.0;          // the paper's formula for this conversation (may be +inf)
  double log_posterior_paper = 0.0;      // its log, always finite
  std::vector<double> predictive;        // π_t
  double entropy = 0.0;                  // H(π_t), nats
  int answer = 0;                        // option index
  bool correct = false;
};

struct SimulatedConversation {
  std::string item_id;
  std::vector<SimulatedRound> rounds;    // 1..T
};

// One conversation of T rounds. Its random numbers come from (seed, condition name, item id,
// round) alone, so it is the same whatever other conversations are simulated or in which order.
// The paper value uses the conversation's own first step, c = p_2/p_1 (its round-2 posterior is
// computed even when T = 1 is all that is kept).
SimulatedConversation simulate_conversation(const LatentConceptParams& params, uint64_t seed,
                                            const std::string& item_id, int rounds);

// The item id of conversation `index` of a simulation: "sim-000001", ... (1-based, 6 digits).
std::string simulated_item_id(int64_t index);

// N conversations of one condition, item ids simulated_item_id(0..N−1). Validates params
// ("<where>: ...") and rounds >= 1, items >= 1.
std::vector<SimulatedConversation> simulate_condition(const LatentConceptParams& params, uint64_t seed,
                                                      int64_t items, int rounds, const std::string& where);

std::string to_string(OutputEvidence e);  // "fixed" | "answer"
std::string to_string(AnswerRule r);      // "sample" | "argmax"
// Throws isc::Error "<where>: ..." naming the accepted values.
OutputEvidence parse_output_evidence(const std::string& text, const std::string& where);
AnswerRule parse_answer_rule(const std::string& text, const std::string& where);

nlohmann::json to_json(const LatentConceptParams& params);

}  // namespace isc::sim
