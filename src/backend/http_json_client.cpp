// HttpJsonClient (see http_json_client.h) on Debian's cpp-httplib. Every retry is logged on stderr
// once, with the reason, so a user watching a slow or flaky server sees what is happening.
#include "backend/http_json_client.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/core.h>
#include <httplib.h>

namespace isc {

BaseUrl BaseUrl::parse(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos || (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0))
    throw Error(fmt::format("base URL '{}' (expected http://host[:port][/path] or https://...)", url));
  const size_t slash = url.find('/', scheme + 3);
  BaseUrl b;
  b.origin = url.substr(0, slash);
  if (b.origin.size() == scheme + 3) throw Error(fmt::format("base URL '{}' has no host", url));
  b.prefix = slash == std::string::npos ? "" : url.substr(slash);
  while (!b.prefix.empty() && b.prefix.back() == '/') b.prefix.pop_back();
  return b;
}

std::string server_error_message(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  auto text_of = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  std::string msg;
  if (j.is_object()) {
    if (j.contains("error")) {
      const auto& e = j["error"];
      msg = e.is_object() && e.contains("message") ? text_of(e["message"]) : text_of(e);
    } else if (j.contains("detail")) {
      msg = text_of(j["detail"]);
    } else if (j.contains("message")) {
      msg = text_of(j["message"]);
    }
  }
  if (msg.empty()) msg = body.substr(0, 200);
  for (char& c : msg)
    if (c == '\n' || c == '\r') c = ' ';
  return msg.empty() ? "(empty body)" : msg;
}

HttpJsonClient::HttpJsonClient(BaseUrl url, std::string bearer_token, HttpRetryPolicy policy)
    : url_(std::move(url)), policy_(policy), client_(std::make_unique<httplib::Client>(url_.origin)) {
  const auto sec = static_cast<time_t>(policy_.timeout_s);
  const auto usec = static_cast<time_t>((policy_.timeout_s - static_cast<double>(sec)) * 1e6);
  client_->set_connection_timeout(sec, usec);
  client_->set_read_timeout(sec, usec);
  client_->set_write_timeout(sec, usec);
  client_->set_keep_alive(true);
  if (!bearer_token.empty()) client_->set_bearer_token_auth(bearer_token);
}

HttpJsonClient::~HttpJsonClient() = default;

void HttpJsonClient::stop() {
  stopped_ = true;
  client_->stop();
}

nlohmann::json HttpJsonClient::get(const std::string& path) { return request("GET", path, nullptr, true); }

nlohmann::json HttpJsonClient::post(const std::string& path, const nlohmann::json& body) {
  return request("POST", path, &body, true);
}

nlohmann::json HttpJsonClient::post_once_on_status(const std::string& path, const nlohmann::json& body) {
  return request("POST", path, &body, false);
}

nlohmann::json HttpJsonClient::request(const char* method, const std::string& path, const nlohmann::json* body,
                                       bool retry_status) {
  const std::string full = url_.prefix + path;
  const std::string where = fmt::format("{} {}{}", method, url_.origin, full);
  const std::string payload = body ? body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "";
  double backoff = policy_.initial_backoff_s;
  std::string failure;
  for (int attempt = 0;; ++attempt) {
    if (stopped_) throw Error(fmt::format("{}: abandoned (the backend is shutting down)", where));
    httplib::Result res = body ? client_->Post(full, payload, "application/json") : client_->Get(full);
    bool retryable = false;
    if (!res) {
      failure = "connection failed (" + httplib::to_string(res.error()) + ")";
      retryable = true;
    } else if (res->status >= 200 && res->status < 300) {
      nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
      if (j.is_discarded())
        throw Error(fmt::format("{}: the answer is not JSON: {}", where, server_error_message(res->body)));
      return j;
    } else {
      const std::string msg = server_error_message(res->body);
      failure = fmt::format("HTTP {}: {}", res->status, msg);
      retryable = retry_status && (res->status == 429 || res->status >= 500);
      if (!retryable) throw HttpStatusError(fmt::format("{}: {}", where, failure), res->status, msg);
      // a server-sent Retry-After (seconds) replaces the backoff when longer
      if (res->has_header("Retry-After")) {
        try {
          backoff = std::max(backoff, std::stod(res->get_header_value("Retry-After")));
        } catch (const std::exception&) {  // an HTTP date: keep our own backoff
        }
      }
    }
    if (!retryable || attempt >= policy_.max_retries)
      throw Error(fmt::format("{}: {} (after {} attempts)", where, failure, attempt + 1));
    const double wait = std::min(backoff, policy_.max_backoff_s);
    fmt::print(stderr, "isc: openai: {}: {}; retry {} of {} in {:.1f} s\n", where, failure, attempt + 1,
               policy_.max_retries, wait);
    // in slices, so that stop() ends the wait at once
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait);
    while (!stopped_ && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    backoff *= 2;
  }
}

}  // namespace isc
