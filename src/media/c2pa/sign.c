/*
 * C2PA signing: build a manifest (assertions, claim v2, COSE signature), put it in the file's
 * manifest store, and embed the store into the JPEG or PNG.
 *
 * The hard binding (c2pa.hash.data) hashes the whole output file except the bytes of the embedded
 * store (APP11 segments or caBX chunk). Those excluded bytes sit where the stripped input is cut,
 * so the hash is simply the SHA-256 of the input without its old store. Only the exclusion's
 * length depends on the final size of the store; the hash.data assertion keeps a constant size
 * whatever that length encodes to (its "pad" byte string absorbs the difference), so one build
 * with a placeholder length measures the store and the second build, with the real length, has
 * exactly that size.
 */
#include "sign_internal.h"
#include "locus/c2pa.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IPTC_PREFIX "http://cv.iptc.org/newscodes/digitalsourcetype/"
#define MAX_ASSERTIONS 64

void lc_asset_free(lc_asset *a) {
    free(a->stripped);
    free(a->old_store);
    *a = (lc_asset){0};
}

lc_status lc_asset_prepare(const uint8_t *data, size_t len, const char *name, lc_asset *out) {
    if (len >= 2 && data[0] == 0xFF && data[1] == 0xD8) return lc_jpeg_prepare(data, len, name, out);
    if (len >= 8 && data[0] == 0x89 && memcmp(data + 1, "PNG", 3) == 0) return lc_png_prepare(data, len, name, out);
    *out = (lc_asset){0};
    return lc_error(LC_ERR_UNSUPPORTED, "%s: not a JPEG or PNG file (signing supports those two)", name);
}

static void sha256(const uint8_t *data, size_t n, uint8_t out[32]) { SHA256(data, n, out); }

static lc_status new_uuid(char out[37]) {
    uint8_t u[16];
    if (RAND_bytes(u, sizeof u) != 1) return lc_error(LC_ERR_INTERNAL, "c2pa sign: no random bytes for a UUID");
    u[6] = (uint8_t)((u[6] & 0x0F) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
             u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    return LC_OK;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- the existing store ---------------------------------------------------------------------- */
/* A superbox at `box` (len bytes available): its total length, the offset of its first child and its
 * label (pointer into the box, NUL-terminated inside it). false when malformed. */
static bool superbox(const uint8_t *box, size_t avail, size_t *box_len, size_t *children, const char **label) {
    if (avail < 8 + 8 + 17) return false;
    size_t blen = be32(box), dlen = be32(box + 8);
    if (blen < 8 + 8 + 17 || blen > avail || memcmp(box + 4, "jumb", 4) != 0 || memcmp(box + 12, "jumd", 4) != 0)
        return false;
    if (dlen < 8 + 17 || dlen > blen - 8) return false;
    const uint8_t *toggles = box + 8 + 8 + 16;
    *label = NULL;
    if (*toggles & 0x02) {
        const uint8_t *l = toggles + 1, *end = box + 8 + dlen;
        const uint8_t *nul = memchr(l, 0, (size_t)(end - l));
        if (!nul) return false;
        *label = (const char *)l;
    }
    *box_len = blen;
    *children = 8 + dlen;
    return true;
}

typedef struct parent_info {
    const uint8_t *children; /* the old store's manifests, copied as they are */
    size_t children_len;
    char label[256];           /* active manifest */
    uint8_t manifest_hash[32]; /* of the active manifest's box, without its 8-byte header */
    uint8_t signature_hash[32];
    bool has_signature;
} parent_info;

static lc_status read_parent(const uint8_t *store, size_t len, const char *name, parent_info *p) {
    size_t blen, off;
    const char *label;
    *p = (parent_info){0};
    if (!superbox(store, len, &blen, &off, &label) || blen != len || !label || strcmp(label, "c2pa") != 0 ||
        memcmp(store + 16, LC_JUMBF_UUID_STORE, 16) != 0)
        return lc_error(LC_ERR_FORMAT, "%s: the existing C2PA manifest store is malformed; cannot make it the parent",
                        name);
    p->children = store + off;
    p->children_len = len - off;
    const uint8_t *active = NULL;
    size_t active_len = 0, active_children = 0;
    while (off < len) {
        size_t mlen, moff;
        const char *mlabel;
        if (!superbox(store + off, len - off, &mlen, &moff, &mlabel) || !mlabel)
            return lc_error(LC_ERR_FORMAT, "%s: malformed manifest box at byte %zu of the C2PA store", name, off);
        if (memcmp(store + off + 16, LC_JUMBF_UUID_MANIFEST, 16) == 0 ||
            memcmp(store + off + 16 + 4, LC_JUMBF_UUID_MANIFEST + 4, 12) == 0) {
            /* "c2ma" (standard) or an update manifest "c2um": the last one is active */
            active = store + off;
            active_len = mlen;
            active_children = moff;
            snprintf(p->label, sizeof p->label, "%s", mlabel);
        }
        off += mlen;
    }
    if (!active) return lc_error(LC_ERR_FORMAT, "%s: the C2PA store holds no manifest", name);
    sha256(active + 8, active_len - 8, p->manifest_hash);
    for (size_t o = active_children; o < active_len;) {
        size_t clen, coff;
        const char *clabel;
        if (!superbox(active + o, active_len - o, &clen, &coff, &clabel)) {
            if (active_len - o >= 8 && be32(active + o) >= 8 && be32(active + o) <= active_len - o) {
                o += be32(active + o); /* a plain box: skip */
                continue;
            }
            return lc_error(LC_ERR_FORMAT, "%s: malformed box in manifest %s", name, p->label);
        }
        if (clabel && strcmp(clabel, "c2pa.signature") == 0) {
            sha256(active + o + 8, clen - 8, p->signature_hash);
            p->has_signature = true;
        }
        o += clen;
    }
    if (!p->has_signature)
        return lc_error(LC_ERR_FORMAT, "%s: the active manifest %s has no signature box", name, p->label);
    return LC_OK;
}

/* ---- the manifest definition ------------------------------------------------------------------ */
static bool reserved_label(const char *l) {
    static const char *const prefixes[] = {"c2pa.hash.", "c2pa.ingredient", "c2pa.claim", "c2pa.signature",
                                           "c2pa.assertions"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(l, prefixes[i], strlen(prefixes[i])) == 0) return true;
    return false;
}

static bool is_actions_label(const char *l) { return strcmp(l, "c2pa.actions") == 0 || strcmp(l, "c2pa.actions.v2") == 0; }

static lc_status check_definition(const cJSON *def) {
    if (!cJSON_IsObject(def)) return lc_error(LC_ERR_FORMAT, "manifest definition: not a JSON object");
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(def, "title");
    if (title && !cJSON_IsString(title)) return lc_error(LC_ERR_FORMAT, "manifest definition: \"title\" is not a string");
    const cJSON *dst = cJSON_GetObjectItemCaseSensitive(def, "digitalSourceType");
    if (dst && !cJSON_IsString(dst))
        return lc_error(LC_ERR_FORMAT, "manifest definition: \"digitalSourceType\" is not a string");
    const cJSON *cgi = cJSON_GetObjectItemCaseSensitive(def, "claim_generator_info");
    if (cgi) {
        const cJSON *first = cJSON_IsArray(cgi) ? cgi->child : cgi;
        if (!cJSON_IsObject(first) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(first, "name")))
            return lc_error(LC_ERR_FORMAT, "manifest definition: \"claim_generator_info\" needs an object with a \"name\"");
    }
    const cJSON *as = cJSON_GetObjectItemCaseSensitive(def, "assertions");
    if (as && !cJSON_IsArray(as)) return lc_error(LC_ERR_FORMAT, "manifest definition: \"assertions\" is not an array");
    int n = 0;
    for (const cJSON *a = as ? as->child : NULL; a; a = a->next, n++) {
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(a, "label");
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(a, "data");
        if (!cJSON_IsString(label) || !label->valuestring[0] || !data)
            return lc_error(LC_ERR_FORMAT, "manifest definition: assertion %d needs a \"label\" string and \"data\"", n);
        if (strlen(label->valuestring) > 200)
            return lc_error(LC_ERR_FORMAT, "manifest definition: assertion label of %zu bytes is too long",
                            strlen(label->valuestring));
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(a, "kind");
        if (kind && !(cJSON_IsString(kind) && (strcmp(kind->valuestring, "Cbor") == 0 ||
                                               strcmp(kind->valuestring, "Json") == 0)))
            return lc_error(LC_ERR_FORMAT, "manifest definition: assertion '%s': \"kind\" is \"Cbor\" or \"Json\"",
                            label->valuestring);
        if (reserved_label(label->valuestring))
            return lc_error(LC_ERR_ARG, "manifest definition: assertion '%s' is written by locus itself", label->valuestring);
        if (is_actions_label(label->valuestring) &&
            !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(data, "actions")))
            return lc_error(LC_ERR_FORMAT, "manifest definition: %s needs \"actions\": [...]", label->valuestring);
        for (const cJSON *b = as->child; b != a; b = b->next) {
            const char *other = cJSON_GetObjectItemCaseSensitive(b, "label")->valuestring;
            if (strcmp(other, label->valuestring) == 0 ||
                (is_actions_label(other) && is_actions_label(label->valuestring)))
                return lc_error(LC_ERR_ARG, "manifest definition: assertion '%s' appears twice", label->valuestring);
        }
    }
    if (n > MAX_ASSERTIONS - 3) return lc_error(LC_ERR_ARG, "manifest definition: more than %d assertions", MAX_ASSERTIONS - 3);
    return LC_OK;
}

static lc_status source_type_url(const char *term, char *out, size_t len) {
    if (strstr(term, "://")) {
        snprintf(out, len, "%s", term);
        return LC_OK;
    }
    for (const char *p = term; *p; p++)
        if (!isalnum((unsigned char)*p))
            return lc_error(LC_ERR_ARG, "c2pa sign: digital source type '%s' is neither an IPTC term nor a URL", term);
    if (!*term) return lc_error(LC_ERR_ARG, "c2pa sign: empty digital source type");
    snprintf(out, len, "%s%s", IPTC_PREFIX, term);
    return LC_OK;
}

/* ---- building ------------------------------------------------------------------------------- */
typedef struct assertion {
    char label[208];
    lc_sbuf box; /* the whole superbox */
} assertion;

typedef struct build_ctx {
    const lc_signer *signer;
    const lc_asset *asset;
    const cJSON *def; /* may be NULL */
    const char *title;
    const char *source_type_url;
    const char *parent_title;
    const parent_info *parent; /* NULL when the input had no store */
    const lc_c2pa_report *parent_report; /* validation of the parent, may be NULL */
    char manifest_label[64];
    char instance_id[64];
    uint8_t data_hash[32];
} build_ctx;

static lc_status cbor_assertion(assertion *a, const char *label, const cbor_item_t *item) {
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (!lc_cb_serialize(item, &bytes, &n)) return lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory encoding %s", label);
    snprintf(a->label, sizeof a->label, "%s", label);
    a->box = (lc_sbuf){0};
    lc_jumbf_single(&a->box, LC_JUMBF_UUID_CBOR, label, "cbor", bytes, n);
    free(bytes);
    return a->box.failed ? lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory") : LC_OK;
}

static void assertion_hash(const assertion *a, uint8_t out[32]) { sha256(a->box.data + 8, a->box.len - 8, out); }

/* {"code", "url", "explanation"} of a status */
static cbor_item_t *status_cbor(const lc_c2pa_status *s) {
    cbor_item_t *e = cbor_new_definite_map(3);
    bool ok = e && lc_cb_put(e, "code", lc_cb_text(s->code ? s->code : ""));
    if (ok && s->url) ok = lc_cb_put(e, "url", lc_cb_text(s->url));
    if (ok && s->explanation) ok = lc_cb_put(e, "explanation", lc_cb_text(s->explanation));
    if (!ok && e) cbor_decref(&e);
    return e;
}

/* {"success": [], "informational": [], "failure": [the parent's failures with this ingredient URI
 * (NULL: the parent's active manifest)]}: the validator reports failures only. */
static cbor_item_t *status_codes(const lc_c2pa_report *r, const char *ingredient) {
    size_t n = lc_c2pa_report_status_count(r), k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *g = lc_c2pa_report_status(r, i)->ingredient;
        k += ingredient ? g && strcmp(g, ingredient) == 0 : !g;
    }
    cbor_item_t *failure = cbor_new_definite_array(k);
    for (size_t i = 0; failure && i < n; i++) {
        const lc_c2pa_status *s = lc_c2pa_report_status(r, i);
        if (ingredient ? s->ingredient && strcmp(s->ingredient, ingredient) == 0 : !s->ingredient)
            if (!lc_cb_push(failure, status_cbor(s))) cbor_decref(&failure);
    }
    cbor_item_t *sc = failure ? cbor_new_definite_map(3) : NULL;
    bool ok = sc && lc_cb_put(sc, "success", cbor_new_definite_array(0)) &&
              lc_cb_put(sc, "informational", cbor_new_definite_array(0));
    if (ok) {
        ok = lc_cb_put(sc, "failure", failure);
        failure = NULL;
    }
    if (failure) cbor_decref(&failure);
    if (!ok && sc) cbor_decref(&sc);
    return sc;
}

/* The parent's validation as c2pa-rs records it in a v3 ingredient: {"activeManifest": codes,
 * "ingredientDeltas": [{"ingredientAssertionURI", "validationDeltas": codes}]} (the deltas only when
 * the parent's own ingredients have failures that count). */
static cbor_item_t *validation_results(const build_ctx *c) {
    const lc_c2pa_report *r = c->parent_report; /* NULL: no failures */
    size_t n = lc_c2pa_report_status_count(r), n_deltas = 0;
    const char *uris[64];
    for (size_t i = 0; i < n; i++) { /* distinct ingredient URIs, in order (the first 64) */
        const char *g = lc_c2pa_report_status(r, i)->ingredient;
        bool seen = !g;
        for (size_t j = 0; !seen && j < n_deltas; j++) seen = strcmp(uris[j], g) == 0;
        if (!seen && n_deltas < sizeof uris / sizeof uris[0]) uris[n_deltas++] = g;
    }
    cbor_item_t *vr = cbor_new_definite_map(n_deltas ? 2 : 1);
    bool ok = vr && lc_cb_put(vr, "activeManifest", status_codes(r, NULL));
    if (ok && n_deltas) {
        cbor_item_t *deltas = cbor_new_definite_array(n_deltas);
        for (size_t j = 0; deltas && j < n_deltas; j++) {
            cbor_item_t *d = cbor_new_definite_map(2);
            bool dok = d && lc_cb_put(d, "ingredientAssertionURI", lc_cb_text(uris[j])) &&
                       lc_cb_put(d, "validationDeltas", status_codes(r, uris[j]));
            if (!dok && d) cbor_decref(&d);
            if (!lc_cb_push(deltas, d)) cbor_decref(&deltas);
        }
        ok = lc_cb_put(vr, "ingredientDeltas", deltas);
    }
    if (!ok && vr) cbor_decref(&vr);
    return vr;
}

static lc_status ingredient_assertion(const build_ctx *c, assertion *a) {
    const parent_info *p = c->parent;
    char url[512];
    cbor_item_t *m = cbor_new_definite_map(8);
    bool ok = m && lc_cb_put(m, "dc:title", lc_cb_text(c->parent_title)) &&
              lc_cb_put(m, "dc:format", lc_cb_text(c->asset->mime)) &&
              lc_cb_put(m, "relationship", lc_cb_text("parentOf"));
    snprintf(url, sizeof url, "self#jumbf=/c2pa/%s", p->label);
    ok = ok && lc_cb_put(m, "activeManifest", lc_cb_hashed_uri(url, p->manifest_hash, true));
    snprintf(url, sizeof url, "self#jumbf=/c2pa/%s/c2pa.signature", p->label);
    ok = ok && lc_cb_put(m, "claimSignature", lc_cb_hashed_uri(url, p->signature_hash, true));
    ok = ok && lc_cb_put(m, "validationResults", validation_results(c));
    lc_status st = ok ? cbor_assertion(a, "c2pa.ingredient.v3", m)
                      : lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory building the ingredient");
    if (m) cbor_decref(&m);
    return st;
}

/* Find a key of a CBOR map (NULL when absent). */
static cbor_item_t *map_get(const cbor_item_t *map, const char *key) {
    if (!map || !cbor_isa_map(map)) return NULL;
    struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        const cbor_item_t *k = pairs[i].key;
        if (cbor_isa_string(k) && cbor_string_is_definite(k) && cbor_string_length(k) == strlen(key) &&
            memcmp(cbor_string_handle(k), key, strlen(key)) == 0)
            return pairs[i].value;
    }
    return NULL;
}

static lc_status actions_assertion(const build_ctx *c, const assertion *ingredient, assertion *a) {
    const cJSON *user = NULL;
    const cJSON *as = c->def ? cJSON_GetObjectItemCaseSensitive(c->def, "assertions") : NULL;
    for (const cJSON *x = as ? as->child : NULL; x; x = x->next)
        if (is_actions_label(cJSON_GetObjectItemCaseSensitive(x, "label")->valuestring))
            user = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(x, "data"), "actions");
    const char *first_name = c->parent ? "c2pa.opened" : "c2pa.created";
    size_t n_user = user ? (size_t)cJSON_GetArraySize(user) : 0;
    cbor_item_t *list = cbor_new_definite_array(n_user + 1);
    cbor_item_t *first = NULL;
    lc_status st = LC_OK;
    bool ok = list != NULL;
    /* the user's own created/opened action, if any, becomes the first one */
    for (const cJSON *x = user ? user->child : NULL; ok && x; x = x->next) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(x, "action");
        if (!cJSON_IsObject(x) || !cJSON_IsString(name)) {
            st = lc_error(LC_ERR_FORMAT, "manifest definition: each action needs an \"action\" string");
            goto done;
        }
        bool is_first = strcmp(name->valuestring, "c2pa.created") == 0 || strcmp(name->valuestring, "c2pa.opened") == 0;
        if (!is_first) continue;
        if (strcmp(name->valuestring, first_name) != 0 || first) {
            st = lc_error(LC_ERR_ARG, "manifest definition: action %s does not fit: %s", name->valuestring,
                          c->parent ? "the input has content credentials, so the first action is c2pa.opened"
                                    : "the input has no content credentials, so the first action is c2pa.created");
            goto done;
        }
        first = lc_cb_from_json(x);
        ok = first != NULL;
    }
    if (ok && !first) {
        first = cbor_new_definite_map(4);
        ok = first && lc_cb_put(first, "action", lc_cb_text(first_name));
    }
    if (ok && !c->parent && !map_get(first, "digitalSourceType"))
        ok = lc_cb_put(first, "digitalSourceType", lc_cb_text(c->source_type_url));
    if (ok && !map_get(first, "softwareAgent")) {
        cbor_item_t *agent = cbor_new_definite_map(2);
        ok = agent && lc_cb_put(agent, "name", lc_cb_text("locus")) &&
             lc_cb_put(agent, "version", lc_cb_text(LOCUS_VERSION));
        if (ok) ok = lc_cb_put(first, "softwareAgent", agent); /* takes agent */
        else if (agent) cbor_decref(&agent);
    }
    if (ok && c->parent) {
        /* parameters.ingredients: [hashed URI of the parent ingredient] */
        uint8_t h[32];
        assertion_hash(ingredient, h);
        cbor_item_t *params = map_get(first, "parameters");
        if (params && !cbor_isa_map(params)) {
            st = lc_error(LC_ERR_FORMAT, "manifest definition: c2pa.opened \"parameters\" is not an object");
            goto done;
        }
        cbor_item_t *ings = cbor_new_definite_array(1);
        ok = ings && lc_cb_push(ings, lc_cb_hashed_uri("self#jumbf=c2pa.assertions/c2pa.ingredient.v3", h, false));
        if (ok && params) {
            if (map_get(params, "ingredients")) {
                st = lc_error(LC_ERR_ARG, "manifest definition: c2pa.opened ingredients are set by locus");
                cbor_decref(&ings);
                goto done;
            }
            ok = lc_cb_put(params, "ingredients", ings);
        } else if (ok) {
            params = cbor_new_definite_map(1);
            ok = params && lc_cb_put(params, "ingredients", ings); /* takes ings */
            if (!params) cbor_decref(&ings);
            if (ok) ok = lc_cb_put(first, "parameters", params); /* takes params */
            else if (params) cbor_decref(&params);
        } else if (ings) {
            cbor_decref(&ings);
        }
    }
    if (ok) {
        ok = lc_cb_push(list, first); /* takes first */
        first = NULL;
    }
    for (const cJSON *x = user ? user->child : NULL; ok && x; x = x->next) {
        const char *name = cJSON_GetObjectItemCaseSensitive(x, "action")->valuestring;
        if (strcmp(name, "c2pa.created") == 0 || strcmp(name, "c2pa.opened") == 0) continue;
        ok = lc_cb_push(list, lc_cb_from_json(x));
    }
    cbor_item_t *m = ok ? cbor_new_definite_map(1) : NULL;
    ok = m != NULL;
    if (ok) {
        ok = lc_cb_put(m, "actions", list); /* takes list */
        list = NULL;
    }
    if (ok) st = cbor_assertion(a, "c2pa.actions.v2", m);
    else st = lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory building the actions");
    if (m) cbor_decref(&m);
done:
    if (first) cbor_decref(&first);
    if (list) cbor_decref(&list);
    return st;
}

/* c2pa.hash.data excluding [insert_at, insert_at + excl_len), of the same encoded size whatever
 * excl_len is (up to 2^32 - 1) */
static lc_status hash_data_assertion(const build_ctx *c, uint64_t excl_len, assertion *a) {
    /* pad so the assertion's size does not depend on how long excl_len's encoding is: up to 4 bytes
     * shorter than the 5-byte placeholder */
    size_t len_bytes = excl_len < 24 ? 1 : excl_len <= 0xFF ? 2 : excl_len <= 0xFFFF ? 3 : 5;
    size_t pad_len = 8 + (5 - len_bytes);
    uint8_t pad[16] = {0};
    cbor_item_t *ex = cbor_new_definite_map(2), *exs = cbor_new_definite_array(1), *m = cbor_new_definite_map(5);
    bool ok = ex && exs && m && lc_cb_put(ex, "start", lc_cb_uint(c->asset->insert_at)) &&
              lc_cb_put(ex, "length", lc_cb_uint(excl_len));
    if (ok) {
        ok = lc_cb_push(exs, ex);
        ex = NULL;
    }
    if (ok) {
        ok = lc_cb_put(m, "exclusions", exs);
        exs = NULL;
    }
    ok = ok && lc_cb_put(m, "name", lc_cb_text("jumbf manifest")) && lc_cb_put(m, "alg", lc_cb_text("sha256")) &&
         lc_cb_put(m, "hash", lc_cb_bytes(c->data_hash, 32)) && lc_cb_put(m, "pad", lc_cb_bytes(pad, pad_len));
    lc_status st = ok ? cbor_assertion(a, "c2pa.hash.data", m)
                      : lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory building c2pa.hash.data");
    if (ex) cbor_decref(&ex);
    if (exs) cbor_decref(&exs);
    if (m) cbor_decref(&m);
    return st;
}

static cbor_item_t *generator_info(const build_ctx *c) {
    const cJSON *cgi = c->def ? cJSON_GetObjectItemCaseSensitive(c->def, "claim_generator_info") : NULL;
    if (cgi) return lc_cb_from_json(cJSON_IsArray(cgi) ? cgi->child : cgi);
    cbor_item_t *m = cbor_new_definite_map(2);
    if (m && !(lc_cb_put(m, "name", lc_cb_text("locus")) && lc_cb_put(m, "version", lc_cb_text(LOCUS_VERSION))))
        cbor_decref(&m);
    return m;
}

/* One complete store with the hash.data exclusion length `excl_len`. */
static lc_status build_store(const build_ctx *c, uint64_t excl_len, lc_sbuf *store) {
    assertion as[MAX_ASSERTIONS];
    size_t n = 0;
    lc_status st = LC_OK;
    uint8_t *claim = NULL, *cose = NULL;
    size_t claim_len = 0, cose_len = 0;
    cbor_item_t *cm = NULL;
    memset(as, 0, sizeof as);

    size_t ingredient = SIZE_MAX;
    if (c->parent) {
        st = ingredient_assertion(c, &as[n]);
        if (st != LC_OK) goto done;
        ingredient = n++;
    }
    st = actions_assertion(c, ingredient != SIZE_MAX ? &as[ingredient] : NULL, &as[n]);
    if (st != LC_OK) goto done;
    n++;
    const cJSON *defs = c->def ? cJSON_GetObjectItemCaseSensitive(c->def, "assertions") : NULL;
    for (const cJSON *x = defs ? defs->child : NULL; x; x = x->next) {
        const char *label = cJSON_GetObjectItemCaseSensitive(x, "label")->valuestring;
        if (is_actions_label(label)) continue;
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(x, "data");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(x, "kind");
        if (kind && strcmp(kind->valuestring, "Json") == 0) {
            /* a JSON content box, as c2pa-rs writes assertions of kind "Json" (JSON-LD) */
            char *text = cJSON_PrintUnformatted(data);
            snprintf(as[n].label, sizeof as[n].label, "%s", label);
            if (text) lc_jumbf_single(&as[n].box, LC_JUMBF_UUID_JSON, label, "json", text, strlen(text));
            free(text);
            st = text && !as[n].box.failed ? LC_OK : lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory");
        } else {
            cbor_item_t *item = lc_cb_from_json(data);
            st = item ? cbor_assertion(&as[n], label, item) : lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory");
            if (item) cbor_decref(&item);
        }
        if (st != LC_OK) goto done;
        n++;
    }
    st = hash_data_assertion(c, excl_len, &as[n]);
    if (st != LC_OK) goto done;
    n++;

    /* the claim */
    char sig_url[160];
    snprintf(sig_url, sizeof sig_url, "self#jumbf=/c2pa/%s/c2pa.signature", c->manifest_label);
    cbor_item_t *created = cbor_new_definite_array(n);
    bool ok = created != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        char url[256];
        uint8_t h[32];
        snprintf(url, sizeof url, "self#jumbf=c2pa.assertions/%.207s", as[i].label);
        assertion_hash(&as[i], h);
        ok = lc_cb_push(created, lc_cb_hashed_uri(url, h, false));
    }
    cm = cbor_new_definite_map(6);
    ok = ok && cm && lc_cb_put(cm, "instanceID", lc_cb_text(c->instance_id)) &&
         lc_cb_put(cm, "claim_generator_info", generator_info(c)) && lc_cb_put(cm, "signature", lc_cb_text(sig_url));
    if (ok) {
        ok = lc_cb_put(cm, "created_assertions", created);
        created = NULL;
    }
    ok = ok && lc_cb_put(cm, "dc:title", lc_cb_text(c->title)) && lc_cb_put(cm, "alg", lc_cb_text("sha256")) &&
         lc_cb_serialize(cm, &claim, &claim_len);
    if (created) cbor_decref(&created);
    if (!ok) {
        st = lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory building the claim");
        goto done;
    }
    st = lc_cose_sign1(c->signer, claim, claim_len, &cose, &cose_len);
    if (st != LC_OK) goto done;

    /* store: the old manifests, then the new one (the last manifest is the active one) */
    size_t store_at = lc_jumbf_begin(store, LC_JUMBF_UUID_STORE, "c2pa");
    if (c->parent) lc_sbuf_append(store, c->parent->children, c->parent->children_len);
    size_t man_at = lc_jumbf_begin(store, LC_JUMBF_UUID_MANIFEST, c->manifest_label);
    size_t as_at = lc_jumbf_begin(store, LC_JUMBF_UUID_ASSERTIONS, "c2pa.assertions");
    for (size_t i = 0; i < n; i++) lc_sbuf_append(store, as[i].box.data, as[i].box.len);
    lc_jumbf_end(store, as_at);
    lc_jumbf_single(store, LC_JUMBF_UUID_CLAIM, "c2pa.claim.v2", "cbor", claim, claim_len);
    lc_jumbf_single(store, LC_JUMBF_UUID_SIGNATURE, "c2pa.signature", "cbor", cose, cose_len);
    lc_jumbf_end(store, man_at);
    lc_jumbf_end(store, store_at);
    if (store->failed) st = lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory building the manifest store");
done:
    for (size_t i = 0; i < MAX_ASSERTIONS; i++) lc_sbuf_free(&as[i].box);
    if (cm) cbor_decref(&cm);
    free(claim);
    free(cose);
    return st;
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

lc_status lc_c2pa_sign_memory(const void *data, size_t len, const char *name, const lc_c2pa_sign_options *opt,
                              uint8_t **out, size_t *out_len) {
    if (!out || !out_len || (!data && len)) return lc_error(LC_ERR_ARG, "c2pa sign: NULL argument");
    *out = NULL;
    *out_len = 0;
    if (!name) name = "input";
    if (!opt) return lc_error(LC_ERR_ARG, "c2pa sign: no signing options (certificate and key)");

    lc_asset asset = {0};
    lc_signer signer = {0};
    cJSON *def = NULL;
    lc_sbuf store = {0}, file = {0};
    lc_c2pa_report *parent_report = NULL;
    parent_info parent;
    char dst_url[512];
    build_ctx c = {0};

    lc_status st = lc_asset_prepare(data, len, name, &asset);
    if (st != LC_OK) goto done;
    st = lc_signer_load(opt, &signer);
    if (st != LC_OK) goto done;
    if (opt->manifest_json) {
        def = cJSON_Parse(opt->manifest_json);
        if (!def) {
            st = lc_error(LC_ERR_FORMAT, "manifest definition: invalid JSON near '%.20s'",
                          cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
            goto done;
        }
        st = check_definition(def);
        if (st != LC_OK) goto done;
    }
    const cJSON *def_title = def ? cJSON_GetObjectItemCaseSensitive(def, "title") : NULL;
    const cJSON *def_dst = def ? cJSON_GetObjectItemCaseSensitive(def, "digitalSourceType") : NULL;
    c.title = opt->title ? opt->title : def_title ? def_title->valuestring : base_name(name);
    st = source_type_url(opt->digital_source_type ? opt->digital_source_type
                         : def_dst                ? def_dst->valuestring
                                                  : "digitalCapture",
                         dst_url, sizeof dst_url);
    if (st != LC_OK) goto done;
    c.source_type_url = dst_url;
    c.signer = &signer;
    c.asset = &asset;
    c.def = def;
    c.parent_title = base_name(name);
    if (asset.old_store) {
        st = read_parent(asset.old_store, asset.old_store_len, name, &parent);
        if (st != LC_OK) goto done;
        c.parent = &parent;
        /* the parent's validation, recorded in the ingredient */
        lc_c2pa_options vopt = {.trust_pem_path = opt->trust_pem_path};
        st = lc_c2pa_verify_memory(data, len, name, &vopt, &parent_report);
        if (st != LC_OK) goto done;
        /* c2pa-rs cannot read a store that holds a claim without a usable hash algorithm (and
         * refuses to sign on top of one): carrying it forward would make the output unreadable */
        if (lc_c2pa_report_has_status(parent_report, "algorithm.unsupported")) {
            st = lc_error(LC_ERR_UNSUPPORTED,
                          "%s: the existing manifest %s uses a missing or unsupported algorithm; it cannot become "
                          "the parent ingredient (readers could not read the signed file)",
                          name, parent.label);
            goto done;
        }
        c.parent_report = parent_report;
    }
    char uuid[37];
    if ((st = new_uuid(uuid)) != LC_OK) goto done;
    snprintf(c.manifest_label, sizeof c.manifest_label, "urn:c2pa:%s", uuid);
    if ((st = new_uuid(uuid)) != LC_OK) goto done;
    snprintf(c.instance_id, sizeof c.instance_id, "xmp:iid:%s", uuid);
    sha256(asset.stripped, asset.stripped_len, c.data_hash);

    /* measure with a placeholder exclusion length, then build for real */
    st = build_store(&c, 0xFFFFFFFFu, &store);
    if (st != LC_OK) goto done;
    size_t measured = store.len;
    size_t wrapped = asset.kind == LC_ASSET_JPEG ? lc_jpeg_wrapped_size(measured) : lc_png_wrapped_size(measured);
    if (measured > UINT32_MAX / 2) {
        st = lc_error(LC_ERR_UNSUPPORTED, "%s: manifest store of %zu bytes is too large", name, measured);
        goto done;
    }
    lc_sbuf_free(&store);
    st = build_store(&c, wrapped, &store);
    if (st != LC_OK) goto done;
    if (store.len != measured) {
        st = lc_error(LC_ERR_INTERNAL, "c2pa sign: manifest store changed size (%zu -> %zu bytes)", measured, store.len);
        goto done;
    }

    lc_sbuf_append(&file, asset.stripped, asset.insert_at);
    st = asset.kind == LC_ASSET_JPEG ? lc_jpeg_wrap(store.data, store.len, asset.jpeg_box_instance, &file)
                                     : lc_png_wrap(store.data, store.len, &file);
    if (st != LC_OK) goto done;
    if (file.len != asset.insert_at + wrapped) {
        st = lc_error(LC_ERR_INTERNAL, "c2pa sign: wrapped store of %zu bytes, expected %zu", file.len - asset.insert_at,
                      wrapped);
        goto done;
    }
    lc_sbuf_append(&file, asset.stripped + asset.insert_at, asset.stripped_len - asset.insert_at);
    if (file.failed) {
        st = lc_error(LC_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    *out = file.data;
    *out_len = file.len;
    file = (lc_sbuf){0};
done:
    lc_c2pa_report_free(parent_report);
    lc_sbuf_free(&store);
    lc_sbuf_free(&file);
    cJSON_Delete(def);
    lc_signer_free(&signer);
    lc_asset_free(&asset);
    return st;
}

static lc_status read_whole(const char *path, uint8_t **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return lc_error(LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return lc_error(LC_ERR_IO, "%s: not a regular file", path);
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        return lc_error(LC_ERR_NOMEM, "%s: out of memory for %zu bytes", path, n);
    }
    if (fread(buf, 1, n, f) != n) {
        free(buf);
        fclose(f);
        return lc_error(LC_ERR_IO, "%s: read failed", path);
    }
    fclose(f);
    *data = buf;
    *len = n;
    return LC_OK;
}

lc_status lc_c2pa_sign_file(const char *in_path, const char *out_path, const lc_c2pa_sign_options *opt) {
    if (!in_path || !out_path) return lc_error(LC_ERR_ARG, "c2pa sign: NULL path");
    uint8_t *data = NULL, *signed_data = NULL;
    size_t len = 0, signed_len = 0;
    lc_status st = read_whole(in_path, &data, &len);
    if (st != LC_OK) return st;
    st = lc_c2pa_sign_memory(data, len, in_path, opt, &signed_data, &signed_len);
    free(data);
    if (st != LC_OK) return st;

    /* write next to the destination, then rename: the output is never half-written */
    size_t plen = strlen(out_path);
    char *tmp = malloc(plen + 32);
    uint8_t rnd[8];
    if (!tmp || RAND_bytes(rnd, sizeof rnd) != 1) {
        free(tmp);
        free(signed_data);
        return lc_error(LC_ERR_NOMEM, "%s: out of memory", out_path);
    }
    snprintf(tmp, plen + 32, "%s.tmp%02x%02x%02x%02x%02x%02x%02x%02x", out_path, rnd[0], rnd[1], rnd[2], rnd[3],
             rnd[4], rnd[5], rnd[6], rnd[7]);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        st = lc_error(LC_ERR_IO, "%s: cannot create a temporary file next to it: %s", out_path, strerror(errno));
        goto out;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        st = lc_error(LC_ERR_IO, "%s: cannot write: %s", out_path, strerror(errno));
        goto out;
    }
    bool ok = fwrite(signed_data, 1, signed_len, f) == signed_len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, out_path) != 0) {
        st = lc_error(LC_ERR_IO, "%s: cannot write: %s", out_path, strerror(errno));
        unlink(tmp);
    }
out:
    free(tmp);
    free(signed_data);
    return st;
}
