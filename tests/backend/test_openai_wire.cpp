// The openai backend's reading of server answers, on answers shaped like those llama-cpp-python's
// server sends (tests/py/test_openai_backend.py runs the whole backend against that server).
#include <gtest/gtest.h>

#include "backend/http_json_client.h"
#include "backend/openai_wire.h"

namespace isc {
namespace {

using nlohmann::json;

// An echoed scoring answer: prompt tokens, then `generated` generated ones, with their logprobs.
json echo_answer(const std::vector<std::string>& tokens, const std::vector<json>& logprobs, int generated) {
  return {{"choices", {{{"text", ""}, {"finish_reason", "length"},
                        {"logprobs", {{"tokens", tokens}, {"token_logprobs", logprobs}}}}}},
          {"usage", {{"prompt_tokens", tokens.size() - generated}, {"completion_tokens", generated}}}};
}

TEST(OpenAiWire, ScoresTheContinuationTokensBeforeTheGeneratedOne) {
  // "...is (a)" + one generated " ": the continuation " (a)" is the three tokens before it.
  const json a = echo_answer({"user", "\n", " is", " (", "a", ")", " "}, {nullptr, -3.0, -0.5, -6.0, -2.0, -1.0, -9.0}, 1);
  std::string why;
  const auto v = openai::score_echo(a, " (a)", &why, "test");
  ASSERT_TRUE(v.has_value()) << why;
  EXPECT_DOUBLE_EQ(*v, -9.0);
}

TEST(OpenAiWire, AnEndOfTurnAnswerGeneratesNothingToDrop) {
  const json a = echo_answer({"user", " is", " (", "b", ")"}, {nullptr, -0.5, -6.0, -2.5, -1.0}, 0);
  std::string why;
  EXPECT_DOUBLE_EQ(*openai::score_echo(a, " (b)", &why, "test"), -9.5);
}

TEST(OpenAiWire, ATokenStraddlingTheBoundaryCounts) {
  // pre-fill "... is (" + continuation "a)": the server merged " (a" across the boundary
  const json a = echo_answer({"user", " is", " (a", ")", "."}, {nullptr, -0.5, -4.0, -1.0, -0.1}, 1);
  std::string why;
  EXPECT_DOUBLE_EQ(*openai::score_echo(a, "a)", &why, "test"), -5.0);
}

TEST(OpenAiWire, EchoedTokensThatDoNotEndWithTheContinuationAreAnError) {
  const json a = echo_answer({"user", " is", " (", "c", ")"}, {nullptr, -0.5, -6.0, -2.5, -1.0}, 0);
  std::string why;
  EXPECT_THROW(openai::score_echo(a, " (a)", &why, "test"), Error);
}

TEST(OpenAiWire, NoLogprobsMeansUnavailableWithTheReason) {
  const json a = {{"choices", {{{"text", "x"}, {"finish_reason", "length"}, {"logprobs", nullptr}}}},
                  {"usage", {{"prompt_tokens", 3}, {"completion_tokens", 1}}}};
  std::string why;
  EXPECT_FALSE(openai::score_echo(a, " (a)", &why, "test").has_value());
  EXPECT_NE(why.find("no logprobs"), std::string::npos);
}

TEST(OpenAiWire, GeneratedTokensKeepTheBestAlternativesAndUnknownIds) {
  // llama-cpp-python lists the sampled token among the alternatives whatever its rank
  const json a = {{"choices", {{{"text", " (a)"}, {"finish_reason", "stop"},
                                {"logprobs", {{"tokens", {" (", "a"}}, {"token_logprobs", {-0.1, -2.0}},
                                              {"top_logprobs", {{{" (", -0.1}, {" A", -3.0}},
                                                                {{"b", -0.5}, {"c", -1.5}, {"a", -2.0}}}}}}}}}};
  const SampledAnswer s = openai::parse_completion(a, 2, "test");
  EXPECT_EQ(s.text, " (a)");
  EXPECT_EQ(s.finish_reason, "stop");
  ASSERT_EQ(s.tokens.size(), 2u);
  EXPECT_EQ(s.tokens[1].id, -1);
  EXPECT_FLOAT_EQ(s.tokens[1].logprob, -2.0f);
  ASSERT_EQ(s.tokens[1].top.size(), 2u);
  EXPECT_EQ(s.tokens[1].top[0].text, "b");
  EXPECT_EQ(s.tokens[1].top[1].text, "c");
}

TEST(OpenAiWire, FinishReasons) {
  EXPECT_EQ(openai::finish_reason(json{{"finish_reason", "eos"}}, "t"), "stop");
  EXPECT_EQ(openai::finish_reason(json{{"finish_reason", "length"}}, "t"), "length");
  EXPECT_EQ(openai::finish_reason(json{{"finish_reason", "content_filter"}}, "t"), "content_filter");
  EXPECT_THROW(openai::finish_reason(json{{"finish_reason", nullptr}}, "t"), Error);
}

TEST(OpenAiWire, ServerMessagesAndBaseUrls) {
  EXPECT_EQ(server_error_message(R"({"error": {"message": "no such model", "type": "x"}})"), "no such model");
  EXPECT_EQ(server_error_message(R"({"detail": "Invalid API Key"})"), "Invalid API Key");
  EXPECT_EQ(server_error_message("Bad\nGateway"), "Bad Gateway");
  const BaseUrl u = BaseUrl::parse("http://127.0.0.1:8000/v1/");
  EXPECT_EQ(u.origin, "http://127.0.0.1:8000");
  EXPECT_EQ(u.prefix, "/v1");
  EXPECT_THROW(BaseUrl::parse("127.0.0.1:8000"), Error);
}

TEST(OpenAiWire, ChatBodyCarriesThePrefillAsAContinuedAssistantMessage) {
  SamplingParams s;
  s.max_new_tokens = 8;
  s.top_logprobs = 3;
  const json b = openai::chat_body("m", {{"user", "Q?"}}, "The answer is", s, /*extras=*/false,
                                      /*full_seed=*/false);
  EXPECT_EQ(b["messages"].back()["role"], "assistant");
  EXPECT_EQ(b["messages"].back()["content"], "The answer is");
  EXPECT_EQ(b["continue_final_message"], true);
  EXPECT_EQ(b["add_generation_prompt"], false);
  EXPECT_EQ(b["top_logprobs"], 3);
  EXPECT_FALSE(b.contains("repeat_penalty"));
}

}  // namespace
}  // namespace isc
