// An experiment as the runner sees it: the task, the resolved run spec, the items, and the run's
// id in the store. Created fresh by `isc run`, or read back from the store by `isc resume`.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "store/store.h"
#include "tasks/run_file.h"
#include "tasks/task_spec.h"

namespace isc::protocol {

struct Experiment {
  std::string run_id;
  tasks::TaskSpec task;
  tasks::RunSpec run;        // resolved: conditions and rounds filled in
  std::vector<tasks::TaskItem> items;
  int64_t skipped_lines = 0;
};

// Adds each steered condition of the run (a copy of its base condition under the new name) to the
// task, and its name to the run's conditions. Throws isc::Error for an unknown base or a clash.
void add_steered_conditions(Experiment& e);

// Loads the task and its items for a validated RunSpec (conditions/rounds default to the task's).
Experiment prepare_experiment(const tasks::RunSpec& spec);

// A run's stored config without its shard: what the shards of one run have in common.
nlohmann::json unsharded_config(nlohmann::json config);

// The id shared by the shards of a run: the task's name, the shard count and a hash of the
// unsharded configuration and the model.
std::string sharded_run_id(const Experiment& e, const nlohmann::json& config, const BackendInfo& backend);

// Writes the run record and its items to the store; returns the new run id.
std::string record_experiment(Store& store, Experiment& e, const BackendInfo& backend);

// Reads an unfinished run back (spec from the stored config, items from the store) and checks
// that the task file and the model are still the ones the run started with.
Experiment load_experiment(Store& store, const std::string& run_id);

// A run in the store with exactly this configuration (run spec, task file hash, model hash), if any:
// `isc run --reuse` continues or re-reports it instead of starting a second copy.
std::optional<RunRecord> find_matching_run(const Store& store, const Experiment& e, const BackendInfo& backend);

// Now, as the store's timestamps write it (ISO-8601 UTC).
std::string utc_now();

// The unfinished run of a store: the one named, or the only one not finished.
std::string unfinished_run_id(const Store& store, const std::string& wanted);

}  // namespace isc::protocol
