// The backend of a run, made from its resolved RunSpec: the embedded engine on a model file, or
// the openai backend on a server. Shared by `isc run` and `isc resume`, with the flags that pick it.
#pragma once
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "backend/backend.h"
#include "store/store.h"
#include "tasks/run_file.h"

namespace isc::cli {

struct EngineFlags {
  std::string dtype = "bf16";
  std::string kv_dtype;
  int threads = 0;
  int max_tokens_per_step = 512;
  std::string chat_template;
};
void add_engine_flags(CLI::App* cmd, EngineFlags& f);

// `isc run` flags of the openai backend; unset values (-1, empty) leave the run file's.
struct BackendFlags {
  std::string backend, base_url, api_key_env;
  int concurrency = -1, retries = -1;
  double request_timeout = -1, retry_backoff = -1;
  bool no_sampler_extras = false;
};
void add_backend_flags(CLI::App* cmd, BackendFlags& f);
// Applies the flags to the spec; --chat-template (an engine flag) names the openai backend's
// template too.
void apply_backend_flags(const BackendFlags& f, const EngineFlags& engine, tasks::RunSpec& spec);

// The embedded engine on a model file (also judges' own models).
std::unique_ptr<Backend> make_embedded_backend(const std::string& model, const EngineFlags& f, int max_batch);

// The run's backend. For openai, spec.model is set to the server's model id when it was not given,
// so the stored run (and `isc resume`) names the model it used.
std::unique_ptr<Backend> make_run_backend(tasks::RunSpec& spec, const EngineFlags& engine);

// `isc resume`: the backend serves the model the run started with (file hash, or for a server the
// identity of its model), else an isc::Error.
void check_same_model(const BackendInfo& now, const RunRecord& run, const tasks::RunSpec& spec);

}  // namespace isc::cli
