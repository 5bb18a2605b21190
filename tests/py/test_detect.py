"""`locus detect`: content credentials and a detector model's probability, per image.

Oracles:
  * credentials: the files' expected states (../shared/fixtures/c2pa/README.md, c2pa-python) and c2pa-python's
    own reading of files signed here (digitalSourceType as c2pa-rs reads it back);
  * detector: the score `locus classify` prints for the same image and label (same batches: exactly equal),
    and the Hugging Face transformers scores committed with the vit-tiny fixture (fixtures/models/*/expected.*,
    written by scripts/gen_fixtures.py), within the end-to-end tolerance of the vision parity tests.
The detector is a copy of the random-weight vit-tiny fixture whose id2label says Real / Fake / Other; its
probabilities mean nothing about the images, only that the plumbing computes the right number.
"""
import json
import math
import os
import shutil

import numpy as np
import pytest

from conftest import REPO, command_help, device_args, load_model_fixture, run_locus
from test_c2pa_sign_helpers import CERTS, FIXTURES, IPTC, TRUST, c2pa_module, c2pa_read, fixture, locus_sign

VIT = "vit-tiny-bilinear"
TOL_HF = 2e-3  # as test_parity_vision's end-to-end tolerance: locus's decoding and resampling in front
BAD = REPO / "tests" / "data" / "images"


def detect(*args, expect_rc=0):
    """Run `locus detect ARGS --json`; check the exit status; return (doc, proc)."""
    proc = run_locus("detect", *args, "--json")
    if proc.returncode == 2 and "not built" in proc.stderr:
        pytest.skip("locus detect is not built into this binary")
    assert proc.returncode == expect_rc, (f"`locus detect {' '.join(map(str, args))}` exited {proc.returncode}, "
                                          f"expected {expect_rc}:\n{proc.stderr}")
    doc = json.loads(proc.stdout)
    assert set(doc) == {"files"} and isinstance(doc["files"], list)
    return doc, proc


def human(*args, expect_rc=0):
    proc = run_locus("detect", *args)
    assert proc.returncode == expect_rc, f"exit {proc.returncode}, expected {expect_rc}:\n{proc.stderr}"
    return proc.stdout.splitlines(), proc


def by_file(doc):
    return {f["file"]: f for f in doc["files"]}


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    """The vit-tiny fixture with id2label Real / Fake / Other (the weights have three outputs)."""
    src = REPO / "fixtures" / "models" / VIT
    if not src.is_dir():
        pytest.skip(f"model fixture {src} missing")
    d = tmp_path_factory.mktemp("detector") / "realfake"
    shutil.copytree(src, d)
    cfg = json.loads((d / "config.json").read_text())
    cfg["id2label"] = {"0": "Real", "1": "Fake", "2": "Other"}
    cfg["label2id"] = {"Real": 0, "Fake": 1, "Other": 2}
    (d / "config.json").write_text(json.dumps(cfg, indent=1))
    return d


def rel(name):
    """A fixture path relative to the repository root (the tests run locus from there)."""
    fixture(name)
    return f"../shared/fixtures/c2pa/{name}"


# ---- credentials ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["no_manifest.jpg", "IMG_0003.jpg", "sample1.png", "libpng-test.png"])
def test_unsigned_file_is_absent(name):
    doc, _ = detect(rel(name))
    (f,) = doc["files"]
    assert f["file"] == rel(name) and f["error"] is None and f["detector"] is None
    c = f["credentials"]
    assert c["state"] == "Absent"
    assert c["generative_ai_declared"] is None and c["synthetic_declared"] is None
    assert c["signer"] is None and c["generator"] is None and c["source_types"] == [] and c["status"] == []
    lines, _ = human(rel(name))
    assert lines == [f"{rel(name)}: no content credentials: provenance unknown"]


def test_signed_file_valid_then_trusted_with_root_bundle():
    doc, _ = detect(rel("C.jpg"))
    c = doc["files"][0]["credentials"]
    assert c["state"] == "Valid"
    assert c["status"] == ["signingCredential.untrusted"]
    # Independent reading of the same manifest.
    state, codes, store = c2pa_read((FIXTURES / "C.jpg").read_bytes())
    m = store["manifests"][store["active_manifest"]]
    assert c["generator"] == m["claim_generator"]
    assert c["signer"] == m["signature_info"]["common_name"]
    assert c["issuer"] == m["signature_info"]["issuer"]
    # C.jpg's c2pa.created declares algorithmicMedia: synthetic, but not generative AI (no trained model).
    assert c["source_types"] == [IPTC + "algorithmicMedia"]
    assert c["synthetic_declared"] is True and c["generative_ai_declared"] is False

    doc, _ = detect(rel("C.jpg"), "--trust", TRUST)
    c = doc["files"][0]["credentials"]
    assert state == "Trusted" and codes == []  # c2pa-python with the same trust anchors
    assert c["state"] == "Trusted" and c["status"] == []
    lines, _ = human(rel("C.jpg"), "--trust", TRUST)
    assert lines[0].startswith(f"{rel('C.jpg')}: credentials Trusted (signed by C2PA Signer")
    assert "not generative AI: algorithmicMedia" in lines[0]
    lines, _ = human(rel("C.jpg"))
    assert "credentials Valid" in lines[0] and "no trust list given" in lines[0]


def test_tampered_file_is_invalid_with_data_hash_mismatch():
    doc, _ = detect(rel("XCA.jpg"), "--trust", TRUST)  # the file itself is read fine: exit 0
    f = doc["files"][0]
    assert f["error"] is None
    assert f["credentials"]["state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in f["credentials"]["status"]
    _, codes, _ = c2pa_read((FIXTURES / "XCA.jpg").read_bytes())
    assert "assertion.dataHash.mismatch" in codes
    lines, _ = human(rel("XCA.jpg"))
    assert "credentials Invalid: assertion.dataHash.mismatch" in lines[0]
    assert "changed after signing" in lines[0] and "unverified" in lines[0]


def c2pa_python_sign(src, dst, source_type):
    """Sign with c2pa-python (an independent producer), declaring a digitalSourceType on c2pa.created."""
    c2pa = c2pa_module()
    info = c2pa.C2paSignerInfo(b"es256", (CERTS / "es256.pub").read_bytes(), (CERTS / "es256.pem").read_bytes(),
                               None)
    signer = c2pa.Signer.from_info(info)
    manifest = {"claim_generator_info": [{"name": "locus-detect-tests", "version": "1"}], "title": "generated",
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created", "digitalSourceType": source_type}]}}]}
    try:
        c2pa.Builder(manifest).sign_file(str(src), str(dst), signer)
    finally:
        signer.close()


@pytest.mark.parametrize("source_type,gen_ai,synthetic", [
    ("trainedAlgorithmicMedia", True, True),
    (IPTC + "compositeWithTrainedAlgorithmicMedia", True, True),
    (IPTC + "algorithmicMedia", False, True),
    (IPTC + "compositeSynthetic", False, True),
    ("digitalCapture", False, False),
])
@pytest.mark.parametrize("name", ["sample1.png", "no_manifest.jpg"])
def test_declared_source_type_of_a_file_signed_here(tmp_path, name, source_type, gen_ai, synthetic):
    out = tmp_path / f"signed_{name}"
    locus_sign(fixture(name), out, "es256", "--source-type", source_type)
    # c2pa-python reads the declaration back; locus detect must report what it reads.
    state, codes, store = c2pa_read(out.read_bytes())
    assert state == "Trusted" and codes == []
    acts = next(a for a in store["manifests"][store["active_manifest"]]["assertions"]
                if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    declared = [a["digitalSourceType"] for a in acts if "digitalSourceType" in a]
    doc, _ = detect(out, "--trust", TRUST)
    c = doc["files"][0]["credentials"]
    assert c["state"] == "Trusted"
    assert c["source_types"] == declared
    assert c["generative_ai_declared"] is gen_ai and c["synthetic_declared"] is synthetic
    lines, _ = human(out)
    term = source_type.rsplit("/", 1)[-1]
    if gen_ai:
        assert f"; declares generative AI: {term})" in lines[0]
    elif synthetic:
        assert f"declares synthetic content, not generative AI: {term})" in lines[0]
    else:
        assert "declares no generative AI" in lines[0] and "declares generative AI" not in lines[0]


def test_generative_ai_declared_by_c2pa_python_signed_file(tmp_path):
    out = tmp_path / "gen.jpg"
    c2pa_python_sign(fixture("no_manifest.jpg"), out, IPTC + "trainedAlgorithmicMedia")
    doc, _ = detect(out, "--trust", TRUST)
    c = doc["files"][0]["credentials"]
    assert c["state"] == "Trusted"
    assert c["generator"].startswith("locus-detect-tests")
    assert c["source_types"] == [IPTC + "trainedAlgorithmicMedia"] and c["generative_ai_declared"] is True


def test_generative_ai_declared_by_an_ingredient(tmp_path):
    """A generated file edited and signed again: the new active manifest declares nothing itself, its parent
    ingredient's manifest declares trainedAlgorithmicMedia."""
    gen = tmp_path / "gen.png"
    locus_sign(fixture("sample1.png"), gen, "es256", "--source-type", "trainedAlgorithmicMedia")
    edited = tmp_path / "edited.png"
    locus_sign(gen, edited, "es256", "--trust", TRUST)
    doc, _ = detect(edited, "--trust", TRUST)
    c = doc["files"][0]["credentials"]
    assert c["state"] == "Trusted"
    assert c["source_types"] == []
    assert c["ingredient_source_types"] == [IPTC + "trainedAlgorithmicMedia"]
    assert c["generative_ai_declared"] is True
    lines, _ = human(edited)
    assert "an ingredient declares generative AI: trainedAlgorithmicMedia" in lines[0]


# ---- the detector ---------------------------------------------------------------------------------

def classify_scores(model, files, label, batch):
    proc = run_locus("classify", model, *device_args(), "--batch", batch, *files, check=True)
    out = json.loads(proc.stdout)
    return [next(l["score"] for l in item["labels"] if l["label"] == label) for item in out["data"]]


def test_detector_probability_equals_classify_and_hf(detector):
    _, meta, t = load_model_fixture(VIT)
    files = meta["images"]
    for f in files:
        if not (REPO / f).is_file():
            pytest.skip(f"test image {f} missing")
    doc, _ = detect("--model", detector, *device_args(), "--batch", 2, *files)
    got = by_file(doc)
    assert [f["file"] for f in doc["files"]] == files
    want_classify = classify_scores(detector, files, "Fake", 2)
    on_gpu = any(a.startswith("cuda") for a in device_args())
    hf = np.asarray(t["scores"], dtype=np.float64)[:, 1]  # id 1 is "Fake" in the test copy
    for i, f in enumerate(files):
        det = got[f]["detector"]
        assert det == {"model": str(detector), "label": "Fake", "p_synthetic": det["p_synthetic"]}
        p = det["p_synthetic"]
        if on_gpu:  # two processes: the GEMM autotune may time another algorithm fastest (other rounding)
            assert abs(p - want_classify[i]) <= 1e-6, f"{f}: detect says {p}, classify says {want_classify[i]}"
        else:
            assert p == want_classify[i], f"{f}: detect says {p}, classify says {want_classify[i]}"
        assert abs(p - hf[i]) <= TOL_HF, f"{f}: p_synthetic {p}, transformers' softmax score {hf[i]}"
    # Batching does not change the answer beyond float rounding.
    doc1, _ = detect("--model", detector, *device_args(), "--batch", 1, *files)
    for f in doc1["files"]:
        assert abs(f["detector"]["p_synthetic"] - got[f["file"]]["detector"]["p_synthetic"]) <= 1e-5


def test_detector_multi_label_head_uses_sigmoid(detector, tmp_path):
    d = tmp_path / "multi"
    shutil.copytree(detector, d)
    cfg = json.loads((d / "config.json").read_text())
    cfg["problem_type"] = "multi_label_classification"
    (d / "config.json").write_text(json.dumps(cfg))
    files = [rel("C.jpg"), rel("IMG_0003.jpg")]
    doc, _ = detect("--model", d, *files)
    logits = [item["logits"] for item in json.loads(run_locus("classify", d, *files, check=True).stdout)["data"]]
    for f, lg in zip(doc["files"], logits):
        assert math.isclose(f["detector"]["p_synthetic"], 1 / (1 + math.exp(-lg[1])), rel_tol=1e-6)


def test_human_line_states_sources_and_no_certainty(detector):
    lines, _ = human("--model", detector, rel("C.jpg"), rel("no_manifest.jpg"))
    assert len(lines) == 2
    for line in lines:
        assert f'detector: p(synthetic) ' in line and f'(model {detector}, label "Fake")' in line
        assert "certain" not in line.lower() and "100%" not in line
    assert lines[1].startswith(f"{rel('no_manifest.jpg')}: no content credentials: provenance unknown; detector:")


def test_probability_display_never_rounds_to_certainty(tmp_path, detector):
    """A head whose Fake logit dwarfs the rest (classifier weight 0, bias (0, 50, 0)): shown as >0.99, never
    1.00. The tensors are overwritten in place in the safetensors file (8-byte header length, JSON header,
    raw little-endian data)."""
    d = tmp_path / "sure"
    shutil.copytree(detector, d)
    raw = bytearray((d / "model.safetensors").read_bytes())
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    for name, info in header.items():
        if name.endswith("classifier.weight") or name.endswith("classifier.bias"):
            assert info["dtype"] == "F32"
            start, end = (8 + n + o for o in info["data_offsets"])
            values = np.zeros((end - start) // 4, dtype="<f4")
            if name.endswith("bias"):
                values[1] = 50
            raw[start:end] = values.tobytes()
    (d / "model.safetensors").write_bytes(bytes(raw))
    doc, _ = detect("--model", d, rel("C.jpg"))
    assert doc["files"][0]["detector"]["p_synthetic"] > 0.999
    lines, _ = human("--model", d, rel("C.jpg"))
    assert "p(synthetic) >0.99" in lines[0] and "1.00" not in lines[0]


# ---- inputs ----------------------------------------------------------------------------------------

def test_directories_are_walked(tmp_path, detector):
    root = tmp_path / "photos"
    (root / "sub" / "deeper").mkdir(parents=True)
    shutil.copy(fixture("C.jpg"), root / "b.jpg")
    shutil.copy(fixture("no_manifest.jpg"), root / "sub" / "a.JPG")
    shutil.copy(fixture("sample1.png"), root / "sub" / "deeper" / "c.png")
    (root / "notes.txt").write_text("not an image")
    (root / ".hidden.jpg").write_bytes(b"ignored")
    doc, _ = detect("--model", detector, root, rel("XCA.jpg"))
    names = [f["file"] for f in doc["files"]]
    assert names == [str(root / "b.jpg"), str(root / "sub" / "a.JPG"), str(root / "sub" / "deeper" / "c.png"),
                     rel("XCA.jpg")]
    states = [f["credentials"]["state"] for f in doc["files"]]
    assert states == ["Valid", "Absent", "Absent", "Invalid"]
    assert all(isinstance(f["detector"]["p_synthetic"], float) for f in doc["files"])
    # A file name that is not UTF-8 still gives valid JSON (its non-ASCII bytes shown as '?').
    odd = tmp_path / "odd"
    odd.mkdir()
    shutil.copy(fixture("C.jpg"), os.path.join(os.fsencode(odd), b"caf\xe9.jpg"))
    doc, _ = detect(odd)
    assert [f["file"] for f in doc["files"]] == [f"{odd}/caf?.jpg"]
    assert doc["files"][0]["credentials"]["state"] == "Valid"


@pytest.mark.parametrize("batch", [2, 16])
def test_unreadable_files_reported_on_their_own_line_exit_3(detector, tmp_path, batch):
    for name in ("bad_truncated.jpg", "bad_not_image.jpg", "bad_corrupt.png"):
        if not (BAD / name).is_file():
            pytest.skip(f"{BAD / name} missing")
    missing = tmp_path / "missing.jpg"
    files = [rel("C.jpg"), BAD / "bad_truncated.jpg", BAD / "bad_not_image.jpg", missing, BAD / "bad_corrupt.png",
             rel("no_manifest.jpg")]
    doc, proc = detect("--model", detector, "--batch", batch, *files, expect_rc=3)
    got = [f["file"] for f in doc["files"]]
    assert got == [str(f) for f in files]
    good = [doc["files"][0], doc["files"][-1]]
    for f in good:
        assert f["error"] is None and f["credentials"] is not None and f["detector"] is not None
    truncated, not_image, gone, corrupt = doc["files"][1:5]
    # The container reads (no credentials), the pixels do not.
    assert truncated["credentials"]["state"] == "Absent" and truncated["detector"] is None
    assert "truncated" in truncated["error"].lower()
    assert not_image["credentials"] is None and "not a JPEG or PNG" in not_image["error"]
    assert gone["credentials"] is None and "cannot open" in gone["error"]
    assert corrupt["credentials"] is None and "corrupt" in corrupt["error"].lower()
    assert "4 of 6 files could not be read or scored (see their lines)" in proc.stderr
    lines, _ = human("--model", detector, *files, expect_rc=3)
    assert len(lines) == len(files)
    assert lines[2] == f"{BAD / 'bad_not_image.jpg'}: error: not a JPEG or PNG file"
    assert lines[3].startswith(f"{missing}: error: cannot open")
    assert "; detector: not run; error: " in lines[1]
    # Without a model, a file that is not an image is still an error.
    _, proc = detect(BAD / "bad_not_image.jpg", rel("C.jpg"), expect_rc=3)


def test_malformed_credentials_do_not_stop_the_detector(detector, tmp_path):
    """A JPEG whose C2PA store declares an absurd length: the credentials cannot be read (error, exit 3), but
    the pixels are intact and the detector still scores them, as on the untouched file."""
    data = bytearray(fixture("C.jpg").read_bytes())
    i = 2
    while data[i + 1] != 0xEB:  # walk the JPEG segments to the first APP11
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    jumbf = i + 4 + 8  # after the marker, the length, "JP", instance, sequence
    assert data[jumbf + 4:jumbf + 8] == b"jumb"
    data[jumbf:jumbf + 4] = (0xFFFFFFF0).to_bytes(4, "big")
    bad = tmp_path / "bad_store.jpg"
    bad.write_bytes(bytes(data))
    doc, _ = detect("--model", detector, *device_args(), bad, rel("C.jpg"), expect_rc=3)
    broken, good = doc["files"]
    assert broken["credentials"] is None and "absurd length" in broken["error"]
    assert abs(broken["detector"]["p_synthetic"] - good["detector"]["p_synthetic"]) <= 1e-5  # same pixels
    lines, _ = human("--model", detector, bad, expect_rc=3)
    assert lines[0].startswith(f"{bad}: error: ") and "; detector: p(synthetic) " in lines[0]


def test_fake_label_choice_and_errors(detector, tmp_path):
    plain = REPO / "fixtures" / "models" / VIT  # labels cat, dog, bird
    c = rel("C.jpg")
    # No label looks synthetic: an error naming the labels, exit 2.
    proc = run_locus("detect", "--model", plain, c)
    assert proc.returncode == 2 and "--fake-label" in proc.stderr and '"cat", "dog", "bird"' in proc.stderr
    assert proc.stdout == ""
    # A label that does not exist.
    proc = run_locus("detect", "--model", detector, "--fake-label", "Synthetic", c)
    assert proc.returncode == 2 and "not a label of the model" in proc.stderr and '"Fake"' in proc.stderr
    # --fake-label without --model.
    assert run_locus("detect", "--fake-label", "Fake", c).returncode == 2
    # Naming any label works (here "dog" of the plain fixture), matching case-insensitively when unique.
    doc, _ = detect("--model", plain, "--fake-label", "dog", c)
    assert doc["files"][0]["detector"]["label"] == "dog"
    doc2, _ = detect("--model", detector, "--fake-label", "fake", c)
    assert doc2["files"][0]["detector"]["label"] == "Fake"
    # Several labels that look synthetic: ambiguous, exit 2; --fake-label settles it.
    d = tmp_path / "ambiguous"
    shutil.copytree(detector, d)
    cfg = json.loads((d / "config.json").read_text())
    cfg["id2label"] = {"0": "human_generated", "1": "AI generated", "2": "real"}
    cfg["label2id"] = {v: int(k) for k, v in cfg["id2label"].items()}
    (d / "config.json").write_text(json.dumps(cfg))
    proc = run_locus("detect", "--model", d, c)
    assert proc.returncode == 2 and "several labels" in proc.stderr
    doc, _ = detect("--model", d, "--fake-label", "AI generated", c)
    assert doc["files"][0]["detector"]["label"] == "AI generated"
    # "ai" counts as a word only: "plain"/"chair" do not look synthetic, "AI" does.
    cfg["id2label"] = {"0": "plain", "1": "chair", "2": "AI"}
    cfg["label2id"] = {v: int(k) for k, v in cfg["id2label"].items()}
    (d / "config.json").write_text(json.dumps(cfg))
    doc, _ = detect("--model", d, c)
    assert doc["files"][0]["detector"]["label"] == "AI"


def test_usage_errors():
    assert run_locus("detect").returncode == 2
    assert run_locus("detect", "--bogus", rel("C.jpg")).returncode == 2
    assert run_locus("detect", "--batch", "0", rel("C.jpg")).returncode == 2
    assert run_locus("detect", "--model").returncode == 2
    proc = run_locus("detect", "--model", REPO / "fixtures" / "models" / "nonexistent", rel("C.jpg"))
    assert proc.returncode == 1 and "nonexistent" in proc.stderr
    proc = run_locus("detect", "--model", REPO / "fixtures" / "models" / "bert-cls", rel("C.jpg"))
    assert proc.returncode == 1 and "not an image classifier" in proc.stderr


def test_json_schema_and_help(detector):
    jsonschema = pytest.importorskip("jsonschema")
    nullable_str = {"type": ["string", "null"]}
    schema = {
        "type": "object", "required": ["files"], "additionalProperties": False,
        "properties": {"files": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["file", "error", "credentials", "detector"],
            "properties": {
                "file": {"type": "string"}, "error": nullable_str,
                "credentials": {"oneOf": [{"type": "null"}, {
                    "type": "object", "additionalProperties": False,
                    "required": ["state", "signer", "issuer", "generator", "signed_at", "generative_ai_declared",
                                 "synthetic_declared", "source_types", "ingredient_source_types", "status"],
                    "properties": {
                        "state": {"enum": ["Absent", "Invalid", "Valid", "Trusted"]},
                        "signer": nullable_str, "issuer": nullable_str, "generator": nullable_str,
                        "signed_at": nullable_str,
                        "generative_ai_declared": {"type": ["boolean", "null"]},
                        "synthetic_declared": {"type": ["boolean", "null"]},
                        "source_types": {"type": "array", "items": {"type": "string"}},
                        "ingredient_source_types": {"type": "array", "items": {"type": "string"}},
                        "status": {"type": "array", "items": {"type": "string"}}}}]},
                "detector": {"oneOf": [{"type": "null"}, {
                    "type": "object", "additionalProperties": False, "required": ["model", "label", "p_synthetic"],
                    "properties": {"model": {"type": "string"}, "label": {"type": "string"},
                                   "p_synthetic": {"type": "number", "minimum": 0, "maximum": 1}}}]}}}}}}
    fixture("C.jpg")
    doc, _ = detect("--model", detector, "--trust", TRUST, "../shared/fixtures/c2pa", BAD / "bad_not_image.jpg",
                    expect_rc=3)
    jsonschema.validate(doc, schema)
    assert len(doc["files"]) >= 10
    text = command_help("detect")
    for word in ("--model", "--fake-label", "--trust", "--json", "--batch", "p_synthetic", "generative_ai_declared",
                 "exit status"):
        assert word in text, f"`locus detect --help` does not mention {word}"
