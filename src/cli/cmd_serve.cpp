// `isc serve MODEL`: the embedded engine as an OpenAI-compatible HTTP server (docs/serve.md). Loads
// the model, binds (loopback by default), prints one "listening" line on stderr, and serves until
// SIGINT or SIGTERM, which stop it cleanly: requests in flight fail with 503, then it exits 0.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

#include <fmt/core.h>

#include "cli/commands.h"
#include "common/error.h"
#include "serve/engine_worker.h"
#include "serve/http_server.h"

namespace isc::cli {

namespace {

// SIGINT/SIGTERM write one byte here; a watcher thread reads it and stops the server, so the stop
// is ordinary code, not work in a signal handler (which may run on any thread: libraries start
// threads of their own before we could block signals in them).
int stop_pipe[2] = {-1, -1};

void on_stop_signal(int) {
  const char b = 's';
  [[maybe_unused]] ssize_t n = write(stop_pipe[1], &b, 1);
}

struct ServeArgs {
  serve::WorkerOptions worker;
  serve::ServerOptions server;
  std::string api_key_env;
  double cache_budget_mb = 1024;
};

void run_serve(ServeArgs a) {
  if (!a.server.api_key.empty() && !a.api_key_env.empty()) throw Error("serve: give --api-key or --api-key-env, not both");
  if (!a.api_key_env.empty()) {
    const char* v = std::getenv(a.api_key_env.c_str());
    if (!v || !*v) throw Error(fmt::format("serve: --api-key-env {}: the variable is not set or empty", a.api_key_env));
    a.server.api_key = v;
  }
  if (a.cache_budget_mb < 0) throw Error("serve: --cache-budget-mb must not be negative");
  a.worker.cache_budget_bytes = static_cast<size_t>(a.cache_budget_mb * 1024.0 * 1024.0);
  if (a.server.limits.max_tokens < 1) throw Error("serve: --max-tokens-limit must be at least 1");

  if (pipe(stop_pipe) != 0) throw Error("serve: cannot create the stop pipe");
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a vanished client is a failed write, not the end of the process

  serve::EngineWorker worker(a.worker);
  serve::HttpServer server(worker, a.server, a.worker.max_batch);
  const int port = server.bind();
  std::thread watcher([&] {
    char b = 0;
    while (read(stop_pipe[0], &b, 1) < 0 && errno == EINTR) {
    }
    if (b != 's') return;  // the server ended by itself
    worker.stop();  // in-flight requests fail with 503 at once instead of running to max_tokens
    server.stop();
  });
  if (a.server.host != "127.0.0.1" && a.server.host != "localhost" && a.server.host != "::1" && a.server.api_key.empty())
    fmt::print(stderr, "isc serve: warning: listening on {} without an API key\n", a.server.host);
  fmt::print(stderr, "isc serve: listening on http://{}:{} ({})\n", a.server.host, port, worker.info().id);
  std::fflush(stderr);
  const bool ok = server.serve();
  const char end = 'e';
  [[maybe_unused]] ssize_t n = write(stop_pipe[1], &end, 1);
  watcher.join();
  worker.stop();
  if (!ok) throw Error("serve: the server stopped listening unexpectedly");
  fmt::print(stderr, "isc serve: stopped\n");
}

}  // namespace

void register_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve a model over an OpenAI-compatible HTTP API (docs/serve.md)");
  static ServeArgs a;
  cmd->add_option("model", a.worker.model_path, "model .gguf file or Hugging Face folder")->required();
  cmd->add_option("--host", a.server.host, "address to bind (default 127.0.0.1: this machine only)");
  cmd->add_option("--port", a.server.port, "port (0 = any free one; the listening line names it)")->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", a.server.api_key, "require Authorization: Bearer KEY");
  cmd->add_option("--api-key-env", a.api_key_env, "read the API key from this environment variable");
  cmd->add_option("--model-id", a.worker.model_id, "the model's name in the API (default: the file name)");
  cmd->add_option("--dtype", a.worker.dtype, "bf16 (default), fp32, or int8");
  cmd->add_option("--kv-dtype", a.worker.kv_dtype, "KV cache: bf16, fp32 or int8 (default follows --dtype)");
  cmd->add_option("--chat-template", a.worker.chat_template, "chatml, llama3, llama2, mistral, zephyr, gemma (default: the model's)");
  cmd->add_option("--threads", a.worker.threads, "compute threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-batch", a.worker.max_batch, "sequences per forward pass (default 64)")->check(CLI::PositiveNumber);
  cmd->add_option("--cache-budget-mb", a.cache_budget_mb,
                  "KV cache memory (in flight + kept for reuse); finished sequences beyond it are dropped, oldest first (default 1024)");
  cmd->add_option("--max-request-bytes", a.server.max_request_bytes, "largest request body (default 16 MiB; larger: 413)");
  cmd->add_option("--max-tokens-limit", a.server.limits.max_tokens, "largest max_tokens a request may ask for (default 4096)");
  cmd->add_option("--http-threads", a.server.http_threads, "HTTP handler threads (0 = max-batch + 16)")->check(CLI::NonNegativeNumber);
  cmd->callback([] { run_serve(a); });
}

}  // namespace isc::cli
