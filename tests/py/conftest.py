"""Shared helpers of locus's Python tests: where the CLI is, running it, reading its JSON output, reading the
committed fixtures (safetensors, .npy) without extra packages.

The CLI under test is $LOCUS_BIN, else <repo>/build/locus. When that file does not exist the tests that need it
are reported as SKIPPED with the reason (build it with `make`, or point LOCUS_BIN at it); a subcommand that is
present but fails is a test failure, with its exit status and standard error in the message.

Plain functions (import them: `from conftest import run_json`) and pytest fixtures (`locus_bin`, `repo_root`)
are both provided. LOCUS_SANITIZED=1 is set by scripts/test.sh for the ASan/UBSan binary (slower).
LOCUS_TEST_DEVICE=cuda (or any `--device` value) makes the model tests that use `device_args()` run there, so
the same parity checks cover a GPU build: `LOCUS_TEST_DEVICE=cuda pytest tests/py/test_parity_text.py`.
"""
import json
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
MODEL_FIXTURES = FIXTURES / "models"
SANITIZED = os.environ.get("LOCUS_SANITIZED", "") not in ("", "0")
# Generous: the ASan/UBSan build is several times slower than the release build.
DEFAULT_TIMEOUT = 600 if SANITIZED else 180


def device_args():
    """["--device", D] when LOCUS_TEST_DEVICE=D is set, else [] (the CLI's default device)."""
    dev = os.environ.get("LOCUS_TEST_DEVICE", "").strip()
    return ["--device", dev] if dev else []


def locus_path():
    """The locus executable under test: $LOCUS_BIN, else <repo>/build/locus."""
    env = os.environ.get("LOCUS_BIN")
    return Path(env) if env else REPO / "build" / "locus"


def helper_binary(name, env=None):
    """A test helper executable built beside locus (e.g. test_image): $env if set, else next to
    $LOCUS_BIN, else <repo>/build/NAME; None when none exists."""
    if env and os.environ.get(env):
        return Path(os.environ[env])
    cands = []
    if os.environ.get("LOCUS_BIN"):
        cands.append(Path(os.environ["LOCUS_BIN"]).parent / name)
    cands.append(REPO / "build" / name)
    return next((c for c in cands if c.exists()), None)


def require_locus():
    """The path of the locus executable, or skip the calling test with the reason."""
    path = locus_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"locus executable not found at {path} (build it with `make`, or set LOCUS_BIN)")
    return path


def run_locus(*args, input=None, timeout=None, cwd=None, check=False):
    """Run `locus ARGS...` (arguments are passed as they are, no shell) and return the CompletedProcess with
    text stdout/stderr. `input` (str) goes to standard input; otherwise standard input is empty. cwd defaults to
    the repository root, so paths relative to it (../shared/fixtures/...) work."""
    exe = require_locus()
    proc = subprocess.run([str(exe), *[str(a) for a in args]], input=input if input is not None else "",
                          capture_output=True, text=True, encoding="utf-8", errors="replace",
                          timeout=timeout or DEFAULT_TIMEOUT, cwd=str(cwd or REPO))
    if check and proc.returncode != 0:
        pytest.fail(describe_failure(args, proc), pytrace=False)
    return proc


def describe_failure(args, proc):
    cmd = "locus " + " ".join(str(a) for a in args)
    if len(cmd) > 300:
        cmd = cmd[:300] + " ..."
    err = proc.stderr.strip() or "(nothing on stderr)"
    if len(err) > 2000:
        err = err[:2000] + " ..."
    return f"`{cmd}` exited with status {proc.returncode}:\n{err}"


def run_json(*args, input=None, timeout=None, cwd=None):
    """Run locus, require exit status 0 and return its standard output parsed as one JSON document."""
    proc = run_locus(*args, input=input, timeout=timeout, cwd=cwd, check=True)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        out = proc.stdout if len(proc.stdout) < 1000 else proc.stdout[:1000] + " ..."
        pytest.fail(f"`locus {' '.join(str(a) for a in args)[:200]}` printed invalid JSON ({e}):\n{out}", pytrace=False)


def command_help(command):
    """Text of `locus COMMAND --help` (stdout and stderr together; empty when the binary is missing)."""
    exe = locus_path()
    if not exe.is_file():
        return ""
    proc = subprocess.run([str(exe), command, "--help"], capture_output=True, text=True, errors="replace",
                          timeout=60, stdin=subprocess.DEVNULL)
    return proc.stdout + proc.stderr


def data_items(doc, n, what="data"):
    """doc["data"], checked to hold n items whose "index" fields are 0..n-1 in order."""
    assert isinstance(doc, dict) and isinstance(doc.get(what), list), f"no '{what}' list in output: {str(doc)[:300]}"
    items = doc[what]
    assert len(items) == n, f"expected {n} items in '{what}', got {len(items)}"
    for i, item in enumerate(items):
        assert item.get("index") == i, f"item {i} has index {item.get('index')!r}"
    return items


# --------------------------------------------------------------------------------------------------
# Reading fixtures without the safetensors package (the format is an 8-byte little-endian header length,
# a JSON header, then the raw little-endian tensors).
# --------------------------------------------------------------------------------------------------
_ST_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32,
              "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def read_safetensors(path):
    """All tensors of a .safetensors file as {name: numpy array} (copies; metadata under "__metadata__" is
    dropped)."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = np.dtype(_ST_DTYPES[info["dtype"]]).newbyteorder("<")
        start, end = info["data_offsets"]
        arr = np.frombuffer(raw[base + start:base + end], dtype=dtype).reshape(info["shape"])
        out[name] = arr.astype(dtype.newbyteorder("="))
    return out


def model_fixture_names(kind=None, predicate=None):
    """Names of the fixtures under fixtures/models/ (each has expected.json), optionally of one kind
    ("text" or "vision") and matching predicate(meta)."""
    names = []
    if MODEL_FIXTURES.is_dir():
        for d in sorted(MODEL_FIXTURES.iterdir()):
            meta_path = d / "expected.json"
            if not meta_path.is_file():
                continue
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if kind and meta.get("kind") != kind:
                continue
            if predicate and not predicate(meta):
                continue
            names.append(d.name)
    return names


def load_model_fixture(name):
    """(directory, expected.json as a dict, expected.safetensors as numpy arrays) of fixtures/models/NAME."""
    d = MODEL_FIXTURES / name
    meta = json.loads((d / "expected.json").read_text(encoding="utf-8"))
    tensors = read_safetensors(d / "expected.safetensors")
    return d, meta, tensors


def max_abs_error(got, want, what):
    """Max |got - want| after checking the shapes agree (the message names `what`)."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    assert np.all(np.isfinite(got)), f"{what}: output has NaN or Inf"
    return float(np.max(np.abs(got - want))) if got.size else 0.0


def worst_position(got, want):
    """Index tuple of the largest |got - want|."""
    diff = np.abs(np.asarray(got, dtype=np.float64) - np.asarray(want, dtype=np.float64))
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))


@pytest.fixture(scope="session")
def repo_root():
    return REPO


@pytest.fixture(scope="session")
def locus_bin():
    return require_locus()
