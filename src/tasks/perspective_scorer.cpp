// Perspective API client (see perspective_scorer.h): one comments:analyze POST per text,
// spaced by the rate limit, retried with exponential backoff on 429/5xx/network errors.
#include "tasks/perspective_scorer.h"

#include <fmt/format.h>
#include <httplib.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/error.h"

namespace isc::tasks {

namespace {

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

void sleep_seconds(double s) {
  if (s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

}  // namespace

PerspectiveScorer::PerspectiveScorer(PerspectiveOptions options) : options_(std::move(options)) {
  if (options_.api_key.empty()) {
    const char* env = std::getenv(options_.api_key_env.c_str());
    if (env) options_.api_key = env;
  }
  if (options_.api_key.empty())
    throw Error("perspective: no API key (set the environment variable " + options_.api_key_env +
                " to a Perspective API key)");
  const std::string& e = options_.endpoint;
  const size_t scheme = e.find("://");
  if (scheme == std::string::npos || (e.compare(0, scheme, "http") != 0 && e.compare(0, scheme, "https") != 0))
    throw Error("perspective: endpoint '" + e + "' (expected http://host[:port] or https://host[:port])");
  const size_t slash = e.find('/', scheme + 3);
  host_ = e.substr(0, slash);
  prefix_ = slash == std::string::npos ? "" : e.substr(slash);
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

std::string PerspectiveScorer::request_body(const std::string& text, const std::vector<std::string>& languages) {
  nlohmann::json body = {{"comment", {{"text", text}}},
                         {"languages", languages},
                         {"requestedAttributes", {{"TOXICITY", nlohmann::json::object()}}}};
  return body.dump();
}

double PerspectiveScorer::parse_response(const std::string& body) {
  const char* expected = "expected attributeScores.TOXICITY.summaryScore.value";
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) throw Error(std::string("perspective: response is not JSON (") + expected + ")");
  try {
    const auto& v = j.at("attributeScores").at("TOXICITY").at("summaryScore").at("value");
    if (!v.is_number()) throw Error("");
    const double x = v.get<double>();
    if (!(x >= 0.0 && x <= 1.0)) throw Error("");
    return x;
  } catch (const std::exception&) {
    throw Error(std::string("perspective: malformed response (") + expected + " in [0, 1])");
  }
}

void PerspectiveScorer::wait_for_rate_limit() {
  if (options_.queries_per_second > 0 && any_request_) {
    const auto next = last_request_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                          std::chrono::duration<double>(1.0 / options_.queries_per_second));
    std::this_thread::sleep_until(next);
  }
  last_request_ = std::chrono::steady_clock::now();
  any_request_ = true;
}

double PerspectiveScorer::score_one(const std::string& text) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return 0.0;
  httplib::Client client(host_);
  const auto sec = static_cast<time_t>(options_.timeout_seconds);
  const auto usec = static_cast<time_t>((options_.timeout_seconds - sec) * 1e6);
  client.set_connection_timeout(sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
  const std::string path = prefix_ + "/v1alpha1/comments:analyze?key=" + url_encode(options_.api_key);
  const std::string body = request_body(text, options_.languages);
  double backoff = options_.initial_backoff_seconds;
  std::string last_failure;
  for (int attempt = 0; attempt <= options_.max_retries; ++attempt) {
    if (attempt > 0) {
      sleep_seconds(std::min(backoff, options_.max_backoff_seconds));
      backoff *= 2;
    }
    wait_for_rate_limit();
    auto res = client.Post(path.c_str(), body, "application/json");
    if (!res) {
      last_failure = "connection failed (" + httplib::to_string(res.error()) + ")";
      continue;
    }
    if (res->status == 200) return parse_response(res->body);
    if (res->status == 429 || res->status >= 500) {
      last_failure = fmt::format("HTTP {}", res->status);
      // a server-sent Retry-After (seconds) replaces the current backoff when longer
      if (res->has_header("Retry-After")) {
        try {
          backoff = std::max(backoff, std::stod(res->get_header_value("Retry-After")));
        } catch (const std::exception&) {
        }
      }
      continue;
    }
    std::string excerpt = res->body.substr(0, 200);
    for (auto& c : excerpt)
      if (c == '\n' || c == '\r') c = ' ';
    throw Error(fmt::format("perspective: HTTP {} from {}: {}", res->status, host_, excerpt));
  }
  throw Error(fmt::format("perspective: {} still failing after {} retries ({})", host_, options_.max_retries, last_failure));
}

std::vector<double> PerspectiveScorer::score(const std::vector<std::string>& texts) {
  std::vector<double> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(score_one(t));
  return out;
}

}  // namespace isc::tasks
