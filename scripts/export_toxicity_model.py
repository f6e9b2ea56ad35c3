#!/usr/bin/env python3
# Exports the offline toxicity classifier of the PyPI package alt-profanity-check (a scikit-learn
# TfidfVectorizer plus a CalibratedClassifierCV over linear SVMs) into one JSON file that the C++
# LinearToxicityScorer reads (src/tasks/linear_toxicity_scorer.h); isc itself never runs Python.
#
# Every property of the pickled pipeline that changes what transform/predict_proba compute is
# checked against what the C++ side implements, and anything else stops the export with a message
# saying what was found. The export then recomputes the package's probabilities from the exported
# numbers alone (with sklearn's own analyzer for the tokens) and refuses to write a file that does
# not reproduce them.
#
#   python scripts/export_toxicity_model.py [--out models/toxicity-alt-profanity-check.json]
#   python scripts/export_toxicity_model.py --check [--out ...]   # exit 0 when the file is up to date
import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import pathlib
import sys
import tempfile
import warnings

FORMAT = "isc-linear-text-classifier/1"
PACKAGE = "alt-profanity-check"
DEFAULT_OUT = pathlib.Path(__file__).resolve().parents[1] / "models" / "toxicity-alt-profanity-check.json"
# The only token pattern the C++ tokenizer implements: maximal runs of two or more \w characters.
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
SOURCE_FILES = ("vectorizer.joblib", "model.joblib")
# Texts on which the exported numbers must reproduce the package's own probabilities.
PROBE_TEXTS = [
    "",
    "Hello, how are you today?",
    "you are a fucking idiot",
    "What a stupid, STUPID thing to say... go to hell!!",
    "I love my dog_and_cat 42 times over",
    "Shut up, you moron. Nobody asked you.",
    "Pokémon and Beyoncé are fine; so is José.",
    "a b c d e f",
]


class ExportError(Exception):
    pass


def fail(msg):
    raise ExportError(msg)


def package_data_dir():
    spec = importlib.util.find_spec("profanity_check")
    if spec is None or not spec.submodule_search_locations:
        fail(f"the Python package profanity_check ({PACKAGE}) is not installed in {sys.executable}")
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / "data"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_hashes(data_dir):
    out = {}
    for name in SOURCE_FILES:
        p = data_dir / name
        if not p.is_file():
            fail(f"{p}: missing (expected the package's {name})")
        out[name] = sha256_file(p)
    return out


def expect(cond, where, what):
    if not cond:
        fail(f"{where}: {what}")


def finite_list(values, where):
    out = [float(v) for v in values]
    for i, v in enumerate(out):
        expect(math.isfinite(v), where, f"element {i} is {v}, expected a finite number")
    return out


def check_vectorizer(v):
    """The TfidfVectorizer parameters that change transform(), each against what C++ implements."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    import numpy as np

    w = "vectorizer.joblib"
    expect(type(v) is TfidfVectorizer, w, f"expected sklearn TfidfVectorizer, found {type(v).__module__}.{type(v).__name__}")
    p = v.get_params()
    expect(p["input"] == "content", w, f"input={p['input']!r}, expected 'content' (texts are given as strings)")
    expect(p["analyzer"] == "word", w, f"analyzer={p['analyzer']!r}, expected 'word'")
    expect(p["preprocessor"] is None, w, "a custom preprocessor is set; only the built-in one is implemented")
    expect(p["tokenizer"] is None, w, "a custom tokenizer is set; only token_pattern tokenisation is implemented")
    expect(p["token_pattern"] == TOKEN_PATTERN, w, f"token_pattern={p['token_pattern']!r}, expected {TOKEN_PATTERN!r}")
    expect(p["strip_accents"] is None, w, f"strip_accents={p['strip_accents']!r}, expected None")
    expect(isinstance(p["lowercase"], bool), w, f"lowercase={p['lowercase']!r}, expected a bool")
    expect(tuple(p["ngram_range"]) == (1, 1), w, f"ngram_range={p['ngram_range']!r}, expected (1, 1)")
    expect(isinstance(p["binary"], bool), w, f"binary={p['binary']!r}, expected a bool")
    expect(p["dtype"] in (np.float64,), w, f"dtype={p['dtype']!r}, expected numpy.float64 (the C++ side computes in double)")
    expect(p["norm"] in ("l2", None), w, f"norm={p['norm']!r}, expected 'l2' or None")
    expect(p["sublinear_tf"] is False, w, f"sublinear_tf={p['sublinear_tf']!r}, expected False")
    expect(isinstance(p["use_idf"], bool), w, f"use_idf={p['use_idf']!r}, expected a bool")
    # The fitted transformer is what transform() really uses; its settings must agree.
    t = getattr(v, "_tfidf", None)
    expect(t is not None, w, "no fitted _tfidf transformer")
    expect(t.norm == p["norm"] and t.use_idf == p["use_idf"] and t.sublinear_tf is False, w,
           f"inner TfidfTransformer (norm={t.norm!r}, use_idf={t.use_idf!r}, sublinear_tf={t.sublinear_tf!r}) "
           "disagrees with the vectorizer's parameters")
    vocab = getattr(v, "vocabulary_", None)
    expect(isinstance(vocab, dict) and vocab, w, "no fitted vocabulary_")
    n = len(vocab)
    expect(sorted(vocab.values()) == list(range(n)), w, "vocabulary_ indices are not exactly 0..n-1")
    words = [None] * n
    for word, idx in vocab.items():
        expect(isinstance(word, str) and word, w, f"vocabulary entry {word!r} is not a non-empty string")
        words[idx] = word
    # Each entry must be reachable: its own single token (lower-case, \w only, two or more chars).
    prep, tok = v.build_preprocessor(), v.build_tokenizer()
    for word in words:
        expect(tok(prep(word)) == [word], w, f"vocabulary entry {word!r} is not a single token of itself")
    stop = v.get_stop_words()
    stop = sorted(stop) if stop else []
    idf = None
    if hasattr(t, "idf_"):  # transform multiplies by idf_ exactly when the fitted transformer has it
        expect(p["use_idf"], w, "idf_ is present although use_idf is False")
        idf_arr = np.asarray(t.idf_)
        expect(idf_arr.shape == (n,) and idf_arr.dtype == np.float64, w,
               f"idf_ has shape {idf_arr.shape} dtype {idf_arr.dtype}, expected ({n},) float64")
        idf = finite_list(idf_arr, w + ": idf_")
    else:
        expect(not p["use_idf"], w, "use_idf is True but the transformer has no idf_")
    return {
        "tokenizer": {
            "analyzer": "word",
            "token_pattern": TOKEN_PATTERN,
            "lowercase": p["lowercase"],
            "strip_accents": None,
            "ngram_range": [1, 1],
            "stop_words": stop,
        },
        "features": {"binary": p["binary"], "norm": p["norm"], "idf": idf},
        "vocabulary": words,
    }


def check_model(m, n_features):
    """CalibratedClassifierCV(method='sigmoid') over linear classifiers: what predict_proba averages."""
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV, _CalibratedClassifier, _SigmoidCalibration
    from sklearn.linear_model._base import LinearClassifierMixin
    from sklearn.svm import LinearSVC

    w = "model.joblib"
    expect(type(m) is CalibratedClassifierCV, w,
           f"expected sklearn CalibratedClassifierCV, found {type(m).__module__}.{type(m).__name__}")
    expect(m.method == "sigmoid", w, f"method={m.method!r}; only 'sigmoid' calibration is implemented")
    expect([int(c) for c in m.classes_] == [0, 1], w, f"classes_={list(m.classes_)!r}, expected [0, 1]")
    expect(getattr(m, "n_features_in_", n_features) == n_features, w,
           f"n_features_in_={m.n_features_in_} but the vocabulary has {n_features} entries")
    ccs = getattr(m, "calibrated_classifiers_", None)
    expect(ccs, w, "no calibrated_classifiers_")
    out = []
    for i, cc in enumerate(ccs):
        wi = f"{w}: calibrated_classifiers_[{i}]"
        expect(type(cc) is _CalibratedClassifier, wi, f"unexpected type {type(cc).__name__}")
        expect(cc.method == "sigmoid", wi, f"method={cc.method!r}, expected 'sigmoid'")
        expect([int(c) for c in cc.classes] == [0, 1], wi, f"classes={list(cc.classes)!r}, expected [0, 1]")
        est = cc.estimator
        expect(type(est) is LinearSVC, wi, f"estimator is {type(est).__name__}, expected LinearSVC")
        # decision_function must be the plain linear one: X @ coef_.T + intercept_.
        expect(type(est).decision_function is LinearClassifierMixin.decision_function, wi,
               "estimator overrides decision_function")
        expect([int(c) for c in est.classes_] == [0, 1], wi, f"estimator classes_={list(est.classes_)!r}, expected [0, 1]")
        coef = est.coef_
        expect(isinstance(coef, np.ndarray) and coef.dtype == np.float64 and coef.shape == (1, n_features), wi,
               f"coef_ is {type(coef).__name__} {getattr(coef, 'shape', '?')} {getattr(coef, 'dtype', '?')}, "
               f"expected a dense float64 array of shape (1, {n_features})")
        icpt = np.asarray(est.intercept_)
        expect(icpt.shape == (1,), wi, f"intercept_ has shape {icpt.shape}, expected (1,)")
        expect(len(cc.calibrators) == 1, wi, f"{len(cc.calibrators)} calibrators, expected 1 (binary)")
        cal = cc.calibrators[0]
        expect(type(cal) is _SigmoidCalibration, wi, f"calibrator is {type(cal).__name__}, expected _SigmoidCalibration")
        a, b = float(cal.a_), float(cal.b_)
        expect(math.isfinite(a) and math.isfinite(b), wi, f"sigmoid parameters a={a}, b={b} are not finite")
        out.append({
            "coef": finite_list(coef[0], wi + ": coef_"),
            "intercept": finite_list(icpt, wi + ": intercept_")[0],
            "calibration": {"method": "sigmoid", "a": a, "b": b},
        })
    return out


def recompute(tokens, export, word_index, stop):
    """P(toxic) of one text's tokens from the exported numbers, in sklearn's order of operations
    (the C++ scorer does the same)."""
    counts = {}
    for tok in tokens:
        if tok in stop:
            continue
        j = word_index.get(tok)
        if j is not None:
            counts[j] = counts.get(j, 0) + 1
    feats = doc_features(counts, export)
    total = 0.0
    clfs = export["classifiers"]
    for c in clfs:
        d = 0.0
        for j, x in feats:
            d += x * c["coef"][j]
        d = d + c["intercept"]
        cal = c["calibration"]
        z = -(cal["a"] * d + cal["b"])
        try:
            p = 1.0 / (1.0 + math.exp(-z))
        except OverflowError:
            p = 0.0
        total += p
    return total / len(clfs)


def doc_features(counts, export):
    """[index, value] by ascending index: the count (or 1 if binary), times idf, l2-normalised."""
    f = export["features"]
    feats = []
    for j in sorted(counts):
        x = 1.0 if f["binary"] else float(counts[j])
        if f["idf"] is not None:
            x *= f["idf"][j]
        feats.append([j, x])
    if f["norm"] == "l2":
        s = 0.0
        for _, x in feats:
            s += x * x
        if s != 0.0:
            s = math.sqrt(s)
            for e in feats:
                e[1] /= s
    return feats


def self_check(export, vectorizer, model):
    import numpy as np

    index = {w: i for i, w in enumerate(export["vocabulary"])}
    # sklearn's own preprocess + tokenise (stop words are applied by recompute, from the export).
    prep, tok = vectorizer.build_preprocessor(), vectorizer.build_tokenizer()
    stop = set(export["tokenizer"]["stop_words"])
    texts = list(PROBE_TEXTS) + [" ".join(export["vocabulary"][k::97]) for k in range(5)]
    want = model.predict_proba(vectorizer.transform(texts))[:, 1]
    worst = 0.0
    for text, p in zip(texts, want):
        got = recompute(tok(prep(text)), export, index, stop)
        worst = max(worst, abs(got - float(p)))
    if not np.isfinite(worst) or worst > 1e-12:
        fail(f"the exported numbers do not reproduce predict_proba (max abs difference {worst:g}); "
             "the pickled pipeline computes something this exporter does not describe")
    return worst


def write_atomic(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def up_to_date(out, hashes):
    try:
        with open(out, encoding="utf-8") as f:
            j = json.load(f)
        return j.get("format") == FORMAT and j.get("source", {}).get("files") == hashes
    except (OSError, ValueError, AttributeError):
        return False


def export(out):
    import joblib
    import sklearn
    from sklearn.exceptions import InconsistentVersionWarning

    data_dir = package_data_dir()
    hashes = source_hashes(data_dir)
    with warnings.catch_warnings():
        # A pickle from another scikit-learn version may compute something else: refuse it.
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            vectorizer = joblib.load(data_dir / "vectorizer.joblib")
            model = joblib.load(data_dir / "model.joblib")
        except InconsistentVersionWarning as e:
            fail(f"{data_dir}: pickled with another scikit-learn than the installed {sklearn.__version__}: {e}")
    doc = check_vectorizer(vectorizer)
    classifiers = check_model(model, len(doc["vocabulary"]))
    exported = {
        "format": FORMAT,
        "name": PACKAGE,
        "source": {
            "package": PACKAGE,
            "version": importlib.metadata.version(PACKAGE),
            "scikit_learn": sklearn.__version__,
            "files": hashes,
        },
        "tokenizer": doc["tokenizer"],
        "features": doc["features"],
        "vocabulary": doc["vocabulary"],
        "positive_class": 1,
        # predict_proba is the mean over these of sigmoid-calibrated linear decision values.
        "classifiers": classifiers,
    }
    worst = self_check(exported, vectorizer, model)
    text = json.dumps(exported, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"
    write_atomic(out, text)
    print(f"export_toxicity_model: wrote {out} ({len(text.encode())} bytes): TfidfVectorizer "
          f"({len(doc['vocabulary'])} words, norm {doc['features']['norm']}, idf {doc['features']['idf'] is not None}) "
          f"+ {len(classifiers)} sigmoid-calibrated LinearSVC; self-check max abs diff {worst:g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="JSON file to write")
    ap.add_argument("--check", action="store_true",
                    help="only check: exit 0 when OUT exists and records the installed package's files, else 1")
    a = ap.parse_args()
    try:
        if a.check:
            ok = up_to_date(a.out, source_hashes(package_data_dir()))
            print(f"export_toxicity_model: {a.out} is {'up to date' if ok else 'missing or stale'}")
            return 0 if ok else 1
        export(a.out)
        return 0
    except ExportError as e:
        print(f"export_toxicity_model: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
