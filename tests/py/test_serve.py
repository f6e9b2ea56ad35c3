# `isc serve` through the official `openai` client: the model list, chat (plain, streamed, with a
# pre-fill), legacy completions with echo and logprobs, the prefix cache, and the isc extension
# (hidden states, steering). References: the CLI's own `isc generate` (another path through the
# engine), a second server with no cache (cold), and the test tool torch_logits (Model::forward
# alone, no scheduler) for hidden states and steering.
import hashlib
import json
import subprocess

import numpy as np
import openai
import pytest

from isc_cli import isc
from serve_fixture import Server

QUESTIONS = ["What is the capital of France?", "Name a mammal that can fly.", "Write a haiku about the sea."]


@pytest.fixture(scope="module")
def server(isc_bin, model_path, root):
    s = Server(isc_bin, model_path, "--model-id", "smol", cwd=root)
    yield s
    assert s.stop() == 0, "\n".join(s.lines)


@pytest.fixture(scope="module")
def cold(isc_bin, model_path, root):
    """A server that keeps nothing between requests: every prompt is computed from scratch."""
    s = Server(isc_bin, model_path, "--model-id", "smol", "--cache-budget-mb", "0", cwd=root)
    yield s
    assert s.stop() == 0, "\n".join(s.lines)


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base, api_key="none", max_retries=0, timeout=300)


def generate_cli(isc_bin, root, model_path, prompt, n, prefill=None):
    args = ["generate", model_path, prompt, "-n", n, "--json"]
    if prefill is not None:
        args += ["--prefill", prefill]
    return json.loads(isc(isc_bin, root, *args).stdout)


def test_models_list(server, client, model_path):
    models = client.models.list().data
    assert [m.id for m in models] == ["smol"]
    status, body = server.request("GET", "/v1/models")
    assert status == 200
    m = body["data"][0]
    assert body["object"] == "list" and m["object"] == "model" and m["owned_by"] == "isc"
    info = m["isc"]
    assert info["chat_template"] == "chatml"
    assert info["n_layers"] == 30 and info["dim"] == 576 and info["context_length"] == 8192
    assert info["model_sha256"] == hashlib.sha256(model_path.read_bytes()).hexdigest()
    assert info["default_system"].startswith("You are a helpful AI assistant named SmolLM")
    assert server.request("GET", "/v1/models/smol")[1]["id"] == "smol"


@pytest.mark.parametrize("question", QUESTIONS)
def test_chat_greedy_equals_cli_generate(client, isc_bin, root, model_path, question):
    ref = generate_cli(isc_bin, root, model_path, question, 24)
    r = client.chat.completions.create(model="smol", messages=[{"role": "user", "content": question}],
                                       max_tokens=24, temperature=0)
    assert r.choices[0].message.content == ref["text"]
    assert r.choices[0].message.role == "assistant"
    assert r.usage.prompt_tokens == len(ref["prompt_tokens"])
    assert r.usage.completion_tokens == len(ref["tokens"])
    assert r.choices[0].finish_reason == ("stop" if ref["finish_reason"] == "stop" else "length")


def test_chat_stream_equals_non_stream(client):
    for question in QUESTIONS:
        kw = dict(model="smol", messages=[{"role": "user", "content": question}], max_tokens=40, temperature=0)
        whole = client.chat.completions.create(**kw)
        pieces, finish, usage, roles = [], None, None, []
        for chunk in client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kw):
            if chunk.usage:
                usage = chunk.usage
            for c in chunk.choices:
                if c.delta.role:
                    roles.append(c.delta.role)
                if c.delta.content:
                    pieces.append(c.delta.content)
                if c.finish_reason:
                    finish = c.finish_reason
        assert "".join(pieces) == whole.choices[0].message.content
        assert len(pieces) > 1  # really streamed, token by token
        assert roles == ["assistant"]
        assert finish == whole.choices[0].finish_reason
        assert usage.completion_tokens == whole.usage.completion_tokens
        assert usage.prompt_tokens == whole.usage.prompt_tokens


def test_stop_strings_stream_and_not(client):
    kw = dict(model="smol", messages=[{"role": "user", "content": "Count from one to ten in words."}],
              max_tokens=60, temperature=0)
    free = client.chat.completions.create(**kw).choices[0].message.content
    words = free.split()
    assert len(words) > 4, free
    stop = " " + words[3]  # a stop string in the middle of the free answer
    cut = client.chat.completions.create(stop=[stop, "never-generated"], **kw)
    assert cut.choices[0].finish_reason == "stop"
    assert cut.choices[0].message.content == free[:free.index(stop)]
    streamed = "".join(c.choices[0].delta.content or "" for c in
                       client.chat.completions.create(stop=[stop, "never-generated"], stream=True, **kw) if c.choices)
    assert streamed == cut.choices[0].message.content


def test_chat_logprobs(client, isc_bin, root, model_path):
    q = QUESTIONS[0]
    ref = generate_cli(isc_bin, root, model_path, q, 8)
    r = client.chat.completions.create(model="smol", messages=[{"role": "user", "content": q}], max_tokens=8,
                                       temperature=0, logprobs=True, top_logprobs=3)
    content = r.choices[0].logprobs.content
    assert [bytes(t.bytes) for t in content] == [t["text"].encode() for t in ref["tokens"]]
    assert np.allclose([t.logprob for t in content], [t["logprob"] for t in ref["tokens"]], atol=1e-4)
    for t in content:
        assert len(t.top_logprobs) == 3
        assert t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob >= t.top_logprobs[2].logprob
        assert t.top_logprobs[0].token == t.token  # greedy: the chosen token is the most likely
    streamed = []
    for chunk in client.chat.completions.create(model="smol", messages=[{"role": "user", "content": q}], max_tokens=8,
                                                temperature=0, logprobs=True, top_logprobs=3, stream=True):
        for c in chunk.choices:
            if c.logprobs and c.logprobs.content:
                streamed += c.logprobs.content
    assert [(t.token, t.logprob) for t in streamed] == [(t.token, t.logprob) for t in content]


def test_continue_final_message_prefill(client, isc_bin, root, model_path):
    q, prefill = "What is the capital of France?", "The capital of France is"
    ref = generate_cli(isc_bin, root, model_path, q, 16, prefill=prefill)
    r = client.chat.completions.create(
        model="smol", max_tokens=16, temperature=0,
        messages=[{"role": "user", "content": q}, {"role": "assistant", "content": prefill}],
        extra_body={"continue_final_message": True, "add_generation_prompt": False})
    assert r.choices[0].message.content == ref["text"]
    assert r.usage.prompt_tokens == len(ref["prompt_tokens"])


def test_completions_raw_prompt_equals_cli(client, isc_bin, root, model_path):
    ref = json.loads(isc(isc_bin, root, "generate", model_path, "The quick brown fox", "--raw", "-n", 12, "--json").stdout)
    r = client.completions.create(model="smol", prompt="The quick brown fox", max_tokens=12, temperature=0)
    assert r.choices[0].text == ref["text"]
    assert r.usage.prompt_tokens == len(ref["prompt_tokens"])
    # the same prompt as token ids
    r2 = client.completions.create(model="smol", prompt=ref["prompt_tokens"], max_tokens=12, temperature=0)
    assert r2.choices[0].text == ref["text"]


def test_completions_echo_logprobs(client):
    prompt = "Once upon a time, in a small village,"
    r = client.completions.create(model="smol", prompt=prompt, max_tokens=6, temperature=0, echo=True, logprobs=2)
    c = r.choices[0]
    lp = c.logprobs
    n_prompt, n_gen = r.usage.prompt_tokens, r.usage.completion_tokens
    assert c.text.startswith(prompt) and len(c.text) > len(prompt)
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) == n_prompt + n_gen
    assert lp.token_logprobs[0] is None and lp.top_logprobs[0] is None
    assert all(x < 0 for x in lp.token_logprobs[1:])
    assert "".join(lp.tokens) == c.text  # no BOS for this model: the tokens spell the text
    assert lp.text_offset == [sum(len(t.encode()) for t in lp.tokens[:k]) for k in range(len(lp.tokens))]
    for k in range(1, len(lp.tokens)):
        top = lp.top_logprobs[k]
        assert len(top) == 2 and max(top.values()) >= lp.token_logprobs[k] - 1e-6
    # the generated tokens' log-probabilities equal those of a plain (non-echo) request
    plain = client.completions.create(model="smol", prompt=prompt, max_tokens=6, temperature=0, logprobs=2)
    assert np.allclose(lp.token_logprobs[n_prompt:], plain.choices[0].logprobs.token_logprobs, atol=1e-5)
    assert c.text == prompt + plain.choices[0].text
    # scoring only (max_tokens 0): the prompt + answer scored as a prompt gives the answer's tokens
    # the same log-probabilities the generation gave them (a prefill row = a decode row, bit for bit)
    s = client.completions.create(model="smol", prompt=c.text, max_tokens=0, echo=True, logprobs=0)
    assert s.usage.completion_tokens == 0 and s.choices[0].text == c.text
    slp = s.choices[0].logprobs
    assert slp.tokens[:n_prompt + n_gen - 1] == lp.tokens[:n_prompt + n_gen - 1]
    assert np.allclose(slp.token_logprobs[1:n_prompt + n_gen - 1], lp.token_logprobs[1:n_prompt + n_gen - 1], atol=1e-4)


def test_completions_stream_echo(client):
    prompt = "1, 2, 3, 4, 5,"
    whole = client.completions.create(model="smol", prompt=prompt, max_tokens=10, temperature=0, echo=True, logprobs=1)
    chunks = list(client.completions.create(model="smol", prompt=prompt, max_tokens=10, temperature=0, echo=True,
                                            logprobs=1, stream=True))
    assert "".join(ch.choices[0].text for ch in chunks if ch.choices) == whole.choices[0].text
    toks = [t for ch in chunks if ch.choices and ch.choices[0].logprobs for t in ch.choices[0].logprobs.tokens]
    assert toks == whole.choices[0].logprobs.tokens
    plain = "".join(ch.choices[0].text for ch in client.completions.create(
        model="smol", prompt=prompt, max_tokens=10, temperature=0, stream=True) if ch.choices)
    assert prompt + plain == whole.choices[0].text


def test_sampling_is_seeded(client):
    kw = dict(model="smol", messages=[{"role": "user", "content": "Tell me a word."}], max_tokens=12, temperature=1.0,
              top_p=0.9)
    a = client.chat.completions.create(seed=7, **kw).choices[0].message.content
    b = client.chat.completions.create(seed=7, **kw).choices[0].message.content
    outs = {client.chat.completions.create(seed=s, **kw).choices[0].message.content for s in range(1, 7)}
    assert a == b
    assert len(outs) > 1


def test_prefix_cache_multi_round(server, cold):
    """A second round that extends the first (previous prompt + answer + new turn) reuses the first
    round's cache and answers exactly as a server that computes everything afresh."""
    def rounds(s):
        c = openai.OpenAI(base_url=s.base, api_key="none", max_retries=0)
        msgs = [{"role": "user", "content": "What is the largest planet of the solar system?"}]
        out = []
        for follow_up in ["Why is it so big?", "Name one of its moons."]:
            r = c.chat.completions.create(model="smol", messages=msgs, max_tokens=48, temperature=0,
                                          extra_body={"isc": {"return_token_ids": True}})
            out.append(r)
            msgs = msgs + [{"role": "assistant", "content": r.choices[0].message.content},
                           {"role": "user", "content": follow_up}]
        r = c.chat.completions.create(model="smol", messages=msgs, max_tokens=48, temperature=0,
                                      extra_body={"isc": {"return_token_ids": True}})
        return out + [r]

    warm, fresh = rounds(server), rounds(cold)
    for w, f in zip(warm, fresh):
        assert w.choices[0].message.content == f.choices[0].message.content
        assert w.usage.prompt_tokens == f.usage.prompt_tokens
        assert f.usage.model_extra["isc_cached_tokens"] == 0
    for k in (1, 2):  # later rounds reuse at least the previous round's prompt
        assert warm[k].usage.model_extra["isc_cached_tokens"] >= warm[k - 1].usage.prompt_tokens
        assert warm[k].usage.prompt_tokens_details.cached_tokens == warm[k].usage.model_extra["isc_cached_tokens"]
        # the round continues the previous one's tokens: its prompt + the cached part of its answer
        prev, cur = warm[k - 1].model_extra["isc"], warm[k].model_extra["isc"]
        kept = cur["turn_from"]
        assert kept == len(prev["prompt_token_ids"]) + prev["generated_cached"]
        assert cur["prompt_token_ids"][:kept] == prev["prompt_token_ids"] + prev["completion_token_ids"][:prev["generated_cached"]]
        assert cur["prefilled_tokens"] == len(cur["prompt_token_ids"]) - kept
        assert len(cur["completion_token_ids"]) == warm[k].usage.completion_tokens


def test_prefix_cache_shared_system_prompt(server, cold):
    """Two different questions share the template's system prompt: the second reuses those rows."""
    system = "You are a careful assistant. Answer in one short sentence, and never use more words than needed."
    res = {}
    for name, s in (("warm", server), ("cold", cold)):
        c = openai.OpenAI(base_url=s.base, api_key="none", max_retries=0)
        res[name] = [c.chat.completions.create(model="smol", max_tokens=16, temperature=0,
                                               messages=[{"role": "system", "content": system},
                                                         {"role": "user", "content": q}]) for q in QUESTIONS[:2]]
    assert [r.choices[0].message.content for r in res["warm"]] == [r.choices[0].message.content for r in res["cold"]]
    assert res["warm"][1].usage.model_extra["isc_cached_tokens"] > 20
    assert res["cold"][1].usage.model_extra["isc_cached_tokens"] == 0


def torch_forward(tool, model_path, tokens, tmp_path, steer=None):
    """(logits of the last position, hidden [n_layers + 1, n, dim]) from Model::forward alone, bf16."""
    cmd = [str(tool("torch_logits")), str(model_path), "--tokens", ",".join(map(str, tokens)), "--dtype", "bf16",
           "--out", str(tmp_path / "l.f32"), "--last", "1", "--hidden-out", str(tmp_path / "h.f32")]
    if steer is not None:
        steer.astype(np.float32).tofile(tmp_path / "steer.f32")
        cmd += ["--steer", str(tmp_path / "steer.f32")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    logits = np.fromfile(tmp_path / "l.f32", dtype=np.float32)
    hidden = np.fromfile(tmp_path / "h.f32", dtype=np.float32).reshape(31, len(tokens), 576)
    return logits, hidden


def log_softmax(x):
    x = x.astype(np.float64)
    return x - x.max() - np.log(np.exp(x - x.max()).sum())


def test_hidden_states_equal_model_forward(server, tool, model_path, tmp_path):
    tokens = [504, 2365, 6354, 16438, 701, 10319, 9632, 30, 314, 253]
    layers = [0, 1, 15, 30]
    body = {"model": "smol", "prompt": tokens, "max_tokens": 1, "temperature": 0,
            "isc": {"hidden_states": {"layers": layers, "positions": ["answer"]}}}
    status, r = server.request("POST", "/v1/completions", body)
    assert status == 200, r
    got = r["isc"]["hidden_states"]
    assert [(h["position"], h["layer"]) for h in got] == [("answer", l) for l in layers]
    _, hidden = torch_forward(tool, model_path, tokens, tmp_path)
    for h, l in zip(got, layers):
        assert len(h["values"]) == 576
        np.testing.assert_allclose(h["values"], hidden[l, -1], rtol=0, atol=1e-4 * max(1.0, np.abs(hidden[l, -1]).max()))
    # the same again (now the prompt is cached: only its last token is computed) gives the same numbers
    status, again = server.request("POST", "/v1/completions", body)
    assert again["usage"]["isc_cached_tokens"] == len(tokens) - 1
    assert again["isc"]["hidden_states"] == got


def test_steering_equals_model_forward(server, tool, model_path, tmp_path):
    tokens = [504, 2365, 6354, 16438, 701, 10319, 9632, 30, 314, 253]
    rng = np.random.default_rng(5)
    steer = np.zeros((30, 576), dtype=np.float32)
    steer[9] = rng.standard_normal(576).astype(np.float32) * 4.0  # after block 10
    steer[19] = rng.standard_normal(576).astype(np.float32) * 4.0  # after block 20
    vectors = {"10": steer[9].tolist(), "20": steer[19].tolist()}
    body = {"model": "smol", "prompt": tokens, "max_tokens": 1, "temperature": 0, "logprobs": 5,
            "isc": {"hidden_states": {"layers": [10, 30]}, "steering": {"vectors": vectors, "positions": "turn"}}}
    status, r = server.request("POST", "/v1/completions", body)
    assert status == 200, r
    assert r["usage"]["isc_cached_tokens"] == 0  # steered rows are never taken from the plain cache
    logits, hidden = torch_forward(tool, model_path, tokens, tmp_path, steer=steer)
    for h, l in zip(r["isc"]["hidden_states"], [10, 30]):
        np.testing.assert_allclose(h["values"], hidden[l, -1], rtol=0, atol=1e-4 * max(1.0, np.abs(hidden[l, -1]).max()))
    lp = log_softmax(logits)
    top = r["choices"][0]["logprobs"]["top_logprobs"][0]
    best = np.argsort(-lp)[:5]
    assert np.allclose(sorted(top.values(), reverse=True), lp[best], atol=1e-3)
    # steering changes what the model says; the unsteered answer differs
    (tmp_path / "plain").mkdir()
    plain_logits, _ = torch_forward(tool, model_path, tokens, tmp_path / "plain")
    assert np.abs(log_softmax(plain_logits) - lp).max() > 0.1


def test_steering_changes_chat_and_zero_steering_does_not(client):
    msgs = [{"role": "user", "content": "Describe the weather today."}]
    plain = client.chat.completions.create(model="smol", messages=msgs, max_tokens=16, temperature=0)
    zero = client.chat.completions.create(model="smol", messages=msgs, max_tokens=16, temperature=0,
                                          extra_body={"isc": {"steering": {"vectors": {"12": [0.0] * 576}}}})
    rng = np.random.default_rng(1)
    strong = client.chat.completions.create(
        model="smol", messages=msgs, max_tokens=16, temperature=0,
        extra_body={"isc": {"steering": {"vectors": {"12": (rng.standard_normal(576) * 8).tolist()},
                                         "positions": "generation"}}})
    assert zero.choices[0].message.content == plain.choices[0].message.content
    assert strong.choices[0].message.content != plain.choices[0].message.content


def test_hidden_states_user_end(server):
    msgs = [{"role": "user", "content": "Is the sky blue?"}]
    body = {"model": "smol", "messages": msgs, "max_tokens": 1, "temperature": 0,
            "isc": {"hidden_states": {"layers": [30], "positions": ["answer", "user_end"]}}}
    status, r = server.request("POST", "/v1/chat/completions", body)
    assert status == 200, r
    hs = r["isc"]["hidden_states"]
    assert [h["position"] for h in hs] == ["answer", "user_end"]
    assert hs[0]["values"] != hs[1]["values"]
    # user_end of the chat = the answer position of a prompt that ends with the user's text
    status, c = server.request("POST", "/v1/completions", {
        "model": "smol", "prompt": "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
                                   "Face<|im_end|>\n<|im_start|>user\nIs the sky blue?",
        "max_tokens": 1, "isc": {"hidden_states": {"layers": [30]}}})
    assert status == 200, c
    np.testing.assert_allclose(c["isc"]["hidden_states"][0]["values"], hs[1]["values"], atol=1e-5)


def test_text_extending_a_kept_prompt_keeps_its_tokens(server, cold):
    """The tokenization rule (prefix_pool.h): a text that extends a kept request's whole prompt keeps
    that request's tokens as they are, even a split the tokenizer itself would not make (here
    "Hello" " wor" "ld" where it would write "Hello" " world"), as an embedded conversation keeps its
    cache; a text that extends no kept prompt is encoded afresh."""
    hello, wor, ld = 19556, 458, 400  # `isc tokenize` of "Hello", " wor", "ld"
    status, first = server.request("POST", "/v1/completions",
                                   {"model": "smol", "prompt": [hello, wor, ld], "max_tokens": 1, "temperature": 0})
    assert status == 200, first
    body = {"model": "smol", "prompt": "Hello world, how are you?", "max_tokens": 0, "echo": True, "logprobs": 0}
    status, warm = server.request("POST", "/v1/completions", body)
    assert status == 200, warm
    assert warm["choices"][0]["logprobs"]["tokens"][:4] == ["Hello", " wor", "ld", ","]
    assert warm["usage"]["prompt_tokens"] == 8
    status, fresh = cold.request("POST", "/v1/completions", body)
    assert fresh["choices"][0]["logprobs"]["tokens"][:3] == ["Hello", " world", ","]
    assert fresh["usage"]["prompt_tokens"] == 7
