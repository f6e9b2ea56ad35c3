# `isc analyze` on stores written by `isc simulate` with known parameters: the latent-concept fit
# recovers them (exactly from noise-free concept scores, within its errors from accuracy alone), and
# CL/CS on a simulated run equal numpy's count of its transitions.
import functools
import json
import math
import sqlite3

import numpy as np
import pytest

from isc_cli import isc


isc = functools.partial(isc, timeout=600)


def simulate(isc_bin, root, out, *flags):
    isc(isc_bin, root, "simulate", root / "simulations" / "latent_concept.yaml", "--out", out, "--conditions",
        "self-correct", *flags)
    # the predictive entropy of a soft mixture is not linear in the posterior, so only the series the
    # model makes affine in p_t are fitted here
    return json.loads(isc(isc_bin, root, "analyze", out, "--json", "--bootstrap", "200", "--fit-series",
                          "accuracy,concept").stdout)["runs"][0]


# prior p0 = 0.3, LR_i = 1.5, LR_y = 1.2: round 1 has seen the instruction once, so
# ℓ_1 = logit(0.3) + log 1.5 and λ = log(1.5 · 1.2) per review round
P0, LR_I, LR_Y = 0.3, 1.5, 1.2
L1 = math.log(P0 / (1 - P0)) + math.log(LR_I)
LAMBDA = math.log(LR_I * LR_Y)
COMMON = ("--prior", P0, "--lr-instruction", LR_I, "--lr-output", LR_Y, "--prior-sd", 0, "--evidence-sd", 0,
          "--output-evidence", "fixed", "--answers-positive", "0.85,0.1,0.05", "--answers-negative", "0.2,0.5,0.3",
          "--gold", 0, "--rounds", 8, "--seed", 3)


def test_noise_free_fit_recovers_the_simulation_parameters(isc_bin, root, tmp_path):
    a = simulate(isc_bin, root, tmp_path / "exact.sqlite", *COMMON, "--items", 300, "--answer", "sample")
    fit = a["conditions"][0]["concept_model_fit"]
    # the concept score (2p − 1 of the noise-free posterior) pins ℓ_1 and λ down exactly
    assert fit["first_log_odds"]["estimate"] == pytest.approx(L1, abs=1e-3)
    assert fit["log_lr_per_round"]["estimate"] == pytest.approx(LAMBDA, abs=1e-3)
    concept = next(s for s in fit["series"] if s["name"] == "concept")
    assert concept["under_negative"]["estimate"] == pytest.approx(-1.0, abs=1e-3)
    assert concept["under_positive"]["estimate"] == pytest.approx(1.0, abs=1e-3)
    # sampled answers: accuracy under each concept is the gold option's probability, within its errors
    acc = next(s for s in fit["series"] if s["name"] == "accuracy")
    for key, truth in (("under_positive", 0.85), ("under_negative", 0.2)):
        v = acc[key]
        assert abs(v["estimate"] - truth) <= 4 * v["std_error"] + 1e-9, (key, v)
    # the stored per-round posterior equals the closed form σ(ℓ_1 + λ(t − 1))
    sim = a["conditions"][0]["simulated"]
    for t, p in zip(sim["rounds"], sim["posterior"]):
        assert p == pytest.approx(1 / (1 + math.exp(-(L1 + LAMBDA * (t - 1)))), abs=1e-12)


def test_cl_cs_of_a_simulated_run_equal_numpy(isc_bin, root, tmp_path):
    out = tmp_path / "cs.sqlite"
    a = simulate(isc_bin, root, out, *COMMON, "--items", 200, "--answer", "sample")
    con = sqlite3.connect(str(out))
    rows = con.execute("SELECT item_id, round, correct FROM rounds WHERE condition = 'self-correct' "
                       "ORDER BY item_id, round").fetchall()
    con.close()
    by_item = {}
    for item, rnd, c in rows:
        by_item.setdefault(item, {})[rnd] = c
    before = np.array([v[1] for v in by_item.values()])
    after = np.array([v[2] for v in by_item.values()])
    est = a["conditions"][0]["transition_theory"]["estimate"]
    assert est["cl"]["estimate"] == pytest.approx(after[before == 1].mean(), abs=1e-12)
    assert est["cs"]["estimate"] == pytest.approx(after[before == 0].mean(), abs=1e-12)
    # answers drawn afresh each round from π_t: the chain is not the two-state Markov chain the theory
    # assumes, so only the arithmetic is checked here, not the prediction's quality
