"""Seeded random texts built from the pieces where tokenizers are most delicate (added tokens with
lstrip/rstrip/single_word next to spaces and word characters, special-token look-alikes, combining
marks, ZWJ, digits, apostrophes, Metaspace's ▁, wide and narrow spaces), through `locus tokenize`
and Hugging Face `tokenizers`, for every fixture: identical ids."""
import glob
import json
import os
import random
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOCUS = os.environ.get("LOCUS_BIN", os.path.join(ROOT, "build", "locus"))
FIX = os.path.join(ROOT, "tests", "data", "tokenizers")

tokenizers = pytest.importorskip("tokenizers", reason="Hugging Face tokenizers (pip) is the oracle")

PIECES = ["<mask>", " <mask>", "<mask> ", "[MASK]", "[CLS]", "[SEP]", "<s>", "</s>", "<|endoftext|>", "quick",
          "Hello", "hello", "tokenization", "Tokenization", "NoNorm", "nonorm", "Ünï", "ünï", "uni", "<sep>", "cafe",
          "café", "cafe\u0301", "[NEW]", " ", " ", "  ", "\t", "\u3000", "\u00a0", "a", "b", "é", "e\u0301", "1", "12",
          "2024", "-", "--", "'s", "'re", "'", "中", "文", "😀", "👩\u200d💻", "\u200d", "\u200b", "İ", "ﬁ", "``", "▁",
          "_", ".", ",", "!", "?", "ß", "Σ", "ς", "x" * 40, "\u0301", "\ufeff", "\u0085", "\u2028"]


def random_lines(n=3000, seed=7):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(0, 14)
        out.append("".join(rng.choice(PIECES) for _ in range(k)))
    return out


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(FIX, "*", "tokenizer.json"))),
                         ids=lambda p: os.path.basename(os.path.dirname(p)))
def test_random_pieces(path):
    if not os.path.exists(LOCUS):
        pytest.skip(f"locus binary not built at {LOCUS}")
    lines = random_lines()
    tok = tokenizers.Tokenizer.from_file(path)
    tok.no_padding()
    want = [e.ids for e in tok.encode_batch(lines)]
    r = subprocess.run([LOCUS, "tokenize", path], input=("\n".join(lines) + "\n").encode(), capture_output=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    got = [d["input_ids"] for d in json.loads(r.stdout)["data"]]
    assert len(got) == len(lines)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"line {i}: {lines[i]!r}\n  locus {g}\n  hf    {w}\n  {tok.encode(lines[i]).tokens}"
