# The `isc` command line on the real default model: info, tokenize against HF tokenizers, a
# sensible chat answer, and one-line errors with a non-zero exit for bad input.
import json
import shutil
import subprocess

import pytest
from tokenizers import Tokenizer

from isc_cli import assert_one_line_error


def run(isc_bin, *args, check=True, timeout=600):
    p = subprocess.run([str(isc_bin), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"isc {' '.join(map(str, args))} failed: {p.stderr}")
    return p


def test_info_describes_the_default_model(isc_bin, model_path):
    j = json.loads(run(isc_bin, "info", model_path, "--json").stdout)
    assert j["config"]["architecture"] == "llama"
    assert j["config"]["layers"] == 30 and j["config"]["dim"] == 576
    assert j["config"]["heads"] == 9 and j["config"]["kv_heads"] == 3
    assert j["tensor_types"] == {"F32": 61, "Q4_1": 210, "Q8_0": 1}
    assert j["chat_template"] == "chatml"
    assert 134_000_000 < j["parameters"] < 135_000_000


def test_tokenize_matches_hf_tokenizers(isc_bin, model_path, shared_models, tmp_path):
    hf = Tokenizer.from_file(str(shared_models / "smollm2-135m-instruct" / "tokenizer.json"))
    lines = ["Hello world!", "  two  spaces\tand tab", "naïve café — 12345 ✓ 🐱", "<|im_start|>user hi<|im_end|> tail"]
    f = tmp_path / "lines.txt"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = run(isc_bin, "tokenize", model_path, "--file", f, "--json").stdout.splitlines()
    ours = [json.loads(l) for l in out if l.strip()]
    assert ours == [hf.encode(l, add_special_tokens=False).ids for l in lines]


def test_generate_answers_a_chat_question(isc_bin, model_path):
    j = json.loads(run(isc_bin, "generate", model_path, "What is the capital of France?", "-n", "24", "--json",
                       "--logprobs", "3").stdout)
    assert "Paris" in j["text"]
    assert j["finish_reason"] in ("stop", "length")
    assert all(t["logprob"] <= 0 for t in j["tokens"])
    assert all(len(t["top"]) == 3 and t["top"][0]["logprob"] >= t["top"][1]["logprob"] for t in j["tokens"])
    # greedy: the chosen token is the most likely one
    assert all(t["id"] == t["top"][0]["id"] for t in j["tokens"])


def test_generate_continues_a_prefill(isc_bin, model_path):
    j = json.loads(run(isc_bin, "generate", model_path, "Is 7 a prime number? (a) yes (b) no.", "--prefill",
                       "The answer is", "-n", "6", "--json").stdout)
    assert j["text"].strip() != ""


def test_missing_model_file(isc_bin, tmp_path):
    p = run(isc_bin, "info", tmp_path / "nope.gguf", check=False)
    assert_one_line_error(p, "nope.gguf")


def test_bad_magic(isc_bin, tmp_path):
    f = tmp_path / "bad.gguf"
    f.write_bytes(b"NOTAGGUF" + b"\0" * 64)
    assert_one_line_error(run(isc_bin, "info", f, check=False), "bad.gguf")
    assert_one_line_error(run(isc_bin, "generate", f, "hi", check=False), "bad.gguf")


@pytest.mark.parametrize("size", [4, 100, 5000, 2_000_000, 50_000_000])
def test_truncated_model(isc_bin, model_path, tmp_path, size):
    f = tmp_path / "cut.gguf"
    with open(model_path, "rb") as src:
        f.write_bytes(src.read(size))
    assert_one_line_error(run(isc_bin, "generate", f, "hi", check=False), "cut.gguf")


def test_unsupported_architecture(isc_bin, tmp_path):
    import gguf
    import numpy as np
    f = tmp_path / "arch.gguf"
    w = gguf.GGUFWriter(str(f), "gpt99")
    w.add_block_count(1)
    w.add_tensor("token_embd.weight", np.zeros((8, 4), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    assert_one_line_error(run(isc_bin, "generate", f, "hi", check=False), "arch.gguf", "gpt99")


def test_context_overflow(isc_bin, model_path):
    prompt = "hello " * 9000  # > 8192 tokens
    p = run(isc_bin, "generate", model_path, prompt, "--raw", "-n", "1", check=False)
    assert_one_line_error(p, "exceeds the model's context")


def test_bad_messages_file(isc_bin, model_path, tmp_path):
    f = tmp_path / "msgs.json"
    f.write_text('[{"role": "user", "content": "hi"}, {"role": 3}]')
    assert_one_line_error(run(isc_bin, "generate", model_path, "--messages", f, check=False), "msgs.json", "message 1")
