# `isc serve`'s echo logprobs (legacy completions, max_tokens 0: scoring a text) against llama.cpp
# (llama-cpp-python, logits_all) on the same GGUF and the same texts: the golden prompts of
# tests/golden (chat, raw and pre-filled). The tokens must be llama.cpp's tokens exactly; the
# log-probabilities agree within the rounding of two different engines: llama.cpp quantises the
# activations to 8 bits (Q8_1) and keeps its KV cache in fp16, the engine computes in bf16, so
# logits differ by a few tenths (tests/engine/test_golden_llamacpp.cpp holds the top-10 logits to
# mean |diff| < 0.3, max < 2.5). A log-probability is a logit minus a log-normaliser, each with that
# error, so the same bounds apply, plus a correlation check that the two rank tokens alike.
import json
import pathlib
import sys

import numpy as np
import pytest

from serve_fixture import Server

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))


@pytest.fixture(scope="module")
def server(isc_bin, model_path, root):
    s = Server(isc_bin, model_path, "--model-id", "smol", cwd=root)
    yield s
    assert s.stop() == 0, "\n".join(s.lines)


@pytest.fixture(scope="module")
def llama(model_path):
    import llama_peer  # the project's one way to load llama.cpp (AMX CPUs need use_extra_bufts = false)
    llama_peer.avoid_amx_buffers()
    from llama_cpp import Llama
    return Llama(model_path=str(model_path), n_ctx=1024, n_threads=2, n_batch=512, logits_all=True, verbose=False)


def golden_cases(root):
    return json.loads((root / "tests" / "golden" / "llamacpp_smollm2_q4_1.json").read_text())["cases"]


def spelled(llm, token):
    """A token's text as the JSON of legacy logprobs carries it: a token holding part of a UTF-8
    character (an emoji split over two tokens) cannot be a JSON string, so it reads as U+FFFD."""
    b = llm.detokenize([token], special=True)
    try:
        return b.decode()
    except UnicodeDecodeError:
        return b.decode(errors="replace").replace("\ufffd\ufffd", "\ufffd")


def llama_logprobs(llm, tokens):
    llm.reset()
    llm.eval(tokens)
    scores = np.asarray(llm.scores[:len(tokens)], dtype=np.float64)
    m = scores.max(axis=1, keepdims=True)
    lsm = scores - m - np.log(np.exp(scores - m).sum(axis=1, keepdims=True))
    return np.array([lsm[k - 1, tokens[k]] for k in range(1, len(tokens))])


def test_echo_logprobs_agree_with_llamacpp(server, llama, root):
    # all server requests first, then llama.cpp: the two engines' threads never compete for the cores
    served = []
    for case in golden_cases(root):
        tokens = case["prompt_tokens"]
        status, r = server.request("POST", "/v1/completions", {
            "model": "smol", "prompt": case["text"], "max_tokens": 0, "echo": True, "logprobs": 0})
        assert status == 200, r
        # the same text given as llama.cpp's token ids scores the same
        status2, r2 = server.request("POST", "/v1/completions", {
            "model": "smol", "prompt": tokens, "max_tokens": 0, "echo": True, "logprobs": 0})
        assert status2 == 200, r2
        served.append((case, r, r2))
    diffs, ours_all, theirs_all = [], [], []
    for case, r, r2 in served:
        tokens = case["prompt_tokens"]
        lp = r["choices"][0]["logprobs"]
        # the server tokenized the text exactly as llama.cpp did
        assert r["usage"]["prompt_tokens"] == len(tokens), case["text"]
        assert [t for t in lp["tokens"]] == [spelled(llama, t) for t in tokens], case["text"]
        assert lp["token_logprobs"][0] is None
        ours = np.array(lp["token_logprobs"][1:], dtype=np.float64)
        assert np.allclose(r2["choices"][0]["logprobs"]["token_logprobs"][1:], ours, atol=1e-5)
        theirs = llama_logprobs(llama, tokens)
        diffs.append(np.abs(ours - theirs))
        ours_all.append(ours)
        theirs_all.append(theirs)
    d = np.concatenate(diffs)
    corr = np.corrcoef(np.concatenate(ours_all), np.concatenate(theirs_all))[0, 1]
    print(f"\necho logprobs vs llama.cpp: {len(d)} tokens over {len(diffs)} texts, |diff| mean {d.mean():.4f}, "
          f"max {d.max():.3f}, p99 {np.quantile(d, 0.99):.3f}; correlation {corr:.5f}")
    assert d.mean() < 0.3
    assert d.max() < 2.5
    assert corr > 0.99


@pytest.fixture(scope="module")
def golden_first_steps(llama, root):
    """Per golden prompt: llama.cpp's top-10 (token text, logit) at the first generated position."""
    return [[(spelled(llama, t), l) for t, l in zip(c["steps"][0]["ids"], c["steps"][0]["logits"])]
            for c in golden_cases(root)]


def test_first_token_distribution_agrees_with_golden(server, root, golden_first_steps):
    """At the first generated position: the server's top alternatives against llama.cpp's top-10
    logits from the golden file. Log-probability differences between two tokens are logit
    differences, so they are compared directly (same bounds as the echo test); where llama.cpp's
    top token leads by more than one logit, the server's greedy token must be the same one."""
    diffs = []
    for case, top in zip(golden_cases(root), golden_first_steps):
        status, r = server.request("POST", "/v1/completions", {
            "model": "smol", "prompt": case["prompt_tokens"], "max_tokens": 1, "temperature": 0, "logprobs": 20})
        assert status == 200, r
        lp = r["choices"][0]["logprobs"]
        ours = lp["top_logprobs"][0]
        best_text, best_logit = top[0]
        if best_logit - top[1][1] > 1.0:
            assert lp["tokens"][0] == best_text, (case["text"], lp["tokens"][0], top[:3])
        for text, logit in top[1:]:
            if text in ours and best_text in ours and "\ufffd" not in text + best_text:
                diffs.append(abs((ours[text] - ours[best_text]) - (logit - best_logit)))
    d = np.array(diffs)
    print(f"\nfirst-token logit gaps vs llama.cpp golden: {len(d)} pairs, |diff| mean {d.mean():.4f}, max {d.max():.3f}")
    assert len(d) > 100
    assert d.mean() < 0.3 and d.max() < 2.5
