# ISC_KERNELS, the environment override of the kernel path: `isc info` reports the path a run
# would use, a path the CPU lacks or an unknown name is one "isc: error: ..." line.
import json
import os
import subprocess

import pytest

from isc_cli import assert_one_line_error

PATHS = ["portable", "avx2", "avx512", "avx512_bf16"]  # in order: each needs the features before it


def info(isc_bin, model_path, kernels):
    env = dict(os.environ)
    if kernels is None:
        env.pop("ISC_KERNELS", None)
    else:
        env["ISC_KERNELS"] = kernels
    return subprocess.run([str(isc_bin), "info", str(model_path), "--json"], capture_output=True, text=True,
                          env=env, timeout=120)


def best_path(isc_bin, model_path):
    p = info(isc_bin, model_path, None)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["kernels"]


def test_each_path_the_cpu_has_is_taken(isc_bin, model_path):
    best = best_path(isc_bin, model_path)
    assert best in PATHS
    for name in PATHS[:PATHS.index(best) + 1]:
        p = info(isc_bin, model_path, name)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["kernels"] == name


def test_unknown_name_is_a_one_line_error(isc_bin, model_path):
    assert_one_line_error(info(isc_bin, model_path, "avx3"), "ISC_KERNELS=avx3", "unknown kernel path")


def test_path_beyond_the_cpu_is_a_one_line_error(isc_bin, model_path):
    best = best_path(isc_bin, model_path)
    if best == PATHS[-1]:
        pytest.skip("this CPU runs every path")
    beyond = PATHS[PATHS.index(best) + 1]
    assert_one_line_error(info(isc_bin, model_path, beyond), f"ISC_KERNELS={beyond}", "cannot run")
