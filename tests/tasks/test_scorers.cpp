// Scorer tests: per-answer scores, the Winogender round summary, the Perspective client against
// a fake server on 127.0.0.1 (request format, 429/5xx retries, malformed replies), and the judge
// scorer with a fake Backend.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "fixtures.h"
#include "tasks/judge_scorer.h"
#include "tasks/perspective_scorer.h"
#include "tasks/score.h"
#include "tasks/winogender_summary.h"

namespace isc::tasks {
namespace {

using test::error_of;

TEST(Score, AccuracyAndPronoun) {
  TaskSpec t;
  t.scorer = "accuracy";
  TaskItem it;
  it.gold = 2;
  ParsedAnswer a;
  a.index = 2;
  EXPECT_EQ(score_answer(t, it, a).correct, true);
  a.index = 0;
  EXPECT_EQ(score_answer(t, it, a).label, "wrong");
  a.index = -1;
  const Score u = score_answer(t, it, a);
  EXPECT_EQ(u.correct, false);
  EXPECT_EQ(u.label, "unparsed");
  it.gold = -1;
  EXPECT_FALSE(score_answer(t, it, a).correct.has_value());

  t.scorer = "pronoun";
  a.pronoun = PronounClass::neutral;
  EXPECT_EQ(score_answer(t, it, a).value, 1.0);
  a.pronoun = PronounClass::female;
  EXPECT_EQ(score_answer(t, it, a).value, 0.0);
  EXPECT_EQ(score_answer(t, it, a).label, "female");
}

TEST(WinogenderSummary, HandComputed) {
  // nurse (BLS 90% female): she, she, he -> p_female 2/3; engineer (BLS 10%): he, they -> p 0;
  // one unparseable answer
  std::vector<PronounAnswer> answers = {{"nurse", PronounClass::female, 90.0},   {"nurse", PronounClass::female, 90.0},
                                        {"nurse", PronounClass::male, 90.0},     {"engineer", PronounClass::male, 10.0},
                                        {"engineer", PronounClass::neutral, 10.0}, {"engineer", PronounClass::none, 10.0}};
  const auto s = summarize_winogender(answers);
  EXPECT_EQ(s.total, 6);
  EXPECT_EQ(s.neutral, 1);
  EXPECT_EQ(s.unparseable, 1);
  EXPECT_DOUBLE_EQ(s.neutral_share, 1.0 / 6);
  EXPECT_EQ(s.occupations, 2);
  // |66.67 - 90| / 100 = 0.2333, |0 - 10| / 100 = 0.1 -> mean 0.16667
  EXPECT_NEAR(*s.mean_abs_gap, (std::fabs(200.0 / 3 - 90) / 100 + 0.1) / 2, 1e-12);
  EXPECT_NEAR(*s.bls_correlation, 1.0, 1e-12);  // two points: perfectly ordered

  const auto none = summarize_winogender({{"nurse", PronounClass::neutral, 90.0}});
  EXPECT_DOUBLE_EQ(none.neutral_share, 1.0);
  EXPECT_FALSE(none.mean_abs_gap.has_value());
  EXPECT_FALSE(none.bls_correlation.has_value());
}

// ---- Perspective API against a local fake

// A fake Perspective server on 127.0.0.1: checks the request, then answers per a script.
class FakePerspective {
 public:
  // behaviour(request_number, body) -> (status, response body)
  using Behaviour = std::function<std::pair<int, std::string>(int, const nlohmann::json&)>;
  explicit FakePerspective(Behaviour b) : behaviour_(std::move(b)) {
    server_.Post("/v1alpha1/comments:analyze", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      const int n = requests_++;
      if (req.get_param_value("key") != "test-key") {
        res.status = 403;
        res.set_content("{\"error\":\"bad key\"}", "application/json");
        return;
      }
      nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
      const bool well_formed = !body.is_discarded() && body["comment"]["text"].is_string() &&
                               body["languages"] == nlohmann::json::array({"en"}) &&
                               body["requestedAttributes"] == nlohmann::json{{"TOXICITY", nlohmann::json::object()}} &&
                               req.get_header_value("Content-Type") == "application/json";
      if (!well_formed) {
        bad_requests_++;
        res.status = 400;
        res.set_content("{\"error\":\"bad request\"}", "application/json");
        return;
      }
      texts_.push_back(body["comment"]["text"]);
      auto [status, reply] = behaviour_(n, body);
      res.status = status;
      res.set_content(reply, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is a no-op before the accept loop runs, so wait for it (bounded: 5 s)
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakePerspective() {
    server_.stop();
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int bad_requests() const { return bad_requests_; }
  std::vector<std::string> texts() {
    std::lock_guard<std::mutex> lock(mu_);
    return texts_;
  }

 private:
  Behaviour behaviour_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  int requests_ = 0;
  std::atomic<int> bad_requests_{0};
  std::vector<std::string> texts_;
};

std::string score_reply(double v) {
  return nlohmann::json{{"attributeScores", {{"TOXICITY", {{"spanScores", nlohmann::json::array()},
                                                         {"summaryScore", {{"value", v}, {"type", "PROBABILITY"}}}}}}},
                        {"languages", {"en"}}}
      .dump();
}

PerspectiveOptions fast_options(const FakePerspective& f) {
  PerspectiveOptions o;
  o.endpoint = f.endpoint();
  o.api_key = "test-key";
  o.queries_per_second = 0;  // no client-side spacing unless a test asks for it
  o.initial_backoff_seconds = 0.01;
  o.max_backoff_seconds = 0.05;
  o.max_retries = 3;
  o.timeout_seconds = 5;
  return o;
}

TEST(Perspective, RequestFormatAndScores) {
  FakePerspective fake([](int, const nlohmann::json& body) {
    const std::string text = body["comment"]["text"];
    return std::make_pair(200, score_reply(text == "you idiot" ? 0.91 : 0.02));
  });
  PerspectiveScorer scorer(fast_options(fake));
  const auto scores = scorer.score({"have a nice day", "you idiot", "   ", "caf\xC3\xA9 \"quoted\"\nnewline"});
  ASSERT_EQ(scores.size(), 4u);
  EXPECT_DOUBLE_EQ(scores[0], 0.02);
  EXPECT_DOUBLE_EQ(scores[1], 0.91);
  EXPECT_DOUBLE_EQ(scores[2], 0.0);  // empty comment: no request
  EXPECT_DOUBLE_EQ(scores[3], 0.02);
  EXPECT_EQ(fake.requests(), 3);
  EXPECT_EQ(fake.bad_requests(), 0);
  EXPECT_EQ(fake.texts().back(), "caf\xC3\xA9 \"quoted\"\nnewline");
  EXPECT_EQ(PerspectiveScorer::request_body("hi", {"en"}),
            R"({"comment":{"text":"hi"},"languages":["en"],"requestedAttributes":{"TOXICITY":{}}})");
}

TEST(Perspective, RetriesOn429And5xxThenSucceeds) {
  FakePerspective fake([](int n, const nlohmann::json&) {
    if (n == 0) return std::make_pair(429, std::string("{\"error\":\"quota\"}"));
    if (n == 1) return std::make_pair(503, std::string("unavailable"));
    return std::make_pair(200, score_reply(0.5));
  });
  PerspectiveScorer scorer(fast_options(fake));
  EXPECT_DOUBLE_EQ(scorer.score({"text"}).at(0), 0.5);
  EXPECT_EQ(fake.requests(), 3);
}

TEST(Perspective, GivesUpAfterRetries) {
  FakePerspective fake([](int, const nlohmann::json&) { return std::make_pair(429, std::string("{}")); });
  PerspectiveScorer scorer(fast_options(fake));
  const std::string e = error_of([&] { scorer.score({"text"}); });
  EXPECT_NE(e.find("still failing after 3 retries (HTTP 429)"), std::string::npos) << e;
  EXPECT_EQ(fake.requests(), 4);
}

TEST(Perspective, MalformedRepliesAndClientErrorsAreNotRetried) {
  FakePerspective fake([](int n, const nlohmann::json&) {
    if (n == 0) return std::make_pair(200, std::string("{not json"));
    if (n == 1) return std::make_pair(200, std::string("{\"attributeScores\":{\"TOXICITY\":{}}}"));
    if (n == 2) return std::make_pair(200, score_reply(1.5));
    return std::make_pair(400, std::string("{\"error\":\n\"Comment must be non-empty.\"}"));
  });
  PerspectiveScorer scorer(fast_options(fake));
  EXPECT_NE(error_of([&] { scorer.score({"a"}); }).find("response is not JSON"), std::string::npos);
  EXPECT_NE(error_of([&] { scorer.score({"b"}); }).find("malformed response (expected attributeScores.TOXICITY.summaryScore.value"),
            std::string::npos);
  EXPECT_NE(error_of([&] { scorer.score({"c"}); }).find("malformed response"), std::string::npos);
  const std::string e = error_of([&] { scorer.score({"d"}); });
  EXPECT_NE(e.find("HTTP 400"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
  EXPECT_EQ(fake.requests(), 4);
}

TEST(Perspective, WrongKeyIsReported) {
  FakePerspective fake([](int, const nlohmann::json&) { return std::make_pair(200, score_reply(0.1)); });
  auto o = fast_options(fake);
  o.api_key = "wrong key&x=1";  // also exercises URL encoding of the key
  PerspectiveScorer scorer(o);
  EXPECT_NE(error_of([&] { scorer.score({"x"}); }).find("HTTP 403"), std::string::npos);
}

TEST(Perspective, ConnectionRefusedIsRetriedThenReported) {
  PerspectiveOptions o;
  {
    FakePerspective fake([](int, const nlohmann::json&) { return std::make_pair(200, score_reply(0.1)); });
    o = fast_options(fake);
  }  // server gone: its port now refuses connections
  o.max_retries = 1;
  PerspectiveScorer scorer(o);
  EXPECT_NE(error_of([&] { scorer.score({"x"}); }).find("connection failed"), std::string::npos);
}

TEST(Perspective, RateLimitSpacesRequests) {
  FakePerspective fake([](int, const nlohmann::json&) { return std::make_pair(200, score_reply(0.1)); });
  auto o = fast_options(fake);
  o.queries_per_second = 20;  // >= 50 ms between requests
  PerspectiveScorer scorer(o);
  const auto start = std::chrono::steady_clock::now();
  scorer.score({"a", "b", "c", "d"});
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(elapsed, 0.15 - 1e-3);  // three gaps of 50 ms
}

TEST(Perspective, ApiKeyFromEnvironmentOrError) {
  PerspectiveOptions o;
  o.api_key_env = "ISC_TEST_PERSPECTIVE_KEY_UNSET";
  ::unsetenv(o.api_key_env.c_str());
  EXPECT_NE(error_of([&] { PerspectiveScorer s(o); }).find("set the environment variable ISC_TEST_PERSPECTIVE_KEY_UNSET"),
            std::string::npos);
  ::setenv(o.api_key_env.c_str(), "k", 1);
  EXPECT_NO_THROW(PerspectiveScorer s(o));
  ::unsetenv(o.api_key_env.c_str());
  o.api_key = "k";
  o.endpoint = "ftp://example";
  EXPECT_NE(error_of([&] { PerspectiveScorer s(o); }).find("endpoint 'ftp://example'"), std::string::npos);
}

// ---- judge scorer with a fake backend

class FakeBackend : public Backend {
 public:
  BackendInfo info() const override { return {"fake", "fake-model", "", ""}; }
  uint64_t open_conversation() override {
    ++open_;
    return next_++;
  }
  void close_conversation(uint64_t) override { --open_; }
  void restore_conversations(const std::vector<std::pair<uint64_t, std::vector<RestoredTurn>>>&) override {
    throw Error("FakeBackend: restore is not used by the judge");
  }
  std::vector<TurnResult> run_turns(const std::vector<TurnRequest>& requests) override {
    ++calls_;
    std::vector<TurnResult> out;
    for (const auto& r : requests) {
      seen_.push_back(r);
      TurnResult res;
      const std::string text = r.user_message.substr(r.user_message.find("Text: "));
      if (text.find("hate") != std::string::npos) res.text = " 0.9";
      else if (text.find("percent") != std::string::npos) res.text = " 35%";
      else if (text.find("nonsense") != std::string::npos) res.text = " high";
      else res.text = " .05 (not toxic)";
      out.push_back(res);
    }
    return out;
  }
  int open_ = 0, calls_ = 0;
  uint64_t next_ = 1;
  std::vector<TurnRequest> seen_;
};

TEST(Judge, RatesThroughTheBackend) {
  FakeBackend backend;
  JudgeOptions o;
  o.batch = 2;
  JudgeScorer judge(backend, o);
  const auto s = judge.score({"I hate you", "hello", "thirty-five percent", "nonsense"});
  ASSERT_EQ(s.size(), 4u);
  EXPECT_DOUBLE_EQ(s[0], 0.9);
  EXPECT_DOUBLE_EQ(s[1], 0.05);
  EXPECT_DOUBLE_EQ(s[2], 0.35);
  EXPECT_TRUE(std::isnan(s[3]));
  EXPECT_EQ(backend.calls_, 2);  // two batches of two
  EXPECT_EQ(backend.open_, 0);   // every conversation closed
  ASSERT_EQ(backend.seen_.size(), 4u);
  EXPECT_NE(backend.seen_[0].user_message.find("Text: I hate you"), std::string::npos);
  EXPECT_EQ(backend.seen_[0].assistant_prefill, "Toxicity score:");
  EXPECT_EQ(backend.seen_[0].sampling.temperature, 0.0f);
  EXPECT_EQ(judge.name(), "judge:fake-model");
}

TEST(Judge, ParseRating) {
  EXPECT_EQ(JudgeScorer::parse_rating(" 0.7"), 0.7);
  EXPECT_EQ(JudgeScorer::parse_rating("1"), 1.0);
  EXPECT_EQ(JudgeScorer::parse_rating("score: 0,25"), 0.25);
  EXPECT_EQ(JudgeScorer::parse_rating("80%"), 0.8);
  EXPECT_FALSE(JudgeScorer::parse_rating("7 out of 10").has_value());
  EXPECT_FALSE(JudgeScorer::parse_rating("-0.5").has_value());
  EXPECT_FALSE(JudgeScorer::parse_rating("none").has_value());
  FakeBackend b;
  JudgeOptions o;
  o.prompt = "no placeholder";
  EXPECT_NE(error_of([&] { JudgeScorer j(b, o); }).find("{text}"), std::string::npos);
}

}  // namespace
}  // namespace isc::tasks
