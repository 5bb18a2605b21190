"""Bad input to the model commands (embed, classify, tokenize): every case exits non-zero with one line on
standard error that names the file or argument and the problem, and never crashes (a signal, or an ASan/UBSan
report in the sanitizer pass, fails the test)."""
import json
import os
import shutil
import struct
import subprocess

import pytest

from conftest import MODEL_FIXTURES, require_locus

GOOD = MODEL_FIXTURES / "bert-tiny-uncased"


def run_raw(args, stdin=b""):
    exe = require_locus()
    return subprocess.run([str(exe), *map(str, args)], input=stdin, capture_output=True, timeout=300)


def assert_clean_failure(proc, *needles):
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode not in (0,) and proc.returncode > 0, f"expected failure, got {proc.returncode}: {err}"
    assert "AddressSanitizer" not in err and "runtime error" not in err, err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"
    assert proc.stdout == b"", "no partial output on failure"


@pytest.fixture
def model_copy(tmp_path):
    if not GOOD.is_dir():
        pytest.skip("fixture bert-tiny-uncased missing")
    d = tmp_path / "m"
    shutil.copytree(GOOD, d)
    for f in ("expected.json", "expected.safetensors"):
        if (d / f).exists():
            (d / f).unlink()
    return d


def test_missing_directory(tmp_path):
    missing = tmp_path / "nope"
    assert_clean_failure(run_raw(["embed", missing, "hi"]), str(missing))


def test_missing_config(model_copy):
    (model_copy / "config.json").unlink()
    assert_clean_failure(run_raw(["embed", model_copy, "hi"]), "config.json", "cannot open")


def test_invalid_config_json(model_copy):
    (model_copy / "config.json").write_text('{"model_type": "bert", "hidden_size": ')
    assert_clean_failure(run_raw(["embed", model_copy, "hi"]), "config.json", "invalid JSON")


def test_unknown_model_type(model_copy):
    cfg = json.loads((model_copy / "config.json").read_text())
    cfg["model_type"] = "gpt2"
    (model_copy / "config.json").write_text(json.dumps(cfg))
    assert_clean_failure(run_raw(["embed", model_copy, "hi"]), "gpt2", "not supported")


def test_unknown_architecture(model_copy):
    cfg = json.loads((model_copy / "config.json").read_text())
    cfg["architectures"] = ["BertForQuestionAnswering"]
    (model_copy / "config.json").write_text(json.dumps(cfg))
    assert_clean_failure(run_raw(["classify", model_copy, "hi"]), "BertForQuestionAnswering")


def test_config_disagrees_with_weights(model_copy):
    cfg = json.loads((model_copy / "config.json").read_text())
    cfg["hidden_size"] = cfg["hidden_size"] * 2
    cfg["num_attention_heads"] = 1
    (model_copy / "config.json").write_text(json.dumps(cfg))
    assert_clean_failure(run_raw(["embed", model_copy, "hi"]), "shape")


def test_inconsistent_heads(model_copy):
    cfg = json.loads((model_copy / "config.json").read_text())
    cfg["num_attention_heads"] = cfg["hidden_size"] + 1
    (model_copy / "config.json").write_text(json.dumps(cfg))
    assert_clean_failure(run_raw(["embed", model_copy, "hi"]), "config.json")


@pytest.mark.parametrize("key,text,needle", [
    ("hidden_size", "1e300", "inconsistent sizes"),            # beyond any integer type
    ("num_hidden_layers", "-1e999", "inconsistent sizes"),     # -infinity as JSON writes it
    ("vocab_size", "-5", "vocab -5"),
    ("max_position_embeddings", "0", "positions 0"),
    ("layer_norm_eps", "1e999", "layer_norm_eps"),             # infinite: LayerNorm would return its bias
    ("layer_norm_eps", "-1e-12", "layer_norm_eps"),
    ("layer_norm_eps", "1e300", "layer_norm_eps"),             # finite as a double, not as a float
])
def test_out_of_range_config_numbers(model_copy, key, text, needle):
    cfg = json.loads((model_copy / "config.json").read_text())
    cfg[key] = "@@"
    (model_copy / "config.json").write_text(json.dumps(cfg).replace('"@@"', text))
    assert_clean_failure(run_raw(["embed", model_copy, "hi"]), "config.json", needle)


def test_truncated_safetensors(model_copy):
    p = model_copy / "model.safetensors"
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    assert_clean_failure(run_raw(["embed", model_copy, "hi"]), "model.safetensors")


def test_missing_tensor(model_copy):
    # Rename one LayerNorm weight (still a valid safetensors file, now an incomplete model).
    p = model_copy / "model.safetensors"
    raw = p.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    victim = next(k for k in header if k.endswith("output.LayerNorm.weight"))
    header["renamed." + victim] = header.pop(victim)
    hb = json.dumps(header).encode()
    hb += b" " * (-len(hb) % 8)
    p.write_bytes(struct.pack("<Q", len(hb)) + hb + raw[8 + n :])
    assert_clean_failure(run_raw(["embed", model_copy, "hi"]), victim)


def test_non_utf8_text_argument(model_copy):
    exe = require_locus()
    proc = subprocess.run([str(exe), "embed", str(model_copy), b"caf\xe9"], capture_output=True, timeout=300)
    assert_clean_failure(proc, "UTF-8")


def test_non_utf8_stdin_line(model_copy):
    assert_clean_failure(run_raw(["embed", model_copy], stdin=b"fine\nbad \xff\xfe line\n"), "line 2", "UTF-8")


def test_bad_options(model_copy):
    assert_clean_failure(run_raw(["embed", model_copy, "--pooling", "median", "hi"]), "--pooling")
    assert_clean_failure(run_raw(["embed", model_copy, "--batch", "0", "hi"]), "--batch")
    assert_clean_failure(run_raw(["embed", model_copy, "--dtype", "f8", "hi"]), "f8")
    assert_clean_failure(run_raw(["classify", model_copy, "hi"]), "no classification head")


def test_classify_text_model_rejects_pixel_values(tmp_path):
    d = MODEL_FIXTURES / "bert-cls"
    if not d.is_dir():
        pytest.skip("fixture bert-cls missing")
    assert_clean_failure(run_raw(["classify", d, "--pixel-values", tmp_path / "x.npy", "hi"]), "--pixel-values")


def test_bad_pixel_values_file(tmp_path):
    d = next((p for p in sorted(MODEL_FIXTURES.glob("vit-tiny-*")) if p.is_dir()), None)
    if d is None:
        pytest.skip("no ViT fixture")
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f8'}")
    assert_clean_failure(run_raw(["classify", d, "--pixel-values", bad]), str(bad))
    wrong = tmp_path / "wrong.npy"
    import numpy as np

    np.save(wrong, np.zeros((1, 3, 5, 5), dtype=np.float32))
    assert_clean_failure(run_raw(["classify", d, "--pixel-values", wrong]), "pixel_values")


def test_corrupt_image(tmp_path):
    d = next((p for p in sorted(MODEL_FIXTURES.glob("vit-tiny-*")) if p.is_dir()), None)
    if d is None:
        pytest.skip("no ViT fixture")
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert_clean_failure(run_raw(["classify", d, bad]), str(bad))
