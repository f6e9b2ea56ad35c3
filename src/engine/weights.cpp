// Weight loading: each source (GGUF, safetensors) supplies fp32 tensors by canonical (GGUF-style)
// name; one assembly routine fuses, converts and checks shapes for both.
#include "engine/weights.h"

#include <filesystem>
#include <functional>
#include <optional>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "common/file_pages.h"
#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"

namespace isc {
namespace {

// Fetches a tensor by canonical name as fp32 in PyTorch order, or nullopt when absent.
using TensorSource = std::function<std::optional<at::Tensor>(const std::string&)>;

// The name a canonical tensor has in the source file, so errors name what the user can look up.
using TensorNamer = std::function<std::string(const std::string&)>;

at::Tensor require(const TensorSource& src, const TensorNamer& shown, const std::string& where,
                   const std::string& name, std::vector<int64_t> shape) {
  auto t = src(name);
  if (!t) throw Error(fmt::format("{}: missing tensor '{}'", where, shown(name)));
  if (t->sizes().vec() != shape) {
    throw Error(fmt::format("{}: tensor '{}' has shape [{}], expected [{}]", where, shown(name),
                            fmt::join(t->sizes().vec(), ", "), fmt::join(shape, ", ")));
  }
  return *t;
}

// GGUF files converted from HF Llama checkpoints store Q/K rows of each head interleaved
// (pairs for "normal" RoPE); we run rotate-half RoPE, so put the rows back in HF order.
at::Tensor unpermute_rows(const at::Tensor& w, int64_t n_heads) {
  const int64_t rows = w.size(0);
  const int64_t hd = rows / n_heads;
  auto rest = w.sizes().slice(1).vec();
  std::vector<int64_t> s = {n_heads, hd / 2, 2};
  s.insert(s.end(), rest.begin(), rest.end());
  return w.reshape(s).transpose(1, 2).reshape(w.sizes()).contiguous();
}

ModelWeights assemble(const TensorSource& src, const TensorNamer& shown, const std::string& where,
                      ModelConfig& c, at::ScalarType dtype, bool interleaved_qk) {
  ModelWeights w;
  auto need = [&](const std::string& name, std::vector<int64_t> shape) {
    return require(src, shown, where, name, std::move(shape));
  };
  const int64_t hd = c.head_dim, dim = c.dim;
  const kernels::WeightType wt = weight_type_for(dtype);
  auto to = [&](const at::Tensor& t) {
    at::Tensor f = t.to(at::kFloat).contiguous();
    return kernels::PackedMatrix::pack(f.data_ptr<float>(), f.size(0), f.size(1), wt);
  };
  int64_t n_params = 0;
  auto count = [&](const at::Tensor& t) { n_params += t.numel(); return t; };

  w.embed = to(count(need("token_embd.weight", {c.vocab_size, dim})));
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    LayerWeights L;
    L.attn_norm = count(need(p + "attn_norm.weight", {dim})).contiguous();
    at::Tensor q = count(need(p + "attn_q.weight", {c.n_heads * hd, dim}));
    at::Tensor k = count(need(p + "attn_k.weight", {c.n_kv_heads * hd, dim}));
    at::Tensor v = count(need(p + "attn_v.weight", {c.n_kv_heads * hd, dim}));
    std::optional<at::Tensor> bq, bk, bv;
    if (c.qkv_bias) {
      bq = count(need(p + "attn_q.bias", {c.n_heads * hd}));
      bk = count(need(p + "attn_k.bias", {c.n_kv_heads * hd}));
      bv = count(need(p + "attn_v.bias", {c.n_kv_heads * hd}));
    }
    if (interleaved_qk) {
      q = unpermute_rows(q, c.n_heads);
      k = unpermute_rows(k, c.n_kv_heads);
      if (bq) bq = unpermute_rows(*bq, c.n_heads);
      if (bk) bk = unpermute_rows(*bk, c.n_kv_heads);
    }
    L.wqkv = to(at::cat({q, k, v}, 0));
    if (c.qkv_bias) L.bqkv = at::cat({*bq, *bk, *bv}, 0).to(at::kFloat).contiguous();
    L.wo = to(count(need(p + "attn_output.weight", {dim, c.n_heads * hd})));
    L.ffn_norm = count(need(p + "ffn_norm.weight", {dim})).contiguous();
    at::Tensor gate = count(need(p + "ffn_gate.weight", {c.hidden_dim, dim}));
    at::Tensor up = count(need(p + "ffn_up.weight", {c.hidden_dim, dim}));
    L.w_gate_up = to(at::cat({gate, up}, 0));
    L.w_down = to(count(need(p + "ffn_down.weight", {dim, c.hidden_dim})));
    w.layers.push_back(std::move(L));
  }
  w.out_norm = count(need("output_norm.weight", {dim})).contiguous();
  // Untied means the file must have its own head: falling back to the embedding would run a
  // different model than the one described (GGUF sets tied from the head's absence).
  if (!c.tied_embeddings) {
    w.lm_head = to(count(need("output.weight", {c.vocab_size, dim})));
  }  // tied: ModelWeights::head() reads the embedding
  if (auto f = src("rope_freqs.weight")) w.rope_freq_factors = f->to(at::kFloat).contiguous();
  c.n_params = n_params;
  return w;
}

}  // namespace

kernels::WeightType weight_type_for(at::ScalarType dtype) {
  if (dtype == at::kFloat) return kernels::WeightType::F32;
  if (dtype == at::kBFloat16) return kernels::WeightType::BF16;
  if (dtype == at::kChar) return kernels::WeightType::I8;
  throw Error(fmt::format("no packed weight format for dtype {}", c10::toString(dtype)));
}

namespace {

int64_t meta_int(const GgufFile& f, const std::string& key) { return f.get_int(key); }

}  // namespace

ModelConfig config_from_gguf(const GgufFile& f) {
  ModelConfig c;
  c.architecture = f.get_string("general.architecture");
  if (c.architecture != "llama" && c.architecture != "qwen2" && c.architecture != "mistral") {
    throw Error(fmt::format("{}: unsupported architecture '{}' (supported: llama, mistral, qwen2)",
                            f.path(), c.architecture));
  }
  const std::string a = c.architecture + ".";
  c.n_layers = meta_int(f, a + "block_count");
  c.dim = meta_int(f, a + "embedding_length");
  c.hidden_dim = meta_int(f, a + "feed_forward_length");
  c.n_heads = meta_int(f, a + "attention.head_count");
  c.n_kv_heads = f.find(a + "attention.head_count_kv") ? meta_int(f, a + "attention.head_count_kv") : c.n_heads;
  c.head_dim = f.find(a + "attention.key_length") ? meta_int(f, a + "attention.key_length") : c.dim / c.n_heads;
  c.context_length = meta_int(f, a + "context_length");
  c.norm_eps = f.get_float(a + "attention.layer_norm_rms_epsilon");
  c.rope_theta = f.find(a + "rope.freq_base") ? f.get_float(a + "rope.freq_base") : 10000.0;
  if (f.find(a + "rope.scaling.type")) {
    c.rope_scaling.type = f.get_string(a + "rope.scaling.type");
    if (c.rope_scaling.type == "none") c.rope_scaling.type.clear();
    if (f.find(a + "rope.scaling.factor")) c.rope_scaling.factor = f.get_float(a + "rope.scaling.factor");
    if (!c.rope_scaling.type.empty() && c.rope_scaling.type != "linear") {
      throw Error(fmt::format("{}: unsupported rope scaling type '{}'", f.path(), c.rope_scaling.type));
    }
  }
  const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  if (!embd) throw Error(fmt::format("{}: missing tensor 'token_embd.weight'", f.path()));
  c.vocab_size = embd->shape().at(0);
  c.qkv_bias = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  if (c.n_layers <= 0 || c.dim <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 || c.n_heads % c.n_kv_heads) {
    throw Error(fmt::format("{}: inconsistent model shape (layers {}, dim {}, heads {}, kv heads {})",
                            f.path(), c.n_layers, c.dim, c.n_heads, c.n_kv_heads));
  }
  return c;
}

ModelWeights load_weights_gguf(const GgufFile& f, ModelConfig& c, at::ScalarType dtype) {
  TensorSource src = [&](const std::string& name) -> std::optional<at::Tensor> {
    const GgufTensorInfo* t = f.find_tensor(name);
    if (!t) return std::nullopt;
    at::Tensor out = at::empty(t->shape(), at::kFloat);
    f.dequantize_tensor(*t, out.data_ptr<float>());
    release_file_pages(t->data, t->nbytes);  // read once: the engine keeps its own copy
    return out;
  };
  // llama.cpp's converter interleaves Q/K rows for the Llama family; Qwen2 keeps HF order.
  const bool interleaved = c.architecture != "qwen2";
  return assemble(src, [](const std::string& n) { return n; }, f.path(), c, dtype, interleaved);
}

ModelConfig config_from_hf_folder(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "config.json").string();
  HfConfig h = HfConfig::load(path);
  ModelConfig c;
  c.architecture = h.model_type;
  if (c.architecture != "llama" && c.architecture != "qwen2" && c.architecture != "mistral") {
    throw Error(fmt::format("{}: unsupported model_type '{}' (supported: llama, mistral, qwen2)", path, c.architecture));
  }
  c.n_layers = h.num_hidden_layers;
  c.dim = h.hidden_size;
  c.hidden_dim = h.intermediate_size;
  c.n_heads = h.num_attention_heads;
  c.n_kv_heads = h.num_key_value_heads;
  c.head_dim = h.head_dim > 0 ? h.head_dim : c.dim / c.n_heads;
  c.vocab_size = h.vocab_size;
  c.context_length = h.max_position_embeddings;
  c.norm_eps = h.rms_norm_eps;
  c.rope_theta = h.rope_theta;
  if (h.rope_scaling) {
    const HfRopeScaling& r = *h.rope_scaling;
    c.rope_scaling.type = r.type;
    c.rope_scaling.factor = r.factor.value_or(1.0);
    c.rope_scaling.low_freq_factor = r.low_freq_factor.value_or(1.0);
    c.rope_scaling.high_freq_factor = r.high_freq_factor.value_or(4.0);
    c.rope_scaling.original_context = r.original_max_position_embeddings.value_or(c.context_length);
  }
  if (!c.rope_scaling.type.empty() && c.rope_scaling.type != "linear" && c.rope_scaling.type != "llama3" &&
      c.rope_scaling.type != "default") {
    throw Error(fmt::format("{}: unsupported rope_scaling type '{}'", path, c.rope_scaling.type));
  }
  if (c.rope_scaling.type == "default") c.rope_scaling.type.clear();
  c.tied_embeddings = h.tie_word_embeddings;
  c.qkv_bias = h.attention_bias || c.architecture == "qwen2";
  if (h.attention_out_bias) throw Error(fmt::format("{}: attention output bias is not supported", path));
  if (h.hidden_act != "silu") throw Error(fmt::format("{}: hidden_act '{}' is not supported (silu only)", path, h.hidden_act));
  return c;
}

ModelWeights load_weights_hf_folder(const std::string& dir, ModelConfig& c, at::ScalarType dtype) {
  SafetensorsModel m = SafetensorsModel::open_folder(dir);
  // canonical (GGUF-style) name -> HF name
  auto hf_name = [](const std::string& n) -> std::string {
    if (n == "token_embd.weight") return "model.embed_tokens.weight";
    if (n == "output_norm.weight") return "model.norm.weight";
    if (n == "output.weight") return "lm_head.weight";
    if (n.rfind("blk.", 0) == 0) {
      const size_t dot = n.find('.', 4);
      const std::string layer = n.substr(4, dot - 4), rest = n.substr(dot + 1);
      static const std::pair<const char*, const char*> map[] = {
          {"attn_norm.weight", "input_layernorm.weight"},
          {"ffn_norm.weight", "post_attention_layernorm.weight"},
          {"attn_q.weight", "self_attn.q_proj.weight"}, {"attn_k.weight", "self_attn.k_proj.weight"},
          {"attn_v.weight", "self_attn.v_proj.weight"}, {"attn_q.bias", "self_attn.q_proj.bias"},
          {"attn_k.bias", "self_attn.k_proj.bias"},     {"attn_v.bias", "self_attn.v_proj.bias"},
          {"attn_output.weight", "self_attn.o_proj.weight"},
          {"ffn_gate.weight", "mlp.gate_proj.weight"},  {"ffn_up.weight", "mlp.up_proj.weight"},
          {"ffn_down.weight", "mlp.down_proj.weight"}};
      for (auto& [g, h] : map)
        if (rest == g) return "model.layers." + layer + "." + h;
    }
    return "";
  };
  TensorSource src = [&](const std::string& name) -> std::optional<at::Tensor> {
    const std::string h = hf_name(name);
    if (h.empty()) return std::nullopt;
    const SafetensorsTensor* t = m.find(h);
    if (!t) return std::nullopt;
    at::Tensor out = at::empty(t->shape, at::kFloat);
    to_float(*t, out.data_ptr<float>());
    release_file_pages(t->data, t->nbytes);  // read once: the engine keeps its own copy
    return out;
  };
  return assemble(src, hf_name, dir, c, dtype, /*interleaved_qk=*/false);
}

}  // namespace isc
