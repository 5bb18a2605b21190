"""Parity of locus's text models with Hugging Face transformers, the independent oracle.

The fixtures under fixtures/models/ are tiny random-weight BERT, RoBERTa, XLM-R and DistilBERT checkpoints
(and sequence classifiers) built by scripts/gen_fixtures.py with transformers + tokenizers; their expected.json
and expected.safetensors hold what transformers (or sentence-transformers, for the bert-st-* layouts) computed on
a ragged batch of texts: accents, CJK, emoji, and one text longer than the model's 64 positions, so truncation
is exercised. Each test runs the locus CLI on the same texts and compares:

  * `locus tokenize`            ids == the ids HF's tokenizer produced (truncation at the model's maximum);
  * `locus embed --pooling none` last hidden state, max abs error <= 1e-4 (f32), for several batch sizes;
  * `locus embed --pooling cls|mean|max [--no-normalize]`, and the default pooling that the model's
    sentence-transformers files ask for, <= 1e-4;
  * `locus classify`            logits <= 1e-4; labels from id2label, sorted by score, scores (softmax, or
                                sigmoid for multi_label_classification) <= 1e-4; --top-k.
"""
import numpy as np
import pytest

from conftest import (data_items, device_args, load_model_fixture, max_abs_error, model_fixture_names, run_json,
                      worst_position)

TOL = 1e-4  # f32 parity with transformers: max abs error on hidden states, pooled vectors, logits, scores
TEXT_FIXTURES = model_fixture_names(kind="text")
CLASSIFIERS = model_fixture_names(kind="text", predicate=lambda m: "id2label" in m)

if not TEXT_FIXTURES:  # pragma: no cover - the fixtures are committed
    pytest.skip("no text fixtures under fixtures/models (run scripts/gen_fixtures.py)", allow_module_level=True)


def first_difference(a, b):
    for j, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return j
    return min(len(a), len(b))


# --------------------------------------------------------------------------------------------------
# Tokenizer ids
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TEXT_FIXTURES)
def test_tokenize_ids_match_hf(name):
    """`locus tokenize DIR TEXT...` gives, for every text, the ids AutoTokenizer(truncation=True) gave."""
    d, meta, _ = load_model_fixture(name)
    texts = meta["texts"]
    out = run_json("tokenize", d, *texts)
    items = data_items(out, len(texts))
    for i, (text, want) in enumerate(zip(texts, meta["input_ids"])):
        got = items[i].get("input_ids")
        assert got == want, (
            f"{name}: text {i} {text!r}: ids differ from HF's at position {first_difference(got or [], want)} "
            f"(locus {len(got or [])} ids, HF {len(want)} ids, max length {meta['max_length']})\n"
            f"  locus: {got}\n  HF:    {want}")


def test_tokenize_reads_stdin_lines():
    """Texts from standard input, one per line, give the same ids as texts from arguments."""
    name = "bert-tiny-uncased" if "bert-tiny-uncased" in TEXT_FIXTURES else TEXT_FIXTURES[0]
    d, meta, _ = load_model_fixture(name)
    texts = meta["texts"]
    out = run_json("tokenize", d, input="".join(t + "\n" for t in texts))
    items = data_items(out, len(texts))
    for i, want in enumerate(meta["input_ids"]):
        assert items[i].get("input_ids") == want, f"{name}: stdin line {i} {texts[i]!r}: ids differ from HF's"


# --------------------------------------------------------------------------------------------------
# Hidden states
# --------------------------------------------------------------------------------------------------
BATCH_OPTIONS = [
    pytest.param([], id="default"),
    pytest.param(["--batch", "2"], id="batch2"),
    pytest.param(["--batch", "1", "--threads", "2"], id="batch1-threads2"),
]


@pytest.mark.parametrize("options", BATCH_OPTIONS)
@pytest.mark.parametrize("name", TEXT_FIXTURES)
def test_last_hidden_state_matches_hf(name, options):
    """`locus embed DIR --pooling none` returns, for each text, T_i rows (no padding rows) equal to HF's
    last_hidden_state within 1e-4. For classifier and masked-LM checkpoints that is their base encoder's
    output (transformers' hidden_states[-1]); for sentence-transformers folders, the token embeddings of
    sentence-transformers, which truncate at max_seq_length."""
    d, meta, t = load_model_fixture(name)
    texts = meta["texts"]
    want_all = t["last_hidden_state"]
    hidden = meta["hidden_size"]
    out = run_json("embed", d, *device_args(), "--pooling", "none", *options, *texts)
    assert out.get("dim") == hidden, f"{name}: dim {out.get('dim')}, expected {hidden}"
    items = data_items(out, len(texts))
    worst = (0.0, None)
    for i, text in enumerate(texts):
        n_tokens = len(meta["model_input_ids"][i])
        got = np.asarray(items[i].get("last_hidden_state"), dtype=np.float64)
        assert got.ndim == 2 and got.shape[0] == n_tokens, (
            f"{name}: text {i} {text!r}: last_hidden_state has shape {got.shape}, expected ({n_tokens}, {hidden}): "
            f"one row per token of HF's {n_tokens} input ids (no padding rows)")
        want = want_all[i, :n_tokens]
        err = max_abs_error(got, want, f"{name}: text {i} last_hidden_state")
        if err > worst[0]:
            worst = (err, (i, *worst_position(got, want)))
    err, where = worst
    assert err <= TOL, (
        f"{name} {' '.join(options)}: last_hidden_state max abs error {err:.3g} > {TOL:g} at (text, token, dim) "
        f"{where}: text {texts[where[0]]!r}, token id {meta['model_input_ids'][where[0]][where[1]]}")


# --------------------------------------------------------------------------------------------------
# Pooled embeddings
# --------------------------------------------------------------------------------------------------
def expected_pooled(meta, tensors, mode, no_normalize):
    normalized = meta["default_normalize"] and not no_normalize
    return tensors[f"pooled_{mode}" + ("_normalized" if normalized else "")], normalized


def check_embeddings(name, out, texts, want, what):
    items = data_items(out, len(texts))
    got = np.asarray([item.get("embedding") for item in items], dtype=np.float64)
    err = max_abs_error(got, want, f"{name}: {what}")
    assert err <= TOL, (f"{name}: {what}: max abs error {err:.3g} > {TOL:g} at (text, dim) {worst_position(got, want)}"
                        f"; text {texts[worst_position(got, want)[0]]!r}")


@pytest.mark.parametrize("no_normalize", [False, True], ids=["model-normalize", "no-normalize"])
@pytest.mark.parametrize("mode", ["cls", "mean", "max"])
@pytest.mark.parametrize("name", TEXT_FIXTURES)
def test_pooled_embedding_matches_sentence_transformers(name, mode, no_normalize):
    """`locus embed DIR --pooling MODE [--no-normalize]`: sentence-transformers' Pooling (and Normalize, when
    the folder's modules.json has it and --no-normalize is absent) applied to HF's token embeddings."""
    d, meta, t = load_model_fixture(name)
    texts = meta["texts"]
    want, normalized = expected_pooled(meta, t, mode, no_normalize)
    args = ["embed", d, *device_args(), "--pooling", mode] + (["--no-normalize"] if no_normalize else []) + texts
    out = run_json(*args)
    assert out.get("dim") == want.shape[1], f"{name}: dim {out.get('dim')}, expected {want.shape[1]}"
    check_embeddings(name, out, texts, want, f"--pooling {mode}{' (L2-normalised)' if normalized else ''}")


@pytest.mark.parametrize("name", TEXT_FIXTURES)
def test_default_embedding_follows_model_files(name):
    """`locus embed DIR` with no options: the pooling and normalisation of the folder's sentence-transformers
    files (bert-st-*: what SentenceTransformer(DIR).encode gives), else mean pooling without normalisation."""
    d, meta, t = load_model_fixture(name)
    texts = meta["texts"]
    out = run_json("embed", d, *device_args(), *texts)
    check_embeddings(name, out, texts, t["embedding_default"],
                     f"default embedding ({meta['default_pooling']} pooling, "
                     f"{'normalised' if meta['default_normalize'] else 'not normalised'})")


# --------------------------------------------------------------------------------------------------
# Sequence classifiers
# --------------------------------------------------------------------------------------------------
def check_labels(name, i, text, got_labels, want_labels, score_fn):
    """got_labels: locus's list of {"label","score"}; want_labels: HF's, all labels sorted by score. locus may
    print fewer (a top-k); those it prints must be the top ones, in order, with HF's scores."""
    assert isinstance(got_labels, list) and got_labels, f"{name}: text {i}: no labels in output"
    assert len(got_labels) <= len(want_labels), (
        f"{name}: text {i}: {len(got_labels)} labels, the model has {len(want_labels)}")
    want_score = {w["label"]: w["score"] for w in want_labels}
    scores = []
    for rank, g in enumerate(got_labels):
        label = g.get("label")
        assert label in want_score, f"{name}: text {i}: label {label!r} is not one of id2label's {list(want_score)}"
        err = abs(float(g.get("score")) - want_score[label])
        assert err <= TOL, (f"{name}: text {i} {text!r}: {score_fn} score of {label!r} is {g.get('score')}, HF's "
                            f"is {want_score[label]} (error {err:.3g})")
        scores.append(float(g["score"]))
        # Same rank as HF's unless the two scores there are tied within the tolerance.
        w = want_labels[rank]
        assert label == w["label"] or abs(want_score[label] - w["score"]) <= 2 * TOL, (
            f"{name}: text {i}: label at rank {rank} is {label!r}, HF's is {w['label']!r}")
    assert all(a >= b for a, b in zip(scores, scores[1:])), f"{name}: text {i}: labels not sorted by score: {scores}"


@pytest.mark.parametrize("options", [pytest.param([], id="default"), pytest.param(["--batch", "3"], id="batch3")])
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_logits_and_labels_match_hf(name, options):
    """`locus classify DIR TEXT...`: logits of HF's *ForSequenceClassification within 1e-4; labels named by
    id2label, scored by softmax (sigmoid when problem_type is multi_label_classification), sorted."""
    d, meta, t = load_model_fixture(name)
    texts = meta["texts"]
    out = run_json("classify", d, *device_args(), *options, *texts)
    items = data_items(out, len(texts))
    got = np.asarray([item.get("logits") for item in items], dtype=np.float64)
    want = t["logits"]
    err = max_abs_error(got, want, f"{name}: logits")
    assert err <= TOL, f"{name}: logits max abs error {err:.3g} > {TOL:g} at (text, label) {worst_position(got, want)}"
    for i, item in enumerate(items):
        check_labels(name, i, texts[i], item.get("labels"), meta["labels"][i], meta["score_function"])


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_top_k(name):
    """--top-k K prints exactly the K best labels; K = number of labels prints them all."""
    d, meta, _ = load_model_fixture(name)
    texts = meta["texts"][:3]
    n_labels = len(meta["id2label"])
    for k in (1, n_labels):
        out = run_json("classify", d, *device_args(), "--top-k", str(k), *texts)
        items = data_items(out, len(texts))
        for i, item in enumerate(items):
            labels = item.get("labels")
            assert isinstance(labels, list) and len(labels) == k, f"{name}: --top-k {k}: text {i} has {labels!r}"
            check_labels(name, i, texts[i], labels, meta["labels"][i], meta["score_function"])

