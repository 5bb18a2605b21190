/* BPE: merges as "a b" strings or [a, b] pairs, continuing_subword_prefix, end_of_word_suffix,
 * ignore_merges, byte_fallback, fuse_unk; merges applied lowest rank first, then leftmost, as tokenizers
 * does with its priority queue. */
#include "json_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lc_status nomem(const char *path) { return lc_error(LC_ERR_NOMEM, "%s: out of memory", path ? path : "tokenizer"); }

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

lc_status tk_bpe_parse(const char *path, const cJSON *j, tk_model *m) {
    const char *what = "BPE";
    lc_status st = tk_vocab_from_object(path, what, cJSON_GetObjectItemCaseSensitive(j, "vocab"), m);
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
        (st = tkj_bool(path, what, j, "ignore_merges", false, &m->ignore_merges)) || (st = tk_parse_unk(path, what, j, m)))
        return st;
    if (prefix) {
        if (!(m->prefix = tk_strndup(prefix, strlen(prefix)))) return nomem(path);
        m->prefix_len = strlen(prefix);
    }
    if (suffix) {
        if (!(m->suffix = tk_strndup(suffix, strlen(suffix)))) return nomem(path);
        m->suffix_len = strlen(suffix);
    }
    tk_fill_byte_ids(m);

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

/* ---------------------------------------------------------------------------------------------- */
/* Word cache: English text repeats its words, so the merges of a word are worked out once. Like    */
/* tokenizers' cache it is bounded and skipped when another thread holds it (try-lock): results    */
/* never depend on it.                                                                              */
/* ---------------------------------------------------------------------------------------------- */
#define BPE_CACHE_WORDS 16384
#define BPE_CACHE_MAX_WORD 64

typedef struct cache_entry {
    uint32_t key_off, key_len, ids_off, n_ids, hash;
} cache_entry;

struct tk_bpe_cache {
    pthread_mutex_t mu;
    uint32_t slots[BPE_CACHE_WORDS * 2]; /* entry index + 1 */
    cache_entry entries[BPE_CACHE_WORDS];
    size_t n;
    tk_buf keys;
    tk_ids ids;
};

bool tk_bpe_cache_new(tk_model *m) {
    struct tk_bpe_cache *c = calloc(1, sizeof *c);
    if (!c) return false;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return false;
    }
    m->cache = c;
    return true;
}

void tk_bpe_cache_free(struct tk_bpe_cache *c) {
    if (!c) return;
    pthread_mutex_destroy(&c->mu);
    tk_buf_free(&c->keys);
    tk_ids_free(&c->ids);
    free(c);
}

/* 1: found (ids appended), 0: not cached, -1: out of memory */
static int cache_get(struct tk_bpe_cache *c, const char *s, size_t n, uint32_t h, tk_ids *out) {
    int r = 0;
    if (pthread_mutex_trylock(&c->mu) != 0) return 0;
    size_t mask = BPE_CACHE_WORDS * 2 - 1, j = h & mask;
    while (c->slots[j]) {
        const cache_entry *e = &c->entries[c->slots[j] - 1];
        if (e->hash == h && e->key_len == n && memcmp(c->keys.p + e->key_off, s, n) == 0) {
            r = 1;
            for (uint32_t k = 0; k < e->n_ids && r == 1; k++)
                if (!tk_ids_push(out, c->ids.v[e->ids_off + k])) r = -1;
            break;
        }
        j = (j + 1) & mask;
    }
    pthread_mutex_unlock(&c->mu);
    return r;
}

static void cache_put(struct tk_bpe_cache *c, const char *s, size_t n, uint32_t h, const int32_t *ids, size_t k) {
    if (pthread_mutex_trylock(&c->mu) != 0) return;
    if (c->n < BPE_CACHE_WORDS) {
        size_t mask = BPE_CACHE_WORDS * 2 - 1, j = h & mask;
        bool present = false;
        while (c->slots[j]) {
            const cache_entry *e = &c->entries[c->slots[j] - 1];
            if (e->hash == h && e->key_len == n && memcmp(c->keys.p + e->key_off, s, n) == 0) { present = true; break; }
            j = (j + 1) & mask;
        }
        size_t ko = c->keys.len, io = c->ids.n;
        bool ok = !present && tk_buf_append(&c->keys, s, n);
        for (size_t i = 0; ok && i < k; i++) ok = tk_ids_push(&c->ids, ids[i]);
        if (ok) {
            c->entries[c->n] = (cache_entry){(uint32_t)ko, (uint32_t)n, (uint32_t)io, (uint32_t)k, h};
            c->slots[j] = (uint32_t)++c->n;
        } else {
            c->keys.len = ko;
            c->ids.n = io;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

static lc_status bpe_merge_word(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w);

lc_status tk_bpe_tokenize(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w) {
    if (m->ignore_merges) {
        int32_t id = tk_map_get(&m->vocab, s, n);
        if (id >= 0) return tk_ids_push(out, id) ? LC_OK : nomem(NULL);
    }
    if (!m->cache || n > BPE_CACHE_MAX_WORD || n == 0) return bpe_merge_word(m, s, n, out, w);
    uint32_t h = tk_hash(s, n);
    int r = cache_get(m->cache, s, n, h, out);
    if (r < 0) return nomem(NULL);
    if (r > 0) return LC_OK;
    size_t first = out->n;
    lc_status st = bpe_merge_word(m, s, n, out, w);
    if (!st) cache_put(m->cache, s, n, h, out->n > first ? out->v + first : NULL, out->n - first);
    return st;
}

static lc_status bpe_merge_word(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w) {
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
                    if (m->unk_id < 0) return tk_missing_unk(m);
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
