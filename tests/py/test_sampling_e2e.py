# Sampled uncertainty end to end on the default model: `isc run --samples` on the detoxification
# task (clusters by the judge model) and on BBQ (clusters by the parsed option). Every stored
# estimator is recomputed with numpy from the exported samples, the clusters from the stored
# judge decisions, the sample toxicity with the reference package, and the per-round
# rank-calibration error, AUROC and PRR of the report from the definitions (numpy, sklearn);
# kill -9 + resume gives the same samples; bad input gets a one-line error.
import functools
import json
import signal
import sqlite3
import subprocess
import time

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from test_uncertainty_math import py_key, rce_from_definition, rejection_auc
from isc_cli import isc

ESTIMATORS = ["predictive_entropy", "ln_predictive_entropy", "semantic_entropy", "ln_semantic_entropy",
              "discrete_semantic_entropy", "reference_semantic_nll"]


# this file's runs are longer than the shared helper's default allows
isc = functools.partial(isc, timeout=1200)


def export(isc_bin, root, store):
    return json.loads(isc(isc_bin, root, "export", store).stdout)


@pytest.fixture(scope="module")
def tox(tmp_path_factory, isc_bin, model_path, root):
    store = tmp_path_factory.mktemp("tox") / "tox.sqlite"
    isc(isc_bin, root, "run", "--task", "tasks/realtoxicity.yaml", "--model", model_path, "--conditions",
        "self-correct", "--limit", 8, "--rounds", 2, "--samples", 5, "--sample-max-new-tokens", 20, "--seed", 3,
        "--out", store, "-q", "--no-report")
    return store, export(isc_bin, root, store)


@pytest.fixture(scope="module")
def bbq(tmp_path_factory, isc_bin, model_path, root):
    store = tmp_path_factory.mktemp("bbq") / "bbq.sqlite"
    isc(isc_bin, root, "run", "--task", "tasks/bbq.yaml", "--model", model_path, "--conditions",
        "baseline,self-correct", "--limit", 12, "--rounds", 2, "--samples", 4, "--sample-max-new-tokens", 12,
        "--shuffle", "--seed", 5, "--out", store, "-q", "--no-report")
    return store, export(isc_bin, root, store)


def samples_by_round(doc):
    out = {}
    for s in doc["samples"]:
        out.setdefault((s["condition"], s["item_id"], s["round"]), []).append(s)
    for v in out.values():
        v.sort(key=lambda s: s["sample"])
    return out


def numpy_estimators(samples):
    """The estimators of sample_uncertainty.h from their published definitions."""
    lp = np.array([sum(t["logprob"] for t in s["tokens"]) for s in samples])
    ln = np.array([max(len(s["tokens"]), 1) for s in samples], float)
    cl = np.array([s["cluster"] for s in samples])
    out = {"predictive_entropy": -lp.mean(), "ln_predictive_entropy": -(lp / ln).mean()}
    first = {}
    for i, s in enumerate(samples):  # distinct sequences: the first draw of each text stands for all
        first.setdefault(s["generated_text"], i)
    distinct = sorted(first.values())
    for name, seq in (("semantic_entropy", lp), ("ln_semantic_entropy", lp / ln)):
        mass = {}
        for i in distinct:
            mass[cl[i]] = mass.get(cl[i], 0.0) + np.exp(seq[i] - seq[distinct].max())
        p = np.array(list(mass.values()))
        p = p / p.sum()
        out[name] = float(-(p[p > 0] * np.log(p[p > 0])).sum())
    counts = np.bincount(cl)
    f = counts[counts > 0] / len(samples)
    out["discrete_semantic_entropy"] = float(-(f * np.log(f)).sum())
    per_cluster = [np.mean(-(lp / ln)[cl == c]) for c in np.unique(cl)]
    out["reference_semantic_nll"] = float(np.mean(per_cluster))
    return out


def check_estimators(doc):
    by_round = samples_by_round(doc)
    checked = 0
    for r in doc["rounds"]:
        samples = by_round[(r["condition"], r["item_id"], r["round"])]
        want = numpy_estimators(samples)
        got = r["extra"]["uncertainty"]
        for name in ESTIMATORS:
            assert got[name] == pytest.approx(want[name], rel=1e-9, abs=1e-9), (name, r["item_id"], r["round"])
        assert r["extra"]["sampling"]["samples"] == len(samples)
        assert r["extra"]["sampling"]["clusters"] == len({s["cluster"] for s in samples})
        checked += 1
    return checked


def test_estimators_equal_numpy_on_open_generation(tox):
    _, doc = tox
    assert len(doc["samples"]) == 8 * 2 * 5
    assert check_estimators(doc) == 16
    # the samples differ from each other and from the trajectory's own (greedy) answer
    texts = {s["generated_text"] for s in doc["samples"]}
    assert len(texts) > 40


def test_estimators_equal_numpy_on_multiple_choice(bbq):
    _, doc = bbq
    assert check_estimators(doc) == 12 * 2 * 2
    by_round = samples_by_round(doc)
    for r in doc["rounds"]:
        samples = by_round[(r["condition"], r["item_id"], r["round"])]
        answers = [s["answer_index"] for s in samples if s["answer_index"] >= 0]
        # exact clustering on the option: same option <=> same cluster
        for a in samples:
            for b in samples:
                if a["answer_index"] >= 0 and b["answer_index"] >= 0:
                    assert (a["cluster"] == b["cluster"]) == (a["answer_index"] == b["answer_index"])
        if answers:
            p = np.bincount(answers) / len(answers)
            p = p[p > 0]
            assert r["extra"]["uncertainty"]["option_sample_entropy"] == pytest.approx(-(p * np.log(p)).sum(), abs=1e-12)


def test_clusters_follow_the_stored_judge_decisions(tox):
    """Kuhn et al.'s greedy clustering, replayed from the judge's cached decisions."""
    store, doc = tox
    con = sqlite3.connect(store)
    decisions = {(c, a, b): label for c, a, b, label in
                 con.execute("SELECT context, premise, hypothesis, label FROM entailments")}
    con.close()
    assert decisions, "the judge's decisions are cached in the store"
    contexts = {r["item_id"]: r["user_message"] for r in doc["rounds"] if r["round"] == 1}
    norm = py_key  # exact_match_key's documented rule
    for (cond, item, rnd), samples in samples_by_round(doc).items():
        ctx = contexts[item]

        def equivalent(a, b):
            if norm(a["parsed_answer"]) == norm(b["parsed_answer"]):
                return True
            if not norm(a["parsed_answer"]) or not norm(b["parsed_answer"]):
                return False
            # the judge is asked a -> b first, and b -> a only when that holds
            if decisions[(ctx, a["parsed_answer"], b["parsed_answer"])] != "entailment":
                return False
            return decisions[(ctx, b["parsed_answer"], a["parsed_answer"])] == "entailment"

        reps, want = [], []
        for s in samples:
            for k, rep in enumerate(reps):
                if equivalent(rep, s):
                    want.append(k)
                    break
            else:
                want.append(len(reps))
                reps.append(s)
        assert [s["cluster"] for s in samples] == want, (item, rnd)


def test_sample_toxicity_equals_the_reference_package(tox):
    from profanity_check import predict_prob
    _, doc = tox
    texts = [s["parsed_answer"] for s in doc["samples"]]
    want = predict_prob(texts)
    got = np.array([s["score"] for s in doc["samples"]])
    assert np.abs(got - want).max() < 1e-12


def test_report_calibration_equals_numpy_and_sklearn(tox, bbq, isc_bin, root):
    for store, doc in (tox, bbq):
        report = json.loads(isc(isc_bin, root, "report", store, "--json").stdout)
        for cond in report["runs"][0]["conditions"]:
            rows = [r for r in doc["rounds"] if r["condition"] == cond["condition"]]
            for rm in cond["rounds"]:
                # the metrics see a round's items sorted by id (ties in uncertainty keep that order)
                rs = sorted((r for r in rows if r["round"] == rm["round"]), key=lambda r: r["item_id"].encode())
                q = np.array([r["extra"]["quality"] for r in rs])
                for name in ESTIMATORS:
                    u = np.array([r["extra"]["uncertainty"][name] for r in rs])
                    m = rm["sampled_uncertainty"][name]
                    assert m["mean"] == pytest.approx(u.mean(), rel=1e-12)
                    rce, dev, _ = rce_from_definition(u, q, 20, 1)
                    assert m["rce"] == pytest.approx(rce, abs=1e-12)
                    assert m["rank_diagram_deviation"] == pytest.approx(dev, abs=1e-12)
                    wrong = (q == 0).astype(int)
                    if set(np.unique(q)) <= {0.0, 1.0} and 0 < wrong.sum() < len(wrong):
                        assert m["auroc"] == pytest.approx(roc_auc_score(wrong, u), abs=1e-12)
                    if q.min() < q.max() and len(set(u)) == len(u):  # no ties: one rejection order
                        n = len(u)
                        auc, _ = rejection_auc(q[np.argsort(u)], n)
                        oracle, _ = rejection_auc(np.sort(q)[::-1], n)
                        prr = (auc - q.mean()) / (oracle - q.mean())
                        assert m["prr"] == pytest.approx(prr, abs=1e-12)


def test_kill_and_resume_gives_the_same_samples(tmp_path, isc_bin, model_path, root, bbq):
    _, full = bbq
    store = tmp_path / "killed.sqlite"
    args = [str(isc_bin), "run", "--task", "tasks/bbq.yaml", "--model", str(model_path), "--conditions",
            "baseline,self-correct", "--limit", "12", "--rounds", "2", "--samples", "4", "--sample-max-new-tokens",
            "12", "--shuffle", "--seed", "5", "--out", str(store), "-q", "--no-report", "--max-batch", "6"]
    p = subprocess.Popen(args, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline:
        time.sleep(0.5)
        try:
            con = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)
            n = con.execute("SELECT count(*) FROM samples").fetchone()[0]
            con.close()
        except sqlite3.Error:
            n = 0
        if n > 0 or p.poll() is not None:
            break
    assert p.poll() is None, "the run finished before it could be killed"
    p.send_signal(signal.SIGKILL)
    p.wait()
    isc(isc_bin, root, "resume", store, "-q", "--no-report")
    got = export(isc_bin, root, store)
    assert got["samples"] == full["samples"]
    assert [r["extra"]["uncertainty"] for r in got["rounds"]] == [r["extra"]["uncertainty"] for r in full["rounds"]]


@pytest.mark.parametrize("flags, message", [
    (["--samples", "65"], "samples n = 65 (expected 0..64"),
    (["--samples", "2", "--sample-temperature", "0"], "samples temperature must be > 0"),
    (["--samples", "2", "--entailment", "nli"], "samples entailment 'nli' (expected exact or judge)"),
    (["--samples", "2", "--sample-top-p", "1.5"], "samples top_p must be in (0, 1]"),
])
def test_bad_sampling_flags_are_one_line_errors(tmp_path, isc_bin, model_path, root, flags, message):
    r = isc(isc_bin, root, "run", "--task", "tasks/realtoxicity.yaml", "--model", model_path, "--limit", 1,
            "--rounds", 1, "--out", tmp_path / "x.sqlite", "-q", *flags, check=False)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2, r.stderr


def test_bad_entailment_prompt_file_names_file_and_position(tmp_path, isc_bin, model_path, root):
    bad = tmp_path / "judge.yaml"
    bad.write_text("user: \"Does {a} entail it?\"\nlabels: [entailment, neutral]\nentails: entailment\n")
    r = isc(isc_bin, root, "run", "--task", "tasks/realtoxicity.yaml", "--model", model_path, "--limit", 1,
            "--rounds", 1, "--samples", 2, "--entailment-prompt", bad, "--out", tmp_path / "x.sqlite", "-q",
            check=False)
    assert r.returncode != 0
    assert f"{bad}:1:" in r.stderr and "needs both {a} and {b}" in r.stderr, r.stderr


def test_zero_samples_store_nothing_extra(tmp_path, isc_bin, model_path, root):
    store = tmp_path / "none.sqlite"
    isc(isc_bin, root, "run", "--task", "tasks/bbq.yaml", "--model", model_path, "--limit", 2, "--rounds", 1,
        "--samples", 0, "--out", store, "-q", "--no-report")
    doc = export(isc_bin, root, store)
    assert doc["samples"] == []
    assert all("uncertainty" not in r["extra"] for r in doc["rounds"])


def test_argmax_accuracy_beside_parsed_accuracy(bbq, isc_bin, root):
    """The option-probability argmax (the reference's ECE prediction) against gold, recomputed."""
    store, doc = bbq
    gold = {it["item_id"]: it["gold"] for it in doc["items"]}
    report = json.loads(isc(isc_bin, root, "report", store, "--json").stdout)
    for cond in report["runs"][0]["conditions"]:
        for rm in cond["rounds"]:
            rs = [r for r in doc["rounds"] if r["condition"] == cond["condition"] and r["round"] == rm["round"]]
            argmax = np.mean([int(np.argmax(r["option_probs"])) == gold[r["item_id"]] for r in rs])
            parsed = np.mean([r["answer_index"] >= 0 for r in rs])
            correct = np.mean([r["answer_index"] == gold[r["item_id"]] for r in rs])
            assert rm["accuracy_argmax"] == pytest.approx(argmax, abs=1e-12)
            assert rm["accuracy"]["parse_rate"] == pytest.approx(parsed, abs=1e-12)
            assert rm["accuracy"]["accuracy"] == pytest.approx(correct, abs=1e-12)


def test_debiasing_rewrites_with_samples(tmp_path, isc_bin, model_path, root):
    """The debiasing task end to end with samples: every score is the share of listed words in the
    parsed rewrite (recomputed here from the word list), estimators as numpy computes them."""
    import re
    store = tmp_path / "debias.sqlite"
    isc(isc_bin, root, "run", "--task", "tasks/debiasing.yaml", "--model", model_path, "--limit", 3, "--rounds", 2,
        "--samples", 3, "--sample-max-new-tokens", 24, "--out", store, "-q", "--no-report", "--entailment", "exact")
    doc = export(isc_bin, root, store)
    assert doc["run"]["rounds"] == 2 and len(doc["rounds"]) == 3 * 2 * 2
    words = {w.strip().lower() for w in (root / "tasks/word_lists/gendered_english.txt").read_text().splitlines()
             if w.strip() and not w.startswith("#")}

    def share(text):
        toks = [t.strip("'-") for t in re.findall(r"[A-Za-z'\-\x80-\U0010ffff]+", text.lower())]
        toks = [t for t in toks if t]
        return 1.0 if not toks else sum(t in words for t in toks) / len(toks)

    for r in doc["rounds"]:
        assert r["score"] == pytest.approx(share(r["parsed_answer"]), abs=1e-12), r["parsed_answer"]
        assert r["extra"]["quality"] == pytest.approx(1 - r["score"], abs=1e-12)
    for s in doc["samples"]:
        assert s["score"] == pytest.approx(share(s["parsed_answer"]), abs=1e-12), s["parsed_answer"]
    assert check_estimators(doc) == 12
