/*
 * C2PA content credentials: read and validate (this header), sign (locus/c2pa_sign.h).
 * Usable without the inference engine: link liblocus_c2pa (OpenSSL, libcbor, cJSON) only.
 *
 * Validation follows the C2PA specification (spec.c2pa.org) and c2pa-rs:
 *   - the manifest store is read from JPEG APP11 segments (JUMBF reassembled by En and Z) or a
 *     PNG caBX chunk; the rest of the file is streamed through the hash, never held in memory;
 *   - each manifest's claim (c2pa.claim v1 or c2pa.claim.v2) is checked: COSE_Sign1 signature
 *     (ES256/384/512, PS256/384/512, Ed25519), the signer's certificate chain and validity against
 *     the given trust anchors, the hashed URIs of every referenced assertion, the hard binding
 *     (c2pa.hash.data or c2pa.hash.boxes) of the active manifest, and ingredient manifests;
 *   - failures are reported with the specification's status codes ("claimSignature.mismatch",
 *     "assertion.dataHash.mismatch", "signingCredential.untrusted", ...), as c2patool does.
 *
 * Failures of ingredient manifests (C2PA specification, "Validate the ingredients"; c2pa-rs's
 * ValidationResults): each failure found while checking an ingredient's manifest is tagged with
 * the URI of the ingredient assertion that led there (lc_c2pa_status.ingredient; the ingredient
 * "deltas"). A failure about a manifest other than the active one that an ingredient assertion
 * of the store already records (its validationResults, or validation_status for v1/v2
 * ingredients: same code, same absolute URL) was known when that ingredient was added: it stays
 * with the ingredient (lc_c2pa_ingredient.failures) and does not count again. The active
 * manifest's own failures always count.
 *
 * Validation state, from the failures that count (lc_c2pa_report_status):
 *   ABSENT   no C2PA manifest store in the file;
 *   INVALID  a failure code other than signingCredential.untrusted (nothing tampered is ever valid);
 *   VALID    everything checks out, but a signer (the active one, or an ingredient's not recorded as
 *            such) does not chain to a trust anchor (or none given);
 *   TRUSTED  valid, the active signer chains to one of the trust anchors and no failure counts.
 *
 * Errors (lc_status other than LC_OK): the file cannot be read (LC_ERR_IO), or its container or
 * its C2PA data is malformed beyond validation (LC_ERR_FORMAT: truncated file, absurd box length,
 * too deep nesting); lc_last_error() names the file and the problem.
 */
#ifndef LOCUS_C2PA_H
#define LOCUS_C2PA_H
#include "../locus.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lc_c2pa_state {
    LC_C2PA_ABSENT = 0,
    LC_C2PA_INVALID = 1,
    LC_C2PA_VALID = 2,
    LC_C2PA_TRUSTED = 3
} lc_c2pa_state;

/* "Absent", "Invalid", "Valid", "Trusted". */
const char *lc_c2pa_state_name(lc_c2pa_state s);

typedef struct lc_c2pa_options {
    /* Trust anchors (PEM certificates), from a file and/or from memory; both may be NULL. */
    const char *trust_pem_path;
    const char *trust_pem;
    size_t trust_pem_len;
    /* Seconds since the epoch at which the signer's certificate must be valid; 0 means now. (An
     * intact RFC 3161 time-stamp is shown as the signing time but not relied on here: locus checks
     * its imprint and signature, not the time-stamp authority against a trust list.) */
    int64_t verify_time;
} lc_c2pa_options;

/* One validation status entry: a specification code, the JUMBF URI it is about, and words. */
typedef struct lc_c2pa_status {
    const char *code;
    const char *url;
    const char *explanation;
    /* NULL for a failure of the active manifest; for one found in an ingredient's manifest, the
     * absolute URI of the ingredient assertion through which it was reached (the innermost one:
     * c2pa-rs's ingredientAssertionURI of validation_results.ingredientDeltas). */
    const char *ingredient;
} lc_c2pa_status;

typedef struct lc_c2pa_ingredient {
    const char *title;             /* may be NULL */
    const char *format;            /* may be NULL */
    const char *relationship;      /* "parentOf", "componentOf", "inputTo" */
    const char *instance_id;       /* may be NULL */
    const char *active_manifest;   /* label of the ingredient's manifest in this store, or NULL */
    const char *url;               /* the ingredient assertion: "self#jumbf=/c2pa/<manifest>/c2pa.assertions/<label>" */
    /* Failures recorded in the ingredient assertion by whoever added it (validationResults of a
     * v3 ingredient: activeManifest and ingredientDeltas; validation_status of v1/v2), with
     * absolute URLs; `ingredient` is set for those of its ingredientDeltas. Codes c2pa-rs counts
     * as success or informational are left out. */
    size_t n_failures;
    const lc_c2pa_status *failures;
} lc_c2pa_ingredient;

typedef struct lc_c2pa_manifest {
    const char *label;             /* e.g. "urn:c2pa:...:contentauth" */
    int claim_version;             /* 1 (c2pa.claim) or 2 (c2pa.claim.v2) */
    const char *claim_generator;   /* v1 string, or v2 claim_generator_info name[/version] */
    const char *title;             /* dc:title, may be NULL */
    const char *format;            /* dc:format, may be NULL */
    const char *instance_id;
    /* Signature: algorithm as c2pa-rs names it ("Es256", "Ps256", "Ed25519"...), the signer
     * certificate's O and CN, and the signing time from an intact time-stamp (RFC 3339, e.g.
     * "2024-08-06T21:53:37+00:00") or NULL when there is none. */
    const char *sig_alg;
    const char *sig_issuer;
    const char *sig_common_name;
    const char *sig_time;
    size_t n_assertions;
    const char *const *assertions;   /* assertion labels, in claim order */
    size_t n_actions;
    const char *const *actions;      /* action names from c2pa.actions[.v2] ("c2pa.created", ...) */
    size_t n_ingredients;
    const lc_c2pa_ingredient *ingredients;
    /* digitalSourceType values of the actions (each action map's "digitalSourceType", in claim
     * order, duplicates dropped), as written: IPTC URLs such as
     * "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia" or bare terms. */
    size_t n_source_types;
    const char *const *source_types;
} lc_c2pa_manifest;

typedef struct lc_c2pa_report lc_c2pa_report;

/* Read and validate the content credentials of a JPEG or PNG file. On LC_OK *out is a report
 * (state Absent when the file carries none); free it with lc_c2pa_report_free. opt may be NULL. */
lc_status lc_c2pa_verify_file(const char *path, const lc_c2pa_options *opt, lc_c2pa_report **out);
/* Same for an in-memory file; `name` is used in messages (may be NULL). */
lc_status lc_c2pa_verify_memory(const void *data, size_t len, const char *name, const lc_c2pa_options *opt,
                                lc_c2pa_report **out);
void lc_c2pa_report_free(lc_c2pa_report *r); /* NULL is fine */

lc_c2pa_state lc_c2pa_report_state(const lc_c2pa_report *r);
/* Label of the active manifest, or NULL when absent. */
const char *lc_c2pa_report_active_manifest(const lc_c2pa_report *r);
/* Manifests of the store, in store order. */
size_t lc_c2pa_report_manifest_count(const lc_c2pa_report *r);
const lc_c2pa_manifest *lc_c2pa_report_manifest(const lc_c2pa_report *r, size_t i);
/* The failures that decide the state (validation_status as c2patool reports it: those of the
 * active manifest, then those of ingredient manifests not recorded in an ingredient; includes
 * signingCredential.untrusted). */
size_t lc_c2pa_report_status_count(const lc_c2pa_report *r);
const lc_c2pa_status *lc_c2pa_report_status(const lc_c2pa_report *r, size_t i);
/* Is `code` among the failure codes? */
bool lc_c2pa_report_has_status(const lc_c2pa_report *r, const char *code);

/* The report as one JSON object (malloc'd, NUL-terminated; free with free()):
 * {"file","validation_state","active_manifest","manifests":{label:{claim_generator,title,
 *  signature_info:{alg,issuer,common_name,time},assertions,ingredients,actions,source_types}},
 *  "validation_status", "validation_results"}
 * validation_status lists the failures that decide the state ({code,url,explanation}); the same
 * failures are split in "validation_results" as c2patool does: {"activeManifest":{"failure":[...]},
 * "ingredientDeltas":[{"ingredientAssertionURI", "validationDeltas":{"failure":[...]}}]}. Each
 * ingredient carries "url" and "validation_results" in that shape: the failures recorded in the
 * ingredient assertion, which belong to the ingredient and do not decide this file's state. */
char *lc_c2pa_report_json(const lc_c2pa_report *r, const char *file);

/* ---- lower level: the raw manifest store -------------------------------------------------- */
/* The C2PA manifest store (JUMBF, reassembled from APP11 segments or the caBX chunk) of a JPEG or
 * PNG file, malloc'd into *store (free with free()). LC_OK with *store NULL and *len 0 when the file
 * has none. */
lc_status lc_c2pa_read_store(const char *path, uint8_t **store, size_t *len);
/* Locate a JUMBF box in a manifest store by its label path, as in a JUMBF URI without "self#jumbf=":
 * "/c2pa", "/c2pa/<manifest label>", "/c2pa/<manifest label>/c2pa.signature",
 * "/c2pa/<manifest label>/c2pa.assertions/c2pa.hash.data". Gives the offset and length of the whole
 * box (header included) within `store`. LC_ERR_FORMAT if the store is malformed, LC_ERR_ARG if
 * no such box. */
lc_status lc_c2pa_store_locate(const uint8_t *store, size_t len, const char *path, size_t *box_offset,
                               size_t *box_len);
/* Label of the active (last) manifest of a store into buf. */
lc_status lc_c2pa_store_active_label(const uint8_t *store, size_t len, char *buf, size_t buflen);

#ifdef __cplusplus
}
#endif
#endif
