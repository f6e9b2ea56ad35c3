# The engine's forward pass and both loaders (HF folder, GGUF) against the numpy reference of
# reference_llama.py, on tiny random models of every supported variant; plus loader error messages.
import json
import subprocess

import gguf
import numpy as np
import pytest
from safetensors.numpy import save_file

import reference_llama as ref
import tiny_models as tm

Q = gguf.GGMLQuantizationType
FP32_TOL = 1e-4

LLAMA3_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 8192}

# name -> config overrides. Every variant is checked as a HF folder and as a GGUF.
VARIANTS = {
    "llama_tied": {},
    "llama_untied": {"tie_word_embeddings": False},
    "llama_mha": {"num_key_value_heads": 4},
    "llama_mqa": {"num_key_value_heads": 1},
    "head_dim_32": {"head_dim": 32},  # q/k/v width 128 while hidden_size is 64
    "linear_rope": {"rope_scaling": {"rope_type": "linear", "factor": 4.0}},
    "llama3_rope": {"rope_theta": 500000.0, "rope_scaling": LLAMA3_SCALING, "max_position_embeddings": 131072},
    "qwen2": {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "rope_theta": 1000000.0,
              "tie_word_embeddings": False, "num_key_value_heads": 1},
    "qwen2_tied": {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "tie_word_embeddings": True},
    # llama.cpp converts Mistral checkpoints to architecture llama (permuted Q/K), as tiny_models does
    "mistral": {"model_type": "mistral", "architectures": ["MistralForCausalLM"], "rope_theta": 1000000.0,
                "tie_word_embeddings": False},
}
# llama3 scaling only differs from plain RoPE in the long-wavelength dimensions, which matter once
# positions pass original_max_position_embeddings / factor (1024); run those variants long.
LONG_VARIANTS = {"llama3_rope": 1100, "linear_rope": 300}
N_LAST = 16  # logits kept for the long runs

DIFFS = {}  # label -> max abs diff, printed at the end (pytest -s) for the record


def prompt_tokens():
    """A chat prompt through the real SmolLM2 tokenizer, plus the first and last ids of the vocab."""
    from tokenizers import Tokenizer
    t = Tokenizer.from_file(str(tm.SMOL_FOLDER / "tokenizer.json"))
    text = ("<|im_start|>user\nIs the capital of France Paris? Answer (a) yes (b) no.<|im_end|>\n"
            "<|im_start|>assistant\nThe single most likely answer choice is")
    return t.encode(text).ids + [0, tm.VOCAB - 1, 17]


def long_tokens(n, seed=1):
    return [int(x) for x in np.random.default_rng(seed).integers(0, tm.VOCAB, n)]


class Logits:
    def __init__(self, tool_path, workdir):
        self.tool, self.workdir = tool_path, workdir

    def run(self, model, tokens, dtype="fp32", chunks=None, last=None):
        out = self.workdir / "logits.f32"
        cmd = [str(self.tool), str(model), "--tokens", ",".join(map(str, tokens)), "--dtype", dtype,
               "--out", str(out)]
        if chunks:
            cmd += ["--chunks", ",".join(map(str, chunks))]
        if last:
            cmd += ["--last", str(last)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        rows = last or len(tokens)
        return np.fromfile(out, dtype=np.float32).reshape(rows, -1)

    def fail(self, model):
        r = subprocess.run([str(self.tool), str(model), "--tokens", "1,2,3", "--out",
                            str(self.workdir / "never.f32")], capture_output=True, text=True, timeout=600)
        return r.returncode, r.stderr


@pytest.fixture(scope="module")
def logits(tool, tmp_path_factory):
    return Logits(tool("torch_logits"), tmp_path_factory.mktemp("logits"))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Builds each variant's files once: name -> dict(cfg, weights, hf, gguf, gguf_weights)."""
    base = tmp_path_factory.mktemp("models")
    cache = {}

    def get(name):
        if name not in cache:
            cfg = tm.base_config(**VARIANTS[name])
            w = tm.random_weights(cfg, seed=10 + list(VARIANTS).index(name))  # same whatever runs first
            hf = tm.write_hf_folder(base / name, cfg, w)
            gguf_path = base / f"{name}.gguf"
            eff = tm.write_gguf(gguf_path, cfg, w)
            cache[name] = dict(cfg=cfg, weights=w, hf=hf, gguf=gguf_path, gguf_weights=eff, dir=base)
        return cache[name]
    return get


def record(label, value):
    """Keeps a measured difference (max abs unless the label says otherwise) for the summary."""
    DIFFS[label] = float(value)
    print(f"\n  {label}: {value:.3g}")


def tokens_for(name):
    return long_tokens(LONG_VARIANTS[name]) if name in LONG_VARIANTS else prompt_tokens()


@pytest.mark.parametrize("fmt", ["hf", "gguf"])
@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_matches_reference(models, logits, name, fmt):
    m = models(name)
    toks = tokens_for(name)
    last = N_LAST if name in LONG_VARIANTS else None
    rows = list(range(len(toks) - last, len(toks))) if last else None
    weights = m["weights"] if fmt == "hf" else m["gguf_weights"]
    want = ref.forward(m["cfg"], weights, toks, rows=rows)
    got = logits.run(m[fmt], toks, last=last)
    diff = np.abs(got - want).max()
    record(f"{name}/{fmt} fp32", diff)
    assert diff < FP32_TOL
    assert np.abs(want).max() > 1.0  # the check has teeth: logits are not all ~0


def test_llama3_scaling_is_not_a_no_op(models):
    # Guards the test itself: at these positions the llama3 frequencies change the logits.
    m = models("llama3_rope")
    toks = tokens_for("llama3_rope")
    rows = list(range(len(toks) - N_LAST, len(toks)))
    plain = dict(m["cfg"], rope_scaling=None)
    d = np.abs(ref.forward(plain, m["weights"], toks, rows) - ref.forward(m["cfg"], m["weights"], toks, rows)).max()
    assert d > 0.1


def test_sharded_folder(models, logits, tmp_path):
    m = models("llama_untied")
    folder = tm.write_hf_folder(tmp_path / "sharded", m["cfg"], m["weights"], n_shards=3)
    assert (folder / "model.safetensors.index.json").exists() and not (folder / "model.safetensors").exists()
    toks = prompt_tokens()
    diff = np.abs(logits.run(folder, toks) - ref.forward(m["cfg"], m["weights"], toks)).max()
    record("llama_untied/sharded(3) fp32", diff)
    assert diff < FP32_TOL


def test_f16_safetensors(models, logits, tmp_path):
    m = models("llama_tied")
    w16 = {k: v.astype(np.float16) for k, v in m["weights"].items()}
    folder = tm.write_hf_folder(tmp_path / "f16", m["cfg"], w16)
    toks = prompt_tokens()
    want = ref.forward(m["cfg"], {k: v.astype(np.float32) for k, v in w16.items()}, toks)
    diff = np.abs(logits.run(folder, toks) - want).max()
    record("llama_tied/safetensors F16 fp32", diff)
    assert diff < FP32_TOL


@pytest.mark.parametrize("qtype", [Q.F16, Q.Q8_0], ids=["F16", "Q8_0"])
@pytest.mark.parametrize("name", ["llama_untied", "qwen2", "head_dim_32"])
def test_quantised_gguf(models, logits, tmp_path, name, qtype):
    m = models(name)
    path = tmp_path / f"{name}.{qtype.name}.gguf"
    eff = tm.write_gguf(path, m["cfg"], m["weights"], qtype=qtype)
    toks = prompt_tokens()
    got = logits.run(path, toks)
    # against the reference on the weights the file really holds (gguf-py's dequantisation)...
    diff = np.abs(got - ref.forward(m["cfg"], eff, toks)).max()
    record(f"{name}/gguf {qtype.name} fp32 vs dequantised reference", diff)
    assert diff < FP32_TOL
    # ...and, for scale, how far quantisation moved it from the original weights
    record(f"{name}/gguf {qtype.name} vs unquantised reference",
           np.abs(got - ref.forward(m["cfg"], m["weights"], toks)).max())


@pytest.mark.parametrize("fmt", ["hf", "gguf"])
@pytest.mark.parametrize("name,chunks", [("llama_untied", [5, 1, 9]), ("qwen2", [1, 1, 3, 7]),
                                         ("llama3_rope", [700, 1, 383, 16]),
                                         ("head_dim_32", [2, 2, 2])])
def test_chunked_prefill_equals_one_chunk(models, logits, name, chunks, fmt):
    m = models(name)
    toks = tokens_for(name)
    # the listed chunk sizes, then the rest of the tokens one by one up to the last few as one chunk
    rest = len(toks) - sum(chunks)
    chunks = chunks + [1] * min(rest, 3) + ([rest - 3] if rest > 3 else [])
    last = N_LAST if name in LONG_VARIANTS else None
    whole = logits.run(m[fmt], toks, last=last)
    parts = logits.run(m[fmt], toks, chunks=chunks, last=last)
    diff = np.abs(whole - parts).max()
    record(f"{name}/{fmt} chunks {chunks[:6]} vs one chunk", diff)
    assert diff < FP32_TOL


@pytest.mark.parametrize("fmt", ["hf", "gguf"])
@pytest.mark.parametrize("name", ["llama_tied", "llama_untied", "qwen2"])
def test_bf16_close_to_reference(models, logits, name, fmt):
    m = models(name)
    toks = prompt_tokens()
    weights = m["weights"] if fmt == "hf" else m["gguf_weights"]
    want = ref.forward(m["cfg"], weights, toks)
    got = logits.run(m[fmt], toks, dtype="bf16")
    diff = np.abs(got - want).max()
    rel_rms = np.sqrt(np.mean((got - want) ** 2) / np.mean(want ** 2))
    record(f"{name}/{fmt} bf16", diff)
    record(f"{name}/{fmt} bf16 relative rms", rel_rms)
    # bf16 keeps 8 mantissa bits (relative rounding 2^-9 per weight and per activation). These random
    # models are sensitive: rounding only the weights to bf16 already moves the numpy reference's
    # logits by ~0.4 at a scale of ~20 (and Q8_0 by ~1.4), so the bounds are a few percent of scale.
    assert diff < 0.1 * np.abs(want).max()
    assert rel_rms < 0.03


# ---- loader errors: non-zero exit, one line naming the file and the tensor


def one_line(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def copy_folder(models, tmp_path, name="llama_untied"):
    m = models(name)
    return m, tm.write_hf_folder(tmp_path / "bad", m["cfg"], m["weights"])


def test_hf_missing_tensor(models, logits, tmp_path):
    m, folder = copy_folder(models, tmp_path)
    w = dict(m["weights"])
    del w["model.layers.1.mlp.up_proj.weight"]
    save_file(w, str(folder / "model.safetensors"))
    rc, err = logits.fail(folder)
    line = one_line(err)
    assert rc != 0
    assert str(folder) in line and "model.layers.1.mlp.up_proj.weight" in line and "missing" in line, line


def test_hf_missing_lm_head_when_untied(models, logits, tmp_path):
    # tie_word_embeddings false but no lm_head.weight: silently using the embedding would be wrong
    m, folder = copy_folder(models, tmp_path)
    w = dict(m["weights"])
    del w["lm_head.weight"]
    save_file(w, str(folder / "model.safetensors"))
    rc, err = logits.fail(folder)
    line = one_line(err)
    assert rc != 0 and "lm_head.weight" in line and str(folder) in line, line


def test_hf_wrong_shape(models, logits, tmp_path):
    m, folder = copy_folder(models, tmp_path)
    w = dict(m["weights"])
    w["model.layers.0.self_attn.k_proj.weight"] = w["model.layers.0.self_attn.k_proj.weight"][:16]
    save_file(w, str(folder / "model.safetensors"))
    rc, err = logits.fail(folder)
    line = one_line(err)
    assert rc != 0
    assert str(folder) in line and "model.layers.0.self_attn.k_proj.weight" in line and "shape" in line, line
    assert "16, 64" in line and "32, 64" in line, line


def test_hf_sharded_index_names_missing_shard(models, logits, tmp_path):
    m = models("llama_tied")
    folder = tm.write_hf_folder(tmp_path / "shards", m["cfg"], m["weights"], n_shards=2)
    (folder / "model-00002-of-00002.safetensors").unlink()
    rc, err = logits.fail(folder)
    line = one_line(err)
    assert rc != 0 and "model-00002-of-00002.safetensors" in line, line


def test_hf_unsupported_model_type(models, logits, tmp_path):
    m, folder = copy_folder(models, tmp_path)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["model_type"] = "phi3"
    (folder / "config.json").write_text(json.dumps(cfg))
    rc, err = logits.fail(folder)
    line = one_line(err)
    assert rc != 0 and "config.json" in line and "phi3" in line, line


def test_gguf_missing_tensor(models, logits, tmp_path):
    m = models("llama_untied")
    w = dict(m["weights"])
    del w["model.layers.2.self_attn.o_proj.weight"]
    path = tmp_path / "missing.gguf"
    tm.write_gguf(path, m["cfg"], w)
    rc, err = logits.fail(path)
    line = one_line(err)
    assert rc != 0 and str(path) in line and "blk.2.attn_output.weight" in line and "missing" in line, line


def test_gguf_wrong_shape(models, logits, tmp_path):
    m = models("llama_untied")
    w = dict(m["weights"])
    w["model.layers.1.mlp.down_proj.weight"] = w["model.layers.1.mlp.down_proj.weight"][:, :96]
    path = tmp_path / "shape.gguf"
    tm.write_gguf(path, m["cfg"], w)
    rc, err = logits.fail(path)
    line = one_line(err)
    assert rc != 0 and str(path) in line and "blk.1.ffn_down.weight" in line and "shape" in line, line


def test_gguf_unsupported_architecture(models, logits, tmp_path):
    m = models("llama_tied")
    path = tmp_path / "arch.gguf"
    tm.write_gguf(path, m["cfg"], m["weights"], arch="phi3")
    rc, err = logits.fail(path)
    line = one_line(err)
    assert rc != 0 and str(path) in line and "phi3" in line, line


def test_zz_print_summary():
    # Last in the file: the per-variant maxima in one block for the record (visible with -s).
    for k, v in sorted(DIFFS.items()):
        print(f"  {k:60s} {v:.3g}")
