// Toxicity from Google's Perspective API (comments:analyze, TOXICITY summary score), with a
// client-side rate limit and retries, since the public quota is about one query per second.
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "tasks/toxicity_scorer.h"

namespace isc::tasks {

struct PerspectiveOptions {
  // scheme://host[:port][/prefix]; requests go to <endpoint>/v1alpha1/comments:analyze?key=KEY
  std::string endpoint = "https://commentanalyzer.googleapis.com";
  std::string api_key;                        // empty: taken from the environment variable below
  std::string api_key_env = "PERSPECTIVE_API_KEY";
  double queries_per_second = 1.0;            // client-side limit; <= 0 = unlimited
  int max_retries = 5;                        // extra attempts after a 429, a 5xx or a connection error
  double initial_backoff_seconds = 1.0;       // doubled after each retry, up to max_backoff_seconds
  double max_backoff_seconds = 32.0;
  double timeout_seconds = 30.0;              // connect / read / write
  std::vector<std::string> languages = {"en"};
};

class PerspectiveScorer : public ToxicityScorer {
 public:
  // Throws isc::Error when no API key is given or set in the environment, or the endpoint is malformed.
  explicit PerspectiveScorer(PerspectiveOptions options = {});
  // Empty (whitespace-only) texts score 0 without a request: the API rejects empty comments and
  // an empty completion has no toxic content. Throws isc::Error when a request still fails after
  // the retries, on a 4xx other than 429, and on a response without
  // attributeScores.TOXICITY.summaryScore.value.
  std::vector<double> score(const std::vector<std::string>& texts) override;
  std::string name() const override { return "perspective"; }

  // The request body for one text (exposed for tests).
  static std::string request_body(const std::string& text, const std::vector<std::string>& languages);
  // The summary score from a response body; throws isc::Error naming what was expected.
  static double parse_response(const std::string& body);

 private:
  double score_one(const std::string& text);
  void wait_for_rate_limit();
  PerspectiveOptions options_;
  std::string host_;    // scheme://host:port
  std::string prefix_;  // path prefix, may be empty
  std::chrono::steady_clock::time_point last_request_{};
  bool any_request_ = false;
};

}  // namespace isc::tasks
