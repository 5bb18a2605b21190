"""The signer certificate profile: `locus verify` and c2pa-python agree on files signed with
certificates that follow or break it (end-entity only, key usage, extended key usage and its
allowed combinations), with and without the signing CA as trust anchor.

c2pa-python refuses to sign with a certificate that breaks the profile, and so does `locus sign`
(test_sign_refuses_what_c2pa_python_refuses); the files are therefore signed by `locus sign
--allow-nonconforming-cert`, which skips that check. Certificates are made here with `cryptography`.
"""
import datetime
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIX = REPO.parent / "shared" / "fixtures" / "c2pa"
LOCUS = Path(os.environ.get("LOCUS_BIN", REPO / "build" / "locus"))

c2pa = pytest.importorskip("c2pa", reason="c2pa-python (PyPI c2pa-python) is not installed")
x509 = pytest.importorskip("cryptography.x509", reason="cryptography is not installed")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier  # noqa: E402

pytestmark = [
    pytest.mark.skipif(not FIX.is_dir(), reason=f"C2PA fixtures not found at {FIX}"),
    pytest.mark.skipif(not LOCUS.exists(), reason=f"locus binary not built at {LOCUS}"),
]

EMAIL, TS, OCSP = ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.OCSP_SIGNING
SERVER, CODE, ANY = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CODE_SIGNING, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE
DOCSIGN = ObjectIdentifier("1.3.6.1.5.5.7.3.36")


def ku(digital_signature=True, non_repudiation=False, key_encipherment=False, cert_sign=False):
    return x509.KeyUsage(digital_signature=digital_signature, content_commitment=non_repudiation,
                         key_encipherment=key_encipherment, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=False, encipher_only=False, decipher_only=False)


# name: (basicConstraints CA or None for absent, (KeyUsage, critical) or None, [EKU OIDs] or None);
# every certificate also has an authorityKeyIdentifier, except in the cases after this table.
CASES = {
    "good": (False, (ku(), True), [EMAIL]),
    "no-basic-constraints": (None, (ku(), True), [EMAIL]),
    "key-usage-not-critical": (False, (ku(), False), [EMAIL]),
    "non-repudiation-only": (False, (ku(False, True), True), [EMAIL]),
    "time-stamping-only": (False, (ku(), True), [TS]),
    "ocsp-signing-only": (False, (ku(), True), [OCSP]),
    "email-and-server": (False, (ku(), True), [EMAIL, SERVER]),
    "ca-certificate": (True, (ku(cert_sign=True), True), [EMAIL]),
    "no-key-usage": (False, None, [EMAIL]),
    "no-digital-signature": (False, (ku(False, False, True), True), [EMAIL]),
    "no-eku": (False, (ku(), True), None),
    "any-eku": (False, (ku(), True), [ANY]),
    "server-auth-only": (False, (ku(), True), [SERVER]),
    "code-signing-only": (False, (ku(), True), [CODE]),
    "document-signing-only": (False, (ku(), True), [DOCSIGN]),
    "email-and-time-stamping": (False, (ku(), True), [EMAIL, TS]),
    "email-and-ocsp": (False, (ku(), True), [EMAIL, OCSP]),
    "no-authority-key-id": (False, (ku(), True), [EMAIL]),
    "self-signed-no-authority-key-id": (False, (ku(), True), [EMAIL]),
    "self-signed": (False, (ku(), True), [EMAIL]),
}


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "locus tests")])


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    d = tmp_path_factory.mktemp("profile_ca")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name("locus test root")).issuer_name(name("locus test root"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(ku(False, cert_sign=True), critical=True)
            .sign(key, hashes.SHA256()))
    (d / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return d, key, cert


def make_signer(ca, case):
    d, ca_key, ca_cert = ca
    bc, kusage, ekus = CASES[case]
    key = ec.generate_private_key(ec.SECP256R1())
    self_signed = case.startswith("self-signed")
    issuer_key = key if self_signed else ca_key
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(name(case)).public_key(key.public_key())
         .issuer_name(name(case) if self_signed else ca_cert.subject)
         .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
         .not_valid_after(now + datetime.timedelta(days=30)))
    if bc is not None:
        b = b.add_extension(x509.BasicConstraints(ca=bc, path_length=None), critical=True)
    if kusage is not None:
        b = b.add_extension(kusage[0], critical=kusage[1])
    if ekus is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    if "no-authority-key-id" not in case:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    cert = b.sign(issuer_key, hashes.SHA256())
    (d / f"{case}.pub").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / f"{case}.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    return d / f"{case}.pub", d / f"{case}.pem"


@pytest.mark.parametrize("case", sorted(CASES))
def test_signer_profile_agrees(ca, tmp_path, case):
    cert, key = make_signer(ca, case)
    out = tmp_path / f"{case}.jpg"
    p = subprocess.run([str(LOCUS), "sign", str(FIX / "no_manifest.jpg"), "-o", str(out), "--cert", str(cert),
                        "--key", str(key), "--alg", "es256", "--allow-nonconforming-cert"],
                       capture_output=True, text=True)
    if p.returncode != 0 and "not built" in p.stderr:
        pytest.skip("locus sign is not built into this binary")
    assert p.returncode == 0, p.stderr
    anchors = ca[0] / "ca.pem"
    for trust in (False, True):
        settings = {"verify": {"verify_trust": True}}
        if trust:
            settings["trust"] = {"trust_anchors": anchors.read_text()}
        j = json.loads(c2pa.Reader(str(out), context=c2pa.Context(c2pa.Settings.from_dict(settings))).json())
        want = (j["validation_state"], sorted({s["code"] for s in j.get("validation_status") or []}))
        cmd = [str(LOCUS), "verify", str(out), "--json"] + (["--trust", str(anchors)] if trust else [])
        v = subprocess.run(cmd, capture_output=True, text=True)
        got = json.loads(v.stdout)
        assert (got["validation_state"], sorted({s["code"] for s in got["validation_status"]})) == want, (case, trust)
        if case == "good":
            assert want[0] == ("Trusted" if trust else "Valid")


def c2pa_python_signs(cert, key, dst):
    """None when c2pa-python signs with this certificate, else its error message."""
    info = c2pa.C2paSignerInfo(b"es256", cert.read_bytes(), key.read_bytes(), None)
    manifest = {"claim_generator_info": [{"name": "locus-tests"}], "assertions": [{"label": "c2pa.actions", "data": {
        "actions": [{"action": "c2pa.created",
                     "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}]}
    try:
        signer = c2pa.Signer.from_info(info)
        c2pa.Builder(manifest).sign_file(str(FIX / "no_manifest.jpg"), str(dst), signer)
    except Exception as e:  # typed C2paError subclasses
        return f"{type(e).__name__}: {e}"
    return None


@pytest.mark.parametrize("case", sorted(CASES))
def test_sign_refuses_what_c2pa_python_refuses(ca, tmp_path, case):
    """`locus sign` refuses a certificate that breaks the profile exactly when c2pa-python does,
    before writing anything, with a message naming the certificate file and the rule."""
    cert, key = make_signer(ca, case)
    refused = c2pa_python_signs(cert, key, tmp_path / "py.jpg")
    out = tmp_path / "locus.jpg"
    p = subprocess.run([str(LOCUS), "sign", str(FIX / "no_manifest.jpg"), "-o", str(out), "--cert", str(cert),
                        "--key", str(key), "--alg", "es256"], capture_output=True, text=True)
    if p.returncode != 0 and "not built" in p.stderr:
        pytest.skip("locus sign is not built into this binary")
    if refused is None:
        assert p.returncode == 0, (case, p.stderr)
        return
    assert p.returncode == 1, (case, refused, p.stderr)
    assert not out.exists()
    assert cert.name in p.stderr and "C2PA certificate profile" in p.stderr, p.stderr
    rule = {"ca-certificate": "end-entity", "no-authority-key-id": "authority key identifier",
            "self-signed-no-authority-key-id": "authority key identifier", "no-key-usage": "key usage",
            "no-digital-signature": "key usage", "no-eku": "extended key usage", "any-eku": "'any' EKU",
            "email-and-ocsp": "set of EKUs", "email-and-time-stamping": "set of EKUs"}.get(case, "EKU")
    assert rule in p.stderr, (case, p.stderr)


def test_untrusted_ingredient_signer_agrees(ca, tmp_path):
    """A parent signed by a conforming certificate of another CA (not among the test anchors): c2pa-rs
    checks ingredient signers against the anchors too, so a child whose ingredient does not record
    that the parent's signer was untrusted is Valid, not Trusted (the failure is an ingredient
    delta); one that records it is Trusted. `locus verify` must agree, failure by failure."""
    from test_c2pa_sign_helpers import CERTS, TRUST, c2pa_verdict, locus_verdict, py_sign
    cert, key = make_signer(ca, "good")
    parent = tmp_path / "parent.jpg"
    sign = [str(LOCUS), "sign", "--cert", str(CERTS / "es256.pub"), "--key", str(CERTS / "es256.pem")]
    p = subprocess.run([str(LOCUS), "sign", str(FIX / "no_manifest.jpg"), "-o", str(parent), "--cert", str(cert),
                        "--key", str(key)], capture_output=True, text=True)
    if p.returncode != 0 and "not built" in p.stderr:
        pytest.skip("locus sign is not built into this binary")
    assert p.returncode == 0, p.stderr
    # the parent's signer trusted when signing (nothing recorded), untrusted then (recorded), and
    # c2pa-python on top (records what it finds: untrusted)
    children = {"trusted-at-signing": ["--trust", str(ca[0] / "ca.pem")], "untrusted-at-signing": []}
    for name, extra in children.items():
        r = subprocess.run(sign + [str(parent), "-o", str(tmp_path / f"{name}.jpg")] + extra,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    py_sign(parent, tmp_path / "py.jpg", "es256", edit=True)
    both = tmp_path / "both.pem"
    both.write_text(TRUST.read_text() + (ca[0] / "ca.pem").read_text())
    expect_trusted = {"trusted-at-signing": False, "untrusted-at-signing": True, "py": True}
    for name, trusted in expect_trusted.items():
        f = tmp_path / f"{name}.jpg"
        for anchors in (TRUST, None, both):
            want = c2pa_verdict(f, anchors)
            assert locus_verdict(f, anchors) == want, (name, anchors)
        want = c2pa_verdict(f, TRUST)
        assert want[0] == ("Trusted" if trusted else "Valid"), (name, want)
        if not trusted:
            assert want[3] and want[3][0][1] == "signingCredential.untrusted", want
