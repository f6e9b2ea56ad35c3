// Google Benchmark of the forward-pass kernels on SmolLM2-135M's shapes: the packed matmul per
// weight type and batch size (FLOP/s counter), and decode attention over per-sequence caches.
#include <random>
#include <vector>

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include "engine/attention.h"
#include "engine/kernels/kernels.h"

namespace {

using isc::kernels::PackedMatrix;
using isc::kernels::WeightType;

std::vector<float> random_vector(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

// args: M, N, K, weight type
void BM_Linear(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const auto type = static_cast<WeightType>(state.range(3));
  const auto w = random_vector(n * k, 1, 0.05f);
  const auto x = random_vector(m * k, 2);
  std::vector<float> y(m * n);
  PackedMatrix p = PackedMatrix::pack(w.data(), n, k, type);
  for (auto _ : state) {
    isc::kernels::linear(x.data(), m, k, p, y.data(), n);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["weightB/s"] = benchmark::Counter(static_cast<double>(p.bytes()), benchmark::Counter::kIsIterationInvariantRate);
}

void linear_args(benchmark::internal::Benchmark* b) {
  for (int type : {1, 0})
    for (int64_t m : {1, 8, 64, 512})
      for (auto [n, k] : std::vector<std::pair<int64_t, int64_t>>{{960, 576}, {3072, 576}, {576, 1536}, {49152, 576}})
        if (!(n == 49152 && m == 512)) b->Args({m, n, k, type});
}
BENCHMARK(BM_Linear)->Apply(linear_args)->UseRealTime();

// args: sequences, context; 9 heads / 3 kv heads / head_dim 64, bf16 cache, one decode row each
void BM_DecodeAttention(benchmark::State& state) {
  const int64_t seqs = state.range(0), ctx = state.range(1), H = 9, KV = 3, hd = 64;
  const int64_t cap = (ctx + isc::kernels::kKeyBlock - 1) / isc::kernels::kKeyBlock * isc::kernels::kKeyBlock;
  std::vector<std::vector<uint16_t>> k(seqs), v(seqs);
  std::vector<isc::kernels::AttentionSpan> spans;
  for (int64_t s = 0; s < seqs; ++s) {
    auto kf = random_vector(KV * cap * hd, 10 + s), vf = random_vector(KV * cap * hd, 1000 + s);
    k[s].resize(kf.size());
    v[s].resize(vf.size());
    isc::kernels::to_bf16(kf.data(), kf.size(), k[s].data());
    isc::kernels::to_bf16(vf.data(), vf.size(), v[s].data());
    spans.push_back({{k[s].data(), v[s].data(), cap, true}, s, 1, ctx - 1});
  }
  const auto q = random_vector(seqs * H * hd, 3);
  std::vector<float> out(seqs * H * hd);
  for (auto _ : state) {
    isc::kernels::attention(q.data(), H * hd, spans, {H, KV, hd, 0.125f}, out.data(), H * hd);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["kvB/s"] = benchmark::Counter(2.0 * seqs * KV * ctx * hd * 2, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_DecodeAttention)->Args({1, 300})->Args({64, 300})->Args({1, 2048})->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  at::set_num_threads(2);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
