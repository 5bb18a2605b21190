/* The validation report: its storage (an arena of strings and arrays) and the public getters. */
#include "c2pa_internal.h"

#include <stdlib.h>
#include <string.h>

const char *c2pa_report_str(lc_c2pa_report *r, const char *s) {
    if (!s) return NULL;
    if (!c2pa_strlist_push(&r->strings, s)) return NULL;
    return r->strings.items[r->strings.n - 1];
}

bool c2pa_report_keep(lc_c2pa_report *r, void *block) {
    if (r->n_blocks == r->cap_blocks) {
        size_t cap = r->cap_blocks ? r->cap_blocks * 2 : 16;
        void **b = realloc(r->blocks, cap * sizeof *b);
        if (!b) {
            free(block);
            return false;
        }
        r->blocks = b;
        r->cap_blocks = cap;
    }
    r->blocks[r->n_blocks++] = block;
    return true;
}

bool c2pa_report_add_status(lc_c2pa_report *r, const char *code, const char *url, const char *explanation,
                            const char *ingredient) {
    for (size_t i = 0; i < r->n_status; i++) /* one entry per code and URL */
        if (strcmp(r->status[i].code, code) == 0 && strcmp(r->status[i].url, url ? url : "") == 0) return true;
    if (r->n_status == r->cap_status) {
        size_t cap = r->cap_status ? r->cap_status * 2 : 8;
        lc_c2pa_status *s = realloc(r->status, cap * sizeof *s);
        if (!s) return false;
        r->status = s;
        r->cap_status = cap;
    }
    lc_c2pa_status *s = &r->status[r->n_status];
    s->code = c2pa_report_str(r, code);
    s->url = c2pa_report_str(r, url ? url : "");
    s->explanation = c2pa_report_str(r, explanation ? explanation : "");
    s->ingredient = ingredient ? c2pa_report_str(r, ingredient) : NULL;
    if (!s->code || !s->url || !s->explanation || (ingredient && !s->ingredient)) return false;
    r->n_status++;
    return true;
}

/* c2pa-rs's kinds of status codes (log_kind in validation_results.rs): these are success or
 * informational; any other code is a failure. (c2pa-rs lists ingredient.manifest.missing among the
 * successes, so a recorded one never matches a failure found again.) */
bool c2pa_code_is_failure(const char *code) {
    static const char *const not_failures[] = {
        "claimSignature.validated", "claimSignature.insideValidity", "signingCredential.trusted",
        "signingCredential.ocsp.notRevoked", "timeStamp.trusted", "timeStamp.validated", "assertion.hashedURI.match",
        "assertion.dataHash.match", "assertion.bmffHash.match", "assertion.accessible", "assertion.boxesHash.match",
        "assertion.collectionHash.match", "ingredient.manifest.validated", "ingredient.manifest.missing",
        "ingredient.claimSignature.validated", "cawg.x509.credential.trusted", "cawg.x509.signature.validated",
        "signingCredential.ocsp.skipped", "signingCredential.ocsp.inaccessible", "signingCredential.ocsp.unknown",
        "timeStamp.untrusted", "timeStamp.outsideValidity", "timeStamp.mismatch", "timeStamp.malformed",
        "manifest.unknownProvenance", "algorithm.deprecated", "timeOfSigning.insideValidity",
        "ingredient.unknownProvenance", "assertion.dataHash.additionalExclusionsPresent", "cawg.ica.untrusted_issuer"};
    for (size_t i = 0; i < sizeof not_failures / sizeof not_failures[0]; i++)
        if (strcmp(code, not_failures[i]) == 0) return false;
    return true;
}

void lc_c2pa_report_free(lc_c2pa_report *r) {
    if (!r) return;
    c2pa_strlist_free(&r->strings);
    for (size_t i = 0; i < r->n_blocks; i++) free(r->blocks[i]);
    free(r->blocks);
    free(r->manifests);
    free(r->status);
    free(r);
}

const char *lc_c2pa_state_name(lc_c2pa_state s) {
    switch (s) {
    case LC_C2PA_ABSENT: return "Absent";
    case LC_C2PA_INVALID: return "Invalid";
    case LC_C2PA_VALID: return "Valid";
    case LC_C2PA_TRUSTED: return "Trusted";
    }
    return "Invalid";
}

lc_c2pa_state lc_c2pa_report_state(const lc_c2pa_report *r) { return r ? r->state : LC_C2PA_ABSENT; }
const char *lc_c2pa_report_active_manifest(const lc_c2pa_report *r) { return r ? r->active_manifest : NULL; }
size_t lc_c2pa_report_manifest_count(const lc_c2pa_report *r) { return r ? r->n_manifests : 0; }
const lc_c2pa_manifest *lc_c2pa_report_manifest(const lc_c2pa_report *r, size_t i) {
    return r && i < r->n_manifests ? &r->manifests[i] : NULL;
}
size_t lc_c2pa_report_status_count(const lc_c2pa_report *r) { return r ? r->n_status : 0; }
const lc_c2pa_status *lc_c2pa_report_status(const lc_c2pa_report *r, size_t i) {
    return r && i < r->n_status ? &r->status[i] : NULL;
}
bool lc_c2pa_report_has_status(const lc_c2pa_report *r, const char *code) {
    for (size_t i = 0; r && i < r->n_status; i++)
        if (strcmp(r->status[i].code, code) == 0) return true;
    return false;
}

