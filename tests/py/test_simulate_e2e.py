# `isc simulate` end to end: the store it writes, read with sqlite3, against the latent-concept
# model's closed form and the --predict-stop rule computed independently in numpy; the existing
# report on it; and one-line errors for bad simulation files.
import json
import sqlite3
import subprocess

import numpy as np
import pytest

from isc_cli import assert_one_line_error

POSITIVE = [0.7, 0.2, 0.1]
NEGATIVE = [0.15, 0.5, 0.35]
ROUNDS = 10
ITEMS = 6
CONDITIONS = {  # name: (prior, lr_instruction, lr_output)
    "baseline": (0.35, 1.0, 1.1),
    "self-correct": (0.35, 2.0, 1.3),
}


def run(isc_bin, *args, check=True):
    p = subprocess.run([str(isc_bin), *map(str, args)], capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"isc {' '.join(map(str, args))} failed: {p.stderr}")
    return p


def noise_free_file(tmp_path, extra=""):
    lines = [f"items: {ITEMS}", f"rounds: {ROUNDS}", "seed: 3", "defaults:", "  prior_sd: 0", "  evidence_sd: 0",
             f"  answers_positive: {POSITIVE}", f"  answers_negative: {NEGATIVE}", "  gold: 0", "conditions:"]
    for name, (prior, lr_i, lr_y) in CONDITIONS.items():
        lines += [f"  - name: {name}", f"    prior: {prior}", f"    lr_instruction: {lr_i}", f"    lr_output: {lr_y}"]
    f = tmp_path / "sim.yaml"
    f.write_text("\n".join(lines) + "\n" + extra)
    return f


def closed_form(prior, lr_i, lr_y, rounds):
    """p_t, the paper's c^(t-1) p_1 and π_t for t = 1..rounds, from the odds form of the model."""
    t = np.arange(1, rounds + 1)
    odds = prior / (1 - prior) * lr_i ** t * lr_y ** (t - 1)
    p = odds / (1 + odds)
    paper = (p[1] / p[0]) ** (t - 1) * p[0]
    pi = np.outer(p, POSITIVE) + np.outer(1 - p, NEGATIVE)
    return p, paper, pi


def predicted_stop_round(pi, eps):
    """The round after which `--predict-stop eps` ends a conversation whose states are pi[0..]: the
    last two total-variation changes extrapolated geometrically (predicted_change.h), never at the
    last round."""
    rounds = len(pi)
    for t in range(3, rounds):  # t = number of states seen; stopping at the last round saves nothing
        prev = 0.5 * np.abs(pi[t - 2] - pi[t - 3]).sum()
        last = 0.5 * np.abs(pi[t - 1] - pi[t - 2]).sum()
        if last == 0:
            remaining = 0.0
        elif prev == 0 or last / prev >= 1:
            continue
        else:
            ratio = last / prev
            remaining = last * ratio / (1 - ratio)
        assert abs(remaining - eps) > 1e-9, "borderline case; choose another epsilon"
        if remaining < eps:
            return t, remaining
    return rounds, None


def read_rounds(store):
    con = sqlite3.connect(store)
    rows = con.execute("SELECT condition, item_id, round, option_probs, answer_index, parsed_answer, correct, extra "
                       "FROM rounds ORDER BY condition, item_id, round").fetchall()
    probes = con.execute("SELECT condition, item_id, round, position, layer, cosine, probability FROM item_probes "
                         "WHERE name = 'latent/posterior'").fetchall()
    runs = con.execute("SELECT run_id, task, model, status, rounds, conditions, config FROM runs").fetchall()
    items = con.execute("SELECT item_id, options, gold FROM items").fetchall()
    con.close()
    return rows, probes, runs, items


def test_store_matches_the_closed_form(isc_bin, tmp_path):
    store = tmp_path / "sim.sqlite"
    out = json.loads(run(isc_bin, "simulate", noise_free_file(tmp_path), "--out", store, "--json").stdout)
    assert out["rounds_stored"] == out["rounds_total"] == ITEMS * ROUNDS * len(CONDITIONS)
    rows, probes, runs, items = read_rounds(store)
    assert len(runs) == 1
    run_id, task, model, status, rounds, conditions, config = runs[0]
    assert (task, model, status, rounds) == ("simulation", "simulation:latent-concept", "finished", ROUNDS)
    assert json.loads(conditions) == list(CONDITIONS)
    assert json.loads(config)["conditions"][1]["lr_instruction"] == 2.0
    assert len(items) == ITEMS and all(json.loads(o) == ["A", "B", "C"] and g == 0 for _, o, g in items)
    assert len(rows) == ITEMS * ROUNDS * len(CONDITIONS) == len(probes)
    expected = {name: closed_form(*params, ROUNDS) for name, params in CONDITIONS.items()}
    for condition, item, rnd, option_probs, answer, parsed, correct, extra in rows:
        p, paper, pi = expected[condition]
        sim = json.loads(extra)["simulation"]
        np.testing.assert_allclose(sim["posterior"], p[rnd - 1], rtol=1e-12)
        np.testing.assert_allclose(sim["posterior_paper"], paper[rnd - 1], rtol=1e-12)
        np.testing.assert_allclose(sim["log_odds"], np.log(p[rnd - 1] / (1 - p[rnd - 1])), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(json.loads(option_probs), pi[rnd - 1], rtol=1e-12)
        np.testing.assert_allclose(sim["entropy"], -(pi[rnd - 1] * np.log(pi[rnd - 1])).sum(), rtol=1e-12)
        assert parsed == "ABC"[answer] and correct == int(answer == 0)
    for condition, item, rnd, position, layer, cosine, probability in probes:
        p = expected[condition][0][rnd - 1]
        assert (position, layer) == ("answer", 0)
        np.testing.assert_allclose([probability, cosine], [p, 2 * p - 1], rtol=1e-12, atol=1e-15)
    # the paper's formula equals the correct posterior at rounds 1–2 and then overshoots past 1
    sc = next(c for c in out["conditions"] if c["condition"] == "self-correct")
    p, paper, _ = expected["self-correct"]
    assert sc["paper_exceeds_one_round"] == int(np.argmax(paper > 1)) + 1
    for r in sc["rounds"]:
        np.testing.assert_allclose([r["closed_form_posterior"], r["mean_posterior"]], p[r["round"] - 1], rtol=1e-12)


def test_report_reads_a_simulated_store(isc_bin, tmp_path):
    store = tmp_path / "sim.sqlite"
    run(isc_bin, "simulate", noise_free_file(tmp_path), "--out", store, "--evidence-sd", "0.3", "--prior-sd", "0.4")
    report = json.loads(run(isc_bin, "report", store, "--json").stdout)
    text = json.dumps(report)
    assert "accuracy" in text and "latent/posterior" in text
    html = tmp_path / "r.html"
    run(isc_bin, "report", store, "--html", html)
    assert "Concepts" in html.read_text()
    # a second simulation into the same store is a new run beside the first
    run(isc_bin, "simulate", noise_free_file(tmp_path), "--out", store, "--run-id", "mine")
    p = run(isc_bin, "simulate", noise_free_file(tmp_path), "--out", store, "--run-id", "mine", check=False)
    assert_one_line_error(p, "run 'mine' exists already")


@pytest.mark.parametrize("extra, needles", [
    ("    lr_instruktion: 2\n", ["sim.yaml:", "unknown key 'lr_instruktion'"]),
    ("    lr_instruction: -1\n", ["sim.yaml:", "lr_instruction = -1"]),
    ("    answers_positive: [0.5, 0.6, 0.1]\n", ["answers_positive sums to 1.2"]),
    ("    output_evidence: maybe\n", ["output_evidence 'maybe' (expected fixed or answer)"]),
])
def test_bad_simulation_file_is_one_line(isc_bin, tmp_path, extra, needles):
    # `extra` lands in the last condition, self-correct, whose lr_instruction line it follows
    f = noise_free_file(tmp_path, extra)
    text = f.read_text()
    if "lr_instruction:" in extra:  # replace the condition's own key rather than repeating it
        text = text.replace("    lr_instruction: 2.0\n", "")
    f.write_text(text)
    p = run(isc_bin, "simulate", f, "--out", tmp_path / "x.sqlite", check=False)
    assert_one_line_error(p, *needles)


def test_bad_flags_are_one_line(isc_bin, tmp_path):
    p = run(isc_bin, "simulate", noise_free_file(tmp_path), "--out", tmp_path / "x.sqlite", "--conditions", "nope",
            check=False)
    assert_one_line_error(p, "no condition 'nope'")
    p = run(isc_bin, "simulate", "--out", tmp_path / "x.sqlite", check=False)
    assert_one_line_error(p, "--answers-positive")


@pytest.mark.parametrize("eps", [0.02, 0.005])
def test_predict_stop_stops_where_the_rule_says(isc_bin, tmp_path, eps):
    store = tmp_path / "stop.sqlite"
    out = json.loads(run(isc_bin, "simulate", noise_free_file(tmp_path), "--out", store, "--predict-stop", eps,
                         "--json").stdout)
    rows, probes, _, _ = read_rounds(store)
    last = {}
    for condition, item, rnd, _, _, _, _, extra in rows:
        last.setdefault((condition, item), []).append((rnd, json.loads(extra)))
    stored = 0
    for name, params in CONDITIONS.items():
        _, _, pi = closed_form(*params, ROUNDS)
        stop, remaining = predicted_stop_round(pi, eps)
        for item in {i for c, i in last if c == name}:
            kept = last[(name, item)]
            assert [r for r, _ in kept] == list(range(1, stop + 1)), (name, eps)
            final = kept[-1][1]
            if remaining is None:
                assert "early_stopped" not in final
            else:
                assert final["early_stopped"] is True
                assert final["predict_stop"]["epsilon"] == eps
                np.testing.assert_allclose(final["predict_stop"]["remaining"], remaining, rtol=1e-6, atol=1e-12)
            assert all("early_stopped" not in e for _, e in kept[:-1])
            stored += len(kept)
    assert out["rounds_stored"] == stored == len(rows) == len(probes)
    assert out["rounds_saved"] == ITEMS * ROUNDS * len(CONDITIONS) - stored
    assert out["rounds_saved"] > 0  # self-correct settles before round 10 at these epsilons
    json.loads(run(isc_bin, "report", store, "--json").stdout)  # carried forward by the report
