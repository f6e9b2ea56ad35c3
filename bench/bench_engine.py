#!/usr/bin/env python3
# Whole-engine benchmark: isc (bench/engine_throughput, one process per scenario) against
# llama-cpp-python on the same GGUF, same machine, same run; prints a table of ratios isc / llama.cpp.
"""Usage: python3 bench/bench_engine.py [--model PATH] [--build-dir DIR] [--dtype bf16[,int8,...]] [--quick]
                                      [--peer-venv DIR]

Creates bench/.venv from bench/requirements.txt on first use (llama-cpp-python compiles from
source, ~5 minutes) and re-runs itself inside it; --peer-venv (or ISC_BENCH_PEER_VENV) names
another venv with llama-cpp-python to run in instead, e.g. one built for AVX2 only. isc's kernel
path follows ISC_KERNELS (portable, avx2, avx512, avx512_bf16). See bench/README.md.
"""
import argparse
import ctypes
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
VENV = ROOT / "bench" / ".venv"
TEXT = ("The committee met on a rainy Tuesday to discuss the new library, the bridge repairs and the "
        "school lunch programme. Each member spoke briefly; the chair summarised the options and asked "
        "for a vote before the end of the afternoon. ")


def ensure_venv(peer_venv=None):
    """Re-executes inside bench/.venv (made on first use) unless llama_cpp is importable here; with
    peer_venv, inside that venv (which must have llama-cpp-python and numpy) unless already there."""
    if peer_venv:
        venv = pathlib.Path(peer_venv).resolve()
        if pathlib.Path(sys.prefix).resolve() != venv:
            py = venv / "bin" / "python"
            if not py.exists():
                sys.exit(f"--peer-venv {venv}: no bin/python there")
            os.execv(str(py), [str(py), __file__] + sys.argv[1:])
        return
    try:
        import llama_cpp  # noqa: F401
        return
    except ImportError:
        pass
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV} (llama-cpp-python builds from source, a few minutes)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", str(ROOT / "bench" / "requirements.txt")], check=True)
    os.execv(str(py), [str(py), __file__] + sys.argv[1:])


# ---------------------------------------------------------------- isc side


def isc(args, dtype, *scenario):
    cmd = [str(args.driver), str(args.model), *map(str, scenario), "--dtype", dtype, "--threads", str(args.threads)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- llama.cpp side (low-level API)


class LlamaCpp:
    """llama.cpp through llama-cpp-python's C API: one context per scenario with n_seq_max sequences."""

    def __init__(self, model_path, threads):
        import llama_cpp as L
        from llama_peer import avoid_amx_buffers
        self.L = L
        L.llama_backend_init()
        avoid_amx_buffers()  # AMX CPUs: use_extra_bufts = false, or llama-cpp-python 0.3.36 crashes
        mp = L.llama_model_default_params()
        self.model = L.llama_model_load_from_file(str(model_path).encode(), mp)
        if not self.model:
            sys.exit(f"llama.cpp could not load {model_path}")
        self.vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = L.llama_vocab_n_tokens(self.vocab)
        self.threads = threads

    def tokens(self, n):
        L = self.L
        text = TEXT
        while True:
            buf = (L.llama_token * (len(text) + 16))()
            k = L.llama_tokenize(self.vocab, text.encode(), len(text.encode()), buf, len(buf), False, False)
            if k >= n:
                return list(buf[:n])
            text += TEXT

    def context(self, n_ctx, n_seq, n_batch=512):
        p = self.L.llama_context_default_params()
        p.n_ctx, p.n_batch, p.n_ubatch, p.n_seq_max = n_ctx, n_batch, min(n_batch, 512), n_seq
        p.n_threads = p.n_threads_batch = self.threads
        ctx = self.L.llama_init_from_model(self.model, p)
        if not ctx:
            sys.exit("llama.cpp: context creation failed")
        return ctx

    def decode(self, ctx, batch, entries):
        """entries: (token, pos, seq, want_logits); returns nothing, raises on failure."""
        b = batch
        for i, (tok, pos, seq, logits) in enumerate(entries):
            b.token[i], b.pos[i], b.n_seq_id[i] = tok, pos, 1
            b.seq_id[i][0] = seq
            b.logits[i] = logits
        b.n_tokens = len(entries)
        rc = self.L.llama_decode(ctx, b)
        if rc != 0:
            sys.exit(f"llama_decode failed ({rc})")

    def argmax(self, ctx, i):
        import numpy as np
        ptr = self.L.llama_get_logits_ith(ctx, i)
        return int(np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).argmax())

    def prefill(self, n, reps=3):
        L = self.L
        toks = self.tokens(n)
        ctx = self.context(max(1024, n + 16), 1)
        batch = L.llama_batch_init(512, 0, 1)
        best = 1e30
        for r in range(reps + 1):
            L.llama_memory_clear(L.llama_get_memory(ctx), True)
            t0 = time.perf_counter()
            for s in range(0, n, 512):
                part = toks[s:s + 512]
                self.decode(ctx, batch, [(t, s + i, 0, s + i == n - 1) for i, t in enumerate(part)])
            dt = time.perf_counter() - t0
            if r > 0:
                best = min(best, dt)
        L.llama_batch_free(batch)
        L.llama_free(ctx)
        return {"tok_per_s": n / best, "seconds": best}

    def decode_batch(self, n_seq, context, steps):
        """n_seq sequences with `context`-token prompts (not timed), then `steps` greedy steps of all."""
        L = self.L
        base = self.tokens(context + n_seq)
        ctx = self.context(n_seq * (context + steps + 8), n_seq)
        batch = L.llama_batch_init(512, 0, n_seq)
        pending = []  # all but the last prompt token of every sequence, fed in batches of 512 rows
        for s in range(n_seq):
            pending += [(t, i, s, False) for i, t in enumerate(base[s:s + context - 1])]
        for c in range(0, len(pending), 512):
            self.decode(ctx, batch, pending[c:c + 512])
        nxt = {s: base[s + context - 1] for s in range(n_seq)}  # the first timed step feeds the last prompt token
        t0 = time.perf_counter()
        for step in range(steps):
            entries = [(nxt[s], context - 1 + step, s, True) for s in range(n_seq)]
            self.decode(ctx, batch, entries)
            nxt = {s: self.argmax(ctx, s) for s in range(n_seq)}
        dt = time.perf_counter() - t0
        L.llama_batch_free(batch)
        L.llama_free(ctx)
        return {"tok_per_s": n_seq * steps / dt, "seconds": dt}


def vm_hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf", type=pathlib.Path)
    ap.add_argument("--build-dir", default=ROOT / "build", type=pathlib.Path)
    ap.add_argument("--dtype", default="bf16", help="isc weight dtype(s), comma-separated: each gets a column")
    ap.add_argument("--threads", default=os.cpu_count(), type=int)
    ap.add_argument("--context", default=300, type=int, help="prompt tokens per sequence before decoding")
    ap.add_argument("--steps", default=32, type=int, help="timed decode steps")
    ap.add_argument("--quick", action="store_true", help="batch 1 and 64 only, fewer steps")
    ap.add_argument("--json", type=pathlib.Path, help="also write all raw results here")
    ap.add_argument("--peer-venv", default=os.environ.get("ISC_BENCH_PEER_VENV"),
                    help="venv whose llama-cpp-python is the peer (default bench/.venv)")
    args = ap.parse_args()
    ensure_venv(args.peer_venv)
    args.driver = args.build_dir / "bench" / "engine_throughput"
    if not args.driver.exists():
        subprocess.run(["cmake", "--build", str(args.build_dir), "--target", "engine_throughput"], check=True)
    if not args.model.exists():
        sys.exit(f"{args.model}: no such model (run scripts/setup.sh)")

    dtypes = args.dtype.split(",")
    rows, raw = [], {}
    lc = LlamaCpp(args.model, args.threads)

    def row(name, key, scenario, peer):
        got = {d: isc(args, d, *scenario) for d in dtypes}
        ref = peer()
        raw[key] = {**{f"isc {d}": got[d] for d in dtypes}, "llama.cpp": ref}
        rows.append((name, [got[d]["tok_per_s"] for d in dtypes], ref["tok_per_s"]))
        return got

    for n in (128, 512):
        row(f"prefill {n}-token prompt (tok/s)", f"prefill_{n}", ("prefill", n), lambda: lc.prefill(n))
    batches = (1, 64) if args.quick else (1, 8, 32, 64)
    steps = 16 if args.quick else args.steps
    mem = None
    for bsz in batches:
        got = row(f"decode batch {bsz}, context {args.context} (tok/s)", f"decode_{bsz}",
                  ("decode", bsz, args.context, steps), lambda: lc.decode_batch(bsz, args.context, steps))
        if bsz == max(batches):
            mem = got
    conv = {d: isc(args, d, "conversation", 5, 32, 8) for d in dtypes}
    raw["conversation"] = conv

    kernels = sorted({r["kernels"] for r in raw["prefill_128"].values() if "kernels" in r})
    print(f"\nisc ({', '.join(dtypes)}; {args.threads} threads; kernels {', '.join(kernels)}) vs llama-cpp-python "
          f"{__import__('llama_cpp').__version__} ({sys.prefix}) on {args.model.name}, same machine, same run")
    print(f"llama.cpp: {lc.L.llama_print_system_info().decode().strip()}\n")
    head = "".join(f"{'isc ' + d:>12}" for d in dtypes) + f"{'llama.cpp':>12}" + "".join(f"{'ratio ' + d:>12}" for d in dtypes)
    print(f"{'measure':<44}{head}")
    for name, a, b in rows:
        print(f"{name:<44}" + "".join(f"{v:>12.1f}" for v in a) + f"{b:>12.1f}" + "".join(f"{v / b:>12.2f}" for v in a))
    for d in dtypes:
        c = conv[d]
        speed = c["scratch_seconds"] / c["live_seconds"]
        total = c["live_prefilled"] + c["live_decoded_fed_back"]
        print(f"\n[{d}] 5-round conversation: live cache {c['live_seconds']:.3f} s vs re-encoded every round "
              f"{c['scratch_seconds']:.3f} s ({speed:.2f}x); live prefilled {c['live_prefilled']} + fed back "
              f"{c['live_decoded_fed_back']} = {total} tokens for a final context of {c['final_context']} "
              f"({'each token computed once' if total == c['final_context'] else 'MISMATCH'}); re-encoding "
              f"prefilled {c['scratch_prefilled']}")
        m = mem[d]
        budget = m["weight_bytes"] + m["cache_bytes"] + 300 * 2**20
        print(f"[{d}] peak RSS at decode batch {m['batch']}: {m['memory']['VmHWM'] / 2**20:.0f} MiB; weights "
              f"{m['weight_bytes'] / 2**20:.0f} MiB + KV {m['cache_bytes'] / 2**20:.0f} MiB + 300 MiB = "
              f"{budget / 2**20:.0f} MiB ({'within' if m['memory']['VmHWM'] <= budget else 'OVER'})")
    print(f"this llama.cpp process: peak RSS {vm_hwm() / 2**20:.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
