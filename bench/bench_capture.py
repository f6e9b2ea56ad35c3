#!/usr/bin/env python3
"""Cost of hidden-state capture: the same BBQ run (greedy, same items) with and without capturing
three layers, alternated A/B/A/B in one process tree so machine noise hits both alike. Prints the
wall times and their ratio. Usage: bench/bench_capture.py [--items 40] [--rounds 5] [--repeats 2]."""
import argparse
import pathlib
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(isc, out, layers, items, rounds):
    args = [str(isc), "run", str(ROOT / "runs/bbq-selfcorrect.yaml"), "--limit", str(items), "--rounds", str(rounds),
            "--out", str(out), "-q", "--no-report", "--hidden-layers", layers]
    t0 = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--layers", default="10,20,30")
    ap.add_argument("--isc", default=str(ROOT / "build/isc"))
    a = ap.parse_args()
    times = {"none": [], a.layers: []}
    with tempfile.TemporaryDirectory() as d:
        for k in range(a.repeats):
            for layers in ("none", a.layers):
                out = pathlib.Path(d) / f"{k}-{layers.replace(',', '_')}.sqlite"
                times[layers].append(run(a.isc, out, layers, a.items, a.rounds))
    base, cap = min(times["none"]), min(times[a.layers])
    print(f"BBQ {a.items} items x 2 conditions x {a.rounds} rounds, best of {a.repeats}:")
    print(f"  no capture        {base:7.2f} s")
    print(f"  capture {a.layers:<9} {cap:7.2f} s")
    print(f"  capture / none    {cap / base:7.3f}x")


if __name__ == "__main__":
    main()
