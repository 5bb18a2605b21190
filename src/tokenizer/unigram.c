/* Unigram: the best path over the lattice of vocabulary pieces (tokenizers' encode_optimized), the
 * unknown-piece penalty, consecutive unknown pieces fused, byte_fallback. */
#include "json_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lc_status nomem(const char *path) { return lc_error(LC_ERR_NOMEM, "%s: out of memory", path ? path : "tokenizer"); }

#define UNIGRAM_UNK_PENALTY 10.0

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

lc_status tk_unigram_parse(const char *path, const cJSON *j, tk_model *m) {
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
        if (!cJSON_IsNumber(u) || u->valuedouble < 0 || u->valuedouble > 2147483647.0 ||
            u->valuedouble != floor(u->valuedouble))
            return lc_error(LC_ERR_FORMAT, "%s: Unigram: \"unk_id\" is not an id", path);
        if (n == 0) return lc_error(LC_ERR_FORMAT, "%s: Unigram: the vocabulary is empty", path);
        if (u->valuedouble >= (double)n) return lc_error(LC_ERR_FORMAT, "%s: Unigram: unk_id is not in the vocabulary", path);
        m->unk_id = (int32_t)u->valuedouble;
    }
    lc_status st = tkj_bool(path, "Unigram", j, "byte_fallback", false, &m->byte_fallback);
    if (st) return st;
    tk_fill_byte_ids(m);
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

lc_status tk_unigram_tokenize(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w) {
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
