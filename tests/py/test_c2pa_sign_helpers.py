"""Shared helpers of the C2PA signing and tampering tests (no tests here).

The oracle is c2pa-python (bindings to c2pa-rs), configured with the test trust anchors of
../shared/fixtures/c2pa/certs/test_cert_root_bundle.pem. locus is run as a program ($LOCUS_BIN,
default build/locus).
"""
import io
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO.parent / "shared" / "fixtures" / "c2pa"
CERTS = FIXTURES / "certs"
TRUST = CERTS / "test_cert_root_bundle.pem"
ALGS = ["es256", "ps256", "ed25519"]
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def locus_bin():
    p = Path(os.environ.get("LOCUS_BIN", REPO / "build" / "locus"))
    if not p.exists():
        pytest.skip(f"locus binary not built ({p})")
    return p


def fixture(name):
    p = FIXTURES / name
    if not p.exists():
        pytest.skip(f"fixture {p} missing")
    return p


def c2pa_module():
    try:
        import c2pa  # noqa: F401
    except Exception as e:  # pragma: no cover - depends on the machine
        pytest.skip(f"c2pa-python cannot be imported: {e}")
    return c2pa


def c2pa_context():
    c2pa = c2pa_module()
    settings = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": TRUST.read_text()}}
    return c2pa.Context.from_dict(settings)


def mime_of(data):
    return "image/png" if data[:4] == b"\x89PNG" else "image/jpeg"


def c2pa_read(data):
    """c2pa-python's view of a file's bytes: (validation_state, failure codes, manifest store JSON).
    A file c2pa-python refuses to parse gives ("Error", [message], None)."""
    c2pa = c2pa_module()
    try:
        with c2pa.Reader(mime_of(data), io.BytesIO(data), context=c2pa_context()) as r:
            store = json.loads(r.json())
    except c2pa.C2paError as e:
        return "Error", [str(e)], None
    failures = store.get("validation_results", {}).get("activeManifest", {}).get("failure", [])
    codes = [f["code"] for f in failures] + [s["code"] for s in store.get("validation_status", []) or []]
    return store.get("validation_state"), sorted(set(codes)), store


def locus_sign(src, dst, alg="es256", *extra, check=True):
    cmd = [str(locus_bin()), "sign", str(src), "-o", str(dst), "--cert", str(CERTS / f"{alg}.pub"),
           "--key", str(CERTS / f"{alg}.pem"), "--alg", alg, *map(str, extra)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr}"
    return r


def locus_verify(path):
    """(exit status, parsed JSON or None, stderr) of `locus verify --json`; skips when the verify
    command is not built into the binary."""
    r = subprocess.run([str(locus_bin()), "verify", str(path), "--trust", str(TRUST), "--json"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode == 2 and "not built" in r.stderr:
        pytest.skip("locus verify is not built into this binary yet")
    doc = None
    if r.stdout.strip():
        try:
            doc = json.loads(r.stdout)
        except json.JSONDecodeError:
            doc = None
    return r.returncode, doc, r.stderr


def locus_codes(doc):
    return sorted({s["code"] for s in (doc or {}).get("validation_status", []) or []})


def _failure_split(j):
    """(state, failure codes, active manifest failures, ingredient deltas, failures recorded in
    ingredients) of a c2patool-shaped report: the last three as sorted (code, url) tuples, the deltas
    with their ingredient assertion URI first, the recorded ones with the ingredient's manifest."""
    vr = j.get("validation_results") or {}
    active = sorted((f["code"], f.get("url")) for f in (vr.get("activeManifest") or {}).get("failure", []))
    deltas = sorted((d["ingredientAssertionURI"], f["code"], f.get("url")) for d in vr.get("ingredientDeltas") or []
                    for f in (d.get("validationDeltas") or {}).get("failure", []))
    recorded = sorted((g.get("active_manifest"), f["code"], f.get("url")) for m in j["manifests"].values()
                      for g in m.get("ingredients", [])
                      for f in ((g.get("validation_results") or {}).get("activeManifest") or {}).get("failure", []))
    codes = sorted({s["code"] for s in j.get("validation_status") or []})
    return j["validation_state"], codes, active, deltas, recorded


def c2pa_verdict(path, anchors=TRUST):
    """c2pa-python's judgement of a file (see _failure_split), with these trust anchors (None: none)."""
    c2pa = c2pa_module()
    settings = {"verify": {"verify_trust": True}}
    if anchors:
        settings["trust"] = {"trust_anchors": Path(anchors).read_text()}
    r = c2pa.Reader(str(path), context=c2pa.Context(c2pa.Settings.from_dict(settings)))
    return _failure_split(json.loads(r.json()))


def locus_verdict(path, anchors=TRUST):
    """`locus verify --json`'s judgement of a file, in the same shape as c2pa_verdict."""
    cmd = [str(locus_bin()), "verify", str(path), "--json"] + (["--trust", str(anchors)] if anchors else [])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode == 2 and "not built" in r.stderr:
        pytest.skip("locus verify is not built into this binary yet")
    assert r.returncode in (0, 1), (cmd, r.returncode, r.stderr)
    doc = json.loads(r.stdout)
    # validation_status and the split in validation_results hold the same failures
    split = [(f["code"], f["url"]) for f in doc["validation_results"]["activeManifest"]["failure"]]
    split += [(f["code"], f["url"]) for d in doc["validation_results"].get("ingredientDeltas", [])
              for f in d["validationDeltas"]["failure"]]
    assert sorted(split) == sorted((f["code"], f["url"]) for f in doc["validation_status"]), doc
    return _failure_split(doc)


def py_sign(src, dst, alg="es256", title="signed by c2pa-python", extra_assertions=(), edit=False):
    """Sign with c2pa-python itself (no time-stamp authority), as an independent producer."""
    c2pa = c2pa_module()
    info = c2pa.C2paSignerInfo(alg.encode(), (CERTS / f"{alg}.pub").read_bytes(), (CERTS / f"{alg}.pem").read_bytes(),
                               None)
    signer = c2pa.Signer.from_info(info)
    manifest = {"claim_generator_info": [{"name": "locus-tests", "version": "1"}], "title": title,
                "assertions": list(extra_assertions)}
    if not edit:
        manifest["assertions"].append({"label": "c2pa.actions", "data": {"actions": [
            {"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"}]}})
    b = c2pa.Builder(manifest)
    if edit:
        b.set_intent(c2pa.C2paBuilderIntent.EDIT)
    b.sign_file(str(src), str(dst), signer)
    signer.close()


# ---- where the manifest store sits in a file ------------------------------------------------------

def store_pieces(data):
    """[(file offset, length)] of the C2PA store's bytes in file order: the JUMBF payload of each
    APP11 segment (JPEG) or the caBX chunk data (PNG)."""
    if data[:4] == b"\x89PNG":
        i = 8
        while i + 12 <= len(data):
            n = int.from_bytes(data[i:i + 4], "big")
            if data[i + 4:i + 8] == b"caBX":
                return [(i + 8, n)]
            i += 12 + n
        return []
    pieces, i, en = [], 2, None
    while i + 4 <= len(data) and data[i] == 0xFF:
        m, n = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if m == 0xDA:
            break
        seg = data[i + 4:i + 2 + n]  # CI, En, Z, then the box (Z = 1) or LBox+TBox and more box
        if m == 0xEB and seg[:2] == b"JP":
            z = int.from_bytes(seg[4:8], "big")
            if z == 1 and seg[12:16] == b"jumb" and seg[20:24] == b"jumd" and seg[24:28] == b"c2pa":
                en = seg[2:4]
            if en is not None and seg[2:4] == en:
                skip = 8 if z == 1 else 16
                pieces.append((i + 4 + skip, n - 2 - skip))
        i += 2 + n
    return pieces


def store_bytes(data):
    return b"".join(data[o:o + n] for o, n in store_pieces(data))


def store_to_file_offset(data, k):
    for o, n in store_pieces(data):
        if k < n:
            return o + k
        k -= n
    raise IndexError(k)


def jumbf_boxes(store, base=0, path=""):
    """{label path: (offset, length)} of every superbox, offsets within the store."""
    out, i = {}, 0
    while i + 8 <= len(store):
        n = int.from_bytes(store[i:i + 4], "big")
        if n < 8 or i + n > len(store):
            break
        if store[i + 4:i + 8] == b"jumb":
            dl = int.from_bytes(store[i + 8:i + 12], "big")
            label_start = i + 8 + 8 + 17
            label = store[label_start:store.index(b"\0", label_start)].decode()
            p = f"{path}/{label}"
            out[p] = (base + i, n)
            out.update(jumbf_boxes(store[i + 8 + dl:i + n], base + i + 8 + dl, p))
        i += n
    return out


def fix_png_crcs(data):
    """Recompute every PNG chunk CRC (after a deliberate edit), so the file stays a valid PNG."""
    import zlib
    b = bytearray(data)
    i = 8
    while i + 12 <= len(b):
        n = int.from_bytes(b[i:i + 4], "big")
        b[i + 8 + n:i + 12 + n] = zlib.crc32(bytes(b[i + 4:i + 8 + n])).to_bytes(4, "big")
        if b[i + 4:i + 8] == b"IEND":
            break
        i += 12 + n
    return bytes(b)
