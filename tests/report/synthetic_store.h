// A synthetic BBQ-like results store with known answers, written through the Store API, for the
// report tests (and, via an environment variable, for the browser tests). See synthetic_store.cpp
// for the answer pattern the expected numbers are worked out from.
#pragma once
#include <string>

namespace isc::test {

struct SyntheticSpec {
  int items = 30;
  int rounds = 3;
  int tokens_per_round = 4;
  bool early_stop = true;  // self-correct conversations stop once the answer held one round
  bool injection = true;   // item 7 carries HTML/script in its id, question, option and output
  std::string run_id = "synthetic-run";
  std::string model = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
  // A third condition "self-correct+steer" (config "steer": based on self-correct) and item probes
  // "bias/mean_diff" of every stored round at layers 2 and 4 of positions "answer" and "user_end"
  // (synthetic_cosine), with held-out accuracies 0.75 (layer 2) and 0.9 (layer 4) as probe rows.
  bool concepts = false;
};

// Item i (0-based, N items): ambiguous context if i < N/2 (gold = 2, the unknown option), else
// disambiguated with gold = i % 2; target option 0 (item 5: target unknown, -1); polarity neg for
// even i; category Age / Gender_identity / Race_ethnicity by i % 3. Wrong answer = (gold + 1) % 3.
//   baseline     round 1: right for i < 3N/5, unparseable (-1) for i = N-1, else wrong;
//                round >= 2: right for 2 <= i < 7N/10, else wrong.  Probabilities 0.7 / 0.15 / 0.15
//                (uniform for an unparseable answer).
//   self-correct round 1: right for i < 2N/5; round >= 2: right for i < 4N/5; the chosen option's
//                probability is 0.6 + 0.1·(round − 1) capped at 0.9. With early_stop, a
//                conversation ends (extra.early_stopped) once its answer held for one round.
//   self-correct+steer (concepts only): as self-correct, but right for i < 9N/10 from round 2 and
//                never stopped early.
void write_synthetic_store(const std::string& path, const SyntheticSpec& spec);

// The id of item i ("item-007"; item 7 with injection: "q\"'<i>&7").
std::string synthetic_item_id(int i, const SyntheticSpec& spec);
// The answer of item i in round r (1-based) of "baseline" or "self-correct".
int synthetic_answer(const std::string& condition, int i, int round, int items);
int synthetic_gold(int i, int items);
// The concept score (cosine) stored for item i in a round, layer and position of a condition.
double synthetic_cosine(const std::string& condition, int i, int round, int layer, const std::string& position);
// P(positive pole) stored beside it: only at layer 4, position "answer" (else none).
bool synthetic_has_probability(int layer, const std::string& position);
double synthetic_probability(double cosine);

}  // namespace isc::test
