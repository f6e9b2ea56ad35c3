// Sampling on plain float rows (no torch ops): cheap per token and independent of batch makeup.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"
#include "engine/kernels/kernels.h"

namespace isc {

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

double uniform_for_step(uint64_t seed, uint64_t step) {
  const uint64_t r = splitmix64(splitmix64(seed) ^ (step * 0xD1B54A32D192ED03ull));
  return static_cast<double>(r >> 11) * (1.0 / 9007199254740992.0);  // 53 random bits
}

void log_softmax(const float* logits, int64_t vocab, std::vector<float>& out) {
  out.resize(vocab);
  log_softmax(logits, vocab, out.data());
}

float log_sum_exp(const float* logits, int64_t vocab, float* scratch) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < vocab; ++i) mx = std::max(mx, logits[i]);
  // exp over the whole vocabulary is the per-token hot spot: vectorised exp, fixed-order sum.
  for (int64_t i = 0; i < vocab; ++i) scratch[i] = logits[i] - mx;
  kernels::exp_inplace(scratch, vocab);
  double sum = 0.0;
  for (int64_t i = 0; i < vocab; ++i) sum += scratch[i];
  return mx + static_cast<float>(std::log(sum));
}

void log_softmax(const float* logits, int64_t vocab, float* out) {
  const float lse = log_sum_exp(logits, vocab, out);
  for (int64_t i = 0; i < vocab; ++i) out[i] = logits[i] - lse;
}

std::vector<std::pair<int32_t, float>> top_logprobs(const std::vector<float>& lp, int k) {
  return top_logprobs(lp.data(), static_cast<int64_t>(lp.size()), k);
}

std::vector<std::pair<int32_t, float>> top_logprobs(const float* lp, int64_t vocab, int k) {
  k = static_cast<int>(std::min<int64_t>(k, vocab));
  std::vector<int32_t> idx(vocab);
  std::iota(idx.begin(), idx.end(), 0);
  auto better = [&](int32_t a, int32_t b) { return lp[a] > lp[b] || (lp[a] == lp[b] && a < b); };
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), better);
  std::vector<std::pair<int32_t, float>> out;
  for (int i = 0; i < k; ++i) out.emplace_back(idx[i], lp[idx[i]]);
  return out;
}

int32_t sample_token(const float* logits, int64_t vocab, const SamplerSettings& s, uint64_t step) {
  if (vocab <= 0) throw Error("sample_token: empty logits");
  if (s.temperature <= 0.0f) {
    int64_t best = 0;
    for (int64_t i = 1; i < vocab; ++i)
      if (logits[i] > logits[best]) best = i;
    return static_cast<int32_t>(best);
  }
  // Candidates sorted by logit (ties by id), cut by top-k, then by top-p mass.
  std::vector<int32_t> idx(vocab);
  std::iota(idx.begin(), idx.end(), 0);
  auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  int64_t n = vocab;
  if (s.top_k > 0 && s.top_k < vocab) {
    n = s.top_k;
    std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), better);
  } else {
    std::sort(idx.begin(), idx.end(), better);
  }
  std::vector<double> p(n);
  const double mx = logits[idx[0]];
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    p[i] = std::exp((logits[idx[i]] - mx) / s.temperature);
    sum += p[i];
  }
  if (s.top_p < 1.0f) {
    double acc = 0.0;
    int64_t keep = 0;
    while (keep < n) {
      acc += p[keep] / sum;
      ++keep;
      if (acc >= s.top_p) break;
    }
    n = keep;
    sum = std::accumulate(p.begin(), p.begin() + n, 0.0);
  }
  const double u = uniform_for_step(s.seed, step) * sum;
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    acc += p[i];
    if (u < acc) return idx[i];
  }
  return idx[n - 1];
}

}  // namespace isc
