"""Tampering with signed files, signed by locus and by c2pa-python: changed pixel bytes give
assertion.dataHash.mismatch, an edited assertion assertion.hashedURI.mismatch, a flipped signature
byte claimSignature.mismatch, a truncated file a clear error; nothing tampered ever validates.
Each case is checked with c2pa-python and with `locus verify --json`."""
import json

import pytest

from test_c2pa_sign_helpers import (c2pa_read, fix_png_crcs, fixture, jumbf_boxes, locus_codes, locus_sign,
                                    locus_verify, py_sign, store_bytes, store_pieces, store_to_file_offset)

MARK = b"tamper-target: hello world"
CUSTOM = {"label": "org.locus.tamper", "data": {"note": MARK.decode()}}
PRODUCERS = ["locus", "c2pa-python"]
FORMATS = ["jpg", "png"]
ALG_OF = {"jpg": "es256", "png": "ed25519"}


@pytest.fixture(scope="module")
def signed_files(tmp_path_factory):
    """{(producer, fmt): bytes}: one file per producer and format, each with a custom assertion."""
    d = tmp_path_factory.mktemp("signed")
    out = {}
    for fmt in FORMATS:
        src = fixture("no_manifest.jpg" if fmt == "jpg" else "sample1.png")
        mf = d / "custom.json"
        mf.write_text(json.dumps({"assertions": [CUSTOM]}))
        p = d / f"locus.{fmt}"
        locus_sign(src, p, ALG_OF[fmt], "--manifest", mf)
        out[("locus", fmt)] = p.read_bytes()
        q = d / f"py.{fmt}"
        py_sign(src, q, ALG_OF[fmt], extra_assertions=[CUSTOM])
        out[("c2pa-python", fmt)] = q.read_bytes()
    return out


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def check_untampered(data):
    state, codes, _ = c2pa_read(data)
    assert state == "Trusted" and codes == [], (state, codes)


def check_invalid(tmp_path, name, data, code):
    """c2pa-python and locus verify both report `code`, and neither calls the file valid."""
    state, codes, _ = c2pa_read(data)
    assert state == "Invalid", f"c2pa-python: {state} {codes}"
    assert code in codes, f"c2pa-python codes {codes} lack {code}"
    p = write(tmp_path, name, data)
    rc, doc, err = locus_verify(p)
    assert rc == 1, f"locus verify exit {rc} ({err}) for a tampered file"
    assert doc["validation_state"] == "Invalid"
    assert code in locus_codes(doc), f"locus verify codes {locus_codes(doc)} lack {code}"


def image_data_range(data):
    """(start, end) of bytes that are image content: JPEG entropy-coded data after the last SOS
    header, or the data of the first IDAT chunk."""
    if data[:4] == b"\x89PNG":
        i = 8
        while True:
            n = int.from_bytes(data[i:i + 4], "big")
            if data[i + 4:i + 8] == b"IDAT":
                return i + 8, i + 8 + n
            i += 12 + n
    i = 2
    while True:
        m, n = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if m == 0xDA:
            return i + 2 + n, len(data) - 2
        i += 2 + n


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("producer", PRODUCERS)
def test_changed_pixels(tmp_path, signed_files, producer, fmt):
    data = signed_files[(producer, fmt)]
    check_untampered(data)
    start, end = image_data_range(data)
    b = bytearray(data)
    k = (start + end) // 2
    while b[k] in (0xFE, 0xFF) or b[k - 1] == 0xFF:  # keep JPEG markers intact
        k += 1
    b[k] ^= 0x01
    tampered = fix_png_crcs(bytes(b)) if fmt == "png" else bytes(b)
    check_invalid(tmp_path, f"pixels.{fmt}", tampered, "assertion.dataHash.mismatch")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("producer", PRODUCERS)
def test_edited_assertion(tmp_path, signed_files, producer, fmt):
    data = signed_files[(producer, fmt)]
    assert data.count(MARK) == 1
    tampered = data.replace(MARK, MARK.replace(b"hello", b"jello"))
    if fmt == "png":
        tampered = fix_png_crcs(tampered)
    check_invalid(tmp_path, f"assertion.{fmt}", tampered, "assertion.hashedURI.mismatch")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("producer", PRODUCERS)
def test_flipped_signature_byte(tmp_path, signed_files, producer, fmt):
    data = signed_files[(producer, fmt)]
    store = store_bytes(data)
    _, _, manifest_store = c2pa_read(data)
    boxes = jumbf_boxes(store)
    off, n = boxes[f"/c2pa/{manifest_store['active_manifest']}/c2pa.signature"]
    # the COSE_Sign1 ends with the signature byte string: its last byte is the box's last byte
    k = store_to_file_offset(data, off + n - 1)
    b = bytearray(data)
    b[k] ^= 0x55
    tampered = fix_png_crcs(bytes(b)) if fmt == "png" else bytes(b)
    check_invalid(tmp_path, f"signature.{fmt}", tampered, "claimSignature.mismatch")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("producer", PRODUCERS)
def test_truncated(tmp_path, signed_files, producer, fmt):
    data = signed_files[(producer, fmt)]
    o, n = store_pieces(data)[0]
    start, end = image_data_range(data)
    cuts = {"in the manifest store": o + n // 2}
    if fmt == "png":
        cuts["in the image data"] = (start + end) // 2
    for where, at in cuts.items():
        cut = data[:at]
        state, codes, _ = c2pa_read(cut)
        assert state not in ("Valid", "Trusted"), f"c2pa-python accepts a file cut {where}: {state}"
        p = write(tmp_path, f"cut.{fmt}", cut)
        rc, doc, err = locus_verify(p)
        assert rc == 3, f"locus verify exit {rc} for a file cut {where} (want 3, a clear error): {doc}"
        assert p.name in err and "truncated" in err, err
    # a JPEG cut inside its entropy-coded data still parses; it must not validate
    if fmt == "jpg":
        cut = data[:(start + end) // 2]
        state, codes, _ = c2pa_read(cut)
        assert state == "Invalid" and "assertion.dataHash.mismatch" in codes, (state, codes)
        rc, doc, err = locus_verify(write(tmp_path, "cut_scan.jpg", cut))
        assert rc in (1, 3), f"locus verify exit {rc} for a JPEG cut in its image data"
        if rc == 1:
            assert "assertion.dataHash.mismatch" in locus_codes(doc)
