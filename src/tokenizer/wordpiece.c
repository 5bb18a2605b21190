/* WordPiece: greedy longest match first, the continuing-subword prefix ("##") on continuations, the
 * whole word as the unknown token when a part has no match or the word is too long. */
#include "json_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lc_status nomem(const char *path) { return lc_error(LC_ERR_NOMEM, "%s: out of memory", path ? path : "tokenizer"); }

lc_status tk_wordpiece_parse(const char *path, const cJSON *j, tk_model *m) {
    lc_status st = tk_vocab_from_object(path, "WordPiece", cJSON_GetObjectItemCaseSensitive(j, "vocab"), m);
    if (st) return st;
    const char *prefix;
    if ((st = tkj_str(path, "WordPiece", j, "continuing_subword_prefix", &prefix))) return st;
    if (!prefix) prefix = "##";
    if (!(m->prefix = tk_strndup(prefix, strlen(prefix)))) return nomem(path);
    m->prefix_len = strlen(prefix);
    if ((st = tkj_uint(path, "WordPiece", j, "max_input_chars_per_word", 1e15, 100, &m->max_input_chars_per_word)))
        return st;
    if ((st = tk_parse_unk(path, "WordPiece", j, m))) return st;
    if (!m->unk_token && !(m->unk_token = tk_strndup("[UNK]", 5))) return nomem(path);
    if (m->unk_id < 0) m->unk_id = tk_map_get(&m->vocab, m->unk_token, strlen(m->unk_token));
    return LC_OK;
}

lc_status tk_wordpiece_tokenize(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w) {
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) chars += ((unsigned char)s[i] & 0xc0) != 0x80;
    if (chars > m->max_input_chars_per_word) {
        if (m->unk_id < 0) return tk_missing_unk(m);
        return tk_ids_push(out, m->unk_id) ? LC_OK : nomem(NULL);
    }
    /* buf = [room for the prefix][word]; the prefix is written just before each continuation */
    tk_buf *b = &w->tmp2;
    b->len = 0;
    if (!tk_buf_reserve(b, m->prefix_len + n)) return nomem(NULL);
    memcpy(b->p + m->prefix_len, s, n);
    char *word = b->p + m->prefix_len;
    size_t first = out->n, start = 0;
    while (start < n) {
        size_t end = n;
        int32_t id = -1;
        if (start > 0) memcpy(word + start - m->prefix_len, m->prefix, m->prefix_len);
        const char *key = start > 0 ? word + start - m->prefix_len : word;
        size_t extra = start > 0 ? m->prefix_len : 0;
        while (start < end) {
            id = tk_map_get(&m->vocab, key, extra + (end - start));
            if (id >= 0) break;
            end--;
            while (end > start && ((unsigned char)s[end] & 0xc0) == 0x80) end--;
        }
        if (id < 0) {
            out->n = first;
            if (m->unk_id < 0) return tk_missing_unk(m);
            return tk_ids_push(out, m->unk_id) ? LC_OK : nomem(NULL);
        }
        if (!tk_ids_push(out, id)) return nomem(NULL);
        start = end;
    }
    return LC_OK;
}
