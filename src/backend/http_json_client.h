// A JSON-over-HTTP client for OpenAI-compatible servers: one base URL, an optional Bearer token,
// timeouts, and bounded retries with exponential backoff on 429, 5xx and connection failures.
#pragma once
#include <atomic>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace httplib {
class Client;
}

namespace isc {

struct HttpRetryPolicy {
  int max_retries = 5;              // retries after the first attempt (429, 5xx, connection failures)
  double initial_backoff_s = 1.0;   // doubled after each retry
  double max_backoff_s = 30.0;
  double timeout_s = 600.0;         // connect, read and write timeout of one attempt
};

// "http://host:port/v1" split into what httplib connects to and the path prefix of every request.
struct BaseUrl {
  std::string origin;  // scheme://host[:port]
  std::string prefix;  // "/v1" (no trailing slash; may be empty)
  static BaseUrl parse(const std::string& url);  // throws isc::Error for anything but http(s)://
  std::string text() const { return origin + prefix; }
};

// A final HTTP answer other than 2xx (after retries for 429/5xx): the status and the server's own
// message, so callers can tell "the server rejects this request" from a broken connection.
class HttpStatusError : public Error {
 public:
  HttpStatusError(const std::string& what, int status, std::string server_message)
      : Error(what), status_(status), server_message_(std::move(server_message)) {}
  int status() const { return status_; }
  const std::string& server_message() const { return server_message_; }

 private:
  int status_;
  std::string server_message_;
};

// Not thread-safe: one client per thread (each keeps its own connection alive). stop() may be
// called from another thread to abort a request in flight (it then fails with an isc::Error).
class HttpJsonClient {
 public:
  HttpJsonClient(BaseUrl url, std::string bearer_token, HttpRetryPolicy policy);
  ~HttpJsonClient();
  HttpJsonClient(const HttpJsonClient&) = delete;
  HttpJsonClient& operator=(const HttpJsonClient&) = delete;

  // `path` is relative to the base URL ("/completions"). Throws HttpStatusError for a final non-2xx
  // answer, isc::Error for connection failures after the retries or a body that is not JSON.
  nlohmann::json get(const std::string& path);
  nlohmann::json post(const std::string& path, const nlohmann::json& body);
  // Same, but no retries on 5xx (a probe whose failure is an answer, not an outage).
  nlohmann::json post_once_on_status(const std::string& path, const nlohmann::json& body);
  void stop();

  const BaseUrl& url() const { return url_; }

 private:
  nlohmann::json request(const char* method, const std::string& path, const nlohmann::json* body, bool retry_status);

  BaseUrl url_;
  HttpRetryPolicy policy_;
  std::unique_ptr<httplib::Client> client_;
  std::atomic<bool> stopped_{false};  // set by stop(): no further attempts, no more waiting
};

// The human-readable message of an error body: OpenAI's {"error": {"message"}}, {"error": "..."},
// FastAPI's {"detail": ...}, else the body's first 200 bytes on one line.
std::string server_error_message(const std::string& body);

}  // namespace isc
