/*
 * COSE_Sign1 (RFC 9052) as C2PA uses it: a detached payload (the claim bytes), the algorithm in the
 * protected header, the signer's certificate chain in x5chain (label 33; older signers put it
 * under the text key "x5chain"), an optional RFC 3161 time-stamp in "sigTst"/"sigTst2".
 * Verification builds Sig_structure = ["Signature1", protected, h'', payload] and checks it with
 * OpenSSL 3: ES256/384/512 (raw r||s converted to DER), PS256/384/512 (PSS, salt = digest length,
 * MGF1 with the same digest), Ed25519.
 */
#include "c2pa_internal.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ec.h>
#include <openssl/pkcs7.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { COSE_ES256 = -7, COSE_ES384 = -35, COSE_ES512 = -36, COSE_PS256 = -37, COSE_PS384 = -38, COSE_PS512 = -39,
       COSE_EDDSA = -8 };

const char *c2pa_cose_alg_name(int64_t alg) {
    switch (alg) {
    case COSE_ES256: return "Es256";
    case COSE_ES384: return "Es384";
    case COSE_ES512: return "Es512";
    case COSE_PS256: return "Ps256";
    case COSE_PS384: return "Ps384";
    case COSE_PS512: return "Ps512";
    case COSE_EDDSA: return "Ed25519";
    }
    return NULL;
}

static const EVP_MD *alg_md(int64_t alg) {
    switch (alg) {
    case COSE_ES256:
    case COSE_PS256: return EVP_sha256();
    case COSE_ES384:
    case COSE_PS384: return EVP_sha384();
    case COSE_ES512:
    case COSE_PS512: return EVP_sha512();
    }
    return NULL;
}

static bool add_cert(STACK_OF(X509) *chain, const cbor_item_t *item) {
    size_t len;
    const uint8_t *der = cbor_bytes(item, &len);
    if (!der || len == 0 || len > (1u << 20)) return false;
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (!x) return false;
    if (!sk_X509_push(chain, x)) {
        X509_free(x);
        return false;
    }
    return true;
}

/* x5chain value: one certificate (bstr) or an array of them. */
static lc_status parse_x5chain(const cbor_item_t *v, c2pa_cose *c) {
    c->chain = sk_X509_new_null();
    if (!c->chain) return lc_error(LC_ERR_NOMEM, "out of memory");
    bool ok = true;
    if (cbor_isa_bytestring((cbor_item_t *)v)) {
        ok = add_cert(c->chain, v);
    } else if (cbor_isa_array((cbor_item_t *)v) && cbor_array_size((cbor_item_t *)v) > 0) {
        cbor_item_t **items = cbor_array_handle((cbor_item_t *)v);
        for (size_t i = 0; ok && i < cbor_array_size((cbor_item_t *)v); i++) ok = add_cert(c->chain, items[i]);
    } else {
        ok = false;
    }
    if (!ok) return lc_error(LC_ERR_FORMAT, "COSE x5chain holds something other than DER certificates");
    return LC_OK;
}

/* The first time-stamp token of a sigTst/sigTst2 header (DER), or NULL. */
static const uint8_t *tst_token(const cbor_item_t *tst, size_t *len) {
    cbor_item_t *tokens = cbor_map_get(tst, "tstTokens");
    if (!tokens || !cbor_isa_array(tokens) || cbor_array_size(tokens) == 0) return NULL;
    const uint8_t *der = cbor_bytes(cbor_map_get(cbor_array_handle(tokens)[0], "val"), len);
    return der && *len > 0 && *len <= (1u << 20) ? der : NULL;
}

/* A TimeStampToken (CMS ContentInfo), or in older files the whole TimeStampResp, as PKCS7. */
static PKCS7 *load_token(const uint8_t *der, size_t len) {
    const unsigned char *p = der;
    PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
    if (p7) return p7;
    p = der;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
    if (resp && TS_RESP_get_token(resp)) p7 = PKCS7_dup(TS_RESP_get_token(resp));
    TS_RESP_free(resp);
    return p7;
}

/*
 * The time-stamp is a countersignature by a time-stamp authority (RFC 3161) over
 * ["CounterSignature", protected, h'', payload], where payload is the claim (sigTst) or the CBOR
 * byte string of the COSE signature (sigTst2). Its genTime is returned (RFC 3339, malloc'd) only
 * when the token's message imprint matches and its CMS signature verifies with the certificate it
 * carries (the authority is not checked against a trust list); otherwise NULL, as c2pa-rs then
 * shows no signing time.
 */
char *c2pa_cose_timestamp(const c2pa_cose *c, const uint8_t *claim, size_t claim_len) {
    if (!c->tst || (!claim && !c->tst_v2)) return NULL;
    /* payload */
    size_t plen = c->tst_v2 ? 9 + c->signature_len : claim_len;
    uint8_t *payload = malloc(plen ? plen : 1);
    if (!payload) return NULL;
    if (c->tst_v2) {
        size_t h = cbor_encode_bytestring_start(c->signature_len, payload, plen);
        memcpy(payload + h, c->signature, c->signature_len);
        plen = h + c->signature_len;
    } else if (claim_len) {
        memcpy(payload, claim, claim_len);
    }
    size_t cap = 64 + c->protected_len + plen, o = 0;
    uint8_t *tbs = malloc(cap);
    char *out = NULL;
    PKCS7 *p7 = NULL;
    TS_TST_INFO *info = NULL;
    if (!tbs) goto done;
    o += cbor_encode_array_start(4, tbs + o, cap - o);
    o += cbor_encode_string_start(16, tbs + o, cap - o);
    memcpy(tbs + o, "CounterSignature", 16);
    o += 16;
    o += cbor_encode_bytestring_start(c->protected_len, tbs + o, cap - o);
    if (c->protected_len) memcpy(tbs + o, c->protected_bytes, c->protected_len);
    o += c->protected_len;
    o += cbor_encode_bytestring_start(0, tbs + o, cap - o);
    o += cbor_encode_bytestring_start(plen, tbs + o, cap - o);
    memcpy(tbs + o, payload, plen);
    o += plen;
    p7 = load_token(c->tst, c->tst_len);
    info = p7 ? PKCS7_to_TS_TST_INFO(p7) : NULL;
    if (!info) goto done;
    /* the imprint */
    TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(info);
    X509_ALGOR *algo = mi ? TS_MSG_IMPRINT_get_algo(mi) : NULL;
    const ASN1_OBJECT *oid = NULL;
    if (algo) X509_ALGOR_get0(&oid, NULL, NULL, algo);
    const EVP_MD *md = oid ? EVP_get_digestbyobj(oid) : NULL;
    ASN1_OCTET_STRING *want = mi ? TS_MSG_IMPRINT_get_msg(mi) : NULL;
    uint8_t got[EVP_MAX_MD_SIZE];
    unsigned got_len = 0;
    if (!md || !want || EVP_Digest(tbs, o, got, &got_len, md, NULL) != 1 ||
        (int)got_len != ASN1_STRING_length(want) || memcmp(got, ASN1_STRING_get0_data(want), got_len) != 0)
        goto done;
    /* the authority's signature over the token (with the certificate the token carries) */
    if (PKCS7_verify(p7, NULL, NULL, NULL, NULL, PKCS7_NOVERIFY) != 1) goto done;
    const ASN1_GENERALIZEDTIME *t = TS_TST_INFO_get_time(info);
    struct tm tm;
    if (t && ASN1_TIME_to_tm(t, &tm)) {
        char buf[64];
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
        out = c2pa_strdup(buf);
    }
done:
    TS_TST_INFO_free(info);
    PKCS7_free(p7);
    free(tbs);
    free(payload);
    ERR_clear_error();
    return out;
}

lc_status c2pa_cose_parse(const uint8_t *data, size_t len, c2pa_cose *c) {
    memset(c, 0, sizeof *c);
    /* The COSE_Sign1 tag (18) in its one-byte form 0xD2: libcbor 0.8 (Debian 12) rejects the inline
     * tag numbers 6..20 as malformed, so the tag is stripped here and the array decoded alone. */
    if (len > 0 && data[0] == 0xD2) {
        data++;
        len--;
    }
    lc_status st = cbor_safe_load(data, len, "COSE_Sign1", &c->root);
    if (st) return st;
    cbor_item_t *arr = cbor_untag(c->root);
    if (!cbor_isa_array(arr) || cbor_array_size(arr) != 4) {
        c2pa_cose_free(c);
        return lc_error(LC_ERR_FORMAT, "claim signature is not a COSE_Sign1 array of 4 items");
    }
    cbor_item_t **it = cbor_array_handle(arr);
    c->protected_bytes = cbor_bytes(it[0], &c->protected_len);
    c->signature = cbor_bytes(it[3], &c->signature_len);
    if (!c->protected_bytes || !c->signature || !cbor_isa_map(it[1])) {
        c2pa_cose_free(c);
        return lc_error(LC_ERR_FORMAT, "claim signature: malformed COSE_Sign1 (headers or signature)");
    }
    cbor_item_t *unprot = it[1];
    if (c->protected_len > 0) {
        if ((st = cbor_safe_load(c->protected_bytes, c->protected_len, "COSE protected header", &c->protected_map))) {
            c2pa_cose_free(c);
            return st;
        }
        if (!cbor_isa_map(c->protected_map)) {
            c2pa_cose_free(c);
            return lc_error(LC_ERR_FORMAT, "claim signature: COSE protected header is not a map");
        }
    }
    cbor_item_t *alg = cbor_map_get_int(c->protected_map, 1);
    if (alg && cbor_int_value(alg, &c->alg)) c->has_alg = true;
    cbor_item_t *x5 = cbor_map_get_int(c->protected_map, 33);
    if (!x5) x5 = cbor_map_get_int(unprot, 33);
    if (!x5) x5 = cbor_map_get(c->protected_map, "x5chain");
    if (!x5) x5 = cbor_map_get(unprot, "x5chain");
    if (x5 && parse_x5chain(x5, c) != LC_OK) {
        /* Not a reason to stop reading: the signature is then reported as not verifiable. */
        sk_X509_pop_free(c->chain, X509_free);
        c->chain = NULL;
        c->chain_unreadable = true;
        ERR_clear_error();
    }
    cbor_item_t *tst = cbor_map_get(unprot, "sigTst2");
    c->tst_v2 = tst != NULL;
    if (!tst) tst = cbor_map_get(unprot, "sigTst");
    if (tst) c->tst = tst_token(tst, &c->tst_len);
    return LC_OK;
}

void c2pa_cose_free(c2pa_cose *c) {
    if (c->chain) sk_X509_pop_free(c->chain, X509_free);
    if (c->root) cbor_decref(&c->root);
    if (c->protected_map) cbor_decref(&c->protected_map);
    memset(c, 0, sizeof *c);
}

/* Sig_structure bytes, encoded with libcbor's head encoders. */
static uint8_t *sig_structure(const c2pa_cose *c, const uint8_t *payload, size_t payload_len, size_t *out_len) {
    size_t cap = 64 + c->protected_len + payload_len;
    uint8_t *b = malloc(cap);
    if (!b) return NULL;
    size_t o = 0;
    o += cbor_encode_array_start(4, b + o, cap - o);
    o += cbor_encode_string_start(10, b + o, cap - o);
    memcpy(b + o, "Signature1", 10);
    o += 10;
    o += cbor_encode_bytestring_start(c->protected_len, b + o, cap - o);
    if (c->protected_len) memcpy(b + o, c->protected_bytes, c->protected_len);
    o += c->protected_len;
    o += cbor_encode_bytestring_start(0, b + o, cap - o);
    o += cbor_encode_bytestring_start(payload_len, b + o, cap - o);
    if (payload_len) memcpy(b + o, payload, payload_len);
    o += payload_len;
    *out_len = o;
    return b;
}

/* COSE ECDSA signature (r || s, each the size of the curve order) to DER. */
static uint8_t *ecdsa_der(EVP_PKEY *key, const uint8_t *sig, size_t len, size_t *der_len) {
    int bits = EVP_PKEY_get_bits(key);
    size_t n = (size_t)(bits + 7) / 8;
    if (bits <= 0 || len != 2 * n) return NULL;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)n, NULL), *s = BN_bin2bn(sig + n, (int)n, NULL);
    uint8_t *der = NULL;
    if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
        r = s = NULL;
        int l = i2d_ECDSA_SIG(es, &der);
        if (l <= 0) der = NULL;
        else *der_len = (size_t)l;
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return der;
}

int c2pa_cose_verify(const c2pa_cose *c, const uint8_t *payload, size_t payload_len) {
    if (!c->has_alg || !c2pa_cose_alg_name(c->alg)) return -1;
    if (!c->chain || sk_X509_num(c->chain) < 1) return -2;
    EVP_PKEY *key = X509_get0_pubkey(sk_X509_value(c->chain, 0));
    if (!key) return -2;
    int base = EVP_PKEY_get_base_id(key);
    bool is_ec = c->alg == COSE_ES256 || c->alg == COSE_ES384 || c->alg == COSE_ES512;
    bool is_ps = c->alg == COSE_PS256 || c->alg == COSE_PS384 || c->alg == COSE_PS512;
    if ((is_ec && base != EVP_PKEY_EC) || (is_ps && base != EVP_PKEY_RSA && base != EVP_PKEY_RSA_PSS) ||
        (c->alg == COSE_EDDSA && base != EVP_PKEY_ED25519))
        return -2;
    size_t tbs_len;
    uint8_t *tbs = sig_structure(c, payload, payload_len, &tbs_len);
    if (!tbs) return -3;
    const uint8_t *sig = c->signature;
    size_t sig_len = c->signature_len;
    uint8_t *der = NULL;
    int result = 0;
    if (is_ec) {
        der = ecdsa_der(key, sig, sig_len, &sig_len);
        if (!der) {
            free(tbs);
            return 0; /* wrong size for the curve: not this key's signature */
        }
        sig = der;
    }
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = c->alg == COSE_EDDSA ? NULL : alg_md(c->alg);
    if (mctx && EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key) == 1) {
        bool ok = true;
        if (is_ps)
            ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
                 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
                 EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0;
        if (ok) result = EVP_DigestVerify(mctx, sig, sig_len, tbs, tbs_len) == 1 ? 1 : 0;
    }
    EVP_MD_CTX_free(mctx);
    OPENSSL_free(der);
    free(tbs);
    return result;
}
