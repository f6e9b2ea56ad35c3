#!/usr/bin/env python3
# `isc serve` against llama-cpp-python's OpenAI server on the same GGUF, same run, same load: N
# concurrent clients x M chat requests each (distinct prompts, greedy, max_tokens T). Prints the
# aggregate generated tok/s, p50/p99 request latency, and the ratio isc / llama.cpp, plus the CPU.
#
#   .venv/bin/python bench/bench_serve.py                       # 16 clients x 8 requests, 32 tokens
#   .venv/bin/python bench/bench_serve.py --clients 32 --requests 20 --max-tokens 16 --threads 2
#
# The llama.cpp server is started from Python with its app factory (llama_cpp.server.app.create_app)
# so that bench/llama_peer.py can switch off its extra buffers on AMX CPUs (llama-cpp-python 0.3.36
# crashes otherwise; the server's command line has no such option).
import argparse
import concurrent.futures as cf
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "py"))
sys.path.insert(0, str(ROOT / "bench"))

import openai  # noqa: E402

from serve_fixture import Server  # noqa: E402

LLAMA_LAUNCHER = r"""
import sys
sys.path.insert(0, sys.argv[1])
import llama_peer
llama_peer.avoid_amx_buffers()
import uvicorn
from llama_cpp.server.app import create_app
from llama_cpp.server.settings import ModelSettings, ServerSettings
model, port, threads, n_ctx = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
app = create_app(server_settings=ServerSettings(host="127.0.0.1", port=port),
                 model_settings=[ModelSettings(model=model, model_alias="smol", n_ctx=n_ctx, n_threads=threads,
                                               n_threads_batch=threads, n_batch=512, verbose=False)])
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""

SUBJECTS = ["cats", "the moon", "rivers", "bread", "trains", "music", "winter", "bees", "glass", "chess",
            "volcanoes", "paper", "owls", "salt", "bridges", "clocks", "honey", "ice", "maps", "tea"]


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_llama(model, threads, n_ctx):
    port = free_port()
    p = subprocess.Popen([sys.executable, "-c", LLAMA_LAUNCHER, str(ROOT / "bench"), str(model), str(port), str(threads),
                          str(n_ctx)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    c = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0, timeout=5)
    end = time.time() + 300
    while time.time() < end:
        if p.poll() is not None:
            raise RuntimeError("llama.cpp server exited:\n" + p.stderr.read())
        try:
            c.models.list()
            return p, f"http://127.0.0.1:{port}/v1"
        except Exception:
            time.sleep(0.5)
    p.kill()
    raise RuntimeError("llama.cpp server did not start")


def load(base, clients, requests, max_tokens):
    """(generated tokens, wall seconds, latencies, errors) of clients x requests chat calls."""
    def one_client(c):
        cl = openai.OpenAI(base_url=base, api_key="none", max_retries=0, timeout=900)
        out = []
        for k in range(requests):
            i = c * requests + k
            msg = f"Write two sentences about {SUBJECTS[i % len(SUBJECTS)]} (note {i})."
            t0 = time.perf_counter()
            try:
                r = cl.chat.completions.create(model="smol", messages=[{"role": "user", "content": msg}],
                                               max_tokens=max_tokens, temperature=0)
                out.append((time.perf_counter() - t0, r.usage.completion_tokens, None))
            except Exception as e:
                out.append((time.perf_counter() - t0, 0, repr(e)))
        return out

    # warm-up: one request, untimed
    openai.OpenAI(base_url=base, api_key="none", max_retries=0, timeout=900).chat.completions.create(
        model="smol", messages=[{"role": "user", "content": "Hello"}], max_tokens=4, temperature=0)
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(clients) as pool:
        rows = [r for rs in pool.map(one_client, range(clients)) for r in rs]
    wall = time.perf_counter() - t0
    lat = sorted(r[0] for r in rows)
    return sum(r[1] for r in rows), wall, lat, [r[2] for r in rows if r[2]]


def pct(xs, q):
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default=str(ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--build-dir", default=os.environ.get("ISC_BUILD_DIR", str(ROOT / "build")))
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=8, help="requests per client")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--dtype", default="bf16")
    ap.add_argument("--n-ctx", type=int, default=4096, help="llama.cpp context")
    a = ap.parse_args()

    results = {}
    isc = Server(pathlib.Path(a.build_dir) / "isc", a.model, "--model-id", "smol", "--threads", a.threads, "--dtype",
                 a.dtype, cwd=ROOT)
    try:
        results["isc serve"] = load(isc.base, a.clients, a.requests, a.max_tokens)
    finally:
        isc.stop()
    llama, base = start_llama(a.model, a.threads, a.n_ctx)
    try:
        results["llama.cpp server"] = load(base, a.clients, a.requests, a.max_tokens)
    finally:
        llama.terminate()
        llama.wait(30)

    print(f"CPU: {cpu_model()} ({os.cpu_count()} cores), {a.threads} threads each; model {pathlib.Path(a.model).name}; "
          f"{a.clients} clients x {a.requests} chat requests, max_tokens {a.max_tokens}, greedy; isc --dtype {a.dtype}")
    print(f"{'server':<18} {'gen tok/s':>10} {'p50 s':>8} {'p99 s':>8} {'wall s':>8} {'tokens':>7} {'errors':>6}")
    rate = {}
    for name, (tokens, wall, lat, errors) in results.items():
        rate[name] = tokens / wall
        print(f"{name:<18} {rate[name]:>10.1f} {pct(lat, 0.5):>8.2f} {pct(lat, 0.99):>8.2f} {wall:>8.1f} {tokens:>7} "
              f"{len(errors):>6}")
    print(f"ratio isc / llama.cpp (generated tok/s): {rate['isc serve'] / rate['llama.cpp server']:.2f}")
    lat_i, lat_l = results["isc serve"][2], results["llama.cpp server"][2]
    print(f"ratio llama.cpp / isc (p50 latency): {pct(lat_l, 0.5) / pct(lat_i, 0.5):.2f}")


if __name__ == "__main__":
    main()
