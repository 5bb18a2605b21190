/* Buffers, the string -> id hash map and the byte trie used across the tokenizer. */
#define _GNU_SOURCE /* qsort_r */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>

bool tk_buf_reserve(tk_buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return true;
    size_t need = b->len + extra;
    if (need < b->len) return false;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return false;
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) return false;
    b->p = p;
    b->cap = cap;
    return true;
}

bool tk_buf_append(tk_buf *b, const void *s, size_t n) {
    if (!tk_buf_reserve(b, n)) return false;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    return true;
}

bool tk_buf_push_cp(tk_buf *b, uint32_t cp) {
    if (!tk_buf_reserve(b, 4)) return false;
    unsigned char *o = (unsigned char *)b->p + b->len;
    if (cp < 0x80) { o[0] = (unsigned char)cp; b->len += 1; }
    else if (cp < 0x800) { o[0] = (unsigned char)(0xc0 | (cp >> 6)); o[1] = (unsigned char)(0x80 | (cp & 0x3f)); b->len += 2; }
    else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | (cp >> 12)); o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f)); b->len += 3;
    } else {
        o[0] = (unsigned char)(0xf0 | (cp >> 18)); o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (unsigned char)(0x80 | (cp & 0x3f)); b->len += 4;
    }
    return true;
}

void tk_buf_free(tk_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

bool tk_ids_push(tk_ids *a, int32_t id) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        int32_t *v = realloc(a->v, cap * sizeof *v);
        if (!v) return false;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = id;
    return true;
}

void tk_ids_free(tk_ids *a) {
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

bool tk_pieces_push(tk_pieces *p, tk_piece x) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        tk_piece *v = realloc(p->v, cap * sizeof *v);
        if (!v) return false;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = x;
    return true;
}

void tk_work_free(tk_work *w) {
    tk_buf_free(&w->arena);
    free(w->pieces.v);
    free(w->next.v);
    tk_buf_free(&w->text.s);
    tk_buf_free(&w->tmp);
    tk_buf_free(&w->tmp2);
    free(w->matches);
    free(w->spans);
    free(w->sym);
    free(w->heap);
    free(w->lattice);
    memset(w, 0, sizeof *w);
}

/* ---------------------------------------------------------------------------------------------- */
/* Hash map                                                                                        */
/* ---------------------------------------------------------------------------------------------- */
uint32_t tk_hash(const void *s, size_t n) {
    /* FNV-1a over 8-byte words with a final mix: fast on short keys, good enough spread. */
    const unsigned char *p = s;
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) w |= (uint64_t)p[i] << (8 * i);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 32;
    h *= 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32);
}

static bool map_grow(tk_map *m) {
    size_t nslots = m->mask ? (m->mask + 1) * 2 : 64;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i < m->n; i++) {
        size_t j = m->entries[i].hash & (nslots - 1);
        while (slots[j]) j = (j + 1) & (nslots - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(m->slots);
    m->slots = slots;
    m->mask = nslots - 1;
    return true;
}

bool tk_map_put(tk_map *m, const char *key, size_t len, int32_t value) {
    if (len > UINT32_MAX || m->n >= UINT32_MAX - 1) return false;
    if ((m->n + 1) * 2 > m->mask + 1 && !map_grow(m)) return false;
    uint32_t h = tk_hash(key, len);
    size_t j = h & m->mask;
    while (m->slots[j]) {
        tk_map_entry *e = &m->entries[m->slots[j] - 1];
        if (e->hash == h && e->len == len && memcmp(m->pool.p + e->off, key, len) == 0) {
            e->value = value;
            return true;
        }
        j = (j + 1) & m->mask;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        tk_map_entry *v = realloc(m->entries, cap * sizeof *v);
        if (!v) return false;
        m->entries = v;
        m->cap = cap;
    }
    if (m->pool.len > UINT32_MAX - len - 1) return false;
    uint32_t off = (uint32_t)m->pool.len;
    if (!tk_buf_append(&m->pool, key, len) || !tk_buf_append(&m->pool, "", 1)) return false;
    m->entries[m->n] = (tk_map_entry){off, (uint32_t)len, h, value};
    m->slots[j] = (uint32_t)++m->n;
    return true;
}

int32_t tk_map_get(const tk_map *m, const char *key, size_t len) {
    if (!m->slots) return -1;
    uint32_t h = tk_hash(key, len);
    size_t j = h & m->mask;
    while (m->slots[j]) {
        const tk_map_entry *e = &m->entries[m->slots[j] - 1];
        if (e->hash == h && e->len == len && memcmp(m->pool.p + e->off, key, len) == 0) return e->value;
        j = (j + 1) & m->mask;
    }
    return -1;
}

void tk_map_free(tk_map *m) {
    free(m->slots);
    free(m->entries);
    tk_buf_free(&m->pool);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------------------------------------- */
/* Byte trie: keys collected, then frozen into nodes with sorted edge lists                         */
/* ---------------------------------------------------------------------------------------------- */
typedef struct trie_node {
    int32_t value; /* -1: no key ends here */
    uint32_t edge0, nedge;
} trie_node;

typedef struct trie_edge {
    uint32_t child;
    unsigned char byte;
} trie_edge;

struct tk_trie {
    tk_map keys; /* key -> value (the last insert wins) */
    trie_node *nodes;
    trie_edge *edges;
    size_t n_nodes, n_edges;
    uint32_t root_child[256]; /* direct table for the first byte; 0 = none */
    bool built;
};

tk_trie *tk_trie_new(void) { return calloc(1, sizeof(tk_trie)); }

bool tk_trie_insert(tk_trie *t, const char *key, size_t len, int32_t value) {
    t->built = false;
    return len > 0 && tk_map_put(&t->keys, key, len, value);
}

static int cmp_keys(const void *a, const void *b, void *ctx) {
    const tk_trie *sort_ctx = ctx;
    const tk_map_entry *x = &sort_ctx->keys.entries[*(const uint32_t *)a];
    const tk_map_entry *y = &sort_ctx->keys.entries[*(const uint32_t *)b];
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(sort_ctx->keys.pool.p + x->off, sort_ctx->keys.pool.p + y->off, n);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

typedef struct build_item {
    uint32_t node, lo, hi, depth;
} build_item;

bool tk_trie_build(tk_trie *t) {
    free(t->nodes);
    free(t->edges);
    t->nodes = NULL;
    t->edges = NULL;
    t->n_nodes = t->n_edges = 0;
    memset(t->root_child, 0, sizeof t->root_child);
    size_t nk = t->keys.n, total = 0;
    for (size_t i = 0; i < nk; i++) total += t->keys.entries[i].len;
    uint32_t *order = malloc((nk ? nk : 1) * sizeof *order);
    t->nodes = malloc((total + 1) * sizeof *t->nodes);
    t->edges = malloc((total + 1) * sizeof *t->edges);
    build_item *stack = malloc((total + 1) * sizeof *stack);
    if (!order || !t->nodes || !t->edges || !stack) {
        free(order);
        free(stack);
        return false;
    }
    for (size_t i = 0; i < nk; i++) order[i] = (uint32_t)i;
    qsort_r(order, nk, sizeof *order, cmp_keys, t);
    t->nodes[0] = (trie_node){-1, 0, 0};
    t->n_nodes = 1;
    size_t sp = 0;
    stack[sp++] = (build_item){0, 0, (uint32_t)nk, 0};
    const char *pool = t->keys.pool.p;
    while (sp) {
        build_item it = stack[--sp];
        uint32_t lo = it.lo;
        while (lo < it.hi && t->keys.entries[order[lo]].len == it.depth) {
            t->nodes[it.node].value = t->keys.entries[order[lo]].value;
            lo++;
        }
        /* children grouped by the byte at depth */
        uint32_t e0 = (uint32_t)t->n_edges, ne = 0;
        uint32_t i = lo;
        while (i < it.hi) {
            unsigned char c = (unsigned char)pool[t->keys.entries[order[i]].off + it.depth];
            uint32_t j = i + 1;
            while (j < it.hi && (unsigned char)pool[t->keys.entries[order[j]].off + it.depth] == c) j++;
            uint32_t child = (uint32_t)t->n_nodes++;
            t->nodes[child] = (trie_node){-1, 0, 0};
            t->edges[t->n_edges++] = (trie_edge){child, c};
            ne++;
            stack[sp++] = (build_item){child, i, j, it.depth + 1};
            if (it.node == 0) t->root_child[c] = child;
            i = j;
        }
        t->nodes[it.node].edge0 = e0;
        t->nodes[it.node].nedge = ne;
    }
    free(order);
    free(stack);
    t->built = true;
    return true;
}

static inline uint32_t trie_step(const tk_trie *t, uint32_t node, unsigned char c) {
    if (node == 0) return t->root_child[c];
    const trie_node *nd = &t->nodes[node];
    const trie_edge *e = t->edges + nd->edge0;
    uint32_t lo = 0, hi = nd->nedge;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (e[mid].byte == c) return e[mid].child;
        if (e[mid].byte < c) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

void tk_trie_prefixes(const tk_trie *t, const char *s, size_t n, tk_trie_fn fn, void *ctx) {
    if (!t->built) return;
    uint32_t node = 0;
    for (size_t i = 0; i < n; i++) {
        node = trie_step(t, node, (unsigned char)s[i]);
        if (!node) return;
        if (t->nodes[node].value >= 0 && !fn(ctx, i + 1, t->nodes[node].value)) return;
    }
}

size_t tk_trie_longest(const tk_trie *t, const char *s, size_t n, int32_t *value) {
    size_t best = 0;
    if (!t->built) return 0;
    uint32_t node = 0;
    for (size_t i = 0; i < n; i++) {
        node = trie_step(t, node, (unsigned char)s[i]);
        if (!node) break;
        if (t->nodes[node].value >= 0) {
            best = i + 1;
            *value = t->nodes[node].value;
        }
    }
    return best;
}

bool tk_trie_first_byte(const tk_trie *t, unsigned char c) { return t->built && t->root_child[c] != 0; }

bool tk_trie_empty(const tk_trie *t) { return !t || !t->built || t->keys.n == 0; }

void tk_trie_free(tk_trie *t) {
    if (!t) return;
    tk_map_free(&t->keys);
    free(t->nodes);
    free(t->edges);
    free(t);
}
