// Run-file reader (see run_file.h): strict keys, typed values with "file:line:col" errors, and
// paths of the task and model resolved against the run file like task files resolve data.
#include "tasks/run_file.h"

#include <fmt/format.h>

#include "common/error.h"
#include "tasks/data_path.h"
#include "tasks/yaml_fields.h"

namespace isc::tasks {

namespace {

template <typename T>
T ranged(const YamlMap& m, const std::string& key, T fallback, long long lo, long long hi) {
  auto v = m.integer(key);
  if (!v) return fallback;
  if (*v < lo || *v > hi) throw Error(fmt::format("{}: expected '{}' in {}..{}", m.position_of(key), key, lo, hi));
  return static_cast<T>(*v);
}

}  // namespace

void validate_run_spec(const RunSpec& s, const std::string& where) {
  auto fail = [&](const std::string& what) { throw Error(where + ": " + what); };
  if (s.task.empty()) fail("no task file given");
  if (s.backend != "embedded" && s.backend != "openai") fail("backend '" + s.backend + "' (expected embedded or openai)");
  if (s.backend == "openai" && s.backend_url.empty()) fail("the openai backend needs backend_url");
  if (s.rounds < 0) fail("rounds must be >= 0 (0 = the task's rounds)");
  if (s.limit < 0) fail("limit must be >= 0 (0 = all items)");
  if (!(s.sampling.temperature >= 0)) fail("temperature must be >= 0");
  if (s.sampling.top_k < 0) fail("top_k must be >= 0");
  if (!(s.sampling.top_p > 0 && s.sampling.top_p <= 1)) fail("top_p must be in (0, 1]");
  if (s.max_batch < 0) fail("max_batch must be >= 0");
  if (s.early_stop_k < 0) fail("early_stop_k must be >= 0");
}

RunSpec load_run_file(const std::string& path) {
  const YamlMap m(path, load_yaml_file(path), "a run file");
  m.allow_only({"task", "model", "backend", "backend_url", "conditions", "rounds", "limit", "categories", "seed",
                "shuffle", "sampling", "max_batch", "out", "early_stop_k", "skip_bad_lines"});
  RunSpec s;
  s.file = path;
  const std::string task = m.required_string("task");
  const std::string found_task = find_path(path, task);
  if (found_task.empty()) throw Error(m.position_of("task") + ": task file '" + task + "' not found");
  s.task = found_task;
  if (auto v = m.string("model")) {
    const std::string found = find_path(path, *v);
    s.model = found.empty() ? *v : found;  // a model may be fetched later; its absence is the runner's error
  }
  s.backend = m.string("backend").value_or(s.backend);
  s.backend_url = m.string("backend_url").value_or("");
  s.conditions = m.string_list("conditions").value_or(std::vector<std::string>{});
  s.rounds = ranged<int>(m, "rounds", 0, 0, 10000);
  s.limit = ranged<int64_t>(m, "limit", 0, 0, 1LL << 40);
  s.categories = m.string_list("categories").value_or(std::vector<std::string>{});
  if (auto v = m.integer("seed")) {
    if (*v < 0) throw Error(m.position_of("seed") + ": expected a non-negative integer for 'seed'");
    s.seed = static_cast<uint64_t>(*v);
  }
  s.shuffle = m.boolean("shuffle").value_or(false);
  if (auto sm = m.map("sampling")) {
    sm->allow_only({"temperature", "top_k", "top_p"});
    s.sampling.temperature = sm->number("temperature").value_or(0.0);
    s.sampling.top_k = ranged<int>(*sm, "top_k", 0, 0, 1 << 20);
    s.sampling.top_p = sm->number("top_p").value_or(1.0);
    if (s.sampling.temperature < 0) throw Error(sm->position_of("temperature") + ": expected 'temperature' >= 0");
    if (!(s.sampling.top_p > 0 && s.sampling.top_p <= 1)) throw Error(sm->position_of("top_p") + ": expected 'top_p' in (0, 1]");
  }
  s.max_batch = ranged<int>(m, "max_batch", 0, 0, 1 << 20);
  s.out = m.string("out").value_or("");
  s.early_stop_k = ranged<int>(m, "early_stop_k", 0, 0, 10000);
  s.skip_bad_lines = m.boolean("skip_bad_lines").value_or(false);
  validate_run_spec(s, m.position());
  return s;
}

nlohmann::json to_json(const RunSpec& s) {
  return {{"file", s.file},
          {"task", s.task},
          {"model", s.model},
          {"backend", s.backend},
          {"backend_url", s.backend_url},
          {"conditions", s.conditions},
          {"rounds", s.rounds},
          {"limit", s.limit},
          {"categories", s.categories},
          {"seed", s.seed},
          {"shuffle", s.shuffle},
          {"sampling", {{"temperature", s.sampling.temperature}, {"top_k", s.sampling.top_k}, {"top_p", s.sampling.top_p}}},
          {"max_batch", s.max_batch},
          {"out", s.out},
          {"early_stop_k", s.early_stop_k},
          {"skip_bad_lines", s.skip_bad_lines}};
}

RunSpec run_spec_from_json(const nlohmann::json& j) {
  RunSpec s;
  try {
    s.file = j.at("file").get<std::string>();
    s.task = j.at("task").get<std::string>();
    s.model = j.at("model").get<std::string>();
    s.backend = j.at("backend").get<std::string>();
    s.backend_url = j.at("backend_url").get<std::string>();
    s.conditions = j.at("conditions").get<std::vector<std::string>>();
    s.rounds = j.at("rounds").get<int>();
    s.limit = j.at("limit").get<int64_t>();
    s.categories = j.at("categories").get<std::vector<std::string>>();
    s.seed = j.at("seed").get<uint64_t>();
    s.shuffle = j.at("shuffle").get<bool>();
    s.sampling.temperature = j.at("sampling").at("temperature").get<double>();
    s.sampling.top_k = j.at("sampling").at("top_k").get<int>();
    s.sampling.top_p = j.at("sampling").at("top_p").get<double>();
    s.max_batch = j.at("max_batch").get<int>();
    s.out = j.at("out").get<std::string>();
    s.early_stop_k = j.at("early_stop_k").get<int>();
    s.skip_bad_lines = j.at("skip_bad_lines").get<bool>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("stored run configuration: ") + e.what());
  }
  return s;
}

}  // namespace isc::tasks
