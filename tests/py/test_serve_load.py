# Load on `isc serve`: 32 concurrent clients x 20 requests (chat and completions, greedy, short),
# every answer checked against the answer the same prompt got alone (sequentially, first). The
# model is batch-invariant, so batching across requests must change nothing: 0 errors, 0 lost,
# 0 duplicated, 0 mismatched responses.
import collections
import concurrent.futures as cf
import os
import time

import openai
import pytest

from serve_fixture import Server

CLIENTS = int(os.environ.get("ISC_SERVE_LOAD_CLIENTS", 32))
PER_CLIENT = int(os.environ.get("ISC_SERVE_LOAD_REQUESTS", 20))
DISTINCT = 160  # prompts; each used CLIENTS * PER_CLIENT / DISTINCT times, by different clients
MAX_TOKENS = 8

SUBJECTS = ["cats", "the moon", "rivers", "bread", "trains", "music", "winter", "bees", "glass", "chess",
            "volcanoes", "paper", "owls", "salt", "bridges", "clocks", "honey", "ice", "maps", "tea"]
ASKS = ["Say one fact about {}.", "Write a title about {}.", "Name a color linked to {}.", "Give a word rhyming with {}."]


def prompt(i):
    """Request kind and prompt of distinct prompt i: half chat, half raw completions."""
    s = SUBJECTS[i % len(SUBJECTS)]
    if i % 2 == 0:
        return "chat", ASKS[(i // len(SUBJECTS)) % len(ASKS)].format(s) + f" (#{i})"
    return "completion", f"Note {i}: a short sentence about {s}:"


def ask(client, i):
    kind, p = prompt(i)
    if kind == "chat":
        r = client.chat.completions.create(model="smol", messages=[{"role": "user", "content": p}],
                                           max_tokens=MAX_TOKENS, temperature=0)
        return r.id, r.choices[0].message.content, r.usage.completion_tokens
    r = client.completions.create(model="smol", prompt=p, max_tokens=MAX_TOKENS, temperature=0)
    return r.id, r.choices[0].text, r.usage.completion_tokens


@pytest.fixture(scope="module")
def server(isc_bin, model_path, root):
    s = Server(isc_bin, model_path, "--model-id", "smol", "--max-batch", 64, cwd=root)
    yield s
    assert s.stop() == 0, "\n".join(s.lines)


def test_concurrent_clients_get_their_own_answers(server):
    one = openai.OpenAI(base_url=server.base, api_key="none", max_retries=0, timeout=600)
    t0 = time.time()
    expected = {i: ask(one, i)[1] for i in range(DISTINCT)}
    t_seq = time.time() - t0
    assert len(set(expected.values())) > DISTINCT // 2  # the prompts really differ in their answers

    plan = [[(c * PER_CLIENT + k) % DISTINCT for k in range(PER_CLIENT)] for c in range(CLIENTS)]

    def client_run(c):
        # one connection pool per client, as separate programs would have
        cl = openai.OpenAI(base_url=server.base, api_key="none", max_retries=0, timeout=600)
        out = []
        for i in plan[c]:
            try:
                out.append((c, i) + ask(cl, i))
            except Exception as e:  # counted, not raised: the summary says how many
                out.append((c, i, None, repr(e), 0))
        return out

    t0 = time.time()
    with cf.ThreadPoolExecutor(CLIENTS) as pool:
        results = [r for rs in pool.map(client_run, range(CLIENTS)) for r in rs]
    t_load = time.time() - t0
    errors = [r for r in results if r[2] is None]
    ids = collections.Counter(r[2] for r in results if r[2] is not None)
    mismatched = [r for r in results if r[2] is not None and r[3] != expected[r[1]]]
    tokens = sum(r[4] for r in results)
    h = server.health()
    print(f"\nload: {CLIENTS} clients x {PER_CLIENT} requests = {len(results)} responses in {t_load:.1f} s "
          f"({tokens / t_load:.1f} generated tok/s); {len(errors)} errors, "
          f"{sum(n - 1 for n in ids.values())} duplicated ids, {mismatched and len(mismatched) or 0} mismatched; "
          f"sequential reference: {DISTINCT} requests in {t_seq:.1f} s; server: {h}")
    assert not errors, errors[:5]
    assert len(results) == CLIENTS * PER_CLIENT
    assert all(n == 1 for n in ids.values()) and len(ids) == CLIENTS * PER_CLIENT
    assert not mismatched, mismatched[:5]
    assert server.wait_idle(10)
