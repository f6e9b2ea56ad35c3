# Writers of tiny random-weight Llama-family models (HF folder, sharded folder, GGUF in F32/F16/Q8_0)
# with the real SmolLM2 tokenizer, so the engine's loaders and forward pass can be checked cheaply.
import functools
import json
import pathlib
import shutil

import gguf
import numpy as np
from safetensors.numpy import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
SMOL_FOLDER = ROOT.parent / "shared" / "models" / "smollm2-135m-instruct"
SMOL_GGUF = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
VOCAB = 49152  # SmolLM2's, so its tokenizer fits the tiny models


def base_config(**overrides):
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "max_position_embeddings": 2048,
        "vocab_size": VOCAB,
        "tie_word_embeddings": True,
        "hidden_act": "silu",
        "attention_bias": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
    }
    cfg.update(overrides)
    return cfg


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def random_weights(cfg, seed=0):
    """HF-named float32 weights, scaled so activations stay O(1) and attention is far from uniform."""
    rng = np.random.default_rng(seed)
    D, F, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, KV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)

    def mat(rows, cols):
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

    def norm(n):  # not all ones, so a loader that drops or misplaces a norm is caught
        return (1.0 + 0.2 * rng.standard_normal(n)).astype(np.float32)

    w = {"model.embed_tokens.weight": (0.5 * rng.standard_normal((V, D))).astype(np.float32)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = norm(D)
        w[p + "self_attn.q_proj.weight"] = 1.5 * mat(H * hd, D)
        w[p + "self_attn.k_proj.weight"] = 1.5 * mat(KV * hd, D)
        w[p + "self_attn.v_proj.weight"] = mat(KV * hd, D)
        if bias:
            w[p + "self_attn.q_proj.bias"] = (0.5 * rng.standard_normal(H * hd)).astype(np.float32)
            w[p + "self_attn.k_proj.bias"] = (0.5 * rng.standard_normal(KV * hd)).astype(np.float32)
            w[p + "self_attn.v_proj.bias"] = (0.5 * rng.standard_normal(KV * hd)).astype(np.float32)
        w[p + "self_attn.o_proj.weight"] = mat(D, H * hd)
        w[p + "post_attention_layernorm.weight"] = norm(D)
        w[p + "mlp.gate_proj.weight"] = mat(F, D)
        w[p + "mlp.up_proj.weight"] = mat(F, D)
        w[p + "mlp.down_proj.weight"] = mat(D, F)
    w["model.norm.weight"] = norm(D)
    if not cfg.get("tie_word_embeddings"):
        w["lm_head.weight"] = (0.5 * rng.standard_normal((V, D))).astype(np.float32)
    return w


@functools.lru_cache(maxsize=1)
def smol_gguf_fields():
    """The tokenizer metadata of the real SmolLM2 GGUF (read once: the arrays are large)."""
    r = gguf.GGUFReader(SMOL_GGUF)
    return {k: f.contents() for k, f in r.fields.items() if k.startswith("tokenizer.")}


def add_tokenizer_files(folder):
    """tokenizer.json from SmolLM2, plus a tokenizer_config.json carrying its chat template."""
    shutil.copy(SMOL_FOLDER / "tokenizer.json", folder / "tokenizer.json")
    tc = {
        "chat_template": smol_gguf_fields()["tokenizer.chat_template"],
        "bos_token": "<|im_start|>",
        "eos_token": "<|im_end|>",
        "add_bos_token": False,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(tc))


def write_hf_folder(folder, cfg, weights, n_shards=1, config_overrides=None):
    """A HF model folder: config.json, tokenizer files, model.safetensors or n shards + index."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    conf = dict(cfg)
    if config_overrides:
        conf.update(config_overrides)
    (folder / "config.json").write_text(json.dumps(conf, indent=1))
    add_tokenizer_files(folder)
    names = sorted(weights)
    if n_shards == 1:
        save_file({n: np.ascontiguousarray(weights[n]) for n in names}, str(folder / "model.safetensors"))
        return folder
    weight_map = {}
    for s in range(n_shards):
        fname = f"model-{s + 1:05d}-of-{n_shards:05d}.safetensors"
        part = names[s::n_shards]  # interleaved, so every shard holds pieces of every layer
        save_file({n: np.ascontiguousarray(weights[n]) for n in part}, str(folder / fname))
        weight_map.update({n: fname for n in part})
    total = sum(weights[n].nbytes for n in names)
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=1))
    return folder


def llama_cpp_permute(w, n_head):
    """Q/K rows reordered the way llama.cpp's convert_hf_to_gguf does for the llama architecture."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def llama3_rope_factors(cfg):
    """The rope_freqs.weight tensor llama.cpp's converter writes for llama3 rope_scaling."""
    rs, hd = cfg["rope_scaling"], head_dim(cfg)
    freqs = 1.0 / (cfg["rope_theta"] ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    out = []
    for f in freqs:
        wavelen = 2 * np.pi / f
        if wavelen < old / high:
            out.append(1.0)
        elif wavelen > old / low:
            out.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


HF_TO_GGUF = {
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def gguf_name(hf):
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    _, _, layer, rest = hf.split(".", 3)
    return f"blk.{layer}.{HF_TO_GGUF[rest]}"


def write_gguf(path, cfg, weights, qtype=gguf.GGMLQuantizationType.F32, arch=None):
    """A GGUF as llama.cpp's converter would write it; 2-D weights stored as `qtype`.

    `arch` overrides general.architecture (to test rejection of unsupported ones).

    Returns the HF-named weights the file actually holds after dequantisation (quantisation acts
    on blocks within a row, so it commutes with the Q/K row permutation and the HF order is exact).
    """
    arch = arch or ("qwen2" if cfg["model_type"] == "qwen2" else "llama")
    H, KV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    w = gguf.GGUFWriter(str(path), arch)
    w.add_name("tiny-random")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(H)
    w.add_head_count_kv(KV)
    w.add_rope_freq_base(cfg["rope_theta"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_rope_dimension_count(hd)
    w.add_vocab_size(cfg["vocab_size"])
    if cfg.get("head_dim"):
        w.add_key_length(hd)
        w.add_value_length(hd)
    rs = cfg.get("rope_scaling")
    if rs and rs.get("rope_type", rs.get("type")) == "linear":
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(rs["factor"])
    file_type = {gguf.GGMLQuantizationType.F32: gguf.LlamaFileType.ALL_F32,
                 gguf.GGMLQuantizationType.F16: gguf.LlamaFileType.MOSTLY_F16,
                 gguf.GGMLQuantizationType.Q8_0: gguf.LlamaFileType.MOSTLY_Q8_0}[qtype]
    w.add_file_type(file_type)

    tok = smol_gguf_fields()
    w.add_tokenizer_model(tok["tokenizer.ggml.model"])
    w.add_tokenizer_pre(tok["tokenizer.ggml.pre"])
    w.add_token_list(tok["tokenizer.ggml.tokens"])
    w.add_token_types(tok["tokenizer.ggml.token_type"])
    w.add_token_merges(tok["tokenizer.ggml.merges"])
    w.add_bos_token_id(tok["tokenizer.ggml.bos_token_id"])
    w.add_eos_token_id(tok["tokenizer.ggml.eos_token_id"])
    w.add_unk_token_id(tok["tokenizer.ggml.unknown_token_id"])
    w.add_pad_token_id(tok["tokenizer.ggml.padding_token_id"])
    w.add_add_bos_token(tok["tokenizer.ggml.add_bos_token"])
    w.add_add_space_prefix(tok["tokenizer.ggml.add_space_prefix"])
    w.add_chat_template(tok["tokenizer.chat_template"])

    effective = {}
    for hf in sorted(weights):
        t = np.asarray(weights[hf], dtype=np.float32)
        stored = t
        if arch != "qwen2" and hf.endswith("q_proj.weight"):
            stored = llama_cpp_permute(t, H)
        elif arch != "qwen2" and hf.endswith("k_proj.weight"):
            stored = llama_cpp_permute(t, KV)
        if t.ndim == 2 and qtype != gguf.GGMLQuantizationType.F32:
            data = gguf.quants.quantize(stored, qtype)
            w.add_tensor(gguf_name(hf), data, raw_dtype=qtype)
            effective[hf] = gguf.quants.dequantize(gguf.quants.quantize(t, qtype), qtype).astype(np.float32)
        else:  # 1-D tensors (norms, biases) stay F32, as in llama.cpp
            w.add_tensor(gguf_name(hf), np.ascontiguousarray(stored))
            effective[hf] = t
    rs_type = rs.get("rope_type", rs.get("type")) if rs else None
    if rs_type == "llama3":
        w.add_tensor("rope_freqs.weight", llama3_rope_factors(cfg))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return effective
