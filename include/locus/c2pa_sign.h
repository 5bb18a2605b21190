/*
 * C2PA content credentials: sign a JPEG or PNG (reading and validation: locus/c2pa.h).
 * Usable without the inference engine: link liblocus_c2pa (OpenSSL, libcbor, cJSON) only.
 *
 * What signing writes (C2PA specification 2.x, as c2pa-rs reads it):
 *   - one new manifest, labelled "urn:c2pa:<uuid>", with a c2pa.claim.v2 whose created_assertions
 *     are c2pa.actions.v2 (c2pa.created with a digitalSourceType, or c2pa.opened when the input
 *     already carries content credentials), c2pa.hash.data (SHA-256 of the whole file except the
 *     bytes of the manifest store itself), c2pa.ingredient.v3 for a parent, and any assertions of
 *     the manifest definition;
 *   - the claim signed as a COSE_Sign1 (detached payload) with ES256, ES384, PS256 or Ed25519; the
 *     protected header carries the algorithm and the certificate chain (x5chain, label 33);
 *   - the store embedded as JPEG APP11 segments (after the leading APP0/APP1 segments) or as a PNG
 *     caBX chunk (after IHDR); an existing store is replaced by the new one, which keeps all its
 *     manifests, and its active manifest becomes the parent ingredient of the new one.
 * No time-stamp authority is contacted: the signature carries no time-stamp, so validators check
 * the certificate against the time of validation.
 */
#ifndef LOCUS_C2PA_SIGN_H
#define LOCUS_C2PA_SIGN_H
#include "../locus.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lc_c2pa_alg {
    LC_C2PA_ALG_AUTO = 0, /* from the key: EC P-256 -> ES256, P-384 -> ES384, RSA -> PS256, Ed25519 */
    LC_C2PA_ES256 = 1,
    LC_C2PA_ES384 = 2,
    LC_C2PA_PS256 = 3,
    LC_C2PA_ED25519 = 4
} lc_c2pa_alg;

/* "es256", "es384", "ps256", "ed25519" (case-insensitive); LC_ERR_ARG otherwise. */
lc_status lc_c2pa_alg_parse(const char *name, lc_c2pa_alg *out);
/* "es256", ... ("auto" for LC_C2PA_ALG_AUTO). */
const char *lc_c2pa_alg_name(lc_c2pa_alg alg);

typedef struct lc_c2pa_sign_options {
    lc_c2pa_alg alg;
    /* Certificate chain (PEM, signer first, then intermediates; the root is not needed) and the
     * signer's private key (PEM, PKCS#8 or traditional): each from a path or from memory. */
    const char *cert_pem_path;
    const char *cert_pem;
    size_t cert_pem_len;
    const char *key_pem_path;
    const char *key_pem;
    size_t key_pem_len;
    /* dc:title of the claim; NULL: the manifest definition's "title", else the input's base name. */
    const char *title;
    /* Optional manifest definition, JSON text (a subset of c2pa-rs's ManifestDefinition):
     *   {"title": "...", "claim_generator_info": [{"name": "...", "version": "..."}],
     *    "digitalSourceType": "<IPTC term or URL>",
     *    "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [...]}},
     *                   {"label": "<any other label>", "data": <JSON, stored as CBOR>},
     *                   {"label": "...", "kind": "Json", "data": <JSON, stored as JSON>}]}
     * Actions given there follow the c2pa.created / c2pa.opened action that locus writes first
     * (one given as created/opened replaces it). Labels locus writes itself (c2pa.hash.*,
     * c2pa.ingredient*, c2pa.claim*, c2pa.signature) are refused. */
    const char *manifest_json;
    /* digitalSourceType of c2pa.created: an IPTC term ("digitalCapture", "trainedAlgorithmicMedia"
     * ...) or a full URL; NULL: the manifest definition's, else "digitalCapture". */
    const char *digital_source_type;
    /* Trust anchors (PEM path, may be NULL) used to validate a parent manifest; its results are
     * recorded in the parent ingredient's validationResults. */
    const char *trust_pem_path;
    /* The signer's certificate must follow the C2PA certificate profile (an end-entity certificate
     * with an authority key identifier, key usage for digital signatures, an extended key usage
     * C2PA allows: the rules `lc_c2pa_verify_file` checks); otherwise signing fails with
     * LC_ERR_ARG naming the certificate and the rule. true skips that check, to make test files
     * that readers must reject (they report signingCredential.invalid and the state Invalid). */
    bool allow_nonconforming_cert;
} lc_c2pa_sign_options;

/* Sign `in_path` (JPEG or PNG, by content) into `out_path` (which may equal in_path; the output is
 * written to a temporary file and renamed). Errors name the file and the problem. */
lc_status lc_c2pa_sign_file(const char *in_path, const char *out_path, const lc_c2pa_sign_options *opt);

/* Same on memory: *out (malloc'd, free with free()) is the signed file. `name` is used in messages
 * and as the default title (may be NULL). */
lc_status lc_c2pa_sign_memory(const void *data, size_t len, const char *name, const lc_c2pa_sign_options *opt,
                              uint8_t **out, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
