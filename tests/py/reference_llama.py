# Plain numpy forward pass of the Llama family (Llama, Mistral, Qwen2), written from the Hugging Face
# modeling_llama / modeling_qwen2 semantics; the independent reference the engine's logits are held to.
import math

import numpy as np


def rope_inv_freq(cfg):
    """Inverse frequencies of rotate-half RoPE, with HF's "linear" and "llama3" rope_scaling."""
    hd = head_dim(cfg)
    theta = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    rs = cfg.get("rope_scaling")
    if not rs:
        return inv
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "default":
        return inv
    if kind == "linear":
        # HF divides the positions by the factor; the same as dividing every frequency by it.
        return inv / rs["factor"]
    if kind == "llama3":
        factor = rs["factor"]
        low, high = rs.get("low_freq_factor", 1.0), rs.get("high_freq_factor", 4.0)
        old = rs.get("original_max_position_embeddings", 8192)
        low_wavelen, high_wavelen = old / low, old / high
        out = np.empty_like(inv)
        for i, f in enumerate(inv):
            wavelen = 2 * math.pi / f
            if wavelen < high_wavelen:  # high frequency: kept
                out[i] = f
            elif wavelen > low_wavelen:  # low frequency: interpolated
                out[i] = f / factor
            else:  # in between: a blend of the two
                smooth = (old / wavelen - low) / (high - low)
                out[i] = (1 - smooth) * f / factor + smooth * f
        return out
    # A guard, not a gap: the engine itself accepts only none, linear and llama3 (model_config), so a
    # test asking for another kind is a mistake in the test.
    raise ValueError(f"reference: rope_scaling {kind!r} is not one the engine supports (none, linear, llama3)")


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def silu(x):
    return x / (1.0 + np.exp(-x))


def forward(cfg, weights, tokens, rows=None, steer=None, hidden=None):
    """Logits [len(rows), vocab] (all positions when rows is None) for one sequence from position 0.

    cfg: a HF config.json dict; weights: HF tensor names -> arrays (float64 used throughout).
    """
    W = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    H, KV = cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    hd, eps = head_dim(cfg), cfg["rms_norm_eps"]
    bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    T = len(tokens)
    # Angles as HF forms them: fp32 inverse frequencies times fp32 positions, rounded to fp32. At
    # position ~1000 that rounding alone moves the logits by ~2e-4, so it is part of the reference.
    pos = np.arange(T, dtype=np.float32)
    freqs = np.outer(pos, rope_inv_freq(cfg).astype(np.float32)).astype(np.float64)  # [T, hd/2]
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb)[:, None, :], np.sin(emb)[:, None, :]  # [T, 1, hd]
    causal = np.triu(np.ones((T, T), dtype=bool), k=1)  # True where key is in the future

    x = W["model.embed_tokens.weight"][np.asarray(tokens)]
    if hidden is not None:
        hidden.append(x.copy())  # layer 0: the embeddings; layer l: the output of block l
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q, k, v = (h @ W[p + f"self_attn.{n}_proj.weight"].T for n in "qkv")
        if bias:
            q, k, v = (t + W[p + f"self_attn.{n}_proj.bias"] for t, n in zip((q, k, v), "qkv"))
        q, k, v = q.reshape(T, H, hd), k.reshape(T, KV, hd), v.reshape(T, KV, hd)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # repeat_kv: query head i reads kv head i // (H / KV)
        k = np.repeat(k, H // KV, axis=1)
        v = np.repeat(v, H // KV, axis=1)
        scores = np.einsum("thd,shd->hts", q, k) / math.sqrt(hd)
        scores = np.where(causal[None], -np.inf, scores)
        scores = scores - scores.max(-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(-1, keepdims=True)
        attn = np.einsum("hts,shd->thd", probs, v).reshape(T, H * hd)
        x = x + attn @ W[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        gate = h @ W[p + "mlp.gate_proj.weight"].T
        up = h @ W[p + "mlp.up_proj.weight"].T
        x = x + (silu(gate) * up) @ W[p + "mlp.down_proj.weight"].T
        if steer is not None and (l + 1) in steer:  # added to the block's output, every position
            x = x + np.asarray(steer[l + 1], dtype=np.float64)
        if hidden is not None:
            hidden.append(x.copy())
    if rows is not None:
        x = x[np.asarray(rows)]
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    return x @ head.T
