/* Models of tokenizer.json: WordPiece, BPE (merges as "a b" strings or [a, b] pairs,
 * continuing_subword_prefix, end_of_word_suffix, ignore_merges, byte_fallback, fuse_unk), Unigram
 * (Viterbi over the vocabulary's scores, unk penalty, byte_fallback) and WordLevel.
 *
 * Each follows the corresponding model of Hugging Face `tokenizers` step by step, including the
 * order in which ties are broken, so the ids are the same. */
#include "json_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lc_status nomem(const char *path) { return lc_error(LC_ERR_NOMEM, "%s: out of memory", path ? path : "tokenizer"); }

#define UNIGRAM_UNK_PENALTY 10.0

/* ---------------------------------------------------------------------------------------------- */
/* Merges: (left id, right id) -> (rank, new id)                                                   */
/* ---------------------------------------------------------------------------------------------- */
static inline uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }
static inline size_t pair_hash(uint64_t k) { return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 20); }

static const tk_merge_entry *merge_get(const tk_model *m, int32_t a, int32_t b) {
    if (!m->merges) return NULL;
    uint64_t k = pair_key(a, b);
    size_t j = pair_hash(k) & m->merges_mask;
    for (;;) {
        const tk_merge_entry *e = &m->merges[j];
        if (e->key == k) return e;
        if (e->key == UINT64_MAX) return NULL;
        j = (j + 1) & m->merges_mask;
    }
}

static void merge_put(tk_model *m, int32_t a, int32_t b, uint32_t rank, int32_t new_id) {
    uint64_t k = pair_key(a, b);
    size_t j = pair_hash(k) & m->merges_mask;
    while (m->merges[j].key != UINT64_MAX && m->merges[j].key != k) j = (j + 1) & m->merges_mask;
    m->merges[j] = (tk_merge_entry){k, rank, new_id}; /* a later duplicate wins, as in a HashMap */
}

/* ---------------------------------------------------------------------------------------------- */
/* Vocabulary loading                                                                               */
/* ---------------------------------------------------------------------------------------------- */
static lc_status vocab_from_object(const char *path, const char *what, const cJSON *v, tk_model *m) {
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

static void fill_byte_ids(tk_model *m, const char *fmt) {
    for (int b = 0; b < 256; b++) {
        char tok[16];
        snprintf(tok, sizeof tok, fmt, b);
        m->byte_ids[b] = tk_map_get(&m->vocab, tok, strlen(tok));
    }
}

static lc_status parse_unk(const char *path, const char *what, const cJSON *j, tk_model *m) {
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

static lc_status parse_wordpiece(const char *path, const cJSON *j, tk_model *m) {
    lc_status st = vocab_from_object(path, "WordPiece", cJSON_GetObjectItemCaseSensitive(j, "vocab"), m);
    if (st) return st;
    const char *prefix;
    if ((st = tkj_str(path, "WordPiece", j, "continuing_subword_prefix", &prefix))) return st;
    if (!prefix) prefix = "##";
    if (!(m->prefix = tk_strndup(prefix, strlen(prefix)))) return nomem(path);
    m->prefix_len = strlen(prefix);
    if ((st = tkj_uint(path, "WordPiece", j, "max_input_chars_per_word", 1e15, 100, &m->max_input_chars_per_word)))
        return st;
    if ((st = parse_unk(path, "WordPiece", j, m))) return st;
    if (!m->unk_token && !(m->unk_token = tk_strndup("[UNK]", 5))) return nomem(path);
    if (m->unk_id < 0) m->unk_id = tk_map_get(&m->vocab, m->unk_token, strlen(m->unk_token));
    return LC_OK;
}

static lc_status parse_wordlevel(const char *path, const cJSON *j, tk_model *m) {
    lc_status st = vocab_from_object(path, "WordLevel", cJSON_GetObjectItemCaseSensitive(j, "vocab"), m);
    if (st) return st;
    return parse_unk(path, "WordLevel", j, m);
}

static lc_status parse_bpe(const char *path, const cJSON *j, tk_model *m) {
    const char *what = "BPE";
    lc_status st = vocab_from_object(path, what, cJSON_GetObjectItemCaseSensitive(j, "vocab"), m);
    if (st) return st;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "dropout");
    if (d && !cJSON_IsNull(d)) {
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 1)
            return lc_error(LC_ERR_FORMAT, "%s: BPE: \"dropout\" must be a number in [0, 1]", path);
        if (d->valuedouble > 0)
            return lc_error(LC_ERR_UNSUPPORTED, "%s: BPE dropout %g is random; locus only encodes deterministically",
                            path, d->valuedouble);
    }
    const char *prefix, *suffix;
    if ((st = tkj_str(path, what, j, "continuing_subword_prefix", &prefix)) ||
        (st = tkj_str(path, what, j, "end_of_word_suffix", &suffix)) ||
        (st = tkj_bool(path, what, j, "fuse_unk", false, &m->fuse_unk)) ||
        (st = tkj_bool(path, what, j, "byte_fallback", false, &m->byte_fallback)) ||
        (st = tkj_bool(path, what, j, "ignore_merges", false, &m->ignore_merges)) || (st = parse_unk(path, what, j, m)))
        return st;
    if (prefix) {
        if (!(m->prefix = tk_strndup(prefix, strlen(prefix)))) return nomem(path);
        m->prefix_len = strlen(prefix);
    }
    if (suffix) {
        if (!(m->suffix = tk_strndup(suffix, strlen(suffix)))) return nomem(path);
        m->suffix_len = strlen(suffix);
    }
    fill_byte_ids(m, "<0x%02X>");

    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(j, "merges");
    if (!cJSON_IsArray(merges)) return lc_error(LC_ERR_FORMAT, "%s: BPE: \"merges\" is missing or not a list", path);
    size_t n = (size_t)cJSON_GetArraySize(merges), slots = 16;
    while (slots < n * 2 + 2) slots *= 2;
    m->merges = malloc(slots * sizeof *m->merges);
    if (!m->merges) return nomem(path);
    for (size_t i = 0; i < slots; i++) m->merges[i].key = UINT64_MAX;
    m->merges_mask = slots - 1;
    tk_buf tmp = {0};
    uint32_t rank = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, merges) {
        const char *a, *b;
        size_t al, bl;
        if (cJSON_IsString(e) && e->valuestring) {
            /* legacy "a b": exactly one space */
            const char *s = e->valuestring, *sp = strchr(s, ' ');
            if (strncmp(s, "#version", 8) == 0) continue;
            if (!sp || strchr(sp + 1, ' ')) {
                tk_buf_free(&tmp);
                return lc_error(LC_ERR_FORMAT, "%s: BPE: merge %u ('%.40s') is not two tokens separated by one space",
                                path, rank + 1, s);
            }
            a = s;
            al = (size_t)(sp - s);
            b = sp + 1;
            bl = strlen(b);
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(cJSON_GetArrayItem(e, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(e, 1))) {
            a = cJSON_GetArrayItem(e, 0)->valuestring;
            b = cJSON_GetArrayItem(e, 1)->valuestring;
            al = strlen(a);
            bl = strlen(b);
        } else {
            tk_buf_free(&tmp);
            return lc_error(LC_ERR_FORMAT, "%s: BPE: merge %u is neither \"a b\" nor [\"a\", \"b\"]", path, rank + 1);
        }
        int32_t ia = tk_map_get(&m->vocab, a, al), ib = tk_map_get(&m->vocab, b, bl);
        if (ia < 0 || ib < 0) {
            tk_buf_free(&tmp);
            return lc_error(LC_ERR_FORMAT, "%s: BPE: merge %u uses token '%.*s' that is not in the vocabulary", path,
                            rank + 1, (int)(ia < 0 ? (al > 40 ? 40 : al) : (bl > 40 ? 40 : bl)), ia < 0 ? a : b);
        }
        if (bl < m->prefix_len) {
            tk_buf_free(&tmp);
            return lc_error(LC_ERR_FORMAT, "%s: BPE: merge %u: '%.40s' is shorter than the subword prefix", path, rank + 1, b);
        }
        tmp.len = 0;
        if (!tk_buf_append(&tmp, a, al) || !tk_buf_append(&tmp, b + m->prefix_len, bl - m->prefix_len)) {
            tk_buf_free(&tmp);
            return nomem(path);
        }
        int32_t inew = tk_map_get(&m->vocab, tmp.p, tmp.len);
        if (inew < 0) {
            int l = (int)(tmp.len > 40 ? 40 : tmp.len);
            lc_status r = lc_error(LC_ERR_FORMAT, "%s: BPE: merge %u makes '%.*s' that is not in the vocabulary", path,
                                   rank + 1, l, tmp.p);
            tk_buf_free(&tmp);
            return r;
        }
        merge_put(m, ia, ib, rank, inew);
        rank++;
    }
    tk_buf_free(&tmp);
    /* single-character ids for code points below U+0800 (every ByteLevel character) */
    m->char_ids = malloc(0x800 * sizeof *m->char_ids);
    if (!m->char_ids) return nomem(path);
    for (uint32_t cp = 0; cp < 0x800; cp++) {
        char s[2];
        size_t l = 1;
        if (cp < 0x80) s[0] = (char)cp;
        else {
            s[0] = (char)(0xc0 | (cp >> 6));
            s[1] = (char)(0x80 | (cp & 0x3f));
            l = 2;
        }
        m->char_ids[cp] = tk_map_get(&m->vocab, s, l);
    }
    return LC_OK;
}

/* The score as tokenizers holds it. serde_json (without its float_roundtrip feature) reads a number
 * as significand / 10^k in f64 arithmetic, which can be one unit in the last place away from the
 * correctly rounded value cJSON gives; Viterbi ties then break differently. The file's text is the
 * shortest round-trip form of the value (serde_json and Python write that), so the digits are
 * recovered from the double and read again the way serde_json reads them. */
static double serde_json_f64(double v) {
    if (v == 0 || v != v || v - v != 0) return v;
    char buf[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (prec > 17) return v;
    /* buf: [-]d.ddddde[+-]xx */
    bool neg = buf[0] == '-';
    const char *p = buf + neg;
    uint64_t sig = 0;
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') {
            sig = sig * 10 + (uint64_t)(*p - '0');
            nd++;
        }
    int exp10 = *p == 'e' ? atoi(p + 1) : 0;
    int exponent = exp10 - (nd - 1);
    double f = (double)sig;
    for (;;) {
        int a = exponent < 0 ? -exponent : exponent;
        if (a <= 308) {
            char pw[16];
            snprintf(pw, sizeof pw, "1e%d", a);
            double pow10 = strtod(pw, NULL);
            if (exponent >= 0) f *= pow10;
            else f /= pow10;
            break;
        }
        if (f == 0) break;
        if (exponent >= 0) return v;
        f /= 1e308;
        exponent += 308;
    }
    return neg ? -f : f;
}

static lc_status parse_unigram(const char *path, const cJSON *j, tk_model *m) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "vocab");
    if (!cJSON_IsArray(v)) return lc_error(LC_ERR_FORMAT, "%s: Unigram: \"vocab\" is missing or not a list", path);
    size_t n = (size_t)cJSON_GetArraySize(v);
    m->scores = malloc((n ? n : 1) * sizeof *m->scores);
    m->trie = tk_trie_new();
    if (!m->scores || !m->trie) return nomem(path);
    m->min_score = 1e300 * 10; /* +inf */
    size_t id = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        const cJSON *t = cJSON_GetArrayItem(e, 0), *s = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsString(t) || !cJSON_IsNumber(s))
            return lc_error(LC_ERR_FORMAT, "%s: Unigram: vocab entry %zu is not [\"piece\", score]", path, id);
        size_t len = strlen(t->valuestring);
        if (!tk_utf8_valid(t->valuestring, len))
            return lc_error(LC_ERR_FORMAT, "%s: Unigram: vocab entry %zu is not valid UTF-8", path, id);
        if (id > 2147483646u) return lc_error(LC_ERR_FORMAT, "%s: Unigram: vocabulary too large", path);
        if (!tk_map_put(&m->vocab, t->valuestring, len, (int32_t)id)) return nomem(path);
        if (len > 0 && !tk_trie_insert(m->trie, t->valuestring, len, (int32_t)id)) return nomem(path);
        double score = serde_json_f64(s->valuedouble);
        m->scores[id] = score;
        if (score < m->min_score) m->min_score = score;
        id++;
    }
    m->n_pieces = n;
    m->vocab_size = n;
    if (!tk_trie_build(m->trie)) return nomem(path);
    m->unk_id = -1;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "unk_id");
    if (u && !cJSON_IsNull(u)) {
        if (!cJSON_IsNumber(u) || u->valuedouble < 0 || u->valuedouble != (double)(int64_t)u->valuedouble)
            return lc_error(LC_ERR_FORMAT, "%s: Unigram: \"unk_id\" is not an id", path);
        if (n == 0) return lc_error(LC_ERR_FORMAT, "%s: Unigram: the vocabulary is empty", path);
        if (u->valuedouble >= (double)n) return lc_error(LC_ERR_FORMAT, "%s: Unigram: unk_id is not in the vocabulary", path);
        m->unk_id = (int32_t)u->valuedouble;
    }
    lc_status st = tkj_bool(path, "Unigram", j, "byte_fallback", false, &m->byte_fallback);
    if (st) return st;
    fill_byte_ids(m, "<0x%02X>");
    return LC_OK;
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
        return parse_wordpiece(path, j, m);
    }
    if (strcmp(type, "BPE") == 0) {
        m->kind = TK_M_BPE;
        return parse_bpe(path, j, m);
    }
    if (strcmp(type, "Unigram") == 0) {
        m->kind = TK_M_UNIGRAM;
        return parse_unigram(path, j, m);
    }
    if (strcmp(type, "WordLevel") == 0) {
        m->kind = TK_M_WORDLEVEL;
        return parse_wordlevel(path, j, m);
    }
    return lc_error(LC_ERR_UNSUPPORTED, "%s: model type '%s' is not supported", path, type);
}

void tk_model_free(tk_model *m) {
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

static lc_status missing_unk(const tk_model *m) {
    return lc_error(LC_ERR_FORMAT, "tokenizer: the unknown token '%s' is not in the vocabulary",
                    m->unk_token ? m->unk_token : "(none)");
}

/* ---------------------------------------------------------------------------------------------- */
/* WordPiece: greedy longest match first, "##" on continuations, the whole word unk on failure      */
/* ---------------------------------------------------------------------------------------------- */
static lc_status wordpiece(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w) {
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) chars += ((unsigned char)s[i] & 0xc0) != 0x80;
    if (chars > m->max_input_chars_per_word) {
        if (m->unk_id < 0) return missing_unk(m);
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
            if (m->unk_id < 0) return missing_unk(m);
            return tk_ids_push(out, m->unk_id) ? LC_OK : nomem(NULL);
        }
        if (!tk_ids_push(out, id)) return nomem(NULL);
        start = end;
    }
    return LC_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* BPE                                                                                              */
/* ---------------------------------------------------------------------------------------------- */
typedef struct bpe_sym {
    int32_t id, prev, next;
    uint32_t len;
} bpe_sym;

typedef struct bpe_merge {
    uint32_t rank, pos;
    int32_t new_id;
} bpe_merge;

static inline bool merge_less(const bpe_merge *a, const bpe_merge *b) {
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void heap_push(bpe_merge *h, size_t *n, bpe_merge x) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!merge_less(&x, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static bpe_merge heap_pop(bpe_merge *h, size_t *n) {
    bpe_merge top = h[0], x = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && merge_less(&h[c + 1], &h[c])) c++;
        if (!merge_less(&h[c], &x)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = x;
    return top;
}

static bool sym_push(tk_work *w, size_t *n, int32_t id, uint32_t len) {
    if (*n == w->sym_cap) {
        size_t cap = w->sym_cap ? w->sym_cap * 2 : 256;
        bpe_sym *v = realloc(w->sym, cap * sizeof *v);
        if (!v) return false;
        w->sym = v;
        w->sym_cap = cap;
    }
    bpe_sym *v = w->sym;
    v[*n] = (bpe_sym){id, (int32_t)*n - 1, (int32_t)*n + 1, len};
    (*n)++;
    return true;
}

static lc_status bpe(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w) {
    if (m->ignore_merges) {
        int32_t id = tk_map_get(&m->vocab, s, n);
        if (id >= 0) return tk_ids_push(out, id) ? LC_OK : nomem(NULL);
    }
    size_t ns = 0;
    int32_t unk_id = -1;
    uint32_t unk_len = 0;
    bool have_unk = false;
    tk_buf *key = &w->tmp2;
    for (size_t i = 0; i < n;) {
        size_t l;
        uint32_t cp = tk_utf8_decode((const unsigned char *)s + i, n - i, &l);
        bool first = i == 0, last = i + l == n;
        int32_t id;
        const char *k = s + i;
        size_t kl = l;
        if ((first || !m->prefix) && (!last || !m->suffix) && cp < 0x800) {
            id = m->char_ids[cp];
        } else {
            key->len = 0;
            if (!first && m->prefix && !tk_buf_append(key, m->prefix, m->prefix_len)) return nomem(NULL);
            if (!tk_buf_append(key, s + i, l)) return nomem(NULL);
            if (last && m->suffix && !tk_buf_append(key, m->suffix, m->suffix_len)) return nomem(NULL);
            k = key->p;
            kl = key->len;
            id = tk_map_get(&m->vocab, k, kl);
        }
        if (id >= 0) {
            if (have_unk) {
                if (!sym_push(w, &ns, unk_id, unk_len)) return nomem(NULL);
                have_unk = false;
            }
            if (!sym_push(w, &ns, id, (uint32_t)l)) return nomem(NULL);
        } else {
            bool done = false;
            if (m->byte_fallback) {
                bool all = true;
                for (size_t b = 0; b < kl; b++)
                    if (m->byte_ids[(unsigned char)k[b]] < 0) { all = false; break; }
                if (all) {
                    for (size_t b = 0; b < kl; b++)
                        if (!sym_push(w, &ns, m->byte_ids[(unsigned char)k[b]], 1)) return nomem(NULL);
                    done = true;
                }
            }
            if (!done && m->unk_token) {
                if (have_unk && m->fuse_unk) {
                    unk_len += (uint32_t)l;
                } else {
                    if (have_unk && !sym_push(w, &ns, unk_id, unk_len)) return nomem(NULL);
                    if (m->unk_id < 0) return missing_unk(m);
                    unk_id = m->unk_id;
                    unk_len = (uint32_t)l;
                    have_unk = true;
                }
            }
        }
        i += l;
    }
    if (have_unk && !sym_push(w, &ns, unk_id, unk_len)) return nomem(NULL);
    if (ns == 0) return LC_OK;
    bpe_sym *sym = w->sym;
    sym[ns - 1].next = -1;
    /* merge queue: lowest rank first, then leftmost; at most 3 pushes per symbol in all */
    if (w->heap_cap < ns * 3 + 4) {
        size_t cap = ns * 3 + 4;
        void *h = realloc(w->heap, cap * sizeof(bpe_merge));
        if (!h) return nomem(NULL);
        w->heap = h;
        w->heap_cap = cap;
    }
    bpe_merge *heap = w->heap;
    size_t hn = 0;
    for (size_t i = 0; i + 1 < ns; i++) {
        const tk_merge_entry *e = merge_get(m, sym[i].id, sym[i + 1].id);
        if (e) heap_push(heap, &hn, (bpe_merge){e->rank, (uint32_t)i, e->new_id});
    }
    while (hn) {
        bpe_merge top = heap_pop(heap, &hn);
        bpe_sym *cur = &sym[top.pos];
        if (cur->len == 0 || cur->next < 0) continue;
        int32_t next_pos = cur->next;
        bpe_sym right = sym[next_pos];
        const tk_merge_entry *e = merge_get(m, cur->id, right.id);
        if (!e || e->new_id != top.new_id) continue;
        cur->id = top.new_id;
        cur->len += right.len;
        cur->next = right.next;
        sym[next_pos].len = 0;
        if (right.next >= 0) sym[right.next].prev = (int32_t)top.pos;
        if (cur->prev >= 0) {
            const tk_merge_entry *pe = merge_get(m, sym[cur->prev].id, cur->id);
            if (pe) heap_push(heap, &hn, (bpe_merge){pe->rank, (uint32_t)cur->prev, pe->new_id});
        }
        if (cur->next >= 0) {
            const tk_merge_entry *ne = merge_get(m, cur->id, sym[cur->next].id);
            if (ne) heap_push(heap, &hn, (bpe_merge){ne->rank, top.pos, ne->new_id});
        }
    }
    for (int32_t i = 0; i >= 0; i = sym[i].next)
        if (!tk_ids_push(out, sym[i].id)) return nomem(NULL);
    return LC_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* Unigram: best path over the lattice of vocabulary pieces (tokenizers' encode_optimized)          */
/* ---------------------------------------------------------------------------------------------- */
typedef struct uni_node {
    double score;
    int32_t id;
    int32_t start; /* -1: none yet */
} uni_node;

typedef struct uni_ctx {
    const tk_model *m;
    uni_node *best;
    size_t at;
    double base;
    size_t mblen;
    bool single;
} uni_ctx;

static bool uni_visit(void *p, size_t len, int32_t id) {
    uni_ctx *c = p;
    uni_node *t = &c->best[c->at + len];
    double cand = c->m->scores[id] + c->base;
    if (t->start < 0 || cand > t->score) {
        t->score = cand;
        t->start = (int32_t)c->at;
        t->id = id;
    }
    if (len == c->mblen) c->single = true;
    return true;
}

static lc_status unigram_emit(const tk_model *m, const char *s, size_t n, tk_ids *out) {
    int32_t id = tk_map_get(&m->vocab, s, n);
    if (id >= 0) return tk_ids_push(out, id) ? LC_OK : nomem(NULL);
    if (m->byte_fallback) {
        bool all = true;
        for (size_t b = 0; b < n; b++)
            if (m->byte_ids[(unsigned char)s[b]] < 0) { all = false; break; }
        if (all) {
            for (size_t b = 0; b < n; b++)
                if (!tk_ids_push(out, m->byte_ids[(unsigned char)s[b]])) return nomem(NULL);
            return LC_OK;
        }
    }
    if (m->unk_id < 0) return lc_error(LC_ERR_FORMAT, "tokenizer: Unigram model has no unk_id for unknown text");
    return tk_ids_push(out, m->unk_id) ? LC_OK : nomem(NULL);
}

static lc_status unigram(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w) {
    if (w->lattice_cap < n + 1) {
        void *p = realloc(w->lattice, (n + 1) * sizeof(uni_node));
        if (!p) return nomem(NULL);
        w->lattice = p;
        w->lattice_cap = n + 1;
    }
    uni_node *best = w->lattice;
    for (size_t i = 0; i <= n; i++) best[i] = (uni_node){0.0, 0, -1};
    double unk_score = m->min_score - UNIGRAM_UNK_PENALTY;
    uni_ctx c = {m, best, 0, 0, 0, false};
    for (size_t at = 0; at < n;) {
        c.at = at;
        c.base = best[at].score;
        c.mblen = tk_utf8_len((unsigned char)s[at]);
        if (c.mblen > n - at) c.mblen = n - at;
        c.single = false;
        tk_trie_prefixes(m->trie, s + at, n - at, uni_visit, &c);
        if (!c.single) {
            uni_node *t = &best[at + c.mblen];
            double cand = unk_score + c.base;
            if (t->start < 0 || cand > t->score) {
                if (m->unk_id < 0) return lc_error(LC_ERR_FORMAT, "tokenizer: Unigram model has no unk_id for unknown text");
                t->score = cand;
                t->start = (int32_t)at;
                t->id = m->unk_id;
            }
        }
        at += c.mblen;
    }
    /* walk back; consecutive unknown pieces are fused into one */
    size_t first = out->n;
    size_t end = n, unk_end = 0;
    bool in_unk = false;
    /* collect backwards into out, then reverse the appended range */
    tk_buf *spans = &w->tmp2; /* pairs (start, end) as size_t */
    spans->len = 0;
    while (end > 0) {
        uni_node *nd = &best[end];
        size_t st = (size_t)nd->start;
        if (nd->id == m->unk_id && m->unk_id >= 0) {
            if (!in_unk) {
                in_unk = true;
                unk_end = end;
            }
        } else {
            if (in_unk) {
                size_t pr[2] = {end, unk_end};
                if (!tk_buf_append(spans, pr, sizeof pr)) return nomem(NULL);
                in_unk = false;
            }
            size_t pr[2] = {st, end};
            if (!tk_buf_append(spans, pr, sizeof pr)) return nomem(NULL);
        }
        end = st;
    }
    if (in_unk) {
        size_t pr[2] = {0, unk_end};
        if (!tk_buf_append(spans, pr, sizeof pr)) return nomem(NULL);
    }
    size_t np = spans->len / (2 * sizeof(size_t));
    for (size_t i = np; i-- > 0;) {
        size_t pr[2];
        memcpy(pr, spans->p + i * sizeof pr, sizeof pr);
        lc_status st = unigram_emit(m, s + pr[0], pr[1] - pr[0], out);
        if (st) {
            out->n = first;
            return st;
        }
    }
    return LC_OK;
}

static lc_status wordlevel(const tk_model *m, const char *s, size_t n, tk_ids *out) {
    int32_t id = tk_map_get(&m->vocab, s, n);
    if (id < 0) id = m->unk_id;
    if (id < 0) return missing_unk(m);
    return tk_ids_push(out, id) ? LC_OK : nomem(NULL);
}

lc_status tk_model_tokenize(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w) {
    if (n == 0) return LC_OK;
    switch (m->kind) {
    case TK_M_WORDPIECE: return wordpiece(m, s, n, out, w);
    case TK_M_BPE: return bpe(m, s, n, out, w);
    case TK_M_UNIGRAM: return unigram(m, s, n, out, w);
    case TK_M_WORDLEVEL: return wordlevel(m, s, n, out);
    }
    return LC_OK;
}
