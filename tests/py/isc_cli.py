# Running the isc binary from the Python tests: one helper for the end-to-end files, and the check
# that bad input gets exactly one "isc: error: ..." line and a non-zero exit.
import subprocess


def isc(isc_bin, root, *args, check=True, timeout=900):
    """Runs `isc ARGS` in the project root; with check, asserts exit status 0 (stderr as the message)."""
    r = subprocess.run([str(isc_bin), *map(str, args)], cwd=root, capture_output=True, text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def assert_one_line_error(p, *needles):
    assert p.returncode != 0
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("isc: error: "), lines[0]
    for n in needles:
        assert str(n) in lines[0], (n, lines[0])
