// The BLOB encodings of prompt token ids and generated tokens: exact round trips, and errors (not
// crashes) for truncated or otherwise corrupt blobs.
#include <gtest/gtest.h>

#include "store/blob_codec.h"
#include "store_test_util.h"

namespace isc {
namespace {

TEST(BlobCodec, TokenIdsRoundTrip) {
  const std::vector<int32_t> ids = {0, 1, -1, 2147483647, -2147483647 - 1, 151643};
  EXPECT_EQ(decode_token_ids(encode_token_ids(ids), "here"), ids);
  EXPECT_TRUE(decode_token_ids(encode_token_ids({}), "here").empty());
  EXPECT_NE(test::error_of([] { decode_token_ids("abcde", "row 7"); }).find("row 7"), std::string::npos);
}

TEST(BlobCodec, TokensRoundTripExactBytes) {
  const auto round = test::sample_round("c", 3, 2, 40);
  auto tokens = round.tokens;
  tokens[0].text = std::string("\x00\xFF\x80", 3);
  tokens[1].top.clear();
  tokens[2].logprob = -std::numeric_limits<float>::infinity();
  const auto back = decode_tokens(encode_tokens(tokens), "here");
  ASSERT_EQ(back.size(), tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(back[i].id, tokens[i].id);
    EXPECT_EQ(back[i].text, tokens[i].text);
    EXPECT_EQ(back[i].logprob, tokens[i].logprob);
    EXPECT_EQ(back[i].top, tokens[i].top);
  }
  EXPECT_TRUE(decode_tokens(encode_tokens({}), "here").empty());
}

TEST(BlobCodec, CorruptTokenBlobsAreErrors) {
  const std::string blob = encode_tokens(test::sample_round("c", 0, 1, 5).tokens);
  for (size_t cut = 0; cut < blob.size(); ++cut) {
    const auto message = test::error_of([&] { decode_tokens(std::string_view(blob).substr(0, cut), "run r item i"); });
    EXPECT_NE(message.find("run r item i"), std::string::npos) << "cut at " << cut;
  }
  EXPECT_NE(test::error_of([&] { decode_tokens(blob + "x", "w"); }).find("trailing"), std::string::npos);
  std::string wrong_version = blob;
  wrong_version[0] = 9;
  EXPECT_NE(test::error_of([&] { decode_tokens(wrong_version, "w"); }).find("format 9"), std::string::npos);
  std::string huge_count = blob;
  huge_count[1] = huge_count[2] = huge_count[3] = huge_count[4] = '\xFF';
  EXPECT_NE(test::error_of([&] { decode_tokens(huge_count, "w"); }).find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace isc
