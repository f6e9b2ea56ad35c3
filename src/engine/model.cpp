// Model::forward reads top to bottom like the architecture: embed, then per block
// norm → fused QKV → RoPE → cache write → attention → output proj → norm → SwiGLU → down proj.
#include "engine/model.h"

#include <cmath>

#include <fmt/core.h>

#include "common/error.h"

namespace isc {

namespace {

// Inverse RoPE frequencies, with the position-interpolation schemes a config may ask for.
at::Tensor rope_inverse_frequencies(const ModelConfig& c, const at::Tensor& freq_factors) {
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
  at::Tensor t = at::tensor(f, at::kFloat);
  if (freq_factors.defined()) t = t / freq_factors;
  return t;
}

}  // namespace

Model::Model(ModelConfig config, ModelWeights weights, at::ScalarType dtype)
    : config_(std::move(config)), w_(std::move(weights)), dtype_(dtype) {
  inv_freq_ = rope_inverse_frequencies(config_, w_.rope_freq_factors);
}

KvCache Model::new_cache(int64_t capacity) const {
  return KvCache(config_.n_layers, config_.n_kv_heads, config_.head_dim, dtype_, capacity);
}

size_t Model::weight_bytes() const {
  size_t n = w_.embed.nbytes() + w_.out_norm.nbytes();
  if (!config_.tied_embeddings) n += w_.lm_head.nbytes();
  for (const auto& l : w_.layers) {
    n += l.attn_norm.nbytes() + l.wqkv.nbytes() + l.wo.nbytes() + l.ffn_norm.nbytes() +
         l.w_gate_up.nbytes() + l.w_down.nbytes();
    if (l.bqkv.defined()) n += l.bqkv.nbytes();
  }
  return n;
}

// x: [T, dim] fp32 -> normalised, scaled, in compute dtype (the input of a matmul).
at::Tensor Model::rms_norm(const at::Tensor& x, const at::Tensor& weight) const {
  at::Tensor r = at::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + config_.norm_eps);
  return (x * r * weight).to(dtype_);
}

// Rotate-half RoPE on [T, heads, head_dim] fp32 with per-row cos/sin [T, 1, head_dim/2].
at::Tensor Model::rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) const {
  const int64_t half = config_.head_dim / 2;
  at::Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  return at::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
}

// Causal attention of each chunk's queries over its cache (which already holds the chunk's keys).
void Model::attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t layer,
                      const std::vector<SequenceChunk>& chunks, at::Tensor& out) const {
  const int64_t H = config_.n_heads, KV = config_.n_kv_heads, hd = config_.head_dim, G = H / KV;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  for (const SequenceChunk& ch : chunks) {
    const int64_t pos0 = ch.cache->length(), len = ch.len, ctx = pos0 + len;
    ch.cache->write(layer, pos0, k.narrow(0, ch.row0, len).to(dtype_), v.narrow(0, ch.row0, len).to(dtype_));
    at::Tensor keys = ch.cache->keys(layer, ctx).to(at::kFloat);    // [KV, ctx, hd]
    at::Tensor vals = ch.cache->values(layer, ctx).to(at::kFloat);  // [KV, ctx, hd]
    // queries [len, H, hd] -> [KV, G*len, hd], heads of a group share their kv head
    at::Tensor qg = q.narrow(0, ch.row0, len).view({len, KV, G, hd}).permute({1, 2, 0, 3}).reshape({KV, G * len, hd});
    at::Tensor scores = at::bmm(qg, keys.transpose(1, 2)) * scale;  // [KV, G*len, ctx]
    if (len > 1) {
      // query i sits at position pos0+i and sees keys 0..pos0+i
      at::Tensor qpos = at::arange(pos0, ctx, at::kLong).repeat({G});          // [G*len]
      at::Tensor kpos = at::arange(0, ctx, at::kLong);                          // [ctx]
      at::Tensor masked = kpos.unsqueeze(0) > qpos.unsqueeze(1);                // [G*len, ctx]
      scores.masked_fill_(masked.unsqueeze(0), -std::numeric_limits<float>::infinity());
    }
    at::Tensor o = at::bmm(at::softmax(scores, -1), vals);  // [KV, G*len, hd]
    out.narrow(0, ch.row0, len).copy_(o.view({KV, G, len, hd}).permute({2, 0, 1, 3}).reshape({len, H * hd}));
  }
}

ForwardResult Model::forward(const ForwardRequest& req) const {
  const ModelConfig& c = config_;
  const int64_t T = static_cast<int64_t>(req.tokens.size());
  const int64_t H = c.n_heads, KV = c.n_kv_heads, hd = c.head_dim;
  if (T == 0) throw Error("Model::forward: empty batch");

  // Positions of every row, and room in every cache.
  std::vector<int64_t> pos(T);
  for (const SequenceChunk& ch : req.chunks) {
    ch.cache->reserve(ch.cache->length() + ch.len);
    for (int64_t i = 0; i < ch.len; ++i) pos[ch.row0 + i] = ch.cache->length() + i;
  }
  at::Tensor positions = at::tensor(pos, at::kLong).to(at::kFloat);
  at::Tensor angles = positions.unsqueeze(1) * inv_freq_.unsqueeze(0);  // [T, hd/2]
  at::Tensor cos = angles.cos().unsqueeze(1), sin = angles.sin().unsqueeze(1);

  std::vector<int64_t> ids(req.tokens.begin(), req.tokens.end());
  for (int64_t id : ids)
    if (id < 0 || id >= c.vocab_size) throw Error(fmt::format("token id {} outside the vocabulary ({})", id, c.vocab_size));
  at::Tensor x = w_.embed.index_select(0, at::tensor(ids, at::kLong)).to(at::kFloat);  // [T, dim] residual

  ForwardResult result;
  result.hidden.resize(req.hidden.size());
  auto capture = [&](int layer) {
    for (size_t i = 0; i < req.hidden.size(); ++i)
      if (req.hidden[i].layer == layer) result.hidden[i] = x[req.hidden[i].row].clone();
  };
  capture(0);

  at::Tensor attn_out = at::empty({T, H * hd}, at::kFloat);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w_.layers[l];
    // attention block
    at::Tensor qkv = at::linear(rms_norm(x, L.attn_norm), L.wqkv).to(at::kFloat);  // [T, (H+2KV) hd]
    if (L.bqkv.defined()) qkv = qkv + L.bqkv;
    at::Tensor q = rope(qkv.narrow(1, 0, H * hd).view({T, H, hd}), cos, sin);
    at::Tensor k = rope(qkv.narrow(1, H * hd, KV * hd).view({T, KV, hd}), cos, sin);
    at::Tensor v = qkv.narrow(1, (H + KV) * hd, KV * hd).view({T, KV, hd});
    attention(q, k, v, l, req.chunks, attn_out);
    x = x + at::linear(attn_out.to(dtype_), L.wo).to(at::kFloat);
    // feed-forward block
    at::Tensor gu = at::linear(rms_norm(x, L.ffn_norm), L.w_gate_up).to(at::kFloat);  // [T, 2 hidden]
    at::Tensor act = at::silu(gu.narrow(1, 0, c.hidden_dim)) * gu.narrow(1, c.hidden_dim, c.hidden_dim);
    x = x + at::linear(act.to(dtype_), L.w_down).to(at::kFloat);
    capture(static_cast<int>(l + 1));
  }
  for (const SequenceChunk& ch : req.chunks) ch.cache->set_length(ch.cache->length() + ch.len);

  if (!req.logit_rows.empty()) {
    at::Tensor rows = at::tensor(req.logit_rows, at::kLong);
    at::Tensor h = rms_norm(x.index_select(0, rows), w_.out_norm);
    result.logits = at::linear(h, w_.lm_head).to(at::kFloat);
  }
  return result;
}

}  // namespace isc
