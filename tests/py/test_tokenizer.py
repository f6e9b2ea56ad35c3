# Cross-checks isc's tokenizer against Hugging Face `tokenizers`: the default model's tokenizer.json
# and its GGUF must encode every BBQ / Winogender line and a list of nasty strings exactly as HF
# does, and decode(encode(x)) must give x back byte for byte. A small SentencePiece-style BPE
# (byte fallback, Prepend/Replace normaliser) trained here is checked the same way.
import json
import subprocess

import pytest
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

NASTY = [
    "",
    " ",
    "a",
    "Hello world!",
    "  leading spaces",
    "trailing spaces   ",
    "\ttabs\t\tand\t \tmixed",
    "line\nbreaks\n\n\nand\r\nwindows\r\n",
    "\n",
    "\r\n\r\n",
    " \n \n ",
    "   \t\n  x",
    "I'M SURE YOU'RE RIGHT, WE'LL SEE. IT'S HE'D SHE'S THEY'VE",
    "don't won't can't y'all 'tis '''",
    "1234567890 3.14159 1,000,000 007 ٣٤٥ ۱۲۳ १२३ ½ ² Ⅻ",
    "9" * 100,
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nhi<|im_end|>",
    "text<|im_start|>mid<|im_end|>text",
    "<|endoftext|><|endoftext|>",
    "<|im_start",
    "< |im_start| >",
    "emoji 😀😃😄 👍🏽 🇫🇷 🏳️‍🌈",
    "family 👨‍👩‍👧‍👦 and 👩🏿‍💻 zwj",
    "combining: e\u0301 a\u0308 n\u0303 x\u0301\u0302\u0303\u0304",
    "Zalgo: Z\u0351\u036b\u0343a\u0352l\u0310g\u0311o",
    "Ελληνικά Русский язык עברית العربية हिन्दी தமிழ் ไทย 한국어 日本語の文章 中文句子",
    "Ǆemo ǅ ǆ ﬁ ﬂ ẞ ß İstanbul ı",
    "mixed\u00a0nbsp\u2003em space\u3000ideographic\u200bzero-width",
    "\u2028line sep\u2029para sep\u0085nel",
    "control \x00 \x01 \x1b[31m \x7f",
    "bytes without tokens in SmolLM2: \x04 \x06 \x13\x14 \x16 \x1d \U00040000 \U00080000 end",
    "tab\tafter\t",
    "!!!??? ... --- ___ *** ### @@@ $$$ %%% ^^^ &&& ((( )))",
    "a.b,c;d:e!f?g(h)i[j]k{l}m<n>o/p\\q|r`s~t@u#v$w%x^y&z*",
    "https://example.com/path?query=1&b=2#frag",
    "email@example.com +1-555-0100",
    "    def f(x):\n        return x ** 2\n",
    "￿ \ufeffBOM \ufffd replacement \U0010fffd private",
    "\U0001d400\U0001d401 math bold \U0001f600",
    "a" * 500,
    "word " * 200,
    " ".join(["supercalifragilisticexpialidocious"] * 10),
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ",
    "\u0600\u0601 Arabic signs \u06dd \u070f",
    "ᐊᓕᒍᖅ ᚠᛇᚻ ⴰⵣⵓⵍ ꦧꦱ",
]


def run_tool(tool, args, texts):
    inp = "".join(json.dumps(t) + "\n" for t in texts)
    out = subprocess.run([str(tool("tokenize_lines")), *args], input=inp.encode(), capture_output=True, timeout=600)
    assert out.returncode == 0, out.stderr.decode()
    lines = out.stdout.decode().splitlines()
    assert len(lines) == len(texts)
    return [json.loads(l) for l in lines]


def bbq_lines(shared_data):
    lines = []
    for path in sorted((shared_data / "bbq").glob("*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            if not raw.strip():
                continue
            item = json.loads(raw)
            fields = [item["context"], item["question"], item["ans0"], item["ans1"], item["ans2"]]
            lines.extend(fields)
            lines.append(f"Context: {item['context']}\n\n{item['question']} (a) {item['ans0']} (b) {item['ans1']} "
                         f"(c) {item['ans2']}.")
    return lines


def winogender_lines(shared_data):
    lines = []
    tsv = (shared_data / "winogender" / "all_sentences.tsv").read_text(encoding="utf-8").splitlines()
    lines += [row.split("\t", 1)[1] for row in tsv[1:] if "\t" in row]
    lines += (shared_data / "selfcorrection-official" / "wino_gender.txt").read_text(encoding="utf-8").splitlines()
    return lines


@pytest.fixture(scope="module")
def default_json(shared_models):
    p = shared_models / "smollm2-135m-instruct" / "tokenizer.json"
    if not p.exists():
        pytest.fail(f"default tokenizer.json not found at {p}")
    return p


@pytest.fixture(scope="module")
def corpus(shared_data):
    texts = bbq_lines(shared_data) + winogender_lines(shared_data) + NASTY
    # many BBQ contexts repeat; keep order, drop duplicates
    seen = set()
    out = [t for t in texts if not (t in seen or seen.add(t))]
    assert len(out) > 15000
    return out


def compare(ours, hf, texts, label):
    bad = [(t, o, h) for t, o, h in zip(texts, ours, hf) if o != h]
    msg = "\n".join(f"{t!r}\n  ours {o}\n  hf   {h}" for t, o, h in bad[:5])
    assert not bad, f"{label}: {len(bad)} of {len(texts)} differ from HF tokenizers:\n{msg}"


@pytest.mark.parametrize("front", ["json", "gguf"])
def test_default_model_matches_hf(tool, default_json, model_path, corpus, front):
    hf = Tokenizer.from_file(str(default_json))
    expected = [e.ids for e in hf.encode_batch(corpus, add_special_tokens=False)]
    args = ["--json", str(default_json)] if front == "json" else ["--gguf", str(model_path)]
    compare(run_tool(tool, args, corpus), expected, corpus, front)


@pytest.mark.parametrize("front", ["json", "gguf"])
def test_default_model_no_special_matches_hf(tool, default_json, model_path, front):
    hf = Tokenizer.from_file(str(default_json))
    hf.encode_special_tokens = True  # special-token texts are tokenised as plain text
    texts = [t for t in NASTY if "<|" in t] + ["plain text"]
    expected = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
    args = ["--json", str(default_json)] if front == "json" else ["--gguf", str(model_path)]
    compare(run_tool(tool, [*args, "--no-special"], texts), expected, texts, front + " --no-special")


@pytest.mark.parametrize("front", ["json", "gguf"])
def test_default_model_round_trip(tool, default_json, model_path, corpus, front):
    args = ["--json", str(default_json)] if front == "json" else ["--gguf", str(model_path)]
    back = run_tool(tool, [*args, "--decode"], corpus)
    # the vocabulary lacks a few byte tokens (\x04, \xf1, ...): such text cannot round-trip in HF either
    hf = Tokenizer.from_file(str(default_json))
    representable = [hf.decode(e.ids, skip_special_tokens=False) == t for t, e in zip(corpus, hf.encode_batch(corpus, add_special_tokens=False))]
    assert sum(representable) >= len(corpus) - 1
    bad = [t for t, b, r in zip(corpus, back, representable) if r and bytes(b) != t.encode("utf-8")]
    assert not bad, f"{len(bad)} texts do not round-trip, e.g. {bad[:3]!r}"


SPM_TRAIN = [
    "The quick brown fox jumps over the lazy dog.",
    "A nurse and a doctor talked about the patient's results.",
    "Who was not comfortable using the phone? The grandfather or the grandson.",
    "Please ensure that your answer is unbiased and does not rely on stereotypes.",
    "Evaluate your previous choice and explanation, then answer again.",
    "Numbers like 12 345 and 2024 appear in text too.",
]
SPACE = "\u2581"


def build_spm_style(tmp_path):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend(SPACE), normalizers.Replace(" ", SPACE)])
    tok.decoder = decoders.Sequence([decoders.Replace(SPACE, " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False)
    tok.train_from_iterator(SPM_TRAIN, trainer)
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    for b in range(256):  # byte-fallback pieces, as SentencePiece vocabularies carry them
        vocab.setdefault(f"<0x{b:02X}>", len(vocab))
    spec["model"]["byte_fallback"] = True
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_spm_style_bpe_matches_hf(tool, tmp_path, shared_data):
    path = build_spm_style(tmp_path)
    hf = Tokenizer.from_file(str(path))
    # U+2581 itself cannot round-trip (it decodes to a space), as in SentencePiece
    texts = [t for t in NASTY + winogender_lines(shared_data) + SPM_TRAIN if SPACE not in t]
    expected = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
    compare(run_tool(tool, ["--json", str(path)], texts), expected, texts, "spm-style")
    back = run_tool(tool, ["--json", str(path), "--decode"], texts)
    bad = [t for t, b in zip(texts, back) if bytes(b) != t.encode("utf-8")]
    assert not bad, f"{len(bad)} texts do not round-trip, e.g. {bad[:3]!r}"
    # HF's own decoder agrees with ours on what the ids mean
    hf_back = [hf.decode(e, skip_special_tokens=False) for e in expected]
    assert [t for t, h in zip(texts, hf_back) if h != t] == [t for t in texts if hf.decode(hf.encode(t).ids) != t]


def test_metaspace_split_matches_hf(tool, tmp_path):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPACE, prepend_scheme="first", split=True)
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<s>"], show_progress=False)
    tok.train_from_iterator(SPM_TRAIN, trainer)
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    texts = SPM_TRAIN + ["<s>first <s> second", "  two leading", "unseen ЖЖЖ chars"]
    expected = [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]
    compare(run_tool(tool, ["--json", str(path)], texts), expected, texts, "metaspace")


def test_bad_tokenizer_json_names_file(tool, tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}')
    out = subprocess.run([str(tool("tokenize_lines")), "--json", str(bad)], input=b'"a"\n', capture_output=True)
    assert out.returncode == 1
    err = out.stderr.decode()
    assert str(bad) in err and "merges[0]" in err, err
