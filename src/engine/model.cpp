// Model::forward reads top to bottom like the architecture: embed, then per block
// norm → fused QKV → RoPE → cache write → attention → output proj → norm → SwiGLU → down proj.
// Every step is a per-row kernel (kernels.h, attention.h), so no row sees the batch around it.
#include "engine/model.h"

#include <cmath>

#include <fmt/core.h>

#include "common/error.h"
#include "engine/attention.h"
#include "engine/kernels/kernels.h"

namespace isc {

namespace {

// Inverse RoPE frequencies, with the position-interpolation schemes a config may ask for.
std::vector<float> rope_inverse_frequencies(const ModelConfig& c, const at::Tensor& freq_factors) {
  const int64_t half = c.head_dim / 2;
  std::vector<float> f(half);
  for (int64_t i = 0; i < half; ++i) {
    double freq = 1.0 / std::pow(c.rope_theta, (2.0 * i) / c.head_dim);
    const RopeScaling& s = c.rope_scaling;
    if (s.type == "linear") {
      freq /= s.factor;
    } else if (s.type == "llama3") {
      // Long wavelengths are interpolated, short ones kept, a smooth blend in between.
      const double low_wavelen = s.original_context / s.low_freq_factor;
      const double high_wavelen = s.original_context / s.high_freq_factor;
      const double wavelen = 2.0 * M_PI / freq;
      if (wavelen > low_wavelen) {
        freq /= s.factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (s.original_context / wavelen - s.low_freq_factor) /
                              (s.high_freq_factor - s.low_freq_factor);
        freq = (1.0 - smooth) * freq / s.factor + smooth * freq;
      }
    }
    f[i] = static_cast<float>(freq);
  }
  if (freq_factors.defined()) {
    if (freq_factors.numel() != half) throw Error(fmt::format("rope_freqs has {} values, expected {}", freq_factors.numel(), half));
    at::Tensor ff = freq_factors.to(at::kFloat).contiguous();
    for (int64_t i = 0; i < half; ++i) f[i] /= ff.data_ptr<float>()[i];
  }
  return f;
}

}  // namespace

Model::Model(ModelConfig config, ModelWeights weights, at::ScalarType dtype, at::ScalarType cache_dtype)
    : config_(std::move(config)), w_(std::move(weights)), dtype_(dtype), cache_dtype_(cache_dtype) {
  if (cache_dtype_ == at::ScalarType::Undefined) cache_dtype_ = dtype_ == at::kFloat ? at::kFloat : at::kBFloat16;
  if (cache_dtype_ != at::kFloat && cache_dtype_ != at::kBFloat16 && cache_dtype_ != at::kChar)
    throw Error("Model: KV cache dtype must be fp32, bf16 or int8");
  inv_freq_ = rope_inverse_frequencies(config_, w_.rope_freq_factors);
}

KvCache Model::new_cache(int64_t capacity) const {
  return KvCache(config_.n_layers, config_.n_kv_heads, config_.head_dim, cache_dtype(), capacity);
}

size_t Model::weight_bytes() const {
  size_t n = w_.embed.bytes() + w_.lm_head.bytes() + w_.out_norm.nbytes();
  for (const auto& l : w_.layers) {
    n += l.attn_norm.nbytes() + l.wqkv.bytes() + l.wo.bytes() + l.ffn_norm.nbytes() + l.w_gate_up.bytes() +
         l.w_down.bytes();
    if (l.bqkv.defined()) n += l.bqkv.nbytes();
  }
  return n;
}

namespace {

// Per-call work buffers, kept per thread so steady decoding does not allocate.
struct Scratch {
  std::vector<float> x, norm, qkv, attn, gu, act, cos, sin;
  static Scratch& get() {
    thread_local Scratch s;
    return s;
  }
};

void ensure(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

}  // namespace

ForwardResult Model::forward(const ForwardRequest& req) const {
  const ModelConfig& c = config_;
  const int64_t T = static_cast<int64_t>(req.tokens.size());
  const int64_t H = c.n_heads, KV = c.n_kv_heads, hd = c.head_dim, half = hd / 2, dim = c.dim;
  const int64_t F = c.hidden_dim, QKV = (H + 2 * KV) * hd;
  if (T == 0) throw Error("Model::forward: empty batch");
  for (int32_t id : req.tokens)
    if (id < 0 || id >= c.vocab_size) throw Error(fmt::format("token id {} outside the vocabulary ({})", id, c.vocab_size));
  int64_t covered = 0;
  for (const SequenceChunk& ch : req.chunks) {
    if (!ch.cache || ch.len <= 0 || ch.row0 < 0 || ch.row0 + ch.len > T)
      throw Error(fmt::format("Model::forward: chunk rows [{}, {}) outside the batch of {}", ch.row0, ch.row0 + ch.len, T));
    covered += ch.len;
  }
  if (covered != T) throw Error(fmt::format("Model::forward: chunks cover {} rows of {}", covered, T));
  if (!req.row_steering.empty() && static_cast<int64_t>(req.row_steering.size()) != T)
    throw Error(fmt::format("Model::forward: {} steering entries for {} rows", req.row_steering.size(), T));
  for (const Steering* st : req.row_steering) {
    if (!st) continue;
    for (const auto& [layer, v] : st->add)
      if (layer < 1 || layer > c.n_layers || static_cast<int64_t>(v.size()) != dim)
        throw Error(fmt::format("steering vector for layer {} of width {} (the model has layers 1..{} of width {})",
                                layer, v.size(), c.n_layers, dim));
  }
  for (int64_t r : req.logit_rows)
    if (r < 0 || r >= T) throw Error(fmt::format("Model::forward: logit row {} outside the batch of {}", r, T));

  Scratch& s = Scratch::get();
  ensure(s.x, T * dim);
  ensure(s.norm, T * std::max(dim, F));
  ensure(s.qkv, T * QKV);
  ensure(s.attn, T * H * hd);
  ensure(s.gu, T * 2 * F);
  ensure(s.act, T * F);
  ensure(s.cos, T * half);
  ensure(s.sin, T * half);

  // Room in every cache first (growth moves the buffers), then each row's position and RoPE table.
  for (const SequenceChunk& ch : req.chunks) ch.cache->reserve(ch.cache->length() + ch.len);
  for (const SequenceChunk& ch : req.chunks) {
    for (int64_t i = 0; i < ch.len; ++i) {
      const float p = static_cast<float>(ch.cache->length() + i);
      for (int64_t j = 0; j < half; ++j) {
        const float a = p * inv_freq_[j];
        s.cos[(ch.row0 + i) * half + j] = std::cos(a);
        s.sin[(ch.row0 + i) * half + j] = std::sin(a);
      }
    }
  }

  float* x = s.x.data();  // [T, dim] fp32 residual stream
  for (int64_t r = 0; r < T; ++r) w_.embed.unpack_row(req.tokens[r], x + r * dim);

  ForwardResult result;
  result.hidden.resize(req.hidden.size());
  auto capture = [&](int layer) {
    for (size_t i = 0; i < req.hidden.size(); ++i) {
      if (req.hidden[i].layer != layer) continue;
      const int64_t row = req.hidden[i].row;
      if (row < 0 || row >= T) throw Error(fmt::format("Model::forward: hidden row {} outside the batch", row));
      result.hidden[i] = at::from_blob(x + row * dim, {dim}, at::kFloat).clone();
    }
  };
  capture(0);
  // Steering: the layer's vector joins the row's residual stream after the block, before capture.
  auto steer = [&](int layer) {
    for (size_t r = 0; r < req.row_steering.size(); ++r) {
      const Steering* st = req.row_steering[r];
      if (!st) continue;
      auto it = st->add.find(layer);
      if (it == st->add.end()) continue;
      float* row = x + static_cast<int64_t>(r) * dim;
      for (int64_t j = 0; j < dim; ++j) row[j] += it->second[j];
    }
  };

  std::vector<kernels::AttentionSpan> spans(req.chunks.size());
  const kernels::AttentionShape shape{H, KV, hd, static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)))};
  const float eps = static_cast<float>(c.norm_eps);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w_.layers[l];
    // attention block
    kernels::rms_norm(x, T, dim, dim, L.attn_norm.data_ptr<float>(), eps, s.norm.data(), dim);
    kernels::linear(s.norm.data(), T, dim, L.wqkv, s.qkv.data(), QKV);
    if (L.bqkv.defined()) {
      const float* b = L.bqkv.data_ptr<float>();
      for (int64_t r = 0; r < T; ++r)
        for (int64_t j = 0; j < QKV; ++j) s.qkv[r * QKV + j] += b[j];
    }
    kernels::rope(s.qkv.data(), T, H + KV, half, QKV, s.cos.data(), s.sin.data());  // q and k heads
    for (size_t i = 0; i < req.chunks.size(); ++i) {
      const SequenceChunk& ch = req.chunks[i];
      const float* row = s.qkv.data() + ch.row0 * QKV;
      ch.cache->write_rows(l, ch.cache->length(), ch.len, row + H * hd, row + (H + KV) * hd, QKV);
      spans[i] = {ch.cache->view(l), ch.row0, ch.len, ch.cache->length()};
    }
    kernels::attention(s.qkv.data(), QKV, spans, shape, s.attn.data(), H * hd);
    kernels::linear(s.attn.data(), T, H * hd, L.wo, x, dim, /*accumulate=*/true);
    // feed-forward block
    kernels::rms_norm(x, T, dim, dim, L.ffn_norm.data_ptr<float>(), eps, s.norm.data(), dim);
    kernels::linear(s.norm.data(), T, dim, L.w_gate_up, s.gu.data(), 2 * F);
    kernels::silu_mul(s.gu.data(), T, F, 2 * F, s.act.data(), F);
    kernels::linear(s.act.data(), T, F, L.w_down, x, dim, /*accumulate=*/true);
    steer(static_cast<int>(l + 1));
    capture(static_cast<int>(l + 1));
  }
  for (const SequenceChunk& ch : req.chunks) ch.cache->set_length(ch.cache->length() + ch.len);

  if (!req.logit_rows.empty()) {
    const int64_t R = static_cast<int64_t>(req.logit_rows.size());
    ensure(s.norm, R * dim);
    for (int64_t i = 0; i < R; ++i)
      kernels::rms_norm(x + req.logit_rows[i] * dim, 1, dim, dim, w_.out_norm.data_ptr<float>(), eps,
                        s.norm.data() + i * dim, dim);
    result.logits = at::empty({R, c.vocab_size}, at::kFloat);
    kernels::linear(s.norm.data(), R, dim, w_.head(), result.logits.data_ptr<float>(), c.vocab_size);
  }
  return result;
}

}  // namespace isc
