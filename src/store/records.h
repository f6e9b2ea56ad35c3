// The rows an experiment writes: a run (its configuration and provenance), its items, and one
// RoundRecord per (condition, item, round). The store persists them; metrics and reports read them.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace isc {

struct RunRecord {
  std::string run_id;           // unique, e.g. "bbq-20261125-203011-ab12"
  std::string task;             // task name
  nlohmann::json config;        // the full resolved run configuration (run file + flags)
  std::string model;            // model path or name
  std::string model_sha256;
  std::string engine_version;
  std::vector<std::string> conditions;
  int rounds = 0;
  std::string started_at;       // ISO-8601 UTC
  std::string finished_at;      // empty while running
  std::string status;           // "running", "finished", "failed"
  double wall_seconds = 0.0;    // sum over sessions (a resumed run adds up)
  int64_t generated_tokens = 0;
  int64_t prefilled_tokens = 0;
};

struct ItemRecord {
  std::string item_id;          // stable id from the dataset
  int64_t index = 0;            // position in the run's item list
  std::string category;         // e.g. BBQ category; empty if none
  std::vector<std::string> options;  // answer options (multiple choice), empty for open generation
  int gold = -1;                // gold option index, -1 if none
  nlohmann::json fields;        // everything else of the item (context, question, metadata)
};

struct TokenRecord {
  int32_t id = 0;
  std::string text;
  float logprob = 0.0f;
  std::vector<std::pair<std::string, float>> top;  // alternatives (text, logprob)
};

// A hidden state captured during a run (the residual stream after a layer at one position of a
// round's prompt). Stored compactly (fp16 when every |v| < 65504, else fp32) beside its round.
struct HiddenStateRecord {
  std::string condition;
  std::string item_id;
  int round = 0;
  std::string position;        // "answer": the last prompt token (after the pre-fill; where the answer
                               // is read) | "user_end": the last token of the user turn's text
  int layer = 0;               // 0 = token embeddings, l = output of block l (1..n_layers)
  std::vector<float> values;   // [dim]
};

// One stored hidden state scored against a concept direction (`isc concept score`).
struct ItemProbeRecord {
  std::string condition;
  std::string item_id;
  int round = 0;
  std::string position;
  int layer = 0;
  std::string name;                   // "<concept>/<method>", e.g. "bias/mean_diff"
  double cosine = 0.0;                // cos(h, direction): the reference's concept score
  std::optional<double> probability;  // P(positive pole | h) where the method has a probe
};

// An extra answer sampled in a round from the same state as the round's own answer (it does not
// enter the conversation): the material of sampled uncertainty (semantic entropy and kin).
struct SampleRecord {
  std::string condition;
  std::string item_id;
  int round = 0;
  int sample = 0;                      // 1..N within the round
  uint64_t seed = 0;                   // the sampler's seed (from run seed, condition, item, round, sample)
  std::string generated_text;
  std::vector<TokenRecord> tokens;     // with the model's log-probability (temperature 1) of each
  std::string finish_reason;
  std::string parsed_answer;           // as the round's own answer is parsed
  int answer_index = -1;               // option index (multiple choice), -1 if none
  std::optional<double> score;         // task score where the task scores per answer (toxicity)
  int cluster = -1;                    // meaning class within the round (0-based), -1 = not clustered
};

// A cached entailment decision of a judge: does `premise` entail `hypothesis` (in the context of
// `context`, e.g. the question)? Keyed by the judge's identity, so another judge never reuses it.
struct EntailmentRecord {
  std::string judge;      // judge model sha256 + prompt file sha256
  std::string context;
  std::string premise;
  std::string hypothesis;
  std::string label;      // "entailment" | "neutral" | "contradiction"
  std::vector<double> label_probs;  // normalised over the labels, in the prompt file's order
};

struct RoundRecord {
  std::string condition;
  std::string item_id;
  int round = 0;                       // 1-based
  std::string user_message;            // the user turn of this round
  std::string assistant_prefill;
  std::vector<int32_t> prompt_tokens;  // tokens added to the conversation this round
  std::string generated_text;
  std::vector<TokenRecord> tokens;
  std::string finish_reason;
  std::string parsed_answer;           // as parsed (option label, text, or open completion)
  int answer_index = -1;               // option index, -1 if none / not applicable
  std::vector<double> option_probs;    // normalised over options at the answer position
  std::optional<bool> correct;
  std::optional<double> score;         // task score (e.g. toxicity, neutral-pronoun indicator)
  nlohmann::json extra;                // probe scores, hidden-state summaries, scorer details
  double seconds = 0.0;
  int64_t context_tokens = 0;
  // Written with the round in the same transaction; not read back by Store::rounds (see
  // Store::hidden_states), so metrics never pay for them.
  std::vector<HiddenStateRecord> hidden;
  // Likewise written with the round, read by Store::samples.
  std::vector<SampleRecord> samples;
};

// A cached per-round metric (recomputable from the rounds). round 0 means "the whole run" (e.g. the
// convergence round); condition "" means "all conditions"; name may carry a scope, e.g.
// "accuracy/category=Age".
struct MetricRecord {
  std::string condition;
  int round = 0;
  std::string name;
  nlohmann::json value;
};

// A concept-probe result for one (condition, round, layer); per-item scores go in RoundRecord::extra.
struct ProbeRecord {
  std::string condition;
  int round = 0;
  int layer = 0;
  std::string name;
  nlohmann::json value;
};

}  // namespace isc
