// The HTTP side of `isc serve`: OpenAI-compatible routes (/health, /v1/models, /v1/chat/completions,
// /v1/completions) on cpp-httplib, bearer-key auth, body size limit, OpenAI-shaped JSON errors,
// and Server-Sent-Events streaming. Handler threads parse and wait; the EngineWorker computes.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "serve/engine_worker.h"
#include "serve/request_parse.h"

namespace isc::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0 = any free port
  std::string api_key;                // "" = no auth
  size_t max_request_bytes = 16u << 20;
  RequestLimits limits;
  int http_threads = 0;               // 0 = enough for max_batch concurrent requests and then some
};

class HttpServer {
 public:
  HttpServer(EngineWorker& worker, ServerOptions options, int max_batch);
  ~HttpServer();
  // Binds; returns the port (the one picked for port 0). Throws isc::Error when it cannot.
  int bind();
  // Serves until stop(); returns false if listening failed.
  bool serve();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace isc::serve
