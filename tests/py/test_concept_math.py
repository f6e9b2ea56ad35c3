# Cross-checks of isc's statistics and concept-direction maths (tests/tools/concept_math) against
# scipy, scikit-learn and numpy re-implementations, on seeded random data. Every tolerance is stated.

import numpy as np
import pytest
from scipy import special, stats
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


@pytest.fixture(scope="module")
def math(json_tool):
    return json_tool("concept_math")


def ok(res):
    assert "error" not in res, res.get("error")
    return res


def lst(a):
    return np.asarray(a, dtype=float).tolist()


# --- special functions -----------------------------------------------------------------------

def test_betainc_matches_scipy(math):
    rng = np.random.default_rng(1)
    args = [[float(a), float(b), float(x)] for a, b, x in zip(
        np.exp(rng.uniform(np.log(0.05), np.log(500.0), 400)),
        np.exp(rng.uniform(np.log(0.05), np.log(500.0), 400)),
        rng.uniform(0, 1, 400))]
    args += [[2.0, 3.0, 0.0], [2.0, 3.0, 1.0], [0.5, 0.5, 0.5], [1.0, 1.0, 0.3], [1e-3, 1e3, 1e-5], [50.0, 0.5, 0.999]]
    got = np.array(ok(math({"op": "betainc", "args": args}))["values"])
    want = special.betainc(*np.array(args).T)
    # Tolerance: relative 1e-9 plus absolute 1e-13 (both sides are double-precision continued
    # fractions; lgamma-based prefactors lose ~1e-12 relative at a, b ~ 500).
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-13)


def test_t_f_normal_tails_match_scipy(math):
    rng = np.random.default_rng(2)
    t = rng.normal(0, 4, 300)
    df = np.exp(rng.uniform(0, np.log(5000), 300))
    got_t = np.array(ok(math({"op": "t_p", "args": [[a, b] for a, b in zip(t, df)]}))["values"])
    want_t = 2 * stats.t.sf(np.abs(t), df)
    # Tolerance: relative 1e-9 (absolute 1e-300 so that tiny tails are compared relatively too).
    np.testing.assert_allclose(got_t, want_t, rtol=1e-9, atol=1e-300)

    f = np.exp(rng.normal(0, 1.5, 300))
    d1 = rng.integers(1, 40, 300).astype(float)
    d2 = np.exp(rng.uniform(0, np.log(3000), 300))
    got_f = np.array(ok(math({"op": "f_sf", "args": [[a, b, c] for a, b, c in zip(f, d1, d2)]}))["values"])
    np.testing.assert_allclose(got_f, stats.f.sf(f, d1, d2), rtol=1e-9, atol=1e-300)

    z = np.concatenate([rng.normal(0, 3, 200), [0.0, 8.0, -30.0]])
    got_z = np.array(ok(math({"op": "norm_p", "args": [[v] for v in z]}))["values"])
    np.testing.assert_allclose(got_z, 2 * stats.norm.sf(np.abs(z)), rtol=1e-12, atol=1e-300)


# --- correlation ------------------------------------------------------------------------------

def test_pearson_and_spearman_match_scipy(math):
    rng = np.random.default_rng(3)
    reqs, cases = [], []
    for i in range(30):
        n = int(rng.integers(3, 200))
        x = rng.normal(size=n)
        y = 0.3 * x * (i % 3) + rng.normal(size=n)
        if i % 2:  # ties: round to a coarse grid so average ranks matter
            x, y = np.round(x), np.round(y * 2) / 2
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            continue
        cases.append((x, y))
        reqs += [{"op": "pearson", "x": lst(x), "y": lst(y)}, {"op": "spearman", "x": lst(x), "y": lst(y)}]
    res = math(reqs)
    worst = 0.0
    for k, (x, y) in enumerate(cases):
        pr, sr = ok(res[2 * k]), ok(res[2 * k + 1])
        ref_p, ref_s = stats.pearsonr(x, y), stats.spearmanr(x, y)
        # Tolerances: r absolute 1e-12; p relative 1e-8 (absolute 1e-15 for p near 0).
        assert pr["r"] == pytest.approx(ref_p.statistic, abs=1e-12)
        assert pr["p"] == pytest.approx(ref_p.pvalue, rel=1e-8, abs=1e-15)
        assert sr["r"] == pytest.approx(ref_s.statistic, abs=1e-12)
        assert sr["p"] == pytest.approx(ref_s.pvalue, rel=1e-8, abs=1e-15)
        worst = max(worst, abs(pr["p"] - ref_p.pvalue), abs(sr["p"] - ref_s.pvalue))
    print(f"largest correlation p-value difference: {worst:.3g}")


def test_ranks_match_scipy(math):
    x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0]
    got = ok(math({"op": "ranks", "x": x}))["ranks"]
    np.testing.assert_array_equal(got, stats.rankdata(x, method="average"))


def test_correlation_errors(math):
    res = math([{"op": "pearson", "x": [1, 1, 1, 1], "y": [1, 2, 3, 4]},
                {"op": "spearman", "x": [1, 2, 3], "y": [2, 2, 2]},
                {"op": "pearson", "x": [1, 2], "y": [1, 2]}])
    assert "x is constant" in res[0]["error"]
    assert "y is constant" in res[1]["error"]
    assert "at least 3" in res[2]["error"]


# --- OLS --------------------------------------------------------------------------------------

def ols_reference(X, y):
    """statsmodels' OLS numbers recomputed in numpy: lstsq with an intercept column."""
    n, k = X.shape
    A = np.column_stack([np.ones(n), X])
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ beta
    df = n - k - 1
    sigma2 = resid @ resid / df
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(A.T @ A)))
    tv = beta / se
    sst = np.sum((y - y.mean()) ** 2)
    r2 = 1 - resid @ resid / sst
    f = ((sst - resid @ resid) / k) / sigma2
    return dict(beta=beta, se=se, t=tv, p=2 * stats.t.sf(np.abs(tv), df), r2=r2,
                adj=1 - (1 - r2) * (n - 1) / df, f=f, fp=stats.f.sf(f, k, df))


def test_ols_matches_numpy_and_scipy(math):
    rng = np.random.default_rng(4)
    worst = 0.0
    for trial in range(12):
        n, k = int(rng.integers(8, 300)), int(rng.integers(1, 6))
        X = rng.normal(size=(n, k)) * rng.uniform(0.1, 10, k) + rng.normal(0, 50, k)  # uneven scales and means
        y = X @ rng.normal(0, 0.2, k) + rng.normal(size=n) * 2 + 3
        got = ok(math({"op": "ols", "X": lst(X), "y": lst(y)}))
        ref = ols_reference(X, y)
        est = np.array([got["intercept"]] + got["coef"])
        # Tolerances: relative 1e-8 on coefficients/statistics (absolute 1e-10 for ones near 0),
        # p-values relative 1e-7 with absolute 1e-14.
        np.testing.assert_allclose(est, ref["beta"], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(got["std_errors"], ref["se"], rtol=1e-8)
        np.testing.assert_allclose(got["t_values"], ref["t"], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(got["p_values"], ref["p"], rtol=1e-7, atol=1e-14)
        assert got["r2"] == pytest.approx(ref["r2"], rel=1e-9, abs=1e-12)
        assert got["adj_r2"] == pytest.approx(ref["adj"], rel=1e-9, abs=1e-12)
        assert got["f_stat"] == pytest.approx(ref["f"], rel=1e-8)
        assert got["f_p_value"] == pytest.approx(ref["fp"], rel=1e-7, abs=1e-14)
        worst = max(worst, np.max(np.abs(est - ref["beta"]) / (np.abs(ref["beta"]) + 1e-10)))
    print(f"largest relative OLS coefficient difference: {worst:.3g}")


def test_ols_errors(math):
    res = math([{"op": "ols", "X": [[1], [2], [3]], "y": [1, 2, 2.5]},  # n = 3 <= k + 1? no: ok
                {"op": "ols", "X": [[1], [2]], "y": [1, 2]},
                {"op": "ols", "X": [[1, 2], [2, 4], [3, 6], [4, 8.0]], "y": [1, 2, 4, 3]},
                {"op": "ols", "X": [[1], [1], [1], [1]], "y": [1, 2, 4, 3]}])
    ok(res[0])
    assert "too few" in res[1]["error"]
    assert "singular" in res[2]["error"]
    assert "constant" in res[3]["error"]


# --- logistic regression ------------------------------------------------------------------------

def logistic_data(rng, n, k):
    X = rng.normal(size=(n, k)) * rng.uniform(0.5, 3, k) + rng.normal(0, 2, k)
    eta = 0.3 + (X - X.mean(0)) @ rng.normal(0, 0.8, k)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)
    return X, y


def test_logistic_l2_matches_sklearn(math):
    rng = np.random.default_rng(5)
    worst = 0.0
    for trial in range(10):
        n, k = int(rng.integers(20, 400)), int(rng.integers(1, 8))
        X, y = logistic_data(rng, n, k)
        l2 = float(rng.choice([0.01, 0.3, 1.0, 10.0]))
        got = ok(math({"op": "logistic", "X": lst(X), "y": y.tolist(), "l2": l2}))
        ref = LogisticRegression(C=1 / l2, l1_ratio=0.0, solver="lbfgs", tol=1e-13, max_iter=100000).fit(X, y)
        est = np.array([got["intercept"]] + got["coef"])
        want = np.concatenate([ref.intercept_, ref.coef_[0]])
        # Tolerance: absolute 2e-6 (lbfgs stops on a gradient tolerance; isc's Newton converges to 1e-10).
        np.testing.assert_allclose(est, want, atol=2e-6)
        assert got["converged"] and not got["separated"]
        worst = max(worst, np.max(np.abs(est - want)))
    print(f"largest L2-logistic coefficient difference vs sklearn: {worst:.3g}")


def test_logistic_mle_matches_sklearn_and_logit_standard_errors(math):
    rng = np.random.default_rng(6)
    worst = 0.0
    for trial in range(8):
        n, k = int(rng.integers(60, 500)), int(rng.integers(1, 5))
        X, y = logistic_data(rng, n, k)
        got = ok(math({"op": "logistic", "X": lst(X), "y": y.tolist(), "l2": 0.0}))
        ref = LogisticRegression(C=np.inf, solver="lbfgs", tol=1e-13, max_iter=100000).fit(X, y)
        want = np.concatenate([ref.intercept_, ref.coef_[0]])
        est = np.array([got["intercept"]] + got["coef"])
        np.testing.assert_allclose(est, want, atol=2e-6)  # same tolerance as the L2 case
        # statsmodels Logit's standard errors: sqrt(diag((A'WA)^-1)) at the MLE, z = b/se, p = 2 sf(|z|).
        A = np.column_stack([np.ones(n), X])
        p = 1 / (1 + np.exp(-(A @ est)))
        se = np.sqrt(np.diag(np.linalg.inv(A.T @ (A * (p * (1 - p))[:, None]))))
        np.testing.assert_allclose(got["std_errors"], se, rtol=1e-8)
        np.testing.assert_allclose(got["z_values"], est / se, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(got["p_values"], 2 * stats.norm.sf(np.abs(est / se)), rtol=1e-7, atol=1e-14)
        ll = np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
        assert got["log_likelihood"] == pytest.approx(ll, rel=1e-10)
        worst = max(worst, np.max(np.abs(est - want)))
    print(f"largest MLE-logistic coefficient difference vs sklearn: {worst:.3g}")


def test_logistic_standardize_matches_standard_scaler(math):
    rng = np.random.default_rng(7)
    X, y = logistic_data(rng, 150, 3)
    X[:, 1] *= 100
    got = ok(math({"op": "logistic", "X": lst(X), "y": y.tolist(), "l2": 1.0, "standardize": True}))
    sc = StandardScaler().fit(X)
    ref = LogisticRegression(C=1.0, tol=1e-13, max_iter=100000).fit(sc.transform(X), y)
    np.testing.assert_allclose(got["column_mean"], sc.mean_, rtol=1e-12)
    np.testing.assert_allclose(got["column_std"], sc.scale_, rtol=1e-12)
    np.testing.assert_allclose(got["coef"], ref.coef_[0], atol=2e-6)
    assert got["intercept"] == pytest.approx(ref.intercept_[0], abs=2e-6)


def test_standardize_matches_standard_scaler_with_constant_column(math):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(40, 4))
    X[:, 2] = 7.5
    got = ok(math({"op": "standardize", "X": lst(X)}))
    sc = StandardScaler().fit(X)
    np.testing.assert_allclose(got["scale"], sc.scale_, rtol=1e-12)  # scale 1 on the constant column
    np.testing.assert_allclose(got["X"], sc.transform(X), rtol=1e-12, atol=1e-12)


def test_logistic_separation_is_reported(math):
    rng = np.random.default_rng(9)
    X = rng.normal(size=(50, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    quasi_X = [[0.0], [0.0], [1.0], [1.0], [2.0]]
    res = math([{"op": "logistic", "X": lst(X), "y": y.tolist(), "l2": 0.0},
                {"op": "logistic", "X": quasi_X, "y": [0, 1, 1, 1, 1], "l2": 0.0},
                {"op": "logistic", "X": lst(X), "y": y.tolist(), "l2": 1.0}])
    for r in res[:2]:
        assert ok(r)["separated"] and not r["converged"]
        assert r["std_errors"] == [] and all(abs(c) < 1e4 for c in r["coef"])
    assert ok(res[2])["converged"] and not res[2]["separated"]  # the penalty makes the optimum finite
    assert "only one class" in math({"op": "logistic", "X": [[1], [2], [3]], "y": [1, 1, 1]})["error"]


# --- probe, mean difference, PCA directions ---------------------------------------------------------

def test_probe_matches_scaler_plus_sklearn(math):
    rng = np.random.default_rng(10)
    X, y = logistic_data(rng, 120, 6)
    X[:, 4] = -2.0  # a constant feature: scale 1, weight 0, never NaN
    for l2 in (0.5, 1.0, 4.0):
        got = ok(math({"op": "probe", "X": lst(X), "y": y.tolist(), "l2": l2}))
        sc = StandardScaler().fit(X)
        ref = LogisticRegression(C=1 / l2, tol=1e-13, max_iter=100000).fit(sc.transform(X), y)
        # Tolerance: absolute 2e-6 on weights/bias, 1e-6 on probabilities; raw direction |cos| >= 1 - 1e-9.
        np.testing.assert_allclose(got["weights"], ref.coef_[0], atol=2e-6)
        assert got["bias"] == pytest.approx(ref.intercept_[0], abs=2e-6)
        np.testing.assert_allclose(got["probabilities"], ref.predict_proba(sc.transform(X))[:, 1], atol=1e-6)
        raw = ref.coef_[0] / sc.scale_
        raw /= np.linalg.norm(raw)
        assert float(np.dot(raw, got["raw_direction"])) >= 1 - 1e-9
        assert got["weights"][4] == pytest.approx(0.0, abs=1e-12)


def test_mean_difference(math):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(50, 5))
    y = rng.integers(0, 2, 50)
    P, N = rng.normal(size=(20, 5)), rng.normal(size=(20, 5))
    res = math([{"op": "mean_difference", "X": lst(X), "y": y.tolist()},
                {"op": "mean_difference_paired", "positive": lst(P), "negative": lst(N)}])
    np.testing.assert_allclose(ok(res[0])["direction"], X[y == 1].mean(0) - X[y == 0].mean(0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ok(res[1])["direction"], (P - N).mean(0), rtol=1e-12, atol=1e-14)


def repeng_sign(direction, P, N):
    """repeng's rule: flip when the positive member projects lower than its pair more often than higher."""
    pp, nn = P @ direction, N @ direction
    return -direction if np.mean(pp < nn) > np.mean(pp > nn) else direction


def pair_data(rng, n, d):
    concept = rng.normal(size=d)
    concept /= np.linalg.norm(concept)
    base = rng.normal(size=(n, d)) * 2 + 1
    shift = rng.uniform(0.5, 2.0, n)[:, None] * concept
    return base + shift + rng.normal(0, 0.3, (n, d)), base - shift + rng.normal(0, 0.3, (n, d))


def test_pca_diff_and_center_match_sklearn_pca(math):
    # svd_solver="full": repeng's PCA(n_components=1) uses sklearn's "auto", which for inputs over
    # 500 wide switches to randomized SVD, an approximation (|cos| ~0.95 on noise-like data); isc
    # computes the exact first component, so it is compared with the exact solver.
    rng = np.random.default_rng(12)
    worst = 1.0
    for n, d in ((30, 8), (100, 40), (25, 64), (120, 600)):
        P, N = pair_data(rng, n, d)
        res = math([{"op": "pca_diff", "positive": lst(P), "negative": lst(N)},
                    {"op": "pca_center", "positive": lst(P), "negative": lst(N)}])
        ref_diff = repeng_sign(PCA(n_components=1, svd_solver="full").fit(P - N).components_[0], P, N)
        mid = (P + N) / 2
        H = np.empty((2 * n, d))
        H[::2], H[1::2] = P - mid, N - mid
        ref_center = repeng_sign(PCA(n_components=1, svd_solver="full").fit(H).components_[0], P, N)
        for got, ref in ((ok(res[0])["direction"], ref_diff), (ok(res[1])["direction"], ref_center)):
            cos = float(np.dot(got, ref))
            # Tolerance: after the sign rule, cos >= 0.9999 (same sign, same component), unit length 1e-12.
            assert cos >= 0.9999
            assert np.linalg.norm(got) == pytest.approx(1.0, abs=1e-12)
            worst = min(worst, cos)
    print(f"smallest cos(isc, sklearn PCA) after the sign rule: {worst:.12f}")


def test_first_principal_component_matches_sklearn(math):
    rng = np.random.default_rng(13)
    X = rng.normal(size=(200, 10)) * np.linspace(3, 0.5, 10) + 4
    got = ok(math({"op": "first_pc", "X": lst(X)}))["direction"]
    ref = PCA(n_components=1, svd_solver="full").fit(X).components_[0]  # sklearn's sign: largest |entry| positive, as isc
    np.testing.assert_allclose(got, ref, atol=1e-8)  # Tolerance: absolute 1e-8 per entry


def test_direction_accuracy_midpoint(math):
    rng = np.random.default_rng(14)
    X = rng.normal(size=(80, 3))
    y = rng.integers(0, 2, 80)
    X[y == 1] += [1.5, 0, 0]
    d = np.array([1.0, 0.2, 0.0])
    got = ok(math({"op": "direction_accuracy", "X": lst(X), "y": y.tolist(), "direction": lst(d)}))
    proj = X @ d
    t = (proj[y == 1].mean() + proj[y == 0].mean()) / 2
    assert got["threshold"] == pytest.approx(t, rel=1e-12)
    assert got["accuracy"] == pytest.approx(np.mean((proj > t) == (y == 1)), abs=1e-15)


# --- CCS ----------------------------------------------------------------------------------------

def ccs_normalise(x, var_normalize):
    """Each side centred by its own mean, divided by its own population std; an exactly constant
    column normalises to zeros (isc's documented rule, where numpy alone would leave rounding residue)."""
    constant = np.ptp(x, axis=0) == 0
    c = np.where(constant, 0.0, x - x.mean(0))
    if var_normalize:
        s = c.std(0)
        c = c / np.where(constant | (s == 0), 1.0, s)
    return c


def ccs_loss_grad(w, b, xp, xn):
    """Burns et al.'s loss, written independently, with its gradient (checked by finite differences below)."""
    n = len(xp)
    pp, pn = 1 / (1 + np.exp(-(xp @ w + b))), 1 / (1 + np.exp(-(xn @ w + b)))
    cons = pp + pn - 1
    mn = np.minimum(pp, pn)
    loss = np.mean(cons ** 2) + np.mean(mn ** 2)
    share = np.where(pp < pn, 1.0, np.where(pp > pn, 0.0, 0.5))
    gp = 2 / n * (cons + mn * share) * pp * (1 - pp)
    gn = 2 / n * (cons + mn * (1 - share)) * pn * (1 - pn)
    return loss, xp.T @ gp + xn.T @ gn, gp.sum() + gn.sum()


def ccs_numpy(xp, xn, w, b, epochs, lr, wd):
    """Full-batch torch.optim.AdamW (betas 0.9/0.999, eps 1e-8, decay on all params) in numpy."""
    theta = np.concatenate([w, [b]]).astype(float)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, epochs + 1):
        _, gw, gb = ccs_loss_grad(theta[:-1], theta[-1], xp, xn)
        g = np.concatenate([gw, [gb]])
        theta *= 1 - lr * wd
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        theta -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    loss, _, _ = ccs_loss_grad(theta[:-1], theta[-1], xp, xn)
    return theta[:-1], theta[-1], loss


def ccs_pairs(rng, n, d, signal=2.0):
    truth = rng.normal(size=d)
    truth /= np.linalg.norm(truth)
    labels = rng.integers(0, 2, n)
    sign = np.where(labels == 1, 1.0, -1.0)[:, None]
    base = rng.normal(size=(n, d))
    pos = base + signal * sign * truth + rng.normal(0, 0.3, (n, d))
    neg = base - signal * sign * truth + rng.normal(0, 0.3, (n, d))
    return pos, neg, labels, truth


def test_ccs_numpy_reference_gradient_is_right():
    rng = np.random.default_rng(15)
    xp, xn = rng.normal(size=(10, 4)), rng.normal(size=(10, 4))
    w, b = rng.normal(size=4), 0.3
    _, gw, gb = ccs_loss_grad(w, b, xp, xn)
    h = 1e-6
    num = [(ccs_loss_grad(w + h * e, b, xp, xn)[0] - ccs_loss_grad(w - h * e, b, xp, xn)[0]) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(gw, num, rtol=1e-6, atol=1e-9)
    assert gb == pytest.approx((ccs_loss_grad(w, b + h, xp, xn)[0] - ccs_loss_grad(w, b - h, xp, xn)[0]) / (2 * h), rel=1e-6)


@pytest.mark.parametrize("var_normalize", [True, False])
def test_ccs_matches_numpy_adamw_from_the_same_inits(math, var_normalize):
    rng = np.random.default_rng(16)
    pos, neg, labels, _ = ccs_pairs(rng, 60, 12, signal=1.0)
    pos[:, 5], neg[:, 5] = 0.1, -0.3  # a constant feature on each side: std 1, no NaN
    got = ok(math({"op": "ccs", "positive": lst(pos), "negative": lst(neg), "labels": labels.tolist(), "ntries": 4,
                   "epochs": 300, "lr": 1e-2, "weight_decay": 0.01, "var_normalize": var_normalize, "seed": 3}))
    xp, xn = ccs_normalise(pos, var_normalize), ccs_normalise(neg, var_normalize)
    losses, fits = [], []
    for init in got["inits"]:
        w, b, loss = ccs_numpy(xp, xn, np.array(init["weights"]), init["bias"], 300, 1e-2, 0.01)
        losses.append(loss)
        fits.append((w, b))
    # Tolerances: per-try final loss relative 1e-9; kept weights/bias absolute 1e-8 (same maths,
    # same start, only summation order differs).
    np.testing.assert_allclose(got["try_losses"], losses, rtol=1e-9)
    best = int(np.argmin(losses))
    assert got["best_try"] == best and got["loss"] == pytest.approx(min(losses), rel=1e-9)
    np.testing.assert_allclose(got["weights"], fits[best][0], atol=1e-8)
    assert got["bias"] == pytest.approx(fits[best][1], abs=1e-8)
    # accuracy as Burns et al.: credence 0.5·(p+ + 1 − p−) > 0.5, then max(acc, 1 − acc)
    w, b = fits[best]
    cred = 0.5 * (1 / (1 + np.exp(-(xp @ w + b))) + 1 - 1 / (1 + np.exp(-(xn @ w + b))))
    acc = np.mean((cred > 0.5) == (labels == 1))
    assert got["accuracy"] == pytest.approx(max(acc, 1 - acc), abs=1e-12)
    assert got["flipped"] == bool(acc < 0.5)
    print(f"largest CCS try-loss difference: {np.max(np.abs(np.array(got['try_losses']) - losses)):.3g}")


def test_ccs_well_posed_problem_agrees_with_numpy_from_its_own_inits(math):
    rng = np.random.default_rng(17)
    pos, neg, labels, truth = ccs_pairs(rng, 200, 16, signal=2.0)
    got = ok(math({"op": "ccs", "positive": lst(pos), "negative": lst(neg), "labels": labels.tolist(), "ntries": 5,
                   "epochs": 1000, "lr": 1e-2, "weight_decay": 0.01, "var_normalize": True, "seed": 0}))
    xp, xn = ccs_normalise(pos, True), ccs_normalise(neg, True)
    best = None
    for _ in range(5):  # numpy's own torch-like init: uniform(-1/sqrt(d), 1/sqrt(d))
        bound = 1 / np.sqrt(16)
        w, b, loss = ccs_numpy(xp, xn, rng.uniform(-bound, bound, 16), rng.uniform(-bound, bound), 1000, 1e-2, 0.01)
        if best is None or loss < best[2]:
            best = (w, b, loss)
    w, b, loss = best
    cred = 0.5 * (1 / (1 + np.exp(-(xp @ w + b))) + 1 - 1 / (1 + np.exp(-(xn @ w + b))))
    acc = np.mean((cred > 0.5) == (labels == 1))
    acc = max(acc, 1 - acc)
    # Tolerances (different random starts): both accuracies >= 0.97 and within 0.02 of each other,
    # final losses within 0.01 absolute, |cos| between the two directions >= 0.98.
    assert got["accuracy"] >= 0.97 and acc >= 0.97
    assert abs(got["accuracy"] - acc) <= 0.02
    assert abs(got["loss"] - loss) <= 0.01
    cos = abs(np.dot(got["weights"], w)) / (np.linalg.norm(got["weights"]) * np.linalg.norm(w))
    assert cos >= 0.98
    print(f"CCS well-posed: acc isc {got['accuracy']:.3f} numpy {acc:.3f}, loss isc {got['loss']:.4g} numpy {loss:.4g}, |cos| {cos:.5f}")
