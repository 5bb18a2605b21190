#!/usr/bin/env python3
"""Writes tests/data/corpus/tokenizer_corpus.txt: the text the tokenizer differential tests run on.

Hand-written hard cases first (accents, CJK, Thai, Arabic, Devanagari, emoji with ZWJ and flags,
control and zero-width characters, whitespace runs, very long words, URLs, numbers, special-token
look-alikes), then lines drawn by a seeded generator from word pools of many scripts and from random
code points. One text per line; no line contains NUL, LF or a trailing CR (`locus tokenize` reads
lines from standard input). Deterministic: the same file every run.

    python3 tests/data/corpus/gen_corpus.py            # rewrite the corpus
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tokenizer_corpus.txt")

HAND = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "I can't believe it's not butter; they're sure we'll go, you'd say, I'm here, we've seen.",
    "UPPER lower MiXeD CaSe",
    "unaffable unbelievably antidisestablishmentarianism",
    "Café naïve résumé façade coöperate jalapeño Ångström",
    "Ça va? À bientôt! Élève, Œuvre, Æsir, ØRESUND",
    "Straße STRASSE ß ẞ",
    "İstanbul ıstakoz İi Iı",
    "ﬁ ﬂ ﬃ Ⅻ ① ㈱ ㍿ ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ",
    "e\u0301 a\u0308 o\u0302\u0323 n\u0303 combining marks",
    "Ελληνικά κείμενα με τόνους: ΆΈΉΊΌΎΏ ΐΰ",
    "Русский текст, Ёлка и йод.",
    "中文分词测试：我爱北京天安门。",
    "日本語のテキスト、ひらがなとカタカナ。漢字も。",
    "한국어 텍스트입니다. 안녕하세요!",
    "ภาษาไทยไม่มีช่องว่างระหว่างคำ",
    "العربية: مرحبا بالعالم! ١٢٣٤٥",
    "עברית: שלום עולם",
    "हिन्दी में पाठ: नमस्ते दुनिया। क्षत्रिय",
    "বাংলা ভাষা, தமிழ் மொழி, ಕನ್ನಡ, తెలుగు, മലയാളം",
    "Tiếng Việt có dấu: Người, được, những",
    "Emoji: 😀 😃 🤖 🚀 ❤️ 👍🏽 👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷🇯🇵🇺🇸",
    "Keycaps 1️⃣ #️⃣ and skin tones 👋🏻👋🏼👋🏽👋🏾👋🏿",
    "zero\u200bwidth\u200cjoiner\u200dhere\ufeffbom\u2060wj",
    "soft\u00adhyphen and\u00a0nbsp and\u2009thin\u202fspace",
    "tabs\tand\tmore\t\ttabs",
    "multiple     spaces    between   words",
    "   leading and trailing spaces   ",
    "\u3000ideographic\u3000space\u3000",
    "control \u0001\u0002\u0003\u0007\u0008\u000b\u000c\u000e\u001f\u007f chars",
    "c1 controls \u0080\u0085\u009f and line sep \u2028 para sep \u2029",
    "replacement \ufffd char and private use \ue000\uf8ff",
    "https://example.com/path/to/page?query=1&x=y#frag",
    "http://www.example.org:8080/a_b-c.d~e/%20?q=%E2%9C%93",
    "email: someone.name+tag@example.co.uk",
    "Numbers: 3.14159 2,718 1e-10 -42 +7 0x1F 1_000_000 ½ ¼ ²³",
    "Dates 2024-01-31, times 12:34:56, 99.9% and $1,234.56 €20 £5 ¥1000",
    "Phone +1 (555) 123-4567",
    "Math: x² + y² = z², ∑ᵢ aᵢ ≤ ∞, ∀x∈ℝ, √2 ≈ 1.414",
    "Code: def f(x): return x**2 # comment",
    "if (a && b || !c) { x += y->z; } else { y <<= 2; }",
    "<html><body class=\"main\">Text &amp; more</body></html>",
    "JSON: {\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
    "Quotes: “double” ‘single’ «guillemets» „German“ 「Japanese」",
    "Dashes: - – — ― and ellipsis … and bullets • ·",
    "[CLS] [SEP] [MASK] [PAD] [UNK] inside text",
    "<s> </s> <pad> <unk> <mask> tokens",
    "<|endoftext|> and <|im_start|>user<|im_end|>",
    "a[MASK]b and x <mask> y and  <mask>  spaced",
    "supercalifragilisticexpialidocious" * 3,
    "a" * 120,
    "Pneumonoultramicroscopicsilicovolcanoconiosis is long",
    "x" * 99 + " " + "y" * 100 + " " + "z" * 101,
    "日本" * 60,
    "ab" * 150,
    "1234567890" * 12,
    "Mixed中文English混合text",
    "don't won't shouldn't y'all 'tis rock'n'roll",
    "'s 't 're 've 'm 'll 'd 'S 'RE",
    "!!!??? ... ,,, ;;; ::: ---",
    "   ",
    "\t",
    "a",
    "A.B.C. U.S.A. e.g. i.e.",
    "hashtag #NLP @mention $TICKER",
    "path C:\\Users\\name\\file.txt and /usr/local/bin",
    "Ｈｅｌｌｏ　Ｗｏｒｌｄ！ ＡＢＣ１２３",
    "ｶﾀｶﾅ ﾊﾝｶｸ",
    "Ⓐⓑⓒ 🄰🄱🄲 🅐🅑🅒",
    "ℌ𝔢𝔩𝔩𝔬 𝐁𝐨𝐥𝐝 𝑰𝒕𝒂𝒍𝒊𝒄 𝟙𝟚𝟛",
    "Ancient: 𐌰𐌱𐌲 𓀀𓀁 𒀀",
    "Musical 𝄞 𝅘𝅥𝅮 and cards 🂡",
    "Tone marks: ā á ǎ à, ē é ě è",
    "Vietnamese: ễ ộ ữ ẩ",
    "Dotless: ı and dotted İ; final sigma ΟΔΟΣ οδος",
    "Cherokee Ꮳ ꮳ and Georgian Ა ა",
    "ǅ ǈ ǋ ǲ titlecase digraphs",
]

WORDS = {
    "en": "the of and to in is was for on that with as by at from his it an were are which this be or "
          "has had not first one their its new after who they have her she two been other when there all "
          "during into school time may years more most only over city some world would where later up "
          "such used many can state about national out known university united then made government "
          "Tokenization Transformer embedding attention gradient optimizer".split(),
    "fr": "le la les des une été être avoir français élève où déjà très après château forêt".split(),
    "de": "der die das und ist nicht Über Straße Mädchen schön Grüße größer Fußball".split(),
    "es": "el la los niño señor año pequeño corazón canción ¿qué? ¡hola!".split(),
    "ru": "и в не на что быть он это как мир ёж объём".split(),
    "el": "και το της στο για με είναι από ψυχή".split(),
    "zh": "的 一 是 不 了 在 人 有 我 他 这 个 们 中 来 上 大 为 和 国 地 到 以 说 时 要 就 出 会".split(),
    "ja": "の に は を た が で て と し れ さ ある いる カタカナ ひらがな 日本 東京".split(),
    "ko": "이 그 저 것 수 등 들 및 안녕 세계 한국어".split(),
    "th": "การ ที่ ของ และ ใน เป็น ได้ มี ไม่ ภาษา ไทย".split(),
    "ar": "في من على إلى أن هذا التي مع كان عن العربية".split(),
    "hi": "के है में की और से को एक पर यह भी हिन्दी क्षेत्र".split(),
    "emoji": ["😀", "🤖", "👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "❤️", "✨", "🔥", "🙏", "1️⃣"],
    "num": ["0", "7", "42", "3.14", "1,000", "2024", "-5", "1e9", "½", "٣", "४२", "١٢"],
    "punct": [".", ",", "!", "?", ";", ":", "-", "—", "(", ")", "\"", "'", "...", "/", "&", "@", "#", "%"],
    "special": ["[CLS]", "[SEP]", "[MASK]", "<s>", "</s>", "<mask>", "<unk>", "<pad>", "<|endoftext|>"],
}
SPACES = [" ", " ", " ", " ", "  ", "\t", "\u00a0", "\u3000", "\u2009", "   ", "\u200b", ""]


def rand_codepoint(rng):
    """A random character: mostly from used blocks, sometimes anywhere (not NUL/LF/CR/surrogates)."""
    blocks = [(0x20, 0x7e), (0xa0, 0x24f), (0x300, 0x36f), (0x370, 0x3ff), (0x400, 0x4ff), (0x590, 0x5ff),
              (0x600, 0x6ff), (0x900, 0x97f), (0xe00, 0xe7f), (0x1100, 0x11ff), (0x1e00, 0x1fff),
              (0x2000, 0x206f), (0x2070, 0x2bff), (0x3000, 0x30ff), (0x3400, 0x4dbf), (0x4e00, 0x9fff),
              (0xac00, 0xd7a3), (0xf900, 0xfaff), (0xfb00, 0xfdff), (0xfe00, 0xfe6f), (0xff00, 0xffef),
              (0x1d400, 0x1d7ff), (0x1f300, 0x1faff), (0x20000, 0x2a6df), (0x1, 0x1f)]
    while True:
        if rng.random() < 0.1:
            cp = rng.randrange(0x1, 0x110000)
        else:
            lo, hi = rng.choice(blocks)
            cp = rng.randint(lo, hi)
        if cp in (0, 0xa, 0xd) or 0xd800 <= cp <= 0xdfff:
            continue
        return chr(cp)


def rand_line(rng):
    kind = rng.random()
    parts = []
    if kind < 0.55:  # words of one or two languages
        langs = rng.sample(sorted(WORDS), k=rng.choice([1, 1, 2, 3]))
        for _ in range(rng.randint(1, 25)):
            w = rng.choice(WORDS[rng.choice(langs)])
            r = rng.random()
            if r < 0.1:
                w = w.upper()
            elif r < 0.2:
                w = w.capitalize()
            parts.append(w)
            parts.append(rng.choice(SPACES) if rng.random() < 0.9 else rng.choice(WORDS["punct"]))
    elif kind < 0.8:  # random characters, some runs
        for _ in range(rng.randint(1, 60)):
            c = rand_codepoint(rng)
            parts.append(c * (rng.randint(2, 5) if rng.random() < 0.05 else 1))
            if rng.random() < 0.2:
                parts.append(rng.choice(SPACES))
    elif kind < 0.9:  # long words, numbers, URLs
        for _ in range(rng.randint(1, 6)):
            r = rng.random()
            if r < 0.3:
                parts.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyzé") for _ in range(rng.randint(20, 140))))
            elif r < 0.6:
                parts.append(str(rng.randint(0, 10 ** rng.randint(1, 30))))
            else:
                host = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12)))
                parts.append(f"https://{host}.com/{rng.randint(0, 9999)}/x_y-z?a={rng.randint(0, 99)}&b=%2F")
            parts.append(" ")
    else:  # mixtures with special-token look-alikes and emoji
        pools = ["emoji", "special", "en", "zh", "punct", "num"]
        for _ in range(rng.randint(1, 20)):
            parts.append(rng.choice(WORDS[rng.choice(pools)]))
            parts.append(rng.choice(SPACES))
    line = "".join(parts)
    return line.replace("\n", " ").replace("\r", " ").replace("\x00", " ").rstrip("\r")


def main():
    rng = random.Random(20240501)
    lines = list(HAND)
    while len(lines) < 2400:
        lines.append(rand_line(rng))
    for i, l in enumerate(lines):
        assert "\n" not in l and "\x00" not in l and not l.endswith("\r"), i
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        for l in lines:
            f.write(l + "\n")
    print(f"wrote {OUT}: {len(lines)} lines, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
