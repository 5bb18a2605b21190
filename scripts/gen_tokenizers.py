#!/usr/bin/env python3
"""Builds the tokenizer.json fixtures of the differential tests (tests/data/tokenizers/NAME/) with the
Hugging Face `tokenizers` trainers, SentencePiece conversions and by hand, covering every component
locus implements. Small files, committed; regenerate with

    python3 scripts/gen_tokenizers.py                 # all fixtures
    python3 scripts/gen_tokenizers.py --unicode-compat  # also src/tokenizer/unicode_compat.h

    python3 scripts/gen_tokenizers.py --only NAME       # one fixture

Needs `tokenizers`; the XLM-R-style fixture (a SentencePiece Unigram model with the nmt_nfkc
Precompiled charsmap, converted the way `transformers` converts XLM-R) also needs `sentencepiece`
and `transformers`, and is skipped without them. Training text comes from
tests/data/corpus/tokenizer_corpus.txt; some trainers break ties differently from run to run, so a
regenerated fixture may differ slightly from the committed one (either is a valid test input).

unicode_compat.h is tied to the `tokenizers` version that generated it (0.23.3 for the committed
file): after upgrading the oracle, regenerate it with --only-unicode-compat.
"""
import argparse
import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "tokenizers")
CORPUS = os.path.join(ROOT, "tests", "data", "corpus", "tokenizer_corpus.txt")


def training_text():
    with open(CORPUS, encoding="utf-8", newline="\n") as f:
        lines = f.read().split("\n")
    extra = ("the quick brown fox jumps over the lazy dog and tokenization of words into subwords "
             "is what a tokenizer does while playing running jumped happily unbelievable ") * 20
    return [l for l in lines if l] + [extra]


ONLY = None  # --only NAME: write that fixture alone


def save(tok, name, edit=None):
    if ONLY and name != ONLY:
        return
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "tokenizer.json")
    tok.save(p)
    if edit:
        with open(p, encoding="utf-8") as f:
            j = json.load(f)
        edit(j)
        with open(p, "w", encoding="utf-8") as f:
            json.dump(j, f, ensure_ascii=False, indent=1)
        from tokenizers import Tokenizer
        Tokenizer.from_file(p)  # still loads
    print("wrote", p, os.path.getsize(p), "bytes")


def added(content, **kw):
    from tokenizers import AddedToken
    return AddedToken(content, **kw)
# ---------------------------------------------------------------------------------------------
# Unicode classes as `tokenizers` sees them -> src/tokenizer/unicode_compat.h
# ---------------------------------------------------------------------------------------------
UTF8PROC_CATS = dict(Cn=0, Lu=1, Ll=2, Lt=3, Lm=4, Lo=5, Mn=6, Mc=7, Me=8, Nd=9, Nl=10, No=11, Pc=12, Pd=13,
                     Ps=14, Pe=15, Pi=16, Pf=17, Po=18, Sm=19, Sc=20, Sk=21, So=22, Zs=23, Zl=24, Zp=25,
                     Cc=26, Cf=27, Cs=28, Co=29)


def _utf8proc():
    import ctypes
    import ctypes.util
    lib = ctypes.CDLL(ctypes.util.find_library("utf8proc") or "libutf8proc.so.2")
    lib.utf8proc_category.restype = ctypes.c_int
    lib.utf8proc_tolower.restype = ctypes.c_int32
    lib.utf8proc_version.restype = ctypes.c_char_p
    for fn in ("utf8proc_NFD", "utf8proc_NFC", "utf8proc_NFKD", "utf8proc_NFKC"):
        getattr(lib, fn).restype = ctypes.c_void_p
        getattr(lib, fn).argtypes = [ctypes.c_char_p]
    lib.free = ctypes.CDLL(None).free
    lib.free.argtypes = [ctypes.c_void_p]
    return lib


def _chunks(cps, n=40000):
    for i in range(0, len(cps), n):
        yield cps[i:i + n]


def unicode_compat(out_path):
    """Asks `tokenizers` how it classifies every code point and lists where utf8proc disagrees."""
    import ctypes
    from tokenizers import normalizers as N, pre_tokenizers as P
    u = _utf8proc()
    cps = [c for c in range(0x80, 0x110000) if not 0xd800 <= c <= 0xdfff]
    cat = {c: u.utf8proc_category(c) for c in cps}
    C = UTF8PROC_CATS
    flips = {k: [] for k in ("other", "punct", "mn", "mark", "numeric", "word", "letter", "number")}
    lower = []

    def per_char_norm(norm, sep="|"):
        res = {}
        for ch in _chunks([c for c in cps if chr(c) != sep]):
            parts = norm.normalize_str(sep.join(chr(c) for c in ch)).split(sep)
            assert len(parts) == len(ch)
            res.update(zip(ch, parts))
        return res

    def isolated(pre, fmt, width, at):
        """Code points whose character comes out as its own piece in fmt (a format with one {})."""
        res = {}
        for ch in _chunks(cps, 20000):
            s = "".join(fmt.format(chr(c)) for c in ch)
            spans = {off for _, off in pre.pre_tokenize_str(s)}
            for i, c in enumerate(ch):
                res[c] = (i * width + at, i * width + at + 1) in spans
        return res

    def covered(pre, fmt, width, lo, hi):
        res = {}
        for ch in _chunks(cps, 20000):
            s = "".join(fmt.format(chr(c)) for c in ch)
            spans = {off for _, off in pre.pre_tokenize_str(s)}
            for i, c in enumerate(ch):
                res[c] = (i * width + lo, i * width + hi) in spans
        return res

    # BertNormalizer clean_text: removes `is_other` (Cc Cf Co Cs in unicode_categories' tables)
    clean = per_char_norm(N.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False,
                                           lowercase=False))
    for c, r in clean.items():
        hf = r == "" and c != 0xfffd
        raw = cat[c] in (C["Cc"], C["Cf"], C["Cs"], C["Co"])
        if hf != raw:
            flips["other"].append((c, hf))
    # BertPreTokenizer: punctuation is isolated
    punct = isolated(P.BertPreTokenizer(), "a{}a", 3, 1)
    for c, hf in punct.items():
        raw = C["Pc"] <= cat[c] <= C["Po"]
        if hf != raw and not chr(c).isspace():
            flips["punct"].append((c, hf))
    # Mn as BertNormalizer's strip_accents filters it (characters that NFD leaves alone)
    strip = per_char_norm(N.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True,
                                           lowercase=False))
    nfd_diff = []
    for c, r in strip.items():
        p = u.utf8proc_NFD(chr(c).encode())
        nfd = ctypes.string_at(p).decode()
        u.free(p)
        if nfd != chr(c):
            continue
        hf = r == ""
        if hf != (cat[c] == C["Mn"]):
            flips["mn"].append((c, hf))
    # StripAccents: removes combining marks (Mn Mc Me)
    sa = per_char_norm(N.StripAccents())
    for c, r in sa.items():
        if (r == "") != (cat[c] in (C["Mn"], C["Mc"], C["Me"])):
            flips["mark"].append((c, r == ""))
    # Digits(individual_digits): char::is_numeric isolated
    num = isolated(P.Digits(individual_digits=True), "a{}a", 3, 1)
    for c, hf in num.items():
        if hf != (cat[c] in (C["Nd"], C["Nl"], C["No"])):
            flips["numeric"].append((c, hf))
    # Whitespace: \w (regex crate) joins the preceding "a"
    word = covered(P.Whitespace(), "a{} ", 3, 0, 2)
    for c, hf in word.items():
        raw = C["Lu"] <= cat[c] <= C["Nd"] or cat[c] in (C["Nl"], C["Pc"]) or c in (0x200C, 0x200D)
        if hf != raw:
            flips["word"].append((c, hf))
    # ByteLevel's GPT-2 pattern (Oniguruma \p{L} and \p{N})
    bl = P.ByteLevel(add_prefix_space=False, use_regex=True)
    letter = covered(bl, "a{}\x01", 3, 0, 2)
    number = covered(bl, "1{}\x01", 3, 0, 2)
    for c in cps:
        if letter[c] != (C["Lu"] <= cat[c] <= C["Lo"]):
            flips["letter"].append((c, letter[c]))
        if number[c] != (cat[c] in (C["Nd"], C["Nl"], C["No"])):
            flips["number"].append((c, number[c]))
    # Lowercase: Rust char::to_lowercase
    low = per_char_norm(N.Lowercase())
    for c, r in low.items():
        mine = "i\u0307" if c == 0x130 else chr(u.utf8proc_tolower(c))
        if r != mine:
            if len(r) != 1:
                print(f"warning: lowercase of U+{c:04X} is {len(r)} characters; not representable")
                continue
            lower.append((c, ord(r)))
    # Canonical combining classes: marks newer than tokenizers' tables are starters (ccc 0) there, so
    # canonical ordering does not move them
    class Prop(ctypes.Structure):
        _fields_ = [("category", ctypes.c_int16), ("combining_class", ctypes.c_int16)]
    u.utf8proc_get_property.restype = ctypes.POINTER(Prop)
    ccc = {c: u.utf8proc_get_property(c).contents.combining_class for c in cps}
    marks = [c for c in cps if ccc[c] > 0]
    nfd = N.NFD()
    ccc_zero = []
    for c in marks:
        if ccc[c] > 1:
            swapped = nfd.normalize_str(chr(c) + "\u0334") == "\u0334" + chr(c)
        else:
            swapped = nfd.normalize_str("\u0301" + chr(c)) == chr(c) + "\u0301"
        if not swapped:
            ccc_zero.append(c)
    # Unicode normalization forms: characters tokenizers leaves alone (decompositions newer than its tables)
    keep = {}
    for form, norm in (("NFD", N.NFD()), ("NFC", N.NFC()), ("NFKD", N.NFKD()), ("NFKC", N.NFKC())):
        got = per_char_norm(norm, sep="\x00")
        bad = []
        fn = getattr(u, "utf8proc_" + form)
        for c, r in got.items():
            p = fn(chr(c).encode())
            mine = ctypes.string_at(p).decode()
            u.free(p)
            if mine != r:
                bad.append(c)
        left = [c for c in bad if got[c] == chr(c)]
        print(f"{form}: utf8proc differs from tokenizers on {len(bad)} code points, {len(left)} of them kept "
              f"as they are by tokenizers: {' '.join('U+%04X' % c for c in bad[:12])}")
        keep[form] = left
    with open(out_path, "w") as f:
        import tokenizers
        f.write(f"/* Generated by scripts/gen_tokenizers.py --unicode-compat from the `tokenizers` package itself\n"
                f" * (version {tokenizers.__version__}; utf8proc {u.utf8proc_version().decode()})\n"
                " * (the oracle): code points where its character classes differ from utf8proc's categories\n"
                " * (older Unicode tables in the Rust crates it uses), with the answer tokenizers gives:\n"
                " * compat_X_yes / compat_X_no. Do not edit by hand. */\n")
        for k, v in flips.items():
            for label, want in (("yes", True), ("no", False)):
                vals = ", ".join(f"0x{c:x}" for c, h in sorted(v) if h == want) or "0xffffffffu"
                f.write(f"static const uint32_t compat_{k}_{label}[] = {{{vals}}};\n")
        vals = ", ".join(f"0x{c:x}" for c in sorted(ccc_zero)) or "0xffffffffu"
        f.write(f"static const uint32_t compat_ccc_zero[] = {{{vals}}};\n")
        for form in ("NFD", "NFKD"):
            vals = ", ".join(f"0x{c:x}" for c in sorted(keep[form])) or "0xffffffffu"
            f.write(f"static const uint32_t compat_{form.lower()}_keep[] = {{{vals}}};\n")
        vals = ", ".join(f"{{0x{a:x}, 0x{b:x}}}" for a, b in lower) or "{0xffffffffu, 0xffffffffu}"
        f.write(f"static const uint32_t compat_lower[][2] = {{{vals}}};\n")
    print("wrote", out_path, {k: len(v) for k, v in flips.items()}, "ccc_zero", len(ccc_zero), "lower", len(lower))


def build_all():
    from tokenizers import Tokenizer, models, normalizers as N, pre_tokenizers as P, processors, trainers, decoders
    text = training_text()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

    # 1. BERT: BertNormalizer (lowercase, strip accents), BertPreTokenizer, WordPiece, BertProcessing,
    #    added tokens with single_word / lstrip / rstrip / normalized flags
    t = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=30))
    t.normalizer = N.BertNormalizer(lowercase=True)
    t.pre_tokenizer = P.BertPreTokenizer()
    t.train_from_iterator(text, trainers.WordPieceTrainer(vocab_size=3000, special_tokens=specials))
    t.post_processor = processors.BertProcessing(("[SEP]", t.token_to_id("[SEP]")), ("[CLS]", t.token_to_id("[CLS]")))
    t.add_tokens([added("tokenization", single_word=True), added("<mask>", lstrip=True, rstrip=True),
                  added("Ünï", normalized=True), added("NoNorm", normalized=False)])
    t.add_special_tokens([added("<|endoftext|>", special=True)])
    save(t, "wordpiece-bert")

    # 2. cased WordPiece, no CJK spacing, accents kept; Whitespace pre-tokenizer; Template with pair
    t = Tokenizer(models.WordPiece(unk_token="[UNK]", continuing_subword_prefix="@@"))
    t.normalizer = N.BertNormalizer(lowercase=False, strip_accents=False, handle_chinese_chars=False, clean_text=True)
    t.pre_tokenizer = P.Whitespace()
    t.train_from_iterator(text, trainers.WordPieceTrainer(vocab_size=2500, special_tokens=specials,
                                                          continuing_subword_prefix="@@"))
    t.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", t.token_to_id("[CLS]")), ("[SEP]", t.token_to_id("[SEP]"))])
    save(t, "wordpiece-cased")

    # 3. byte-level BPE as RoBERTa/GPT-2: ByteLevel(add_prefix_space=False), RobertaProcessing,
    #    <mask> with lstrip
    rs = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = P.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    t.train_from_iterator(text, trainers.BpeTrainer(vocab_size=3000, special_tokens=rs,
                                                    initial_alphabet=P.ByteLevel.alphabet()))
    t.post_processor = processors.RobertaProcessing(("</s>", t.token_to_id("</s>")), ("<s>", t.token_to_id("<s>")))
    t.add_special_tokens([added("<mask>", lstrip=True, special=True)])
    save(t, "bpe-bytelevel-roberta")

    # 4. byte-level BPE with add_prefix_space, merges as legacy "a b" strings, ByteLevel + Template
    #    post-processors in a Sequence
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = P.ByteLevel(add_prefix_space=True)
    t.train_from_iterator(text, trainers.BpeTrainer(vocab_size=2000, special_tokens=["<|endoftext|>"],
                                                    initial_alphabet=P.ByteLevel.alphabet()))
    t.post_processor = processors.Sequence([processors.ByteLevel(trim_offsets=True),
                                            processors.TemplateProcessing(single="$A <|endoftext|>",
                                                                          special_tokens=[("<|endoftext|>", 0)])])

    def legacy_merges(j):
        j["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in j["model"]["merges"]]
    save(t, "bpe-bytelevel-prefix", legacy_merges)

    # 5. BPE with continuing_subword_prefix / end_of_word_suffix, unk with fuse_unk; NFKC + Lowercase;
    #    WhitespaceSplit + Punctuation + Digits
    t = Tokenizer(models.BPE(unk_token="<unk>", continuing_subword_prefix="##", end_of_word_suffix="</w>", fuse_unk=True))
    t.normalizer = N.Sequence([N.NFKC(), N.Lowercase()])
    t.pre_tokenizer = P.Sequence([P.WhitespaceSplit(), P.Punctuation(behavior="isolated"), P.Digits(individual_digits=True)])
    t.train_from_iterator(text, trainers.BpeTrainer(vocab_size=1500, special_tokens=["<unk>"], limit_alphabet=300,
                                                    continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    save(t, "bpe-prefix-suffix")

    # 6. BPE with byte_fallback (Llama-2 style by hand): Prepend + Replace normalizers, <0xXX> tokens
    t = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    t.normalizer = N.Sequence([N.Prepend("▁"), N.Replace(" ", "▁")])
    t.train_from_iterator(text, trainers.BpeTrainer(vocab_size=1500, special_tokens=["<unk>", "<s>", "</s>"],
                                                    limit_alphabet=200))
    t.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                     special_tokens=[("<s>", t.token_to_id("<s>"))])

    def add_bytes(j):
        v = j["model"]["vocab"]
        n = max(v.values()) + 1
        for b in range(256):
            tok = "<0x%02X>" % b
            if tok not in v:
                v[tok] = n
                n += 1
    save(t, "bpe-byte-fallback", add_bytes)

    # 7. BPE with ignore_merges and a GPT-4-style Split regex before a ByteLevel without regex
    pat = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
           r"|\s+(?!\S)|\s+")
    t = Tokenizer(models.BPE(ignore_merges=True))
    t.pre_tokenizer = P.Sequence([P.Split(pattern=__import__("tokenizers").Regex(pat), behavior="isolated"),
                                  P.ByteLevel(add_prefix_space=False, use_regex=False)])
    t.train_from_iterator(text, trainers.BpeTrainer(vocab_size=2500, special_tokens=["<|begin_of_text|>"],
                                                    initial_alphabet=P.ByteLevel.alphabet()))
    t.post_processor = processors.ByteLevel(trim_offsets=False)
    save(t, "bpe-ignore-merges-split")

    # Unigram trainers need every character in the vocabulary: train them on the plainer lines
    small = [l for l in text if len(set(l)) < 60 and all(ord(c) < 0x3100 for c in l)][:600] + text[-1:]

    # 8. Unigram with Metaspace (prepend always), NFKC; Template
    t = Tokenizer(models.Unigram())
    t.normalizer = N.NFKC()
    t.pre_tokenizer = P.Metaspace(replacement="▁", prepend_scheme="always")
    t.train_from_iterator(small, trainers.UnigramTrainer(vocab_size=2000, special_tokens=["<pad>", "<unk>", "<s>", "</s>"],
                                                        unk_token="<unk>"))
    t.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
                                                     special_tokens=[("<s>", 2), ("</s>", 3)])
    save(t, "unigram-metaspace")

    # 9. Unigram with byte_fallback, Metaspace prepend "first" without split, NFD + StripAccents +
    #    Replace(regex) + Strip; added tokens normalized and not
    t = Tokenizer(models.Unigram())
    t.normalizer = N.Sequence([N.NFD(), N.StripAccents(), N.Replace(__import__("tokenizers").Regex(r"\d+"), "0"),
                               N.Strip(left=True, right=False)])
    t.pre_tokenizer = P.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    t.train_from_iterator(small, trainers.UnigramTrainer(vocab_size=1200, special_tokens=["<unk>"], unk_token="<unk>",
                                                        max_piece_length=8))
    t.add_tokens([added("[NEW]", normalized=False), added("cafe", normalized=True, single_word=True)])

    def byte_fallback(j):
        v = j["model"]["vocab"]
        for b in range(256):
            v.append(["<0x%02X>" % b, -20.0])
        j["model"]["byte_fallback"] = True
    save(t, "unigram-byte-fallback", byte_fallback)

    # 10. Metaspace "first" with split, Split(String) and Split(Regex, invert), NFKD, Lowercase; WordLevel
    #     is not in the brief; WordPiece over the split pieces
    t = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    t.normalizer = N.Sequence([N.NFKD(), N.Lowercase(), N.Strip()])
    t.pre_tokenizer = P.Sequence([P.Split("-", behavior="merged_with_next"),
                                  P.Split(__import__("tokenizers").Regex(r"[aeiou]+"), behavior="contiguous", invert=True),
                                  P.Split(__import__("tokenizers").Regex(r"\s"), behavior="merged_with_previous"),
                                  P.Metaspace(prepend_scheme="first")])
    t.train_from_iterator(text, trainers.WordPieceTrainer(vocab_size=2000, special_tokens=specials))
    save(t, "split-behaviors")

    # 11. Unigram with Nmt, NFC, right Strip, Replace(String), Punctuation(contiguous), Digits,
    #     Metaspace (prepend never, no split); a template whose special token has two ids; left truncation
    t = Tokenizer(models.Unigram())
    t.normalizer = N.Sequence([N.Nmt(), N.NFC(), N.Strip(left=False, right=True), N.Replace("``", '"')])
    t.pre_tokenizer = P.Sequence([P.Punctuation(behavior="contiguous"), P.Digits(individual_digits=False),
                                  P.Metaspace(prepend_scheme="never", split=False)])
    t.train_from_iterator(small, trainers.UnigramTrainer(vocab_size=1500, special_tokens=["<unk>", "<s>", "</s>"],
                                                         unk_token="<unk>"))
    t.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B:1 </s>:1",
        special_tokens=[("<s>", 1), ("</s>", 2)])
    t.enable_truncation(24, strategy="longest_first", direction="left")
    t.add_tokens([added("<sep>", rstrip=True, single_word=True, normalized=False)])
    save(t, "unigram-misc")

    # 12. byte-level BPE without the regex (add_prefix_space), added tokens with rstrip and single_word
    t = Tokenizer(models.BPE(unk_token=None))
    t.pre_tokenizer = P.ByteLevel(add_prefix_space=True, use_regex=False)
    t.train_from_iterator(small, trainers.BpeTrainer(vocab_size=1200, initial_alphabet=P.ByteLevel.alphabet()))
    t.add_tokens([added("quick", single_word=True), added(" <mask>", rstrip=True), added("Hello", lstrip=True)])
    t.add_special_tokens([added("<s>", special=True)])
    save(t, "bpe-bytelevel-noregex")

    # 13. WordLevel with CharDelimiterSplit and FixedLength, Lowercase; a decoder Sequence
    t = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    t.normalizer = N.Lowercase()
    t.pre_tokenizer = P.Sequence([P.CharDelimiterSplit(" "), P.FixedLength(4)])
    t.decoder = decoders.Sequence([decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    t.train_from_iterator(small, trainers.WordLevelTrainer(vocab_size=3000, special_tokens=["[UNK]"]))
    save(t, "wordlevel-delimiter-fixed")

    # 14. SentencePiece conversions (what transformers does for XLM-R and Llama): Precompiled charsmap
    try:
        sentencepiece_fixtures(small)
    except ImportError as e:
        print("skipping SentencePiece conversions:", e)


def sentencepiece_fixtures(text):
    import sentencepiece as spm
    from transformers.convert_slow_tokenizer import convert_slow_tokenizer
    from transformers import XLMRobertaTokenizer
    with tempfile.TemporaryDirectory() as d:
        inp = os.path.join(d, "train.txt")
        with open(inp, "w", encoding="utf-8") as f:
            f.write("\n".join(text))
        spm.SentencePieceTrainer.train(input=inp, model_prefix=os.path.join(d, "uni"), vocab_size=1500,
                                       model_type="unigram", normalization_rule_name="nmt_nfkc",
                                       character_coverage=0.9995, num_threads=1, seed_sentencepiece_size=20000,
                                       minloglevel=2)
        slow = XLMRobertaTokenizer(vocab_file=os.path.join(d, "uni.model"))
        save(convert_slow_tokenizer(slow), "spm-xlmr-unigram-precompiled")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--unicode-compat", action="store_true", help="also regenerate src/tokenizer/unicode_compat.h")
    ap.add_argument("--only-unicode-compat", action="store_true")
    ap.add_argument("--only", metavar="NAME", help="write only this fixture")
    a = ap.parse_args()
    global ONLY
    ONLY = a.only
    if a.unicode_compat or a.only_unicode_compat:
        unicode_compat(os.path.join(ROOT, "src", "tokenizer", "unicode_compat.h"))
    if not a.only_unicode_compat:
        build_all()


if __name__ == "__main__":
    sys.exit(main())
