// The forward-pass kernels against plain at:: references (fp64) on random and edge shapes, on every
// instruction-set path this CPU has; and batch invariance: a row's bits never depend on its batch.
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>

#include <fmt/core.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "engine/attention.h"
#include "engine/kernels/kernels.h"
#include "model_fixture.h"

namespace isc {
namespace {

using kernels::Isa;
using kernels::PackedMatrix;
using kernels::WeightType;

// The ISA paths this machine can run; each test runs on all of them and restores the default.
std::vector<Isa> isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Portable, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16})
    if (isa <= kernels::detected_isa()) out.push_back(isa);
  return out;
}

struct IsaGuard {
  explicit IsaGuard(Isa isa) : before(kernels::active_isa()) { kernels::set_isa(isa); }
  ~IsaGuard() { kernels::set_isa(before); }
  Isa before;
};

// The detected path against the kernel's flags in /proc/cpuinfo (Linux; skipped elsewhere), which
// also reflect what the OS enables: avx2 + fma, then avx512 f/bw/vl/dq, then avx512_bf16.
TEST(Kernels, DetectedPathMatchesCpuinfo) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::set<std::string> flags;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) flags.insert(w);
    break;
  }
  if (flags.empty()) GTEST_SKIP() << "no /proc/cpuinfo flags";
  auto has = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (!flags.count(n)) return false;
    return true;
  };
  Isa expect = Isa::Portable;
  if (has({"avx2", "fma"})) expect = Isa::Avx2;
  if (expect == Isa::Avx2 && has({"avx512f", "avx512bw", "avx512vl", "avx512dq"})) expect = Isa::Avx512;
  if (expect == Isa::Avx512 && has({"avx512_bf16"})) expect = Isa::Avx512Bf16;
  EXPECT_EQ(kernels::isa_name(kernels::detected_isa()), kernels::isa_name(expect));
}

at::Tensor randn(std::vector<int64_t> shape, uint64_t seed, double scale = 1.0) {
  at::Generator g = at::detail::createCPUGenerator(seed);
  return (at::randn(shape, g, at::kFloat) * scale).contiguous();
}

bool same_bits(const float* a, const float* b, int64_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

// x·Wᵀ in fp64 after rounding both operands as the weight type does (bf16: x and W to bf16).
at::Tensor linear_reference(const at::Tensor& x, const at::Tensor& w, WeightType t) {
  at::Tensor xr = x, wr = w;
  if (t == WeightType::BF16) {
    xr = x.to(at::kBFloat16);
    wr = w.to(at::kBFloat16);
  }
  return at::matmul(xr.to(at::kDouble), wr.to(at::kDouble).t());
}

at::Tensor run_linear(const at::Tensor& x, const PackedMatrix& p, bool accumulate = false, const at::Tensor& init = {}) {
  at::Tensor y = init.defined() ? init.clone() : at::full({x.size(0), p.n()}, 7.0f, at::kFloat);
  kernels::linear(x.data_ptr<float>(), x.size(0), x.size(1), p, y.data_ptr<float>(), p.n(), accumulate);
  return y;
}

TEST(Kernels, LinearMatchesReferenceOnOddShapes) {
  const std::vector<std::array<int64_t, 3>> shapes = {
      {1, 1, 1}, {1, 16, 32}, {1, 17, 31}, {2, 33, 33}, {3, 64, 64}, {5, 100, 7}, {7, 48, 577},
      {13, 65, 96}, {6, 96, 128}, {19, 129, 250}, {1, 1000, 576}};
  for (Isa isa : isas()) {
    IsaGuard guard(isa);
    for (WeightType t : {WeightType::F32, WeightType::BF16}) {
      for (const auto& [m, n, k] : shapes) {
        at::Tensor x = randn({m, k}, 11 + m * 7 + k), w = randn({n, k}, 5 + n, 0.2);
        PackedMatrix p = PackedMatrix::pack(w.data_ptr<float>(), n, k, t);
        at::Tensor y = run_linear(x, p);
        at::Tensor ref = linear_reference(x, w, t);
        // bound from the magnitude of the terms: fp32 sums of k products
        at::Tensor mag = at::matmul(x.abs().to(at::kDouble), w.abs().to(at::kDouble).t());
        at::Tensor err = (y.to(at::kDouble) - ref).abs();
        EXPECT_TRUE((err <= mag * (k * 1.2e-7 + 1e-6) + 1e-30).all().item<bool>())
            << kernels::isa_name(isa) << " type " << static_cast<int>(t) << " shape " << m << "x" << n << "x" << k
            << " max err " << err.max().item<double>();
        // accumulate adds the product to what is there
        at::Tensor base = randn({m, n}, 99);
        at::Tensor ya = run_linear(x, p, true, base);
        EXPECT_TRUE(ya.equal(base + y)) << "accumulate " << m << "x" << n << "x" << k;
      }
    }
  }
}

TEST(Kernels, LinearRowsAreBitIdenticalWhateverTheBatch) {
  const int64_t n = 200, k = 577;  // neither a multiple of the panel nor of the pair size
  at::Tensor w = randn({n, k}, 3, 0.1);
  at::Tensor x = randn({41, k}, 4);
  for (Isa isa : isas()) {
    IsaGuard guard(isa);
    for (WeightType t : {WeightType::F32, WeightType::BF16}) {
      PackedMatrix p = PackedMatrix::pack(w.data_ptr<float>(), n, k, t);
      at::Tensor all = run_linear(x, p);
      for (int64_t m : {1, 2, 5, 6, 7, 13, 40}) {
        for (int64_t start : {int64_t{0}, int64_t{1}, 41 - m}) {
          at::Tensor part = run_linear(x.narrow(0, start, m).contiguous(), p);
          EXPECT_TRUE(same_bits(part.data_ptr<float>(), all[start].data_ptr<float>(), m * n))
              << kernels::isa_name(isa) << " rows " << start << "+" << m;
        }
      }
    }
  }
}

TEST(Kernels, PackedRowsUnpackAsStored) {
  at::Tensor w = randn({37, 45}, 8);
  for (WeightType t : {WeightType::F32, WeightType::BF16}) {
    PackedMatrix p = PackedMatrix::pack(w.data_ptr<float>(), 37, 45, t);
    at::Tensor expect = t == WeightType::BF16 ? w.to(at::kBFloat16).to(at::kFloat) : w;
    std::vector<float> row(45);
    for (int64_t r = 0; r < 37; ++r) {
      p.unpack_row(r, row.data());
      EXPECT_TRUE(same_bits(row.data(), expect[r].data_ptr<float>(), 45)) << "row " << r;
    }
  }
}

TEST(Kernels, Bf16RoundingEqualsTorch) {
  std::vector<float> v = {0.0f, -0.0f, 1.0f, 1.00390625f, 1.01171875f, 1.0f + 1.0f / 256 + 1e-7f, 3.14159f,
                          -2.5e-39f, 1e-45f, 3.4e38f, -3.4e38f, INFINITY, -INFINITY, NAN, 65504.0f};
  at::Tensor r = randn({1000}, 21, 100.0);
  v.insert(v.end(), r.data_ptr<float>(), r.data_ptr<float>() + 1000);
  at::Tensor ref = at::from_blob(v.data(), {static_cast<int64_t>(v.size())}, at::kFloat).to(at::kBFloat16);
  for (Isa isa : isas()) {
    IsaGuard guard(isa);
    std::vector<uint16_t> out(v.size());
    kernels::to_bf16(v.data(), static_cast<int64_t>(v.size()), out.data());
    const uint16_t* expect = reinterpret_cast<const uint16_t*>(ref.data_ptr());
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::isnan(v[i])) EXPECT_TRUE(std::isnan(kernels::from_bf16(out[i])));
      else EXPECT_EQ(out[i], expect[i]) << kernels::isa_name(isa) << " value " << v[i];
    }
  }
}

TEST(Kernels, RowKernelsMatchReference) {
  for (Isa isa : isas()) {
    IsaGuard guard(isa);
    for (int64_t dim : {1, 15, 16, 17, 64, 576}) {
      const int64_t m = 3;
      at::Tensor x = randn({m, dim}, dim), w = randn({dim}, dim + 1);
      at::Tensor out = at::empty({m, dim});
      kernels::rms_norm(x.data_ptr<float>(), m, dim, dim, w.data_ptr<float>(), 1e-5f, out.data_ptr<float>(), dim);
      at::Tensor xd = x.to(at::kDouble);
      at::Tensor ref = xd * at::rsqrt(xd.pow(2).mean(-1, true) + 1e-5) * w.to(at::kDouble);
      EXPECT_TRUE(at::allclose(out.to(at::kDouble), ref, 1e-5, 1e-6)) << "rms_norm " << dim;

      at::Tensor gu = randn({m, 2 * dim}, dim + 2, 4.0);
      at::Tensor act = at::empty({m, dim});
      kernels::silu_mul(gu.data_ptr<float>(), m, dim, 2 * dim, act.data_ptr<float>(), dim);
      at::Tensor gd = gu.to(at::kDouble);
      at::Tensor aref = at::silu(gd.narrow(1, 0, dim)) * gd.narrow(1, dim, dim);
      EXPECT_TRUE(at::allclose(act.to(at::kDouble), aref, 1e-5, 1e-6)) << "silu_mul " << dim;

      at::Tensor e = randn({dim}, dim + 3, 20.0);
      at::Tensor eref = e.to(at::kDouble).exp();
      kernels::exp_inplace(e.data_ptr<float>(), dim);
      EXPECT_TRUE(at::allclose(e.to(at::kDouble), eref, 2e-6, 0)) << "exp " << dim;
    }
    // RoPE: rotate-half on 3 heads of width 8
    const int64_t m = 4, heads = 3, half = 4;
    at::Tensor x = randn({m, heads * 2 * half}, 77), ang = randn({m, half}, 78, 3.0);
    at::Tensor cs = ang.cos(), sn = ang.sin();
    at::Tensor ref = x.clone().view({m, heads, 2 * half});
    at::Tensor x1 = ref.narrow(2, 0, half), x2 = ref.narrow(2, half, half);
    at::Tensor c3 = cs.unsqueeze(1), s3 = sn.unsqueeze(1);
    ref = at::cat({x1 * c3 - x2 * s3, x2 * c3 + x1 * s3}, 2).view({m, -1});
    kernels::rope(x.data_ptr<float>(), m, heads, half, heads * 2 * half, cs.data_ptr<float>(), sn.data_ptr<float>());
    EXPECT_TRUE(at::allclose(x, ref, 1e-6, 1e-6));
  }
}

// A one-layer KvCache filled with random keys/values at positions [0, n), and the same values as
// fp64 [kv, n, hd] read back through KvCache::read for the reference.
struct TestCache {
  KvCache cache;
  at::Tensor k, v;
};

TestCache make_cache(int64_t kv, int64_t n, int64_t hd, at::ScalarType dtype, uint64_t seed) {
  TestCache c{KvCache(1, kv, hd, dtype, n), at::empty({kv, n, hd}, at::kDouble),
              at::empty({kv, n, hd}, at::kDouble)};
  at::Tensor rows_k = randn({n, kv * hd}, seed), rows_v = randn({n, kv * hd}, seed + 1);
  c.cache.write_rows(0, 0, n, rows_k.data_ptr<float>(), rows_v.data_ptr<float>(), kv * hd);
  c.cache.set_length(n);
  std::vector<float> key(hd), value(hd);
  for (int64_t h = 0; h < kv; ++h) {
    for (int64_t p = 0; p < n; ++p) {
      c.cache.read(0, h, p, key.data(), value.data());
      c.k[h][p].copy_(at::from_blob(key.data(), {hd}, at::kFloat));
      c.v[h][p].copy_(at::from_blob(value.data(), {hd}, at::kFloat));
    }
  }
  return c;
}

TEST(Kernels, KvCacheStoresWhatWasWritten) {
  for (bool bf16 : {false, true}) {
    TestCache c = make_cache(3, 37, 20, bf16 ? at::kBFloat16 : at::kFloat, 5);
    at::Tensor rows_k = randn({37, 60}, 5).view({37, 3, 20}).transpose(0, 1).to(at::kDouble);
    if (bf16) rows_k = rows_k.to(at::kBFloat16).to(at::kDouble);
    EXPECT_TRUE(c.k.equal(rows_k));
    c.cache.reserve(100);  // growth keeps the contents
    std::vector<float> key(20), value(20);
    c.cache.read(0, 2, 36, key.data(), value.data());
    EXPECT_TRUE(at::from_blob(key.data(), {20}, at::kFloat).to(at::kDouble).equal(c.k[2][36]));
    KvCache child = c.cache.fork();
    child.read(0, 1, 17, key.data(), value.data());
    EXPECT_TRUE(at::from_blob(value.data(), {20}, at::kFloat).to(at::kDouble).equal(c.v[1][17]));
  }
}

// int8: each (position, kv head) vector is stored as q·scale with q = round_even(x·127/max|x|); an
// odd head_dim (17) exercises the padding of keys to quads; an all-zero vector gets scale 0.
TEST(Kernels, Int8KvCacheStoresRoundedVectors) {
  for (int64_t hd : {20, 17, 64}) {
    at::Tensor rows_k = randn({37, 3 * hd}, 5), rows_v = randn({37, 3 * hd}, 6);
    rows_k[4].zero_();
    rows_v[5].narrow(0, hd, hd).zero_();
    KvCache cache(2, 3, hd, at::kChar, 16);
    cache.reserve(37);
    cache.write_rows(1, 0, 37, rows_k.data_ptr<float>(), rows_v.data_ptr<float>(), 3 * hd);
    cache.set_length(37);
    cache.reserve(100);  // growth keeps the contents and scales
    KvCache child = cache.fork();
    std::vector<float> key(hd), value(hd), key2(hd), value2(hd);
    for (int64_t p = 0; p < 37; ++p) {
      for (int64_t h = 0; h < 3; ++h) {
        cache.read(1, h, p, key.data(), value.data());
        child.read(1, h, p, key2.data(), value2.data());
        EXPECT_EQ(key, key2);
        EXPECT_EQ(value, value2);
        for (auto [src, got] : {std::pair{rows_k, &key}, std::pair{rows_v, &value}}) {
          const float* x = src.data_ptr<float>() + p * 3 * hd + h * hd;
          float amax = 0.0f;
          for (int64_t d = 0; d < hd; ++d) amax = std::max(amax, std::fabs(x[d]));
          const float scale = amax / 127.0f, inv = amax > 0.0f ? 127.0f / amax : 0.0f;
          for (int64_t d = 0; d < hd; ++d)
            ASSERT_EQ((*got)[d], std::nearbyint(x[d] * inv) * scale) << "hd " << hd << " pos " << p << " head " << h;
        }
      }
    }
    EXPECT_EQ(cache.bytes(), static_cast<size_t>(2 * 3 * cache.capacity() * (kernels::int8_key_dims(hd) + hd) +
                                                 2 * 2 * 3 * cache.capacity() * 4));
  }
}

// What the kernel computes for an int8 cache, in fp64: each query head quantised as
// kernels::quantize_blocks does it (blocks of kQuantBlock dimensions), dequantised (q·scale), then
// ordinary attention over the dequantised keys and values the cache holds.
at::Tensor quantized_query(const at::Tensor& qh) {
  const int64_t hd = qh.numel(), kp = (hd + kernels::kQuantBlock - 1) / kernels::kQuantBlock * kernels::kQuantBlock;
  std::vector<int8_t> q(kp);
  std::vector<float> scales(kp / kernels::kQuantBlock);
  std::vector<int32_t> sums(scales.size());
  at::Tensor x = qh.to(at::kFloat).contiguous();
  kernels::quantize_blocks(x.data_ptr<float>(), hd, kp, q.data(), scales.data(), sums.data());
  at::Tensor out = at::empty({hd}, at::kDouble);
  for (int64_t d = 0; d < hd; ++d)
    out[d] = static_cast<double>(q[d]) * static_cast<double>(scales[d / kernels::kQuantBlock]);
  return out;
}

TEST(Kernels, AttentionMatchesReference) {
  for (Isa isa : isas()) {
    IsaGuard guard(isa);
    for (at::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kChar}) {
      const bool bf16 = dtype != at::kFloat, int8 = dtype == at::kChar;
      for (auto [H, KV, hd] : std::vector<std::array<int64_t, 3>>{{9, 3, 64}, {4, 4, 20}, {4, 1, 32}, {6, 1, 17},
                                                                  {10, 2, 40}}) {
        const int64_t n = 67;
        TestCache c = make_cache(KV, n, hd, dtype, 100 + hd);
        const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
        // a prefill chunk of 5 rows starting on an empty cache, and a decode row at position 66
        const kernels::KvView view = c.cache.view(0);
        std::vector<kernels::AttentionSpan> spans = {{view, 0, 5, 0}, {view, 5, 1, 66}};
        at::Tensor q = randn({6, H * hd}, 300 + hd), out = at::empty({6, H * hd});
        kernels::attention(q.data_ptr<float>(), H * hd, spans, {H, KV, hd, scale}, out.data_ptr<float>(), H * hd);
        for (int64_t row = 0; row < 6; ++row) {
          const int64_t pos = row < 5 ? row : 66;
          for (int64_t h = 0; h < H; ++h) {
            at::Tensor qh = q[row].narrow(0, h * hd, hd).to(at::kDouble);
            if (int8) qh = quantized_query(q[row].narrow(0, h * hd, hd));
            at::Tensor keys = c.k[h / (H / KV)].narrow(0, 0, pos + 1);
            at::Tensor vals = c.v[h / (H / KV)].narrow(0, 0, pos + 1);
            at::Tensor p = at::softmax(at::matmul(keys, qh) * static_cast<double>(scale), 0);
            at::Tensor ref = at::matmul(p, vals);
            at::Tensor got = out[row].narrow(0, h * hd, hd).to(at::kDouble);
            EXPECT_TRUE(at::allclose(got, ref, 1e-5, 1e-5))
                << kernels::isa_name(isa) << " bf16 " << bf16 << " int8 " << int8 << " H" << H << " KV" << KV << " hd" << hd << " row "
                << row << " max err " << (got - ref).abs().max().item<double>();
          }
        }
        // the decode row alone gives the same bits as inside the batch
        at::Tensor alone = at::empty({1, H * hd});
        std::vector<kernels::AttentionSpan> one = {{view, 0, 1, 66}};
        kernels::attention(q[5].contiguous().data_ptr<float>(), H * hd, one, {H, KV, hd, scale},
                           alone.data_ptr<float>(), H * hd);
        EXPECT_TRUE(same_bits(alone.data_ptr<float>(), out[5].data_ptr<float>(), H * hd));
      }
    }
  }
}

// --- the whole model: one sequence's logits, however it is batched and chunked.

std::vector<int32_t> prompt_tokens(Engine& e, const std::string& text) {
  return e.tokenizer().encode(e.chat_template().render({{"user", text}}, true, "The answer is"), true);
}

// Logits of every position of `tokens` computed in one forward on a fresh cache.
at::Tensor logits_alone(const Model& m, const std::vector<int32_t>& tokens) {
  KvCache cache = m.new_cache();
  ForwardRequest req;
  req.tokens = tokens;
  req.chunks.push_back({&cache, 0, static_cast<int64_t>(tokens.size())});
  for (size_t i = 0; i < tokens.size(); ++i) req.logit_rows.push_back(static_cast<int64_t>(i));
  return m.forward(req).logits;
}

// The same sequence fed in chunks of the given sizes (cycled), each step batched with other
// sequences placed before and after it; the other sequences are at different positions.
at::Tensor logits_batched(const Model& m, const std::vector<int32_t>& tokens, const std::vector<int64_t>& chunk_sizes,
                          const std::vector<std::vector<int32_t>>& others, bool target_first) {
  KvCache cache = m.new_cache(16);  // small: growth between steps is exercised too
  std::vector<KvCache> other_caches;
  for (size_t i = 0; i < others.size(); ++i) other_caches.push_back(m.new_cache());
  std::vector<size_t> other_done(others.size(), 0);
  at::Tensor out = at::empty({static_cast<int64_t>(tokens.size()), m.config().vocab_size});
  size_t done = 0, step = 0;
  while (done < tokens.size()) {
    const int64_t n = std::min<int64_t>(chunk_sizes[step++ % chunk_sizes.size()], tokens.size() - done);
    ForwardRequest req;
    auto add_target = [&] {
      const int64_t row0 = static_cast<int64_t>(req.tokens.size());
      req.tokens.insert(req.tokens.end(), tokens.begin() + done, tokens.begin() + done + n);
      req.chunks.push_back({&cache, row0, n});
      for (int64_t i = 0; i < n; ++i) req.logit_rows.push_back(row0 + i);
    };
    if (target_first) add_target();
    for (size_t o = 0; o < others.size(); ++o) {
      const int64_t on = std::min<int64_t>(static_cast<int64_t>(o) + 1, others[o].size() - other_done[o]);
      if (on <= 0) continue;
      const int64_t row0 = static_cast<int64_t>(req.tokens.size());
      req.tokens.insert(req.tokens.end(), others[o].begin() + other_done[o], others[o].begin() + other_done[o] + on);
      req.chunks.push_back({&other_caches[o], row0, on});
      req.logit_rows.push_back(row0);  // some rows of others want logits too
      other_done[o] += on;
    }
    if (!target_first) add_target();
    const int64_t first_target_logit = target_first ? 0 : static_cast<int64_t>(req.logit_rows.size()) - n;
    at::Tensor l = m.forward(req).logits;
    out.narrow(0, static_cast<int64_t>(done), n).copy_(l.narrow(0, first_target_logit, n));
    done += n;
  }
  return out;
}

// dtype: weights, optionally "+int8kv" for an int8 KV cache.
Engine& engine_for(const std::string& dtype) {
  if (dtype == "bf16" || dtype == "fp32") return test::shared_engine(dtype);
  static std::map<std::string, std::unique_ptr<Engine>> others;  // the shared fixture knows bf16 and fp32 only
  auto& slot = others[dtype];
  if (!slot) {
    EngineOptions o;
    const size_t plus = dtype.find('+');
    o.dtype = dtype.substr(0, plus);
    if (plus != std::string::npos) o.kv_dtype = "int8";
    slot = Engine::load(test::default_model_path(), o);
  }
  return *slot;
}

void expect_batch_invariant(const std::string& dtype, size_t prompt_limit) {
  Engine& e = engine_for(dtype);
  const Model& m = e.model();
  std::vector<int32_t> target = prompt_tokens(e, "Is a tomato a fruit? (a) yes (b) no (c) unknown.");
  if (target.size() > prompt_limit) target.resize(prompt_limit);
  std::vector<std::vector<int32_t>> others;
  for (const char* q : {"Name a colour.", "Write a haiku about rain, please, in English.", "2+2?"})
    others.push_back(prompt_tokens(e, q));
  const at::Tensor ref = logits_alone(m, target);
  const int64_t n = ref.numel();
  struct Case { std::vector<int64_t> chunks; size_t n_others; bool first; };
  const std::vector<Case> cases = {{{1}, 0, true},  {{3, 1, 7}, 1, false}, {{5}, 3, true},
                                   {{2, 9}, 3, false}, {{64}, 2, true},     {{1}, 3, false}};
  for (const Case& c : cases) {
    std::vector<std::vector<int32_t>> o(others.begin(), others.begin() + c.n_others);
    at::Tensor got = logits_batched(m, target, c.chunks, o, c.first);
    EXPECT_TRUE(same_bits(got.data_ptr<float>(), ref.data_ptr<float>(), n))
        << dtype << " chunks " << c.chunks[0] << "… with " << c.n_others << " others, first " << c.first
        << ": max |diff| " << (got - ref).abs().max().item<float>();
  }
}

TEST(ModelBatchInvariance, Bf16LogitsAreBitIdenticalAloneChunkedAndBatched) { expect_batch_invariant("bf16", 1000); }

TEST(ModelBatchInvariance, Fp32LogitsAreBitIdenticalAloneChunkedAndBatched) { expect_batch_invariant("fp32", 1000); }

TEST(ModelBatchInvariance, Int8LogitsAreBitIdenticalAloneChunkedAndBatched) { expect_batch_invariant("int8", 1000); }

TEST(ModelBatchInvariance, Int8KvCacheLogitsAreBitIdenticalAloneChunkedAndBatched) {
  EXPECT_EQ(engine_for("int8+int8kv").model().cache_dtype(), at::kChar);
  expect_batch_invariant("int8+int8kv", 1000);
  expect_batch_invariant("bf16+int8kv", 1000);
}

TEST(ModelBatchInvariance, Int8KvCachePortablePathToo) {
  IsaGuard guard(Isa::Portable);
  expect_batch_invariant("bf16+int8kv", 6);
}

// The AVX2 + FMA path (CPUs without AVX-512), where this CPU has it: bf16 weights on the bf16 cache
// (FMA tiles on widened bf16, fp32/bf16 attention), fp32 weights, and int8 weights on the int8
// cache (exact int16 multiply-adds in the matmul and in the attention scores).
TEST(ModelBatchInvariance, Avx2PathToo) {
  if (kernels::detected_isa() < Isa::Avx2) GTEST_SKIP() << "this CPU has no AVX2";
  IsaGuard guard(Isa::Avx2);
  expect_batch_invariant("bf16", 1000);
  expect_batch_invariant("fp32", 1000);
  expect_batch_invariant("int8+int8kv", 1000);
}

TEST(ModelBatchInvariance, PortablePathToo) {
  IsaGuard guard(Isa::Portable);
  expect_batch_invariant("bf16", 6);
}

}  // namespace
}  // namespace isc
