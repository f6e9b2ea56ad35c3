# A run split into shards (`isc run --shard i/N`, or the ranks of `mpirun -np N isc run`) and merged
# with `isc merge` gives the rows of the same run in one process; a killed rank resumes by rerunning
# the command; merge refuses shards that are not the complete, finished shards of one run.
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from isc_cli import assert_one_line_error, isc
from store_rows import count_rounds, query

ARGS = ["--task", "tasks/bbq.yaml", "--conditions", "baseline,self-correct", "--rounds", "2", "--limit", "7",
        "--shuffle", "--seed", "5", "--max-batch", "4", "--hidden-layers", "1,30", "-q", "--no-report"]
COLUMNS = ("condition, item_id, round, user_message, assistant_prefill, prompt_tokens, generated_text, tokens, "
           "finish_reason, parsed_answer, answer_index, option_probs, correct, score, extra, context_tokens")
CONVERSATIONS, ROUNDS = 2 * 7, 2


def rows(path):
    return query(path, f"SELECT {COLUMNS} FROM rounds ORDER BY condition, item_id, round")


def hidden(path):
    return query(path, "SELECT condition, item_id, round, position, layer, dtype, dim, data FROM hidden_states "
                       "ORDER BY condition, item_id, round, position, layer")


def items(path):
    return query(path, "SELECT item_id, idx, category, options, gold, fields FROM items ORDER BY idx")


def config(path):
    (c,), = query(path, "SELECT config FROM runs")
    return json.loads(c)


def mpirun():
    exe = shutil.which("mpirun")
    if exe is None:
        pytest.fail("mpirun not found: scripts/setup.sh installs Open MPI (openmpi-bin)")
    # one host, more ranks than cores allowed; the isolated launcher needs no ssh
    return [exe, "--oversubscribe", "--mca", "plm", "isolated", "--mca", "btl_vader_single_copy_mechanism", "none"]


def mpi_env():
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


@pytest.fixture(scope="module")
def single(isc_bin, model_path, root, tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "single.sqlite"
    isc(isc_bin, root, "run", "--model", model_path, "--out", out, *ARGS)
    assert len(rows(out)) == CONVERSATIONS * ROUNDS
    assert len(hidden(out)) == CONVERSATIONS * ROUNDS * 2
    return out


def assert_same_run(merged, single):
    assert rows(merged) == rows(single)
    assert hidden(merged) == hidden(single)
    assert items(merged) == items(single)
    a, b = config(merged), config(single)
    assert "shard" not in a["run"]
    a["run"].pop("out"), b["run"].pop("out")
    assert a == b
    assert query(merged, "SELECT status FROM runs") == [("finished",)]
    assert query(merged, "PRAGMA integrity_check") == [("ok",)]


def test_three_shards_merged_equal_one_process(isc_bin, model_path, root, tmp_path, single):
    out = tmp_path / "bbq.sqlite"
    shards = [tmp_path / f"bbq.shard-{i}-of-3.sqlite" for i in range(3)]
    for i in range(3):
        r = isc(isc_bin, root, "run", "--model", model_path, "--out", out, "--shard", f"{i}/3", *ARGS)
        assert f"shard {i}/3 finished" in r.stderr
    # conversation k belongs to shard k mod 3: 14 conversations -> 5, 5, 4
    assert [count_rounds(s) // ROUNDS for s in shards] == [5, 5, 4]
    assert not out.exists()
    r = isc(isc_bin, root, "merge", *shards, "--out", out)
    assert "merged 3 shards" in r.stderr and f"{CONVERSATIONS} conversations" in r.stderr
    assert_same_run(out, single)
    # the output is never overwritten silently
    assert_one_line_error(isc(isc_bin, root, "merge", *shards, "--out", out, check=False), "exists", "--force")
    isc(isc_bin, root, "merge", *reversed(shards), "--out", out, "--force")
    assert_same_run(out, single)


def test_mpirun_ranks_merge_into_one_store(isc_bin, model_path, root, tmp_path, single):
    out = tmp_path / "mpi.sqlite"
    cmd = [*mpirun(), "-np", "2", str(isc_bin), "run", "--model", str(model_path), "--out", str(out), *ARGS]
    r = subprocess.run(cmd, cwd=root, env=mpi_env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    assert "merged 2 shards" in r.stderr
    assert_same_run(out, single)
    for i in range(2):
        assert count_rounds(tmp_path / f"mpi.shard-{i}-of-2.sqlite") == CONVERSATIONS // 2 * ROUNDS
    # rerunning a finished sharded run computes nothing and merges the same store again
    r = subprocess.run(cmd, cwd=root, env=mpi_env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("already finished") == 2
    assert_same_run(out, single)


def test_killed_rank_resumes_only_its_missing_rounds(isc_bin, model_path, root, tmp_path, single):
    out = tmp_path / "kill.sqlite"
    shards = [tmp_path / f"kill.shard-{i}-of-2.sqlite" for i in range(2)]
    cmd = [*mpirun(), "-np", "2", str(isc_bin), "run", "--model", str(model_path), "--out", str(out), *ARGS]
    proc = subprocess.Popen(cmd, cwd=root, env=mpi_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None and count_rounds(shards[1]) < 4:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before a rank could be killed"
    # the rank of shard 1: an isc process whose store is shard 1's (its rank is in its environment)
    victims = []
    for pid in subprocess.run(["pgrep", "-f", f"{isc_bin} run"], capture_output=True, text=True).stdout.split():
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if b"OMPI_COMM_WORLD_RANK=1\0" in f.read():
                    victims.append(int(pid))
        except OSError:
            pass
    assert len(victims) == 1, victims
    os.kill(victims[0], signal.SIGKILL)
    proc.communicate(timeout=300)
    assert proc.returncode != 0
    assert not out.exists()
    before = [count_rounds(s) for s in shards]
    assert 0 < before[1] < CONVERSATIONS // 2 * ROUNDS

    r = subprocess.run(cmd, cwd=root, env=mpi_env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    # each rank computed only the rounds its store was missing
    done = [int(line.split(" rounds this session")[0].rsplit(" ", 1)[1])
            for line in r.stderr.splitlines() if " rounds this session" in line]
    assert sum(done) == CONVERSATIONS * ROUNDS - sum(before), (done, before)
    assert_same_run(out, single)


def test_merge_refuses_what_is_not_one_whole_run(isc_bin, model_path, root, tmp_path, single):
    base = tmp_path / "r.sqlite"
    small = [*ARGS]
    small[small.index("--limit") + 1] = "3"
    small[small.index("--rounds") + 1] = "1"
    s0, s1 = tmp_path / "r.shard-0-of-2.sqlite", tmp_path / "r.shard-1-of-2.sqlite"
    # a shard of another configuration (another seed), for the same output
    other = [*small]
    other[other.index("--seed") + 1] = "6"
    isc(isc_bin, root, "run", "--model", model_path, "--out", base, "--shard", "1/2", *other)
    o1 = tmp_path / "o.shard-1-of-2.sqlite"
    s1.rename(o1)
    for i in range(2):
        isc(isc_bin, root, "run", "--model", model_path, "--out", base, "--shard", f"{i}/2", *small)
    merged = tmp_path / "m.sqlite"

    assert_one_line_error(isc(isc_bin, root, "merge", s0, o1, "--out", merged, check=False),
                          "different configurations", "run.seed")
    assert_one_line_error(isc(isc_bin, root, "merge", s0, "--out", merged, check=False), "missing: 1")
    copy = tmp_path / "copy.sqlite"
    shutil.copy(s0, copy)
    assert_one_line_error(isc(isc_bin, root, "merge", s0, copy, "--out", merged, check=False), "both shard 0/2")
    assert_one_line_error(isc(isc_bin, root, "merge", single, s1, "--out", merged, check=False), "no shard of a run")
    con = sqlite3.connect(str(copy))
    con.execute("UPDATE runs SET status = 'running'")
    con.commit()
    con.close()
    assert_one_line_error(isc(isc_bin, root, "merge", copy, s1, "--out", merged, check=False), "not finished")
    assert not merged.exists() and not (tmp_path / "m.sqlite.part").exists()
    assert_one_line_error(isc(isc_bin, root, "run", "--model", model_path, "--out", base, "--shard", "2/2", *small,
                              check=False), "--shard", "0-based")
    isc(isc_bin, root, "merge", s1, s0, "--out", merged)
    assert count_rounds(merged) == 2 * 3


def test_task_by_bare_name_from_any_folder(isc_bin, model_path, root, tmp_path):
    out = tmp_path / "named.sqlite"
    r = subprocess.run([str(isc_bin), "run", "--task", "bbq", "--model", str(model_path), "--out", str(out),
                        "--limit", "2", "--rounds", "1", "--conditions", "baseline", "-q", "--no-report"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    task = config(out)["task_file"]
    assert os.path.samefile(task, root / "tasks" / "bbq.yaml"), task
    r = subprocess.run([str(isc_bin), "run", "--task", "no-such-task", "--model", str(model_path)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert_one_line_error(r, "no-such-task", "shipped tasks:", "bbq", "winogender")
