/*
 * The claim signature: a COSE_Sign1 (RFC 9052) with a detached payload, signed with OpenSSL 3.
 *
 *   COSE_Sign1 = #6.18([protected: bstr .cbor {1: alg, 33: x5chain}, unprotected: {}, nil, signature])
 *   signature  = sign(Sig_structure = ["Signature1", protected, h'', claim bytes])
 *
 * ECDSA signatures are the raw r || s of RFC 9053 (OpenSSL gives DER, converted here); PS256 is
 * RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt; Ed25519 is pure EdDSA.
 */
#include "sign_internal.h"
#include "c2pa_internal.h" /* the signer certificate profile, shared with the verifier */

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

lc_status lc_c2pa_alg_parse(const char *name, lc_c2pa_alg *out) {
    static const struct {
        const char *name;
        lc_c2pa_alg alg;
    } names[] = {{"es256", LC_C2PA_ES256}, {"es384", LC_C2PA_ES384}, {"ps256", LC_C2PA_PS256},
                 {"ed25519", LC_C2PA_ED25519}, {"auto", LC_C2PA_ALG_AUTO}};
    if (!name || !out) return lc_error(LC_ERR_ARG, "c2pa sign: no algorithm name");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].alg;
            return LC_OK;
        }
    }
    return lc_error(LC_ERR_ARG, "c2pa sign: unknown algorithm '%s' (es256, es384, ps256 or ed25519)", name);
}

const char *lc_c2pa_alg_name(lc_c2pa_alg alg) {
    switch (alg) {
    case LC_C2PA_ES256: return "es256";
    case LC_C2PA_ES384: return "es384";
    case LC_C2PA_PS256: return "ps256";
    case LC_C2PA_ED25519: return "ed25519";
    default: return "auto";
    }
}

static int cose_alg_id(lc_c2pa_alg alg) {
    switch (alg) {
    case LC_C2PA_ES256: return -7;
    case LC_C2PA_ES384: return -35;
    case LC_C2PA_PS256: return -37;
    case LC_C2PA_ED25519: return -8;
    default: return 0;
    }
}

/* The first OpenSSL error as words (the queue is cleared). */
static const char *ssl_reason(char *buf, size_t len) {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e) return "unknown OpenSSL error";
    ERR_error_string_n(e, buf, len);
    return buf;
}

static BIO *open_pem(const char *path, const char *mem, size_t mem_len, const char *what) {
    BIO *bio = NULL;
    if (path) {
        bio = BIO_new_file(path, "rb");
        if (!bio) lc_error(LC_ERR_IO, "%s: cannot open the %s", path, what);
    } else if (mem) {
        bio = BIO_new_mem_buf(mem, mem_len ? (int)mem_len : -1);
        if (!bio) lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory reading the %s", what);
    } else {
        lc_error(LC_ERR_ARG, "c2pa sign: no %s given", what);
    }
    return bio;
}

/* Never prompt on a terminal for an encrypted key: refuse it. */
static int no_password(char *buf, int size, int rwflag, void *u) {
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

void lc_signer_free(lc_signer *s) {
    if (!s) return;
    EVP_PKEY_free(s->key);
    for (size_t i = 0; i < s->n_certs; i++) free(s->cert_der[i]);
    free(s->cert_der);
    free(s->cert_len);
    *s = (lc_signer){0};
}

static lc_status load_certs(const lc_c2pa_sign_options *opt, lc_signer *s, X509 **first) {
    const char *name = opt->cert_pem_path ? opt->cert_pem_path : "certificate chain";
    BIO *bio = open_pem(opt->cert_pem_path, opt->cert_pem, opt->cert_pem_len, "certificate chain");
    if (!bio) return lc_last_error()[0] ? LC_ERR_IO : LC_ERR_ARG;
    lc_status st = LC_OK;
    X509 *x;
    ERR_clear_error();
    while ((x = PEM_read_bio_X509(bio, NULL, no_password, NULL)) != NULL) {
        int n = i2d_X509(x, NULL);
        uint8_t **ders = realloc(s->cert_der, (s->n_certs + 1) * sizeof *ders);
        if (ders) s->cert_der = ders;
        size_t *lens = realloc(s->cert_len, (s->n_certs + 1) * sizeof *lens);
        if (lens) s->cert_len = lens;
        uint8_t *der = n > 0 ? malloc((size_t)n) : NULL;
        if (!ders || !lens || !der) {
            free(der);
            X509_free(x);
            st = lc_error(LC_ERR_NOMEM, "%s: out of memory", name);
            break;
        }
        uint8_t *p = der;
        i2d_X509(x, &p);
        s->cert_der[s->n_certs] = der;
        s->cert_len[s->n_certs] = (size_t)n;
        s->n_certs++;
        if (!*first) *first = x;
        else X509_free(x);
    }
    unsigned long e = ERR_peek_last_error();
    if (st == LC_OK && s->n_certs == 0)
        st = lc_error(LC_ERR_FORMAT, "%s: no PEM certificate found", name);
    else if (st == LC_OK && e && ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
        char buf[256];
        st = lc_error(LC_ERR_FORMAT, "%s: malformed certificate: %s", name, ssl_reason(buf, sizeof buf));
    }
    ERR_clear_error();
    BIO_free(bio);
    return st;
}

static lc_status alg_for_key(EVP_PKEY *key, const char *name, lc_c2pa_alg *alg) {
    int id = EVP_PKEY_get_base_id(key);
    if (id == EVP_PKEY_EC) {
        char group[64] = "";
        size_t glen = 0;
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen);
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) *alg = LC_C2PA_ES256;
        else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) *alg = LC_C2PA_ES384;
        else return lc_error(LC_ERR_UNSUPPORTED, "%s: EC curve '%s' is not supported (P-256 or P-384)", name, group);
        return LC_OK;
    }
    if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
        if (EVP_PKEY_get_bits(key) < 2048)
            return lc_error(LC_ERR_UNSUPPORTED, "%s: RSA key of %d bits; C2PA needs at least 2048", name,
                            EVP_PKEY_get_bits(key));
        *alg = LC_C2PA_PS256;
        return LC_OK;
    }
    if (id == EVP_PKEY_ED25519) {
        *alg = LC_C2PA_ED25519;
        return LC_OK;
    }
    return lc_error(LC_ERR_UNSUPPORTED, "%s: key type %s is not supported (EC P-256/P-384, RSA, Ed25519)", name,
                    OBJ_nid2sn(id));
}

lc_status lc_signer_load(const lc_c2pa_sign_options *opt, lc_signer *out) {
    *out = (lc_signer){0};
    if (!opt) return lc_error(LC_ERR_ARG, "c2pa sign: no options");
    const char *kname = opt->key_pem_path ? opt->key_pem_path : "private key";
    BIO *bio = open_pem(opt->key_pem_path, opt->key_pem, opt->key_pem_len, "private key");
    if (!bio) return opt->key_pem_path ? LC_ERR_IO : LC_ERR_ARG;
    ERR_clear_error();
    out->key = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    BIO_free(bio);
    if (!out->key) {
        char buf[256];
        return lc_error(LC_ERR_FORMAT, "%s: not a readable (unencrypted) PEM private key: %s", kname,
                        ssl_reason(buf, sizeof buf));
    }
    lc_c2pa_alg key_alg = LC_C2PA_ALG_AUTO;
    lc_status st = alg_for_key(out->key, kname, &key_alg);
    if (st != LC_OK) goto fail;
    if (opt->alg != LC_C2PA_ALG_AUTO && opt->alg != key_alg) {
        st = lc_error(LC_ERR_ARG, "%s: the key is for %s, not %s", kname, lc_c2pa_alg_name(key_alg),
                      lc_c2pa_alg_name(opt->alg));
        goto fail;
    }
    out->alg = key_alg;

    X509 *signer_cert = NULL;
    st = load_certs(opt, out, &signer_cert);
    if (st != LC_OK) {
        X509_free(signer_cert);
        goto fail;
    }
    const char *cname = opt->cert_pem_path ? opt->cert_pem_path : "certificate chain";
    int eq = EVP_PKEY_eq(X509_get0_pubkey(signer_cert), out->key);
    ERR_clear_error();
    if (eq != 1) {
        X509_free(signer_cert);
        st = lc_error(LC_ERR_ARG, "%s: the first certificate does not belong to the private key %s", cname, kname);
        goto fail;
    }
    /* The C2PA signer certificate profile, checked by the same code as when verifying: c2pa-rs
     * refuses such a certificate when signing, and every reader marks the result Invalid. */
    char why[256];
    c2pa_profile_result profile =
        opt->allow_nonconforming_cert ? C2PA_PROFILE_OK : c2pa_cert_profile(signer_cert, why, sizeof why);
    X509_free(signer_cert);
    ERR_clear_error();
    if (profile != C2PA_PROFILE_OK) {
        st = lc_error(LC_ERR_ARG,
                      "%s: the signing certificate breaks the C2PA certificate profile (%s); readers would mark "
                      "the signed file Invalid (signingCredential.invalid)",
                      cname, why);
        goto fail;
    }
    switch (out->alg) {
    case LC_C2PA_ES256: out->sig_len = 64; break;
    case LC_C2PA_ES384: out->sig_len = 96; break;
    case LC_C2PA_ED25519: out->sig_len = 64; break;
    case LC_C2PA_PS256: out->sig_len = (size_t)EVP_PKEY_get_size(out->key); break;
    default: break;
    }
    return LC_OK;
fail:
    lc_signer_free(out);
    return st;
}

/* Raw signature of `msg` into sig[s->sig_len]. */
static lc_status raw_sign(const lc_signer *s, const uint8_t *msg, size_t msg_len, uint8_t *sig) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    uint8_t *der = NULL;
    lc_status st = LC_OK;
    char buf[256];
    if (!ctx) return lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory");
    const EVP_MD *md = s->alg == LC_C2PA_ED25519 ? NULL : s->alg == LC_C2PA_ES384 ? EVP_sha384() : EVP_sha256();
    if (EVP_DigestSignInit(ctx, &pctx, md, NULL, s->key) != 1) goto ssl_fail;
    if (s->alg == LC_C2PA_PS256 &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1))
        goto ssl_fail;
    size_t n = 0;
    if (EVP_DigestSign(ctx, NULL, &n, msg, msg_len) != 1) goto ssl_fail;
    der = malloc(n);
    if (!der) {
        st = lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory");
        goto done;
    }
    if (EVP_DigestSign(ctx, der, &n, msg, msg_len) != 1) goto ssl_fail;
    if (s->alg == LC_C2PA_ES256 || s->alg == LC_C2PA_ES384) {
        /* DER ECDSA-Sig-Value -> r || s, each left-padded to the coordinate size */
        const uint8_t *p = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
        if (!es) goto ssl_fail;
        size_t half = s->sig_len / 2;
        int ok = BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int)half) == (int)half &&
                 BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + half, (int)half) == (int)half;
        ECDSA_SIG_free(es);
        if (!ok) goto ssl_fail;
    } else {
        if (n != s->sig_len) {
            st = lc_error(LC_ERR_INTERNAL, "c2pa sign: signature of %zu bytes, expected %zu", n, s->sig_len);
            goto done;
        }
        memcpy(sig, der, n);
    }
    goto done;
ssl_fail:
    st = lc_error(LC_ERR_INTERNAL, "c2pa sign: signing with %s failed: %s", lc_c2pa_alg_name(s->alg),
                  ssl_reason(buf, sizeof buf));
done:
    free(der);
    EVP_MD_CTX_free(ctx);
    return st;
}

lc_status lc_cose_sign1(const lc_signer *s, const uint8_t *payload, size_t payload_len, uint8_t **out,
                        size_t *out_len) {
    lc_status st = LC_OK;
    cbor_item_t *hdr = NULL, *tbs = NULL, *sign1 = NULL, *arr = NULL;
    uint8_t *prot = NULL, *tbs_bytes = NULL, *sig = NULL;
    size_t prot_len = 0, tbs_len = 0;

    /* protected header: {1: alg, 33: x5chain} (one certificate as a bstr, more as an array) */
    hdr = cbor_new_definite_map(2);
    bool ok = hdr != NULL;
    if (ok) {
        cbor_item_t *k1 = lc_cb_uint(1), *v1 = lc_cb_int(cose_alg_id(s->alg));
        ok = k1 && v1 && cbor_map_add(hdr, (struct cbor_pair){k1, v1});
        if (k1) cbor_decref(&k1);
        if (v1) cbor_decref(&v1);
    }
    if (ok) {
        cbor_item_t *chain;
        if (s->n_certs == 1) {
            chain = lc_cb_bytes(s->cert_der[0], s->cert_len[0]);
        } else {
            chain = cbor_new_definite_array(s->n_certs);
            for (size_t i = 0; chain && i < s->n_certs; i++)
                if (!lc_cb_push(chain, lc_cb_bytes(s->cert_der[i], s->cert_len[i]))) cbor_decref(&chain);
        }
        cbor_item_t *k33 = lc_cb_uint(33);
        ok = k33 && chain && cbor_map_add(hdr, (struct cbor_pair){k33, chain});
        if (k33) cbor_decref(&k33);
        if (chain) cbor_decref(&chain);
    }
    ok = ok && lc_cb_serialize(hdr, &prot, &prot_len);

    /* Sig_structure */
    if (ok) {
        tbs = cbor_new_definite_array(4);
        ok = tbs && lc_cb_push(tbs, lc_cb_text("Signature1")) && lc_cb_push(tbs, lc_cb_bytes(prot, prot_len)) &&
             lc_cb_push(tbs, lc_cb_bytes(NULL, 0)) && lc_cb_push(tbs, lc_cb_bytes(payload, payload_len)) &&
             lc_cb_serialize(tbs, &tbs_bytes, &tbs_len);
    }
    if (!ok) {
        st = lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory building the COSE signature");
        goto done;
    }
    sig = malloc(s->sig_len);
    if (!sig) {
        st = lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory");
        goto done;
    }
    st = raw_sign(s, tbs_bytes, tbs_len, sig);
    if (st != LC_OK) goto done;

    arr = cbor_new_definite_array(4);
    ok = arr && lc_cb_push(arr, lc_cb_bytes(prot, prot_len)) && lc_cb_push(arr, cbor_new_definite_map(0)) &&
         lc_cb_push(arr, cbor_new_null()) && lc_cb_push(arr, lc_cb_bytes(sig, s->sig_len));
    if (ok) {
        sign1 = cbor_build_tag(18, arr);
        ok = sign1 && lc_cb_serialize(sign1, out, out_len);
    }
    if (!ok) st = lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory building the COSE signature");
done:
    if (hdr) cbor_decref(&hdr);
    if (tbs) cbor_decref(&tbs);
    if (arr) cbor_decref(&arr);
    if (sign1) cbor_decref(&sign1);
    free(prot);
    free(tbs_bytes);
    free(sig);
    return st;
}
