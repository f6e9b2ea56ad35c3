# Shared fixtures for the Python cross-checks: where the built binaries, the default model and the
# offline data are. Run through ctest (which sets ISC_BIN / ISC_BUILD_DIR) or by hand with pytest.
import os
import pathlib
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def build_dir():
    return pathlib.Path(os.environ.get("ISC_BUILD_DIR", ROOT / "build"))


@pytest.fixture(scope="session")
def isc_bin(build_dir):
    p = pathlib.Path(os.environ.get("ISC_BIN", build_dir / "isc"))
    if not p.exists():
        pytest.fail(f"isc binary not found at {p}; build first")
    return p


@pytest.fixture(scope="session")
def tool(build_dir):
    """Path of a test tool built from tests/tools/NAME.cpp."""
    def get(name):
        p = build_dir / "tests" / "tools" / name
        if not p.exists():
            pytest.fail(f"test tool {p} not built")
        return p
    return get


@pytest.fixture(scope="session")
def json_tool(tool):
    """A test tool that reads one JSON request on stdin and prints one JSON answer: json_tool(NAME)(request)."""
    import json
    import subprocess

    def make(name):
        exe = tool(name)

        def call(req):
            out = subprocess.run([str(exe)], input=json.dumps(req), capture_output=True, text=True, timeout=600)
            assert out.returncode == 0, out.stderr
            return json.loads(out.stdout)

        return call

    return make


@pytest.fixture(scope="session")
def model_path():
    p = pathlib.Path(os.environ.get("ISC_MODEL", ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    if not p.exists():
        pytest.fail(f"default model not found at {p}; run scripts/setup.sh")
    return p


@pytest.fixture(scope="session")
def shared_data():
    return ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_models():
    return ROOT.parent / "shared" / "models"


@pytest.fixture(scope="module")
def artifacts(root):
    """tests/artifacts/: screenshots the browser tests leave for people to look at (git-ignored)."""
    d = root / "tests" / "artifacts"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the browser tests of the report."""
    from report_fixture import start_chromium
    driver = start_chromium()
    yield driver
    driver.quit()
