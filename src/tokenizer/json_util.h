/* Small typed accessors over cJSON for reading tokenizer.json: a field of the wrong type is a
 * format error naming the file, the component and the field. */
#ifndef LOCUS_TOKENIZER_JSON_UTIL_H
#define LOCUS_TOKENIZER_JSON_UTIL_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

/* Optional boolean (null or absent: def). */
static inline lc_status tkj_bool(const char *path, const char *what, const cJSON *o, const char *key, bool def,
                                 bool *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return LC_OK;
    }
    if (!cJSON_IsBool(v)) return lc_error(LC_ERR_FORMAT, "%s: %s: \"%s\" is not a boolean", path, what, key);
    *out = cJSON_IsTrue(v);
    return LC_OK;
}

/* Optional string (null or absent: NULL). */
static inline lc_status tkj_str(const char *path, const char *what, const cJSON *o, const char *key,
                                const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return LC_OK;
    if (!cJSON_IsString(v) || !v->valuestring)
        return lc_error(LC_ERR_FORMAT, "%s: %s: \"%s\" is not a string", path, what, key);
    if (!tk_utf8_valid(v->valuestring, strlen(v->valuestring)))
        return lc_error(LC_ERR_FORMAT, "%s: %s: \"%s\" is not valid UTF-8", path, what, key);
    *out = v->valuestring;
    return LC_OK;
}

/* Optional non-negative integer (null or absent: def). */
static inline lc_status tkj_uint(const char *path, const char *what, const cJSON *o, const char *key, double max,
                                 size_t def, size_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return LC_OK;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > max ||
        v->valuedouble != floor(v->valuedouble))
        return lc_error(LC_ERR_FORMAT, "%s: %s: \"%s\" is not an integer in [0, %.0f]", path, what, key, max);
    *out = (size_t)v->valuedouble;
    return LC_OK;
}

static inline char *tk_strndup(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* The models (models.c dispatches; wordpiece.c, bpe.c, unigram.c). */
lc_status tk_vocab_from_object(const char *path, const char *what, const cJSON *v, tk_model *m);
void tk_fill_byte_ids(tk_model *m); /* <0xXX> tokens for byte fallback */
lc_status tk_parse_unk(const char *path, const char *what, const cJSON *j, tk_model *m);
lc_status tk_missing_unk(const tk_model *m);
bool tk_bpe_cache_new(tk_model *m);           /* bpe.c: the word cache */
void tk_bpe_cache_free(struct tk_bpe_cache *c);
lc_status tk_wordpiece_parse(const char *path, const cJSON *j, tk_model *m);
lc_status tk_bpe_parse(const char *path, const cJSON *j, tk_model *m);
lc_status tk_unigram_parse(const char *path, const cJSON *j, tk_model *m);
lc_status tk_wordpiece_tokenize(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w);
lc_status tk_bpe_tokenize(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w);
lc_status tk_unigram_tokenize(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w);

#endif
