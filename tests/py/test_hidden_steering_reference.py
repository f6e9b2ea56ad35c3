# Hidden states of every layer and steering vectors in the forward pass, against the numpy float64
# reference (reference_llama.py) on tiny random models: capture, chunk invariance, strength 0, and
# the logit shift a known direction causes.
import numpy as np
import pytest

import reference_llama as ref
import tiny_models as tm

FP32_TOL = 1e-4
VARIANTS = {"llama_tied": {}, "qwen2": {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"],
                                        "tie_word_embeddings": False, "num_key_value_heads": 1}}
TOKENS = [1, 5, 9, 200, 17, 3, 64, 101, 7, 12, 250, 33]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    base = tmp_path_factory.mktemp("hs_models")
    out = {}
    for i, (name, over) in enumerate(VARIANTS.items()):
        cfg = tm.base_config(**over)
        w = tm.random_weights(cfg, seed=40 + i)
        out[name] = dict(cfg=cfg, weights=w, hf=tm.write_hf_folder(base / name, cfg, w))
    return out


def run_tool(tool, model, tmp, chunks=None, steer=None):
    """(logits [n, V], hidden [L+1, n, D]) from torch_logits."""
    import subprocess
    cmd = [str(tool), str(model), "--tokens", ",".join(map(str, TOKENS)), "--dtype", "fp32",
           "--out", str(tmp / "l.f32"), "--hidden-out", str(tmp / "h.f32")]
    if chunks:
        cmd += ["--chunks", ",".join(map(str, chunks))]
    if steer is not None:
        steer.astype(np.float32).tofile(tmp / "steer.f32")
        cmd += ["--steer", str(tmp / "steer.f32")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    logits = np.fromfile(tmp / "l.f32", dtype=np.float32).reshape(len(TOKENS), -1)
    hidden = np.fromfile(tmp / "h.f32", dtype=np.float32)
    return logits, hidden


def reshape_hidden(h, cfg):
    return h.reshape(cfg["num_hidden_layers"] + 1, len(TOKENS), cfg["hidden_size"])


@pytest.mark.parametrize("name", list(VARIANTS))
def test_hidden_states_of_every_layer_match_the_reference(models, tool, tmp_path, name):
    m = models[name]
    _, got = run_tool(tool("torch_logits"), m["hf"], tmp_path)
    got = reshape_hidden(got, m["cfg"])
    want = []
    ref.forward(m["cfg"], m["weights"], TOKENS, hidden=want)
    want = np.stack(want)
    assert got.shape == want.shape
    diff = np.abs(got - want).max()
    print(f"\n  {name}: hidden states, max abs diff {diff:.3g} over {want.shape[0]} layers")
    assert diff < FP32_TOL
    assert np.abs(want[1:] - want[:-1]).max() > 0.1  # layers differ: the check has teeth


@pytest.mark.parametrize("name", list(VARIANTS))
def test_hidden_states_are_bit_identical_whole_or_chunked(models, tool, tmp_path, name):
    m = models[name]
    la, ha = run_tool(tool("torch_logits"), m["hf"], tmp_path)
    lb, hb = run_tool(tool("torch_logits"), m["hf"], tmp_path, chunks=[5, 1, 6])
    assert np.array_equal(ha, hb) and np.array_equal(la, lb)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_steering_with_strength_zero_changes_nothing(models, tool, tmp_path, name):
    m = models[name]
    L, D = m["cfg"]["num_hidden_layers"], m["cfg"]["hidden_size"]
    la, ha = run_tool(tool("torch_logits"), m["hf"], tmp_path)
    lb, hb = run_tool(tool("torch_logits"), m["hf"], tmp_path, steer=np.zeros((L, D)))
    assert np.array_equal(la, lb) and np.array_equal(ha, hb)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_a_known_direction_shifts_states_and_logits_as_the_reference(models, tool, tmp_path, name):
    m = models[name]
    L, D = m["cfg"]["num_hidden_layers"], m["cfg"]["hidden_size"]
    rng = np.random.default_rng(7)
    d = rng.standard_normal(D)
    d /= np.linalg.norm(d)
    strength = 3.0
    steer = np.zeros((L, D))
    steer[1] = strength * d  # isc layer 2: after the second block
    logits, hidden = run_tool(tool("torch_logits"), m["hf"], tmp_path, steer=steer)
    hidden = reshape_hidden(hidden, m["cfg"])
    plain_logits, plain_hidden = run_tool(tool("torch_logits"), m["hf"], tmp_path)
    plain_hidden = reshape_hidden(plain_hidden, m["cfg"])
    # By hand: the state after block 2 is the unsteered one plus strength * d, exactly where it is added
    assert np.abs(hidden[2] - (plain_hidden[2] + strength * d)).max() < 1e-5
    assert np.array_equal(hidden[:2], plain_hidden[:2])  # nothing before the layer moves
    # and everything after follows the reference forward pass with the same vector
    want_h = []
    want = ref.forward(m["cfg"], m["weights"], TOKENS, steer={2: strength * d}, hidden=want_h)
    assert np.abs(logits - want).max() < FP32_TOL
    assert np.abs(hidden - np.stack(want_h)).max() < FP32_TOL
    assert np.abs(logits - plain_logits).max() > 1e-2  # the vector did shift the logits


def test_steering_the_last_layer_shifts_logits_by_the_hand_computation(models, tool, tmp_path):
    # At the last layer only the final norm and the head follow: logits = head · rms_norm(h_L + v).
    m = models["llama_tied"]
    cfg, W = m["cfg"], m["weights"]
    L, D = cfg["num_hidden_layers"], cfg["hidden_size"]
    v = np.random.default_rng(3).standard_normal(D)
    steer = np.zeros((L, D))
    steer[L - 1] = v
    logits, _ = run_tool(tool("torch_logits"), m["hf"], tmp_path, steer=steer)
    _, plain_hidden = run_tool(tool("torch_logits"), m["hf"], tmp_path)
    h = reshape_hidden(plain_hidden, cfg)[L].astype(np.float64) + v
    normed = h / np.sqrt((h * h).mean(-1, keepdims=True) + cfg["rms_norm_eps"]) * np.asarray(W["model.norm.weight"])
    want = normed @ np.asarray(W["model.embed_tokens.weight"], dtype=np.float64).T
    assert np.abs(logits - want).max() < FP32_TOL
