// Google Benchmark of the forward-pass kernels on SmolLM2-135M's shapes, on every vector path this
// CPU has (avx2, avx512, avx512_bf16): the packed matmul per weight type and batch size (FLOP/s
// counter) and decode attention over per-sequence caches; then a table of time ratios per path.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include "engine/attention.h"
#include "engine/kernels/kernels.h"

namespace {

using isc::kernels::Isa;
using isc::kernels::PackedMatrix;
using isc::kernels::WeightType;

std::vector<float> random_vector(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

const char* type_name(WeightType t) { return t == WeightType::F32 ? "f32" : t == WeightType::BF16 ? "bf16" : "i8"; }

void linear(benchmark::State& state, Isa isa, int64_t m, int64_t n, int64_t k, WeightType type) {
  isc::kernels::set_isa(isa);
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

// 9 heads / 3 kv heads / head_dim 64, bf16 cache, one decode row per sequence
void decode_attention(benchmark::State& state, Isa isa, int64_t seqs, int64_t ctx) {
  isc::kernels::set_isa(isa);
  const int64_t H = 9, KV = 3, hd = 64;
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

// Console output as usual, and each run's time kept by (benchmark without its path, path) for the
// ratio table printed at the end (with --benchmark_repetitions=N, the fastest of the N).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred || r.run_type != Run::RT_Iteration) continue;
      const std::string name = r.benchmark_name();
      const size_t cut = name.find("/isa:");
      if (cut == std::string::npos) continue;
      const size_t end = name.find('/', cut + 1);
      const std::string base = name.substr(0, cut) + (end == std::string::npos ? "" : name.substr(end));
      const std::string isa = name.substr(cut + 5, end == std::string::npos ? std::string::npos : end - cut - 5);
      // the fastest repetition: on a shared machine the others are slowed by whatever else runs
      auto [it, fresh] = times_[base].emplace(isa, r.GetAdjustedRealTime());
      if (!fresh) it->second = std::min(it->second, r.GetAdjustedRealTime());
      if (std::find(order_.begin(), order_.end(), base) == order_.end()) order_.push_back(base);
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // time of each path / time of the best path, per benchmark (> 1: slower than the best)
  void print_ratios(const std::vector<Isa>& isas) const {
    if (isas.size() < 2 || order_.empty()) return;
    const std::string best = isc::kernels::isa_name(isas.back());
    fmt::print("\ntime ratio to {} (same run; > 1 is slower)\n{:<44}", best, "benchmark");
    for (Isa isa : isas) fmt::print(" {:>12}", isc::kernels::isa_name(isa));
    fmt::print("\n");
    for (const std::string& base : order_) {
      const auto& row = times_.at(base);
      if (!row.count(best)) continue;
      fmt::print("{:<44}", base);
      for (Isa isa : isas) {
        const auto it = row.find(isc::kernels::isa_name(isa));
        if (it == row.end()) fmt::print(" {:>12}", "-");
        else fmt::print(" {:>12.2f}", it->second / row.at(best));
      }
      fmt::print("\n");
    }
  }

 private:
  std::map<std::string, std::map<std::string, double>> times_;
  std::vector<std::string> order_;
};

}  // namespace

int main(int argc, char** argv) {
  // ISC_BENCH_THREADS=1 on a machine that other work shares: a parallel region waits for its slowest
  // thread, so one descheduled worker costs a whole time slice
  const char* threads = std::getenv("ISC_BENCH_THREADS");
  at::set_num_threads(threads ? std::atoi(threads) : 2);
  // every vector path this CPU has, slowest first (the portable one is a reference, not a contender)
  std::vector<Isa> isas;
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16})
    if (isa <= isc::kernels::detected_isa()) isas.push_back(isa);
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{960, 576}, {3072, 576}, {576, 1536}, {49152, 576}};
  for (WeightType type : {WeightType::BF16, WeightType::F32, WeightType::I8})
    for (int64_t m : {1, 8, 64, 512})
      for (auto [n, k] : shapes) {
        if (n == 49152 && m == 512) continue;
        for (Isa isa : isas) {
          const std::string name = fmt::format("linear/{}/m:{}/{}x{}/isa:{}", type_name(type), m, n, k,
                                               isc::kernels::isa_name(isa));
          benchmark::RegisterBenchmark(name.c_str(), linear, isa, m, n, k, type)->UseRealTime();
        }
      }
  for (auto [seqs, ctx] : std::vector<std::pair<int64_t, int64_t>>{{1, 300}, {64, 300}, {1, 2048}})
    for (Isa isa : isas) {
      const std::string name =
          fmt::format("decode_attention/bf16/seqs:{}/ctx:{}/isa:{}", seqs, ctx, isc::kernels::isa_name(isa));
      benchmark::RegisterBenchmark(name.c_str(), decode_attention, isa, seqs, ctx)->UseRealTime();
    }
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios(isas);
  return 0;
}
