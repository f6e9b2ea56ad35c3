#!/usr/bin/env python3
# Sampled-uncertainty throughput: `isc run --samples S` on the detoxification task against the
# reference study's loop on llama.cpp (llama-cpp-python, same GGUF): one conversation at a time,
# the history re-encoded every round, the round's answer and then each of the S samples generated
# separately (each re-encoding the prompt). Same items, rounds, token limits and sampling
# temperature; prints rounds/s of both and the ratio, and isc's cost per extra sample (a run with
# --samples 0 in the same session). Usage: see bench/README.md.
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

import jinja2
from gguf import GGUFReader

from llama_peer import load_llama

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def isc_run(isc, model, items, rounds, samples, sample_tokens, entailment, out):
    args = [isc, "run", "--task", "tasks/realtoxicity.yaml", "--model", model, "--conditions", "self-correct",
            "--rounds", str(rounds), "--limit", str(items), "--samples", str(samples), "--sample-max-new-tokens",
            str(sample_tokens), "--entailment", entailment, "--out", out, "-q", "--no-report"]
    t0 = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True)
    wall = time.perf_counter() - t0
    con = sqlite3.connect(out)
    rows = con.execute("SELECT item_id, round, user_message FROM rounds ORDER BY item_id, round").fetchall()
    generated = con.execute("SELECT generated_tokens FROM runs").fetchone()[0]
    con.close()
    return wall, rows, generated


def render(template, messages):
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages, add_generation_prompt=True, bos_token="", eos_token="")


def reference_loop(llm, template, conversations, rounds, samples, max_new, sample_tokens, temperature):
    t0 = time.perf_counter()
    for item_id, turns in conversations.items():
        messages = []
        for r in range(1, rounds + 1):
            messages.append({"role": "user", "content": turns[r]})
            tokens = llm.tokenize(render(template, messages).encode(), add_bos=False, special=True)
            llm.reset()  # the whole history re-encoded, as the reference scripts do
            out = llm.create_completion(tokens, max_tokens=max_new, temperature=0.0, top_k=1, stop=["<|im_end|>"])
            for s in range(samples):  # each sample a separate generation from the same prompt
                llm.reset()
                llm.create_completion(tokens, max_tokens=sample_tokens, temperature=temperature, top_k=0, top_p=1.0,
                                      seed=1000 * r + s, stop=["<|im_end|>"])
            messages.append({"role": "assistant", "content": out["choices"][0]["text"]})
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--isc", default=os.path.join(ROOT, "build", "isc"))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--items", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--sample-tokens", type=int, default=125)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--skip-reference", action="store_true", help="only the isc runs")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        base_wall, _, base_tokens = isc_run(args.isc, args.model, args.items, args.rounds, 0, args.sample_tokens,
                                            "exact", os.path.join(tmp, "none.sqlite"))
        wall, rows, _ = isc_run(args.isc, args.model, args.items, args.rounds, args.samples, args.sample_tokens,
                                "exact", os.path.join(tmp, "exact.sqlite"))
        judge_wall, _, _ = isc_run(args.isc, args.model, args.items, args.rounds, args.samples, args.sample_tokens,
                                   "judge", os.path.join(tmp, "judge.sqlite"))
    n_rounds = len(rows)
    conversations = {}
    for item_id, rnd, user in rows:
        conversations.setdefault(item_id, {})[rnd] = user
    result = {"items": args.items, "rounds_total": n_rounds, "samples_per_round": args.samples,
              "isc_no_samples_seconds": base_wall, "isc_exact_seconds": wall, "isc_judge_seconds": judge_wall,
              "isc_seconds_per_extra_sample_per_round": (wall - base_wall) / (n_rounds * max(args.samples, 1)),
              "isc_exact_rounds_per_s": n_rounds / wall, "isc_judge_rounds_per_s": n_rounds / judge_wall}
    if not args.skip_reference:
        template = GGUFReader(args.model).fields["tokenizer.chat_template"].contents()
        llm = load_llama(args.model, args.threads)
        t_ref = reference_loop(llm, template, conversations, args.rounds, args.samples, 125, args.sample_tokens, 1.0)
        result.update({"llamacpp_reference_seconds": t_ref, "llamacpp_reference_rounds_per_s": n_rounds / t_ref,
                       "speedup_exact_vs_reference": t_ref / wall, "speedup_judge_vs_reference": t_ref / judge_wall})
    print(json.dumps(result, indent=2))
    line = (f"isc {n_rounds / wall:.2f} rounds/s with {args.samples} samples (exact clusters), "
            f"{n_rounds / judge_wall:.2f} with the judge; {result['isc_seconds_per_extra_sample_per_round'] * 1000:.1f} ms "
            f"per extra sample per round")
    if not args.skip_reference:
        line += (f"; llama.cpp reference loop {n_rounds / t_ref:.2f} rounds/s (isc ×{t_ref / wall:.1f} exact, "
                 f"×{t_ref / judge_wall:.1f} with the judge)")
    print(line, file=sys.stderr)


if __name__ == "__main__":
    main()
