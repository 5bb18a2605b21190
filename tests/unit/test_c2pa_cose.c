/*
 * COSE_Sign1 verification for every algorithm C2PA allows (ES256/384/512, PS256/384/512, Ed25519),
 * with the certificate in the x5chain header as label 33 (protected) and as the legacy text key
 * "x5chain" (unprotected). Signatures are made here with OpenSSL on a fresh key and a self-signed
 * certificate: a correct one verifies, a changed payload or signature byte does not, a key of the
 * wrong type is refused. Also the certificate validity period through the verification time.
 */
#include "media/c2pa/c2pa_internal.h"
#include "test_harness.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <string.h>

typedef struct {
    const char *name;
    int cose_alg;
    int key_type; /* EVP_PKEY_EC, EVP_PKEY_RSA, EVP_PKEY_ED25519 */
    const char *curve;
    const EVP_MD *(*md)(void);
} alg_case;

static EVP_PKEY *make_key(const alg_case *a) {
    if (a->key_type == EVP_PKEY_EC) return EVP_EC_gen(a->curve);
    if (a->key_type == EVP_PKEY_RSA) return EVP_RSA_gen(2048);
    return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

static X509 *self_signed(EVP_PKEY *key, long not_before_days, long not_after_days) {
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), not_before_days * 86400L);
    X509_gmtime_adj(X509_getm_notAfter(x), not_after_days * 86400L);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"locus test signer", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"locus tests", -1, -1, 0);
    X509_set_issuer_name(x, n);
    bool ed = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
    X509_sign(x, key, ed ? NULL : EVP_sha256());
    return x;
}

/* Minimal CBOR writer for the test's own COSE messages (heads + bytes). */
typedef struct {
    uint8_t b[16384];
    size_t n;
} cb;
static void head(cb *c, int major, uint64_t v) {
    size_t room = sizeof c->b - c->n;
    uint8_t *p = c->b + c->n;
    switch (major) {
    case 0: c->n += cbor_encode_uint(v, p, room); break;
    case 1: c->n += cbor_encode_negint(v, p, room); break;
    case 2: c->n += cbor_encode_bytestring_start(v, p, room); break;
    case 3: c->n += cbor_encode_string_start(v, p, room); break;
    case 4: c->n += cbor_encode_array_start(v, p, room); break;
    default: c->n += cbor_encode_map_start(v, p, room); break;
    }
}
static void bytes(cb *c, int major, const void *p, size_t len) {
    head(c, major, len);
    memcpy(c->b + c->n, p, len);
    c->n += len;
}
static void nint(cb *c, int v) { head(c, 1, (uint64_t)(-1 - v)); }

static size_t sign_raw(EVP_PKEY *key, const alg_case *a, const uint8_t *tbs, size_t n, uint8_t *out) {
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    EVP_DigestSignInit(m, &pc, a->md ? a->md() : NULL, NULL, key);
    if (a->key_type == EVP_PKEY_RSA) {
        EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST);
        EVP_PKEY_CTX_set_rsa_mgf1_md(pc, a->md());
    }
    uint8_t sig[1024];
    size_t sl = sizeof sig;
    EVP_DigestSign(m, sig, &sl, tbs, n);
    EVP_MD_CTX_free(m);
    if (a->key_type != EVP_PKEY_EC) {
        memcpy(out, sig, sl);
        return sl;
    }
    /* DER -> r || s, each the size of the curve order (COSE's form). */
    const unsigned char *p = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sl);
    size_t half = (size_t)(EVP_PKEY_get_bits(key) + 7) / 8;
    BN_bn2binpad(ECDSA_SIG_get0_r(es), out, (int)half);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), out + half, (int)half);
    ECDSA_SIG_free(es);
    return 2 * half;
}

/* COSE_Sign1 over `payload` (detached); x5chain as label 33 in the protected header, or as the
 * text key "x5chain" in the unprotected header. */
static size_t make_cose(EVP_PKEY *key, X509 *cert, const alg_case *a, bool legacy, const uint8_t *payload, size_t pl,
                        uint8_t *out) {
    uint8_t *der = NULL;
    int dl = i2d_X509(cert, &der);
    cb prot = {.n = 0};
    head(&prot, 5, legacy ? 1 : 2);
    head(&prot, 0, 1);
    nint(&prot, a->cose_alg);
    if (!legacy) {
        head(&prot, 0, 33);
        bytes(&prot, 2, der, (size_t)dl);
    }
    cb tbs = {.n = 0};
    head(&tbs, 4, 4);
    bytes(&tbs, 3, "Signature1", 10);
    bytes(&tbs, 2, prot.b, prot.n);
    bytes(&tbs, 2, "", 0);
    bytes(&tbs, 2, payload, pl);
    uint8_t sig[1024];
    size_t sl = sign_raw(key, a, tbs.b, tbs.n, sig);
    cb c = {.n = 0};
    c.b[c.n++] = 0xD2; /* tag 18 */
    head(&c, 4, 4);
    bytes(&c, 2, prot.b, prot.n);
    if (legacy) {
        head(&c, 5, 1);
        bytes(&c, 3, "x5chain", 7);
        head(&c, 4, 1);
        bytes(&c, 2, der, (size_t)dl);
    } else {
        head(&c, 5, 0);
    }
    c.b[c.n++] = 0xF6; /* nil payload */
    bytes(&c, 2, sig, sl);
    OPENSSL_free(der);
    memcpy(out, c.b, c.n);
    return c.n;
}

int main(void) {
    const alg_case algs[] = {
        {"Es256", -7, EVP_PKEY_EC, "P-256", EVP_sha256},  {"Es384", -35, EVP_PKEY_EC, "P-384", EVP_sha384},
        {"Es512", -36, EVP_PKEY_EC, "P-521", EVP_sha512}, {"Ps256", -37, EVP_PKEY_RSA, NULL, EVP_sha256},
        {"Ps384", -38, EVP_PKEY_RSA, NULL, EVP_sha384},   {"Ps512", -39, EVP_PKEY_RSA, NULL, EVP_sha512},
        {"Ed25519", -8, EVP_PKEY_ED25519, NULL, NULL},
    };
    const uint8_t payload[] = "the claim bytes";
    EVP_PKEY *other_ec = EVP_EC_gen("P-256");
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        const alg_case *a = &algs[i];
        EVP_PKEY *key = make_key(a);
        X509 *cert = self_signed(key, -1, 365);
        for (int legacy = 0; legacy < 2; legacy++) {
            static uint8_t msg[16384];
            size_t n = make_cose(key, cert, a, legacy, payload, sizeof payload - 1, msg);
            c2pa_cose c;
            CHECK_OK(c2pa_cose_parse(msg, n, &c));
            CHECK(c.has_alg && c.alg == a->cose_alg && strcmp(c2pa_cose_alg_name(c.alg), a->name) == 0);
            CHECK(c.chain && sk_X509_num(c.chain) == 1);
            int ok = c2pa_cose_verify(&c, payload, sizeof payload - 1);
            if (ok != 1) fprintf(stderr, "%s (%s x5chain): verify gave %d\n", a->name, legacy ? "text" : "label 33", ok);
            CHECK(ok == 1);
            CHECK(c2pa_cose_verify(&c, payload, sizeof payload - 2) == 0); /* different payload */
            char why[256];
            CHECK(c2pa_trust_check(NULL, c.chain, (int64_t)time(NULL), why, sizeof why) == C2PA_CERT_UNTRUSTED);
            CHECK(c2pa_trust_check(NULL, c.chain, (int64_t)time(NULL) + 400 * 86400LL, why, sizeof why) ==
                  C2PA_CERT_EXPIRED);
            CHECK(c2pa_trust_check(NULL, c.chain, (int64_t)time(NULL) - 3 * 86400LL, why, sizeof why) ==
                  C2PA_CERT_EXPIRED);
            /* The certificate as its own trust anchor: trusted. */
            c2pa_trust t = {0};
            t.store = X509_STORE_new();
            X509_STORE_add_cert(t.store, cert);
            CHECK(c2pa_trust_check(&t, c.chain, (int64_t)time(NULL), why, sizeof why) == C2PA_CERT_TRUSTED);
            X509_STORE_free(t.store);
            c2pa_cose_free(&c);
            /* A flipped byte of the signature (the message's last byte). */
            msg[n - 1] ^= 0x01;
            CHECK_OK(c2pa_cose_parse(msg, n, &c));
            CHECK(c2pa_cose_verify(&c, payload, sizeof payload - 1) == 0);
            c2pa_cose_free(&c);
        }
        /* The same message checked against a certificate of another key type or key. */
        X509 *wrong = self_signed(other_ec, -1, 365);
        static uint8_t msg[16384];
        size_t n = make_cose(key, wrong, a, false, payload, sizeof payload - 1, msg);
        c2pa_cose c;
        CHECK_OK(c2pa_cose_parse(msg, n, &c));
        int r = c2pa_cose_verify(&c, payload, sizeof payload - 1);
        CHECK(a->key_type == EVP_PKEY_EC ? r == 0 || r == -2 : r == -2);
        c2pa_cose_free(&c);
        X509_free(wrong);
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    EVP_PKEY_free(other_ec);
    ERR_clear_error();
    return TEST_RESULT();
}
