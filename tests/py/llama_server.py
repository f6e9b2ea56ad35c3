# A real OpenAI-compatible server for the tests: llama-cpp-python's server app on one GGUF, on
# 127.0.0.1, loaded the way bench/llama_peer.py loads the benchmark peer (no AMX extra buffers).
#   python tests/py/llama_server.py MODEL PORT [--n-ctx N] [--api-key KEY] [--alias NAME]
# Started as a subprocess by the tests (start_llama_server below), so a test can kill it mid-run.
import argparse
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _RankedVocabulary:
    """The list sorted(zip(row, range(len(row))), reverse=True) would give, materialised only where read."""

    def __init__(self, row):
        import numpy as np
        self._row = row
        # descending by value, equal values by descending index: sorted()'s order on these tuples
        self._order = np.lexsort((np.arange(len(row)), row))[::-1]

    def __len__(self):
        return len(self._order)

    def __getitem__(self, k):
        if isinstance(k, slice):
            idx = self._order[k]
            return list(zip(self._row[idx], idx.tolist()))
        i = int(self._order[k])
        return (self._row[i], i)

    def __iter__(self):
        return iter(self[:])


def rank_vocabulary_with_numpy():
    """llama-cpp-python 0.3.36 ranks the whole vocabulary with Python's sorted() for every token it
    reports logprobs for (llama.py: sorted(zip(logprobs_token, range(n_vocab)), reverse=True)): about
    0.1 s per echoed prompt token on the default model, minutes per test. This gives the llama_cpp.llama
    module a sorted() that returns the same ranking through numpy for exactly that call shape (a zip
    of a 1-D array and its index range) and is the builtin for everything else. Outputs are unchanged."""
    import builtins
    import numpy as np
    import llama_cpp.llama as llama_module

    def sorted_(iterable, *, key=None, reverse=False):
        if type(iterable) is zip and key is None and reverse:
            parts = iterable.__reduce__()[1]
            if len(parts) == 2:
                a, b = parts[0].__reduce__(), parts[1].__reduce__()
                row = a[1][0] if len(a) == 3 and a[1] else None
                rng = b[1][0] if len(b) == 3 and b[1] else None
                if (isinstance(row, np.ndarray) and row.ndim == 1 and isinstance(rng, range)
                        and rng == range(len(row)) and a[2] == 0 and b[2] == 0):
                    return _RankedVocabulary(row)
        return builtins.sorted(iterable, key=key, reverse=reverse)

    llama_module.sorted = sorted_


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("port", type=int)
    ap.add_argument("--n-ctx", type=int, default=4096)
    # one thread: on 2 shared cores llama.cpp's spinning worker threads make prompts several times slower
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--alias", default=None)
    a = ap.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    import llama_peer  # the one place that knows how llama-cpp-python must be loaded here
    llama_peer.avoid_amx_buffers()
    rank_vocabulary_with_numpy()
    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    # logits_all: /v1/completions with echo returns the prompt tokens' logprobs (option scoring).
    model = ModelSettings(model=a.model, model_alias=a.alias, n_ctx=a.n_ctx, n_threads=a.threads,
                          n_threads_batch=a.threads, n_batch=512, logits_all=True, verbose=False)
    server = ServerSettings(host="127.0.0.1", port=a.port, api_key=a.api_key)
    app = create_app(server_settings=server, model_settings=[model])
    uvicorn.run(app, host="127.0.0.1", port=a.port, log_level="warning")


def start_llama_server(model, port=None, api_key=None, alias=None, n_ctx=4096, timeout=120):
    """Starts the server as a subprocess; returns (process, base URL ending in /v1) once /v1/models answers."""
    port = port or free_port()
    args = [sys.executable, __file__, str(model), str(port), "--n-ctx", str(n_ctx)]
    if api_key:
        args += ["--api-key", api_key]
    if alias:
        args += ["--alias", alias]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/v1"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama server exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url + "/models", headers=headers), timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"llama server on port {port} did not answer within {timeout} s")


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    if proc.stderr:
        proc.stderr.close()


if __name__ == "__main__":
    main()
