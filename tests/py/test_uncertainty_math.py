# Cross-checks of isc's sample-uncertainty estimators, semantic clustering, rank-calibration error,
# AUROC and PRR (tests/tools/uncertainty_math) against independent numpy / scipy / scikit-learn
# implementations written here from the published definitions, on seeded random cases. Every
# tolerance is stated.
import itertools
import math
import re

import numpy as np
import pytest
from scipy import special, stats
from sklearn.metrics import roc_auc_score


@pytest.fixture(scope="module")
def math_tool(json_tool):
    return json_tool("uncertainty_math")


def ok(res):
    assert isinstance(res, dict) and "error" not in res, res
    return res


def num(v):
    """A number from the tool: non-finite values come as strings."""
    if isinstance(v, str):
        return {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}[v]
    return v


def enc(x):
    return "-inf" if x == -math.inf else ("inf" if x == math.inf else float(x))


def close(got, want, rtol=1e-12, atol=1e-12):
    got = num(got)
    if math.isinf(want) or math.isinf(got):
        return got == want
    return abs(got - want) <= atol + rtol * abs(want)


# --- sample-based uncertainty ----------------------------------------------------------------

def random_samples(rng):
    """N draws from a pool of distinct sequences; a sequence keeps its logprob, length and cluster."""
    n_seq = int(rng.integers(1, 8))
    n_clusters = int(rng.integers(1, n_seq + 1))
    pool = []
    for s in range(n_seq):
        length = int(rng.integers(0, 25))
        lp = 0.0 if length == 0 else -float(rng.exponential(0.6) * length)
        if rng.random() < 0.05:
            lp = -math.inf
        pool.append({"logprob": lp, "num_tokens": length, "cluster": int(rng.integers(0, n_clusters)) * 3 + 1,
                     "key": f"seq{s}"})
    n = int(rng.integers(1, 21))
    return [dict(pool[int(i)]) for i in rng.integers(0, n_seq, n)]


def reference_estimators(samples, likelihood, distinct, normalize, shift):
    """Independent numpy/scipy versions of every estimator (None = undefined, an error expected)."""
    lp = np.array([s["logprob"] for s in samples], dtype=float)
    lens = np.maximum(np.array([s["num_tokens"] for s in samples]), 1)
    cl = [s["cluster"] for s in samples]
    order = list(dict.fromkeys(cl))  # clusters in order of first appearance
    first = {}
    for i, s in enumerate(samples):
        first.setdefault(s["key"], i)
    include = [(not distinct) or first[s["key"]] == i for i, s in enumerate(samples)]
    ll = lp if likelihood == "total" else lp / lens
    with np.errstate(divide="ignore"):
        logp = np.array([special.logsumexp([ll[i] for i in range(len(samples)) if include[i] and cl[i] == c])
                         for c in order])
        total = special.logsumexp(ll[np.array(include)])
    r = {"predictive_entropy": -lp.mean(), "ln_predictive_entropy": -(lp / lens).mean()}
    counts = np.array([cl.count(c) for c in order])
    r["discrete_semantic_entropy"] = float(stats.entropy(counts))
    if normalize:
        if total == -math.inf:
            logp = None
        else:
            logp = logp - total
    r["log_prob"] = logp
    if logp is None:
        r["semantic_entropy"] = r["semantic_entropy_mc_samples"] = r["semantic_entropy_mc_clusters"] = None
    else:
        r["semantic_entropy"] = float(stats.entropy(np.exp(logp))) if normalize else None
        r["semantic_entropy_mc_samples"] = -np.mean([logp[order.index(c)] for c in cl])
        r["semantic_entropy_mc_clusters"] = -np.mean(logp - shift)
    for name, dist in (("reference_semantic_nll", False), ("reference_semantic_nll_distinct", True)):
        per_cluster = []
        for c in order:
            v = [-lp[i] / lens[i] for i in range(len(samples))
                 if cl[i] == c and ((not dist) or first[samples[i]["key"]] == i)]
            per_cluster.append(np.mean(v))
        r[name] = float(np.mean(per_cluster))
    return r


def test_sample_estimators_match_numpy(math_tool):
    rng = np.random.default_rng(11)
    cases = []
    for _ in range(400):
        samples = random_samples(rng)
        opts = {"likelihood": ["total", "per_token"][int(rng.integers(0, 2))],
                "distinct": bool(rng.integers(0, 2)), "normalize": bool(rng.integers(0, 2)),
                "llh_shift": float(rng.choice([0.0, 5.0]))}
        cases.append((samples, opts))
    # The issue-223 example and all-identical / single-sample corner cases.
    p223 = [("Paris", 0.6, 2, 0)] * 3 + [("Its Paris", 0.3, 3, 0), ("London", 0.1, 1, 1)]
    s223 = [{"logprob": math.log(p), "num_tokens": n, "cluster": c, "key": k} for k, p, n, c in p223]
    for d in (True, False):
        for nz in (True, False):
            cases.append((s223, {"likelihood": "total", "distinct": d, "normalize": nz, "llh_shift": 5.0}))
    cases.append(([{"logprob": -1.5, "num_tokens": 3, "cluster": 0, "key": "x"}] * 4,
                   {"likelihood": "per_token", "distinct": True, "normalize": True, "llh_shift": 0.0}))
    reqs = [dict(op="samples", samples=[dict(s, logprob=enc(s["logprob"])) for s in samples], **opts)
            for samples, opts in cases]
    results = math_tool(reqs)
    checked = 0
    for (samples, opts), got in zip(cases, results):
        ok(got)
        want = reference_estimators(samples, opts["likelihood"], opts["distinct"], opts["normalize"], opts["llh_shift"])
        # Tolerance: relative and absolute 1e-12 (log-sum-exp and sums in different orders).
        for name in ("predictive_entropy", "ln_predictive_entropy", "discrete_semantic_entropy",
                     "reference_semantic_nll", "reference_semantic_nll_distinct",
                     "semantic_entropy", "semantic_entropy_mc_samples", "semantic_entropy_mc_clusters"):
            w = want[name]
            if w is None:
                assert "error" in got[name], (name, got[name])
            else:
                assert close(got[name], w), (name, got[name], w, samples, opts)
                checked += 1
        if want["log_prob"] is None:
            assert "error" in got["cluster_likelihoods"]
        else:
            lp = [num(v) for v in got["cluster_likelihoods"]["log_prob"]]
            assert all(close(a, b) for a, b in zip(lp, want["log_prob"])), (lp, want["log_prob"])
    assert checked > 2500
    # Issue 223: summing duplicates puts the 'Paris' cluster at 2.1 > 1; de-duplicated it is 0.9.
    bug = results[-2]["cluster_likelihoods"]["log_prob"]   # distinct=False, normalize=False
    fixed = results[-4]["cluster_likelihoods"]["log_prob"]  # distinct=True, normalize=False
    assert math.exp(num(bug[0])) == pytest.approx(2.1, rel=1e-13)
    assert math.exp(num(fixed[0])) == pytest.approx(0.9, rel=1e-13)


def test_summary_and_validation(math_tool):
    s223 = [{"logprob": math.log(p), "num_tokens": n, "cluster": c, "key": k}
            for k, p, n, c in [("Paris", 0.6, 2, 0)] * 3 + [("Its Paris", 0.3, 3, 0), ("London", 0.1, 1, 1)]]
    got = ok(math_tool({"op": "samples", "samples": s223}))["summary"]
    assert (got["n_samples"], got["n_distinct"], got["n_clusters"]) == (5, 3, 2)
    assert got["semantic_entropy"] == pytest.approx(float(stats.entropy([0.9, 0.1])), rel=1e-13)
    assert got["discrete_semantic_entropy"] == pytest.approx(float(stats.entropy([4, 1])), rel=1e-13)
    bad = [dict(s223[0], logprob="nan")] + s223[1:]
    res = math_tool({"op": "samples", "samples": bad})
    assert all("error" in res[k] for k in ("predictive_entropy", "semantic_entropy", "summary"))
    assert "NaN" in res["predictive_entropy"]["error"]
    pos = [dict(s223[0], logprob=0.5)]
    assert "error" in math_tool({"op": "samples", "samples": pos})["predictive_entropy"]
    assert "error" in math_tool({"op": "samples", "samples": []})["predictive_entropy"]


def test_option_entropy_matches_scipy(math_tool):
    rng = np.random.default_rng(12)
    cases = []
    for _ in range(200):
        k = int(rng.integers(1, 6))
        answers = [int(a) for a in rng.integers(-1, k, int(rng.integers(1, 30)))]
        cases.append((answers, k))
    res = math_tool([{"op": "option_entropy", "answers": a, "n_options": k} for a, k in cases])
    for (answers, k), got in zip(cases, res):
        ok(got)
        counts = np.bincount([a for a in answers if a >= 0], minlength=k)
        assert got["counts"] == counts.tolist()
        assert got["n_unparsed"] == answers.count(-1)
        if counts.sum() == 0:
            assert got["entropy"] is None and got["normalized"] is None
            continue
        # Tolerance: 1e-13 relative/absolute.
        assert close(got["entropy"], float(stats.entropy(counts)), 1e-13, 1e-13)
        if k >= 2:
            assert close(got["normalized"], float(stats.entropy(counts)) / math.log(k), 1e-13, 1e-13)
        else:
            assert got["normalized"] is None


# --- clustering --------------------------------------------------------------------------------

def kuhn_clusters(m):
    """Kuhn et al. 2023, Algorithm 1: compare with each class's first member, both directions."""
    n = len(m)
    classes, calls = [], 0
    ids = [None] * n
    for i in range(n):
        for c, members in enumerate(classes):
            r = members[0]
            calls += 1
            if m[r][i]:
                calls += 1
                if m[i][r]:
                    members.append(i)
                    ids[i] = c
                    break
        if ids[i] is None:
            ids[i] = len(classes)
            classes.append([i])
    return ids, calls


def test_clustering_matches_algorithm(math_tool):
    rng = np.random.default_rng(13)
    mats = []
    for t in range(300):
        n = int(rng.integers(0, 13))
        if t % 2:  # noisy labels: mostly transitive, some one-way and non-transitive judgements
            labels = rng.integers(0, max(1, n // 2), n)
            m = (labels[:, None] == labels[None, :]) ^ (rng.random((n, n)) < 0.1)
        else:
            m = rng.random((n, n)) < rng.uniform(0.2, 0.9)
        mats.append(m.astype(int).tolist())
    res = math_tool([{"op": "cluster", "entails": m} for m in mats])
    for m, got in zip(mats, res):
        ok(got)
        ids, calls = kuhn_clusters(m)
        assert got["ids"] == ids
        assert got["calls"] == calls
        n = len(m)
        assert got["pairs"] == n * (n - 1)


WS = " \t\n\v\f\r"
QUOTES = [('"', '"'), ("'", "'"), ("`", "`"), ("\u201c", "\u201d"), ("\u2018", "\u2019")]


def py_key(text):
    s = text
    while True:
        before = s
        s = s.strip(WS).rstrip(".,;:!?")
        for o, c in QUOTES:
            if len(s) >= 2 and s.startswith(o) and s.endswith(c):
                s = s[1:-1]
                break
        if s == before:
            break
    s = re.sub(r"[ \t\n\v\f\r]+", " ", s)
    return "".join(chr(ord(ch) + 32) if "A" <= ch <= "Z" else ch for ch in s)


def test_exact_match_key(math_tool):
    rng = np.random.default_rng(14)
    alphabet = list("aBZx1 \t\n.!?,;:\"'`") + ["\u201c", "\u201d", "\u2018", "\u2019", "\u00e9", "\u00c9"]
    texts = ["".join(rng.choice(alphabet, int(rng.integers(0, 12)))) for _ in range(2000)]
    texts += ['  "Paris." ', "It's  PARIS!", "'Rome'.", "\u201cBerlin\u201d", "..."]
    got = ok(math_tool({"op": "exact_match", "texts": texts}))
    want = [py_key(t) for t in texts]
    assert got["keys"] == want
    first = {}
    assert got["ids"] == [first.setdefault(k, len(first)) for k in want]


# --- rank-calibration --------------------------------------------------------------------------

def rce_from_definition(u, a, n_bins, p):
    """Huang et al. (2024): RCE = E_U |P_U'(reg(U') >= reg(U)) - P_U'(U' <= U)| with reg estimated
    on B equal-mass bins of the sorted uncertainties, the within-bin ties of the binned reg replaced
    by the bin's mean rank, and P(U' <= U) by the sorted position / (n - 1)."""
    u, a = np.asarray(u, float), np.asarray(a, float)
    n = len(u)
    order = np.argsort(u, kind="stable")
    a_sorted = a[order]
    edges = np.array([round(x) for x in np.linspace(0, n, n_bins + 1)])  # Python round: half to even
    pos = np.arange(n)
    b = np.searchsorted(edges, pos, side="right") - 1
    m = np.bincount(b, minlength=n_bins)
    reg_bin = np.bincount(b, weights=a_sorted, minlength=n_bins) / np.maximum(m, 1)
    reg = reg_bin[b]
    detie = (m[b] - 1) / (2 * (n - 1))
    from_top = ((reg[None, :] >= reg[:, None]).sum(axis=1) - 1) / (n - 1) - detie
    from_bottom = ((reg[None, :] <= reg[:, None]).sum(axis=1) - 1) / (n - 1) - detie
    u_cdf = pos / (n - 1)
    rce = float(np.mean(np.abs(from_top - u_cdf) ** p))
    bins = []
    dev = 0.0
    for k in range(n_bins):
        idx = np.flatnonzero(b == k)
        if len(idx) == 0:
            continue
        x = u_cdf[idx].mean()
        y = from_bottom[idx[0]]
        dev += len(idx) / n * abs(y - (1 - x))
        bins.append({"begin": int(idx[0]), "count": len(idx), "mean_quality": reg_bin[k], "uncertainty_rank": x,
                     "quality_rank": y, "quality_rank_from_top": from_top[idx[0]],
                     "uncertainty_lower": u[order][idx].min(), "uncertainty_upper": u[order][idx].max()})
    return rce, dev, bins


def test_rank_calibration_matches_numpy(math_tool):
    rng = np.random.default_rng(15)
    cases = []
    for t in range(300):
        n = int(rng.integers(2, 400))
        u = rng.normal(size=n)
        if t % 3 == 0:
            u = np.round(u, 1)  # tied uncertainties (stable order)
        kind = t % 4
        if kind == 0:
            a = (rng.random(n) < 1 / (1 + np.exp(2 * u))).astype(float)  # 0/1 correctness: bin ties
        elif kind == 1:
            a = np.round(rng.random(n), 1)
        else:
            a = np.clip(0.5 - 0.3 * u + rng.normal(0, 0.3, n), 0, 1)
        n_bins = int(rng.choice([1, 2, 5, 10, 20, 20, 20, 50, 500]))
        cases.append((u, a, n_bins, int(rng.choice([1, 1, 2]))))
    res = math_tool([{"op": "rank_calibration", "uncertainty": u.tolist(), "quality": a.tolist(), "n_bins": b, "p": p}
                     for u, a, b, p in cases])
    for (u, a, n_bins, p), got in zip(cases, res):
        ok(got)
        rce, dev, bins = rce_from_definition(u, a, n_bins, p)
        # Tolerance: 1e-12 absolute (rank fractions of counts; bin means are summed in the same order
        # on both sides, so ties between bin means compare identically).
        assert abs(got["rce"] - rce) <= 1e-12, (got["rce"], rce)
        assert abs(got["diagram_deviation"] - dev) <= 1e-12
        assert len(got["bins"]) == len(bins)
        for gb, wb in zip(got["bins"], bins):
            assert (gb["begin"], gb["count"]) == (wb["begin"], wb["count"])
            for key in ("mean_quality", "uncertainty_rank", "quality_rank", "quality_rank_from_top",
                        "uncertainty_lower", "uncertainty_upper"):
                assert abs(num(gb[key]) - wb[key]) <= 1e-12, (key, gb[key], wb[key])


def test_rank_calibration_orientation(math_tool):
    rng = np.random.default_rng(16)
    u = rng.normal(size=1000)
    good = np.clip(0.5 - 0.2 * u + rng.normal(0, 0.05, 1000), 0, 1)
    res = math_tool([{"op": "rank_calibration", "uncertainty": u.tolist(), "quality": q.tolist()}
                     for q in (good, 1 - good, rng.random(1000))])
    calibrated, reversed_, unrelated = (ok(r)["rce"] for r in res)
    # A well rank-calibrated measure sits near the 1/(4B) floor, a reversed one near 1/2.
    assert calibrated < 0.03 < unrelated < reversed_
    assert reversed_ > 0.4
    assert "error" in math_tool({"op": "rank_calibration", "uncertainty": [0.1], "quality": [1.0]})


# --- AUROC and PRR ------------------------------------------------------------------------------

def test_auroc_matches_sklearn(math_tool):
    rng = np.random.default_rng(17)
    cases = []
    for t in range(300):
        n = int(rng.integers(2, 300))
        y = (rng.random(n) < rng.uniform(0.05, 0.95)).astype(int)
        u = rng.normal(size=n) + y * rng.uniform(0, 2)
        if t % 2:
            u = np.round(u, 0)  # many ties
        cases.append((u, y))
    res = math_tool([{"op": "auroc", "uncertainty": u.tolist(), "incorrect": y.tolist()} for u, y in cases])
    for (u, y), got in zip(cases, res):
        ok(got)
        if y.min() == y.max():
            assert got["auroc"] is None
        else:
            # Tolerance: 1e-12 absolute (rank sums vs sklearn's trapezoidal ROC area).
            assert abs(got["auroc"] - roc_auc_score(y, u)) <= 1e-12


def rejection_auc(q_in_keep_order, n_rej):
    """LM-Polygraph's area: mean over r = 0..R-1 of the mean quality of the n - r kept."""
    q = np.asarray(q_in_keep_order, float)
    kept_means = np.cumsum(q) / np.arange(1, len(q) + 1)
    curve = kept_means[::-1][:n_rej]
    return curve.mean(), curve


def prr_brute_force(u, q, max_rejection):
    """Every ordering consistent with ascending uncertainty, averaged (ties broken at random)."""
    u, q = np.asarray(u, float), np.asarray(q, float)
    n = len(u)
    n_rej = int(max_rejection * n)
    aucs, curves = [], []
    for perm in itertools.permutations(range(n)):
        if all(u[perm[i]] <= u[perm[i + 1]] for i in range(n - 1)):
            a, c = rejection_auc(q[list(perm)], n_rej)
            aucs.append(a)
            curves.append(c)
    oracle, oracle_curve = rejection_auc(np.sort(q)[::-1], n_rej)
    return np.mean(aucs), np.mean(curves, axis=0), oracle, oracle_curve, q.mean(), n_rej


def test_prr_matches_numpy(math_tool):
    rng = np.random.default_rng(18)
    cases = []
    for t in range(400):
        small = t % 2 == 0
        n = int(rng.integers(1, 8)) if small else int(rng.integers(2, 300))
        u = rng.normal(size=n)
        if small:
            u = np.round(u, 0)  # ties, resolved by enumerating every tie order
        q = rng.random(n) if t % 3 else (rng.random(n) < 0.5).astype(float)
        if t % 17 == 0:
            q = np.full(n, 0.3)
        mr = float(rng.choice([1.0, 1.0, 0.5, 0.9]))
        if int(mr * n) == 0:
            mr = 1.0
        cases.append((u, q, mr, small))
    res = math_tool([{"op": "prr", "uncertainty": u.tolist(), "quality": q.tolist(), "max_rejection": mr}
                     for u, q, mr, _ in cases])
    defined = 0
    for (u, q, mr, small), got in zip(cases, res):
        ok(got)
        if small:
            auc, curve, oracle, oracle_curve, rand, n_rej = prr_brute_force(u, q, mr)
        else:  # continuous uncertainties: no ties, one order
            n_rej = int(mr * len(u))
            auc, curve = rejection_auc(q[np.argsort(u)], n_rej)
            oracle, oracle_curve = rejection_auc(np.sort(q)[::-1], n_rej)
            rand = q.mean()
        # Tolerance: 1e-12 absolute on the areas and curves; the ratio 1e-9 relative.
        assert abs(got["auc_uncertainty"] - auc) <= 1e-12
        assert abs(got["auc_oracle"] - oracle) <= 1e-12
        assert abs(got["auc_random"] - rand) <= 1e-12
        np.testing.assert_allclose(got["curve"], curve, rtol=0, atol=1e-12)
        np.testing.assert_allclose(got["oracle_curve"], oracle_curve, rtol=0, atol=1e-12)
        if q.min() == q.max() or n_rej < 2:
            assert got["prr"] is None
        else:
            want = (auc - rand) / (oracle - rand)
            assert got["prr"] == pytest.approx(want, rel=1e-9, abs=1e-9)
            defined += 1
    assert defined > 250
