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

struct RunSpec {
  std::string file;                      // the run file (empty when built from flags only)
  std::string task;                      // task file; resolved like data paths when it exists
  std::string model;                     // model file/folder; resolved when it exists, else as written
  std::string backend = "embedded";      // embedded | openai
  std::string backend_url;               // openai: base URL of the server
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
  bool skip_bad_lines = false;
};

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
