// Creating and re-opening experiments. The stored config carries the run spec, the task file's
// hash and text, so a resumed run can prove it continues the same experiment.
#include "protocol/experiment.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/chrono.h>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "common/sha256.h"
#include "tasks/item_loader.h"
#include "tasks/task_file.h"

namespace isc::protocol {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string new_run_id(const std::string& task) {
  std::random_device rd;
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  return fmt::format("{}-{:%Y%m%d-%H%M%S}-{:04x}", task, fmt::gmtime(t), rd() & 0xffff);
}

}  // namespace

std::string utc_now() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

void add_steered_conditions(Experiment& e) {
  for (const tasks::SteerSpec& st : e.run.steer) {
    for (const auto& c : e.task.conditions)
      if (c.name == st.name)
        throw Error(fmt::format("{}: steered condition '{}' has the name of a condition of the task", e.task.file, st.name));
    tasks::Condition c = e.task.condition(st.base);  // throws for an unknown base
    c.name = st.name;
    e.task.conditions.push_back(std::move(c));
    if (std::find(e.run.conditions.begin(), e.run.conditions.end(), st.name) == e.run.conditions.end())
      e.run.conditions.push_back(st.name);
  }
}

Experiment prepare_experiment(const tasks::RunSpec& spec) {
  Experiment e;
  e.run = spec;
  e.task = tasks::load_task_file(spec.task);
  if (e.run.conditions.empty())
    for (const auto& c : e.task.conditions) e.run.conditions.push_back(c.name);
  add_steered_conditions(e);
  for (const auto& c : e.run.conditions) e.task.condition(c);  // throws for unknown names
  if (e.run.rounds <= 0) e.run.rounds = e.task.rounds;
  // --predict-stop follows the option distribution, or the score of tasks without options.
  if (e.run.predict_stop > 0.0 && e.task.kind == tasks::TaskKind::open_generation &&
      (e.task.scorer.empty() || e.task.scorer == "none" || e.task.scorer == "accuracy"))
    throw Error(fmt::format("{}: predict_stop needs option probabilities or a per-answer score, and this task "
                            "has neither (no options, scorer '{}')", e.task.file, e.task.scorer));
  tasks::LoadOptions lo;
  lo.limit = spec.limit;
  lo.categories = spec.categories;
  lo.skip_bad_lines = spec.skip_bad_lines;
  if (spec.shuffle) lo.shuffle_seed = spec.seed;
  tasks::LoadedItems loaded = tasks::load_items(e.task, lo);
  e.items = std::move(loaded.items);
  e.skipped_lines = loaded.skipped_lines;
  for (const auto& msg : loaded.skipped) fmt::print(stderr, "isc: skipped bad line: {}\n", msg);
  return e;
}

nlohmann::json unsharded_config(nlohmann::json config) {
  if (config.contains("run") && config["run"].is_object()) config["run"].erase("shard");
  return config;
}

std::string sharded_run_id(const Experiment& e, const nlohmann::json& config, const BackendInfo& backend) {
  const std::string identity = unsharded_config(config).dump() + '\n' + backend.model_sha256;
  return fmt::format("{}-{}shards-{}", e.task.name, e.run.shard.count,
                     sha256_hex(identity.data(), identity.size()).substr(0, 12));
}

std::string record_experiment(Store& store, Experiment& e, const BackendInfo& backend) {
  RunRecord r;
  r.task = e.task.name;
  r.config = {{"run", tasks::to_json(e.run)},
              {"task_file", e.task.file},
              {"task_sha256", sha256_of_path(e.task.file)},
              {"task_text", read_text(e.task.file)},
              {"backend", backend.name},
              {"skipped_lines", e.skipped_lines}};
  // The steering files' hashes: a resumed run must steer with the same vectors.
  nlohmann::json steer_files = nlohmann::json::object();
  for (const auto& st : e.run.steer) steer_files[st.name] = sha256_of_path(st.direction);
  r.config["steer_sha256"] = steer_files;
  // The shards of a run share its id without talking to each other (Slurm arrays, dead ranks
  // rerun later): it is derived from the configuration they share.
  r.run_id = e.run.shard.count > 1 ? sharded_run_id(e, r.config, backend) : new_run_id(e.task.name);
  r.model = backend.model;
  r.model_sha256 = backend.model_sha256;
  r.engine_version = backend.engine_version;
  r.conditions = e.run.conditions;
  r.rounds = e.run.rounds;
  r.started_at = utc_now();
  r.status = "running";
  store.create_run(r);
  store.add_items(r.run_id, e.items);
  e.run_id = r.run_id;
  return r.run_id;
}

Experiment load_experiment(Store& store, const std::string& run_id) {
  std::optional<RunRecord> r = store.find_run(run_id);
  if (!r) throw Error(fmt::format("{}: no run '{}'", store.path(), run_id));
  if (r->status == "finished") throw Error(fmt::format("{}: run '{}' is already finished", store.path(), run_id));
  Experiment e;
  e.run_id = run_id;
  e.run = tasks::run_spec_from_json(r->config.at("run"));
  const std::string task_file = r->config.at("task_file").get<std::string>();
  if (sha256_of_path(task_file) != r->config.at("task_sha256").get<std::string>()) {
    throw Error(fmt::format("{}: the task file changed since run '{}' started; resuming would mix two experiments",
                            task_file, run_id));
  }
  e.task = tasks::load_task_file(task_file);
  add_steered_conditions(e);
  for (const auto& st : e.run.steer) {
    const std::string want = r->config.value("steer_sha256", nlohmann::json::object()).value(st.name, "");
    if (sha256_of_path(st.direction) != want)
      throw Error(fmt::format("{}: the steering file of condition '{}' changed since run '{}' started", st.direction,
                              st.name, run_id));
  }
  e.items = store.items(run_id);
  return e;
}

std::optional<RunRecord> find_matching_run(const Store& store, const Experiment& e, const BackendInfo& backend) {
  const nlohmann::json spec = tasks::to_json(e.run);
  const std::string task_sha = sha256_of_path(e.task.file);
  for (const RunRecord& r : store.runs()) {
    if (r.config.value("run", nlohmann::json()) == spec && r.config.value("task_sha256", "") == task_sha &&
        r.model_sha256 == backend.model_sha256)
      return r;
  }
  return std::nullopt;
}

std::string unfinished_run_id(const Store& store, const std::string& wanted) {
  if (!wanted.empty()) return wanted;
  std::vector<std::string> open;
  for (const RunRecord& r : store.runs())
    if (r.status != "finished") open.push_back(r.run_id);
  if (open.empty()) throw Error(fmt::format("{}: no unfinished run to resume", store.path()));
  if (open.size() > 1)
    throw Error(fmt::format("{}: several unfinished runs ({}); name one with --run", store.path(), fmt::join(open, ", ")));
  return open[0];
}

}  // namespace isc::protocol
