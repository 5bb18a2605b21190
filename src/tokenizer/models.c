/* Models of tokenizer.json: the common parts (vocabulary, unknown token, byte-fallback ids), WordLevel,
 * and the dispatch to WordPiece (wordpiece.c), BPE (bpe.c) and Unigram (unigram.c). Each model follows
 * the corresponding model of Hugging Face `tokenizers` step by step, including the order in which ties
 * are broken, so the ids are the same. */
#include "json_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lc_status nomem(const char *path) { return lc_error(LC_ERR_NOMEM, "%s: out of memory", path ? path : "tokenizer"); }

/* ---------------------------------------------------------------------------------------------- */
/* Vocabulary loading                                                                               */
/* ---------------------------------------------------------------------------------------------- */
lc_status tk_vocab_from_object(const char *path, const char *what, const cJSON *v, tk_model *m) {
    if (!cJSON_IsObject(v)) return lc_error(LC_ERR_FORMAT, "%s: %s: \"vocab\" is missing or not an object", path, what);
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!e->string || !cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 2147483647.0 ||
            e->valuedouble != (double)(int32_t)e->valuedouble)
            return lc_error(LC_ERR_FORMAT, "%s: %s: vocab entry '%.40s' has no valid id", path, what,
                            e->string ? e->string : "");
        size_t len = strlen(e->string);
        if (!tk_utf8_valid(e->string, len))
            return lc_error(LC_ERR_FORMAT, "%s: %s: a vocab token is not valid UTF-8", path, what);
        if (!tk_map_put(&m->vocab, e->string, len, (int32_t)e->valuedouble)) return nomem(path);
    }
    m->vocab_size = m->vocab.n;
    return LC_OK;
}

void tk_fill_byte_ids(tk_model *m) {
    const char *fmt = "<0x%02X>";
    for (int b = 0; b < 256; b++) {
        char tok[16];
        snprintf(tok, sizeof tok, fmt, b);
        m->byte_ids[b] = tk_map_get(&m->vocab, tok, strlen(tok));
    }
}

lc_status tk_parse_unk(const char *path, const char *what, const cJSON *j, tk_model *m) {
    const char *unk;
    lc_status st = tkj_str(path, what, j, "unk_token", &unk);
    if (st) return st;
    m->unk_id = -1;
    if (unk) {
        if (!(m->unk_token = tk_strndup(unk, strlen(unk)))) return nomem(path);
        m->unk_id = tk_map_get(&m->vocab, unk, strlen(unk));
    }
    return LC_OK;
}

static lc_status parse_wordlevel(const char *path, const cJSON *j, tk_model *m) {
    lc_status st = tk_vocab_from_object(path, "WordLevel", cJSON_GetObjectItemCaseSensitive(j, "vocab"), m);
    if (st) return st;
    return tk_parse_unk(path, "WordLevel", j, m);
}


lc_status tk_model_parse(const char *path, const void *json, tk_model *m) {
    const cJSON *j = json;
    memset(m, 0, sizeof *m);
    m->unk_id = -1;
    for (int b = 0; b < 256; b++) m->byte_ids[b] = -1;
    if (!cJSON_IsObject(j)) return lc_error(LC_ERR_FORMAT, "%s: \"model\" is missing or not an object", path);
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
    const char *type = cJSON_IsString(ty) ? ty->valuestring : NULL;
    if (!type) { /* legacy files without a tag: recognise the model by its fields */
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "vocab");
        if (cJSON_GetObjectItemCaseSensitive(j, "merges")) type = "BPE";
        else if (cJSON_IsArray(v)) type = "Unigram";
        else if (cJSON_GetObjectItemCaseSensitive(j, "max_input_chars_per_word")) type = "WordPiece";
        else if (cJSON_IsObject(v)) type = "WordLevel";
        else return lc_error(LC_ERR_FORMAT, "%s: the model has no \"type\" and is not recognisable", path);
    }
    if (strcmp(type, "WordPiece") == 0) {
        m->kind = TK_M_WORDPIECE;
        return tk_wordpiece_parse(path, j, m);
    }
    if (strcmp(type, "BPE") == 0) {
        m->kind = TK_M_BPE;
        lc_status st = tk_bpe_parse(path, j, m);
        if (!st && !tk_bpe_cache_new(m)) st = lc_error(LC_ERR_NOMEM, "%s: out of memory", path);
        return st;
    }
    if (strcmp(type, "Unigram") == 0) {
        m->kind = TK_M_UNIGRAM;
        return tk_unigram_parse(path, j, m);
    }
    if (strcmp(type, "WordLevel") == 0) {
        m->kind = TK_M_WORDLEVEL;
        return parse_wordlevel(path, j, m);
    }
    return lc_error(LC_ERR_UNSUPPORTED, "%s: model type '%s' is not supported", path, type);
}

void tk_model_free(tk_model *m) {
    tk_bpe_cache_free(m->cache);
    tk_map_free(&m->vocab);
    free(m->unk_token);
    free(m->prefix);
    free(m->suffix);
    free(m->merges);
    free(m->char_ids);
    free(m->scores);
    tk_trie_free(m->trie);
    memset(m, 0, sizeof *m);
}

int32_t tk_model_token_to_id(const tk_model *m, const char *s, size_t n) { return tk_map_get(&m->vocab, s, n); }

lc_status tk_missing_unk(const tk_model *m) {
    return lc_error(LC_ERR_FORMAT, "tokenizer: the unknown token '%s' is not in the vocabulary",
                    m->unk_token ? m->unk_token : "(none)");
}

static lc_status wordlevel(const tk_model *m, const char *s, size_t n, tk_ids *out) {
    int32_t id = tk_map_get(&m->vocab, s, n);
    if (id < 0) id = m->unk_id;
    if (id < 0) return tk_missing_unk(m);
    return tk_ids_push(out, id) ? LC_OK : nomem(NULL);
}

lc_status tk_model_tokenize(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w) {
    if (n == 0) return LC_OK;
    switch (m->kind) {
    case TK_M_WORDPIECE: return tk_wordpiece_tokenize(m, s, n, out, w);
    case TK_M_BPE: return tk_bpe_tokenize(m, s, n, out, w);
    case TK_M_UNIGRAM: return tk_unigram_tokenize(m, s, n, out, w);
    case TK_M_WORDLEVEL: return wordlevel(m, s, n, out);
    }
    return LC_OK;
}
