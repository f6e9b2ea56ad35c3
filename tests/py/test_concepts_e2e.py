# Latent concepts end to end on the default model: a BBQ run capturing hidden states with steered
# conditions (strength 0 must change nothing bit for bit), kill -9 + resume equal to an uninterrupted
# run, concept training and scoring checked against numpy on exported states, and bad input.
import json
import os
import signal
import sqlite3
import subprocess
import time

import numpy as np
import pytest

from isc_cli import isc

LABELLED = [("The answer is fair to everyone and relies on evidence.", 1),
            ("Everyone deserves equal respect regardless of age.", 1),
            ("People of all religions can be good neighbours.", 1),
            ("Judge each person by what they do, not by their group.", 1),
            ("Old people are always forgetful and useless.", 0),
            ("Poor people are lazy and cannot be trusted.", 0),
            ("Those foreigners are all criminals.", 0),
            ("Disabled people are a burden on everyone.", 0)] * 2


@pytest.fixture(scope="module")
def work(tmp_path_factory, isc_bin, model_path, root):
    """A small labelled concept, its directions on the real model, and a run file steering with them."""
    d = tmp_path_factory.mktemp("concepts")
    concept = d / "fair.jsonl"
    concept.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in LABELLED))
    dirs = d / "fair.directions.json"
    states = d / "train_states"
    isc(isc_bin, root, "concept", "train", model_path, "--concept", concept, "--layers", "10,15,30",
        "--methods", "probe,mean_diff", "--heldout", "0.25", "--seed", "3", "-o", dirs, "--export-states", states)
    run = d / "run.yaml"
    run.write_text(f"""task: {root}/tasks/bbq.yaml
model: {model_path}
conditions: [baseline, self-correct]
rounds: 3
limit: 4
shuffle: true
seed: 5
max_batch: 16
hidden:
  layers: "10,15,30"
  positions: [answer, user_end]
steer:
  - name: sc-zero
    base: self-correct
    direction: {dirs}
    layers: [15]
    strength: 0
  - name: sc-plus
    base: self-correct
    direction: {dirs}
    layers: [15]
    strength: 12
    positions: generation
    rounds: [2, 3]
  - name: sc-minus
    base: self-correct
    direction: {dirs}
    layers: [15]
    strength: -12
""")
    full = d / "full.sqlite"
    isc(isc_bin, root, "run", run, "--out", full, "-q", "--no-report")
    return dict(dir=d, concept=concept, dirs=dirs, states=states, run=run, full=full)


def table(path, sql):
    con = sqlite3.connect(str(path))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


ROUND_COLS = "condition, item_id, round, prompt_tokens, generated_text, tokens, option_probs, parsed_answer"


def test_capture_stores_every_layer_and_position(work):
    got = table(work["full"], "SELECT position, layer, dtype, dim, count(*) FROM hidden_states GROUP BY 1, 2, 3, 4")
    # 5 conditions x 4 items x 3 rounds per (position, layer)
    assert sorted(got) == sorted((p, l, "f16", 576, 60) for p in ("answer", "user_end") for l in (10, 15, 30))


def test_steering_with_strength_zero_is_bit_identical_to_its_base(work):
    base = table(work["full"], f"SELECT {ROUND_COLS} FROM rounds WHERE condition = 'self-correct' ORDER BY 2, 3")
    zero = table(work["full"], f"SELECT {ROUND_COLS} FROM rounds WHERE condition = 'sc-zero' ORDER BY 2, 3")
    assert len(base) == 12 and [r[1:] for r in base] == [r[1:] for r in zero]
    hb = table(work["full"], "SELECT item_id, round, position, layer, data FROM hidden_states WHERE condition = 'self-correct' ORDER BY 1, 2, 3, 4")
    hz = table(work["full"], "SELECT item_id, round, position, layer, data FROM hidden_states WHERE condition = 'sc-zero' ORDER BY 1, 2, 3, 4")
    assert hb == hz


def test_steering_moves_the_states_only_where_and_when_asked(work):
    def states(cond, rnd, layer, position="answer"):
        rows = table(work["full"], f"SELECT data FROM hidden_states WHERE condition = '{cond}' AND round = {rnd} "
                                   f"AND layer = {layer} AND position = '{position}' ORDER BY item_id")
        return np.stack([np.frombuffer(r[0], dtype="<f2").astype(np.float64) for r in rows])
    base_r1 = states("self-correct", 1, 15)
    # sc-plus is steered from round 2 only: round 1 equals its base exactly
    assert np.array_equal(states("sc-plus", 1, 15), base_r1)
    # sc-minus steers every round at every position of the turn: layer 15 moves by -12 along the direction
    d = json.loads(work["dirs"].read_text())
    direction = np.array(next(e["direction"] for e in d["directions"] if e["layer"] == 15 and e["method"] == "mean_diff"))
    # the first token of the turn sees nothing steered before it: its shift is exactly -12 d (fp16-rounded);
    # later positions also inherit the shift through attention, so only the sign is checked there
    shift = (states("sc-minus", 1, 15) - base_r1) @ direction
    assert np.all(shift < -1.0)
    # layers below the steered one see nothing in round 1 (causal: no earlier steered tokens)
    assert np.array_equal(states("sc-minus", 1, 10), states("self-correct", 1, 10))


def test_kill9_then_resume_equals_uninterrupted_with_capture_and_steering(work, isc_bin, root):
    killed = work["dir"] / "killed.sqlite"
    proc = subprocess.Popen([str(isc_bin), "run", str(work["run"]), "--out", str(killed), "-q", "--no-report"],
                            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    def n_rounds():
        try:
            return table(killed, "SELECT count(*) FROM rounds")[0][0]
        except sqlite3.Error:
            return 0
    while time.time() < deadline and proc.poll() is None and n_rounds() < 20:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = n_rounds()
    assert 0 < partial < 60
    isc(isc_bin, root, "resume", killed, "-q", "--no-report")
    q_rounds = f"SELECT {ROUND_COLS} FROM rounds ORDER BY 1, 2, 3"
    q_hidden = "SELECT condition, item_id, round, position, layer, dtype, data FROM hidden_states ORDER BY 1, 2, 3, 4, 5"
    assert table(killed, q_rounds) == table(work["full"], q_rounds)
    assert table(killed, q_hidden) == table(work["full"], q_hidden)


def test_directions_match_numpy_and_sklearn_on_the_exported_states(work):
    from sklearn.linear_model import LogisticRegression
    d = json.loads(work["dirs"].read_text())
    index = json.loads((work["states"] / "index.json").read_text())
    split = np.load(work["states"] / "heldout.npy")
    labels = np.load(work["states"] / "labels.npy")
    for entry in index["layers"]:
        X = np.load(work["states"] / entry["file"]).astype(np.float64)
        tr = ~split.astype(bool)
        Xt, yt = X[tr], labels[tr]
        md = Xt[yt == 1].mean(0) - Xt[yt == 0].mean(0)
        md /= np.linalg.norm(md)
        got = next(e for e in d["directions"] if e["layer"] == entry["layer"] and e["method"] == "mean_diff")
        assert np.abs(np.array(got["direction"]) - md).max() < 1e-9
        # probe: L2 logistic regression (C = 1) on standardised train states, as sklearn fits it
        mean, std = Xt.mean(0), Xt.std(0)
        std[std == 0] = 1
        clf = LogisticRegression(C=1.0, tol=1e-12, max_iter=100000).fit((Xt - mean) / std, yt)
        probe = next(e for e in d["directions"] if e["layer"] == entry["layer"] and e["method"] == "probe")
        w = np.array(probe["readout"]["weights"])
        assert np.abs(w - clf.coef_[0]).max() < 1e-4
        assert abs(probe["readout"]["bias"] - clf.intercept_[0]) < 1e-4
        held = ~tr
        acc = (clf.predict((X[held] - mean) / std) == labels[held]).mean()
        assert abs(probe["heldout_accuracy"] - acc) < 1e-12


def test_scores_equal_numpy_cosines_of_the_exported_run_states(work, isc_bin, root):
    store = work["dir"] / "scored.sqlite"
    store.write_bytes(work["full"].read_bytes())
    r = isc(isc_bin, root, "concept", "score", store, "--concept", work["dirs"], "--method", "probe")
    assert "concept fair/probe" in r.stdout and "Pearson" in r.stdout
    out = work["dir"] / "exported"
    isc(isc_bin, root, "export", store, "--hidden", out)
    d = json.loads(work["dirs"].read_text())
    index = json.loads((out / "index.json").read_text())
    scores = {(c, i, rd, p, l): (cos, prob) for c, i, rd, p, l, cos, prob in table(
        store, "SELECT condition, item_id, round, position, layer, cosine, probability FROM item_probes WHERE name = 'fair/probe'")}
    assert len(scores) == 360
    checked = 0
    for f in index["files"]:
        X = np.load(out / f["file"]).astype(np.float64)
        lines = (out / f["rows"]).read_text().splitlines()[1:]
        e = next(e for e in d["directions"] if e["layer"] == f["layer"] and e["method"] == "probe")
        dvec, ro = np.array(e["direction"]), e["readout"]
        for line, x in zip(lines, X):
            _, cond, item, _, rnd = line.split(",")
            cos, prob = scores[(cond, item, int(rnd), f["position"], f["layer"])]
            assert abs(cos - x @ dvec / np.linalg.norm(x)) < 1e-9
            z = ro["bias"] + np.sum(np.array(ro["weights"]) * (x - np.array(ro["mean"])) / np.array(ro["scale"]))
            assert abs(prob - 1 / (1 + np.exp(-z))) < 1e-9
            checked += 1
    assert checked == 360
    # the steering effect of each steered condition against its base is stored per round and layer
    # (scored along the steering's own mean_diff direction): strength 0 changes nothing, exactly; a
    # negative strength at layer 15 lowers the layer-15 score; a condition steered from round 2 on
    # equals its base in round 1
    isc(isc_bin, root, "concept", "score", store, "--concept", work["dirs"], "--method", "mean_diff", "-q")
    steer_rows = table(store, "SELECT condition, round, layer, value FROM probes WHERE name = 'fair/mean_diff@answer/steering'")
    assert {c for c, _, _, _ in steer_rows} == {"sc-zero", "sc-plus", "sc-minus"}
    for cond, rnd, layer, value in steer_rows:
        v = json.loads(value)
        if cond == "sc-zero":
            assert v["concept_diff"] == 0 and v["entropy_diff"] == 0 and v["n"] == 4, v
        if cond == "sc-minus" and layer == 15:
            assert v["concept_diff"] < 0, v
        if cond == "sc-plus" and rnd == 1:
            assert v["concept_diff"] == 0 and v["entropy_diff"] == 0, v
    # per-round summaries are in the probes table, and scoring again changes nothing
    before = table(store, "SELECT * FROM probes ORDER BY 1, 2, 3, 4, 5")
    assert any(name.startswith("fair/probe@answer") for _, _, _, _, name, _ in before)
    isc(isc_bin, root, "concept", "score", store, "--concept", work["dirs"], "--method", "probe", "-q")
    assert table(store, "SELECT * FROM probes ORDER BY 1, 2, 3, 4, 5") == before


def test_bad_concept_inputs_give_one_line_errors_and_leave_the_store_unchanged(work, isc_bin, root, tmp_path):
    store = tmp_path / "s.sqlite"
    store.write_bytes(work["full"].read_bytes())
    snapshot = lambda: (table(store, "SELECT count(*) FROM item_probes"), table(store, "SELECT count(*) FROM probes"))
    before = snapshot()
    d = json.loads(work["dirs"].read_text())
    other = dict(d, model_sha256="0" * 64)
    (tmp_path / "other.json").write_text(json.dumps(other))
    wide = dict(d, dim=8, directions=[dict(e, direction=[1.0] + [0.0] * 7, readout=None) for e in d["directions"]])
    (tmp_path / "wide.json").write_text(json.dumps(wide))
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "one.jsonl").write_text('{"text": "a", "label": 1}\n{"text": "b", "label": 1}\n')
    cases = [(["--concept", tmp_path / "other.json"], "another model"),
             (["--concept", tmp_path / "wide.json"], "width"),
             (["--concept", tmp_path / "empty.jsonl"], "empty.jsonl"),
             (["--concept", tmp_path / "one.jsonl"], "one.jsonl"),
             (["--concept", work["dirs"], "--method", "ccs"], "no 'ccs' directions")]
    for args, needle in cases:
        r = isc(isc_bin, root, "concept", "score", store, *args, check=False)
        assert r.returncode != 0 and needle in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert snapshot() == before
    # a layer outside the model, at training time
    r = isc(isc_bin, root, "concept", "train", work["dir"].parent / "none.gguf" if False else "models/SmolLM2-135M-Instruct.Q4_1.gguf",
            "--concept", work["concept"], "--layers", "31", "-o", tmp_path / "x.json", check=False)
    assert r.returncode != 0 and "outside 0..30" in r.stderr
    # NaN in a stored state
    con = sqlite3.connect(str(store))
    blob = bytearray(con.execute("SELECT data FROM hidden_states WHERE layer = 15 LIMIT 1").fetchone()[0])
    blob[0:2] = np.array([np.nan], dtype="<f2").tobytes()
    con.execute("UPDATE hidden_states SET data = ? WHERE rowid = (SELECT rowid FROM hidden_states WHERE layer = 15 LIMIT 1)", (bytes(blob),))
    con.commit()
    con.close()
    r = isc(isc_bin, root, "concept", "score", store, "--concept", work["dirs"], check=False)
    assert r.returncode != 0 and "non-finite" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert snapshot() == before


def test_control_vector_round_trip_through_the_cli(work, isc_bin, root, model_path, tmp_path):
    import gguf
    cv = tmp_path / "fair.gguf"
    isc(isc_bin, root, "concept", "export", work["dirs"], "--method", "mean_diff", "--strength", "2", "-o", cv)
    reader = gguf.GGUFReader(str(cv))
    names = sorted(t.name for t in reader.tensors)
    assert names == ["direction.14", "direction.29", "direction.9"] or sorted(names) == sorted(["direction.9", "direction.14", "direction.29"])
    back = tmp_path / "back.json"
    isc(isc_bin, root, "concept", "import", cv, "--model", model_path, "-o", back)
    d, b = json.loads(work["dirs"].read_text()), json.loads(back.read_text())
    for e in b["directions"]:
        src = next(x for x in d["directions"] if x["layer"] == e["layer"] and x["method"] == "mean_diff")
        assert np.abs(np.array(e["direction"]) - np.array(src["direction"])).max() < 1e-6
        assert abs(e["state_norm"] - 2.0) < 1e-5


def test_concept_statistics_equal_scipy_and_sklearn_on_the_stored_numbers(work, isc_bin, root, tmp_path):
    """The round-0 statistics rows of `isc concept score`, recomputed from the store's own rows."""
    from scipy import stats
    from sklearn.linear_model import LogisticRegression
    store = tmp_path / "stats.sqlite"
    store.write_bytes(work["full"].read_bytes())
    isc(isc_bin, root, "concept", "score", store, "--concept", work["dirs"], "--method", "probe", "-q")
    rounds = {(c, i, r): (json.loads(p), corr, ans, gold) for c, i, r, p, corr, ans, gold in table(
        store, "SELECT r.condition, r.item_id, r.round, r.option_probs, r.correct, r.answer_index, i.gold "
               "FROM rounds r JOIN items i ON i.run_id = r.run_id AND i.item_id = r.item_id")}
    checked = 0
    for cond in ("baseline", "self-correct", "sc-minus"):
        for layer in (10, 15, 30):
            pts = table(store, "SELECT item_id, round, cosine FROM item_probes WHERE name = 'fair/probe' AND "
                               f"condition = '{cond}' AND position = 'answer' AND layer = {layer}")
            x, u, y = [], [], []
            for item, rnd, cos in pts:
                probs, corr, ans, gold = rounds[(cond, item, rnd)]
                p = np.array(probs)
                x.append(cos)
                u.append(-(p[p > 0] * np.log(p[p > 0])).sum() / np.log(len(p)))
                y.append(int(corr) if corr is not None else int(ans == gold))
            x, u, y = np.array(x), np.array(u), np.array(y)
            def row(suffix):
                v = table(store, f"SELECT value FROM probes WHERE name = 'fair/probe@answer/{suffix}' AND "
                                 f"condition = '{cond}' AND round = 0 AND layer = {layer}")
                assert len(v) == 1, (cond, layer, suffix)
                return json.loads(v[0][0])
            item = row("item_correlation")
            pr, sr = stats.pearsonr(x, u), stats.spearmanr(x, u)
            assert item["n"] == len(x) == 12
            assert abs(item["pearson"]["r"] - pr.statistic) < 1e-12 and abs(item["pearson"]["p_value"] - pr.pvalue) < 1e-9
            assert abs(item["spearman"]["r"] - sr.statistic) < 1e-12 and abs(item["spearman"]["p_value"] - sr.pvalue) < 1e-9
            ols = row("ols")
            lr = stats.linregress(x, u)
            assert abs(ols["slope"] - lr.slope) < 1e-9 and abs(ols["intercept"] - lr.intercept) < 1e-9
            assert abs(ols["r2"] - lr.rvalue ** 2) < 1e-12 and abs(ols["f_p_value"] - lr.pvalue) < 1e-9
            logit = row("logistic")
            if "unavailable" in logit:  # one class or separated: said, never a number
                assert len(set(y)) < 2 or "separat" in logit["unavailable"], logit
            else:
                Z = np.column_stack([x, u])
                Z = (Z - Z.mean(0)) / Z.std(0)
                clf = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100000).fit(Z, y)  # unpenalised MLE
                assert abs(logit["coef"]["concept"] - clf.coef_[0][0]) < 1e-4
                assert abs(logit["coef"]["uncertainty"] - clf.coef_[0][1]) < 1e-4
            # per-round means against the same rows, and their correlation with mean uncertainty
            rnd_rows = table(store, f"SELECT round, value FROM probes WHERE name = 'fair/probe@answer' AND "
                                    f"condition = '{cond}' AND layer = {layer} ORDER BY round")
            by_round = {r: json.loads(v) for r, v in rnd_rows}
            rs = sorted({rnd for _, rnd, _ in pts})
            means = [np.mean([c for _, r2, c in pts if r2 == r]) for r in rs]
            for r, m in zip(rs, means):
                assert abs(by_round[r]["mean"] - m) < 1e-12
            checked += 1
    assert checked == 9


def test_paired_directions_match_sklearn_pca_and_a_numpy_ccs_readout(work, isc_bin, root, model_path, tmp_path):
    """pca_diff / pca_center (repeng's definitions, exact PCA) and CCS on exported pair states."""
    from sklearn.decomposition import PCA
    pairs = tmp_path / "pairs.jsonl"
    texts = [("The nurse was kind to everyone.", "The nurse was cruel to everyone.", 1),
             ("The old man remembered every name.", "The old man forgot every name.", 1),
             ("The neighbours helped each other.", "The neighbours hurt each other.", 0),
             ("She shared her food with strangers.", "She stole food from strangers.", 1),
             ("They welcomed the new family.", "They shunned the new family.", 0),
             ("He listened before he judged.", "He judged before he listened.", 1),
             ("The teacher praised every pupil.", "The teacher mocked every pupil.", 0),
             ("The doctor treated everyone fairly.", "The doctor treated some unfairly.", 1)]
    pairs.write_text("".join(json.dumps({"positive": p, "negative": n, "label": y}) + "\n" for p, n, y in texts))
    out, states = tmp_path / "pairs.directions.json", tmp_path / "pair_states"
    isc(isc_bin, root, "concept", "train", model_path, "--concept", pairs, "--layers", "15", "--heldout", "0.25",
        "--methods", "mean_diff,pca_diff,pca_center,ccs", "--ccs-tries", "3", "--ccs-epochs", "300", "--seed", "2",
        "-o", out, "--export-states", states)
    d = json.loads(out.read_text())
    X = np.load(states / "states_L15.npy").astype(np.float64)
    held = np.load(states / "heldout.npy").astype(bool)
    pos, neg = X[0::2][~held[0::2]], X[1::2][~held[1::2]]
    def get(method):
        return np.array(next(e for e in d["directions"] if e["method"] == method)["direction"]), \
            next(e for e in d["directions"] if e["method"] == method)
    def orient(v):  # repeng's rule: the positive member projects higher more often than lower
        pp, nn = pos @ v, neg @ v
        return -v if (pp < nn).mean() > (pp > nn).mean() else v
    md, _ = get("mean_diff")
    want = (pos - neg).mean(0)
    assert np.abs(md - want / np.linalg.norm(want)).max() < 1e-9
    diff = PCA(n_components=1, svd_solver="full").fit(pos - neg).components_[0]
    assert abs(abs(get("pca_diff")[0] @ orient(diff)) - 1) < 1e-6 and get("pca_diff")[0] @ orient(diff) > 0
    mid = (pos + neg) / 2
    centred = np.empty((2 * len(pos), X.shape[1]))
    centred[0::2], centred[1::2] = pos - mid, neg - mid
    center = PCA(n_components=1, svd_solver="full").fit(centred).components_[0]
    assert get("pca_center")[0] @ orient(center) > 1 - 1e-6
    # CCS: the stored readout, applied in numpy, reproduces the stored train accuracy
    _, ccs = get("ccs")
    ro = ccs["readout"]
    w, b, mean, scale = np.array(ro["weights"]), ro["bias"], np.array(ro["mean"]), np.array(ro["scale"])
    sig = lambda z: 1 / (1 + np.exp(-z))
    assert np.abs(mean - pos.mean(0)).max() < 1e-6
    p_pos = sig(((pos - mean) / scale) @ w + b)
    nm, ns = neg.mean(0), neg.std(0)
    ns = np.where(ns > 0, ns, 1)
    p_neg = sig(((neg - nm) / ns) @ w + b)
    credence = (p_pos + 1 - p_neg) / 2
    labels = np.array([y for _, _, y in texts])[~held[0::2]]
    acc = ((credence > 0.5) == labels).mean()
    assert abs(ccs["train_accuracy"] - acc) < 1e-12, (ccs["train_accuracy"], acc)
    assert len(ccs["details"]["try_losses"]) == 3
    assert ccs["details"]["loss"] == min(ccs["details"]["try_losses"])  # the best try, not the last
