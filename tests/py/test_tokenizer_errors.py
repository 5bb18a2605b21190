"""Bad input to `locus tokenize`: missing or malformed tokenizer.json (unknown component, bad merges,
bad charsmap, invalid UTF-8), text that is not UTF-8. Each must exit non-zero with one line on
standard error naming the file and the problem, never a crash (also run under ASan/UBSan by
scripts/test.sh). Where Hugging Face `tokenizers` is installed, it must reject the same files."""
import base64
import copy
import json
import os
import struct
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOCUS = os.environ.get("LOCUS_BIN", os.path.join(ROOT, "build", "locus"))
FIX = os.path.join(ROOT, "tests", "data", "tokenizers")


def run(args, stdin=b""):
    if not os.path.exists(LOCUS):
        pytest.skip(f"locus binary not built at {LOCUS}")
    return subprocess.run([LOCUS, "tokenize"] + args, input=stdin, capture_output=True, timeout=120)


def expect_error(r, *words):
    assert r.returncode in (1, 2), f"exit {r.returncode} (a crash is negative): {r.stderr!r}"
    err = r.stderr.decode("utf-8", errors="replace")
    assert err.count("\n") == 1 and err.endswith("\n"), f"want one line on stderr, got {err!r}"
    for w in words:
        assert w in err, f"{w!r} not in {err!r}"
    assert r.stdout == b"", "no partial output on failure"


def load(name):
    with open(os.path.join(FIX, name, "tokenizer.json"), encoding="utf-8") as f:
        return json.load(f)


def hf_rejects(path):
    try:
        from tokenizers import Tokenizer
    except ImportError:
        return
    with pytest.raises(Exception):
        Tokenizer.from_file(path)


def write(tmp_path, obj, raw=None):
    p = tmp_path / "tokenizer.json"
    if raw is not None:
        p.write_bytes(raw)
    else:
        p.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return str(p)


def test_missing_file(tmp_path):
    p = str(tmp_path / "nope")
    expect_error(run([p, "x"]), p)


def test_missing_tokenizer_in_dir(tmp_path):
    expect_error(run([str(tmp_path), "x"]), str(tmp_path))


@pytest.mark.parametrize("raw", [b"", b"{", b"[1,2]", b"{\"model\": 3}", b"\xff\xfe{}", b"{\"version\":\"2.0\",\"model\":{}}"])
def test_malformed_json(tmp_path, raw):
    p = write(tmp_path, None, raw)
    expect_error(run([p, "x"]), p)
    hf_rejects(p)


@pytest.mark.parametrize("where,kind", [("normalizer", "FancyNormalizer"), ("pre_tokenizer", "FancySplit"),
                                        ("post_processor", "FancyProcessor"), ("model", "FancyModel"),
                                        ("decoder", "FancyDecoder")])
def test_unknown_component_named(tmp_path, where, kind):
    j = load("wordpiece-bert")
    j[where] = {"type": kind, **({"vocab": {}} if where == "model" else {})}
    p = write(tmp_path, j)
    expect_error(run([p, "x"]), p, kind)
    hf_rejects(p)


def test_unknown_component_in_sequence(tmp_path):
    j = load("wordpiece-bert")
    j["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Mystery"}]}
    p = write(tmp_path, j)
    expect_error(run([p, "x"]), p, "Mystery")
    hf_rejects(p)


@pytest.mark.parametrize("merge", ["a b c", "nosuchtoken zzzqqq", ["Ġ", "notthere"], 17])
def test_bad_merges(tmp_path, merge):
    j = load("bpe-bytelevel-roberta")
    j["model"]["merges"] = j["model"]["merges"][:10] + [merge]
    p = write(tmp_path, j)
    expect_error(run([p, "x"]), p, "merge 11")
    hf_rejects(p)


def test_bad_regex(tmp_path):
    j = load("split-behaviors")
    j["pre_tokenizer"]["pretokenizers"][1]["pattern"] = {"Regex": "(unclosed"}
    p = write(tmp_path, j)
    expect_error(run([p, "x"]), p, "regular expression")
    hf_rejects(p)


def _charsmap_fixture():
    j = load("spm-xlmr-unigram-precompiled")
    norms = j["normalizer"]["normalizers"] if j["normalizer"]["type"] == "Sequence" else [j["normalizer"]]
    pc = next(n for n in norms if n["type"] == "Precompiled")
    return j, pc


@pytest.mark.parametrize("mangle", ["not base64!", "QUJD", base64.b64encode(struct.pack("<I", 1 << 30)).decode()])
def test_bad_charsmap_at_load(tmp_path, mangle):
    j, pc = _charsmap_fixture()
    pc["precompiled_charsmap"] = mangle
    p = write(tmp_path, j)
    expect_error(run([p, "x"]), p, "charsmap")


def test_corrupt_charsmap_trie(tmp_path):
    """A trie whose offsets point outside its units: an error when text reaches it, no crash."""
    j, pc = _charsmap_fixture()
    blob = bytearray(base64.b64decode(pc["precompiled_charsmap"]))
    n_units = struct.unpack_from("<I", blob, 0)[0] // 4
    for i in range(1, n_units):
        struct.pack_into("<I", blob, 4 + 4 * i, 0xFFFFFC00 | (struct.unpack_from("<I", blob, 4 + 4 * i)[0] & 0x3FF))
    pc["precompiled_charsmap"] = base64.b64encode(bytes(blob)).decode()
    p = write(tmp_path, j)
    r = run([p, "ｆｕｌｌｗｉｄｔｈ ｔｅｘｔ"])
    if r.returncode == 0:
        return  # the text never reached a corrupt unit
    expect_error(r, "charsmap")


def test_invalid_utf8_in_file(tmp_path):
    raw = json.dumps(load("wordpiece-bert")).encode().replace(b'"[UNK]"', b'"[UNK\xff]"', 1)
    p = write(tmp_path, None, raw)
    expect_error(run([p, "x"]), p, "UTF-8")
    hf_rejects(p)


def test_text_not_utf8():
    p = os.path.join(FIX, "wordpiece-bert", "tokenizer.json")
    expect_error(run([p], b"fine\nbad \xc3\x28 text\n"), "line 2", "UTF-8")
    expect_error(run([p], b"nul \x00 inside\n"), "line 1")


def test_empty_input_is_empty_list():
    p = os.path.join(FIX, "wordpiece-bert", "tokenizer.json")
    r = run([p], b"")
    assert r.returncode == 0 and json.loads(r.stdout) == {"data": []}


def test_unk_missing_from_vocab(tmp_path):
    j = load("wordpiece-bert")
    j["model"]["unk_token"] = "<nope>"
    p = write(tmp_path, j)
    r = run([p, "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"])
    expect_error(r, "<nope>")
