/*
 * Validation of a C2PA manifest store, as the specification (spec.c2pa.org, "Validation") and
 * c2pa-rs do it:
 *   1. locate the store (JPEG APP11 / PNG caBX) and parse its JUMBF boxes;
 *   2. the active manifest is the last one; for it and, recursively, for each ingredient manifest
 *      it references: the claim (v1 or v2), its COSE_Sign1 signature over the claim bytes, the
 *      signing certificate (validity, trust anchors), every assertion's hashed URI;
 *   3. the hard binding of the active manifest (c2pa.hash.data or c2pa.hash.boxes) over the file;
 *   4. failures found in ingredient manifests are tagged with the ingredient assertion that led
 *      there; those an ingredient assertion already records are dropped (c2pa-rs's ingredient
 *      deltas: see locus/c2pa.h);
 *   5. the state: Invalid on any remaining failure except signingCredential.untrusted; Trusted
 *      when the active signer chains to a trust anchor and nothing remains; Valid otherwise.
 * Failures are recorded with the specification's codes and the JUMBF URI they are about.
 */
#include "c2pa_internal.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void c2pa_fail(vctx *v, const char *code, const char *url, const char *fmt, ...) {
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (!c2pa_report_add_status(v->r, code, url, why, v->ingredient_uri)) v->oom = true;
}

/* "self#jumbf=/c2pa/<manifest>/<rest>" */
char *c2pa_manifest_url(const manifest_ctx *m, const char *rest) {
    return rest ? c2pa_printf("self#jumbf=/c2pa/%s/%s", m->label, rest) : c2pa_printf("self#jumbf=/c2pa/%s", m->label);
}

/* Hash of a superbox's contents (everything after its own header), as hashed URIs use it. */
static bool hash_box(const jumbf_tree *t, int node, const EVP_MD *md, uint8_t *out, unsigned *out_len) {
    size_t len;
    const uint8_t *p = jumbf_payload(t, node, &len);
    return EVP_Digest(p, len, out, out_len, md, NULL) == 1;
}

/* Strip "self#jumbf=" from a JUMBF URI; NULL when it is not one. */
const char *c2pa_jumbf_path(const char *url) {
    const char *pre = "self#jumbf=";
    return strncmp(url, pre, strlen(pre)) == 0 ? url + strlen(pre) : NULL;
}

/* Check a hashed URI {url, alg?, hash} relative to manifest m; *node gets the box found (or -1). */
static huri_result check_hashed_uri(vctx *v, const manifest_ctx *m, const cbor_item_t *huri, char **url_out,
                                    int *node) {
    *node = -1;
    *url_out = NULL;
    cbor_item_t *u = cbor_map_get(huri, "url");
    char *url = cbor_text_dup(u);
    size_t hlen = 0;
    const uint8_t *want = cbor_bytes(cbor_map_get(huri, "hash"), &hlen);
    if (!url) return HURI_MALFORMED;
    *url_out = url;
    if (!want) return HURI_MALFORMED;
    const char *path = c2pa_jumbf_path(url);
    if (!path) return HURI_MISSING;
    *node = jumbf_resolve(&v->tree, m->node, path);
    if (*node < 0) return HURI_MISSING;
    char *alg = cbor_text_dup(cbor_map_get(huri, "alg"));
    const EVP_MD *md = c2pa_hash_md(alg ? alg : m->claim_alg);
    free(alg);
    if (!md) return HURI_BADALG;
    uint8_t got[EVP_MAX_MD_SIZE];
    unsigned got_len = 0;
    if (!hash_box(&v->tree, *node, md, got, &got_len)) return HURI_BADALG;
    if (got_len != hlen || memcmp(got, want, hlen) != 0) return HURI_MISMATCH;
    return HURI_OK;
}

/* Absolute URL of a (possibly relative) JUMBF URI within manifest m, for reports. */
static char *absolute_url(const manifest_ctx *m, const char *url) {
    const char *path = c2pa_jumbf_path(url);
    if (!path || path[0] == '/') return c2pa_strdup(url);
    return c2pa_manifest_url(m, path);
}

/* Assertion label without the instance suffix ("c2pa.ingredient__1" -> "c2pa.ingredient"). */
bool c2pa_label_is(const char *label, const char *base) {
    size_t n = strlen(base);
    if (strncmp(label, base, n) != 0) return false;
    return label[n] == '\0' || strncmp(label + n, "__", 2) == 0;
}

static manifest_ctx *find_manifest(vctx *v, int node) {
    for (size_t i = 0; i < v->n_m; i++)
        if (v->m[i].node == node) return &v->m[i];
    return NULL;
}

/* ---- per-manifest validation ------------------------------------------------------------------ */
static void check_signature(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, bool is_active) {
    char *sig_url_field = cbor_text_dup(cbor_map_get(m->claim, "signature"));
    const char *path = sig_url_field ? c2pa_jumbf_path(sig_url_field) : NULL;
    int sig_node = path ? jumbf_resolve(&v->tree, m->node, path) : -1;
    if (sig_node < 0) sig_node = jumbf_child(&v->tree, m->node, "c2pa.signature");
    char *url = c2pa_manifest_url(m, "c2pa.signature");
    free(sig_url_field);
    int cb = sig_node >= 0 ? jumbf_content(&v->tree, sig_node, "cbor") : -1;
    if (cb < 0) {
        c2pa_fail(v, "claimSignature.missing", url, "claim signature box missing");
        free(url);
        return;
    }
    /* The claim bytes: the payload of the claim box's CBOR content. */
    int claim_node = -1;
    for (int i = v->tree.nodes[m->node].first_child; i >= 0; i = v->tree.nodes[i].next_sibling)
        if (v->tree.nodes[i].super && (strcmp(v->tree.nodes[i].label, "c2pa.claim") == 0 ||
                                       strcmp(v->tree.nodes[i].label, "c2pa.claim.v2") == 0)) {
            claim_node = i;
            break;
        }
    int claim_cb = claim_node >= 0 ? jumbf_content(&v->tree, claim_node, "cbor") : -1;
    size_t sig_len, claim_len = 0;
    const uint8_t *sig = jumbf_payload(&v->tree, cb, &sig_len);
    const uint8_t *claim = claim_cb >= 0 ? jumbf_payload(&v->tree, claim_cb, &claim_len) : NULL;
    c2pa_cose cose;
    if (c2pa_cose_parse(sig, sig_len, &cose) != LC_OK) {
        c2pa_fail(v, "claimSignature.mismatch", url, "claim signature is not a valid COSE_Sign1: %s", lc_last_error());
        free(url);
        ERR_clear_error();
        return;
    }
    const char *alg_name = cose.has_alg ? c2pa_cose_alg_name(cose.alg) : NULL;
    info->sig_alg = c2pa_report_str(v->r, alg_name);
    char *ts = c2pa_cose_timestamp(&cose, claim, claim_len);
    info->sig_time = c2pa_report_str(v->r, ts);
    free(ts);
    if (cose.chain && sk_X509_num(cose.chain) > 0) {
        X509 *signer = sk_X509_value(cose.chain, 0);
        char *o = c2pa_cert_subject_field(signer, NID_organizationName);
        char *cn = c2pa_cert_subject_field(signer, NID_commonName);
        info->sig_issuer = c2pa_report_str(v->r, o);
        info->sig_common_name = c2pa_report_str(v->r, cn);
        free(o);
        free(cn);
    }
    if (!alg_name) {
        if (cose.has_alg)
            c2pa_fail(v, "algorithm.unsupported", url, "unsupported signature algorithm %lld", (long long)cose.alg);
        else
            c2pa_fail(v, "algorithm.unsupported", url, "signature has no algorithm");
    } else if (cose.chain_unreadable) {
        /* c2pa-rs either refuses such a file or reports these three. */
        c2pa_fail(v, "claimSignature.mismatch", url, "claim signature cannot be verified");
        c2pa_fail(v, "signingCredential.invalid", url, "the signing certificate cannot be read");
        c2pa_fail(v, "signingCredential.untrusted", url, "signing certificate untrusted");
    } else if (!cose.chain) {
        c2pa_fail(v, "claimSignature.missing", url, "signature carries no certificate chain (x5chain)");
    } else {
        int ok = c2pa_cose_verify(&cose, claim, claim_len);
        if (ok == 0) c2pa_fail(v, "claimSignature.mismatch", url, "claim signature is not valid");
        else if (ok == -2) c2pa_fail(v, "claimSignature.mismatch", url, "signing key does not fit %s", alg_name);
        else if (ok < 0) c2pa_fail(v, "claimSignature.mismatch", url, "claim signature could not be verified");
        char why[256];
        c2pa_profile_result pr = c2pa_cert_profile(sk_X509_value(cose.chain, 0), why, sizeof why);
        if (pr != C2PA_PROFILE_OK) c2pa_fail(v, "signingCredential.invalid", url, "%s", why);
        c2pa_trust_result tr = c2pa_trust_check(&v->trust, cose.chain, v->verify_time, why, sizeof why);
        /* A trust list accepts only signers with an allowed EKU (c2pa-rs's trust configuration). */
        if (tr == C2PA_CERT_TRUSTED && pr == C2PA_PROFILE_NO_EKU) {
            tr = C2PA_CERT_UNTRUSTED;
            snprintf(why, sizeof why, "signing certificate untrusted");
        }
        /* A self-contradicting certificate gets no trust verdict when anchors are given (as in
         * c2pa-rs); without anchors the signer is untrusted in any case. Ingredient signers are
         * checked against the anchors too (c2pa-rs does when it checks trust at all): an
         * untrusted one leaves the file Valid at best, unless the ingredient records it. */
        bool quiet = v->trust.store && pr == C2PA_PROFILE_BROKEN;
        if (tr == C2PA_CERT_EXPIRED) c2pa_fail(v, "signingCredential.expired", url, "%s", why);
        else if (tr == C2PA_CERT_INVALID) c2pa_fail(v, "signingCredential.invalid", url, "%s", why);
        else if (tr == C2PA_CERT_UNTRUSTED && !quiet) c2pa_fail(v, "signingCredential.untrusted", url, "%s", why);
        if (is_active) v->active_trusted = tr == C2PA_CERT_TRUSTED;
    }
    ERR_clear_error();
    c2pa_cose_free(&cose);
    free(url);
}

static void check_assertion_uri(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, const cbor_item_t *huri, void *ctx) {
    char *url = NULL;
    int node;
    huri_result res = check_hashed_uri(v, m, huri, &url, &node);
    char *abs = url ? absolute_url(m, url) : c2pa_manifest_url(m, NULL);
    switch (res) {
    case HURI_OK: break;
    case HURI_MISSING: {
        bool redacted = false; /* removed on purpose by a later manifest: not a failure */
        for (size_t i = 0; abs && i < v->redacted.n; i++) redacted |= strcmp(v->redacted.items[i], abs) == 0;
        if (!redacted) c2pa_fail(v, "assertion.missing", abs, "assertion missing: %s", url);
        break;
    }
    case HURI_MISMATCH:
        c2pa_fail(v, "assertion.hashedURI.mismatch", abs, "hash does not match assertion data: %s", url);
        break;
    case HURI_BADALG:
        c2pa_fail(v, "algorithm.unsupported", abs, "unknown or missing hash algorithm for %s", url);
        break;
    case HURI_MALFORMED: c2pa_fail(v, "claim.malformed", abs, "malformed hashed URI in the claim"); break;
    }
    free(abs);
    free(url);
}

static void validate_manifest(vctx *v, manifest_ctx *m, bool is_active, int depth);

static void check_ingredients(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, const cbor_item_t *huri, void *ctx) {
    int *depth = ctx;
    int node = c2pa_assertion_node(v, m, huri);
    if (node < 0) return;
    const char *label = v->tree.nodes[node].label;
    if (!c2pa_label_is_ingredient(label)) return;
    cbor_item_t *a = c2pa_load_assertion_cbor(v, node);
    if (!a) return;
    char *aurl = c2pa_manifest_url(m, NULL);
    char *ing_url = c2pa_printf("%s/c2pa.assertions/%s", aurl, label);
    cbor_item_t *ref = c2pa_ingredient_manifest_ref(a);
    /* what is found from here on belongs to this ingredient (c2pa-rs: push_ingredient_uri) */
    const char *outer_ingredient = v->ingredient_uri;
    v->ingredient_uri = ing_url;
    if (ref) {
        char *rurl = NULL;
        int mnode;
        huri_result res = check_hashed_uri(v, m, ref, &rurl, &mnode);
        manifest_ctx *im = mnode >= 0 ? find_manifest(v, mnode) : NULL;
        /* URLs as c2pa-rs gives them: the ingredient's manifest reference as written (mismatch), or
         * the manifest label it names (missing) */
        char *missing_label = c2pa_uri_manifest_label(rurl);
        const char *ref_url = rurl ? rurl : ing_url;
        if (res == HURI_MISSING || (res == HURI_OK && !im))
            c2pa_fail(v, "ingredient.manifest.missing", missing_label ? missing_label : ref_url,
                      "ingredient's manifest not found: %s", rurl ? rurl : "?");
        else if (res == HURI_MISMATCH)
            c2pa_fail(v, "ingredient.manifest.mismatch", ref_url, "ingredient's manifest does not match its hash");
        else if (res == HURI_BADALG)
            c2pa_fail(v, "algorithm.unsupported", ing_url, "unknown hash algorithm for the ingredient's manifest");
        else if (res == HURI_MALFORMED)
            c2pa_fail(v, "claim.malformed", ing_url, "malformed ingredient manifest reference");
        free(missing_label);
        cbor_item_t *sref = cbor_map_get(a, "claimSignature");
        if (sref && res == HURI_OK) {
            char *surl = NULL;
            int snode;
            huri_result sres = check_hashed_uri(v, m, sref, &surl, &snode);
            if (sres == HURI_MISMATCH || sres == HURI_MISSING)
                c2pa_fail(v, "ingredient.claimSignature.mismatch", ref_url,
                          "ingredient's claim signature does not match");
            free(surl);
        }
        if (im && !im->visited) validate_manifest(v, im, false, *depth + 1);
        free(rurl);
    }
    v->ingredient_uri = outer_ingredient;
    free(ing_url);
    free(aurl);
    cbor_decref(&a);
}

/* Claim v2 action rules (c2pa-rs applies them when reading too): the first actions assertion
 * starts with c2pa.created or c2pa.opened; opened, placed and removed actions name their
 * ingredient(s). */
typedef struct action_scan {
    int first_actions; /* node of the first actions assertion, -1 if none */
    int n_actions_boxes;
} action_scan;

static void find_actions(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, const cbor_item_t *huri, void *ctx) {
    action_scan *a = ctx;
    int node = c2pa_assertion_node(v, m, huri);
    if (node < 0) return;
    const char *label = v->tree.nodes[node].label;
    if (!c2pa_label_is_actions(label)) return;
    if (a->first_actions < 0) a->first_actions = node;
    a->n_actions_boxes++;
    cbor_item_t *as = c2pa_load_assertion_cbor(v, node);
    cbor_item_t *list = as ? cbor_map_get(as, "actions") : NULL;
    if (list && cbor_isa_array(list)) {
        cbor_item_t **items = cbor_array_handle(list);
        for (size_t i = 0; i < cbor_array_size(list); i++) {
            char *name = cbor_text_dup(cbor_map_get(items[i], "action"));
            bool needs = name && (strcmp(name, "c2pa.opened") == 0 || strcmp(name, "c2pa.placed") == 0 ||
                                  strcmp(name, "c2pa.removed") == 0);
            free(name);
            if (!needs) continue;
            cbor_item_t *params = cbor_map_get(items[i], "parameters");
            cbor_item_t *ings = cbor_map_get(params, "ingredients");
            cbor_item_t *ing = cbor_map_get(params, "ingredient");
            bool has = (ings && cbor_isa_array(ings) && cbor_array_size(ings) > 0) || (ing && cbor_isa_map(ing));
            if (!has) {
                char *aurl = c2pa_manifest_url(m, NULL);
                char *u = c2pa_printf("%s/c2pa.assertions/%s", aurl, label);
                c2pa_fail(v, "assertion.action.ingredientMismatch", u,
                          "opened, placed and removed items must have ingredient(s) parameters");
                free(u);
                free(aurl);
                break;
            }
        }
    }
    if (as) cbor_decref(&as);
}

static void check_actions_v2(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info) {
    action_scan a = {-1, 0};
    c2pa_for_each_assertion(v, m, info, find_actions, &a);
    bool ok = false;
    if (a.first_actions >= 0) {
        cbor_item_t *as = c2pa_load_assertion_cbor(v, a.first_actions);
        cbor_item_t *list = as ? cbor_map_get(as, "actions") : NULL;
        if (list && cbor_isa_array(list) && cbor_array_size(list) > 0) {
            char *name = cbor_text_dup(cbor_map_get(cbor_array_handle(list)[0], "action"));
            ok = name && (strcmp(name, "c2pa.created") == 0 || strcmp(name, "c2pa.opened") == 0);
            free(name);
        }
        if (as) cbor_decref(&as);
    }
    if (!ok) c2pa_fail(v, "assertion.action.malformed", m->label, "first action must be created or opened");
}

static void validate_manifest(vctx *v, manifest_ctx *m, bool is_active, int depth) {
    if (m->visited || depth > C2PA_MAX_INGREDIENT_DEPTH) return;
    m->visited = true;
    lc_c2pa_manifest *info = &v->r->manifests[m - v->m];
    if (!m->claim) return; /* load_claim reported why */
    check_signature(v, m, info, is_active);
    c2pa_for_each_assertion(v, m, info, check_assertion_uri, NULL);
    if (m->claim_version == 2) check_actions_v2(v, m, info);
    if (is_active) c2pa_check_hard_binding(v, m, info);
    int d = depth;
    c2pa_for_each_assertion(v, m, info, check_ingredients, &d);
}

/* ---- failures already known to an ingredient ------------------------------------------------ */
static bool recorded_in_an_ingredient(const lc_c2pa_report *r, const lc_c2pa_status *s) {
    for (size_t i = 0; i < r->n_manifests; i++)
        for (size_t j = 0; j < r->manifests[i].n_ingredients; j++) {
            const lc_c2pa_ingredient *g = &r->manifests[i].ingredients[j];
            for (size_t k = 0; k < g->n_failures; k++)
                if (strcmp(g->failures[k].code, s->code) == 0 && strcmp(g->failures[k].url, s->url) == 0) return true;
        }
    return false;
}

/* As c2pa-rs builds validation results (ValidationResults::from_store): a failure about another
 * manifest than the active one that an ingredient assertion anywhere in the store already records
 * (same code, same absolute URL) was known when that ingredient was added; it is not a new finding
 * and does not count. Failures about the active manifest always count. */
static void drop_recorded_failures(lc_c2pa_report *r, const char *active_label) {
    size_t keep = 0;
    for (size_t i = 0; i < r->n_status; i++) {
        char *label = c2pa_uri_manifest_label(r->status[i].url);
        bool about_active = label && strcmp(label, active_label) == 0;
        free(label);
        if (!about_active && recorded_in_an_ingredient(r, &r->status[i])) continue;
        r->status[keep++] = r->status[i];
    }
    r->n_status = keep;
}

/* ---- the store ------------------------------------------------------------------------------ */
static lc_status validate_store(vctx *v) {
    lc_c2pa_report *r = v->r;
    const char *name = v->src->name;
    lc_status st = jumbf_parse(v->container.store, v->container.store_len, name, &v->tree);
    if (st) return st;
    if (v->tree.n == 0 || !v->tree.nodes[0].super || strcmp(v->tree.nodes[0].label, "c2pa") != 0)
        return lc_error(LC_ERR_FORMAT, "%s: JUMBF data is not a C2PA manifest store", name);
    size_t count = 0;
    for (int i = v->tree.nodes[0].first_child; i >= 0; i = v->tree.nodes[i].next_sibling)
        if (v->tree.nodes[i].super) count++;
    if (count > C2PA_MAX_MANIFESTS)
        return lc_error(LC_ERR_FORMAT, "%s: manifest store holds %zu manifests, more than locus accepts", name, count);
    if (count == 0) {
        r->state = LC_C2PA_INVALID;
        c2pa_report_add_status(r, "claim.missing", "self#jumbf=/c2pa", "manifest store holds no manifest", NULL);
        return LC_OK;
    }
    v->m = calloc(count, sizeof *v->m);
    r->manifests = calloc(count, sizeof *r->manifests);
    if (!v->m || !r->manifests) return lc_error(LC_ERR_NOMEM, "%s: out of memory", name);
    for (int i = v->tree.nodes[0].first_child; i >= 0; i = v->tree.nodes[i].next_sibling) {
        if (!v->tree.nodes[i].super) continue;
        manifest_ctx *m = &v->m[v->n_m++];
        m->node = i;
        m->label = c2pa_report_str(r, v->tree.nodes[i].label);
        if (!m->label) return lc_error(LC_ERR_NOMEM, "out of memory");
    }
    r->n_manifests = v->n_m;
    for (size_t i = 0; i < v->n_m; i++) {
        c2pa_load_claim(v, &v->m[i]);
        c2pa_fill_info(v, &v->m[i], &r->manifests[i]);
        cbor_item_t *red = cbor_map_get(v->m[i].claim, "redacted_assertions");
        if (red && cbor_isa_array(red))
            for (size_t k = 0; k < cbor_array_size(red); k++) {
                cbor_item_t *it = cbor_array_handle(red)[k];
                char *u = cbor_text_dup(cbor_isa_map(it) ? cbor_map_get(it, "url") : it);
                char *abs = u ? absolute_url(&v->m[i], u) : NULL;
                if (abs && !c2pa_strlist_push(&v->redacted, abs)) v->oom = true;
                free(abs);
                free(u);
            }
    }
    manifest_ctx *active = &v->m[v->n_m - 1];
    r->active_manifest = (char *)active->label;
    validate_manifest(v, active, true, 0);
    if (v->oom) return lc_error(LC_ERR_NOMEM, "%s: out of memory while validating", name);
    drop_recorded_failures(r, active->label);
    bool invalid = false;
    for (size_t i = 0; i < r->n_status; i++)
        if (strcmp(r->status[i].code, "signingCredential.untrusted") != 0) invalid = true;
    r->state = invalid ? LC_C2PA_INVALID : v->active_trusted && r->n_status == 0 ? LC_C2PA_TRUSTED : LC_C2PA_VALID;
    return LC_OK;
}

static lc_status verify_src(const c2pa_src *src, const lc_c2pa_options *opt, lc_c2pa_report **out) {
    *out = NULL;
    vctx v;
    memset(&v, 0, sizeof v);
    v.src = src;
    v.verify_time = opt && opt->verify_time ? opt->verify_time : (int64_t)time(NULL);
    v.r = calloc(1, sizeof *v.r);
    if (!v.r) return lc_error(LC_ERR_NOMEM, "out of memory");
    lc_status st = c2pa_trust_load(&v.trust, opt);
    if (!st) st = c2pa_container_read(src, &v.container);
    if (!st) {
        if (!v.container.store) v.r->state = LC_C2PA_ABSENT;
        else st = validate_store(&v);
    }
    for (size_t i = 0; i < v.n_m; i++) {
        if (v.m[i].claim) cbor_decref(&v.m[i].claim);
        free(v.m[i].claim_alg);
    }
    free(v.m);
    c2pa_strlist_free(&v.redacted);
    jumbf_free(&v.tree);
    c2pa_container_free(&v.container);
    c2pa_trust_free(&v.trust);
    ERR_clear_error();
    if (st) {
        lc_c2pa_report_free(v.r);
        return st;
    }
    *out = v.r;
    return LC_OK;
}

lc_status lc_c2pa_verify_file(const char *path, const lc_c2pa_options *opt, lc_c2pa_report **out) {
    if (!path || !out) return lc_error(LC_ERR_ARG, "lc_c2pa_verify_file: NULL argument");
    *out = NULL;
    c2pa_src src;
    lc_status st = c2pa_src_open(&src, path);
    if (st) return st;
    st = verify_src(&src, opt, out);
    c2pa_src_close(&src);
    return st;
}

lc_status lc_c2pa_verify_memory(const void *data, size_t len, const char *name, const lc_c2pa_options *opt,
                                lc_c2pa_report **out) {
    if ((!data && len) || !out) return lc_error(LC_ERR_ARG, "lc_c2pa_verify_memory: NULL argument");
    *out = NULL;
    c2pa_src src;
    c2pa_src_memory(&src, data ? data : "", len, name);
    return verify_src(&src, opt, out);
}

/* ---- raw store access ----------------------------------------------------------------------- */
lc_status lc_c2pa_read_store(const char *path, uint8_t **store, size_t *len) {
    if (!path || !store || !len) return lc_error(LC_ERR_ARG, "lc_c2pa_read_store: NULL argument");
    *store = NULL;
    *len = 0;
    c2pa_src src;
    lc_status st = c2pa_src_open(&src, path);
    if (st) return st;
    c2pa_container c;
    st = c2pa_container_read(&src, &c);
    c2pa_src_close(&src);
    if (st) return st;
    *store = c.store;
    *len = c.store_len;
    return LC_OK;
}

lc_status lc_c2pa_store_locate(const uint8_t *store, size_t len, const char *path, size_t *box_offset,
                               size_t *box_len) {
    if (!store || !path || !box_offset || !box_len) return lc_error(LC_ERR_ARG, "lc_c2pa_store_locate: NULL argument");
    jumbf_tree t;
    lc_status st = jumbf_parse(store, len, "manifest store", &t);
    if (st) return st;
    const char *p = c2pa_jumbf_path(path) ? c2pa_jumbf_path(path) : path;
    int node = jumbf_resolve(&t, 0, p);
    if (node < 0) st = lc_error(LC_ERR_ARG, "manifest store: no box at '%s'", path);
    else {
        *box_offset = t.nodes[node].off;
        *box_len = t.nodes[node].len;
    }
    jumbf_free(&t);
    return st;
}

lc_status lc_c2pa_store_active_label(const uint8_t *store, size_t len, char *buf, size_t buflen) {
    if (!store || !buf || buflen == 0) return lc_error(LC_ERR_ARG, "lc_c2pa_store_active_label: bad argument");
    jumbf_tree t;
    lc_status st = jumbf_parse(store, len, "manifest store", &t);
    if (st) return st;
    int last = -1;
    if (t.n > 0 && t.nodes[0].super)
        for (int i = t.nodes[0].first_child; i >= 0; i = t.nodes[i].next_sibling)
            if (t.nodes[i].super) last = i;
    if (last < 0) st = lc_error(LC_ERR_FORMAT, "manifest store holds no manifest");
    else if (strlen(t.nodes[last].label) >= buflen) st = lc_error(LC_ERR_ARG, "label longer than the buffer");
    else snprintf(buf, buflen, "%s", t.nodes[last].label);
    jumbf_free(&t);
    return st;
}
