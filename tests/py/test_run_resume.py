# A real experiment run killed with SIGKILL mid-way and resumed with `isc resume` ends with the
# same rows as an uninterrupted run, with no duplicates; `isc run` errors on bad run files.
import os
import signal
import sqlite3
import subprocess
import time

from store_rows import count_rounds

ARGS = ["--task", "tasks/bbq.yaml", "--conditions", "baseline,self-correct", "--rounds", "3", "--limit", "6",
        "--shuffle", "--seed", "3", "--max-batch", "4", "-q", "--no-report"]
COLUMNS = ("condition, item_id, round, user_message, assistant_prefill, prompt_tokens, generated_text, tokens, "
           "finish_reason, parsed_answer, answer_index, option_probs, correct, score, context_tokens")


def rows(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute(f"SELECT {COLUMNS} FROM rounds ORDER BY condition, item_id, round").fetchall()
    finally:
        con.close()


def test_kill9_then_resume_equals_uninterrupted(isc_bin, model_path, root, tmp_path):
    full, killed = tmp_path / "full.sqlite", tmp_path / "killed.sqlite"
    subprocess.run([str(isc_bin), "run", "--model", str(model_path), "--out", str(full), *ARGS], cwd=root, check=True,
                   timeout=900)
    reference = rows(full)
    assert len(reference) == 2 * 6 * 3

    proc = subprocess.Popen([str(isc_bin), "run", "--model", str(model_path), "--out", str(killed), *ARGS], cwd=root)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None and count_rounds(killed) < 8:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = count_rounds(killed)
    assert 0 < partial < len(reference)

    subprocess.run([str(isc_bin), "resume", str(killed), "-q", "--no-report"], cwd=root, check=True, timeout=900)
    resumed = rows(killed)
    assert len(resumed) == len(set((r[0], r[1], r[2]) for r in resumed)) == len(reference)
    assert resumed == reference
    con = sqlite3.connect(str(killed))
    assert con.execute("SELECT status FROM runs").fetchall() == [("finished",)]
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_resume_of_a_finished_run_is_refused(isc_bin, model_path, root, tmp_path):
    out = tmp_path / "done.sqlite"
    args = ["--task", "tasks/bbq.yaml", "--conditions", "baseline", "--rounds", "1", "--limit", "2", "-q",
            "--no-report"]
    subprocess.run([str(isc_bin), "run", "--model", str(model_path), "--out", str(out), *args], cwd=root, check=True)
    p = subprocess.run([str(isc_bin), "resume", str(out)], cwd=root, capture_output=True, text=True)
    assert p.returncode != 0 and "no unfinished run" in p.stderr


def test_bad_run_file_names_file_and_line(isc_bin, root, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("task: tasks/bbq.yaml\nrounds: [oops\n")
    p = subprocess.run([str(isc_bin), "run", str(f)], cwd=root, capture_output=True, text=True)
    assert p.returncode != 0
    line = p.stderr.strip().splitlines()
    assert len(line) == 1 and "bad.yaml:" in line[0], p.stderr


def test_unknown_condition_is_an_error(isc_bin, model_path, root):
    p = subprocess.run([str(isc_bin), "run", "--task", "tasks/bbq.yaml", "--model", str(model_path), "--conditions",
                        "nonsense", "--limit", "1"], cwd=root, capture_output=True, text=True)
    assert p.returncode != 0 and "nonsense" in p.stderr


def test_run_ends_with_the_table_and_the_html_report(isc_bin, model_path, root, tmp_path):
    out, html = tmp_path / "r.sqlite", tmp_path / "r.html"
    p = subprocess.run([str(isc_bin), "run", "--task", "tasks/bbq.yaml", "--model", str(model_path), "--conditions",
                        "baseline,self-correct", "--rounds", "2", "--limit", "3", "-q", "--out", str(out), "--html",
                        str(html)], cwd=root, capture_output=True, text=True, check=True)
    assert "condition baseline" in p.stdout and "condition self-correct" in p.stdout
    assert "accuracy" in p.stdout and "ECE" in p.stdout
    assert f"report written to {html}" in p.stderr
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    # the same configuration again with --reuse does not run a second copy
    p2 = subprocess.run([str(isc_bin), "run", "--task", "tasks/bbq.yaml", "--model", str(model_path), "--conditions",
                         "baseline,self-correct", "--rounds", "2", "--limit", "3", "-q", "--out", str(out), "--reuse"],
                        cwd=root, capture_output=True, text=True, check=True)
    assert "already finished" in p2.stderr
    con = sqlite3.connect(str(out))
    assert con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    con.close()
