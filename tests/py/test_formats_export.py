# Cross-checks isc's export formats (through tests/tools/format_tool) against independent readers
# and writers: numpy.load for .npy, gguf-py's GGUFReader/GGUFWriter for GGUF and control vectors.
import json
import subprocess
import zlib

import numpy as np
import pytest

import gguf
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as V


def run_tool(tool, *args, stdin=None, check=True):
    r = subprocess.run([str(tool("format_tool")), *map(str, args)], input=stdin, capture_output=True, text=True,
                       timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


# ---------------------------------------------------------------------------------------------
# (a) .npy: numpy.load reads what isc writes, bit for bit

BITS_VIEW = {"<f2": np.uint16, "<f4": np.uint32, "<f8": np.uint64}
SHAPES = [(), (7,), (3, 4), (0,), (0, 5), (2, 0, 3), (2, 3, 4, 5)]


def sample(dtype, shape, rng):
    n = int(np.prod(shape, dtype=np.int64))
    if dtype in BITS_VIEW:
        with np.errstate(over="ignore"):  # a few fp16 values may overflow to inf: also fine data
            a = (rng.standard_normal(n) * 10.0 ** rng.integers(-8, 5, n)).astype(np.dtype(dtype))
        # Every special a float can be: signed zeros, infinities, NaN, subnormals, extremes.
        info = np.finfo(np.dtype(dtype))
        specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, info.tiny, info.smallest_subnormal,
                             -info.smallest_subnormal, info.max, info.min], dtype=np.dtype(dtype))
        k = min(n, len(specials))
        a[:k] = specials[:k]
        return a.reshape(shape)
    info = np.iinfo(np.dtype(dtype))
    a = rng.integers(info.min, info.max, n, dtype=np.dtype(dtype), endpoint=True)
    if n >= 2:
        a[0], a[1] = info.min, info.max
    return a.reshape(shape)


@pytest.mark.parametrize("dtype", ["<f2", "<f4", "<f8", "<i4", "<i8"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)) or "scalar")
def test_npy_loads_exactly(tool, tmp_path, dtype, shape):
    rng = np.random.default_rng(zlib.crc32(repr((dtype, shape)).encode()))  # same data every run
    ref = sample(dtype, shape, rng)
    flat = ref.reshape(-1)
    if dtype in BITS_VIEW:
        values, extra = flat.view(BITS_VIEW[dtype]).tolist(), ["--bits"]
    else:
        values, extra = flat.tolist(), []
    out = tmp_path / "a.npy"
    run_tool(tool, "write-npy", dtype, json.dumps(list(shape)), out, *extra, stdin=json.dumps(values))
    assert not (tmp_path / "a.npy.part").exists()

    got = np.load(out, allow_pickle=False)
    assert got.dtype == np.dtype(dtype)
    assert got.shape == shape
    assert got.flags["C_CONTIGUOUS"]
    if dtype in BITS_VIEW:
        assert np.array_equal(got.reshape(-1).view(BITS_VIEW[dtype]), flat.view(BITS_VIEW[dtype]))
    else:
        assert np.array_equal(got, ref)

    # The header, read with numpy's own parser: version 1.0, data on a 64-byte boundary.
    with open(out, "rb") as f:
        assert np.lib.format.read_magic(f) == (1, 0)
        h_shape, fortran, h_dtype = np.lib.format.read_array_header_1_0(f)
        assert (h_shape, fortran, h_dtype) == (shape, False, np.dtype(dtype))
        assert f.tell() % 64 == 0
        assert out.stat().st_size == f.tell() + ref.nbytes


def test_npy_fp16_rounding_matches_numpy(tool, tmp_path):
    """Without --bits, <f2 goes through isc's float -> half conversion; numpy's astype is the reference."""
    rng = np.random.default_rng(7)
    x = np.concatenate([
        rng.standard_normal(2000).astype(np.float32) * np.float32(1000),
        (rng.random(2000) * 2 ** -14).astype(np.float32),          # the subnormal range
        np.float32([65504, 65519.99, 65520, 1e6, -1e6, 2 ** -25, 2 ** -24, 3 * 2 ** -26, 0.0, -0.0]),
        # exact halfway cases between adjacent halves, which must round to even
        (np.arange(1, 200, dtype=np.float32) + np.float32(0.5)) * np.float32(2 ** -10) + np.float32(1),
    ]).astype(np.float32)
    out = tmp_path / "h.npy"
    run_tool(tool, "write-npy", "<f2", json.dumps([len(x)]), out, stdin=json.dumps(x.astype(np.float64).tolist()))
    got = np.load(out)
    with np.errstate(over="ignore"):  # the values past 65520 overflow to inf on purpose
        ref = x.astype(np.float16)
    assert np.array_equal(got.view(np.uint16), ref.view(np.uint16))


def test_npy_refuses_bad_input(tool, tmp_path):
    out = tmp_path / "bad.npy"
    r = run_tool(tool, "write-npy", "<f4", "[2,2]", out, stdin="[1,2,3]", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == f"{out}: npy data is 12 bytes, shape and dtype <f4 need 16"
    r = run_tool(tool, "write-npy", "|u1", "[1]", out, stdin="[1]", check=False)
    assert r.returncode == 1 and "unsupported dtype '|u1'" in r.stderr
    assert not out.exists() and not (tmp_path / "bad.npy.part").exists()


# ---------------------------------------------------------------------------------------------
# generic GGUF writer: gguf-py reads every value type and tensor isc writes

def field_value(reader, key):
    f = reader.get_field(key)
    assert f is not None, key
    return f.types, f.contents()


@pytest.mark.parametrize("alignment", [None, 64])
def test_gguf_writer_reads_in_gguf_py(tool, tmp_path, alignment):
    f32 = float(np.float32(0.1))
    kv = [
        ["general.architecture", "string", "test"],
        ["s", "string", "héllo"],
        ["u32", "u32", 4000000000], ["i32", "i32", -5], ["u64", "u64", 2 ** 64 - 1], ["i64", "i64", -2 ** 63],
        ["f32", "f32", f32], ["f64", "f64", -1e300], ["yes", "bool", True], ["no", "bool", False],
        ["sa", "string[]", ["a", "", "bc"]], ["ua", "u32[]", [1, 2 ** 32 - 1]], ["ia", "i32[]", [-1, 2 ** 31 - 1]],
        ["la", "i64[]", [-2 ** 63, 3]], ["fa", "f32[]", [1.5, -2.25]],
    ]
    if alignment is not None:
        kv.append(["general.alignment", "u32", alignment])
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 5)).astype(np.float32)
    b = rng.standard_normal(7).astype(np.float32)
    tensors = [
        {"name": "a", "ne": [5, 3], "type": "F32", "data": a.reshape(-1).astype(np.float64).tolist()},
        {"name": "b", "ne": [7], "type": "F16", "data": b.astype(np.float64).tolist()},
        {"name": "c", "ne": [2, 1, 1, 1], "type": "F32", "data": [1.0, -0.0]},
    ]
    out = tmp_path / "w.gguf"
    run_tool(tool, "write-gguf", out, stdin=json.dumps({"kv": kv, "tensors": tensors}))

    r = gguf.GGUFReader(out)
    assert r.alignment == (alignment or 32)
    assert r.data_offset % r.alignment == 0
    expected_types = {"string": [V.STRING], "u32": [V.UINT32], "i32": [V.INT32], "u64": [V.UINT64],
                      "i64": [V.INT64], "f32": [V.FLOAT32], "f64": [V.FLOAT64], "bool": [V.BOOL],
                      "string[]": [V.ARRAY, V.STRING], "u32[]": [V.ARRAY, V.UINT32], "i32[]": [V.ARRAY, V.INT32],
                      "i64[]": [V.ARRAY, V.INT64], "f32[]": [V.ARRAY, V.FLOAT32]}
    assert r.get_field("GGUF.version").contents() == 3
    assert [k for k in r.fields if not k.startswith("GGUF.")] == [k for k, _, _ in kv]  # in order
    for key, typ, value in kv:
        types, got = field_value(r, key)
        assert types == expected_types[typ], key
        assert got == value, key

    by_name = {t.name: t for t in r.tensors}
    assert list(by_name) == ["a", "b", "c"]
    assert by_name["a"].tensor_type == Q.F32 and by_name["a"].shape.tolist() == [5, 3]
    assert np.array_equal(by_name["a"].data.view(np.uint32), a.view(np.uint32))
    assert by_name["b"].tensor_type == Q.F16 and by_name["b"].shape.tolist() == [7]
    assert np.array_equal(np.asarray(by_name["b"].data).view(np.uint16), b.astype(np.float16).view(np.uint16))
    assert by_name["c"].shape.tolist() == [2, 1, 1, 1]
    for t in r.tensors:
        assert t.data_offset % r.alignment == 0


# ---------------------------------------------------------------------------------------------
# (b) isc's control vector read by gguf-py: the layout repeng and llama.cpp expect

def test_isc_control_vector_reads_in_gguf_py(tool, tmp_path):
    rng = np.random.default_rng(11)
    n_embd = 576
    layers = {2: None, 9: None, 30: None}  # isc layers
    for l in layers:
        layers[l] = rng.standard_normal(n_embd).astype(np.float32)
    layers[9][:3] = [np.float32(-0.0), np.float32(1e-45), np.float32(3.4e38)]
    out = tmp_path / "cv.gguf"
    payload = {str(l): v.astype(np.float64).tolist() for l, v in layers.items()}
    run_tool(tool, "write-cv", out, "llama", stdin=json.dumps(payload))

    r = gguf.GGUFReader(out)
    assert field_value(r, "general.architecture") == ([V.STRING], "controlvector")
    assert field_value(r, "controlvector.model_hint") == ([V.STRING], "llama")
    assert field_value(r, "controlvector.layer_count") == ([V.UINT32], 3)  # as repeng writes it
    assert [t.name for t in r.tensors] == ["direction.1", "direction.8", "direction.29"]
    for t in r.tensors:
        isc_layer = int(t.name.split(".")[1]) + 1
        assert t.tensor_type == Q.F32
        assert t.shape.tolist() == [n_embd]  # 1-D, as llama.cpp's loader requires
        assert len(t.field.parts[2]) == 1 and int(t.field.parts[2][0]) == 1  # n_dims
        assert np.array_equal(t.data.view(np.uint32), layers[isc_layer].view(np.uint32))


# ---------------------------------------------------------------------------------------------
# (c) control vectors written by gguf-py the way repeng's export_gguf (and llama.cpp) write them

def repeng_style(path, directions, model_hint="llama", count_type="uint32"):
    """What repeng's ControlVector.export_gguf does: keys are repeng layer ids (0-based blocks)."""
    w = gguf.GGUFWriter(str(path), "controlvector")
    w.add_string("controlvector.model_hint", model_hint)
    getattr(w, f"add_{count_type}")("controlvector.layer_count", len(directions))
    for layer, v in directions.items():
        w.add_tensor(f"direction.{layer}", v)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def read_cv(tool, path):
    return json.loads(run_tool(tool, "read-cv", path).stdout)


@pytest.mark.parametrize("count_type", ["uint32", "int32"])  # repeng, llama.cpp's cvector-generator
def test_repeng_control_vector_reads_in_isc(tool, tmp_path, count_type):
    rng = np.random.default_rng(5)
    # repeng's default layers run from n_layers-1 down to 1, in that order; 0 is possible too.
    directions = {l: rng.standard_normal(64).astype(np.float32) for l in [29, 17, 4, 1, 0]}
    out = tmp_path / "repeng.gguf"
    repeng_style(out, directions, count_type=count_type)
    got = read_cv(tool, out)
    assert got["model_hint"] == "llama"
    # direction.<k> is added after 0-based block k, which is isc layer k + 1.
    assert sorted(map(int, got["layers"])) == sorted(k + 1 for k in directions)
    for k, v in directions.items():
        ours = np.array(got["layers"][str(k + 1)], dtype=np.float64).astype(np.float32)
        assert np.array_equal(ours.view(np.uint32), v.view(np.uint32)), k


def test_isc_round_trip_via_gguf_py_round_trip(tool, tmp_path):
    """isc writes, gguf-py reads as repeng's import_gguf would, gguf-py rewrites, isc reads back."""
    rng = np.random.default_rng(2)
    layers = {l: rng.standard_normal(16).astype(np.float32) for l in (3, 4, 12)}
    a = tmp_path / "a.gguf"
    run_tool(tool, "write-cv", a, "qwen2", stdin=json.dumps({str(l): v.tolist() for l, v in layers.items()}))
    r = gguf.GGUFReader(a)
    directions = {int(t.name.split(".")[1]): np.array(t.data) for t in r.tensors}  # repeng's parse
    b = tmp_path / "b.gguf"
    repeng_style(b, directions, model_hint=r.get_field("controlvector.model_hint").contents())
    got = read_cv(tool, b)
    assert got["model_hint"] == "qwen2"
    assert {int(k) for k in got["layers"]} == set(layers)
    for l, v in layers.items():
        assert np.array_equal(np.array(got["layers"][str(l)], dtype=np.float32), v)


def bad_file(path, tensors, arch="controlvector"):
    w = gguf.GGUFWriter(str(path), arch)
    w.add_string("controlvector.model_hint", "llama")
    for name, v in tensors:
        w.add_tensor(name, v)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.mark.parametrize("case,message", [
    ("arch", "not a control vector (general.architecture is 'llama', expected 'controlvector')"),
    ("f16", "tensor 'direction.3': type F16, expected F32"),
    ("name", "tensor 'blk.3.direction': not named direction.<layer>"),
    ("2d", "tensor 'direction.3': dimensions [4, 2], expected one non-empty dimension"),
    ("length", "tensor 'direction.3': 5 values, 'direction.2' has 4"),
    ("empty", "control vector has no direction tensors"),
])
def test_isc_refuses_bad_control_vectors(tool, tmp_path, case, message):
    ok = ("direction.2", np.ones(4, dtype=np.float32))
    tensors = {
        "arch": [ok], "f16": [ok, ("direction.3", np.ones(4, dtype=np.float16))],
        "name": [ok, ("blk.3.direction", np.ones(4, dtype=np.float32))],
        "2d": [ok, ("direction.3", np.ones((2, 4), dtype=np.float32))],
        "length": [ok, ("direction.3", np.ones(5, dtype=np.float32))], "empty": [],
    }[case]
    p = tmp_path / f"{case}.gguf"
    bad_file(p, tensors, arch="llama" if case == "arch" else "controlvector")
    r = run_tool(tool, "read-cv", p, check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == f"{p}: {message}"


def test_isc_refuses_layer_one_on_write(tool, tmp_path):
    out = tmp_path / "l1.gguf"
    r = run_tool(tool, "write-cv", out, "llama", stdin=json.dumps({"1": [1.0, 2.0]}), check=False)
    assert r.returncode == 1
    assert "llama.cpp cannot steer isc layers below 2" in r.stderr
    assert not out.exists()
