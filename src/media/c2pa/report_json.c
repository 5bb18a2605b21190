/* The validation report as one JSON object (cJSON), the shape `locus verify --json` prints. */
#include "c2pa_internal.h"

#include <cjson/cJSON.h>
#include <string.h>

static cJSON *str_or_null(const char *s) { return s ? cJSON_CreateString(s) : cJSON_CreateNull(); }

static cJSON *string_array(const char *const *items, size_t n) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(items[i] ? items[i] : ""));
    return a;
}

static cJSON *status_json(const lc_c2pa_status *st) {
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "code", st->code);
    cJSON_AddStringToObject(s, "url", st->url);
    cJSON_AddStringToObject(s, "explanation", st->explanation);
    return s;
}

/* Failures split as c2patool's validation_results: {"activeManifest": {"failure": [...]},
 * "ingredientDeltas": [{"ingredientAssertionURI", "validationDeltas": {"failure": [...]}}]}
 * (ingredientDeltas only when there are some; locus reports failures only). */
static cJSON *validation_results_json(const lc_c2pa_status *st, size_t n) {
    cJSON *vr = cJSON_CreateObject(), *am = cJSON_CreateObject(), *fail = cJSON_CreateArray();
    cJSON *deltas = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        if (!st[i].ingredient) {
            cJSON_AddItemToArray(fail, status_json(&st[i]));
            continue;
        }
        bool seen = false; /* one delta entry per ingredient, in order of first appearance */
        for (size_t j = 0; j < i; j++) seen |= st[j].ingredient && strcmp(st[j].ingredient, st[i].ingredient) == 0;
        if (seen) continue;
        cJSON *d = cJSON_CreateObject(), *vd = cJSON_CreateObject(), *df = cJSON_CreateArray();
        for (size_t j = i; j < n; j++)
            if (st[j].ingredient && strcmp(st[j].ingredient, st[i].ingredient) == 0)
                cJSON_AddItemToArray(df, status_json(&st[j]));
        cJSON_AddStringToObject(d, "ingredientAssertionURI", st[i].ingredient);
        cJSON_AddItemToObject(vd, "failure", df);
        cJSON_AddItemToObject(d, "validationDeltas", vd);
        cJSON_AddItemToArray(deltas, d);
    }
    cJSON_AddItemToObject(am, "failure", fail);
    cJSON_AddItemToObject(vr, "activeManifest", am);
    if (cJSON_GetArraySize(deltas) > 0) cJSON_AddItemToObject(vr, "ingredientDeltas", deltas);
    else cJSON_Delete(deltas);
    return vr;
}

static cJSON *manifest_json(const lc_c2pa_manifest *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddItemToObject(o, "claim_generator", str_or_null(m->claim_generator));
    cJSON_AddItemToObject(o, "title", str_or_null(m->title));
    cJSON_AddItemToObject(o, "format", str_or_null(m->format));
    cJSON_AddItemToObject(o, "instance_id", str_or_null(m->instance_id));
    cJSON_AddNumberToObject(o, "claim_version", m->claim_version);
    cJSON *sig = cJSON_CreateObject();
    cJSON_AddItemToObject(sig, "alg", str_or_null(m->sig_alg));
    cJSON_AddItemToObject(sig, "issuer", str_or_null(m->sig_issuer));
    cJSON_AddItemToObject(sig, "common_name", str_or_null(m->sig_common_name));
    cJSON_AddItemToObject(sig, "time", str_or_null(m->sig_time));
    cJSON_AddItemToObject(o, "signature_info", sig);
    cJSON_AddItemToObject(o, "assertions", string_array(m->assertions, m->n_assertions));
    cJSON_AddItemToObject(o, "actions", string_array(m->actions, m->n_actions));
    cJSON_AddItemToObject(o, "source_types", string_array(m->source_types, m->n_source_types));
    cJSON *ings = cJSON_CreateArray();
    for (size_t i = 0; ings && i < m->n_ingredients; i++) {
        const lc_c2pa_ingredient *g = &m->ingredients[i];
        cJSON *gi = cJSON_CreateObject();
        cJSON_AddItemToObject(gi, "title", str_or_null(g->title));
        cJSON_AddItemToObject(gi, "format", str_or_null(g->format));
        cJSON_AddItemToObject(gi, "relationship", str_or_null(g->relationship));
        cJSON_AddItemToObject(gi, "instance_id", str_or_null(g->instance_id));
        cJSON_AddItemToObject(gi, "active_manifest", str_or_null(g->active_manifest));
        cJSON_AddItemToObject(gi, "url", str_or_null(g->url));
        cJSON_AddItemToObject(gi, "validation_results", validation_results_json(g->failures, g->n_failures));
        cJSON_AddItemToArray(ings, gi);
    }
    cJSON_AddItemToObject(o, "ingredients", ings);
    return o;
}

char *lc_c2pa_report_json(const lc_c2pa_report *r, const char *file) {
    if (!r) {
        lc_error(LC_ERR_ARG, "lc_c2pa_report_json: NULL report");
        return NULL;
    }
    cJSON *root = cJSON_CreateObject();
    if (!root) goto nomem;
    cJSON_AddItemToObject(root, "file", str_or_null(file));
    cJSON_AddStringToObject(root, "validation_state", lc_c2pa_state_name(r->state));
    cJSON_AddItemToObject(root, "active_manifest", str_or_null(r->active_manifest));
    cJSON *ms = cJSON_CreateObject();
    for (size_t i = 0; ms && i < r->n_manifests; i++)
        cJSON_AddItemToObject(ms, r->manifests[i].label ? r->manifests[i].label : "", manifest_json(&r->manifests[i]));
    cJSON_AddItemToObject(root, "manifests", ms);
    cJSON *vs = cJSON_CreateArray();
    for (size_t i = 0; vs && i < r->n_status; i++) cJSON_AddItemToArray(vs, status_json(&r->status[i]));
    cJSON_AddItemToObject(root, "validation_status", vs);
    cJSON_AddItemToObject(root, "validation_results", validation_results_json(r->status, r->n_status));
    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    if (!out) goto nomem;
    return out;
nomem:
    lc_error(LC_ERR_NOMEM, "out of memory writing the report");
    return NULL;
}
