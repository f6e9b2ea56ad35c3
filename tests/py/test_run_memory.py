# Peak memory of `isc run` on the default model: within the weights, the KV caches of the
# conversations in flight and 300 MiB, at a small and a large pool. The bound is computed here from
# the GGUF's tensor shapes (gguf package) and the stored conversation lengths, not from isc's output.
import math
import os
import sqlite3
import subprocess

import pytest
from gguf import GGUFReader

OVERHEAD = 300 * 2**20


def field(reader, key):
    f = reader.fields[key]
    return f.parts[f.data[0]]


def model_bytes(model):
    """Weights as the engine holds them at --dtype bf16: each matrix in panels of 16 output rows,
    its inner dimension padded to a pair, two bytes a value; vectors (norms) in fp32."""
    r = GGUFReader(str(model))
    weights = 0
    for t in r.tensors:
        shape = [int(x) for x in t.shape]  # GGUF lists the inner dimension first
        if len(shape) == 2:
            k, n = shape
            weights += math.ceil(n / 16) * 16 * (k + k % 2) * 2
        else:
            weights += int(t.n_elements) * 4
    arch = bytes(field(r, "general.architecture")).decode()
    layers = int(field(r, f"{arch}.block_count")[0])
    heads = int(field(r, f"{arch}.attention.head_count")[0])
    kv_heads = int(field(r, f"{arch}.attention.head_count_kv")[0])
    head_dim = int(field(r, f"{arch}.embedding_length")[0]) // heads
    per_position = layers * kv_heads * head_dim * 2 * 2  # keys and values, bf16
    return weights, per_position


def run_peak_rss(isc_bin, root, args):
    """Runs isc and returns its own peak RSS in bytes (wait4's rusage of that one child)."""
    p = subprocess.Popen([str(isc_bin), *map(str, args)], cwd=root, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    err = p.stderr.read()
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    assert p.returncode == 0, err
    return usage.ru_maxrss * 1024


@pytest.mark.parametrize("pool", [3, 12])
def test_peak_rss_within_weights_kv_and_300_mib(isc_bin, model_path, root, tmp_path, pool):
    out = tmp_path / "run.sqlite"
    peak = run_peak_rss(isc_bin, root, ["run", "--task", "tasks/bbq.yaml", "--model", model_path,
                                        "--conditions", "self-correct", "--rounds", 3, "--limit", 12, "--shuffle",
                                        "--seed", 5, "--max-batch", pool, "--out", out, "-q", "--no-report"])
    weights, per_position = model_bytes(model_path)
    con = sqlite3.connect(out)
    lengths = sorted((row[0] for row in con.execute(
        "SELECT MAX(context_tokens) FROM rounds GROUP BY condition, item_id")), reverse=True)
    con.close()
    assert len(lengths) == 12
    # At most `pool` conversations hold a cache at once; a cache grown by halves holds at most
    # 1.5 × its length (+ one block), and starts at 256 positions.
    kv = sum(max(256, 1.5 * n + 16) * per_position for n in lengths[:pool])
    bound = weights + kv + OVERHEAD
    print(f"pool {pool}: peak RSS {peak / 2**20:.0f} MiB; weights {weights / 2**20:.0f} MiB + KV ≤ {kv / 2**20:.0f} MiB"
          f" + 300 MiB = {bound / 2**20:.0f} MiB")
    assert peak <= bound
