/*
 * What a manifest says, for the report: the claim (v1 c2pa.claim or v2 c2pa.claim.v2, CBOR), its
 * generator, title and format, the labels of its assertions, the actions and their
 * digitalSourceType values (c2pa.actions[.v2]) and the ingredients (c2pa.ingredient[.v2|.v3]).
 * Validation is elsewhere (validate.c); a claim that cannot be read is reported as claim.missing
 * or claim.malformed.
 */
#include "c2pa_internal.h"

#include <stdlib.h>
#include <string.h>


/* Every hashed URI of the claim's assertion lists. */
void c2pa_for_each_assertion(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, huri_fn fn, void *ctx) {
    static const char *lists[] = {"assertions", "created_assertions", "gathered_assertions"};
    for (size_t k = 0; k < 3; k++) {
        cbor_item_t *a = cbor_map_get(m->claim, lists[k]);
        if (!a || !cbor_isa_array(a)) continue;
        cbor_item_t **items = cbor_array_handle(a);
        for (size_t i = 0; i < cbor_array_size(a); i++) fn(v, m, info, items[i], ctx);
    }
}

int c2pa_assertion_node(const vctx *v, const manifest_ctx *m, const cbor_item_t *huri) {
    char *url = cbor_text_dup(cbor_map_get(huri, "url"));
    const char *path = url ? c2pa_jumbf_path(url) : NULL;
    int node = path ? jumbf_resolve(&v->tree, m->node, path) : -1;
    free(url);
    return node;
}

bool c2pa_label_is_ingredient(const char *label) {
    return c2pa_label_is(label, "c2pa.ingredient") || c2pa_label_is(label, "c2pa.ingredient.v2") ||
           c2pa_label_is(label, "c2pa.ingredient.v3");
}

bool c2pa_label_is_actions(const char *label) {
    return c2pa_label_is(label, "c2pa.actions") || c2pa_label_is(label, "c2pa.actions.v2");
}

static const char *text_field(vctx *v, const cbor_item_t *map, const char *key) {
    char *s = cbor_text_dup(cbor_map_get(map, key));
    const char *r = s ? c2pa_report_str(v->r, s) : NULL;
    free(s);
    return r;
}

/* Parse the claim of manifest m (claim box, CBOR); failures are recorded as status codes. */
void c2pa_load_claim(vctx *v, manifest_ctx *m) {
    int claim_node = -1, n_claims = 0;
    for (int i = v->tree.nodes[m->node].first_child; i >= 0; i = v->tree.nodes[i].next_sibling) {
        const jumbf_node *n = &v->tree.nodes[i];
        if (!n->super) continue;
        if (jumbf_is_type(n, "c2cl") || strcmp(n->label, "c2pa.claim") == 0 || strcmp(n->label, "c2pa.claim.v2") == 0) {
            if (claim_node < 0) claim_node = i;
            n_claims++;
        }
    }
    char *url = c2pa_manifest_url(m, NULL);
    if (claim_node < 0) {
        c2pa_fail(v, "claim.missing", url, "manifest has no claim");
        free(url);
        return;
    }
    if (n_claims > 1) c2pa_fail(v, "claim.multiple", url, "manifest has %d claims", n_claims);
    m->claim_version = strcmp(v->tree.nodes[claim_node].label, "c2pa.claim.v2") == 0 ? 2 : 1;
    int cb = jumbf_content(&v->tree, claim_node, "cbor");
    if (cb < 0) {
        c2pa_fail(v, "claim.malformed", url, "claim box has no CBOR content");
        free(url);
        return;
    }
    size_t len;
    const uint8_t *p = jumbf_payload(&v->tree, cb, &len);
    cbor_item_t *claim = NULL;
    if (cbor_safe_load(p, len, "claim", &claim) != LC_OK || !cbor_isa_map(claim)) {
        c2pa_fail(v, "claim.malformed", url, "claim CBOR is malformed: %s", lc_last_error());
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
    int node = c2pa_assertion_node(v, m, huri);
    if (node < 0 || !c2pa_label_is_actions(v->tree.nodes[node].label)) return;
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

cbor_item_t *c2pa_load_assertion_cbor(vctx *v, int node) {
    int cb = jumbf_content(&v->tree, node, "cbor");
    if (cb < 0) return NULL;
    size_t len;
    const uint8_t *p = jumbf_payload(&v->tree, cb, &len);
    cbor_item_t *a = NULL;
    if (cbor_safe_load(p, len, v->tree.nodes[node].label, &a) != LC_OK) return NULL;
    return a;
}

cbor_item_t *c2pa_ingredient_manifest_ref(const cbor_item_t *ing) {
    cbor_item_t *ref = cbor_map_get(ing, "activeManifest");
    if (!ref) ref = cbor_map_get(ing, "c2pa_manifest");
    return ref;
}

/* ---- validation results recorded in an ingredient assertion ----------------------------------- */
typedef struct status_list {
    lc_c2pa_status *items;
    size_t n, cap;
} status_list;

/* A URL of a recorded status made absolute within the ingredient's manifest `label`, as c2pa-rs
 * does (ValidationStatus::make_absolute): only JUMBF URIs, and only those naming no manifest. */
static char *recorded_url(const char *url, const char *label) {
    if (!url) return c2pa_strdup("");
    char *named = c2pa_uri_manifest_label(url);
    bool relative = !named && label && strncmp(url, "self#jumbf", 10) == 0;
    free(named);
    if (!relative) return c2pa_strdup(url);
    const char *eq = strchr(url, '=');
    return c2pa_printf("self#jumbf=/c2pa/%s/%s", label, eq ? eq + 1 : url);
}

static void add_recorded(vctx *v, status_list *l, const cbor_item_t *list, const char *label, const char *ingredient) {
    if (!list || !cbor_isa_array(list)) return;
    for (size_t i = 0; i < cbor_array_size(list); i++) {
        const cbor_item_t *st = cbor_array_handle(list)[i];
        char *code = cbor_text_dup(cbor_map_get(st, "code"));
        if (!code || !c2pa_code_is_failure(code)) {
            free(code);
            continue;
        }
        char *raw = cbor_text_dup(cbor_map_get(st, "url"));
        char *url = recorded_url(raw, label);
        char *why = cbor_text_dup(cbor_map_get(st, "explanation"));
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 4;
            lc_c2pa_status *items = realloc(l->items, cap * sizeof *items);
            if (items) {
                l->items = items;
                l->cap = cap;
            }
        }
        if (l->n < l->cap && url) {
            lc_c2pa_status *s = &l->items[l->n++];
            s->code = c2pa_report_str(v->r, code);
            s->url = c2pa_report_str(v->r, url);
            s->explanation = c2pa_report_str(v->r, why ? why : "");
            s->ingredient = ingredient ? c2pa_report_str(v->r, ingredient) : NULL;
            if (!s->code || !s->url || !s->explanation || (ingredient && !s->ingredient)) v->oom = true;
        } else {
            v->oom = true;
        }
        free(code);
        free(raw);
        free(url);
        free(why);
    }
}

static void add_recorded_codes(vctx *v, status_list *l, const cbor_item_t *codes, const char *label,
                               const char *ingredient) {
    static const char *const kinds[] = {"success", "informational", "failure"};
    for (size_t k = 0; k < 3; k++) add_recorded(v, l, cbor_map_get(codes, kinds[k]), label, ingredient);
}

/* The failures an ingredient assertion records: validationResults (v3), else validation_status. */
static void recorded_failures(vctx *v, const cbor_item_t *ing, lc_c2pa_ingredient *g) {
    char *ref = cbor_text_dup(cbor_map_get(c2pa_ingredient_manifest_ref(ing), "url"));
    char *label = c2pa_uri_manifest_label(ref);
    free(ref);
    status_list l = {0};
    cbor_item_t *vr = cbor_map_get(ing, "validationResults");
    if (vr && cbor_isa_map(vr)) {
        add_recorded_codes(v, &l, cbor_map_get(vr, "activeManifest"), label, NULL);
        cbor_item_t *deltas = cbor_map_get(vr, "ingredientDeltas");
        for (size_t i = 0; deltas && cbor_isa_array(deltas) && i < cbor_array_size(deltas); i++) {
            cbor_item_t *d = cbor_array_handle(deltas)[i];
            char *uri = cbor_text_dup(cbor_map_get(d, "ingredientAssertionURI"));
            add_recorded_codes(v, &l, cbor_map_get(d, "validationDeltas"), label, uri ? uri : "");
            free(uri);
        }
    } else {
        add_recorded(v, &l, cbor_map_get(ing, "validation_status"), label, NULL);
    }
    free(label);
    if (l.items && !c2pa_report_keep(v->r, l.items)) {
        v->oom = true;
        return;
    }
    g->failures = l.items;
    g->n_failures = l.items ? l.n : 0;
}

static void collect_ingredient(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, const cbor_item_t *huri, void *ctx) {
    ingredient_list *l = ctx;
    int node = c2pa_assertion_node(v, m, huri);
    if (node < 0 || !c2pa_label_is_ingredient(v->tree.nodes[node].label)) return;
    cbor_item_t *a = c2pa_load_assertion_cbor(v, node);
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
    char *ref = cbor_text_dup(cbor_map_get(c2pa_ingredient_manifest_ref(a), "url"));
    const char *rpath = ref ? c2pa_jumbf_path(ref) : NULL;
    int mnode = rpath ? jumbf_resolve(&v->tree, m->node, rpath) : -1;
    if (mnode >= 0 && v->tree.nodes[mnode].super)
        g->active_manifest = c2pa_report_str(v->r, v->tree.nodes[mnode].label);
    free(ref);
    char *aurl = c2pa_printf("self#jumbf=/c2pa/%s/c2pa.assertions/%s", m->label, v->tree.nodes[node].label);
    g->url = c2pa_report_str(v->r, aurl);
    if (!g->url) v->oom = true;
    free(aurl);
    recorded_failures(v, a, g);
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

void c2pa_fill_info(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info) {
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
    c2pa_for_each_assertion(v, m, info, collect_label, &labels);
    c2pa_for_each_assertion(v, m, info, collect_actions, &actions);
    info->assertions = strlist_to_report(v, &labels, &info->n_assertions);
    info->actions = strlist_to_report(v, &actions.names, &info->n_actions);
    info->source_types = strlist_to_report(v, &actions.source_types, &info->n_source_types);
    c2pa_strlist_free(&labels);
    c2pa_strlist_free(&actions.names);
    c2pa_strlist_free(&actions.source_types);
    ingredient_list ings = {0};
    c2pa_for_each_assertion(v, m, info, collect_ingredient, &ings);
    info->n_ingredients = ings.n;
    if (ings.items && !c2pa_report_keep(v->r, ings.items)) {
        v->oom = true;
        info->n_ingredients = 0;
        ings.items = NULL;
    }
    info->ingredients = ings.items;
}

