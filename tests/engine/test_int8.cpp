// int8 weights: the VNNI kernel and its portable twin against plain integer arithmetic (bit-exact),
// and what int8 costs in accuracy on the whole model, vs bf16 and vs llama.cpp's golden logits.
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/kernels/kernels.h"
#include "model_fixture.h"

namespace isc {
namespace {

using kernels::Isa;
using kernels::PackedMatrix;
using kernels::WeightType;

struct IsaGuard {
  explicit IsaGuard(Isa isa) : before(kernels::active_isa()) { kernels::set_isa(isa); }
  ~IsaGuard() { kernels::set_isa(before); }
  Isa before;
};

std::vector<float> random_values(int64_t n, uint64_t seed, float scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}

// Symmetric per-row quantisation written out plainly: q = round_even(v · 127/max|v|).
std::vector<int32_t> quantize(const float* v, int64_t n, float* scale) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(v[i]));
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  std::vector<int32_t> q(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) q[i] = static_cast<int32_t>(std::nearbyint(v[i] * inv));
  *scale = amax / 127.0f;
  return q;
}

// What the kernels must reproduce bit for bit, in signed integers throughout (no +128 trick): per
// block of 32 activations, s = Σ qx·qw exactly, acc = fma(float(s), x_block_scale, acc); then
// y[i, j] = acc · w_scale[j].
std::vector<float> reference(const std::vector<float>& x, int64_t m, const std::vector<float>& w, int64_t n, int64_t k) {
  constexpr int64_t B = kernels::kQuantBlock;
  std::vector<float> ws(n);
  std::vector<std::vector<int32_t>> qw;
  for (int64_t j = 0; j < n; ++j) qw.push_back(quantize(w.data() + j * k, k, &ws[j]));
  std::vector<float> y(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i) {
    std::vector<std::vector<int32_t>> qx;
    std::vector<float> xs;
    for (int64_t k0 = 0; k0 < k; k0 += B) {
      xs.push_back(0.0f);
      qx.push_back(quantize(x.data() + i * k + k0, std::min(B, k - k0), &xs.back()));
    }
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (size_t b = 0; b < qx.size(); ++b) {
        int64_t s = 0;
        for (size_t c = 0; c < qx[b].size(); ++c) s += static_cast<int64_t>(qx[b][c]) * qw[j][b * B + c];
        acc = std::fma(static_cast<float>(s), xs[b], acc);
      }
      y[i * n + j] = acc * ws[j];
    }
  }
  return y;
}

std::vector<Isa> isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Portable, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16})
    if (isa <= kernels::detected_isa()) out.push_back(isa);
  return out;
}

TEST(Int8Kernel, LinearEqualsIntegerReferenceBitForBit) {
  struct Shape { int64_t m, n, k; };
  // odd k (padding to blocks), n not a multiple of 16 (tail panel), m across tile sizes; zero rows
  const std::vector<Shape> shapes = {{1, 1, 1}, {1, 37, 13}, {5, 64, 576}, {7, 100, 31}, {13, 160, 1536}, {64, 48, 576}, {4, 65, 70}};
  for (Isa isa : isas()) {
    IsaGuard g(isa);
    for (const Shape& s : shapes) {
      std::vector<float> w = random_values(s.n * s.k, 11 + s.n, 0.05f);
      std::vector<float> x = random_values(s.m * s.k, 7 + s.m, 1.5f);
      if (s.n > 2) std::fill(w.begin() + s.k, w.begin() + 2 * s.k, 0.0f);  // an all-zero weight row
      if (s.m > 2) std::fill(x.begin() + s.k, x.begin() + 2 * s.k, 0.0f);  // an all-zero activation row
      if (s.k > 3) x[3] = 40.0f;                                           // an outlier sets a row's scale
      const PackedMatrix p = PackedMatrix::pack(w.data(), s.n, s.k, WeightType::I8);
      const std::vector<float> ref = reference(x, s.m, w, s.n, s.k);
      std::vector<float> y(static_cast<size_t>(s.m * s.n), 7.0f);
      kernels::linear(x.data(), s.m, s.k, p, y.data(), s.n);
      EXPECT_EQ(std::memcmp(y.data(), ref.data(), y.size() * sizeof(float)), 0)
          << kernels::isa_name(isa) << " m " << s.m << " n " << s.n << " k " << s.k;
      // accumulate adds the same values to what is there
      std::vector<float> acc(y.size(), 0.5f);
      kernels::linear(x.data(), s.m, s.k, p, acc.data(), s.n, /*accumulate=*/true);
      for (size_t i = 0; i < acc.size(); ++i) ASSERT_EQ(acc[i], 0.5f + ref[i]) << kernels::isa_name(isa) << " at " << i;
    }
  }
}

TEST(Int8Kernel, RowsAreBitIdenticalWhateverTheBatch) {
  const int64_t n = 96, k = 577, m = 19;
  const std::vector<float> w = random_values(n * k, 3, 0.05f), x = random_values(m * k, 4, 1.0f);
  const PackedMatrix p = PackedMatrix::pack(w.data(), n, k, WeightType::I8);
  for (Isa isa : isas()) {
    IsaGuard g(isa);
    std::vector<float> all(m * n);
    kernels::linear(x.data(), m, k, p, all.data(), n);
    for (int64_t i = 0; i < m; ++i) {
      std::vector<float> one(n);
      kernels::linear(x.data() + i * k, 1, k, p, one.data(), n);
      EXPECT_EQ(std::memcmp(one.data(), all.data() + i * n, n * sizeof(float)), 0)
          << kernels::isa_name(isa) << " row " << i;
    }
  }
}

TEST(Int8Kernel, QuantizedRowsAndPackedRows) {
  const int64_t n = 21, k = 10;
  const std::vector<float> w = random_values(n * k, 5, 0.3f);
  const PackedMatrix p = PackedMatrix::pack(w.data(), n, k, WeightType::I8);
  EXPECT_EQ(p.k_padded(), 32);
  EXPECT_EQ(p.bytes(), static_cast<size_t>(2 * 16 * 32));  // one byte a weight
  for (int64_t r = 0; r < n; ++r) {
    float scale;
    const auto q = quantize(w.data() + r * k, k, &scale);
    std::vector<float> row(k);
    p.unpack_row(r, row.data());
    for (int64_t c = 0; c < k; ++c) {
      EXPECT_EQ(row[c], static_cast<float>(q[c]) * scale);
      EXPECT_LE(std::fabs(row[c] - w[r * k + c]), scale / 2 * 1.0001f);
    }
    EXPECT_EQ(p.scales()[r], scale);
  }
  // activations: per block of 32 its own scale and sum, zero padding, the same on every path
  std::vector<float> x(40, 0.0f);
  x[0] = 0.5f, x[1] = -1.27f, x[3] = 1.0f, x[4] = -0.004f;  // block 0: max 1.27
  x[32] = 0.02f, x[33] = -0.01f;                            // block 1: its own, small scale
  for (Isa isa : isas()) {
    IsaGuard g(isa);
    std::vector<int8_t> q(64, 99);
    float scales[2];
    int32_t sums[2];
    kernels::quantize_blocks(x.data(), 40, 64, q.data(), scales, sums);
    EXPECT_EQ(scales[0], 1.27f / 127.0f);
    EXPECT_EQ(scales[1], 0.02f / 127.0f);
    std::vector<int8_t> want(64, 0);
    want[0] = 50, want[1] = -127, want[3] = 100, want[32] = 127, want[33] = -64;  // −63.5 rounds to even
    EXPECT_EQ(q, want) << kernels::isa_name(isa);
    EXPECT_EQ(sums[0], 50 - 127 + 100);
    EXPECT_EQ(sums[1], 127 - 64);
    std::vector<float> zeros(32, 0.0f);
    kernels::quantize_blocks(zeros.data(), 32, 32, q.data(), scales, sums);
    EXPECT_EQ(scales[0], 0.0f);
    EXPECT_EQ(sums[0], 0);
  }
}

// --- the whole model in int8

Engine& int8_engine() {
  static std::unique_ptr<Engine> e;
  if (!e) {
    EngineOptions o;
    o.dtype = "int8";
    e = Engine::load(test::default_model_path(), o);
  }
  return *e;
}

nlohmann::json golden() {
  std::ifstream in(std::string(ISC_SOURCE_DIR) + "/tests/golden/llamacpp_smollm2_q4_1.json");
  return nlohmann::json::parse(in);
}

// Teacher-forced logits along llama.cpp's greedy trajectories, all golden cases in one pass:
// row k of case c predicts greedy[k].
at::Tensor teacher_forced(const Engine& e, const nlohmann::json& g) {
  std::vector<KvCache> caches;
  caches.reserve(g["cases"].size());
  ForwardRequest req;
  for (const auto& c : g["cases"]) {
    auto toks = c["prompt_tokens"].get<std::vector<int32_t>>();
    const auto greedy = c["greedy"].get<std::vector<int32_t>>();
    const int64_t row0 = static_cast<int64_t>(req.tokens.size()), prompt_len = static_cast<int64_t>(toks.size());
    toks.insert(toks.end(), greedy.begin(), greedy.end() - 1);
    caches.push_back(e.model().new_cache());
    req.chunks.push_back({&caches.back(), row0, static_cast<int64_t>(toks.size())});
    req.tokens.insert(req.tokens.end(), toks.begin(), toks.end());
    for (size_t k = 0; k < greedy.size(); ++k) req.logit_rows.push_back(row0 + prompt_len - 1 + static_cast<int64_t>(k));
  }
  return e.model().forward(req).logits;
}

// Agreement with bf16 (full vocabulary) and with llama.cpp's stored top-10 logits, teacher-forced.
struct Accuracy {
  int64_t steps = 0, agree_bf16 = 0, agree_lc = 0, clear = 0;
  double max_bf16 = 0.0, mean_bf16 = 0.0, max_lc = 0.0, mean_lc = 0.0;
};

Accuracy measure(const Engine& e, const std::string& label) {
  const nlohmann::json g = golden();
  const at::Tensor q = teacher_forced(e, g);
  const at::Tensor b = teacher_forced(test::shared_engine("bf16"), g);
  EXPECT_EQ(q.sizes(), b.sizes());
  Accuracy a;
  // vs bf16 over the whole vocabulary
  const at::Tensor diff = (q - b).abs();
  a.steps = q.size(0);
  a.agree_bf16 = q.argmax(1).eq(b.argmax(1)).sum().item<int64_t>();
  a.max_bf16 = diff.max().item<double>(), a.mean_bf16 = diff.mean().item<double>();
  // vs llama.cpp's stored top-10 logits
  int64_t row = 0, compared = 0;
  double sum_lc = 0.0;
  for (const auto& c : g["cases"]) {
    for (const auto& step : c["steps"]) {
      const auto ids = step["ids"].get<std::vector<int64_t>>();
      const auto ref = step["logits"].get<std::vector<double>>();
      const at::Tensor r = q[row++];
      for (size_t i = 0; i < ids.size(); ++i) {
        const double d = std::abs(r[ids[i]].item<float>() - ref[i]);
        a.max_lc = std::max(a.max_lc, d);
        sum_lc += d;
        ++compared;
      }
      const int64_t ours = r.argmax().item<int64_t>();
      if (ours == ids[0]) ++a.agree_lc;
      else if (ref[0] - ref[1] > 1.0) ++a.clear;
    }
  }
  EXPECT_EQ(row, a.steps);
  a.mean_lc = sum_lc / compared;
  fmt::print("[{}] vs bf16: top-1 agreement {}/{} teacher-forced steps, logit |diff| max {:.3f} mean {:.4f} "
             "(full vocabulary)\n[{}] vs llama.cpp: top-1 agreement {}/{}, top-10 logits |diff| max {:.3f} "
             "mean {:.3f}; clear disagreements {}\n",
             label, a.agree_bf16, a.steps, a.max_bf16, a.mean_bf16, label, a.agree_lc, a.steps, a.max_lc, a.mean_lc,
             a.clear);
  return a;
}

// The int8 engine as users get it: int8 weights and, by default, an int8 KV cache.
TEST(Int8Model, CloseToBf16AndToLlamaCpp) {
  ASSERT_EQ(int8_engine().model().cache_dtype(), at::kChar);
  const Accuracy a = measure(int8_engine(), "int8, int8 KV");
  // Loose bounds around what was measured (bf16 vs llama.cpp: 679/704, mean 0.175, max 1.2; int8 with
  // every matrix, head included, in int8, bf16 cache: 670/704 and 672/704, means 0.29, maxima 1.9 and
  // 2.8; with the int8 cache too: 659/704 and 664/704, means 0.29 and 0.30, maxima 1.9 and 2.7):
  // 8-bit weights and 32-wide activation blocks move logits by tenths and flip only near-ties.
  EXPECT_GE(a.agree_bf16, a.steps * 92 / 100);
  EXPECT_LT(a.mean_bf16, 0.4);
  EXPECT_LT(a.max_bf16, 4.5);
  EXPECT_GE(a.agree_lc, a.steps * 92 / 100);
  EXPECT_LT(a.mean_lc, 0.4);
  EXPECT_LT(a.max_lc, 3.5);
  EXPECT_LE(a.clear, 1);
}

// Each 8-bit part on its own: int8 weights over a bf16 cache, and bf16 weights over an int8 cache (one
// scale per position and kv head; queries in 32-wide int8 blocks for q·k).
TEST(Int8KvCache, EachPartCloseToBf16AndToLlamaCpp) {
  EngineOptions o;
  o.dtype = "int8";
  o.kv_dtype = "bf16";
  const Accuracy w = measure(*Engine::load(test::default_model_path(), o), "int8 weights, bf16 KV");
  EXPECT_GE(w.agree_bf16, w.steps * 92 / 100);  // the bounds of Int8Model (measured 672, 670/704)
  EXPECT_LT(w.mean_bf16, 0.4);
  EXPECT_LT(w.max_bf16, 4.5);
  EXPECT_GE(w.agree_lc, w.steps * 92 / 100);
  EXPECT_LT(w.mean_lc, 0.4);
  EXPECT_LT(w.max_lc, 3.5);
  EXPECT_LE(w.clear, 1);
  o.dtype = "bf16";
  o.kv_dtype = "int8";
  const Accuracy kv = measure(*Engine::load(test::default_model_path(), o), "bf16 weights, int8 KV");
  // measured 691/704 and 676/704, means 0.128 and 0.202, maxima 1.24 and 1.63: the cache alone costs
  // less than int8 weights do
  EXPECT_GE(kv.agree_bf16, kv.steps * 95 / 100);
  EXPECT_LT(kv.mean_bf16, 0.25);
  EXPECT_LT(kv.max_bf16, 3.0);
  EXPECT_GE(kv.agree_lc, kv.steps * 93 / 100);
  EXPECT_LT(kv.mean_lc, 0.3);
  EXPECT_LT(kv.max_lc, 3.0);
  EXPECT_LE(kv.clear, 1);
}

TEST(Int8Model, GreedyGenerationIsTheSameAloneAndBatched) {
  Engine& e = int8_engine();
  const nlohmann::json g = golden();
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& c : g["cases"]) {
    prompts.push_back(c["prompt_tokens"].get<std::vector<int32_t>>());
    if (prompts.size() == 6) break;
  }
  auto generate = [&](const std::vector<size_t>& which) {
    std::vector<SequenceId> seqs;
    std::vector<GenerationJob> jobs;
    for (size_t i : which) {
      GenerationJob j;
      j.append = prompts[i];
      j.max_new_tokens = 12;
      j.top_logprobs = 3;
      jobs.push_back(j);
      seqs.push_back(e.new_sequence());
    }
    auto r = e.run(seqs, jobs);
    for (auto s : seqs) e.release(s);
    return r;
  };
  const auto batched = generate({0, 1, 2, 3, 4, 5});
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto alone = generate({i});
    EXPECT_EQ(alone[0].tokens, batched[i].tokens) << "prompt " << i;
    EXPECT_EQ(alone[0].logprobs, batched[i].logprobs) << "prompt " << i;
  }
}

}  // namespace
}  // namespace isc
