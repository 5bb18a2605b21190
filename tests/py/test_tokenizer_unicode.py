r"""Every Unicode code point through `locus tokenize` and Hugging Face `tokenizers`: lines of 48
consecutive code points (NUL, LF, CR and surrogates left out), with a letter between them so that
each character meets both neighbours, for tokenizers whose normalizers and pre-tokenizers classify
characters (BERT, byte-level BPE, Unigram with NFKC / Precompiled, Whitespace, Digits...).

Regex patterns (Split, Replace) run on the system's Oniguruma; Debian's 6.9.8 knows Unicode 14,
while the copy built into `tokenizers` knows Unicode 16. For fixtures whose regexes use Unicode
classes (\d, \p{L}...), the sweep leaves out code points assigned after Unicode 14 (those this
Python's unicodedata, 14.0 in Python 3.11, calls unassigned), a documented limitation."""
import json
import os
import subprocess
import unicodedata

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOCUS = os.environ.get("LOCUS_BIN", os.path.join(ROOT, "build", "locus"))
FIX = os.path.join(ROOT, "tests", "data", "tokenizers")

tokenizers = pytest.importorskip("tokenizers", reason="Hugging Face tokenizers (pip) is the oracle")


def sweep_lines(step=48, assigned_only=False):
    cps = [c for c in range(1, 0x110000) if c not in (0xA, 0xD) and not 0xD800 <= c <= 0xDFFF]
    if assigned_only:
        cps = [c for c in cps if unicodedata.category(chr(c)) != "Cn"]
    lines = []
    for i in range(0, len(cps), step):
        chunk = cps[i:i + step]
        lines.append("".join(chr(c) for c in chunk))
        lines.append("x".join(chr(c) for c in chunk) + " " + " ".join(chr(c) + "a" for c in chunk))
    return lines


REGEX_CLASSES = {"unigram-byte-fallback", "bpe-ignore-merges-split"}  # Replace(\d+), Split(\p{L}...)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["wordpiece-bert", "wordpiece-cased", "bpe-bytelevel-roberta", "bpe-prefix-suffix",
                                  "unigram-byte-fallback", "split-behaviors", "spm-xlmr-unigram-precompiled",
                                  "unigram-misc", "bpe-bytelevel-noregex", "bpe-ignore-merges-split",
                                  "unigram-metaspace", "bpe-byte-fallback"])
def test_all_code_points(name):
    path = os.path.join(FIX, name, "tokenizer.json")
    if not os.path.exists(path):
        pytest.skip(f"fixture {name} missing: run scripts/gen_tokenizers.py")
    if not os.path.exists(LOCUS):
        pytest.skip(f"locus binary not built at {LOCUS}")
    lines = sweep_lines(assigned_only=name in REGEX_CLASSES)
    tok = tokenizers.Tokenizer.from_file(path)
    tok.no_padding()
    tok.no_truncation()
    want = [e.ids for e in tok.encode_batch(lines)]
    r = subprocess.run([LOCUS, "tokenize", path, "--max-length", "0"], input=("\n".join(lines) + "\n").encode(),
                       capture_output=True, timeout=900)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    got = [d["input_ids"] for d in json.loads(r.stdout)["data"]]
    bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    if bad:
        i = bad[0]
        k = next((j for j in range(min(len(got[i]), len(want[i]))) if got[i][j] != want[i][j]), 0)
        enc = tok.encode(lines[i])
        pytest.fail(f"{name}: {len(bad)} of {len(lines)} lines differ; first: line {i} starting U+{ord(lines[i][0]):04X}, "
                    f"token {k}: locus {got[i][k:k + 4]} hf {want[i][k:k + 4]} {enc.tokens[k:k + 4]} "
                    f"near {lines[i][max(0, enc.offsets[k][0] - 2):enc.offsets[k][1] + 2]!r}")
