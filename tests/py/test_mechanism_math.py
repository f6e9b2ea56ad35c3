# Cross-checks of isc's mechanism analyses (tests/tools/mechanism_math) against scikit-learn, numpy
# and scipy on seeded random data: the simulation task's folds, out-of-fold predictions and full-data
# fit, the transition theory's CL / CS / Upp / curve, the geometric fit, Wilson intervals.
# Every tolerance is stated where it is used.

import numpy as np
import pytest
from scipy import optimize, stats
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

MASK = (1 << 64) - 1


@pytest.fixture(scope="module")
def math(json_tool):
    return json_tool("mechanism_math")


def ok(res):
    assert "error" not in res, res.get("error")
    return res


# --- data ---------------------------------------------------------------------------------------

def make_rows(seed, n_items=60, rounds=6, n_random=12, drop=0.1):
    """Conversations whose uncertainty tends to fall when the concept rises; some rounds not stored,
    some without a concept score or a verdict."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_items):
        c, u = rng.normal(0, 0.2), rng.uniform(0.5, 1.1)
        rand = rng.normal(0, 0.1, n_random)
        correct = bool(rng.random() < 0.4)
        for t in range(1, rounds + 1):
            if t > 1:
                dc = rng.normal(0.02, 0.05)
                c += dc
                u = max(0.0, u - 2.0 * dc + rng.normal(0, 0.05))
                rand = rand + rng.normal(0, 0.05, n_random)
                correct = bool(rng.random() < (0.85 if correct else 0.25))
            if rng.random() < drop:
                continue
            rows.append({"item_id": f"q{i:03d}", "round": t,
                         "concept": None if rng.random() < 0.03 else float(c),
                         "uncertainty": float(u), "correct": correct,
                         "random_concepts": rand.tolist()})
    rng.shuffle(rows)
    return rows


def numpy_pairs(rows):
    by = {}
    for r in rows:
        by.setdefault(r["item_id"], {})[r["round"]] = r
    out = []
    for item in sorted(by):
        for t in sorted(by[item]):
            a, b = by[item][t], by[item].get(t + 1)
            if b is None or None in (a["concept"], b["concept"], a["uncertainty"], b["uncertainty"]):
                continue
            out.append((item, t, a, b))
    return out


def splitmix_folds(items, k, seed):
    """The fold rule of sim::assign_folds, rebuilt from its description in simulation_task.h."""
    state = seed & MASK

    def nxt():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    order = list(range(len(items)))
    for i in range(len(items) - 1, 0, -1):
        j = nxt() % (i + 1)
        order[i], order[j] = order[j], order[i]
    fold = [0] * len(items)
    for p, idx in enumerate(order):
        fold[idx] = p % k
    return dict(zip(items, fold))


def logistic(l2):
    # Tight tolerance so lbfgs reaches the optimum Newton's method finds (the default tol=1e-4 stops early).
    if l2 == 0:
        return LogisticRegression(C=np.inf, tol=1e-13, max_iter=100000)
    return LogisticRegression(C=1 / l2, tol=1e-13, max_iter=100000)


def sklearn_oof(X, y, folds, k, l2):
    """Pooled out-of-fold predictions and P(y = 1) of Pipeline(StandardScaler(), LogisticRegression);
    a training fold with one class predicts it (as isc documents)."""
    pred = np.zeros(len(y), dtype=int)
    prob = np.zeros(len(y))
    for f in range(k):
        tr, te = folds != f, folds == f
        if X is None:
            m = DummyClassifier(strategy="most_frequent").fit(np.zeros((tr.sum(), 1)), y[tr])
            pred[te] = m.predict(np.zeros((te.sum(), 1)))
            prob[te] = y[tr].mean()
            continue
        if len(np.unique(y[tr])) == 1:
            pred[te] = y[tr][0]
            prob[te] = float(y[tr][0])
            continue
        m = Pipeline([("scale", StandardScaler()), ("lr", logistic(l2))]).fit(X[tr], y[tr])
        pred[te] = m.predict(X[te])
        prob[te] = m.predict_proba(X[te])[:, 1]
    return pred, prob


def wilson(k, n, level):
    z = stats.norm.ppf(0.5 * (1 + level))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def check_classifier(c, X, y, folds, k, l2, level=0.95):
    pred, prob = sklearn_oof(X, y, folds, k, l2)
    got_prob = np.array(c["probabilities"])
    # Tolerance: probabilities 1e-7 absolute (Newton to 1e-10 vs lbfgs to tol 1e-13 on a convex problem).
    np.testing.assert_allclose(got_prob, prob, atol=1e-7)
    got_pred = np.array(c["predictions"])
    # Predictions must agree exactly except where both sides sit on the boundary (|P − 0.5| < 1e-7).
    differ = (got_pred != pred) & (np.abs(prob - 0.5) > 1e-7)
    assert not differ.any(), (c["name"], np.flatnonzero(differ))
    acc = c["accuracy"]
    assert acc["successes"] == int((got_pred == y).sum())
    assert acc["n"] == len(y)
    assert acc["estimate"] == pytest.approx((pred == y).mean(), abs=1.5 / len(y))
    lo, hi = wilson(acc["successes"], acc["n"], level)
    assert acc["lower"] == pytest.approx(lo, abs=1e-12) and acc["upper"] == pytest.approx(hi, abs=1e-12)
    return float((got_pred == y).mean())


# --- simulation task ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed,l2,folds", [(1, 1.0, 5), (2, 0.5, 4), (3, 0.0, 5), (4, 4.0, 3)])
def test_simulation_task_matches_sklearn(math, seed, l2, folds):
    rows = make_rows(seed)
    res = ok(math({"op": "simulation_task", "rows": rows, "options": {"folds": folds, "l2": l2, "seed": seed * 7}}))
    assert "unavailable" not in res, res["unavailable"]
    pairs = numpy_pairs(rows)
    got = res["pairs"]
    assert [(p["item_id"], p["round"]) for p in got] == [(i, t) for i, t, _, _ in pairs]

    items = sorted({i for i, _, _, _ in pairs})
    fold_of = splitmix_folds(items, folds, seed * 7)
    fold = np.array([fold_of[i] for i, _, _, _ in pairs])
    assert [p["fold"] for p in got] == fold.tolist()

    c0 = np.array([a["concept"] for _, _, a, _ in pairs])
    c1 = np.array([b["concept"] for _, _, _, b in pairs])
    u0 = np.array([a["uncertainty"] for _, _, a, _ in pairs])
    u1 = np.array([b["uncertainty"] for _, _, _, b in pairs])
    t = np.array([t for _, t, _, _ in pairs], dtype=float)
    dc, du = c1 - c0, u1 - u0
    np.testing.assert_allclose([p["concept_after"] - p["concept_before"] for p in got], dc, atol=1e-15)

    y_fwd = (du <= 0).astype(int)
    y_rev = (dc > 0).astype(int)
    col = lambda *cs: np.column_stack(cs)
    fwd = res["forward"]
    assert fwd["n_positive"] == int(y_fwd.sum())
    want_fwd = [("concept change", col(dc)), ("majority class", None), ("round index", col(t)),
                ("earlier uncertainty", col(u0)), ("concept change + earlier uncertainty", col(dc, u0))]
    assert [c["name"] for c in fwd["classifiers"]] == [n for n, _ in want_fwd]
    accs = [check_classifier(c, X, y_fwd, fold, folds, l2) for c, (_, X) in zip(fwd["classifiers"], want_fwd)]
    rev = res["reverse"]
    want_rev = [("uncertainty change", col(du)), ("majority class", None), ("round index", col(t)),
                ("earlier concept", col(c0)), ("uncertainty change + earlier concept", col(du, c0))]
    assert [c["name"] for c in rev["classifiers"]] == [n for n, _ in want_rev]
    for c, (_, X) in zip(rev["classifiers"], want_rev):
        check_classifier(c, X, y_rev, fold, folds, l2)

    # Random directions: the same classifier on each direction's Δ score.
    rnd = np.array([np.array(b["random_concepts"]) - np.array(a["random_concepts"]) for _, _, a, b in pairs])
    ra = []
    for j in range(rnd.shape[1]):
        pred, _ = sklearn_oof(rnd[:, [j]], y_fwd, fold, folds, l2)
        ra.append((pred == y_fwd).mean())
    ra = np.array(ra)
    rd = fwd["random_directions"]
    # Tolerance: an accuracy may move by one pair when a probability sits within 1e-7 of 0.5.
    np.testing.assert_allclose(rd["accuracies"], ra, atol=1.5 / len(y_fwd))
    assert rd["mean_accuracy"] == pytest.approx(np.mean(rd["accuracies"]), abs=1e-12)
    assert rd["lower"] == pytest.approx(np.quantile(rd["accuracies"], 0.025), abs=1e-12)
    assert rd["upper"] == pytest.approx(np.quantile(rd["accuracies"], 0.975), abs=1e-12)
    assert rd["share_beaten"] == pytest.approx(np.mean(np.array(rd["accuracies"]) < accs[0]), abs=1e-12)

    # Full-data fit of the concept-change model: coefficients to 1e-6 (absolute, per standard deviation).
    ff = fwd["full_fit"]
    if isinstance(ff["coefficient"], dict):
        pytest.skip("separated data")
    ref = Pipeline([("scale", StandardScaler()), ("lr", logistic(l2))]).fit(dc[:, None], y_fwd)
    assert ff["coefficient"] == pytest.approx(ref["lr"].coef_[0, 0], abs=1e-6)
    assert ff["intercept"] == pytest.approx(ref["lr"].intercept_[0], abs=1e-6)
    assert ff["column_std"] == pytest.approx(dc.std(), rel=1e-12)
    assert ff["coefficient_raw"] == pytest.approx(ref["lr"].coef_[0, 0] / dc.std(), rel=1e-6)
    # Standard error from the (penalised) Hessian in standardised units, and its normal p-value.
    z = (dc - dc.mean()) / dc.std()
    X = np.column_stack([np.ones_like(z), z])
    p = 1 / (1 + np.exp(-(X @ np.array([ff["intercept"], ff["coefficient"]]))))
    H = X.T @ (X * (p * (1 - p))[:, None]) + np.diag([0.0, l2])
    se = np.sqrt(np.linalg.inv(H)[1, 1])
    assert ff["std_error"] == pytest.approx(se, rel=1e-6)
    assert ff["p_value"] == pytest.approx(2 * stats.norm.sf(abs(ff["coefficient"] / se)), rel=1e-5, abs=1e-300)
    assert all(line for line in res["text"].split("\n")[:-1]) and res["text"].endswith("\n")


def test_simulation_task_degenerate_messages(math):
    rows = make_rows(5, n_items=3)
    res = ok(math({"op": "simulation_task", "rows": rows}))
    assert res["unavailable"] == "5-fold cross-validation needs at least 5 items; this condition has 3"
    assert res["forward"]["unavailable"] == res["unavailable"]
    flat = [dict(r, uncertainty=float(r["round"])) for r in make_rows(6, drop=0.0)]
    res = ok(math({"op": "simulation_task", "rows": flat}))
    assert res["forward"]["unavailable"].startswith("uncertainty never decreased in these ")
    assert all_finite(res)
    res = ok(math({"op": "transition_theory", "rows": [dict(r, correct=True) for r in make_rows(7)]}))
    assert res["unavailable"].startswith("CS is undefined: no item was wrong at round 1")
    assert all_finite(res)


def all_finite(j):
    """No NaN or infinity anywhere in a JSON answer (undefined values are {"unavailable": reason})."""
    if isinstance(j, dict):
        return all(all_finite(v) for v in j.values())
    if isinstance(j, list):
        return all(all_finite(v) for v in j)
    return not isinstance(j, float) or np.isfinite(j)


def test_wilson_matches_numpy(math):
    args = [[k, n, lvl] for n in (1, 2, 7, 50, 1000) for k in sorted({0, 1, n // 3, n // 2, n - 1, n}) for lvl in (0.9, 0.95, 0.99)
            if 0 <= k <= n]
    got = ok(math({"op": "wilson", "args": args}))["values"]
    for (k, n, lvl), g in zip(args, got):
        lo, hi = wilson(k, n, lvl)
        # Tolerance: 1e-12 absolute (the normal quantile is bisected to the last bit).
        assert g["lower"] == pytest.approx(lo, abs=1e-12) and g["upper"] == pytest.approx(hi, abs=1e-12)


# --- transition theory --------------------------------------------------------------------------

@pytest.mark.parametrize("seed,from_round", [(11, 1), (12, 2), (13, 1)])
def test_transition_theory_matches_numpy(math, seed, from_round):
    rows = make_rows(seed, n_items=150, rounds=6)
    res = ok(math({"op": "transition_theory", "rows": rows,
                   "options": {"from_round": from_round, "bootstrap_resamples": 300, "seed": 3}}))
    assert "unavailable" not in res, res["unavailable"]
    items = sorted({r["item_id"] for r in rows})
    last = max(r["round"] for r in rows)
    C = np.full((len(items), last + 2), -1)
    idx = {it: i for i, it in enumerate(items)}
    for r in rows:
        C[idx[r["item_id"]], r["round"]] = int(r["correct"])

    def cl_cs(a, b):
        both = (a >= 0) & (b >= 0)
        cl = ((a == 1) & (b == 1) & both).sum() / ((a == 1) & both).sum()
        cs = ((a == 0) & (b == 1) & both).sum() / ((a == 0) & both).sum()
        return cl, cs

    r = from_round
    cl, cs = cl_cs(C[:, r], C[:, r + 1])
    acc_r = (C[:, r] == 1).sum() / (C[:, r] >= 0).sum()
    upp = cs / (1 - cl + cs)
    alpha = cl - cs
    # Tolerance: 1e-12 absolute (the same rational numbers computed in another order).
    assert res["estimate"]["cl"]["estimate"] == pytest.approx(cl, abs=1e-12)
    assert res["estimate"]["cs"]["estimate"] == pytest.approx(cs, abs=1e-12)
    assert res["upper_bound"] == pytest.approx(upp, abs=1e-12)
    assert res["alpha"] == pytest.approx(alpha, abs=1e-12)
    assert res["start"]["estimate"] == pytest.approx(acc_r, abs=1e-12)
    k = res["estimate"]["correct_to_correct"]
    lo, hi = wilson(k, res["estimate"]["correct_before"], 0.95)
    assert res["estimate"]["cl"]["lower"] == pytest.approx(lo, abs=1e-12)
    rounds = res["rounds"]
    assert [p["round"] for p in rounds] == list(range(r, last + 1))
    for p in rounds:
        t = p["round"]
        pred = upp - alpha ** (t - r) * (upp - acc_r)
        obs = (C[:, t] == 1).sum() / (C[:, t] >= 0).sum()
        assert p["predicted"] == pytest.approx(pred, abs=1e-12)
        assert p["observed"]["estimate"] == pytest.approx(obs, abs=1e-12)
        assert p["residual"] == pytest.approx(obs - pred, abs=1e-12)
        ci = p["predicted_ci"]
        assert 0.0 <= ci["lower"] <= ci["upper"] <= 1.0 and ci["resamples"] == 300
    fin = rounds[-1]
    assert res["final_within_interval"] == (fin["predicted_ci"]["lower"] <= fin["observed"]["estimate"] <= fin["predicted_ci"]["upper"])
    # Pooled over every consecutive transition.
    cc = cb = wc = wb = 0
    for t in range(1, last):
        a, b = C[:, t], C[:, t + 1]
        both = (a >= 0) & (b >= 0)
        cc += ((a == 1) & (b == 1) & both).sum(); cb += ((a == 1) & both).sum()
        wc += ((a == 0) & (b == 1) & both).sum(); wb += ((a == 0) & both).sum()
    assert res["pooled"]["cl"]["estimate"] == pytest.approx(cc / cb, abs=1e-12)
    assert res["pooled"]["cs"]["estimate"] == pytest.approx(wc / wb, abs=1e-12)
    assert len(res["per_transition"]) == last - 1


# --- geometric fit ------------------------------------------------------------------------------

def model(t, y_inf, y1, rho):
    return y_inf + (y1 - y_inf) * rho ** (t - 1)


@pytest.mark.parametrize("seed", range(6))
def test_geometric_fit_matches_scipy(math, seed):
    rng = np.random.default_rng(100 + seed)
    T = int(rng.integers(5, 11))
    rho = rng.uniform(-0.8, 0.9)
    y_inf, y1 = rng.normal(1.0, 0.3), rng.normal(2.0, 0.5)
    t = np.arange(1, T + 1, dtype=float)
    y = model(t, y_inf, y1, rho) + rng.normal(0, 0.02, T)
    res = ok(math({"op": "geometric_fit", "name": "s", "series": [[int(a), float(b)] for a, b in zip(t, y)]}))
    fit = res["fit"]
    assert "unavailable" not in fit, fit
    # Independent optimum: profile the sum of squares over a fine ρ grid (numpy lstsq), then refine
    # with scipy's bounded scalar minimiser, then polish all three parameters with curve_fit.
    def sse(r):
        A = np.column_stack([np.ones_like(t), r ** (t - 1)])
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        return float(((A @ coef - y) ** 2).sum())
    grid = np.linspace(-0.9999, 0.9999, 20001)
    best = grid[np.argmin([sse(r) for r in grid])]
    r_opt = optimize.minimize_scalar(sse, bounds=(best - 1e-4, best + 1e-4), method="bounded",
                                     options={"xatol": 1e-12}).x
    A = np.column_stack([np.ones_like(t), r_opt ** (t - 1)])
    a, b = np.linalg.lstsq(A, y, rcond=None)[0]
    popt, _ = optimize.curve_fit(model, t, y, p0=[a, a + b, r_opt], xtol=1e-14, ftol=1e-14, maxfev=100000)
    # Tolerance: ρ 1e-6 and y_∞, y_1 1e-5 absolute (a well-posed optimum; both sides converge to 1e-10 or better).
    assert fit["rho"] == pytest.approx(popt[2], abs=1e-6)
    assert fit["y_limit"] == pytest.approx(popt[0], abs=1e-5)
    assert fit["y_first"] == pytest.approx(popt[1], abs=1e-5)
    assert fit["sse"] <= sse(popt[2]) * (1 + 1e-9) + 1e-15
    resid = y - model(t, *popt)
    np.testing.assert_allclose(fit["residuals"], resid, atol=1e-5)
    assert fit["r2"] == pytest.approx(1 - (resid ** 2).sum() / ((y - y.mean()) ** 2).sum(), abs=1e-8)
    early = res["early"]
    if "unavailable" not in early:
        re = (y[2] - y[1]) / (y[1] - y[0])
        yi = y[0] + (y[1] - y[0]) / (1 - re)
        assert early["rho"] == pytest.approx(re, abs=1e-12)
        assert early["y_limit"] == pytest.approx(yi, abs=1e-10)
        pred = model(t, yi, y[0], re)
        np.testing.assert_allclose(early["fitted"], pred, atol=1e-10)
        assert early["later_mean_abs_error"] == pytest.approx(np.abs(y[3:] - pred[3:]).mean(), abs=1e-10)
    else:
        assert early["unavailable"]


def test_geometric_fit_unavailable_reasons(math):
    res = ok(math([{"op": "geometric_fit", "series": [[1, 0.5], [2, 0.5], [3, 0.5], [4, 0.5]]},
                   {"op": "geometric_fit", "series": [[1, 1.0], [2, 0.6], [3, 0.4]]},
                   {"op": "geometric_fit", "series": [[t, 2.0 ** t] for t in range(1, 7)]}]))
    assert res[0]["fit"]["unavailable"].startswith("the series is flat")
    assert res[1]["fit"]["unavailable"] == "the fit needs at least 4 rounds; the series has 3"
    assert res[1]["early"]["rho"] == pytest.approx(0.5)
    assert "|rho| >= 1" in res[2]["fit"]["unavailable"]
    assert "|rho| >= 1" in res[2]["early"]["unavailable"]
