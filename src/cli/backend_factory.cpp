// make_run_backend and its flags (see backend_factory.h).
#include "cli/backend_factory.h"

#include <fmt/core.h>

#include "backend/embedded.h"
#include "backend/openai.h"
#include "common/error.h"

namespace isc::cli {

void add_engine_flags(CLI::App* cmd, EngineFlags& f) {
  cmd->add_option("--dtype", f.dtype, "bf16 (default), fp32, or int8 (int8 weights, fastest single-sequence decode)");
  cmd->add_option("--kv-dtype", f.kv_dtype, "KV cache: bf16, fp32 or int8 (half the bytes); default int8 with --dtype int8, fp32 with fp32, else bf16");
  cmd->add_option("--threads", f.threads, "threads (0 = all cores)");
  cmd->add_option("--max-tokens-per-step", f.max_tokens_per_step, "rows per forward pass")->check(CLI::PositiveNumber);
  cmd->add_option("--chat-template", f.chat_template,
                  "override the model's chat template; openai backend: render prompts with it (chatml, llama3, "
                  "llama2, mistral, zephyr, gemma) for /v1/completions");
}

void add_backend_flags(CLI::App* cmd, BackendFlags& f) {
  cmd->add_option("--backend", f.backend, "embedded (default: the model in this process) or openai (a server)");
  cmd->add_option("--base-url", f.base_url, "openai: the server's base URL, e.g. http://127.0.0.1:8000/v1");
  cmd->add_option("--api-key-env", f.api_key_env,
                  "openai: environment variable holding the API key, sent as Bearer (default OPENAI_API_KEY; "
                  "only the name is stored)");
  cmd->add_option("--concurrency", f.concurrency, "openai: requests in flight (default 8)")->check(CLI::PositiveNumber);
  cmd->add_option("--request-timeout", f.request_timeout, "openai: seconds per request (default 600)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--retries", f.retries, "openai: retries on 429, 5xx and connection failures (default 5)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--retry-backoff", f.retry_backoff, "openai: seconds before the first retry, doubled after each (default 1)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-sampler-extras", f.no_sampler_extras,
                "openai: send only standard sampling fields (no top_k/min_p/repeat_penalty), for strict servers");
}

void apply_backend_flags(const BackendFlags& f, const EngineFlags& engine, tasks::RunSpec& s) {
  if (!f.backend.empty()) s.backend = f.backend;
  if (!f.base_url.empty()) s.backend_url = f.base_url;
  if (s.backend != "openai") return;
  tasks::OpenAiSpec& o = s.openai;
  if (!f.api_key_env.empty()) o.api_key_env = f.api_key_env;
  if (f.concurrency > 0) o.concurrency = f.concurrency;
  if (f.request_timeout > 0) o.request_timeout = f.request_timeout;
  if (f.retries >= 0) o.retries = f.retries;
  if (f.retry_backoff >= 0) o.retry_backoff = f.retry_backoff;
  if (f.no_sampler_extras) o.sampler_extras = false;
  if (!engine.chat_template.empty()) o.chat_template = engine.chat_template;
}

std::unique_ptr<Backend> make_embedded_backend(const std::string& model, const EngineFlags& f, int max_batch) {
  EngineOptions o;
  o.dtype = f.dtype;
  o.kv_dtype = f.kv_dtype;
  o.threads = f.threads;
  o.chat_template = f.chat_template;
  o.limits.max_tokens_per_step = f.max_tokens_per_step;
  if (max_batch > 0) o.limits.max_sequences = max_batch;
  return std::make_unique<EmbeddedBackend>(model, o);
}

std::unique_ptr<Backend> make_run_backend(tasks::RunSpec& spec, const EngineFlags& engine) {
  if (spec.backend == "embedded") return make_embedded_backend(spec.model, engine, spec.max_batch);
  if (spec.backend != "openai") throw Error(fmt::format("backend '{}' (expected embedded or openai)", spec.backend));
  OpenAiOptions o;
  o.base_url = spec.backend_url;
  o.model = spec.model;
  o.api_key_env = spec.openai.api_key_env;
  o.concurrency = spec.openai.concurrency;
  o.http.timeout_s = spec.openai.request_timeout;
  o.http.max_retries = spec.openai.retries;
  o.http.initial_backoff_s = spec.openai.retry_backoff;
  o.chat_template = spec.openai.chat_template;
  o.sampler_extras = spec.openai.sampler_extras;
  auto backend = std::make_unique<OpenAiBackend>(o);
  spec.model = backend->info().model;
  return backend;
}

void check_same_model(const BackendInfo& now, const RunRecord& run, const tasks::RunSpec& spec) {
  if (now.model_sha256 == run.model_sha256) return;
  if (spec.backend == "openai")
    throw Error(fmt::format("{}: the server's model '{}' is not the one run '{}' started with (identity {} vs {})",
                            spec.backend_url, now.model, run.run_id, now.model_sha256, run.model_sha256));
  throw Error(fmt::format("{}: the model file changed since run '{}' started (sha256 {} vs {})", spec.model, run.run_id,
                          now.model_sha256, run.model_sha256));
}

}  // namespace isc::cli
