# Cross-checks isc's GGUF reader and dequantisation (through tests/tools/gguf_dump) against the
# gguf Python package: metadata of every value type, every supported tensor type, the real model, bad files.
import json
import shutil
import struct
import subprocess

import numpy as np
import pytest

import gguf
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as V

QK_K = 256

# Types gguf-py can quantise itself (data comes from its quantiser) ...
QUANTISABLE = [Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1]
# ... and block types isc dequantises, tested with random raw blocks: byte offsets of each block's
# fp16 scale fields, which get finite values so results are comparable exactly.
RAW_BLOCK_SCALES = {
    Q.Q8_0: [0], Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2],
    Q.Q2_K: [80, 82], Q.Q3_K: [108], Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208],
}


def run_dump(tool, *args, check=True):
    r = subprocess.run([str(tool("gguf_dump")), *map(str, args)], capture_output=True, text=True, timeout=600)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def dump_json(tool, path, full=True):
    r = run_dump(tool, path, *(["--full-arrays"] if full else []))
    return json.loads(r.stdout)


def dump_tensors(tool, path, names, tmp_path):
    """Dequantises the named tensors with isc; returns name -> flat float32 array."""
    args, outs = [path], {}
    for i, name in enumerate(names):
        out = tmp_path / f"t{i}.f32"
        args += ["--tensor", name, "--out", out]
        outs[name] = out
    run_dump(tool, *args)
    return {name: np.fromfile(out, dtype=np.float32) for name, out in outs.items()}


def reference_values(t):
    """gguf-py's dequantisation of a ReaderTensor, flat float32."""
    if t.tensor_type == Q.Q8_K:  # gguf-py has no Q8_K kernel: fp32 d times int8 quants
        blocks = np.asarray(t.data).reshape(-1, 292)
        d = blocks[:, :4].copy().view(np.float32)
        q = blocks[:, 4:4 + QK_K].copy().view(np.int8).astype(np.float32)
        return (d * q).reshape(-1)
    return np.asarray(gguf.quants.dequantize(np.asarray(t.data), t.tensor_type), dtype=np.float32).reshape(-1)


def assert_same_floats(ours, ref, what):
    assert ours.shape == ref.shape, f"{what}: {ours.shape} vs {ref.shape}"
    same = (ours.view(np.uint32) == ref.view(np.uint32)) | (np.isnan(ours) & np.isnan(ref))
    if not same.all():
        i = int(np.argmin(same))
        pytest.fail(f"{what}: {int((~same).sum())} of {ours.size} values differ, first at {i}: {ours[i]!r} vs {ref[i]!r}")


def random_raw_blocks(rng, qtype, n_blocks):
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    if qtype == Q.Q8_K:
        blocks[:, :4] = rng.normal(0, 0.05, size=(n_blocks, 1)).astype(np.float32).view(np.uint8)
    for at in RAW_BLOCK_SCALES.get(qtype, []):
        blocks[:, at:at + 2] = rng.normal(0, 0.05, size=(n_blocks, 1)).astype(np.float16).view(np.uint8)
    return blocks


METADATA = [
    # key, value, value type, array element type
    ("t.u8", 200, V.UINT8, None), ("t.i8", -100, V.INT8, None),
    ("t.u16", 60000, V.UINT16, None), ("t.i16", -30000, V.INT16, None),
    ("t.u32", 4000000000, V.UINT32, None), ("t.i32", -2000000000, V.INT32, None),
    ("t.f32", 0.1, V.FLOAT32, None), ("t.bool_true", True, V.BOOL, None), ("t.bool_false", False, V.BOOL, None),
    ("t.string", "héllo wörld ✓ \n\t\"quoted\"", V.STRING, None),
    ("t.u64", 2**64 - 1, V.UINT64, None), ("t.i64", -(2**63), V.INT64, None),
    ("t.f64", 1.0 / 3.0, V.FLOAT64, None),
    ("t.arr.u8", [0, 1, 255], V.ARRAY, V.UINT8), ("t.arr.i8", [-128, 0, 127], V.ARRAY, V.INT8),
    ("t.arr.u16", [0, 65535], V.ARRAY, V.UINT16), ("t.arr.i16", [-32768, 32767], V.ARRAY, V.INT16),
    ("t.arr.u32", [1, 2**32 - 1], V.ARRAY, V.UINT32), ("t.arr.i32", list(range(-20, 20)), V.ARRAY, V.INT32),
    ("t.arr.f32", [0.5, -1.25, 3.0e-8, 1.0e30], V.ARRAY, V.FLOAT32), ("t.arr.bool", [True, False, True], V.ARRAY, V.BOOL),
    ("t.arr.str", ["a", "", "ünïcode", "Ġthe", "<|im_end|>"], V.ARRAY, V.STRING),
    ("t.arr.u64", [0, 2**64 - 1], V.ARRAY, V.UINT64), ("t.arr.i64", [-(2**63), 2**63 - 1], V.ARRAY, V.INT64),
    ("t.arr.f64", [1.0 / 7.0, -2.5e300], V.ARRAY, V.FLOAT64),
    ("t.arr.nested", [[1, 2], [3, 4, 5], [6]], V.ARRAY, None),
    ("t.arr.nested_str", [["x", "y"], ["z"]], V.ARRAY, None),
]


def write_synthetic(path, rng, alignment=None):
    """A file with every metadata value type and a tensor of every type isc dequantises.
    Returns {tensor name: type}."""
    w = gguf.GGUFWriter(str(path), arch="test")
    if alignment is not None:
        w.add_custom_alignment(alignment)
    for key, value, vtype, sub in METADATA:
        w.add_key_value(key, value, vtype, sub_type=sub)
    types = {}
    w.add_tensor("f32_1d", rng.normal(size=96).astype(np.float32)); types["f32_1d"] = Q.F32
    w.add_tensor("f32_3d", rng.normal(size=(2, 3, 8)).astype(np.float32)); types["f32_3d"] = Q.F32
    w.add_tensor("f32_4d", rng.normal(size=(2, 1, 3, 4)).astype(np.float32)); types["f32_4d"] = Q.F32
    w.add_tensor("f16_random", rng.normal(size=(4, 64)).astype(np.float16)); types["f16_random"] = Q.F16
    # every half bit pattern: subnormals, infinities and NaNs included
    w.add_tensor("f16_all", np.arange(65536, dtype=np.uint16).view(np.float16).reshape(256, 256)); types["f16_all"] = Q.F16
    w.add_tensor("bf16_all", np.arange(65536, dtype=np.uint16).view(np.uint8).reshape(256, 512),
                 raw_dtype=Q.BF16); types["bf16_all"] = Q.BF16
    for qtype in QUANTISABLE:
        data = rng.normal(size=(8, 256)).astype(np.float32)
        name = f"quantised_{qtype.name}"
        w.add_tensor(name, gguf.quants.quantize(data, qtype), raw_dtype=qtype); types[name] = qtype
    for qtype in list(RAW_BLOCK_SCALES) + [Q.Q8_K]:
        block_elems, _ = gguf.GGML_QUANT_SIZES[qtype]
        rows, row_elems = 3, 2 * QK_K
        blocks = random_raw_blocks(rng, qtype, rows * row_elems // block_elems)
        name = f"raw_{qtype.name}"
        w.add_tensor(name, blocks.reshape(rows, -1), raw_dtype=qtype); types[name] = qtype
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return types


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    path = tmp_path_factory.mktemp("gguf") / "synthetic.gguf"
    types = write_synthetic(path, np.random.default_rng(1234))
    return path, types


def test_metadata_matches_gguf_py(tool, synthetic):
    path, _ = synthetic
    ours = dump_json(tool, path)
    reader = gguf.GGUFReader(str(path))
    ref_keys = [k for k in reader.fields if not k.startswith("GGUF.")]
    assert [m["key"] for m in ours["metadata"]] == ref_keys
    assert ours["version"] == 3
    by_key = {m["key"]: m for m in ours["metadata"]}
    written = {k: (v, t, s) for k, v, t, s in METADATA}
    for key in ref_keys:
        field, m = reader.fields[key], by_key[key]
        assert m["type"] == field.types[0].name, key
        if field.types[0] == V.ARRAY:
            assert m["array_type"] == field.types[1].name, key
            assert m["count"] == len(field.data) or field.types[1] == V.ARRAY, key
            flat = m["value"]
            while flat and isinstance(flat[0], list):
                flat = [x for inner in flat for x in inner]
            assert flat == field.contents(), key
        else:
            assert m["value"] == field.contents(), key
        if key in written:  # the structure as written (gguf-py flattens nested arrays)
            value, vtype, _ = written[key]
            if vtype in (V.FLOAT32,):
                assert m["value"] == float(np.float32(value)), key
            elif key == "t.arr.f32":
                assert m["value"] == [float(np.float32(x)) for x in value], key
            else:
                assert m["value"] == value, key


def test_tensor_infos_match_gguf_py(tool, synthetic):
    path, types = synthetic
    ours = dump_json(tool, path)
    reader = gguf.GGUFReader(str(path))
    assert len(ours["tensors"]) == len(reader.tensors) == len(types)
    for t, rt in zip(ours["tensors"], reader.tensors):
        assert t["name"] == rt.name
        assert t["type"] == rt.tensor_type.name
        assert t["ne"] == [int(x) for x in rt.shape]
        assert t["n_elements"] == rt.n_elements
        assert t["nbytes"] == rt.n_bytes
        assert ours["data_offset"] + t["offset"] == rt.data_offset


def test_every_type_dequantises_like_gguf_py(tool, synthetic, tmp_path):
    path, types = synthetic
    reader = gguf.GGUFReader(str(path))
    ours = dump_tensors(tool, path, list(types), tmp_path)
    seen = set()
    for rt in reader.tensors:
        assert_same_floats(ours[rt.name], reference_values(rt), rt.name)
        seen.add(rt.tensor_type)
    assert seen == {Q.F32, Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1,
                    Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K, Q.Q8_K}


def test_custom_alignment_and_version_2(tool, tmp_path):
    path = tmp_path / "aligned.gguf"
    types = write_synthetic(path, np.random.default_rng(7), alignment=256)
    ours = dump_json(tool, path, full=False)
    assert ours["alignment"] == 256 and ours["data_offset"] % 256 == 0
    assert all(t["offset"] % 256 == 0 for t in ours["tensors"])
    reader = gguf.GGUFReader(str(path))
    got = dump_tensors(tool, path, list(types), tmp_path)
    for rt in reader.tensors:
        assert_same_floats(got[rt.name], reference_values(rt), rt.name)
    # v2 has the same little-endian layout as v3 (64-bit counts), so patching the version is enough
    v2 = tmp_path / "v2.gguf"
    data = bytearray(path.read_bytes())
    data[4:8] = struct.pack("<I", 2)
    v2.write_bytes(bytes(data))
    assert dump_json(tool, v2, full=False)["version"] == 2


def test_truncated_arrays_by_default(tool, synthetic):
    path, _ = synthetic
    ours = dump_json(tool, path, full=False)
    m = {m["key"]: m for m in ours["metadata"]}["t.arr.i32"]
    assert m["truncated"] and m["count"] == 40 and m["value"] == list(range(-20, -4))


# --- the real default model

def test_real_model_metadata(tool, model_path):
    ours = dump_json(tool, model_path)
    reader = gguf.GGUFReader(str(model_path))
    ref_keys = [k for k in reader.fields if not k.startswith("GGUF.")]
    assert [m["key"] for m in ours["metadata"]] == ref_keys
    for m in ours["metadata"]:
        field = reader.fields[m["key"]]
        assert m["type"] == field.types[0].name
        assert m["value"] == field.contents(), m["key"]
    assert len(ours["tensors"]) == len(reader.tensors)
    for t, rt in zip(ours["tensors"], reader.tensors):
        assert (t["name"], t["type"], t["ne"], t["nbytes"]) == (rt.name, rt.tensor_type.name, [int(x) for x in rt.shape], rt.n_bytes)
        assert ours["data_offset"] + t["offset"] == rt.data_offset


def test_real_model_tensors_dequantise_like_gguf_py(tool, model_path, tmp_path):
    reader = gguf.GGUFReader(str(model_path))
    by_type = {}
    for rt in reader.tensors:
        by_type.setdefault(rt.tensor_type, []).append(rt)
    assert {Q.Q4_1, Q.Q8_0, Q.F32} <= set(by_type)
    # up to seven tensors of each type spread over the layers, each in full
    chosen = []
    for tensors in by_type.values():
        n = len(tensors)
        picks = {0, min(1, n - 1), min(3, n - 1), n // 4, n // 2, 3 * n // 4, n - 1}
        chosen += [tensors[i] for i in sorted(picks)]
    ours = dump_tensors(tool, model_path, [t.name for t in chosen], tmp_path)
    for rt in chosen:
        assert_same_floats(ours[rt.name], reference_values(rt), rt.name)


# --- bad files

def assert_clean_failure(r, path):
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(path) in lines[0], r.stderr
    return lines[0]


def test_truncated_real_model(tool, model_path, tmp_path):
    info = dump_json(tool, model_path, full=False)
    size = model_path.stat().st_size
    data_offset = info["data_offset"]
    cuts = [0, 3, 4, 7, 12, 20, 24, 100, 1000, 50_000, 500_000, data_offset - 1, data_offset,
            data_offset + 1000, size // 2, size - 1]
    with open(model_path, "rb") as f:
        for cut in cuts:
            p = tmp_path / f"cut_{cut}.gguf"
            f.seek(0)
            p.write_bytes(f.read(cut))
            msg = assert_clean_failure(run_dump(tool, p, check=False), p)
            assert "truncated" in msg or "past the end" in msg or "not a GGUF file" in msg, msg


def test_bad_magic(tool, model_path, tmp_path):
    p = tmp_path / "bad_magic.gguf"
    with open(model_path, "rb") as f:
        head = bytearray(f.read(4096))
    head[0:4] = b"GGUG"
    p.write_bytes(bytes(head))
    msg = assert_clean_failure(run_dump(tool, p, check=False), p)
    assert "not a GGUF file" in msg and "magic" in msg


def test_missing_file(tool, tmp_path):
    p = tmp_path / "does_not_exist.gguf"
    msg = assert_clean_failure(run_dump(tool, p, check=False), p)
    assert "cannot open" in msg and "No such file" in msg


def test_unknown_tensor_type_fails_only_when_dequantised(tool, tmp_path):
    p = tmp_path / "unknown_type.gguf"
    w = gguf.GGUFWriter(str(p), arch="test")
    w.add_tensor("good", np.ones(32, dtype=np.float32))
    w.add_tensor("weird", np.ones(32, dtype=np.float32))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    data = bytearray(p.read_bytes())
    info_at = data.find(struct.pack("<Q", 5) + b"weird")
    type_at = info_at + 8 + 5 + 4 + 8  # name, n_dims, one dimension
    assert struct.unpack_from("<I", data, type_at)[0] == Q.F32
    struct.pack_into("<I", data, type_at, 99)
    p.write_bytes(bytes(data))
    listing = dump_json(tool, p, full=False)
    assert [(t["name"], t["type"], t["type_id"]) for t in listing["tensors"]] == [("good", "F32", 0), ("weird", "type#99", 99)]
    assert np.array_equal(dump_tensors(tool, p, ["good"], tmp_path)["good"], np.ones(32, dtype=np.float32))
    r = run_dump(tool, p, "--tensor", "weird", "--out", tmp_path / "w.f32", check=False)
    msg = assert_clean_failure(r, p)
    assert "'weird'" in msg and "99" in msg


def test_unsupported_known_type_names_it(tool, tmp_path):
    p = tmp_path / "iq.gguf"
    w = gguf.GGUFWriter(str(p), arch="test")
    w.add_tensor("iq", np.zeros((1, 66), dtype=np.uint8), raw_dtype=Q.IQ2_XXS)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    r = run_dump(tool, p, "--tensor", "iq", "--out", tmp_path / "iq.f32", check=False)
    msg = assert_clean_failure(r, p)
    assert "'iq'" in msg and "IQ2_XXS" in msg
