# Cross-check of isc's safetensors reader against files written by the `safetensors` package:
# values of F32/F16/BF16 tensors (single file and sharded folder) and one-line errors on bad files.
import json
import struct
import subprocess

import numpy as np
import pytest
import safetensors
import safetensors.numpy


def dump(tool, path, *args):
    return subprocess.run([str(tool("safetensors_dump")), str(path), *args], capture_output=True)


def values(tool, path, name):
    r = dump(tool, path, "--tensor", name)
    assert r.returncode == 0, r.stderr.decode()
    return np.frombuffer(r.stdout, dtype="<f4")


def save_bf16(path, tensors_u16, metadata=None):
    """Writes bfloat16 tensors given as their raw uint16 bits (numpy has no bfloat16)."""
    keep = {k: np.ascontiguousarray(v, dtype="<u2") for k, v in tensors_u16.items()}
    specs = {k: safetensors.TensorSpec(dtype="bfloat16", shape=v.shape, data_ptr=v.ctypes.data, data_len=v.nbytes)
             for k, v in keep.items()}
    path.write_bytes(bytes(safetensors.serialize(specs, metadata=metadata)))


def bf16_reference(bits):
    return (bits.astype("<u4") << 16).view("<f4")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def special_f16():
    return np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 6e-8, -3e-5, np.inf, -np.inf, np.nan], dtype=np.float16)


def test_single_file_values(tool, tmp_path, rng):
    tensors = {
        "model.embed_tokens.weight": rng.standard_normal((7, 5)).astype(np.float32),
        "model.layers.0.self_attn.q_proj.weight": rng.standard_normal((3, 4, 2)).astype(np.float16),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "specials": special_f16(),
    }
    path = tmp_path / "model.safetensors"
    safetensors.numpy.save_file(tensors, str(path), metadata={"format": "pt", "note": "ünï"})
    for name, t in tensors.items():
        got = values(tool, path, name)
        want = t.astype(np.float32).reshape(-1)
        assert got.tobytes() == want.tobytes(), name

    listing = dump(tool, path, "--list").stdout.decode().splitlines()
    with safetensors.safe_open(str(path), framework="numpy") as f:
        want_lines = sorted(
            f"{k}\t{f.get_slice(k).get_dtype()}\t{','.join(map(str, f.get_slice(k).get_shape()))}\t"
            f"{tensors[k].nbytes}" for k in f.keys())
        assert listing == want_lines
        assert json.loads(dump(tool, path, "--metadata").stdout) == f.metadata()


def test_bf16_values(tool, tmp_path, rng):
    bits = rng.integers(0, 1 << 16, size=(6, 9), dtype=np.uint16)
    bits[0, :4] = [0x0000, 0x8000, 0x7F80, 0x0001]  # zero, -zero, inf, subnormal
    path = tmp_path / "bf16.safetensors"
    save_bf16(path, {"w": bits})
    assert values(tool, path, "w").tobytes() == bf16_reference(bits).reshape(-1).tobytes()
    assert dump(tool, path, "--list").stdout.decode() == "w\tBF16\t6,9\t108\n"


def test_sharded_folder(tool, tmp_path, rng):
    shard1 = {"a.weight": rng.standard_normal((4, 3)).astype(np.float32),
              "b.weight": rng.standard_normal((5,)).astype(np.float16)}
    shard2_bits = {"c.weight": rng.integers(0, 1 << 15, size=(2, 8), dtype=np.uint16)}
    safetensors.numpy.save_file(shard1, str(tmp_path / "model-00001-of-00002.safetensors"))
    save_bf16(tmp_path / "model-00002-of-00002.safetensors", shard2_bits)
    weight_map = {"a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00001-of-00002.safetensors",
                  "c.weight": "model-00002-of-00002.safetensors"}
    (tmp_path / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": 0}, "weight_map": weight_map}))
    for name, t in shard1.items():
        assert values(tool, tmp_path, name).tobytes() == t.astype(np.float32).reshape(-1).tobytes()
    assert values(tool, tmp_path, "c.weight").tobytes() == bf16_reference(shard2_bits["c.weight"]).reshape(-1).tobytes()
    names = [line.split("\t")[0] for line in dump(tool, tmp_path, "--list").stdout.decode().splitlines()]
    assert names == sorted(weight_map)


def test_folder_with_single_file(tool, tmp_path, rng):
    t = rng.standard_normal((3, 3)).astype(np.float32)
    safetensors.numpy.save_file({"x": t}, str(tmp_path / "model.safetensors"))
    assert values(tool, tmp_path, "x").tobytes() == t.reshape(-1).tobytes()


def assert_one_line_error(r, *needles):
    assert r.returncode != 0
    err = r.stderr.decode()
    assert len(err.strip().splitlines()) == 1, err
    for n in needles:
        assert n in err, err


def raw_file(path, header, data=b"", header_len=None):
    h = json.dumps(header).encode() if isinstance(header, dict) else header
    path.write_bytes(struct.pack("<Q", len(h) if header_len is None else header_len) + h + data)
    return path


def test_other_dtypes_listed_but_rejected_on_access(tool, tmp_path):
    path = tmp_path / "ints.safetensors"
    safetensors.numpy.save_file({"ids": np.arange(6, dtype=np.int64), "f": np.ones(2, np.float32)}, str(path))
    assert "ids\tI64\t6\t48" in dump(tool, path, "--list").stdout.decode()
    assert_one_line_error(dump(tool, path, "--tensor", "ids"), "ints.safetensors", "ids", "I64")
    assert values(tool, path, "f").tolist() == [1.0, 1.0]


@pytest.mark.parametrize("case", ["short", "header_len", "bad_json", "not_object", "out_of_range", "overlap",
                                  "size_mismatch", "bad_shape", "truncated_data", "bad_metadata"])
def test_corrupt_files(tool, tmp_path, case):
    p = tmp_path / f"{case}.safetensors"
    t = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    if case == "short":
        p.write_bytes(b"\x10\x00\x00")
    elif case == "header_len":
        raw_file(p, {"w": t}, b"\0" * 8, header_len=1 << 40)
    elif case == "bad_json":
        raw_file(p, b'{"w": {"dtype": "F32", ', b"\0" * 8)
    elif case == "not_object":
        raw_file(p, b"[1, 2, 3]")
    elif case == "out_of_range":
        raw_file(p, {"w": {**t, "data_offsets": [0, 16]}}, b"\0" * 8)
    elif case == "overlap":
        raw_file(p, {"w": t, "v": {**t, "data_offsets": [4, 12]}}, b"\0" * 12)
    elif case == "size_mismatch":
        raw_file(p, {"w": {**t, "shape": [3]}}, b"\0" * 8)
    elif case == "bad_shape":
        raw_file(p, {"w": {**t, "shape": [-2]}}, b"\0" * 8)
    elif case == "truncated_data":
        good = tmp_path / "good.safetensors"
        safetensors.numpy.save_file({"w": np.ones((4, 4), np.float32)}, str(good))
        p.write_bytes(good.read_bytes()[:-10])
    elif case == "bad_metadata":
        raw_file(p, {"__metadata__": {"k": 3}, "w": t}, b"\0" * 8)
    r = dump(tool, p, "--list")
    assert_one_line_error(r, p.name)
    with pytest.raises(Exception):  # the reference library rejects these files too
        safetensors.safe_open(str(p), framework="numpy").keys()


def test_folder_errors(tool, tmp_path, rng):
    assert_one_line_error(dump(tool, tmp_path, "--list"), "model.safetensors")
    safetensors.numpy.save_file({"a": np.ones(2, np.float32)}, str(tmp_path / "s1.safetensors"))
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {"a": "s1.safetensors", "b": "s1.safetensors"}}))
    assert_one_line_error(dump(tool, tmp_path, "--list"), "model.safetensors.index.json", "b")
    index.write_text(json.dumps({"weight_map": {"a": "s1.safetensors", "z": "missing.safetensors"}}))
    assert_one_line_error(dump(tool, tmp_path, "--list"), "missing.safetensors")
    index.write_text("{not json")
    assert_one_line_error(dump(tool, tmp_path, "--list"), "model.safetensors.index.json")
    index.write_text(json.dumps({"weight_map": {"a": "s1.safetensors"}}))
    assert_one_line_error(dump(tool, tmp_path, "--tensor", "nope"), "nope")
