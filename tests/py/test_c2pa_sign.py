"""`locus sign` against c2pa-python (c2pa-rs): files locus signs must read back as Trusted, with no
failure codes, the expected actions, title, algorithm and parent ingredient; and the same through
`locus verify --json` where that command is built."""
import json
import subprocess

import pytest

from test_c2pa_sign_helpers import (ALGS, CERTS, IPTC, c2pa_read, c2pa_verdict, fixture, locus_bin, locus_codes,
                                    locus_sign, locus_verdict, locus_verify, py_sign, jumbf_boxes, store_bytes,
                                    store_pieces, store_to_file_offset)

UNSIGNED = ["no_manifest.jpg", "IMG_0003.jpg", "sample1.png", "libpng-test.png"]
SIGNED_PARENTS = ["C.jpg", "CA.jpg", "CACA.jpg", "boxhash.jpg"]
SIG_ALG_NAMES = {"es256": "es256", "es384": "es384", "ps256": "ps256", "ed25519": "ed25519"}


def active(store):
    return store["manifests"][store["active_manifest"]]


def actions_of(manifest):
    for a in manifest.get("assertions", []):
        if a["label"] in ("c2pa.actions", "c2pa.actions.v2"):
            return a["data"]["actions"]
    return []


def assert_trusted(path, **expect):
    data = path.read_bytes()
    state, codes, store = c2pa_read(data)
    assert codes == [], f"c2pa-python failure codes for {path.name}: {codes}"
    assert state == "Trusted", f"c2pa-python says {state} for {path.name}"
    m = active(store)
    assert m.get("claim_version") == 2
    if "title" in expect:
        assert m["title"] == expect["title"]
    if "alg" in expect:
        assert m["signature_info"]["alg"].lower() == SIG_ALG_NAMES[expect["alg"]]
    return store, m


def assert_locus_verify_trusted(path):
    rc, doc, err = locus_verify(path)
    assert rc == 0, f"locus verify exit {rc}: {err}"
    assert doc is not None and doc["validation_state"] == "Trusted", doc
    assert locus_codes(doc) == []
    return doc


@pytest.mark.parametrize("alg", ALGS + ["es384"])
@pytest.mark.parametrize("name", UNSIGNED)
def test_sign_unsigned_reads_back_trusted(tmp_path, name, alg):
    src = fixture(name)
    out = tmp_path / f"signed_{alg}_{name}"
    locus_sign(src, out, alg, "--title", f"locus {alg} {name}")
    store, m = assert_trusted(out, title=f"locus {alg} {name}", alg=alg)
    acts = actions_of(m)
    assert acts and acts[0]["action"] == "c2pa.created"
    assert acts[0]["digitalSourceType"] == IPTC + "digitalCapture"
    assert m.get("ingredients", []) == []
    assert len(store["manifests"]) == 1
    # no time-stamp authority: c2pa-python accepts the signature offline, checking the certificate
    # against the current time, and reports no signing time
    assert "time" not in m["signature_info"]
    doc = assert_locus_verify_trusted(out)
    assert doc["active_manifest"] == store["active_manifest"]


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("name", SIGNED_PARENTS)
def test_previous_manifest_becomes_parent_ingredient(tmp_path, name, alg):
    src = fixture(name)
    state_in, _, store_in = c2pa_read(src.read_bytes())
    assert store_in is not None, f"{name} should carry content credentials"
    out = tmp_path / f"resigned_{alg}_{name}"
    locus_sign(src, out, alg, "--trust", CERTS / "test_cert_root_bundle.pem")
    store, m = assert_trusted(out, title=name, alg=alg)
    # every manifest of the input is still there, and the new one is active
    assert set(store_in["manifests"]) < set(store["manifests"])
    assert len(store["manifests"]) == len(store_in["manifests"]) + 1
    acts = actions_of(m)
    assert acts[0]["action"] == "c2pa.opened"
    ingredients = m["ingredients"]
    assert len(ingredients) == 1
    assert ingredients[0]["relationship"] == "parentOf"
    assert ingredients[0]["active_manifest"] == store_in["active_manifest"]
    assert_locus_verify_trusted(out)


@pytest.mark.parametrize("fmt", ["jpg", "png"])
def test_parent_signed_by_c2pa_python(tmp_path, fmt):
    src = fixture("no_manifest.jpg" if fmt == "jpg" else "sample1.png")
    parent = tmp_path / f"py_parent.{fmt}"
    py_sign(src, parent, "ps256")
    _, _, store_in = c2pa_read(parent.read_bytes())
    out = tmp_path / f"locus_child.{fmt}"
    locus_sign(parent, out, "ed25519")
    store, m = assert_trusted(out, alg="ed25519")
    assert m["ingredients"][0]["active_manifest"] == store_in["active_manifest"]
    # and c2pa-python can sign on top of locus's manifest in turn
    grandchild = tmp_path / f"py_grandchild.{fmt}"
    py_sign(out, grandchild, "es256", edit=True)
    store2, m2 = assert_trusted(grandchild, alg="es256")
    assert m2["ingredients"][0]["active_manifest"] == store["active_manifest"]
    assert_locus_verify_trusted(grandchild)


def test_sign_twice_in_place(tmp_path):
    out = tmp_path / "twice.png"
    out.write_bytes(fixture("libpng-test.png").read_bytes())
    locus_sign(out, out, "es256")
    first = c2pa_read(out.read_bytes())[2]["active_manifest"]
    locus_sign(out, out, "ps256")
    store, m = assert_trusted(out, alg="ps256")
    assert m["ingredients"][0]["active_manifest"] == first
    assert len(store["manifests"]) == 2


def test_manifest_definition(tmp_path):
    definition = {
        "title": "from the definition",
        "claim_generator_info": [{"name": "locus-tests", "version": "9.9"}],
        "digitalSourceType": "trainedAlgorithmicMedia",
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": [
                {"action": "c2pa.created", "description": "made for a test"},
                {"action": "c2pa.color_adjustments", "parameters": {"name": "brightness"}}]}},
            {"label": "org.locus.test", "data": {"note": "hello", "n": 3, "ok": True, "x": 1.5}},
            {"label": "stds.schema-org.CreativeWork", "kind": "Json", "data": {
                "@context": "http://schema.org/", "@type": "CreativeWork",
                "author": [{"@type": "Person", "name": "A Tester"}]}},
        ],
    }
    mf = tmp_path / "manifest.json"
    mf.write_text(json.dumps(definition))
    out = tmp_path / "defined.jpg"
    locus_sign(fixture("no_manifest.jpg"), out, "es256", "--manifest", mf)
    _, m = assert_trusted(out, title="from the definition")
    assert m["claim_generator_info"][0]["name"] == "locus-tests"
    acts = actions_of(m)
    assert [a["action"] for a in acts] == ["c2pa.created", "c2pa.color_adjustments"]
    assert acts[0]["digitalSourceType"] == IPTC + "trainedAlgorithmicMedia"
    assert acts[0]["description"] == "made for a test"
    custom = [a for a in m["assertions"] if a["label"] == "org.locus.test"]
    assert custom and custom[0]["data"] == {"note": "hello", "n": 3, "ok": True, "x": 1.5}
    work = [a for a in m["assertions"] if a["label"] == "stds.schema-org.CreativeWork"]
    assert work and work[0].get("kind") == "Json" and work[0]["data"]["author"][0]["name"] == "A Tester"
    # --title and inline JSON override
    out2 = tmp_path / "inline.jpg"
    locus_sign(fixture("no_manifest.jpg"), out2, "es256", "--manifest", '{"title": "inline"}', "--title", "T",
               "--source-type", IPTC + "digitalCreation")
    _, m2 = assert_trusted(out2, title="T")
    assert actions_of(m2)[0]["digitalSourceType"] == IPTC + "digitalCreation"


def test_large_manifest_spans_several_app11_segments(tmp_path):
    big = {"assertions": [{"label": "org.locus.big", "data": {"blob": "x" * 150000}}]}
    mf = tmp_path / "big.json"
    mf.write_text(json.dumps(big))
    out = tmp_path / "big.jpg"
    locus_sign(fixture("IMG_0003.jpg"), out, "ps256", "--manifest", mf)
    assert len(store_pieces(out.read_bytes())) >= 3
    assert_trusted(out, alg="ps256")
    assert_locus_verify_trusted(out)


def run_sign(*args):
    return subprocess.run([str(locus_bin()), "sign", *map(str, args)], capture_output=True, text=True, timeout=60)


def test_cli_errors(tmp_path):
    src = fixture("no_manifest.jpg")
    out = tmp_path / "o.jpg"
    r = run_sign(src, "-o", out)
    assert r.returncode == 2 and "usage" in r.stderr
    r = run_sign(src, "-o", out, "--cert", CERTS / "es256.pub", "--key", CERTS / "es256.pem", "--alg", "md5")
    assert r.returncode == 2 and "md5" in r.stderr
    # key and certificate of different signers
    r = run_sign(src, "-o", out, "--cert", CERTS / "ps256.pub", "--key", CERTS / "es256.pem")
    assert r.returncode == 1 and "ps256.pub" in r.stderr and not out.exists()
    # algorithm that does not fit the key
    r = run_sign(src, "-o", out, "--cert", CERTS / "es256.pub", "--key", CERTS / "es256.pem", "--alg", "ps256")
    assert r.returncode == 1 and "es256" in r.stderr
    # a file that is neither JPEG nor PNG
    txt = tmp_path / "notes.txt"
    txt.write_text("not an image")
    r = run_sign(txt, "-o", out, "--cert", CERTS / "es256.pub", "--key", CERTS / "es256.pem")
    assert r.returncode == 1 and "notes.txt" in r.stderr
    # a truncated JPEG header
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(src.read_bytes()[:5000])
    r = run_sign(cut, "-o", out, "--cert", CERTS / "es256.pub", "--key", CERTS / "es256.pem")
    assert r.returncode == 1 and "cut.jpg" in r.stderr and "truncated" in r.stderr
    # a missing key file
    r = run_sign(src, "-o", out, "--cert", CERTS / "es256.pub", "--key", tmp_path / "nope.pem")
    assert r.returncode == 1 and "nope.pem" in r.stderr
    # bad manifest definitions
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = run_sign(src, "-o", out, "--cert", CERTS / "es256.pub", "--key", CERTS / "es256.pem", "--manifest", bad)
    assert r.returncode == 1 and "bad.json" in r.stderr
    r = run_sign(src, "-o", out, "--cert", CERTS / "es256.pub", "--key", CERTS / "es256.pem", "--manifest",
                 '{"assertions": [{"label": "c2pa.hash.data", "data": {}}]}')
    assert r.returncode == 1 and "c2pa.hash.data" in r.stderr
    assert not out.exists()


def test_parent_with_unknown_algorithm_is_refused(tmp_path):
    # c2pa-python cannot read no_alg.jpg's store and refuses to sign on top of it; so does locus
    src = fixture("no_alg.jpg")
    assert c2pa_read(src.read_bytes())[0] == "Error"
    out = tmp_path / "o.jpg"
    r = locus_sign(src, out, "es256", check=False)
    assert r.returncode == 1 and "no_alg.jpg" in r.stderr and "algorithm" in r.stderr
    assert not out.exists()


def test_manifest_definition_with_parent(tmp_path):
    definition = {"assertions": [{"label": "c2pa.actions", "data": {"actions": [
        {"action": "c2pa.opened", "parameters": {"description": "opened for a test"}},
        {"action": "c2pa.resized"}]}}]}
    out = tmp_path / "edited.jpg"
    locus_sign(fixture("C.jpg"), out, "ed25519", "--manifest", json.dumps(definition))
    _, m = assert_trusted(out, alg="ed25519")
    acts = actions_of(m)
    assert [a["action"] for a in acts] == ["c2pa.opened", "c2pa.resized"]
    assert acts[0]["parameters"]["description"] == "opened for a test"
    assert acts[0]["parameters"]["ingredients"][0]["url"].endswith("c2pa.ingredient.v3")
    # c2pa.created cannot describe a file that already has credentials
    created = {"assertions": [{"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created"}]}}]}
    r = locus_sign(fixture("C.jpg"), tmp_path / "x.jpg", "es256", "--manifest", json.dumps(created), check=False)
    assert r.returncode == 1 and "c2pa.opened" in r.stderr


@pytest.mark.parametrize("name", ["XCA.jpg", "E-sig-CA.jpg"])
def test_tampered_parent_is_recorded_in_the_ingredient(tmp_path, name):
    # the new manifest is sound; the parent's failures (as c2pa-python sees them on the input) are
    # recorded in the ingredient's validationResults, and c2pa-python finds no delta to them
    src = fixture(name)
    state_in, codes_in, _ = c2pa_read(src.read_bytes())
    assert state_in == "Invalid" and codes_in
    out = tmp_path / f"on_{name}"
    locus_sign(src, out, "es256", "--trust", CERTS / "test_cert_root_bundle.pem")
    store, m = assert_trusted(out)
    recorded = {f["code"] for f in m["ingredients"][0]["validation_results"]["activeManifest"]["failure"]}
    assert set(codes_in) <= recorded, (codes_in, recorded)
    deltas = store["validation_results"].get("ingredientDeltas", [])
    assert all(not d["validationDeltas"].get("failure") for d in deltas), deltas


@pytest.mark.parametrize("name", ["XCA.jpg", "E-sig-CA.jpg"])
def test_locus_verify_agrees_on_tampered_parent(tmp_path, name):
    # the parent's failure (E-sig-CA: claimSignature.mismatch of the parent's own signature) is
    # recorded in the ingredient, so it stays with the ingredient and the new file is Trusted
    out = tmp_path / f"on_{name}"
    locus_sign(fixture(name), out, "es256", "--trust", CERTS / "test_cert_root_bundle.pem")
    assert c2pa_read(out.read_bytes())[0] == "Trusted"
    doc = assert_locus_verify_trusted(out)
    codes_in = set(c2pa_read(fixture(name).read_bytes())[1])
    ing = doc["manifests"][doc["active_manifest"]]["ingredients"][0]
    assert codes_in <= {f["code"] for f in ing["validation_results"]["activeManifest"]["failure"]}


def flip_in_first_manifest(data):
    """Flip a byte in the middle of the first manifest's claim thumbnail (an ingredient's manifest
    then no longer matches the hash its ingredient assertion holds)."""
    boxes = jumbf_boxes(store_bytes(data))
    first = next(p for p in boxes if p.count("/") == 2).split("/")[2]  # "/c2pa/<first manifest>"
    path = next(p for p in boxes if p.startswith(f"/c2pa/{first}/c2pa.assertions/c2pa.thumbnail.claim"))
    off, n = boxes[path]
    b = bytearray(data)
    b[store_to_file_offset(data, off + n // 2)] ^= 0x01
    return bytes(b)


def signed_on(tmp_path, chain):
    """Sign a fixture and then each step of `chain` on top: ("locus", alg), ("py", alg), or
    ("flip",) to damage the first manifest's thumbnail."""
    path = fixture(chain[0])
    for k, (who, *alg) in enumerate(chain[1:]):
        out = tmp_path / f"step{k}_{who}_{path.name}"
        if who == "locus":
            locus_sign(path, out, alg[0], "--trust", CERTS / "test_cert_root_bundle.pem")
        elif who == "py":
            py_sign(path, out, alg[0], edit=True)
        else:
            out.write_bytes(flip_in_first_manifest(path.read_bytes()))
        path = out
    return path


INGREDIENT_CHAINS = {
    "locus-on-XCA": ["XCA.jpg", ("locus", "es256")],
    "locus-on-E-sig-CA": ["E-sig-CA.jpg", ("locus", "ps256")],
    "locus-on-CA": ["CA.jpg", ("locus", "ed25519")],
    "locus-on-CACA": ["CACA.jpg", ("locus", "es256")],
    "py-on-XCA": ["XCA.jpg", ("py", "es256")],
    "py-on-E-sig-CA": ["E-sig-CA.jpg", ("py", "ps256")],
    "py-on-CACA": ["CACA.jpg", ("py", "es256")],
    "locus-on-locus-on-E-sig-CA": ["E-sig-CA.jpg", ("locus", "es256"), ("locus", "ps256")],
    "py-on-locus-on-E-sig-CA": ["E-sig-CA.jpg", ("locus", "es256"), ("py", "es256")],
    "locus-on-py-on-XCA": ["XCA.jpg", ("py", "es256"), ("locus", "ed25519")],
    # a damaged ingredient manifest is a new finding (ingredient.manifest.mismatch and the
    # assertion's hashedURI mismatch, as ingredient deltas): Invalid
    "flipped-py-on-CA": ["CA.jpg", ("py", "es256"), ("flip",)],
    "flipped-locus-on-CACA": ["CACA.jpg", ("locus", "es256"), ("flip",)],
}


@pytest.mark.parametrize("chain", sorted(INGREDIENT_CHAINS))
def test_ingredient_failures_agree_with_c2pa_python(tmp_path, chain):
    """Files with broken or sound parents, signed by locus and by c2pa-python in turn: `locus verify`
    and c2pa-python agree on the state, the failures that count, which of them belong to the active
    manifest and which to an ingredient (by ingredient assertion URI and URL), and the failures each
    ingredient records, with and without trust anchors."""
    path = signed_on(tmp_path, INGREDIENT_CHAINS[chain])
    for anchors in (CERTS / "test_cert_root_bundle.pem", None):
        want = c2pa_verdict(path, anchors)
        assert locus_verdict(path, anchors) == want, (chain, anchors)
        if chain.startswith("flipped"):
            assert want[0] == "Invalid" and "ingredient.manifest.mismatch" in want[1], want
            assert all(code == "signingCredential.untrusted" for code, _ in want[2]), want  # the active is sound
        elif anchors:
            assert want[0] == "Trusted", want


def test_other_jumbf_in_app11_is_kept(tmp_path):
    # a non-C2PA JUMBF box in APP11 (box instance 1) stays as it is, and the store takes another En
    import struct
    jumd = b"jumd" + bytes(range(16)) + b"\x03" + b"other\0"
    jumd = struct.pack(">I", len(jumd) + 4) + jumd
    xml = b"xml <x/>"
    xml = struct.pack(">I", len(xml) + 4) + xml
    box = b"jumb" + jumd + xml
    box = struct.pack(">I", len(box) + 4) + box
    seg = b"JP" + struct.pack(">HI", 1, 1) + box
    app11 = b"\xff\xeb" + struct.pack(">H", len(seg) + 2) + seg
    plain = fixture("no_manifest.jpg").read_bytes()
    src = tmp_path / "other.jpg"
    src.write_bytes(plain[:2] + app11 + plain[2:])
    for step in range(2):  # signed, then signed again on top
        out = tmp_path / f"other_signed{step}.jpg"
        locus_sign(src, out, "es256")
        data = out.read_bytes()
        assert data.count(app11) == 1
        ens = {data[o - 6:o - 4] for o, _ in store_pieces(data)}
        assert ens and struct.pack(">H", 1) not in ens
        assert_trusted(out)
        src = out
