/*
 * The signer's certificate: validity period and chain to the trust anchors (OpenSSL's X509 store;
 * partial chains allowed, so an intermediate given as an anchor is trusted as such). Without
 * anchors a signature can be Valid at best: the certificate is then only checked for its period.
 */
#include "c2pa_internal.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static lc_status add_pem(c2pa_trust *t, BIO *bio, const char *name) {
    X509 *x;
    int before = t->n_anchors;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(t->store, x) == 1) t->n_anchors++;
        X509_free(x);
    }
    ERR_clear_error(); /* the loop ends on "no start line" */
    if (t->n_anchors == before) return lc_error(LC_ERR_FORMAT, "%s: no PEM certificates found", name);
    return LC_OK;
}

lc_status c2pa_trust_load(c2pa_trust *t, const lc_c2pa_options *opt) {
    memset(t, 0, sizeof *t);
    if (!opt || (!opt->trust_pem_path && !opt->trust_pem)) return LC_OK;
    t->store = X509_STORE_new();
    if (!t->store) return lc_error(LC_ERR_NOMEM, "out of memory for the trust store");
    lc_status st = LC_OK;
    if (opt->trust_pem_path) {
        BIO *bio = BIO_new_file(opt->trust_pem_path, "r");
        if (!bio) {
            ERR_clear_error();
            st = lc_error(LC_ERR_IO, "%s: cannot open the trust anchors file", opt->trust_pem_path);
        } else {
            st = add_pem(t, bio, opt->trust_pem_path);
            BIO_free(bio);
        }
    }
    if (!st && opt->trust_pem) {
        size_t n = opt->trust_pem_len ? opt->trust_pem_len : strlen(opt->trust_pem);
        BIO *bio = BIO_new_mem_buf(opt->trust_pem, (int)n);
        if (!bio) st = lc_error(LC_ERR_NOMEM, "out of memory");
        else {
            st = add_pem(t, bio, "trust anchors (memory)");
            BIO_free(bio);
        }
    }
    if (st) c2pa_trust_free(t);
    return st;
}

void c2pa_trust_free(c2pa_trust *t) {
    if (t->store) X509_STORE_free(t->store);
    memset(t, 0, sizeof *t);
}

c2pa_trust_result c2pa_trust_check(const c2pa_trust *t, STACK_OF(X509) *chain, int64_t at_time, char *why,
                                   size_t why_len) {
    why[0] = '\0';
    if (!chain || sk_X509_num(chain) < 1) {
        snprintf(why, why_len, "no signing certificate");
        return C2PA_CERT_INVALID;
    }
    X509 *signer = sk_X509_value(chain, 0);
    time_t now = (time_t)at_time;
    if (X509_cmp_time(X509_get0_notBefore(signer), &now) > 0) {
        snprintf(why, why_len, "signing certificate not yet valid");
        return C2PA_CERT_EXPIRED;
    }
    if (X509_cmp_time(X509_get0_notAfter(signer), &now) < 0) {
        snprintf(why, why_len, "signing certificate expired");
        return C2PA_CERT_EXPIRED;
    }
    if (!t || !t->store) {
        snprintf(why, why_len, "signing certificate untrusted");
        return C2PA_CERT_UNTRUSTED;
    }
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    c2pa_trust_result r = C2PA_CERT_INVALID;
    if (!ctx || !untrusted) {
        snprintf(why, why_len, "out of memory");
        goto done;
    }
    for (int i = 1; i < sk_X509_num(chain); i++) sk_X509_push(untrusted, sk_X509_value(chain, i));
    if (X509_STORE_CTX_init(ctx, t->store, signer, untrusted) != 1) {
        snprintf(why, why_len, "cannot set up certificate verification");
        goto done;
    }
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
    X509_STORE_CTX_set_time(ctx, 0, now);
    if (X509_verify_cert(ctx) == 1) {
        r = C2PA_CERT_TRUSTED;
        goto done;
    }
    /* Any failure to build a verified chain to an anchor (missing issuer, a certificate's signature
     * or validity, ...) leaves the signer untrusted, as c2pa-rs reports it. */
    int err = X509_STORE_CTX_get_error(ctx);
    r = C2PA_CERT_UNTRUSTED;
    snprintf(why, why_len, "signing certificate untrusted: %s", X509_verify_cert_error_string(err));
done:
    ERR_clear_error();
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    return r;
}

char *c2pa_cert_subject_field(X509 *cert, int nid) {
    X509_NAME *name = X509_get_subject_name(cert);
    int i = name ? X509_NAME_get_index_by_NID(name, nid, -1) : -1;
    if (i < 0) return NULL;
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n < 0) {
        ERR_clear_error();
        return NULL;
    }
    char *s = c2pa_strndup((const char *)utf8, (size_t)n);
    OPENSSL_free(utf8);
    return s;
}

/*
 * The signer's certificate profile, as c2pa-rs checks it when reading (each rule below was
 * confirmed against c2pa-python on files signed with certificates that break it):
 *   - the signature algorithm inside the signed part matches the one outside;
 *   - an end-entity certificate: basicConstraints, when present, must not say CA;
 *   - an authorityKeyIdentifier, even on a self-signed certificate;
 *   - RSA keys of 2048 bits or more, EC keys on P-256, P-384 or P-521 (the specification's rule;
 *     no signer at hand makes weaker ones, so this one is not checked against c2pa-python);
 *   - keyUsage present, with digitalSignature or nonRepudiation;
 *   - extendedKeyUsage present, without anyExtendedKeyUsage, holding emailProtection, timeStamping
 *     or OCSPSigning; timeStamping and OCSPSigning only alone.
 */
c2pa_profile_result c2pa_cert_profile(X509 *cert, char *why, size_t why_len) {
    why[0] = '\0';
    int crit = 0;
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(cert, NID_basic_constraints, &crit, NULL);
    bool is_ca = bc && bc->ca;
    BASIC_CONSTRAINTS_free(bc);
    if (is_ca) {
        snprintf(why, why_len, "expected end-entity certificate");
        return C2PA_PROFILE_INVALID;
    }
    /* The algorithm named inside the signed part must be the one the certificate is signed with. */
    const X509_ALGOR *outer = NULL;
    X509_get0_signature(NULL, &outer, cert);
    if (!outer || X509_ALGOR_cmp(outer, X509_get0_tbs_sigalg(cert)) != 0) {
        snprintf(why, why_len, "certificate signature algorithm does not match tbsCertificate");
        return C2PA_PROFILE_BROKEN;
    }
    uint32_t flags = X509_get_extension_flags(cert);
    if (flags & EXFLAG_INVALID) {
        snprintf(why, why_len, "certificate extensions malformed");
        return C2PA_PROFILE_INVALID;
    }
    if (X509_get_ext_by_NID(cert, NID_authority_key_identifier, -1) < 0) {
        snprintf(why, why_len, "certificate params incorrect: no authority key identifier");
        return C2PA_PROFILE_INVALID;
    }
    if (!(flags & EXFLAG_KUSAGE) || !(X509_get_key_usage(cert) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
        snprintf(why, why_len, "certificate params incorrect: key usage must allow digital signatures");
        return C2PA_PROFILE_INVALID;
    }
    /* Key strength the specification requires: RSA of 2048 bits or more; EC on P-256/384/521. */
    EVP_PKEY *key = X509_get0_pubkey(cert);
    int base = key ? EVP_PKEY_get_base_id(key) : 0;
    if ((base == EVP_PKEY_RSA || base == EVP_PKEY_RSA_PSS) && EVP_PKEY_get_bits(key) < 2048) {
        snprintf(why, why_len, "certificate params incorrect: RSA key of %d bits", EVP_PKEY_get_bits(key));
        return C2PA_PROFILE_INVALID;
    }
    if (base == EVP_PKEY_EC) {
        char curve[64] = "";
        size_t cl = 0;
        EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &cl);
        if (strcmp(curve, "prime256v1") != 0 && strcmp(curve, "secp384r1") != 0 && strcmp(curve, "secp521r1") != 0) {
            snprintf(why, why_len, "certificate params incorrect: EC curve '%s'", curve);
            ERR_clear_error();
            return C2PA_PROFILE_INVALID;
        }
    }
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
    if (!eku) {
        snprintf(why, why_len, "certificate params incorrect: no extended key usage");
        ERR_clear_error();
        return C2PA_PROFILE_NO_EKU;
    }
    int n = sk_ASN1_OBJECT_num(eku), email = 0, ts = 0, ocsp = 0, any = 0;
    for (int i = 0; i < n; i++) {
        switch (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i))) {
        case NID_email_protect: email = 1; break;
        case NID_time_stamp: ts = 1; break;
        case NID_OCSP_sign: ocsp = 1; break;
        case NID_anyExtendedKeyUsage: any = 1; break;
        default: break;
        }
    }
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    if (any) {
        snprintf(why, why_len, "certificate 'any' EKU not allowed");
        return C2PA_PROFILE_NO_EKU;
    }
    if (!email && !ts && !ocsp) {
        snprintf(why, why_len, "certificate missing required EKU");
        return C2PA_PROFILE_NO_EKU;
    }
    if ((ts || ocsp) && n > 1) {
        snprintf(why, why_len, "certificate invalid set of EKUs");
        return C2PA_PROFILE_INVALID;
    }
    return C2PA_PROFILE_OK;
}
