/*
 * CBOR through libcbor, guarded. libcbor allocates what a header declares (an array of 2^32
 * items) and frees nested items recursively, so hostile input could exhaust memory or the stack.
 * A structural walk first checks well-formedness, nesting depth (C2PA_MAX_CBOR_DEPTH) and that
 * every declared length and item count fits in the bytes that remain; only then does libcbor
 * build the items.
 */
#include "c2pa_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *p, *end;
    const char *err;
} cbor_walk;

/* Read an item head: major type, additional info, argument. */
static bool head(cbor_walk *w, int *major, int *ai, uint64_t *arg) {
    if (w->p >= w->end) {
        w->err = "truncated";
        return false;
    }
    uint8_t b = *w->p++;
    *major = b >> 5;
    *ai = b & 0x1f;
    int n = *ai < 24 ? 0 : *ai == 24 ? 1 : *ai == 25 ? 2 : *ai == 26 ? 4 : *ai == 27 ? 8 : -1;
    if (n < 0) {
        if (*ai == 31) {
            *arg = 0;
            return true;
        }
        w->err = "reserved additional information";
        return false;
    }
    if (n == 0) {
        *arg = (uint64_t)*ai;
        return true;
    }
    if ((size_t)(w->end - w->p) < (size_t)n) {
        w->err = "truncated";
        return false;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | *w->p++;
    *arg = v;
    return true;
}

static bool item(cbor_walk *w, int depth);

static bool items(cbor_walk *w, uint64_t count, int depth) {
    if (count > (uint64_t)(w->end - w->p)) {
        w->err = "declared item count larger than the data";
        return false;
    }
    for (uint64_t i = 0; i < count; i++)
        if (!item(w, depth)) return false;
    return true;
}

static bool is_break(const cbor_walk *w) { return w->p < w->end && *w->p == 0xFF; }

static bool item(cbor_walk *w, int depth) {
    if (depth > C2PA_MAX_CBOR_DEPTH) {
        w->err = "nested too deeply";
        return false;
    }
    int major, ai;
    uint64_t arg;
    if (!head(w, &major, &ai, &arg)) return false;
    switch (major) {
    case 0:
    case 1:
        if (ai == 31) {
            w->err = "indefinite integer";
            return false;
        }
        return true;
    case 2:
    case 3:
        if (ai == 31) { /* chunks of the same major type, definite, until break */
            for (;;) {
                if (is_break(w)) {
                    w->p++;
                    return true;
                }
                int m2, a2;
                uint64_t n2;
                if (!head(w, &m2, &a2, &n2)) return false;
                if (m2 != major || a2 == 31) {
                    w->err = "bad chunk in an indefinite string";
                    return false;
                }
                if (n2 > (uint64_t)(w->end - w->p)) {
                    w->err = "string longer than the data";
                    return false;
                }
                w->p += n2;
            }
        }
        if (arg > (uint64_t)(w->end - w->p)) {
            w->err = "string longer than the data";
            return false;
        }
        w->p += arg;
        return true;
    case 4:
    case 5:
        if (ai == 31) {
            for (;;) {
                if (is_break(w)) {
                    w->p++;
                    return true;
                }
                if (!item(w, depth + 1)) return false;
                if (major == 5 && !item(w, depth + 1)) return false;
            }
        }
        if (major == 5) {
            if (arg > (uint64_t)(w->end - w->p) / 2) {
                w->err = "declared map size larger than the data";
                return false;
            }
            arg *= 2;
        }
        return items(w, arg, depth + 1);
    case 6:
        if (ai == 31) {
            w->err = "indefinite tag";
            return false;
        }
        return item(w, depth + 1);
    default: /* 7: simple values and floats */
        if (ai == 31) {
            w->err = "unexpected break";
            return false;
        }
        if (ai == 24 && arg < 32) {
            w->err = "bad simple value";
            return false;
        }
        return true;
    }
}

lc_status cbor_safe_load(const uint8_t *data, size_t len, const char *what, cbor_item_t **out) {
    *out = NULL;
    cbor_walk w = {data, data + len, NULL};
    if (len == 0) return lc_error(LC_ERR_FORMAT, "%s: empty CBOR", what);
    if (!item(&w, 0))
        return lc_error(LC_ERR_FORMAT, "%s: malformed CBOR (%s at byte %zu)", what, w.err, (size_t)(w.p - data));
    if (w.p != w.end)
        return lc_error(LC_ERR_FORMAT, "%s: %zu bytes after the CBOR item", what, (size_t)(w.end - w.p));
    struct cbor_load_result res;
    cbor_item_t *it = cbor_load(data, len, &res);
    if (!it || res.error.code != CBOR_ERR_NONE) {
        if (it) cbor_decref(&it);
        return lc_error(res.error.code == CBOR_ERR_MEMERROR ? LC_ERR_NOMEM : LC_ERR_FORMAT,
                        "%s: CBOR decoding failed (libcbor error %d at byte %zu)", what, (int)res.error.code,
                        res.error.position);
    }
    *out = it;
    return LC_OK;
}

cbor_item_t *cbor_untag(cbor_item_t *item) {
    /* cbor_tag_item returns a new reference; drop it at once, the tag keeps the item alive. */
    while (item && cbor_isa_tag(item)) {
        cbor_item_t *inner = cbor_tag_item(item), *ref = inner;
        cbor_decref(&ref);
        item = inner;
    }
    return item;
}

/* Text of a (possibly indefinite) text string, malloc'd. */
char *cbor_text_dup(const cbor_item_t *item) {
    if (!item || !cbor_isa_string((cbor_item_t *)item)) return NULL;
    cbor_item_t *it = (cbor_item_t *)item;
    if (cbor_string_is_definite(it))
        return c2pa_strndup((const char *)cbor_string_handle(it), cbor_string_length(it));
    size_t n = cbor_string_chunk_count(it), total = 0;
    cbor_item_t **chunks = cbor_string_chunks_handle(it);
    for (size_t i = 0; i < n; i++) total += cbor_string_length(chunks[i]);
    char *s = malloc(total + 1);
    if (!s) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = cbor_string_length(chunks[i]);
        if (l) memcpy(s + o, cbor_string_handle(chunks[i]), l);
        o += l;
    }
    s[o] = '\0';
    return s;
}

static bool text_equals(cbor_item_t *it, const char *key) {
    if (!cbor_isa_string(it)) return false;
    size_t kl = strlen(key);
    if (cbor_string_is_definite(it))
        return cbor_string_length(it) == kl && (kl == 0 || memcmp(cbor_string_handle(it), key, kl) == 0);
    char *s = cbor_text_dup(it);
    bool eq = s && strcmp(s, key) == 0 && strlen(s) == kl;
    free(s);
    return eq;
}

cbor_item_t *cbor_map_get(const cbor_item_t *map, const char *key) {
    if (!map || !cbor_isa_map((cbor_item_t *)map)) return NULL;
    struct cbor_pair *pairs = cbor_map_handle((cbor_item_t *)map);
    size_t n = cbor_map_size((cbor_item_t *)map);
    for (size_t i = 0; i < n; i++)
        if (text_equals(pairs[i].key, key)) return pairs[i].value;
    return NULL;
}

bool cbor_int_value(const cbor_item_t *item, int64_t *v) {
    if (!item) return false;
    cbor_item_t *it = (cbor_item_t *)item;
    if (cbor_isa_uint(it)) {
        uint64_t u = cbor_get_int(it);
        if (u > (uint64_t)INT64_MAX) return false;
        *v = (int64_t)u;
        return true;
    }
    if (cbor_isa_negint(it)) {
        uint64_t u = cbor_get_int(it);
        if (u > (uint64_t)INT64_MAX) return false;
        *v = -1 - (int64_t)u;
        return true;
    }
    return false;
}

cbor_item_t *cbor_map_get_int(const cbor_item_t *map, int64_t key) {
    if (!map || !cbor_isa_map((cbor_item_t *)map)) return NULL;
    struct cbor_pair *pairs = cbor_map_handle((cbor_item_t *)map);
    size_t n = cbor_map_size((cbor_item_t *)map);
    for (size_t i = 0; i < n; i++) {
        int64_t k;
        if (cbor_int_value(pairs[i].key, &k) && k == key) return pairs[i].value;
    }
    return NULL;
}

const uint8_t *cbor_bytes(const cbor_item_t *item, size_t *len) {
    if (!item || !cbor_isa_bytestring((cbor_item_t *)item) || !cbor_bytestring_is_definite((cbor_item_t *)item))
        return NULL;
    *len = cbor_bytestring_length((cbor_item_t *)item);
    return cbor_bytestring_handle((cbor_item_t *)item);
}
