/*
 * Validation of a C2PA manifest store, as the specification (spec.c2pa.org, "Validation") and
 * c2pa-rs do it:
 *   1. locate the store (JPEG APP11 / PNG caBX) and parse its JUMBF boxes;
 *   2. the active manifest is the last one; for it and, recursively, for each ingredient manifest
 *      it references: the claim (v1 or v2), its COSE_Sign1 signature over the claim bytes, the
 *      signing certificate (validity, trust anchors), every assertion's hashed URI;
 *   3. the hard binding of the active manifest (c2pa.hash.data or c2pa.hash.boxes) over the file;
 *   4. the state: Invalid on any failure except signingCredential.untrusted; Trusted when the
 *      active signer chains to a trust anchor; Valid otherwise.
 * Failures are recorded with the specification's codes and the JUMBF URI they are about.
 */
#include "c2pa_internal.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- report storage ------------------------------------------------------------------------ */
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

bool c2pa_report_add_status(lc_c2pa_report *r, const char *code, const char *url, const char *explanation) {
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
    if (!s->code || !s->url || !s->explanation) return false;
    r->n_status++;
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

/* ---- validation context -------------------------------------------------------------------- */
typedef struct manifest_ctx {
    int node;              /* manifest superbox */
    const char *label;
    cbor_item_t *claim;    /* NULL when missing or malformed */
    int claim_version;
    char *claim_alg;       /* claim-level hash algorithm, or NULL */
    bool visited;          /* validated already (ingredient cycles) */
} manifest_ctx;

typedef struct vctx {
    const c2pa_src *src;
    c2pa_container container;
    jumbf_tree tree;
    c2pa_trust trust;
    int64_t verify_time;
    lc_c2pa_report *r;
    manifest_ctx *m;
    size_t n_m;
    bool oom;
    bool active_trusted;
    c2pa_strlist redacted; /* absolute URLs every claim lists in redacted_assertions */
} vctx;

static void fail(vctx *v, const char *code, const char *url, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static void fail(vctx *v, const char *code, const char *url, const char *fmt, ...) {
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (!c2pa_report_add_status(v->r, code, url, why)) v->oom = true;
}

/* "self#jumbf=/c2pa/<manifest>/<rest>" */
static char *manifest_url(const manifest_ctx *m, const char *rest) {
    return rest ? c2pa_printf("self#jumbf=/c2pa/%s/%s", m->label, rest) : c2pa_printf("self#jumbf=/c2pa/%s", m->label);
}

/* Hash of a superbox's contents (everything after its own header), as hashed URIs use it. */
static bool hash_box(const jumbf_tree *t, int node, const EVP_MD *md, uint8_t *out, unsigned *out_len) {
    size_t len;
    const uint8_t *p = jumbf_payload(t, node, &len);
    return EVP_Digest(p, len, out, out_len, md, NULL) == 1;
}

/* Strip "self#jumbf=" from a JUMBF URI; NULL when it is not one. */
static const char *jumbf_path(const char *url) {
    const char *pre = "self#jumbf=";
    return strncmp(url, pre, strlen(pre)) == 0 ? url + strlen(pre) : NULL;
}

typedef enum { HURI_OK, HURI_MISSING, HURI_MISMATCH, HURI_BADALG, HURI_MALFORMED } huri_result;

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
    const char *path = jumbf_path(url);
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
    const char *path = jumbf_path(url);
    if (!path || path[0] == '/') return c2pa_strdup(url);
    return manifest_url(m, path);
}

/* Assertion label without the instance suffix ("c2pa.ingredient__1" -> "c2pa.ingredient"). */
static bool label_is(const char *label, const char *base) {
    size_t n = strlen(base);
    if (strncmp(label, base, n) != 0) return false;
    return label[n] == '\0' || strncmp(label + n, "__", 2) == 0;
}

/* ---- claim and manifest info ---------------------------------------------------------------- */
static manifest_ctx *find_manifest(vctx *v, int node) {
    for (size_t i = 0; i < v->n_m; i++)
        if (v->m[i].node == node) return &v->m[i];
    return NULL;
}

/* Every hashed URI of the claim's assertion lists. */
typedef void (*huri_fn)(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, const cbor_item_t *huri, void *ctx);

static void for_each_assertion(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, huri_fn fn, void *ctx) {
    static const char *lists[] = {"assertions", "created_assertions", "gathered_assertions"};
    for (size_t k = 0; k < 3; k++) {
        cbor_item_t *a = cbor_map_get(m->claim, lists[k]);
        if (!a || !cbor_isa_array(a)) continue;
        cbor_item_t **items = cbor_array_handle(a);
        for (size_t i = 0; i < cbor_array_size(a); i++) fn(v, m, info, items[i], ctx);
    }
}

static const char *text_field(vctx *v, const cbor_item_t *map, const char *key) {
    char *s = cbor_text_dup(cbor_map_get(map, key));
    const char *r = s ? c2pa_report_str(v->r, s) : NULL;
    free(s);
    return r;
}

/* Parse the claim of manifest m (claim box, CBOR); failures are recorded as status codes. */
static void load_claim(vctx *v, manifest_ctx *m) {
    int claim_node = -1, n_claims = 0;
    for (int i = v->tree.nodes[m->node].first_child; i >= 0; i = v->tree.nodes[i].next_sibling) {
        const jumbf_node *n = &v->tree.nodes[i];
        if (!n->super) continue;
        if (jumbf_is_type(n, "c2cl") || strcmp(n->label, "c2pa.claim") == 0 || strcmp(n->label, "c2pa.claim.v2") == 0) {
            if (claim_node < 0) claim_node = i;
            n_claims++;
        }
    }
    char *url = manifest_url(m, NULL);
    if (claim_node < 0) {
        fail(v, "claim.missing", url, "manifest has no claim");
        free(url);
        return;
    }
    if (n_claims > 1) fail(v, "claim.multiple", url, "manifest has %d claims", n_claims);
    m->claim_version = strcmp(v->tree.nodes[claim_node].label, "c2pa.claim.v2") == 0 ? 2 : 1;
    int cb = jumbf_content(&v->tree, claim_node, "cbor");
    if (cb < 0) {
        fail(v, "claim.malformed", url, "claim box has no CBOR content");
        free(url);
        return;
    }
    size_t len;
    const uint8_t *p = jumbf_payload(&v->tree, cb, &len);
    cbor_item_t *claim = NULL;
    if (cbor_safe_load(p, len, "claim", &claim) != LC_OK || !cbor_isa_map(claim)) {
        fail(v, "claim.malformed", url, "claim CBOR is malformed: %s", lc_last_error());
        if (claim) cbor_decref(&claim);
        free(url);
        return;
    }
    free(url);
    m->claim = claim;
    m->claim_alg = cbor_text_dup(cbor_map_get(claim, "alg"));
}

static void collect_label(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, const cbor_item_t *huri, void *ctx) {
    c2pa_strlist *labels = ctx;
    char *url = cbor_text_dup(cbor_map_get(huri, "url"));
    if (!url) return;
    const char *slash = strrchr(url, '/');
    const char *label = slash ? slash + 1 : url;
    if (strncmp(label, "self#jumbf=", 11) == 0) label += 11;
    if (!c2pa_strlist_push(labels, label)) v->oom = true;
    free(url);
}

/* Action names and their digitalSourceType values (v1 and v2 actions may both carry one). */
typedef struct action_lists {
    c2pa_strlist names, source_types;
} action_lists;

static bool strlist_has(const c2pa_strlist *l, const char *s) {
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0) return true;
    return false;
}

static void collect_actions(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, const cbor_item_t *huri, void *ctx) {
    action_lists *lists = ctx;
    c2pa_strlist *actions = &lists->names;
    char *url = cbor_text_dup(cbor_map_get(huri, "url"));
    const char *path = url ? jumbf_path(url) : NULL;
    int node = path ? jumbf_resolve(&v->tree, m->node, path) : -1;
    free(url);
    if (node < 0) return;
    const char *label = v->tree.nodes[node].label;
    if (!label_is(label, "c2pa.actions") && !label_is(label, "c2pa.actions.v2")) return;
    int cb = jumbf_content(&v->tree, node, "cbor");
    if (cb < 0) return;
    size_t len;
    const uint8_t *p = jumbf_payload(&v->tree, cb, &len);
    cbor_item_t *a = NULL;
    if (cbor_safe_load(p, len, "actions", &a) != LC_OK) return;
    cbor_item_t *list = cbor_map_get(a, "actions");
    if (list && cbor_isa_array(list)) {
        cbor_item_t **items = cbor_array_handle(list);
        for (size_t i = 0; i < cbor_array_size(list); i++) {
            char *name = cbor_text_dup(cbor_map_get(items[i], "action"));
            if (name && !c2pa_strlist_push(actions, name)) v->oom = true;
            free(name);
            char *type = cbor_text_dup(cbor_map_get(items[i], "digitalSourceType"));
            if (type && !strlist_has(&lists->source_types, type) && !c2pa_strlist_push(&lists->source_types, type))
                v->oom = true;
            free(type);
        }
    }
    cbor_decref(&a);
}

/* Ingredient assertion -> lc_c2pa_ingredient (+ node of the manifest it references, or -1). */
typedef struct ingredient_list {
    lc_c2pa_ingredient *items;
    size_t n, cap;
} ingredient_list;

static cbor_item_t *load_assertion_cbor(vctx *v, int node) {
    int cb = jumbf_content(&v->tree, node, "cbor");
    if (cb < 0) return NULL;
    size_t len;
    const uint8_t *p = jumbf_payload(&v->tree, cb, &len);
    cbor_item_t *a = NULL;
    if (cbor_safe_load(p, len, v->tree.nodes[node].label, &a) != LC_OK) return NULL;
    return a;
}

static cbor_item_t *ingredient_manifest_ref(const cbor_item_t *ing) {
    cbor_item_t *ref = cbor_map_get(ing, "activeManifest");
    if (!ref) ref = cbor_map_get(ing, "c2pa_manifest");
    return ref;
}

static void collect_ingredient(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, const cbor_item_t *huri, void *ctx) {
    ingredient_list *l = ctx;
    char *url = cbor_text_dup(cbor_map_get(huri, "url"));
    const char *path = url ? jumbf_path(url) : NULL;
    int node = path ? jumbf_resolve(&v->tree, m->node, path) : -1;
    free(url);
    if (node < 0 || (!label_is(v->tree.nodes[node].label, "c2pa.ingredient") &&
                     !label_is(v->tree.nodes[node].label, "c2pa.ingredient.v2") &&
                     !label_is(v->tree.nodes[node].label, "c2pa.ingredient.v3")))
        return;
    cbor_item_t *a = load_assertion_cbor(v, node);
    if (!a) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        lc_c2pa_ingredient *items = realloc(l->items, cap * sizeof *items);
        if (!items) {
            v->oom = true;
            cbor_decref(&a);
            return;
        }
        l->items = items;
        l->cap = cap;
    }
    lc_c2pa_ingredient *g = &l->items[l->n++];
    memset(g, 0, sizeof *g);
    g->title = text_field(v, a, "dc:title");
    g->format = text_field(v, a, "dc:format");
    g->relationship = text_field(v, a, "relationship");
    g->instance_id = text_field(v, a, "instanceID");
    char *ref = cbor_text_dup(cbor_map_get(ingredient_manifest_ref(a), "url"));
    const char *rpath = ref ? jumbf_path(ref) : NULL;
    int mnode = rpath ? jumbf_resolve(&v->tree, m->node, rpath) : -1;
    if (mnode >= 0 && v->tree.nodes[mnode].super) g->active_manifest = c2pa_report_str(v->r, v->tree.nodes[mnode].label);
    free(ref);
    cbor_decref(&a);
}

static const char **strlist_to_report(vctx *v, c2pa_strlist *l, size_t *n) {
    *n = l->n;
    const char **arr = calloc(l->n ? l->n : 1, sizeof *arr);
    if (!arr || !c2pa_report_keep(v->r, (void *)arr)) {
        v->oom = true;
        return NULL;
    }
    for (size_t i = 0; i < l->n; i++) arr[i] = c2pa_report_str(v->r, l->items[i]);
    return arr;
}

static void fill_info(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info) {
    info->label = m->label;
    info->claim_version = m->claim_version;
    if (!m->claim) return;
    info->title = text_field(v, m->claim, "dc:title");
    info->format = text_field(v, m->claim, "dc:format");
    info->instance_id = text_field(v, m->claim, "instanceID");
    info->claim_generator = text_field(v, m->claim, "claim_generator");
    if (!info->claim_generator) {
        cbor_item_t *gi = cbor_map_get(m->claim, "claim_generator_info");
        if (gi && cbor_isa_array(gi) && cbor_array_size(gi) > 0) gi = cbor_array_handle(gi)[0];
        char *name = cbor_text_dup(cbor_map_get(gi, "name"));
        char *ver = cbor_text_dup(cbor_map_get(gi, "version"));
        if (name) {
            char *s = ver ? c2pa_printf("%s/%s", name, ver) : c2pa_strdup(name);
            info->claim_generator = c2pa_report_str(v->r, s);
            free(s);
        }
        free(name);
        free(ver);
    }
    c2pa_strlist labels = {0};
    action_lists actions = {0};
    for_each_assertion(v, m, info, collect_label, &labels);
    for_each_assertion(v, m, info, collect_actions, &actions);
    info->assertions = strlist_to_report(v, &labels, &info->n_assertions);
    info->actions = strlist_to_report(v, &actions.names, &info->n_actions);
    info->source_types = strlist_to_report(v, &actions.source_types, &info->n_source_types);
    c2pa_strlist_free(&labels);
    c2pa_strlist_free(&actions.names);
    c2pa_strlist_free(&actions.source_types);
    ingredient_list ings = {0};
    for_each_assertion(v, m, info, collect_ingredient, &ings);
    info->n_ingredients = ings.n;
    if (ings.items && !c2pa_report_keep(v->r, ings.items)) {
        v->oom = true;
        info->n_ingredients = 0;
        ings.items = NULL;
    }
    info->ingredients = ings.items;
}

/* ---- per-manifest validation ------------------------------------------------------------------ */
static void check_signature(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, bool is_active) {
    char *sig_url_field = cbor_text_dup(cbor_map_get(m->claim, "signature"));
    const char *path = sig_url_field ? jumbf_path(sig_url_field) : NULL;
    int sig_node = path ? jumbf_resolve(&v->tree, m->node, path) : -1;
    if (sig_node < 0) sig_node = jumbf_child(&v->tree, m->node, "c2pa.signature");
    char *url = manifest_url(m, "c2pa.signature");
    free(sig_url_field);
    int cb = sig_node >= 0 ? jumbf_content(&v->tree, sig_node, "cbor") : -1;
    if (cb < 0) {
        fail(v, "claimSignature.missing", url, "claim signature box missing");
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
        fail(v, "claimSignature.mismatch", url, "claim signature is not a valid COSE_Sign1: %s", lc_last_error());
        free(url);
        ERR_clear_error();
        return;
    }
    const char *alg_name = cose.has_alg ? c2pa_cose_alg_name(cose.alg) : NULL;
    info->sig_alg = c2pa_report_str(v->r, alg_name);
    info->sig_time = c2pa_report_str(v->r, cose.tst_time);
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
        if (cose.has_alg) fail(v, "algorithm.unsupported", url, "unsupported signature algorithm %lld", (long long)cose.alg);
        else fail(v, "algorithm.unsupported", url, "signature has no algorithm");
    } else if (!cose.chain) {
        fail(v, "claimSignature.missing", url, "signature carries no certificate chain (x5chain)");
    } else {
        int ok = c2pa_cose_verify(&cose, claim, claim_len);
        if (ok == 0) fail(v, "claimSignature.mismatch", url, "claim signature is not valid");
        else if (ok == -2) fail(v, "signingCredential.invalid", url, "signing key does not fit algorithm %s", alg_name);
        else if (ok < 0) fail(v, "claimSignature.mismatch", url, "claim signature could not be verified");
        char why[256];
        c2pa_trust_result tr = c2pa_trust_check(&v->trust, cose.chain, v->verify_time, why, sizeof why);
        if (tr == C2PA_CERT_EXPIRED) fail(v, "signingCredential.expired", url, "%s", why);
        else if (tr == C2PA_CERT_INVALID) fail(v, "signingCredential.invalid", url, "%s", why);
        else if (tr == C2PA_CERT_UNTRUSTED && is_active) fail(v, "signingCredential.untrusted", url, "%s", why);
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
    char *abs = url ? absolute_url(m, url) : manifest_url(m, NULL);
    switch (res) {
    case HURI_OK: break;
    case HURI_MISSING: {
        bool redacted = false; /* removed on purpose by a later manifest: not a failure */
        for (size_t i = 0; abs && i < v->redacted.n; i++) redacted |= strcmp(v->redacted.items[i], abs) == 0;
        if (!redacted) fail(v, "assertion.missing", abs, "assertion missing: %s", url);
        break;
    }
    case HURI_MISMATCH: fail(v, "assertion.hashedURI.mismatch", abs, "hash does not match assertion data: %s", url); break;
    case HURI_BADALG: fail(v, "algorithm.unsupported", abs, "unknown or missing hash algorithm for %s", url); break;
    case HURI_MALFORMED: fail(v, "claim.malformed", abs, "malformed hashed URI in the claim"); break;
    }
    free(abs);
    free(url);
}

/* c2pa.hash.data: SHA over the file minus the exclusions. */
static void check_data_hash(vctx *v, manifest_ctx *m, int node) {
    char *url = manifest_url(m, NULL);
    char *aurl = c2pa_printf("%s/c2pa.assertions/%s", url, v->tree.nodes[node].label);
    cbor_item_t *a = load_assertion_cbor(v, node);
    size_t hlen = 0;
    const uint8_t *want = a ? cbor_bytes(cbor_map_get(a, "hash"), &hlen) : NULL;
    cbor_item_t *ex = a ? cbor_map_get(a, "exclusions") : NULL;
    char *alg = a ? cbor_text_dup(cbor_map_get(a, "alg")) : NULL;
    const EVP_MD *md = c2pa_hash_md(alg ? alg : m->claim_alg);
    c2pa_range *ranges = NULL;
    size_t n = 0;
    if (!a || !want) {
        fail(v, "assertion.dataHash.malformed", aurl, "c2pa.hash.data is malformed");
        goto done;
    }
    if (!md) {
        fail(v, "algorithm.unsupported", aurl, "unknown or missing hash algorithm for the data hash");
        goto done;
    }
    if (ex && cbor_isa_array(ex)) {
        n = cbor_array_size(ex);
        ranges = calloc(n ? n : 1, sizeof *ranges);
        if (!ranges) {
            v->oom = true;
            goto done;
        }
        cbor_item_t **items = cbor_array_handle(ex);
        for (size_t i = 0; i < n; i++) {
            int64_t s, l;
            if (!cbor_int_value(cbor_map_get(items[i], "start"), &s) || !cbor_int_value(cbor_map_get(items[i], "length"), &l) ||
                s < 0 || l < 0) {
                fail(v, "assertion.dataHash.malformed", aurl, "exclusion %zu is malformed", i);
                goto done;
            }
            if ((uint64_t)s > v->src->size || (uint64_t)l > v->src->size - (uint64_t)s) {
                fail(v, "assertion.dataHash.mismatch", aurl, "exclusion %zu lies outside the file", i);
                goto done;
            }
            ranges[i].off = (uint64_t)s;
            ranges[i].len = (uint64_t)l;
        }
    }
    uint8_t got[EVP_MAX_MD_SIZE];
    unsigned got_len = 0;
    if (c2pa_hash_file_excluding(v->src, md, ranges, n, got, &got_len) != LC_OK) {
        fail(v, "assertion.dataHash.mismatch", aurl, "asset could not be hashed: %s", lc_last_error());
        goto done;
    }
    if (got_len != hlen || memcmp(got, want, hlen) != 0)
        fail(v, "assertion.dataHash.mismatch", aurl, "asset hash does not match the data hash assertion");
done:
    free(ranges);
    free(alg);
    if (a) cbor_decref(&a);
    free(aurl);
    free(url);
}

/* c2pa.hash.boxes: each entry hashes a run of named boxes; the "C2PA" box is not hashed. */
static void check_box_hash(vctx *v, manifest_ctx *m, int node) {
    char *url = manifest_url(m, NULL);
    char *aurl = c2pa_printf("%s/c2pa.assertions/%s", url, v->tree.nodes[node].label);
    cbor_item_t *a = load_assertion_cbor(v, node);
    c2pa_named_box *boxes = NULL;
    size_t n_boxes = 0;
    c2pa_range *ranges = NULL;
    char *top_alg = a ? cbor_text_dup(cbor_map_get(a, "alg")) : NULL;
    cbor_item_t *list = a ? cbor_map_get(a, "boxes") : NULL;
    if (!list || !cbor_isa_array(list)) {
        fail(v, "assertion.boxesHash.mismatch", aurl, "c2pa.hash.boxes is malformed");
        goto done;
    }
    lc_status st = v->container.format == C2PA_FMT_PNG ? c2pa_png_box_map(v->src, &boxes, &n_boxes)
                                                        : c2pa_jpeg_box_map(v->src, &boxes, &n_boxes);
    if (st) {
        fail(v, "assertion.boxesHash.mismatch", aurl, "file boxes could not be mapped: %s", lc_last_error());
        goto done;
    }
    ranges = calloc(n_boxes ? n_boxes : 1, sizeof *ranges);
    if (!ranges) {
        v->oom = true;
        goto done;
    }
    size_t cursor = 0;
    cbor_item_t **entries = cbor_array_handle(list);
    for (size_t e = 0; e < cbor_array_size(list); e++) {
        cbor_item_t *names = cbor_map_get(entries[e], "names");
        size_t hlen = 0;
        const uint8_t *want = cbor_bytes(cbor_map_get(entries[e], "hash"), &hlen);
        if (!names || !cbor_isa_array(names) || !want) {
            fail(v, "assertion.boxesHash.mismatch", aurl, "box hash entry %zu is malformed", e);
            goto done;
        }
        size_t nn = cbor_array_size(names), nr = 0;
        bool is_c2pa = false;
        for (size_t k = 0; k < nn; k++) {
            char *name = cbor_text_dup(cbor_array_handle(names)[k]);
            if (!name || cursor >= n_boxes || strcmp(name, boxes[cursor].name) != 0) {
                fail(v, "assertion.boxesHash.unknownBox", aurl, "box '%s' not found where the box hash expects it",
                     name ? name : "?");
                free(name);
                goto done;
            }
            is_c2pa = is_c2pa || strcmp(name, "C2PA") == 0;
            free(name);
            ranges[nr].off = boxes[cursor].off;
            ranges[nr].len = boxes[cursor].len;
            nr++;
            cursor++;
        }
        if (is_c2pa) continue; /* the manifest store itself is not hashed */
        char *alg = cbor_text_dup(cbor_map_get(entries[e], "alg"));
        const EVP_MD *md = c2pa_hash_md(alg ? alg : top_alg ? top_alg : m->claim_alg);
        free(alg);
        if (!md) {
            fail(v, "algorithm.unsupported", aurl, "unknown or missing hash algorithm in the box hash");
            goto done;
        }
        uint8_t got[EVP_MAX_MD_SIZE];
        unsigned got_len = 0;
        if (c2pa_hash_file_ranges(v->src, md, ranges, nr, got, &got_len) != LC_OK || got_len != hlen ||
            memcmp(got, want, hlen) != 0) {
            fail(v, "assertion.boxesHash.mismatch", aurl, "hash of boxes in entry %zu does not match", e);
            goto done;
        }
    }
    if (cursor < n_boxes)
        fail(v, "assertion.boxesHash.mismatch", aurl, "%zu boxes of the file are not covered by the box hash",
             n_boxes - cursor);
done:
    free(top_alg);
    free(ranges);
    free(boxes);
    if (a) cbor_decref(&a);
    free(aurl);
    free(url);
}

typedef struct binding_scan {
    int data_node, boxes_node, other_node;
} binding_scan;

static void find_binding(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, const cbor_item_t *huri, void *ctx) {
    binding_scan *b = ctx;
    char *url = cbor_text_dup(cbor_map_get(huri, "url"));
    const char *path = url ? jumbf_path(url) : NULL;
    int node = path ? jumbf_resolve(&v->tree, m->node, path) : -1;
    free(url);
    if (node < 0) return;
    const char *label = v->tree.nodes[node].label;
    if (label_is(label, "c2pa.hash.data") && b->data_node < 0) b->data_node = node;
    else if (label_is(label, "c2pa.hash.boxes") && b->boxes_node < 0) b->boxes_node = node;
    else if (strncmp(label, "c2pa.hash.bmff", 14) == 0 || strncmp(label, "c2pa.hash.collection", 20) == 0)
        b->other_node = node;
}

static void validate_manifest(vctx *v, manifest_ctx *m, bool is_active, int depth);

static void check_ingredients(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, const cbor_item_t *huri, void *ctx) {
    int *depth = ctx;
    char *url = cbor_text_dup(cbor_map_get(huri, "url"));
    const char *path = url ? jumbf_path(url) : NULL;
    int node = path ? jumbf_resolve(&v->tree, m->node, path) : -1;
    free(url);
    if (node < 0) return;
    const char *label = v->tree.nodes[node].label;
    if (!label_is(label, "c2pa.ingredient") && !label_is(label, "c2pa.ingredient.v2") &&
        !label_is(label, "c2pa.ingredient.v3"))
        return;
    cbor_item_t *a = load_assertion_cbor(v, node);
    if (!a) return;
    char *aurl = manifest_url(m, NULL);
    char *ing_url = c2pa_printf("%s/c2pa.assertions/%s", aurl, label);
    cbor_item_t *ref = ingredient_manifest_ref(a);
    if (ref) {
        char *rurl = NULL;
        int mnode;
        huri_result res = check_hashed_uri(v, m, ref, &rurl, &mnode);
        manifest_ctx *im = mnode >= 0 ? find_manifest(v, mnode) : NULL;
        if (res == HURI_MISSING || (res == HURI_OK && !im))
            fail(v, "claim.missing", ing_url, "ingredient's manifest not found: %s", rurl ? rurl : "?");
        else if (res == HURI_MISMATCH)
            fail(v, "ingredient.manifest.mismatch", ing_url, "ingredient's manifest does not match its hash");
        else if (res == HURI_BADALG)
            fail(v, "algorithm.unsupported", ing_url, "unknown hash algorithm for the ingredient's manifest");
        else if (res == HURI_MALFORMED)
            fail(v, "claim.malformed", ing_url, "malformed ingredient manifest reference");
        cbor_item_t *sref = cbor_map_get(a, "claimSignature");
        if (sref && res == HURI_OK) {
            char *surl = NULL;
            int snode;
            huri_result sres = check_hashed_uri(v, m, sref, &surl, &snode);
            if (sres == HURI_MISMATCH || sres == HURI_MISSING)
                fail(v, "ingredient.claimSignature.mismatch", ing_url, "ingredient's claim signature does not match");
            free(surl);
        }
        if (im && !im->visited) validate_manifest(v, im, false, *depth + 1);
        free(rurl);
    }
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
    char *url = cbor_text_dup(cbor_map_get(huri, "url"));
    const char *path = url ? jumbf_path(url) : NULL;
    int node = path ? jumbf_resolve(&v->tree, m->node, path) : -1;
    free(url);
    if (node < 0) return;
    const char *label = v->tree.nodes[node].label;
    if (!label_is(label, "c2pa.actions") && !label_is(label, "c2pa.actions.v2")) return;
    if (a->first_actions < 0) a->first_actions = node;
    a->n_actions_boxes++;
    cbor_item_t *as = load_assertion_cbor(v, node);
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
                char *aurl = manifest_url(m, NULL);
                char *u = c2pa_printf("%s/c2pa.assertions/%s", aurl, label);
                fail(v, "assertion.action.ingredientMismatch", u,
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
    for_each_assertion(v, m, info, find_actions, &a);
    bool ok = false;
    if (a.first_actions >= 0) {
        cbor_item_t *as = load_assertion_cbor(v, a.first_actions);
        cbor_item_t *list = as ? cbor_map_get(as, "actions") : NULL;
        if (list && cbor_isa_array(list) && cbor_array_size(list) > 0) {
            char *name = cbor_text_dup(cbor_map_get(cbor_array_handle(list)[0], "action"));
            ok = name && (strcmp(name, "c2pa.created") == 0 || strcmp(name, "c2pa.opened") == 0);
            free(name);
        }
        if (as) cbor_decref(&as);
    }
    if (!ok) fail(v, "assertion.action.malformed", m->label, "first action must be created or opened");
}

static void validate_manifest(vctx *v, manifest_ctx *m, bool is_active, int depth) {
    if (m->visited || depth > C2PA_MAX_INGREDIENT_DEPTH) return;
    m->visited = true;
    lc_c2pa_manifest *info = &v->r->manifests[m - v->m];
    if (!m->claim) return; /* load_claim reported why */
    check_signature(v, m, info, is_active);
    for_each_assertion(v, m, info, check_assertion_uri, NULL);
    if (m->claim_version == 2) check_actions_v2(v, m, info);
    if (is_active) {
        binding_scan b = {-1, -1, -1};
        for_each_assertion(v, m, info, find_binding, &b);
        if (b.data_node >= 0) check_data_hash(v, m, b.data_node);
        else if (b.boxes_node >= 0) check_box_hash(v, m, b.boxes_node);
        else if (b.other_node >= 0) {
            char *url = manifest_url(m, NULL);
            fail(v, "algorithm.unsupported", url, "hard binding %s is not supported for JPEG or PNG",
                 v->tree.nodes[b.other_node].label);
            free(url);
        } else {
            char *url = manifest_url(m, NULL);
            fail(v, "claim.hardBindings.missing", url, "active manifest has no hard binding assertion");
            free(url);
        }
    }
    int d = depth;
    for_each_assertion(v, m, info, check_ingredients, &d);
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
        c2pa_report_add_status(r, "claim.missing", "self#jumbf=/c2pa", "manifest store holds no manifest");
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
        load_claim(v, &v->m[i]);
        fill_info(v, &v->m[i], &r->manifests[i]);
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
    bool invalid = false;
    for (size_t i = 0; i < r->n_status; i++)
        if (strcmp(r->status[i].code, "signingCredential.untrusted") != 0) invalid = true;
    r->state = invalid ? LC_C2PA_INVALID : v->active_trusted ? LC_C2PA_TRUSTED : LC_C2PA_VALID;
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
    const char *p = jumbf_path(path) ? jumbf_path(path) : path;
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
