# Bad input to `isc serve` gets an OpenAI-shaped 4xx JSON error and the server keeps answering:
# malformed JSON, wrong types and ranges, unknown model, invalid UTF-8, a too-large body, max_tokens
# over the limit, a prompt longer than the context, unknown routes; API keys; a client killed in the
# middle of a stream (its engine job is cancelled); and SIGTERM/SIGINT stop the server cleanly.
import http.client
import json
import signal
import subprocess
import sys
import time
import urllib.parse

import openai
import pytest

from serve_fixture import Server

LIMIT_BYTES = 200_000


@pytest.fixture(scope="module")
def server(isc_bin, model_path, root):
    s = Server(isc_bin, model_path, "--model-id", "smol", "--max-request-bytes", LIMIT_BYTES, "--max-tokens-limit", 256,
               cwd=root)
    yield s
    assert s.stop() == 0, "\n".join(s.lines)


def chat(**over):
    body = {"model": "smol", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0}
    body.update(over)
    return body


BAD = [
    # (name, path, body or raw bytes, status, code or None, words in the message)
    ("malformed json", "/v1/chat/completions", b'{"model": "smol", "messages": [', 400, "invalid_json", "not valid JSON"),
    ("not an object", "/v1/chat/completions", b'[1, 2]', 400, None, "JSON object"),
    ("invalid utf-8", "/v1/completions", b'{"model": "smol", "prompt": "caf\xe9 \xff"}', 400, "invalid_json", "UTF-8"),
    ("no model", "/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}]}, 400, "missing_model", "model"),
    ("unknown model", "/v1/chat/completions", chat(model="gpt-4"), 404, "model_not_found", "gpt-4"),
    ("no messages", "/v1/chat/completions", chat(messages=[]), 400, None, "messages"),
    ("message not object", "/v1/chat/completions", chat(messages=["Hi"]), 400, None, "messages[0]"),
    ("bad role", "/v1/chat/completions", chat(messages=[{"role": "wizard", "content": "x"}]), 400, None, "wizard"),
    ("content type", "/v1/chat/completions", chat(messages=[{"role": "user", "content": 5}]), 400, None, "content"),
    ("temperature type", "/v1/chat/completions", chat(temperature="hot"), 400, None, "temperature"),
    ("temperature range", "/v1/chat/completions", chat(temperature=9), 400, None, "temperature"),
    ("top_p range", "/v1/chat/completions", chat(top_p=0), 400, None, "top_p"),
    ("max_tokens type", "/v1/chat/completions", chat(max_tokens=2.5), 400, None, "max_tokens"),
    ("max_tokens negative", "/v1/chat/completions", chat(max_tokens=-1), 400, None, "max_tokens"),
    ("max_tokens limit", "/v1/chat/completions", chat(max_tokens=1000), 400, None, "256"),
    ("max_completion_tokens limit", "/v1/chat/completions", chat(max_completion_tokens=257), 400, None, "256"),
    ("n > 1", "/v1/chat/completions", chat(n=2), 400, None, "n = 1"),
    ("stop type", "/v1/chat/completions", chat(stop=5), 400, None, "stop"),
    ("stream type", "/v1/chat/completions", chat(stream="yes"), 400, None, "stream"),
    ("top_logprobs without logprobs", "/v1/chat/completions", chat(top_logprobs=2), 400, None, "logprobs"),
    ("top_logprobs range", "/v1/chat/completions", chat(logprobs=True, top_logprobs=50), 400, None, "top_logprobs"),
    ("continue without assistant", "/v1/chat/completions", chat(continue_final_message=True), 400, None, "assistant"),
    ("echo on chat", "/v1/chat/completions", chat(echo=True), 400, None, "echo"),
    ("prompt missing", "/v1/completions", {"model": "smol"}, 400, None, "prompt"),
    ("prompt type", "/v1/completions", {"model": "smol", "prompt": {"a": 1}}, 400, None, "prompt"),
    ("prompt empty", "/v1/completions", {"model": "smol", "prompt": ""}, 400, None, "empty"),
    ("two prompts", "/v1/completions", {"model": "smol", "prompt": ["a", "b"]}, 400, None, "one prompt"),
    ("token out of vocab", "/v1/completions", {"model": "smol", "prompt": [1, 99999999]}, 400, None, "vocabulary"),
    ("logprobs type", "/v1/completions", {"model": "smol", "prompt": "a", "logprobs": True}, 400, None, "logprobs"),
    ("prompt over context", "/v1/completions", {"model": "smol", "prompt": [42] * 8300, "max_tokens": 1}, 400,
     "context_length_exceeded", "8192"),
    ("hidden layer range", "/v1/completions",
     {"model": "smol", "prompt": "a", "isc": {"hidden_states": {"layers": [31]}}}, 400, None, "0 to 30"),
    ("hidden position", "/v1/completions",
     {"model": "smol", "prompt": "a", "isc": {"hidden_states": {"layers": [1], "positions": ["end"]}}}, 400, None, "end"),
    ("steering width", "/v1/completions",
     {"model": "smol", "prompt": "a", "isc": {"steering": {"vectors": {"3": [0.5] * 10}}}}, 400, None, "576"),
    ("steering layer", "/v1/completions",
     {"model": "smol", "prompt": "a", "isc": {"steering": {"vectors": {"0": [0.5] * 576}}}}, 400, None, "1 to 30"),
    ("steering positions", "/v1/completions",
     {"model": "smol", "prompt": "a", "isc": {"steering": {"vectors": {"3": [0.5] * 576}, "positions": "all"}}}, 400,
     None, "turn"),
    ("body too large", "/v1/completions", {"model": "smol", "prompt": "x" * (LIMIT_BYTES + 10)}, 413,
     "request_too_large", "too large"),
    ("unknown route", "/v1/embeddings", {"model": "smol", "input": "a"}, 404, "not_found", "/v1/embeddings"),
]


@pytest.mark.parametrize("name,path,body,status,code,words", BAD, ids=[b[0] for b in BAD])
def test_bad_request(server, name, path, body, status, code, words):
    raw = body if isinstance(body, bytes) else None
    got, reply = server.request("POST", path, None if raw else body, raw=raw)
    assert got == status, reply
    err = reply["error"]
    assert set(err) >= {"message", "type", "code"}
    assert err["type"] == "invalid_request_error"
    if code:
        assert err["code"] == code
    assert words in err["message"], err["message"]
    assert server.health()["status"] == "ok"


def test_openai_client_sees_errors(server):
    c = openai.OpenAI(base_url=server.base, api_key="none", max_retries=0)
    with pytest.raises(openai.NotFoundError) as e:
        c.chat.completions.create(model="nope", messages=[{"role": "user", "content": "Hi"}])
    assert e.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        c.completions.create(model="smol", prompt=[42] * 8300, max_tokens=1)
    with pytest.raises(openai.BadRequestError):  # the same through a stream: an error reply, not a broken stream
        list(c.completions.create(model="smol", prompt=[42] * 8300, max_tokens=1, stream=True))
    assert c.completions.create(model="smol", prompt="Hello", max_tokens=2).usage.completion_tokens >= 1


def test_api_key(isc_bin, model_path, root):
    env = {"ISC_TEST_KEY": "s3cret-key"}
    import os
    s = Server(isc_bin, model_path, "--model-id", "smol", "--api-key-env", "ISC_TEST_KEY", cwd=root,
               env={**os.environ, **env})
    try:
        status, body = s.request("GET", "/v1/models")
        assert status == 401 and body["error"]["code"] == "invalid_api_key"
        status, body = s.request("POST", "/v1/chat/completions", chat(), headers={"Authorization": "Bearer wrong"})
        assert status == 401 and body["error"]["code"] == "invalid_api_key"
        status, body = s.request("POST", "/v1/chat/completions", chat(), headers={"Authorization": "s3cret-key"})
        assert status == 401
        assert s.health()["status"] == "ok"  # liveness needs no key
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=s.base, api_key="wrong", max_retries=0).models.list()
        good = openai.OpenAI(base_url=s.base, api_key="s3cret-key", max_retries=0)
        assert good.models.list().data[0].id == "smol"
        assert good.chat.completions.create(**chat()).usage.completion_tokens >= 1
    finally:
        assert s.stop() == 0


STREAMER = r"""
import http.client, json, sys
host, port = sys.argv[1], int(sys.argv[2])
c = http.client.HTTPConnection(host, port)
body = {"model": "smol", "prompt": "Once upon a time", "max_tokens": 250, "temperature": 0, "stream": True}
c.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
r = c.getresponse()
assert r.status == 200, r.status
n = 0
while True:
    line = r.fp.readline()
    if line.startswith(b"data: "):
        n += 1
        if n == 3:
            print("streaming", flush=True)
"""


def test_client_killed_mid_stream(server):
    u = urllib.parse.urlparse(server.url)
    before = server.health()["requests"]
    p = subprocess.Popen([sys.executable, "-c", STREAMER, u.hostname, str(u.port)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "streaming"
    assert server.health()["in_flight"] == 1
    p.kill()
    p.wait()
    assert server.wait_idle(30), "the killed client's job is still running"
    h = server.health()
    assert h["requests"] == before  # cancelled, not finished: 250 tokens would take far longer
    c = openai.OpenAI(base_url=server.base, api_key="none", max_retries=0)
    assert c.completions.create(model="smol", prompt="Hello", max_tokens=3).usage.completion_tokens >= 1


def test_slow_reader_does_not_block_others(server):
    """A client that stops reading its stream holds only its own connection: others are served."""
    u = urllib.parse.urlparse(server.url)
    c = http.client.HTTPConnection(u.hostname, u.port)
    body = {"model": "smol", "prompt": "Once upon a time", "max_tokens": 200, "temperature": 0, "stream": True}
    c.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200
    r.fp.readline()  # read one line, then nothing
    oc = openai.OpenAI(base_url=server.base, api_key="none", max_retries=0)
    t0 = time.time()
    for _ in range(3):
        assert oc.completions.create(model="smol", prompt="Hello there", max_tokens=4).usage.completion_tokens >= 1
    assert time.time() - t0 < 60
    c.close()
    assert server.wait_idle(60)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_mid_stream(isc_bin, model_path, root, sig):
    s = Server(isc_bin, model_path, "--model-id", "smol", cwd=root)
    u = urllib.parse.urlparse(s.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    body = {"model": "smol", "prompt": "Once upon a time", "max_tokens": 2000, "temperature": 0, "stream": True}
    c.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200
    assert r.readline().startswith(b"data: ")
    t0 = time.time()
    assert s.stop(sig, timeout=30) == 0, "\n".join(s.lines)
    assert time.time() - t0 < 30
    assert any("isc serve: stopped" in l for l in s.lines), s.lines
    rest = r.read().decode(errors="replace")  # the stream ends with an error event, it does not hang
    assert '"code":"shutting_down"' in rest and rest.endswith("data: [DONE]\n\n"), rest[-300:]


def test_bad_flags(isc_bin, model_path, root):
    from isc_cli import isc, assert_one_line_error
    assert_one_line_error(isc(isc_bin, root, "serve", model_path, "--api-key-env", "ISC_NO_SUCH_VAR_X", check=False),
                          "ISC_NO_SUCH_VAR_X")
    assert_one_line_error(isc(isc_bin, root, "serve", root / "no-such-model.gguf", "--port", "0", check=False),
                          "no-such-model.gguf")
