# The mechanism analyses end to end on the default model: a BBQ run with hidden states and a scored
# concept, `isc analyze` checked against numpy / scikit-learn recomputations from the store, a live
# --predict-stop run against the rule applied to the full run, and bad input.
import csv
import json
import sqlite3

import numpy as np
import pytest

from isc_cli import isc

ROUNDS = 6


def table(path, sql, args=()):
    con = sqlite3.connect(str(path))
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def work(tmp_path_factory, isc_bin, model_path, root):
    d = tmp_path_factory.mktemp("mechanism")
    run = d / "run.yaml"
    run.write_text(f"""task: {root}/tasks/bbq.yaml
model: {model_path}
conditions: [baseline, self-correct]
rounds: {ROUNDS}
limit: 12
shuffle: true
seed: 11
max_batch: 24
hidden:
  layers: [30]
  positions: [answer]
""")
    full = d / "full.sqlite"
    isc(isc_bin, root, "run", run, "--out", full, "-q", "--no-report")
    dirs = d / "bias.directions.json"
    isc(isc_bin, root, "concept", "score", full, "--concept", root / "concepts" / "bias.yaml", "--limit", "120",
        "--seed", "1", "-q", "--directions-out", dirs)
    stopped = d / "stopped.sqlite"
    isc(isc_bin, root, "run", run, "--out", stopped, "--predict-stop", "0.02", "-q", "--no-report")
    analysis = json.loads(isc(isc_bin, root, "analyze", full, "--json", "--predict-stop", "0.02,0.005",
                              "--directions", dirs).stdout)
    return dict(dir=d, run=run, full=full, stopped=stopped, dirs=dirs, analysis=analysis["runs"][0])


def rounds_of(path):
    """{(condition, item): [(round, correct, option_probs, generated_text, extra), ...]} in round order."""
    out = {}
    for cond, item, rnd, correct, probs, text, extra in table(
            path, "SELECT condition, item_id, round, correct, option_probs, generated_text, extra FROM rounds "
                  "ORDER BY condition, item_id, round"):
        out.setdefault((cond, item), []).append((rnd, correct, json.loads(probs), text, json.loads(extra)))
    return out


def condition(analysis, name):
    return next(c for c in analysis["conditions"] if c["condition"] == name)


def test_cl_cs_and_the_predicted_curve_equal_numpy(work):
    rows = rounds_of(work["full"])
    for cond in ("baseline", "self-correct"):
        conv = [v for (c, _), v in rows.items() if c == cond]
        correct = np.array([[r[1] for r in v] for v in conv], dtype=float)  # items x rounds
        before, after = correct[:, 0], correct[:, 1]
        th = condition(work["analysis"], cond)["transition_theory"]
        est = th["estimate"]
        acc0 = before.mean()
        assert th["start"]["estimate"] == pytest.approx(acc0, abs=1e-12)
        if before.sum() == 0 or before.sum() == len(before):
            assert "unavailable" in th
            continue
        cl = after[before == 1].mean()
        cs = after[before == 0].mean()
        assert est["cl"]["estimate"] == pytest.approx(cl, abs=1e-12)
        assert est["cs"]["estimate"] == pytest.approx(cs, abs=1e-12)
        if 1 - cl + cs == 0:
            continue
        upp = cs / (1 - cl + cs)
        alpha = cl - cs
        assert th["upper_bound"] == pytest.approx(upp, abs=1e-12)
        assert th["alpha"] == pytest.approx(alpha, abs=1e-12)
        for rnd in th["rounds"]:
            t = rnd["round"]
            predicted = upp - alpha ** (t - 1) * (upp - acc0)
            assert rnd["predicted"] == pytest.approx(predicted, abs=1e-12)
            assert rnd["observed"]["estimate"] == pytest.approx(correct[:, t - 1].mean(), abs=1e-12)


def test_argmax_correctness_cl_cs_equal_numpy(work, isc_bin, root):
    gold = {i: g for i, g in table(work["full"], "SELECT item_id, gold FROM items")}
    a = json.loads(isc(isc_bin, root, "analyze", work["full"], "--json", "--correctness", "argmax",
                       "--bootstrap", "50").stdout)["runs"][0]
    assert a["correctness"] == "argmax"
    for cond in ("baseline", "self-correct"):
        conv = [(i, v) for (c, i), v in rounds_of(work["full"]).items() if c == cond]
        correct = np.array([[float(np.argmax(r[2]) == gold[i]) for r in v] for i, v in conv])
        est = condition(a, cond)["transition_theory"]["estimate"]
        before, after = correct[:, 0], correct[:, 1]
        assert est["correct_before"] == before.sum()
        assert est["correct_to_correct"] == (before * after).sum()
        assert est["wrong_to_correct"] == ((1 - before) * after).sum()


def option_entropy(p):
    p = np.asarray(p, dtype=float)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def test_simulation_task_pairs_and_full_fit_equal_sklearn_on_the_stored_numbers(work):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    a = work["analysis"]
    assert a["concept"]["layer"] == 30 and a["uncertainty"] == "option_entropy"
    name, position = a["concept"]["name"], a["concept"]["position"]
    cos = {(c, i, r): v for c, i, r, v in table(
        work["full"], "SELECT condition, item_id, round, cosine FROM item_probes WHERE name = ? AND position = ? "
                      "AND layer = 30", (name, position))}
    rows = rounds_of(work["full"])
    for cond in ("baseline", "self-correct"):
        x, y = [], []
        for (c, item), v in sorted(rows.items()):
            if c != cond:
                continue
            for (r1, _, p1, _, _), (r2, _, p2, _, _) in zip(v, v[1:]):
                x.append(cos[(c, item, r2)] - cos[(c, item, r1)])
                y.append(1 if option_entropy(p2) - option_entropy(p1) <= 0 else 0)
        fwd = condition(a, cond)["simulation_task"]["forward"]
        assert fwd["n_pairs"] == len(x) == 12 * (ROUNDS - 1)
        assert fwd["n_positive"] == sum(y)
        if 0 < sum(y) < len(y):
            model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, tol=1e-12, max_iter=10000))
            model.fit(np.array(x)[:, None], np.array(y))
            assert fwd["full_fit"]["coefficient"] == pytest.approx(model[-1].coef_[0][0], abs=1e-6)
            assert fwd["full_fit"]["intercept"] == pytest.approx(model[-1].intercept_[0], abs=1e-6)
        names = [c["name"] for c in fwd["classifiers"]]
        assert names == ["concept change", "majority class", "round index", "earlier uncertainty",
                         "concept change + earlier uncertainty"]
        for c in fwd["classifiers"]:
            acc = c["accuracy"]
            assert acc["n"] == len(x) and acc["lower"] <= acc["estimate"] <= acc["upper"]
        assert fwd["random_directions"]["directions"] == 20


def test_projected_hidden_state_difference_equals_numpy_on_the_exported_states(work, isc_bin, root, tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = tmp_path / "hidden"
    isc(isc_bin, root, "export", work["full"], "--hidden", out)
    states = np.load(out / "hidden_answer_L30.npy").astype(np.float64)
    with open(out / "hidden_answer_L30.rows.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    method = work["analysis"]["concept"]["name"].split("/")[1]
    d = next(x for x in json.loads(work["dirs"].read_text())["directions"]
             if x["layer"] == 30 and x["method"] == method)
    proj = {(r["condition"], r["item_id"], int(r["round"])): float(states[int(r["row"])] @ np.asarray(d["direction"]))
            for r in rows}
    ent = {(c, i): [option_entropy(r[2]) for r in v] for (c, i), v in rounds_of(work["full"]).items()}
    for cond in ("baseline", "self-correct"):
        x, y = [], []
        for (c, item), u in sorted(ent.items()):
            if c != cond:
                continue
            for t in range(1, ROUNDS):
                x.append(proj[(c, item, t + 1)] - proj[(c, item, t)])
                y.append(1 if u[t] - u[t - 1] <= 0 else 0)
        task = condition(work["analysis"], cond)["simulation_task_projection"]["forward"]
        assert task["n_pairs"] == len(x) and task["n_positive"] == sum(y)
        if 0 < sum(y) < len(y):
            model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, tol=1e-12, max_iter=10000))
            model.fit(np.array(x)[:, None], np.array(y))
            assert task["full_fit"]["coefficient"] == pytest.approx(model[-1].coef_[0][0], abs=1e-5)
        assert task["random_directions"]["directions"] == 20


def stop_round(states, eps):
    """The --predict-stop rule, written independently: the first round t (1-based, < T) after which
    the geometric tail of the last two total-variation changes is below eps; T if never."""
    for t in range(3, len(states)):
        s = np.asarray(states[:t])
        d_prev = 0.5 * np.abs(s[-2] - s[-3]).sum()
        d_last = 0.5 * np.abs(s[-1] - s[-2]).sum()
        if d_last == 0:
            return t
        if d_prev == 0 or d_last / d_prev >= 1:
            continue
        rho = d_last / d_prev
        if d_last * rho / (1 - rho) < eps:
            return t
    return len(states)


def test_predict_stop_run_is_the_full_run_cut_where_the_rule_says(work, isc_bin, root):
    full, stopped = rounds_of(work["full"]), rounds_of(work["stopped"])
    assert set(full) == set(stopped)
    saved = 0
    for key, rows in full.items():
        k = stop_round([r[2] for r in rows], 0.02)
        got = stopped[key]
        assert len(got) == k, key
        for a, b in zip(rows, got):
            assert a[:4] == b[:4]  # round, correctness, option probabilities, text: bit-identical
        if k < ROUNDS:
            assert got[-1][4]["early_stopped"] is True
            assert got[-1][4]["predict_stop"]["remaining"] < 0.02
        saved += ROUNDS - k
    # the analysis of the full run predicts exactly what the live run saved
    evaluated = [e for c in work["analysis"]["conditions"] for e in c["predict_stop"] if e["epsilon"] == 0.02]
    assert sum(e["rounds_saved"] for e in evaluated) == saved
    # the stopped run reports (early-stopped conversations carried forward) and knows it stopped itself
    rep = json.loads(isc(isc_bin, root, "report", work["stopped"], "--json").stdout)
    assert rep["runs"][0]["conditions"]
    again = json.loads(isc(isc_bin, root, "analyze", work["stopped"], "--json").stdout)["runs"][0]
    for c in again["conditions"]:
        assert "unavailable" in c["predict_stop"]
    assert "capture hidden states" in again["concept"]["unavailable"]  # no concept scored: says what to run


def test_bad_input_is_one_line_and_non_zero(work, isc_bin, root, tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 10)
    r = isc(isc_bin, root, "analyze", junk, check=False)
    assert r.returncode != 0 and r.stderr.count("\n") == 1 and "isc: error:" in r.stderr
    r = isc(isc_bin, root, "analyze", work["full"], "--uncertainty", "no_such_estimator", check=False)
    assert r.returncode != 0 and "option_entropy" in r.stderr and r.stderr.count("\n") == 1
    r = isc(isc_bin, root, "analyze", work["full"], "--concept", "nothing/here", check=False)
    assert r.returncode != 0 and "bias/" in r.stderr
    r = isc(isc_bin, root, "analyze", work["full"], "--predict-stop", "0.1,abc", check=False)
    assert r.returncode != 0 and "abc" in r.stderr
    r = isc(isc_bin, root, "analyze", work["full"], "--predict-stop", "0", check=False)
    assert r.returncode != 0
    # an open-generation task without a per-answer score has nothing for --predict-stop to follow
    task = tmp_path / "open.yaml"
    text = (root / "tasks" / "debiasing.yaml").read_text().replace("scorer: word_list", "scorer: none")
    task.write_text(text.replace("word_list: word_lists/gendered_english.txt\n", ""))
    r = isc(isc_bin, root, "run", "--task", task, "--model", "x.gguf", "--predict-stop", "0.1",
            "--out", tmp_path / "o.sqlite", "-q", check=False)
    assert r.returncode != 0 and "predict_stop" in r.stderr and r.stderr.count("\n") == 1
    r = isc(isc_bin, root, "run", work["run"], "--predict-stop", "-1", "--out", tmp_path / "o2.sqlite", check=False)
    assert r.returncode != 0
