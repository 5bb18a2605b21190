"""The committed seed corpus of the C2PA fuzz targets (tests/fuzz/corpus/fuzz_c2pa_*).

The seeds are small files signed by c2pa-python with the test certificates (no thumbnails, so they
stay a few KB), and pieces cut out of them: the manifest stores (JUMBF), claim and assertion CBOR,
COSE_Sign1 signatures; plus two time-stamped COSE signatures from the c2pa-rs fixtures. This test checks that the signed seeds still read as c2pa-python reads them,
and regenerates the whole corpus when LOCUS_REGEN_C2PA_CORPUS=1.
"""
import io
import json
import os
import struct
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIX = REPO.parent / "shared" / "fixtures" / "c2pa"
CERTS = FIX / "certs"
CORPUS = REPO / "tests" / "fuzz" / "corpus"
LOCUS = Path(os.environ.get("LOCUS_BIN", REPO / "build" / "locus"))

c2pa = pytest.importorskip("c2pa", reason="c2pa-python (PyPI c2pa-python) is not installed")


def _sign(src_bytes, fmt, alg, parent=None):
    ctx = c2pa.Context(c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}}))
    info = c2pa.C2paSignerInfo(alg.encode(), (CERTS / f"{alg}.pub").read_bytes(), (CERTS / f"{alg}.pem").read_bytes(), None)
    signer = c2pa.Signer.from_info(info)
    manifest = {"claim_generator_info": [{"name": "locus-fuzz-seed", "version": "1"}], "title": "seed", "assertions": []}
    if parent is None:
        manifest["assertions"] = [{"label": "c2pa.actions", "data": {"actions": [
            {"action": "c2pa.created", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}]
    b = c2pa.Builder(manifest, context=ctx)
    if parent is not None:
        b.set_intent(c2pa.C2paBuilderIntent.EDIT)
        b.add_ingredient({"title": "parent", "relationship": "parentOf"}, fmt, io.BytesIO(parent))
    out = io.BytesIO()
    b.sign(signer, fmt, io.BytesIO(src_bytes), out)
    return out.getvalue()


def _store(data):
    """The manifest store of a JPEG or PNG (reassembled)."""
    if data[:2] == b"\xff\xd8":
        i, store = 2, b""
        while data[i] == 0xFF and data[i + 1] not in (0xD9, 0xDA):
            n = struct.unpack(">H", data[i + 2:i + 4])[0]
            if data[i + 1] == 0xEB and data[i + 4:i + 6] == b"JP":
                z = struct.unpack(">I", data[i + 8:i + 12])[0]
                store += data[i + 12:i + 2 + n] if z == 1 else data[i + 20:i + 2 + n]
            i += 2 + n
        return store
    i = 8
    while i < len(data):
        n, t = struct.unpack(">I4s", data[i:i + 8])
        if t == b"caBX":
            return data[i + 8:i + 8 + n]
        i += 12 + n
    return b""


def _content_boxes(store, start=0, end=None, path=""):
    end = len(store) if end is None else end
    o = start
    while o + 8 <= end:
        n, t = struct.unpack(">I4s", store[o:o + 8])
        if t == b"jumb":
            dl = struct.unpack(">I", store[o + 8:o + 12])[0]
            label = store[o + 33:store.index(b"\0", o + 33)].decode()
            yield from _content_boxes(store, o + 8 + dl, o + n, f"{path}/{label}")
        else:
            yield path, t, store[o + 8:o + n]
        o += n


def regenerate():
    from PIL import Image
    img = Image.new("RGB", (24, 16))
    img.putdata([((x * 10) % 256, (y * 15) % 256, 128) for y in range(16) for x in range(24)])
    jb, pb = io.BytesIO(), io.BytesIO()
    img.save(jb, "JPEG", quality=70)
    img.save(pb, "PNG")
    plain_jpg, plain_png = jb.getvalue(), pb.getvalue()
    files = {
        "fuzz_c2pa_jpeg/plain.jpg": plain_jpg,
        "fuzz_c2pa_png/plain.png": plain_png,
    }
    es256_jpg = _sign(plain_jpg, "image/jpeg", "es256")
    files["fuzz_c2pa_jpeg/es256.jpg"] = es256_jpg
    files["fuzz_c2pa_jpeg/ed25519_parent.jpg"] = _sign(plain_jpg, "image/jpeg", "ed25519", parent=es256_jpg)
    es256_png = _sign(plain_png, "image/png", "es256")
    files["fuzz_c2pa_png/es256.png"] = es256_png
    files["fuzz_c2pa_png/es384_parent.png"] = _sign(plain_png, "image/png", "es384", parent=es256_png)
    for name in ("fuzz_c2pa_jpeg/es256.jpg", "fuzz_c2pa_jpeg/ed25519_parent.jpg", "fuzz_c2pa_png/es384_parent.png"):
        store = _store(files[name])
        stem = Path(name).stem
        files[f"fuzz_c2pa_jumbf/{stem}.jumbf"] = store
        for path, t, payload in _content_boxes(store):
            leaf = path.rsplit("/", 1)[-1]
            if t == b"cbor" and leaf.startswith("c2pa.signature"):
                files[f"fuzz_c2pa_cose/{stem}.cose"] = payload
            elif t == b"cbor":
                files[f"fuzz_c2pa_cbor/{stem}_{leaf}.cbor"] = payload
    # Box-hashed (c2pa.hash.boxes) seeds, signed through c2pa-rs's embeddable workflow.
    import tempfile
    from test_c2pa_verify import c2pa_sign_box_hashed
    with tempfile.TemporaryDirectory() as d:
        for name, plain, fmt in (("fuzz_c2pa_jpeg/boxhash.jpg", plain_jpg, "image/jpeg"),
                                 ("fuzz_c2pa_png/boxhash.png", plain_png, "image/png")):
            src = Path(d) / Path(name).name
            src.write_bytes(plain)
            files[name] = c2pa_sign_box_hashed(src, Path(d) / ("signed_" + src.name), fmt).read_bytes()
    # COSE signatures with RFC 3161 time-stamps (sigTst over the claim, sigTst2 over the signature),
    # from the c2pa-rs fixtures (c2pa-python signs without a time-stamp authority here).
    for fixture, stem in (("C.jpg", "C_sigTst"), ("CACA.jpg", "CACA_sigTst2")):
        store = _store((FIX / fixture).read_bytes())
        sigs = [payload for path, t, payload in _content_boxes(store) if path.endswith("/c2pa.signature")]
        files[f"fuzz_c2pa_cose/{stem}.cose"] = sigs[-1]
    for rel, data in files.items():
        p = CORPUS / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


if os.environ.get("LOCUS_REGEN_C2PA_CORPUS") == "1":
    regenerate()


SIGNED = sorted(str(p.relative_to(CORPUS)) for d in ("fuzz_c2pa_jpeg", "fuzz_c2pa_png")
                for p in (CORPUS / d).glob("*") if not p.name.startswith("plain"))


def test_corpus_present():
    for d in ("fuzz_c2pa_jpeg", "fuzz_c2pa_png", "fuzz_c2pa_jumbf", "fuzz_c2pa_cbor", "fuzz_c2pa_cose"):
        assert any((CORPUS / d).iterdir()), d


@pytest.mark.skipif(not LOCUS.exists(), reason=f"locus binary not built at {LOCUS}")
@pytest.mark.skipif(not CERTS.is_dir(), reason="test certificates not found")
@pytest.mark.parametrize("rel", SIGNED)
def test_signed_seed_reads_as_c2pa_python_reads_it(rel):
    path = CORPUS / rel
    trust = CERTS / "test_cert_root_bundle.pem"
    ctx = c2pa.Context(c2pa.Settings.from_dict({"trust": {"trust_anchors": trust.read_text()},
                                                "verify": {"verify_trust": True}}))
    j = json.loads(c2pa.Reader(str(path), context=ctx).json())
    p = subprocess.run([str(LOCUS), "verify", str(path), "--json", "--trust", str(trust)],
                       capture_output=True, text=True)
    ours = json.loads(p.stdout)
    assert j["validation_state"] == "Trusted" and ours["validation_state"] == "Trusted", (j.get("validation_status"), ours)
    assert len(ours["manifests"]) == len(j["manifests"])
