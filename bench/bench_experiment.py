#!/usr/bin/env python3
# Whole-experiment throughput: `isc run` (BBQ, 5 rounds; one run per weight dtype, bf16 and int8 by
# default) against the reference study's loop on llama.cpp (llama-cpp-python, same GGUF): (1) one
# conversation at a time with the history re-encoded every round, (2) the same loop reusing
# llama.cpp's prefix cache. Prints conversations×rounds per second, the ratios, and how often the
# greedy round-1 answers agree. Usage: see bench/README.md.
import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

import jinja2
from gguf import GGUFReader

from llama_peer import load_llama

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def isc_run(isc, model, limit, rounds, condition, out, max_batch, dtype):
    args = [isc, "run", "--task", "tasks/bbq.yaml", "--model", model, "--conditions", condition, "--rounds",
            str(rounds), "--limit", str(limit), "--shuffle", "--seed", "11", "--out", out, "-q", "--no-report",
            "--top-logprobs", "5", "--dtype", dtype]
    if max_batch:
        args += ["--max-batch", str(max_batch)]
    subprocess.run(args, cwd=ROOT, check=True)
    con = sqlite3.connect(out)
    wall = con.execute("SELECT wall_seconds FROM runs").fetchone()[0]
    rows = con.execute("SELECT item_id, round, user_message, assistant_prefill, answer_index, context_tokens "
                       "FROM rounds ORDER BY item_id, round").fetchall()
    items = {r[0]: json.loads(r[1]) for r in con.execute("SELECT item_id, options FROM items")}
    con.close()
    return wall, rows, items


def render(template, messages):
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages, add_generation_prompt=True, bos_token="", eos_token="")


def parse_letter(text, n_options):
    m = re.search(r"\(([a-z])\)", text)
    if m and ord(m.group(1)) - 97 < n_options:
        return ord(m.group(1)) - 97
    return -1


def reference_loop(llm, template, conversations, rounds, reuse_cache, max_new):
    """The reference code's loop: one conversation at a time, full history rendered every round."""
    answers = {}
    evaluated = 0
    t0 = time.perf_counter()
    for item_id, turns in conversations.items():
        messages = []
        for r in range(1, rounds + 1):
            user, prefill = turns[r]
            messages.append({"role": "user", "content": user})
            prompt = render(template, messages) + prefill
            tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
            if not reuse_cache:
                llm.reset()  # re-encode the whole history, as the reference scripts do
            before = llm.n_tokens
            out = llm.create_completion(tokens, max_tokens=max_new(r), temperature=0.0, top_k=1,
                                        stop=["<|im_end|>"])
            evaluated += len(tokens) - min(before, len(tokens))
            text = out["choices"][0]["text"]
            if r == 1:
                answers[item_id] = parse_letter(text, 3)
            messages.append({"role": "assistant", "content": prefill + text})
    return time.perf_counter() - t0, answers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--isc", default=os.path.join(ROOT, "build", "isc"))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-batch", type=int, default=0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--dtype", default="bf16,int8", help="isc weights, one run each: bf16, fp32, int8")
    args = ap.parse_args()

    runs = {}
    for dtype in args.dtype.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            runs[dtype] = isc_run(args.isc, args.model, args.items, args.rounds, "self-correct",
                                  os.path.join(tmp, "bench.sqlite"), args.max_batch, dtype)
    # the peer replays the first run's user turns and pre-fills (the same for every dtype)
    _, rows, _ = runs[args.dtype.split(",")[0]]
    conversations = {}
    for item_id, rnd, user, prefill, _, _ in rows:
        conversations.setdefault(item_id, {})[rnd] = (user, prefill)
    n_rounds = len(rows)

    template = GGUFReader(args.model).fields["tokenizer.chat_template"].contents()
    llm = load_llama(args.model, args.threads, n_ctx=4096)
    max_new = lambda r: 125 if r == 1 else 8
    t_full, ref_answers = reference_loop(llm, template, conversations, args.rounds, False, max_new)
    t_cached, _ = reference_loop(llm, template, conversations, args.rounds, True, max_new)

    result = {
        "conversations": len(conversations), "rounds_total": n_rounds, "threads": args.threads,
        "llamacpp_reencode_seconds": t_full, "llamacpp_reencode_rounds_per_s": n_rounds / t_full,
        "llamacpp_prefix_cache_seconds": t_cached, "llamacpp_prefix_cache_rounds_per_s": n_rounds / t_cached,
        "isc": {},
    }
    lines = [f"llama.cpp re-encode {n_rounds / t_full:.2f} rounds/s, prefix cache {n_rounds / t_cached:.2f} rounds/s"]
    for dtype, (wall, rows, _) in runs.items():
        answers = {item_id: answer for item_id, rnd, _, _, answer, _ in rows if rnd == 1}
        agree = sum(1 for k, v in answers.items() if ref_answers.get(k) == v)
        result["isc"][dtype] = {
            "rounds": len(rows), "seconds": wall, "rounds_per_s": len(rows) / wall,
            "speedup_vs_reencode": t_full / wall, "speedup_vs_prefix_cache": t_cached / wall,
            "round1_answer_agreement": f"{agree}/{len(answers)}",
        }
        lines.append(f"isc {dtype}: {len(rows) / wall:.2f} rounds/s, ×{t_full / wall:.1f} vs re-encode, "
                     f"×{t_cached / wall:.1f} vs prefix cache; round-1 greedy answers agree on {agree}/{len(answers)} items")
    print(json.dumps(result, indent=2))
    print("\n".join(lines), file=sys.stderr)


if __name__ == "__main__":
    main()
