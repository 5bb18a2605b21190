#!/usr/bin/env python3
"""Build the tiny random-weight model fixtures under fixtures/models/ and record Hugging Face's outputs.

Hugging Face `transformers` (plus `tokenizers`, `sentence-transformers` and the PIL image processors) is the
independent oracle of locus's parity tests (tests/py/test_parity_*.py). For every fixture this script

  1. trains a small tokenizer with the `tokenizers` trainers (WordPiece, byte-level BPE) or `sentencepiece`
     (Unigram, converted exactly as transformers converts XLM-R, with its Precompiled charsmap),
  2. builds a tiny model with random weights (seeded) from a transformers config and saves it with
     save_pretrained (config.json, model.safetensors, tokenizer.json, tokenizer_config.json, ...),
  3. reloads the saved directory the way a user would (AutoTokenizer / AutoModel / SentenceTransformer /
     AutoImageProcessor) and records its outputs in expected.json (texts, ids, labels) and
     expected.safetensors (hidden states, pooled vectors, logits; padded (B, T, H) with attention_mask).

The weights are random: the fixtures test arithmetic parity, not model quality. Texts form a ragged batch
with accents, CJK, emoji and one long text that is truncated at the model's maximum length (the models'
max_position_embeddings is 64 on purpose, so the truncation path is exercised).

Usage (from the repository root; about ten seconds on one core; see fixtures/README.md for what is and is not
reproduced bit for bit):
    python3 scripts/gen_fixtures.py            # rewrite fixtures/models/
    python3 scripts/gen_fixtures.py NAME...    # only these fixtures
"""
import json
import os
import warnings
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402

import transformers  # noqa: E402
from transformers import (  # noqa: E402
    AutoModel,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    BertForSequenceClassification,
    BertModel,
    BertTokenizerFast,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    DistilBertModel,
    DistilBertTokenizerFast,
    RobertaConfig,
    RobertaForSequenceClassification,
    RobertaModel,
    RobertaTokenizerFast,
    XLMRobertaConfig,
    XLMRobertaForSequenceClassification,
    XLMRobertaModel,
    XLMRobertaTokenizerFast,
)

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)
transformers.logging.set_verbosity_error()
transformers.logging.disable_progress_bar()

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "models"
# Images are referred to relative to the repository root, as the tests see them.
C2PA_DIR_REL = "../shared/fixtures/c2pa"
SEED = 20261125

# --------------------------------------------------------------------------------------------------
# Texts. INPUT_TEXTS is the ragged batch every text fixture is run on; the last one is longer than 64
# tokens for every tokenizer, so it is truncated. TRAIN_CORPUS trains the small tokenizers: it shares
# words and scripts with the inputs, so ids are a mix of whole words, subwords and a few unknowns.
# --------------------------------------------------------------------------------------------------
INPUT_TEXTS = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog; it doesn't care.",
    "Café naïve résumé: Ångström in São Paulo, Zürich and Kraków.",
    "東京は日本の首都です。北京和上海都很大。서울은 한국의 수도입니다.",
    "Emoji test 😀👍🏽 🇫🇷 ❤️ and a family 👨‍👩‍👧 here.",
    "Mixed CASE words: NASA, iPhone, McDonald's, e.g. U.S.A. and 3.14159!",
    "This sentence is deliberately long so that every tokenizer produces more tokens than the model's "
    "sixty-four positions allow, which forces truncation exactly where Hugging Face truncates: the "
    "words keep coming, one after another, with commas, numbers like 12345 and 67.89, accents such as "
    "déjà vu and crème brûlée, a few CJK characters 漢字 and an emoji 🎉 near the end of it all.",
]

TRAIN_SENTENCES = [
    "Hello world, hello everyone, this is a small corpus for training tokenizers.",
    "The quick brown fox jumps over the lazy dog.",
    "A lazy dog sleeps while the quick fox runs through the forest.",
    "It doesn't matter; they don't care, we won't stop and you can't know.",
    "Café, naïve, résumé, déjà vu, crème brûlée, façade, coöperate, jalapeño.",
    "Ångström, Zürich, Kraków, São Paulo, München, Göteborg, Málaga, Dvořák.",
    "東京は日本の首都です。大阪と京都も有名な都市です。",
    "北京和上海都很大。中国有很多人口。汉字和漢字。",
    "서울은 한국의 수도입니다. 부산도 큰 도시입니다.",
    "Emoji are everywhere 😀 😃 👍 👍🏽 ❤️ 🎉 🇫🇷 👨‍👩‍👧 in modern text.",
    "NASA launched a rocket; the iPhone rang; McDonald's opened in the U.S.A.",
    "Numbers such as 1, 2, 3, 42, 3.14159, 12345 and 67.89 appear in text.",
    "Mixed CASE Words and lower case words and UPPER CASE WORDS.",
    "This sentence is deliberately long so that every tokenizer produces more tokens.",
    "Sixty-four positions allow truncation exactly where the model stops reading.",
    "Words keep coming, one after another, with commas, numbers and accents.",
    "Machine learning models read tokens, not characters or words.",
    "Le renard brun rapide saute par-dessus le chien paresseux.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "El rápido zorro marrón salta sobre el perro perezoso.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
    "The model's maximum length is small, so long inputs are cut.",
    "Tokenizers split text into pieces: subwords, bytes, or characters.",
    "Hugging Face transformers is the reference that locus is compared with.",
]


def train_corpus():
    """TRAIN_SENTENCES repeated with seeded word shuffles, so subword statistics are not degenerate."""
    rng = np.random.default_rng(SEED)
    out = list(TRAIN_SENTENCES) * 3
    words = " ".join(TRAIN_SENTENCES).split()
    for _ in range(300):
        out.append(" ".join(rng.choice(words, size=int(rng.integers(4, 14)))))
    return out


# --------------------------------------------------------------------------------------------------
# Tokenizers
# --------------------------------------------------------------------------------------------------
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def wordpiece_tokenizer(lowercase, vocab_size):
    """A BERT WordPiece tokenizer. The vocabulary is learnt by the BPE trainer with the "##" continuing-subword
    prefix (which is what the WordPiece trainer does internally) and kept in the BPE trainer's id order: the
    WordPiece trainer itself breaks ties in hash-map order, so its vocabulary changes from run to run."""
    normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None if lowercase else False, lowercase=lowercase)
    learner = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##"))
    learner.normalizer = normalizer
    learner.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    alphabet = sorted({c for line in train_corpus() for c in normalizer.normalize_str(line) if not c.isspace()})
    learner.train_from_iterator(train_corpus(), trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=BERT_SPECIALS, continuing_subword_prefix="##", min_frequency=2,
        initial_alphabet=alphabet))
    vocab = learner.get_vocab()
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece(prefix="##")
    return tok


def byte_level_bpe_tokenizer(vocab_size):
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=ROBERTA_SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), min_frequency=2)
    tok.train_from_iterator(train_corpus(), trainer)
    tok.post_processor = processors.RobertaProcessing(
        ("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")), trim_offsets=True, add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return tok


def unigram_spm_tokenizer(vocab_size, workdir):
    """A SentencePiece Unigram model (nmt_nfkc normalisation rules, as XLM-R's) converted to tokenizer.json by
    transformers' own XLMRobertaConverter: Precompiled charsmap normalizer, Metaspace pre-tokenizer,
    fairseq id offset, <mask> appended."""
    import sentencepiece as spm
    from transformers.convert_slow_tokenizer import XLMRobertaConverter

    corpus_file = Path(workdir) / "spm_corpus.txt"
    corpus_file.write_text("\n".join(train_corpus()) + "\n", encoding="utf-8")
    prefix = str(Path(workdir) / "spm")
    spm.SentencePieceTrainer.train(
        input=str(corpus_file), model_prefix=prefix, vocab_size=vocab_size, model_type="unigram",
        normalization_rule_name="nmt_nfkc", character_coverage=1.0, hard_vocab_limit=False,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, seed_sentencepiece_size=100000, num_threads=1,
        minloglevel=2)

    class SlowStandIn:  # what XLMRobertaConverter reads from the slow (sentencepiece) tokenizer
        vocab_file = prefix + ".model"
        add_prefix_space = True
        legacy = True

        @staticmethod
        def convert_tokens_to_ids(token):  # fairseq layout that XLMRobertaConverter.vocab() builds
            return {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}[token]

    return XLMRobertaConverter(SlowStandIn()).converted()


# --------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------
def randomize_(model, seed):
    """Give every parameter a random value of a realistic scale (transformers' init leaves LayerNorm at
    1/0 and biases at 0, which would let a kernel that ignores them pass)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            low = name.lower()
            if ("layernorm" in low or "layer_norm" in low or "ln_" in low) and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias") or p.dim() == 1:
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))
    model.eval()
    return model


LABELS3 = {0: "negative", 1: "neutral", 2: "positive"}
LABELS4 = {0: "sports", 1: "politics", 2: "science", 3: "arts"}
LABELS2 = {0: "LABEL_A", 1: "LABEL_B"}
LABELS5 = {0: "one star", 1: "two stars", 2: "three stars", 3: "four stars", 4: "five stars"}


def bert_config(vocab, **kw):
    base = dict(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
                max_position_embeddings=64, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12,
                pad_token_id=0)
    base.update(kw)
    return BertConfig(**base)


def roberta_like_config(cls, vocab, **kw):
    # RoBERTa positions start at pad_token_id + 1 = 2: 66 positions hold 64 tokens.
    base = dict(vocab_size=vocab, hidden_size=40, num_hidden_layers=2, num_attention_heads=4, intermediate_size=44,
                max_position_embeddings=66, type_vocab_size=1, hidden_act="gelu", layer_norm_eps=1e-5,
                pad_token_id=1, bos_token_id=0, eos_token_id=2)
    base.update(kw)
    return cls(**base)


def distilbert_config(vocab, **kw):
    base = dict(vocab_size=vocab, dim=32, n_layers=2, n_heads=4, hidden_dim=48, max_position_embeddings=64,
                sinusoidal_pos_embds=False, activation="gelu", pad_token_id=0)
    base.update(kw)
    return DistilBertConfig(**base)


# --------------------------------------------------------------------------------------------------
# Recording HF's outputs
# --------------------------------------------------------------------------------------------------
def pad_rows(rows, width, fill=0):
    out = np.full((len(rows), width), fill, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def check_tokenizer_roundtrip(model_dir, max_length):
    """The ids a user gets from AutoTokenizer(truncation=True) must equal the ids of the saved tokenizer.json
    run by plain `tokenizers` with truncation at the model's maximum: both are the oracle of `locus tokenize`."""
    auto = AutoTokenizer.from_pretrained(model_dir)
    assert auto.model_max_length == max_length, (model_dir, auto.model_max_length, max_length)
    ids_auto = auto(INPUT_TEXTS, truncation=True)["input_ids"]
    raw = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    raw.no_padding()
    raw.enable_truncation(max_length)
    ids_raw = [e.ids for e in raw.encode_batch(INPUT_TEXTS)]
    assert ids_auto == ids_raw, f"{model_dir}: AutoTokenizer and tokenizer.json disagree"
    assert max(len(r) for r in ids_auto) == max_length, f"{model_dir}: the long text was not truncated"
    return auto, ids_auto


def pooled_vectors(token_embeddings, attention_mask):
    """cls/mean/max pooling and their L2-normalised forms, computed by sentence-transformers' own modules."""
    from sentence_transformers.models import Normalize, Pooling

    dim = token_embeddings.shape[-1]
    out = {}
    with torch.no_grad():
        for mode in ("cls", "mean", "max"):
            feats = {"token_embeddings": token_embeddings, "attention_mask": attention_mask}
            v = Pooling(dim, pooling_mode=mode)(feats)["sentence_embedding"]
            out[f"pooled_{mode}"] = v
            out[f"pooled_{mode}_normalized"] = Normalize()({"sentence_embedding": v.clone()})["sentence_embedding"]
    return out


def f32(t):
    return np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32))


def write_expected(model_dir, meta, tensors):
    def to_numpy(v):
        if isinstance(v, torch.Tensor):
            return f32(v) if v.is_floating_point() else np.ascontiguousarray(v.cpu().numpy())
        return np.ascontiguousarray(v)

    tensors = {k: to_numpy(v) for k, v in tensors.items()}
    save_file(tensors, str(Path(model_dir) / "expected.safetensors"),
              metadata={"generator": "scripts/gen_fixtures.py", "random_weights": "true"})
    meta = dict(meta)
    meta["tensors"] = {k: {"dtype": str(v.dtype), "shape": list(v.shape)} for k, v in sorted(tensors.items())}
    with open(Path(model_dir) / "expected.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)
        f.write("\n")


def label_scores(logits, id2label, problem_type):
    """Labels sorted by score, as `locus classify` prints them: softmax, or sigmoid for multi-label."""
    if problem_type == "multi_label_classification":
        probs = torch.sigmoid(logits)
    else:
        probs = torch.softmax(logits, dim=-1)
    out = []
    for row in probs:
        order = sorted(range(len(row)), key=lambda j: (-float(row[j]), j))
        out.append([{"label": id2label[j], "score": float(row[j])} for j in order])
    return out, probs


def record_text_model(name, model_dir, max_length, *, kind, st=None, classifier=False):
    """Run the saved checkpoint through transformers (or sentence-transformers) and write expected.*"""
    auto_tok, input_ids = check_tokenizer_roundtrip(model_dir, max_length)
    config = json.load(open(Path(model_dir) / "config.json"))
    tensors = {}
    meta = {
        "fixture": name,
        "kind": "text",
        "architecture": config["architectures"][0],
        "model_type": config["model_type"],
        "random_weights": True,
        "texts": INPUT_TEXTS,
        "max_length": max_length,
        "input_ids": input_ids,
    }
    with torch.no_grad():
        if st is not None:
            # The sentence-transformers pipeline: its own truncation (max_seq_length), pooling, Normalize.
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(model_dir), device="cpu")
            model.eval()
            feats = (model.preprocess if hasattr(model, "preprocess") else model.tokenize)(INPUT_TEXTS)
            out = model[0](dict(feats))
            hidden, mask = out["token_embeddings"], feats["attention_mask"]
            model_input_ids = [row[m.bool()].tolist() for row, m in zip(feats["input_ids"], mask)]
            emb = model.encode(INPUT_TEXTS, convert_to_tensor=True, batch_size=len(INPUT_TEXTS))
            tensors["embedding_default"] = emb
            st_expect = f"pooled_{st['pooling']}" + ("_normalized" if st["normalize"] else "")
            assert model.max_seq_length == st["max_seq_length"], (model_dir, model.max_seq_length)
            meta["sentence_transformers"] = {"max_seq_length": model.max_seq_length, "layout": st["layout"],
                                             "pooling": st["pooling"], "normalize": st["normalize"]}
            meta["default_pooling"], meta["default_normalize"] = st["pooling"], st["normalize"]
        else:
            auto_cls = (AutoModelForSequenceClassification if classifier else
                        transformers.AutoModelForMaskedLM if kind == "masked_lm" else AutoModel)
            model = auto_cls.from_pretrained(model_dir).eval()
            enc = auto_tok(INPUT_TEXTS, truncation=True, padding=True, return_tensors="pt")
            out = model(**enc, output_hidden_states=True)
            # The encoder's last hidden state, also for classifier and masked-LM checkpoints (their base model).
            hidden = out.hidden_states[-1] if (classifier or kind == "masked_lm") else out.last_hidden_state
            if not (classifier or kind == "masked_lm"):
                assert torch.equal(hidden, out.hidden_states[-1])
            mask = enc["attention_mask"]
            model_input_ids = input_ids
            if getattr(out, "pooler_output", None) is not None:
                tensors["pooler_output"] = out.pooler_output
            meta["default_pooling"], meta["default_normalize"] = "mean", False
            if classifier:
                id2label = {int(k): v for k, v in model.config.id2label.items()}
                problem_type = model.config.problem_type
                labels, probs = label_scores(out.logits, id2label, problem_type)
                tensors["logits"] = out.logits
                tensors["scores"] = probs
                meta["id2label"] = {str(k): v for k, v in sorted(id2label.items())}
                meta["problem_type"] = problem_type
                meta["score_function"] = "sigmoid" if problem_type == "multi_label_classification" else "softmax"
                meta["labels"] = labels
        pooled = pooled_vectors(hidden, mask)
        if st is None:
            tensors["embedding_default"] = pooled["pooled_mean"]
        else:  # the folder's own modules (read by SentenceTransformer) did what the fixture says they do
            assert torch.allclose(emb, pooled[st_expect], atol=1e-6), (model_dir, st_expect)
        tensors.update(pooled)
    meta["model_input_ids"] = model_input_ids
    tensors["last_hidden_state"] = hidden * mask.unsqueeze(-1).to(hidden.dtype)  # padding rows zeroed
    tensors["attention_mask"] = mask.to(torch.int64)
    tensors["input_ids"] = torch.from_numpy(pad_rows(model_input_ids, mask.shape[1]))
    meta["hidden_size"] = int(hidden.shape[-1])
    write_expected(model_dir, meta, tensors)


def save_tokenizer(wrapper_cls, tok, model_dir, max_length, **kw):
    t = wrapper_cls(tokenizer_object=tok, model_max_length=max_length, **kw)
    t.save_pretrained(model_dir)


def fresh_dir(name):
    d = OUT / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


# --------------------------------------------------------------------------------------------------
# Text fixtures
# --------------------------------------------------------------------------------------------------
def build_text_fixtures(only, tmp):
    wp_uncased = wordpiece_tokenizer(lowercase=True, vocab_size=600)
    wp_cased = wordpiece_tokenizer(lowercase=False, vocab_size=700)
    bpe = byte_level_bpe_tokenizer(vocab_size=500)
    uni = unigram_spm_tokenizer(vocab_size=400, workdir=tmp)

    def want(n):
        return not only or n in only

    def bert_wp_fixture(name, tok, lowercase, model, seed, kind="base", classifier=False):
        d = fresh_dir(name)
        randomize_(model, seed).save_pretrained(d)
        save_tokenizer(BertTokenizerFast, tok, d, 64, do_lower_case=lowercase,
                       strip_accents=None if lowercase else False)
        record_text_model(name, d, 64, kind=kind, classifier=classifier)

    if want("bert-tiny-uncased"):
        cfg = bert_config(wp_uncased.get_vocab_size())
        bert_wp_fixture("bert-tiny-uncased", wp_uncased, True, BertModel(cfg), SEED + 1)
    if want("bert-odd-cased"):
        cfg = bert_config(wp_cased.get_vocab_size(), hidden_size=36, num_attention_heads=3, num_hidden_layers=3,
                          intermediate_size=50)
        bert_wp_fixture("bert-odd-cased", wp_cased, False, BertModel(cfg, add_pooling_layer=True), SEED + 2)
    if want("bert-prefixed"):
        # BertForMaskedLM: weights under "bert." (plus the "cls." MLM head); no pooler.
        cfg = bert_config(wp_uncased.get_vocab_size(), hidden_size=32, num_attention_heads=4,
                          architectures=["BertForMaskedLM"])
        bert_wp_fixture("bert-prefixed", wp_uncased, True, BertForMaskedLM(cfg), SEED + 3, kind="masked_lm")
    for name, pooling, normalize, max_seq, seed, classic in (("bert-st-cls", "cls", True, 40, SEED + 4, True),
                                                             ("bert-st-max", "max", False, 32, SEED + 5, False)):
        if want(name):
            build_st_fixture(name, wp_uncased, pooling, normalize, max_seq, seed, tmp, classic)
    if want("roberta-tiny"):
        d = fresh_dir("roberta-tiny")
        randomize_(RobertaModel(roberta_like_config(RobertaConfig, bpe.get_vocab_size())), SEED + 6).save_pretrained(d)
        save_tokenizer(RobertaTokenizerFast, bpe, d, 64)
        record_text_model("roberta-tiny", d, 64, kind="base")
    if want("xlmr-tiny"):
        d = fresh_dir("xlmr-tiny")
        cfg = roberta_like_config(XLMRobertaConfig, uni.get_vocab_size(), hidden_size=24, num_attention_heads=3,
                                  num_hidden_layers=3, intermediate_size=30)
        randomize_(XLMRobertaModel(cfg), SEED + 7).save_pretrained(d)
        save_tokenizer(XLMRobertaTokenizerFast, uni, d, 64)
        record_text_model("xlmr-tiny", d, 64, kind="base")
    if want("distilbert-tiny"):
        d = fresh_dir("distilbert-tiny")
        randomize_(DistilBertModel(distilbert_config(wp_uncased.get_vocab_size())), SEED + 8).save_pretrained(d)
        save_tokenizer(DistilBertTokenizerFast, wp_uncased, d, 64, do_lower_case=True)
        record_text_model("distilbert-tiny", d, 64, kind="base")

    # Sequence classifiers: labels from id2label; softmax unless problem_type is multi-label.
    if want("bert-cls"):
        cfg = bert_config(wp_uncased.get_vocab_size(), num_labels=3, id2label=LABELS3,
                          label2id={v: k for k, v in LABELS3.items()})
        bert_wp_fixture("bert-cls", wp_uncased, True, BertForSequenceClassification(cfg), SEED + 9, classifier=True)
    if want("roberta-cls"):
        d = fresh_dir("roberta-cls")
        cfg = roberta_like_config(RobertaConfig, bpe.get_vocab_size(), num_labels=4, id2label=LABELS4,
                                  label2id={v: k for k, v in LABELS4.items()},
                                  problem_type="multi_label_classification")
        randomize_(RobertaForSequenceClassification(cfg), SEED + 10).save_pretrained(d)
        save_tokenizer(RobertaTokenizerFast, bpe, d, 64)
        record_text_model("roberta-cls", d, 64, kind="base", classifier=True)
    if want("xlmr-cls"):
        d = fresh_dir("xlmr-cls")
        cfg = roberta_like_config(XLMRobertaConfig, uni.get_vocab_size(), hidden_size=24, num_attention_heads=2,
                                  intermediate_size=30, num_labels=2, id2label=LABELS2,
                                  label2id={v: k for k, v in LABELS2.items()},
                                  problem_type="single_label_classification")
        randomize_(XLMRobertaForSequenceClassification(cfg), SEED + 11).save_pretrained(d)
        save_tokenizer(XLMRobertaTokenizerFast, uni, d, 64)
        record_text_model("xlmr-cls", d, 64, kind="base", classifier=True)
    if want("distilbert-cls"):
        d = fresh_dir("distilbert-cls")
        cfg = distilbert_config(wp_uncased.get_vocab_size(), num_labels=5, id2label=LABELS5,
                                label2id={v: k for k, v in LABELS5.items()}, seq_classif_dropout=0.2)
        randomize_(DistilBertForSequenceClassification(cfg), SEED + 12).save_pretrained(d)
        save_tokenizer(DistilBertTokenizerFast, wp_uncased, d, 64, do_lower_case=True)
        record_text_model("distilbert-cls", d, 64, kind="base", classifier=True)


def build_st_fixture(name, tok, pooling, normalize, max_seq_length, seed, tmp, classic):
    """A sentence-transformers directory around a tiny BERT.

    classic=True writes the layout that sentence-transformers 2.x wrote and that most checkpoints in use carry
    (all-MiniLM-L6-v2 among them): modules.json naming sentence_transformers.models.*, sentence_bert_config.json
    with max_seq_length, 1_Pooling/config.json with pooling_mode_*_tokens flags, a Normalize module without a
    folder, and the tokenizer's own model_max_length (64) left larger than max_seq_length. classic=False is
    what the installed sentence-transformers saves itself (its newer module names and pooling_mode key; it
    writes max_seq_length into tokenizer_config.json). Either way the expected values come from loading the
    saved folder with SentenceTransformer."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as st_models

    cfg = bert_config(tok.get_vocab_size(), hidden_size=32, num_attention_heads=4)
    d = fresh_dir(name)
    if classic:
        randomize_(BertModel(cfg), seed).save_pretrained(d)
        save_tokenizer(BertTokenizerFast, tok, d, 64, do_lower_case=True)
        modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                   {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
        if normalize:
            modules.append({"idx": 2, "name": "2", "path": "2_Normalize",
                            "type": "sentence_transformers.models.Normalize"})
        pool_cfg = {"word_embedding_dimension": cfg.hidden_size}
        for mode, key in (("cls", "cls_token"), ("mean", "mean_tokens"), ("max", "max_tokens"),
                          ("mean_sqrt_len", "mean_sqrt_len_tokens")):
            pool_cfg[f"pooling_mode_{key}"] = mode == pooling
        (d / "1_Pooling").mkdir()
        for path, obj in (("modules.json", modules), ("sentence_bert_config.json",
                          {"max_seq_length": max_seq_length, "do_lower_case": False}),
                          ("1_Pooling/config.json", pool_cfg)):
            with open(d / path, "w") as f:
                json.dump(obj, f, indent=2)
                f.write("\n")
        model_max_length = max_seq_length  # what sentence-transformers truncates at
    else:
        hf_dir = Path(tmp) / f"{name}-hf"
        if hf_dir.exists():
            shutil.rmtree(hf_dir)
        randomize_(BertModel(cfg), seed).save_pretrained(hf_dir)
        save_tokenizer(BertTokenizerFast, tok, hf_dir, 64, do_lower_case=True)
        transformer = st_models.Transformer(str(hf_dir), max_seq_length=max_seq_length)
        modules = [transformer, st_models.Pooling(transformer.get_embedding_dimension(), pooling_mode=pooling)]
        if normalize:
            modules.append(st_models.Normalize())
        SentenceTransformer(modules=modules, device="cpu").save(str(d))
        if (d / "README.md").exists():  # the generated model card is large and says nothing useful here
            (d / "README.md").unlink()
        model_max_length = max_seq_length
    record_text_model(name, d, 64 if classic else model_max_length, kind="base",
                      st={"pooling": pooling, "normalize": normalize, "max_seq_length": model_max_length,
                          "layout": "classic (sentence-transformers 2.x)" if classic else
                          f"sentence-transformers {sentence_transformers_version()}"})


def sentence_transformers_version():
    import sentence_transformers

    return sentence_transformers.__version__


def main(argv):
    only = set(argv[1:])
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        build_text_fixtures(only, tmp)
        build_vision_fixtures(only)
    print("fixtures written to", OUT.relative_to(ROOT))


# --------------------------------------------------------------------------------------------------
# Vision fixtures: ViTForImageClassification with one preprocessor config per PIL resampling mode
# --------------------------------------------------------------------------------------------------
VISION_IMAGES = ["C.jpg", "IMG_0003.jpg", "XCA.jpg", "no_alg.jpg", "libpng-test.png"]
PIXEL_VALUES_IMAGES = 2  # the first two images' pixel_values are stored in pixel_values.npy
VIT_LABELS = {0: "cat", 1: "dog", 2: "bird"}
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
# name, image_size, patch_size, processor kind, PIL resample code (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic)
VISION_FIXTURES = [
    ("vit-tiny-nearest", 32, 8, "resize", 0),
    ("vit-tiny-bilinear", 48, 16, "resize", 2),
    ("vit-tiny-bicubic", 32, 16, "resize", 3),
    ("vit-tiny-lanczos", 48, 8, "resize", 1),
    ("vit-tiny-crop", 32, 8, "shortest_edge_crop", 3),
]


def build_vision_fixtures(only):
    from PIL import Image
    from transformers import AutoImageProcessor, AutoModelForImageClassification, ViTConfig, \
        ViTForImageClassification
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    c2pa = ROOT / C2PA_DIR_REL
    for i, (name, image_size, patch, kind, resample) in enumerate(VISION_FIXTURES):
        if only and name not in only:
            continue
        d = fresh_dir(name)
        cfg = ViTConfig(image_size=image_size, patch_size=patch, num_channels=3, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=37, hidden_act="gelu", layer_norm_eps=1e-12,
                        qkv_bias=True, num_labels=3, id2label=VIT_LABELS,
                        label2id={v: k for k, v in VIT_LABELS.items()})
        randomize_(ViTForImageClassification(cfg), SEED + 100 + i).save_pretrained(d)
        # The PIL image processors are transformers' reference path (HF resizes through PIL).
        if kind == "resize":
            proc = ViTImageProcessorPil(do_resize=True, size={"height": image_size, "width": image_size},
                                        resample=resample, do_rescale=True, rescale_factor=1 / 255,
                                        do_normalize=True, image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5])
        else:
            proc = CLIPImageProcessorPil(do_resize=True, size={"shortest_edge": image_size + 8}, resample=resample,
                                         do_center_crop=True, crop_size={"height": image_size, "width": image_size},
                                         do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
                                         image_mean=CLIP_MEAN, image_std=CLIP_STD, do_convert_rgb=True)
        proc.save_pretrained(d)
        # Reload as a user would.
        proc = AutoImageProcessor.from_pretrained(d)
        model = AutoModelForImageClassification.from_pretrained(d).eval()
        files = [f"{C2PA_DIR_REL}/{f}" for f in VISION_IMAGES]
        # PIL's convert("RGB") (grayscale and palette images too); no EXIF transpose, as the processor given a
        # PIL image does none (locus applies it only with --exif-transpose).
        images = [Image.open(c2pa / f).convert("RGB") for f in VISION_IMAGES]
        with torch.no_grad():
            pv = proc(images=images, return_tensors="pt")["pixel_values"].to(torch.float32)
            logits = model(pixel_values=pv).logits
            # How much the logits move when every pixel moves by one 8-bit level (random sign): a yardstick for
            # the end-to-end tolerance (decoding and resampling differences show up at that scale).
            std = torch.tensor(proc.image_std, dtype=torch.float32).view(1, 3, 1, 1)
            g = torch.Generator().manual_seed(SEED)
            sign = torch.randint(0, 2, pv.shape, generator=g).to(torch.float32) * 2 - 1
            bumped = model(pixel_values=pv + sign * (proc.rescale_factor / std)).logits
            sensitivity = float((bumped - logits).abs().max())
        labels, probs = label_scores(logits, VIT_LABELS, model.config.problem_type)
        np.save(d / "pixel_values.npy", np.ascontiguousarray(pv[:PIXEL_VALUES_IMAGES].numpy().astype(np.float32)))
        meta = {
            "fixture": name,
            "kind": "vision",
            "architecture": "ViTForImageClassification",
            "model_type": "vit",
            "random_weights": True,
            "image_processor": json.load(open(d / "preprocessor_config.json")),
            "images": files,
            "image_note": "paths relative to the repository root; opened with PIL and convert('RGB'), no EXIF "
                          "transpose",
            "pixel_values_file": "pixel_values.npy",
            "pixel_values_images": files[:PIXEL_VALUES_IMAGES],
            "id2label": {str(k): v for k, v in VIT_LABELS.items()},
            "problem_type": model.config.problem_type,
            "score_function": "softmax",
            "labels": labels,
            "logit_change_per_one_level_pixel_change": sensitivity,
        }
        write_expected(d, meta, {"logits": logits, "scores": probs,
                                 "pixel_values_logits": logits[:PIXEL_VALUES_IMAGES].clone()})


if __name__ == "__main__":
    main(sys.argv)
