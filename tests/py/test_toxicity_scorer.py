# Cross-checks of the offline toxicity scorer (src/tasks/linear_toxicity_scorer.*, driven through
# tests/tools/score_toxicity) against the Python package it was exported from, alt-profanity-check:
# the same probability for every RealToxicityPrompts text and for adversarial input, the same tokens
# for every Unicode code point, and agreement with the dataset's own Perspective scores.
import hashlib
import importlib.util
import json
import pathlib
import subprocess

import numpy as np
import pytest
from scipy import stats

MODEL_REL = "models/toxicity-alt-profanity-check.json"


@pytest.fixture(scope="module")
def model_file(root):
    p = root / MODEL_REL
    if not p.exists():
        pytest.fail(f"{p} not found; run scripts/setup.sh (it exports the alt-profanity-check model)")
    return p


@pytest.fixture(scope="module")
def reference(model_file):
    """The package's vectorizer and model, checked to be the files the JSON was exported from."""
    import profanity_check  # noqa: F401  (fails here, loudly, when the package is not installed)
    from profanity_check import profanity_check as pc

    data = pathlib.Path(importlib.util.find_spec("profanity_check").origin).parent / "data"
    recorded = json.loads(model_file.read_text(encoding="utf-8"))["source"]["files"]
    for name, sha in recorded.items():
        got = hashlib.sha256((data / name).read_bytes()).hexdigest()
        if got != sha:
            pytest.fail(f"{model_file} was exported from another {name} (sha256 {sha}, installed {got}); "
                        "run scripts/setup.sh")
    return pc


@pytest.fixture(scope="module")
def run_tool(tool, model_file):
    exe = tool("score_toxicity")

    def run(values, tokens=False):
        """values: str (valid text) or bytes (any bytes); one JSONL line each."""
        lines = []
        for v in values:
            lines.append(json.dumps(list(v) if isinstance(v, bytes) else v, ensure_ascii=True))
        args = [str(exe), str(model_file), "--jsonl"] + (["--tokens"] if tokens else [])
        out = subprocess.run(args, input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        rows = out.stdout.splitlines()
        assert len(rows) == len(values)
        return [json.loads(r) for r in rows] if tokens else np.array([float(r) for r in rows])

    return run


@pytest.fixture(scope="module")
def records(shared_data):
    path = shared_data / "realtoxicity" / "toxic.jsonl"
    if not path.exists():
        pytest.fail(f"{path} not found (the shared RealToxicityPrompts subset)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def adversarial_texts():
    long_words = " ".join(["fuck", "you", "idiot", "nice", "day", "ΕΤΗΤΗΣ", "josé"] * 30000)
    return [
        "", " ", "\n", "\t\r\n", "a", "ab", "a b c", "__", "_a_", "x_y_z", "12", "1", "007 agent",
        "FUCK", "FuCk YoU", "fuck_you", "fuck2you", "ＦＵＣＫ ｙｏｕ", "ﬁne ﬂag",                    # fullwidth, ligatures
        "ΕΤΗΤΗΣ", "ετητησ", "ΕΤΗΤΗΣ.", "ΕΤΗΤΗΣ'Α", "ΜΕΛ ΣΑΣ Σ ΑΣ ΣΑ", "Σ\u0301ΑΣ\u0301",        # final sigma
        "İSTANBUL İdiot", "FUC\u212a", "\u212aelvin", "Ǆungla ǅ ǆ",                               # İ, Kelvin, titlecase
        "pokémon POKÉMON poke\u0301mon", "beyoncé BEYONCÉ", "竜龙 聖やや 連絡", "ውይይት",
        "fuck\u200byou", "f\u00aduck", "fu\u0308ck", "idiot\u0301s",                                # ZWSP, soft hyphen, marks
        "٣٤ ²³ ⅫⅫ ①② 二三", "😀😀 fuck😀you", "\u0000fuck\u0000", "\ufeffidiot",
        "x" * 100000, ("idiot " * 50000).strip(), long_words,
        "fuck " * 3 + "\U0010fffd\U000e0001" + " moron",
    ]


def invalid_utf8_inputs():
    return [b"\xff", b"fuck\xffyou", b"id\xc3iot", b"\xc0\xafshit", b"\xed\xa0\x80damn", b"\xf4\x90\x80\x80ass",
            b"truncated \xe2\x82", b"\xe2\x82\xac\xe2\x82 idiot"]


def python_scores(pc, texts):
    return np.asarray(pc.predict_prob(texts), dtype=float)


# Measured: all 2,392 prompt and continuation texts, the 45 adversarial texts and the 8 byte
# strings score bit-identically to predict_prob (max abs difference 0: same operations in the same
# order in double precision). The bound below is a few ulps of 1, room for another libm.
TOL = 1e-15


def test_scores_match_profanity_check_on_realtoxicity(run_tool, reference, records):
    texts = [r["prompt"]["text"] for r in records] + [r["continuation"]["text"] for r in records]
    got = run_tool(texts)
    want = python_scores(reference, texts)
    diff = np.abs(got - want)
    worst = int(np.argmax(diff))
    assert diff.max() <= TOL, f"max abs diff {diff.max():g} on {texts[worst]!r}: C++ {got[worst]!r}, Python {want[worst]!r}"


def test_scores_match_profanity_check_on_adversarial_text(run_tool, reference):
    texts = adversarial_texts()
    got = run_tool(texts)
    want = python_scores(reference, texts)
    for t, g, w in zip(texts, got, want):
        assert abs(g - w) <= TOL, f"{t[:80]!r}: C++ {g!r}, Python {w!r}"
    # The empty text has the zero feature vector: the calibrated intercepts alone.
    assert got[0] == want[0]
    # Bytes that are not UTF-8 separate tokens like U+FFFD: compare with errors="replace".
    raw = invalid_utf8_inputs()
    got_raw = run_tool(raw)
    want_raw = python_scores(reference, [b.decode("utf-8", errors="replace") for b in raw])
    for b, g, w in zip(raw, got_raw, want_raw):
        assert abs(g - w) <= TOL, f"{b!r}: C++ {g!r}, Python {w!r}"


def test_tokens_match_sklearn_for_every_code_point(run_tool, reference):
    """Lower-casing, \\w and the Final_Sigma rule for each code point (surrogates cannot travel as
    UTF-8): as a word character between letters, next to a capital sigma on either side, alone."""
    analyzer = reference.vectorizer.build_analyzer()  # preprocess, tokenise, drop stop words
    lines, chunk = [], []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        chunk.append(f"xx{c}yy qq{c}Σ qqΣ{c}rr {c}Σ Σ{c} {c}{c} ")
        if len(chunk) == 512:
            lines.append("".join(chunk))
            chunk = []
    lines.append("".join(chunk))
    got = run_tool(lines, tokens=True)
    for line, g in zip(lines, got):
        want = analyzer(line)
        if g != want:
            for i, (a, b) in enumerate(zip(g, want)):
                assert a == b, f"token {i}: C++ {a!r}, sklearn {b!r} (line starting {line[:40]!r})"
            assert len(g) == len(want), f"C++ {len(g)} tokens, sklearn {len(want)}"


def test_spearman_with_perspective_scores(run_tool, records):
    """Rank agreement with the dataset's Perspective `toxicity` (records without one skipped).
    Measured: prompts 0.731 (n=1196), continuations 0.840 (n=1184), both pooled 0.822 (n=2380);
    the bounds sit clearly below that but far above chance."""
    def pairs(part):
        return [(r[part]["text"], r[part]["toxicity"]) for r in records if r[part].get("toxicity") is not None]

    prompts, conts = pairs("prompt"), pairs("continuation")
    scores = run_tool([t for t, _ in prompts + conts])
    persp = np.array([s for _, s in prompts + conts])
    n = len(prompts)
    rho_p = stats.spearmanr(scores[:n], persp[:n]).statistic
    rho_c = stats.spearmanr(scores[n:], persp[n:]).statistic
    rho_all = stats.spearmanr(scores, persp).statistic
    print(f"spearman: prompts {rho_p:.4f} (n={n}), continuations {rho_c:.4f} (n={len(conts)}), "
          f"both {rho_all:.4f} (n={len(persp)})")
    assert rho_p > 0.6
    assert rho_c > 0.7
    assert rho_all > 0.7
