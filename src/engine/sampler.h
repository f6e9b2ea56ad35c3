// Next-token choice from one row of logits: greedy, temperature, top-k, top-p. The random draw
// depends only on (seed, step), so a sequence samples the same tokens alone or in any batch.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

namespace isc {

struct SamplerSettings {
  float temperature = 0.0f;  // <= 0: greedy
  int top_k = 0;             // 0: off
  float top_p = 1.0f;        // >= 1: off
  uint64_t seed = 0;
};

// A uniform in [0,1) from (seed, step) alone: SplitMix64 over a mixed counter.
double uniform_for_step(uint64_t seed, uint64_t step);

// Picks a token from raw logits (size vocab). `step` is the index of the token being generated.
int32_t sample_token(const float* logits, int64_t vocab, const SamplerSettings& s, uint64_t step);

// log-softmax of raw logits (temperature 1): the model's own log-probabilities.
void log_softmax(const float* logits, int64_t vocab, std::vector<float>& out);
void log_softmax(const float* logits, int64_t vocab, float* out);  // out has room for vocab values
// The normaliser log_softmax subtracts: logits[i] − log_sum_exp(...) is exactly its out[i].
// `scratch` has room for vocab values.
float log_sum_exp(const float* logits, int64_t vocab, float* scratch);

// The k most likely tokens of a log-probability row, best first (ties: lower id first).
std::vector<std::pair<int32_t, float>> top_logprobs(const std::vector<float>& logprobs, int k);
std::vector<std::pair<int32_t, float>> top_logprobs(const float* logprobs, int64_t vocab, int k);

}  // namespace isc
