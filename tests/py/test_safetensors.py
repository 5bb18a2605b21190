"""safetensors loader against the reference implementation (the `safetensors` Python package).

Files are written by safetensors.torch / safetensors.numpy and by transformers' save_pretrained
(sharded), read by locus through the helper mode of the unit-test binary
(`test_safetensors --dump FILE OUTDIR`), and compared value for value. Hostile files: mutations of
a valid file; locus must never accept a file the reference rejects, and when both accept, the
values must agree.
"""
import json
import os
import random
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

st_numpy = pytest.importorskip("safetensors.numpy")
from safetensors import safe_open  # noqa: E402

try:  # torch writes the dtypes numpy lacks (bfloat16, float8); tests that need it skip without it
    import torch
    import safetensors.torch as safetensors_torch
except ImportError:
    torch = safetensors_torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed (needed for bf16/f8 files)")


def _binary():
    explicit = os.environ.get("LOCUS_TEST_SAFETENSORS")
    if explicit:
        return Path(explicit)
    root = Path(__file__).resolve().parents[2]
    candidates = []
    if os.environ.get("LOCUS_BIN"):
        candidates.append(Path(os.environ["LOCUS_BIN"]).parent / "test_safetensors")
    candidates.append(root / "build" / "test_safetensors")
    for c in candidates:
        if c.exists():
            return c
    return None


BIN = _binary()
pytestmark = pytest.mark.skipif(BIN is None, reason="test_safetensors binary not built (set LOCUS_BIN)")


def run_dump(path, outdir):
    """-> (ok, records, stderr); records: list of (name, dtype, shape, values or None)."""
    outdir = Path(outdir)
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    p = subprocess.run([str(BIN), "--dump", str(path), str(outdir)], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return False, None, p.stderr
    recs = []
    for line in p.stdout.splitlines():
        idx, name, dtype, shape = line.split("\t")
        shape = tuple(int(x) for x in shape.split(",")) if shape else ()
        f = outdir / f"{idx}.bin"
        vals = None
        if f.exists():
            kind = np.float32 if dtype in ("F32", "F16", "BF16") else np.int64
            vals = np.fromfile(f, dtype=kind).reshape(shape)
        recs.append((name, dtype, shape, vals))
    return True, recs, p.stderr


LOADED = ({torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32",
           torch.int64: "I64"} if torch else {})


def make_tensors(seed=0):
    g = torch.Generator().manual_seed(seed)
    t = {
        "encoder.layer.0.attention.self.query.weight": torch.randn(64, 48, generator=g),
        "encoder.layer.0.attention.self.query.bias": torch.randn(64, generator=g),
        "half": torch.randn(7, 3, generator=g).half(),
        "brain": torch.randn(5, 2, 3, generator=g).bfloat16(),
        "ids": torch.randint(-(2**31), 2**31 - 1, (11,), generator=g, dtype=torch.int32),
        "big_ids": torch.randint(-(2**62), 2**62, (2, 3), generator=g, dtype=torch.int64),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 5),
        "bytes": torch.randint(0, 255, (9,), generator=g, dtype=torch.uint8),
        "mask": torch.rand(4, generator=g) > 0.5,
        "doubles": torch.randn(3, generator=g, dtype=torch.float64),
        "shorts": torch.randint(-100, 100, (3,), generator=g, dtype=torch.int16),
        "tiny": torch.randn(6, generator=g).to(torch.float8_e4m3fn),
        "odd": torch.randn(1, 1, 1, 1, 1, 1, 1, 3, generator=g),
        "n\u00e4me/with.\u4e2d\u6587": torch.randn(2, generator=g),
    }
    # Special float values survive bit for bit.
    t["specials"] = torch.tensor([float("inf"), float("-inf"), -0.0, 1e-40, 3.4e38])
    return t


def check_against(recs, tensors):
    got = {r[0]: r for r in recs}
    assert set(got) == set(tensors)
    for name, ref in tensors.items():
        _, dtype, shape, vals = got[name]
        assert shape == tuple(ref.shape), name
        if ref.dtype in LOADED:
            assert dtype == LOADED[ref.dtype]
            assert vals is not None, f"{name}: not loaded"
            if ref.dtype.is_floating_point:
                exp = ref.float().numpy()
                assert np.array_equal(vals.view(np.uint32), exp.view(np.uint32)), name
            else:
                assert np.array_equal(vals, ref.numpy().astype(np.int64)), name
        else:
            assert vals is None, f"{name}: dtype {dtype} should be unsupported"


@needs_torch
def test_torch_written_file(tmp_path):
    tensors = make_tensors()
    path = tmp_path / "model.safetensors"
    safetensors_torch.save_file(tensors, str(path), metadata={"format": "pt"})
    ok, recs, err = run_dump(path, tmp_path / "out")
    assert ok, err
    check_against(recs, tensors)


def test_numpy_written_file(tmp_path):
    st_np = st_numpy
    rng = np.random.default_rng(1)
    arrays = {"a": rng.standard_normal((3, 4)).astype(np.float32), "b": rng.integers(0, 9, (5,)).astype(np.int64),
              "c": rng.standard_normal((2, 2)).astype(np.float16)}
    path = tmp_path / "np.safetensors"
    st_np.save_file(arrays, str(path))
    ok, recs, err = run_dump(path, tmp_path / "out")
    assert ok, err
    got = {r[0]: r[3] for r in recs}
    for k, v in arrays.items():
        assert np.array_equal(got[k], v.astype(got[k].dtype)), k


@needs_torch
def test_transformers_sharded_checkpoint(tmp_path):
    transformers = pytest.importorskip("transformers")
    cfg = transformers.BertConfig(vocab_size=300, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=64, max_position_embeddings=64)
    torch.manual_seed(0)
    model = transformers.BertModel(cfg)
    model.save_pretrained(str(tmp_path / "m"), max_shard_size="20KB", safe_serialization=True)
    index = tmp_path / "m" / "model.safetensors.index.json"
    if not index.exists():
        pytest.skip("this transformers version wrote no sharded checkpoint")
    weight_map = json.loads(index.read_text())["weight_map"]
    assert len(set(weight_map.values())) > 1
    ok, recs, err = run_dump(tmp_path / "m", tmp_path / "out")
    assert ok, err
    got = {r[0]: r[3] for r in recs}
    assert set(got) == set(weight_map)
    for shard in set(weight_map.values()):
        with safe_open(str(tmp_path / "m" / shard), "pt") as f:
            for k in f.keys():
                assert np.array_equal(got[k], f.get_tensor(k).float().numpy()), k
    # An index naming a shard that is gone is an error that names it.
    os.remove(tmp_path / "m" / sorted(set(weight_map.values()))[-1])
    ok, _, err = run_dump(tmp_path / "m", tmp_path / "out")
    assert not ok and sorted(set(weight_map.values()))[-1] in err


def reference_reads(path):
    try:
        with safe_open(str(path), "np") as f:
            return {k: f.get_tensor(k) for k in f.keys()}
    except Exception:
        return None


def one_line_naming(err, path):
    lines = [l for l in err.splitlines() if l.strip()]
    return len(lines) == 1 and str(path) in lines[0]


def test_hostile_files(tmp_path):
    good = tmp_path / "good.safetensors"
    st_numpy.save_file({"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.arange(3, dtype=np.int64)},
                       str(good))
    raw = good.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    cases = {
        "truncated_data": raw[:-5],
        "truncated_header": raw[: 8 + n // 2],
        "only_length": raw[:8],
        "short": raw[:3],
        "empty": b"",
        "length_past_end": struct.pack("<Q", len(raw)) + raw[8:],
        "length_huge": struct.pack("<Q", 2**64 - 1) + raw[8:],
        "length_over_limit": struct.pack("<Q", 100 * 1024 * 1024 + 1) + raw[8:],
        "json_array": None,
        "invalid_json": None,
    }

    def with_header(h, data=raw[8 + n:], pad=True):
        text = json.dumps(h) if not isinstance(h, (bytes, str)) else h
        if isinstance(text, str):
            text = text.encode()
        if pad:
            text += b" " * ((8 - len(text) % 8) % 8)
        return struct.pack("<Q", len(text)) + text + data

    cases["json_array"] = with_header("[1, 2]")
    cases["invalid_json"] = with_header('{"w": {"dtype": "F32", ')

    def mutate(fn):
        h = json.loads(json.dumps(header))
        fn(h)
        return with_header(h)

    cases["reversed_offsets"] = mutate(lambda h: h["w"].__setitem__("data_offsets", h["w"]["data_offsets"][::-1]))
    cases["offsets_out_of_range"] = mutate(lambda h: h["w"].__setitem__(
        "data_offsets", [h["w"]["data_offsets"][0] + 1000, h["w"]["data_offsets"][1] + 1000]))
    cases["overlapping"] = mutate(lambda h: h["b"].__setitem__("data_offsets", h["w"]["data_offsets"][:1] + [
        h["w"]["data_offsets"][0] + 24]))
    cases["shape_mismatch"] = mutate(lambda h: h["w"].__setitem__("shape", [4, 4]))
    cases["dtype_mismatch"] = mutate(lambda h: h["w"].__setitem__("dtype", "F16"))
    cases["shape_overflow"] = mutate(lambda h: h["w"].__setitem__("shape", [2**32, 2**32, 2**10]))
    cases["negative_dim"] = mutate(lambda h: h["w"].__setitem__("shape", [-3, -4]))
    cases["unknown_dtype"] = mutate(lambda h: h["w"].__setitem__("dtype", "F31"))
    cases["not_covering"] = with_header(header, raw[8 + n:] + b"\0" * 8)
    cases["duplicate_keys"] = with_header(
        '{"w": %s, "w": %s, "b": %s}' % (json.dumps(header["w"]), json.dumps(header["w"]), json.dumps(header["b"])))
    cases["non_utf8_name"] = with_header(json.dumps(header).replace('"w"', '"w\\u00ff"').encode().replace(
        b"\\u00ff", b"\xff"))
    cases["tensor_not_object"] = mutate(lambda h: h.__setitem__("w", [1, 2]))
    cases["metadata_not_strings"] = mutate(lambda h: h.__setitem__("__metadata__", {"a": 1}))

    for name, data in cases.items():
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(data)
        ok, _, err = run_dump(path, tmp_path / "out")
        assert not ok, f"{name}: accepted"
        assert one_line_naming(err, path), f"{name}: {err!r}"
        assert "AddressSanitizer" not in err and "runtime error" not in err, err
        if name != "duplicate_keys":  # serde keeps the last duplicate; locus refuses
            assert reference_reads(path) is None, f"{name}: the reference accepts it"

    ok, _, err = run_dump(tmp_path / "missing.safetensors", tmp_path / "out")
    assert not ok and one_line_naming(err, tmp_path / "missing.safetensors")


def test_random_mutations_never_accept_what_reference_rejects(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {"a": rng.standard_normal((4, 3)).astype(np.float32), "b": np.arange(5, dtype=np.int32),
               "c": rng.standard_normal(2).astype(np.float16)}
    good = tmp_path / "good.safetensors"
    st_numpy.save_file(tensors, str(good))
    raw = good.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    rng = random.Random(1234)
    count = int(os.environ.get("LOCUS_MUTATIONS", "150"))
    both_ok = 0
    for i in range(count):
        data = bytearray(raw)
        kind = rng.randrange(4)
        if kind == 0:  # flip a byte in the header
            pos = 8 + rng.randrange(n)
            data[pos] = rng.randrange(256)
        elif kind == 1:  # replace a digit in the header by another
            digits = [j for j in range(8, 8 + n) if chr(data[j]).isdigit()]
            pos = rng.choice(digits)
            data[pos] = ord(str(rng.randrange(10)))
        elif kind == 2:  # truncate or extend
            data = data[: rng.randrange(len(data))] if rng.random() < 0.5 else data + bytes(rng.randrange(1, 16))
        else:  # corrupt the length field
            data[rng.randrange(8)] = rng.randrange(256)
        path = tmp_path / f"m{i}.safetensors"
        path.write_bytes(bytes(data))
        ref = reference_reads(path)
        ok, recs, err = run_dump(path, tmp_path / "out")
        assert "AddressSanitizer" not in err and "runtime error" not in err, err
        if ref is None:
            assert not ok, f"mutation {i} (kind {kind}) accepted by locus, rejected by the reference"
        if ok:
            assert ref is not None
            got = {r[0]: r[3] for r in recs}
            assert set(got) == set(ref)
            for k, v in ref.items():
                assert np.array_equal(got[k].view(np.uint32) if v.dtype == np.float32 else got[k],
                                      v.view(np.uint32) if v.dtype == np.float32 else v.astype(got[k].dtype)), k
            both_ok += 1
        else:
            assert one_line_naming(err, path), err
        path.unlink()
    assert both_ok > 0  # some mutations (e.g. in names) leave a valid file
