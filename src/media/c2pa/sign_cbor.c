/*
 * CBOR building for signing, on libcbor: shortest integer encodings (C2PA asks for deterministic
 * CBOR where it can), reference-safe map/array insertion, hashed URIs, JSON -> CBOR.
 */
#include "sign_internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

cbor_item_t *lc_cb_uint(uint64_t v) {
    if (v <= UINT8_MAX) return cbor_build_uint8((uint8_t)v);
    if (v <= UINT16_MAX) return cbor_build_uint16((uint16_t)v);
    if (v <= UINT32_MAX) return cbor_build_uint32((uint32_t)v);
    return cbor_build_uint64(v);
}

cbor_item_t *lc_cb_int(int64_t v) {
    if (v >= 0) return lc_cb_uint((uint64_t)v);
    uint64_t n = (uint64_t)(-(v + 1)); /* CBOR negative integers store -1 - v */
    if (n <= UINT8_MAX) return cbor_build_negint8((uint8_t)n);
    if (n <= UINT16_MAX) return cbor_build_negint16((uint16_t)n);
    if (n <= UINT32_MAX) return cbor_build_negint32((uint32_t)n);
    return cbor_build_negint64(n);
}

cbor_item_t *lc_cb_text(const char *s) { return s ? cbor_build_stringn(s, strlen(s)) : NULL; }

cbor_item_t *lc_cb_bytes(const void *data, size_t n) {
    /* libcbor wants a non-NULL handle even for an empty string */
    static const uint8_t empty[1] = {0};
    return cbor_build_bytestring(n ? (cbor_data)data : empty, n);
}

bool lc_cb_put(cbor_item_t *map, const char *key, cbor_item_t *val) {
    cbor_item_t *k = lc_cb_text(key);
    bool ok = map && k && val && cbor_map_add(map, (struct cbor_pair){.key = k, .value = val});
    if (k) cbor_decref(&k);
    if (val) cbor_decref(&val);
    return ok;
}

bool lc_cb_push(cbor_item_t *array, cbor_item_t *val) {
    bool ok = array && val && cbor_array_push(array, val);
    if (val) cbor_decref(&val);
    return ok;
}

cbor_item_t *lc_cb_hashed_uri(const char *url, const uint8_t hash[32], bool with_alg) {
    cbor_item_t *m = cbor_new_definite_map(3);
    bool ok = m && lc_cb_put(m, "url", lc_cb_text(url));
    if (ok && with_alg) ok = lc_cb_put(m, "alg", lc_cb_text("sha256"));
    ok = ok && lc_cb_put(m, "hash", lc_cb_bytes(hash, 32));
    if (!ok && m) cbor_decref(&m);
    return ok ? m : NULL;
}

bool lc_cb_serialize(const cbor_item_t *item, uint8_t **out, size_t *out_len) {
    unsigned char *buf = NULL;
    size_t cap = 0;
    if (!item) return false;
    size_t n = cbor_serialize_alloc(item, &buf, &cap);
    if (n == 0) {
        free(buf);
        return false;
    }
    *out = buf;
    *out_len = n;
    return true;
}

cbor_item_t *lc_cb_from_json(const cJSON *j) {
    if (!j) return NULL;
    if (cJSON_IsObject(j)) {
        /* room for a few keys locus adds (an action's digitalSourceType, softwareAgent,
         * parameters); libcbor writes the number of pairs actually present */
        cbor_item_t *m = cbor_new_definite_map((size_t)cJSON_GetArraySize(j) + 4);
        if (!m) return NULL;
        for (const cJSON *c = j->child; c; c = c->next) {
            if (!c->string || !lc_cb_put(m, c->string, lc_cb_from_json(c))) {
                cbor_decref(&m);
                return NULL;
            }
        }
        return m;
    }
    if (cJSON_IsArray(j)) {
        cbor_item_t *a = cbor_new_definite_array((size_t)cJSON_GetArraySize(j));
        if (!a) return NULL;
        for (const cJSON *c = j->child; c; c = c->next) {
            if (!lc_cb_push(a, lc_cb_from_json(c))) {
                cbor_decref(&a);
                return NULL;
            }
        }
        return a;
    }
    if (cJSON_IsString(j)) return lc_cb_text(j->valuestring);
    if (cJSON_IsBool(j)) return cbor_build_bool(cJSON_IsTrue(j));
    if (cJSON_IsNull(j)) return cbor_new_null();
    if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        /* integral values within 2^53 as integers (NaN and infinities fail the range test) */
        if (d > -9007199254740992.0 && d < 9007199254740992.0 && (double)(int64_t)d == d) return lc_cb_int((int64_t)d);
        return cbor_build_float8(d);
    }
    return NULL;
}
