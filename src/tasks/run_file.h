// The run file (runs/*.yaml): which task, model, conditions and limits one experiment uses.
// Every field can be overridden by `isc run` flags; the resolved RunSpec is stored with the run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace isc::tasks {

struct SamplingSpec {
  double temperature = 0.0;  // 0 = greedy
  int top_k = 0;             // 0 = off
  double top_p = 1.0;        // 1 = off
};

// Hidden states to capture in every round (see Backend::TurnRequest).
struct HiddenSpec {
  std::string layers_spec;               // as written: "all", "10,20,30", "1-5,12"; empty = none
  std::vector<int> layers;               // resolved against the model by `isc run`
  std::vector<std::string> positions = {"answer"};  // "answer" and/or "user_end"
};

// A steered condition: `base`'s prompts plus strength × a concept direction in the residual stream.
struct SteerSpec {
  std::string name;                      // the new condition's name
  std::string base;                      // a condition of the task
  std::string direction;                 // direction file (isc concept train) or GGUF control vector
  std::string method = "mean_diff";      // which direction of a direction file
  std::vector<int> layers;               // empty = every layer the file has for the method
  double strength = 0.0;
  std::string positions = "turn";        // "turn" | "generation" (see Backend::TurnRequest)
  std::vector<int> rounds;               // empty = every round
};

// Extra answers sampled per round from the same state as the round's own (sampled uncertainty).
struct SamplesSpec {
  static constexpr int kMax = 64;        // per round; more is almost surely a typo and costs hours
  int n = 0;                             // 0 = none
  double temperature = 1.0;              // the reference study's T = 1
  int top_k = 0;
  double top_p = 1.0;
  int max_new_tokens = 0;                // 0 = the task's for the round
  // How samples are grouped by meaning: "exact" (equal after normalisation) or "judge" (a model
  // decides bidirectional entailment); empty = exact for multiple choice and classification
  // (the parsed option), judge for open generation.
  std::string entailment;
  std::string entailment_model;          // judge model; empty = the run's own model
  std::string entailment_prompt;         // judge prompt file; empty = prompts/entailment.yaml of isc
};

// One share of a run split over processes (`isc run --shard i/N`, or the ranks of `mpirun`):
// conversation k of the run (conditions × items, in that order) belongs to shard k mod count.
struct ShardSpec {
  int index = 0;  // 0-based
  int count = 1;  // 1 = not sharded
};

// The position of a run's conversation of condition `condition` (its place in the run's conditions)
// and item `item` (its place in the run's items): conditions outer, items inner.
inline size_t conversation_index(size_t condition, size_t item, size_t n_items) { return condition * n_items + item; }

// Conversation k (conversation_index) of a run belongs to this shard.
inline bool in_shard(size_t conversation, const ShardSpec& shard) {
  return conversation % static_cast<size_t>(shard.count) == static_cast<size_t>(shard.index);
}

// "i/N" with 0 <= i < N; throws isc::Error "<where>: ..." for anything else.
ShardSpec parse_shard(const std::string& text, const std::string& where);

// How the openai backend reaches its server (backend: openai). The API key itself is never part
// of a run: only the name of the environment variable that holds it.
struct OpenAiSpec {
  std::string api_key_env = "OPENAI_API_KEY";
  int concurrency = 8;                   // requests in flight
  double request_timeout = 600.0;        // seconds per request attempt
  int retries = 5;                       // on 429, 5xx and connection failures
  double retry_backoff = 1.0;            // seconds before the first retry, doubled after each
  std::string chat_template;             // render prompts here with this template; empty = the server's
  bool sampler_extras = true;            // send top_k/min_p/repeat_penalty (non-standard) explicitly
};

struct RunSpec {
  std::string file;                      // the run file (empty when built from flags only)
  std::string task;                      // task file; resolved like data paths when it exists
  std::string model;                     // model file/folder; resolved when it exists, else as written
  std::string backend = "embedded";      // embedded | openai
  std::string backend_url;               // openai: base URL of the server
  OpenAiSpec openai;                     // openai: the rest of how to talk to it
  std::vector<std::string> conditions;   // empty = every condition of the task
  int rounds = 0;                        // 0 = the task's rounds
  int64_t limit = 0;                     // 0 = all items
  std::vector<std::string> categories;   // empty = all
  uint64_t seed = 0;                     // sampling RNG, and item order when shuffle is on
  bool shuffle = false;                  // shuffle items with `seed` before taking `limit`
  SamplingSpec sampling;
  int max_batch = 0;                     // 0 = the backend's default
  std::string out;                       // results store path (as written; relative to the working directory)
  int early_stop_k = 0;                  // 0 = off; else stop a conversation whose answer held for k rounds
  // 0 = off; else stop a conversation once its predicted remaining change (metrics/predicted_change.h)
  // is below this: the state is the option distribution, or the score for tasks without options.
  double predict_stop = 0.0;
  bool skip_bad_lines = false;
  HiddenSpec hidden;
  std::vector<SteerSpec> steer;
  SamplesSpec samples;
  ShardSpec shard;                       // not a run-file field: set per process by --shard or mpirun
};

// "all" (0..n_layers), or a comma list of layers and ranges "a-b"; each in 0..n_layers. Throws
// isc::Error "<where>: ..." for anything else.
std::vector<int> parse_layer_list(const std::string& text, int n_layers, const std::string& where);

// Throws isc::Error "file:line:col: ..." for syntax errors, unknown keys, wrong types and values
// out of range (rounds < 0, temperature < 0, top_p outside (0, 1], ...). `task` is required.
RunSpec load_run_file(const std::string& path);

// Range checks shared by the file reader and the CLI after flags are applied; throws isc::Error
// "<where>: ..." on the first bad value.
void validate_run_spec(const RunSpec& spec, const std::string& where);

nlohmann::json to_json(const RunSpec& spec);
// The inverse of to_json (for `isc resume`, which reads the spec back from the store).
RunSpec run_spec_from_json(const nlohmann::json& j);

}  // namespace isc::tasks
