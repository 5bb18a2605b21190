/* Pre-tokenizers of tokenizer.json: BertPreTokenizer, ByteLevel (GPT-2 split pattern), Metaspace,
 * Whitespace, WhitespaceSplit, Punctuation, Split, Digits, CharDelimiterSplit, FixedLength and
 * Sequence.
 *
 * Each works on the list of pieces in tk_work: a piece is either text in the arena or an added token
 * (left alone). Splitting follows NormalizedString::split: the pattern yields spans (match or not),
 * the delimiter behaviour merges or drops them, and empty pieces are dropped. */
#include "json_util.h"

#include <stdlib.h>
#include <string.h>

typedef struct tk_span tk_span;

static lc_status nomem(void) { return lc_error(LC_ERR_NOMEM, "tokenizer: out of memory while pre-tokenizing"); }

static bool span_push(tk_work *w, size_t s, size_t e, bool m) {
    if (w->n_spans == w->cap_spans) {
        size_t c = w->cap_spans ? w->cap_spans * 2 : 64;
        tk_span *v = realloc(w->spans, c * sizeof *v);
        if (!v) return false;
        w->spans = v;
        w->cap_spans = c;
    }
    w->spans[w->n_spans++] = (tk_span){(uint32_t)s, (uint32_t)e, m};
    return true;
}

static bool emit(tk_work *w, const tk_piece *p, size_t s, size_t e) {
    if (e <= s) return true;
    tk_piece q = {p->off + (uint32_t)s, (uint32_t)(e - s), p->zero > s ? p->zero - (uint32_t)s : 0, -1};
    return tk_pieces_push(&w->next, q);
}

/* Apply a delimiter behaviour to w->spans (covering piece p) and emit the resulting pieces. */
static lc_status emit_spans(tk_work *w, const tk_piece *p, tk_split_behavior b) {
    tk_span *v = w->spans;
    size_t n = w->n_spans, k = 0;
    switch (b) {
    case TK_SPLIT_ISOLATED:
        for (size_t i = 0; i < n; i++)
            if (!emit(w, p, v[i].s, v[i].e)) return nomem();
        return LC_OK;
    case TK_SPLIT_REMOVED:
        for (size_t i = 0; i < n; i++)
            if (!v[i].m && !emit(w, p, v[i].s, v[i].e)) return nomem();
        return LC_OK;
    case TK_SPLIT_CONTIGUOUS: {
        bool prev = false;
        for (size_t i = 0; i < n; i++) {
            tk_span cur = v[i];
            if (cur.m == prev && k > 0) v[k - 1].e = cur.e;
            else v[k++] = (tk_span){cur.s, cur.e, false};
            prev = cur.m;
        }
        break;
    }
    case TK_SPLIT_MERGED_PREV: {
        bool prev = false;
        for (size_t i = 0; i < n; i++) {
            tk_span cur = v[i];
            if (cur.m && !prev && k > 0) v[k - 1].e = cur.e;
            else v[k++] = (tk_span){cur.s, cur.e, false};
            prev = cur.m;
        }
        break;
    }
    case TK_SPLIT_MERGED_NEXT: {
        /* fold from the end: a match that follows a non-match joins the piece after it */
        bool prev = false;
        size_t out = n; /* write from the back */
        for (size_t i = n; i-- > 0;) {
            tk_span cur = v[i];
            if (cur.m && !prev && out < n) v[out].s = cur.s;
            else v[--out] = (tk_span){cur.s, cur.e, false};
            prev = cur.m;
        }
        for (size_t i = out; i < n; i++)
            if (!emit(w, p, v[i].s, v[i].e)) return nomem();
        return LC_OK;
    }
    }
    for (size_t i = 0; i < k; i++)
        if (!emit(w, p, v[i].s, v[i].e)) return nomem();
    return LC_OK;
}

/* Spans of a per-character predicate: each matching character is its own match. */
static bool char_spans(tk_work *w, const char *s, size_t n, bool (*pred)(uint32_t, const void *), const void *ctx) {
    w->n_spans = 0;
    size_t last = 0;
    for (size_t i = 0; i < n;) {
        size_t l;
        uint32_t cp = tk_utf8_decode((const unsigned char *)s + i, n - i, &l);
        if (pred(cp, ctx)) {
            if (last < i && !span_push(w, last, i, false)) return false;
            if (!span_push(w, i, i + l, true)) return false;
            last = i + l;
        }
        i += l;
    }
    if (last < n && !span_push(w, last, n, false)) return false;
    return true;
}

static bool pred_punct(uint32_t c, const void *x) { (void)x; return tk_is_punctuation(c); }
static bool pred_space(uint32_t c, const void *x) { (void)x; return tk_is_whitespace(c); }
static bool pred_numeric(uint32_t c, const void *x) { (void)x; return tk_is_numeric(c); }
static bool pred_equal(uint32_t c, const void *x) { return c == *(const uint32_t *)x; }

/* ---------------------------------------------------------------------------------------------- */
/* BertPreTokenizer: split on whitespace (removed), then isolate each punctuation character         */
/* ---------------------------------------------------------------------------------------------- */
static lc_status bert_split(tk_work *w, const tk_piece *p) {
    const unsigned char *s = (const unsigned char *)w->arena.p + p->off;
    size_t n = p->len, word = 0;
    for (size_t i = 0; i < n;) {
        size_t l = 1;
        unsigned c = s[i];
        bool space, punct;
        if (c < 0x80) {
            space = c == ' ' || (c >= 9 && c <= 13);
            punct = !space && ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126));
        } else {
            uint32_t cp = tk_utf8_decode(s + i, n - i, &l);
            space = tk_is_whitespace(cp);
            punct = !space && tk_is_punctuation(cp);
        }
        if (space) {
            if (!emit(w, p, word, i)) return nomem();
            word = i + l;
        } else if (punct) {
            if (!emit(w, p, word, i) || !emit(w, p, i, i + l)) return nomem();
            word = i + l;
        }
        i += l;
    }
    if (!emit(w, p, word, n)) return nomem();
    return LC_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* The GPT-2 pattern, hand-written:                                                                 */
/*   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+                  */
/* Alternatives are tried in order at each position (Oniguruma is leftmost-first).                 */
/* ---------------------------------------------------------------------------------------------- */
enum { CL_SPACE, CL_LETTER, CL_NUMBER, CL_OTHER };
static inline int gpt2_class(uint32_t c) {
    if (tk_is_onig_space(c)) return CL_SPACE;
    if (tk_is_letter(c)) return CL_LETTER;
    if (tk_is_number(c)) return CL_NUMBER;
    return CL_OTHER;
}

static inline int class_at(const unsigned char *s, size_t n, size_t i, size_t *len) {
    if (s[i] < 0x80) {
        *len = 1;
        unsigned c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return CL_LETTER;
        if (c >= '0' && c <= '9') return CL_NUMBER;
        if (c == ' ' || (c >= 9 && c <= 13)) return CL_SPACE;
        return CL_OTHER;
    }
    return gpt2_class(tk_utf8_decode(s + i, n - i, len));
}

/* Length of the match starting at i (always >= 1 character). */
static size_t gpt2_match(const unsigned char *s, size_t n, size_t i) {
    if (s[i] == '\'' && i + 1 < n) {
        unsigned char a = s[i + 1];
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
        if (i + 2 < n) {
            unsigned char b = s[i + 2];
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
        }
    }
    size_t l0, j = i;
    int c0 = class_at(s, n, i, &l0);
    int want = c0;
    if (s[i] == ' ' && i + 1 < n) {
        size_t l1;
        int c1 = class_at(s, n, i + 1, &l1);
        if (c1 != CL_SPACE) {
            want = c1;
            j = i + 1;
        }
    }
    if (want != CL_SPACE) {
        /* run of the same class (letters, numbers, or "other") */
        while (j < n) {
            size_t l;
            if (class_at(s, n, j, &l) != want) break;
            j += l;
        }
        return j - i;
    }
    /* whitespace: \s+(?!\S) keeps the last space for the next word, unless the run ends the text */
    size_t last = i;
    j = i;
    while (j < n) {
        size_t l;
        if (class_at(s, n, j, &l) != CL_SPACE) break;
        last = j;
        j += l;
    }
    if (j == n || last == i) return j - i;
    return last - i;
}

static lc_status gpt2_split(tk_work *w, const tk_piece *p) {
    const unsigned char *s = (const unsigned char *)w->arena.p + p->off;
    size_t n = p->len;
    for (size_t i = 0; i < n;) {
        size_t m = gpt2_match(s, n, i);
        if (!emit(w, p, i, i + m)) return nomem();
        i += m;
    }
    return LC_OK;
}

/* GPT-2's byte -> printable character table, as UTF-8. */
typedef struct byte_map {
    char s[256][2];
    unsigned char len[256];
} byte_map;

static void byte_map_init(byte_map *m) {
    unsigned extra = 0;
    for (unsigned b = 0; b < 256; b++) {
        bool direct = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
        uint32_t cp = direct ? b : 256 + extra++;
        if (cp < 0x80) {
            m->s[b][0] = (char)cp;
            m->len[b] = 1;
        } else {
            m->s[b][0] = (char)(0xc0 | (cp >> 6));
            m->s[b][1] = (char)(0x80 | (cp & 0x3f));
            m->len[b] = 2;
        }
    }
}

/* Copy piece q's bytes as ByteLevel characters to the end of the arena; q then points there. */
static bool bytes_to_chars(tk_work *w, tk_piece *q, const byte_map *bm) {
    if (!tk_buf_reserve(&w->arena, (size_t)q->len * 2)) return false;
    if (w->arena.len > UINT32_MAX - (size_t)q->len * 2) return false;
    const unsigned char *s = (const unsigned char *)w->arena.p + q->off;
    char *o = w->arena.p + w->arena.len;
    size_t k = 0, zero = 0;
    for (size_t i = 0; i < q->len; i++) {
        unsigned char b = s[i];
        o[k] = bm->s[b][0];
        if (bm->len[b] == 2) o[k + 1] = bm->s[b][1];
        k += bm->len[b];
        if (i < q->zero) zero = k;
    }
    q->off = (uint32_t)w->arena.len;
    q->len = (uint32_t)k;
    q->zero = (uint32_t)zero;
    w->arena.len += k;
    return true;
}

static lc_status bytelevel(const tk_pre *pre, tk_work *w, tk_piece p) {
    const byte_map *bm_ptr = pre->bytemap;
    if (pre->add_prefix_space && w->arena.p[p.off] != ' ') {
        if (w->arena.len > UINT32_MAX - p.len - 1 || !tk_buf_reserve(&w->arena, (size_t)p.len + 1)) return nomem();
        uint32_t off = (uint32_t)w->arena.len;
        w->arena.p[w->arena.len++] = ' ';
        memcpy(w->arena.p + w->arena.len, w->arena.p + p.off, p.len);
        w->arena.len += p.len;
        p.zero = p.zero ? p.zero + 1 : 0;
        p.off = off;
        p.len += 1;
    }
    size_t first = w->next.n;
    lc_status st = pre->use_regex ? gpt2_split(w, &p) : (tk_pieces_push(&w->next, p) ? LC_OK : nomem());
    if (st) return st;
    for (size_t i = first; i < w->next.n; i++)
        if (!bytes_to_chars(w, &w->next.v[i], bm_ptr)) return nomem();
    return LC_OK;
}

/* Metaspace: spaces become the replacement, optionally prepended, then split before each one. */
static lc_status metaspace(const tk_pre *pre, tk_work *w, tk_piece p) {
    size_t n = p.len, rl = pre->rep_len;
    size_t need = n * rl + rl;
    if (w->arena.len > UINT32_MAX - need || !tk_buf_reserve(&w->arena, need)) return nomem();
    const char *s = w->arena.p + p.off;
    char *o = w->arena.p + w->arena.len;
    size_t k = 0, zero = 0;
    bool starts = (n > 0 && s[0] == ' ') || (n >= rl && memcmp(s, pre->rep_utf8, rl) == 0);
    bool pre_add = false;
    if (!starts) {
        if (pre->prepend_scheme == TK_PREPEND_ALWAYS) pre_add = true;
        else if (pre->prepend_scheme == TK_PREPEND_FIRST && p.zero > 0) pre_add = true;
    }
    if (pre_add) {
        memcpy(o, pre->rep_utf8, rl);
        k = rl;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') {
            memcpy(o + k, pre->rep_utf8, rl);
            k += rl;
        } else {
            o[k++] = s[i];
        }
        if (i < p.zero) zero = k;
    }
    tk_piece q = {(uint32_t)w->arena.len, (uint32_t)k, (uint32_t)zero, -1};
    w->arena.len += k;
    if (!pre->split) return tk_pieces_push(&w->next, q) ? LC_OK : nomem();
    if (!char_spans(w, w->arena.p + q.off, q.len, pred_equal, &pre->replacement)) return nomem();
    return emit_spans(w, &q, TK_SPLIT_MERGED_NEXT);
}

/* Whitespace: \w+|[^\w\s]+ kept, the rest removed. */
static lc_status whitespace(tk_work *w, const tk_piece *p) {
    const unsigned char *s = (const unsigned char *)w->arena.p + p->off;
    size_t n = p->len;
    for (size_t i = 0; i < n;) {
        size_t l;
        uint32_t c = tk_utf8_decode(s + i, n - i, &l);
        int cls = tk_is_word(c) ? 1 : tk_is_whitespace(c) ? 0 : 2;
        if (cls == 0) {
            i += l;
            continue;
        }
        size_t j = i + l;
        while (j < n) {
            uint32_t d = tk_utf8_decode(s + j, n - j, &l);
            int cd = tk_is_word(d) ? 1 : tk_is_whitespace(d) ? 0 : 2;
            if (cd != cls) break;
            j += l;
        }
        if (!emit(w, p, i, j)) return nomem();
        i = j;
    }
    return LC_OK;
}

static lc_status regex_split(const tk_pre *pre, tk_work *w, const tk_piece *p) {
    size_t nm = 0;
    const char *s = w->arena.p + p->off;
    if (!tk_regex_find_all(pre->regex, s, p->len, &w->matches, &nm, &w->cap_matches))
        return lc_error(LC_ERR_FORMAT, "tokenizer: Split pattern failed on the text");
    w->n_spans = 0;
    size_t prev = 0;
    for (size_t i = 0; i < nm; i++) {
        tk_match m = w->matches[i];
        if (prev != m.start && !span_push(w, prev, m.start, pre->invert)) return nomem();
        if (!span_push(w, m.start, m.end, !pre->invert)) return nomem();
        prev = m.end;
    }
    if (prev != p->len && !span_push(w, prev, p->len, pre->invert)) return nomem();
    return emit_spans(w, p, pre->behavior);
}

static lc_status apply_one(const tk_pre *pre, tk_work *w, tk_piece p) {
    switch (pre->kind) {
    case TK_P_BERT: return bert_split(w, &p);
    case TK_P_BYTELEVEL: return bytelevel(pre, w, p);
    case TK_P_METASPACE: return metaspace(pre, w, p);
    case TK_P_WHITESPACE: return whitespace(w, &p);
    case TK_P_WHITESPACE_SPLIT:
        if (!char_spans(w, w->arena.p + p.off, p.len, pred_space, NULL)) return nomem();
        return emit_spans(w, &p, TK_SPLIT_REMOVED);
    case TK_P_PUNCTUATION:
        if (!char_spans(w, w->arena.p + p.off, p.len, pred_punct, NULL)) return nomem();
        return emit_spans(w, &p, pre->behavior);
    case TK_P_DIGITS:
        if (!char_spans(w, w->arena.p + p.off, p.len, pred_numeric, NULL)) return nomem();
        return emit_spans(w, &p, pre->individual_digits ? TK_SPLIT_ISOLATED : TK_SPLIT_CONTIGUOUS);
    case TK_P_SPLIT: return regex_split(pre, w, &p);
    case TK_P_CHAR_DELIMITER:
        if (!char_spans(w, w->arena.p + p.off, p.len, pred_equal, &pre->replacement)) return nomem();
        return emit_spans(w, &p, TK_SPLIT_REMOVED);
    case TK_P_FIXED_LENGTH: {
        const unsigned char *s = (const unsigned char *)w->arena.p + p.off;
        size_t start = 0, i = 0, chars = 0;
        while (i < p.len) {
            i += tk_utf8_len(s[i]);
            if (i > p.len) i = p.len;
            if (++chars == pre->length) {
                if (!emit(w, &p, start, i)) return nomem();
                start = i;
                chars = 0;
            }
        }
        if (!emit(w, &p, start, p.len)) return nomem();
        return LC_OK;
    }
    case TK_P_SEQUENCE: break;
    }
    return LC_OK;
}

lc_status tk_pre_apply(const tk_pre *pre, tk_work *w) {
    if (pre->kind == TK_P_SEQUENCE) {
        for (size_t i = 0; i < pre->n_children; i++) {
            lc_status st = tk_pre_apply(pre->children[i], w);
            if (st) return st;
        }
        return LC_OK;
    }
    w->next.n = 0;
    for (size_t i = 0; i < w->pieces.n; i++) {
        tk_piece p = w->pieces.v[i];
        if (p.id >= 0 || p.len == 0) {
            if (p.id >= 0 && !tk_pieces_push(&w->next, p)) return nomem();
            continue;
        }
        lc_status st = apply_one(pre, w, p);
        if (st) return st;
    }
    tk_pieces t = w->pieces;
    w->pieces = w->next;
    w->next = t;
    return LC_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* Parsing                                                                                         */
/* ---------------------------------------------------------------------------------------------- */
void tk_pre_free(tk_pre *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n_children; i++) tk_pre_free(p->children[i]);
    free(p->children);
    tk_regex_free(p->regex);
    free(p->bytemap);
    free(p);
}

static lc_status parse_behavior(const char *path, const char *what, const cJSON *j, tk_split_behavior def,
                                tk_split_behavior *out) {
    const char *b;
    lc_status st = tkj_str(path, what, j, "behavior", &b);
    if (st) return st;
    if (!b) { *out = def; return LC_OK; }
    if (strcmp(b, "Removed") == 0) *out = TK_SPLIT_REMOVED;
    else if (strcmp(b, "Isolated") == 0) *out = TK_SPLIT_ISOLATED;
    else if (strcmp(b, "MergedWithPrevious") == 0) *out = TK_SPLIT_MERGED_PREV;
    else if (strcmp(b, "MergedWithNext") == 0) *out = TK_SPLIT_MERGED_NEXT;
    else if (strcmp(b, "Contiguous") == 0) *out = TK_SPLIT_CONTIGUOUS;
    else return lc_error(LC_ERR_FORMAT, "%s: %s: unknown split behavior '%s'", path, what, b);
    return LC_OK;
}

static lc_status parse_rec(const char *path, const cJSON *j, int depth, tk_pre **out) {
    *out = NULL;
    if (depth > 32) return lc_error(LC_ERR_FORMAT, "%s: pre_tokenizer: Sequence nested too deeply", path);
    if (!cJSON_IsObject(j)) return lc_error(LC_ERR_FORMAT, "%s: pre_tokenizer is not an object", path);
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(ty) || !ty->valuestring) return lc_error(LC_ERR_FORMAT, "%s: pre_tokenizer without a \"type\"", path);
    const char *type = ty->valuestring;
    tk_pre *p = calloc(1, sizeof *p);
    if (!p) return nomem();
    lc_status st = LC_OK;
    if (strcmp(type, "BertPreTokenizer") == 0) p->kind = TK_P_BERT;
    else if (strcmp(type, "Whitespace") == 0) p->kind = TK_P_WHITESPACE;
    else if (strcmp(type, "WhitespaceSplit") == 0) p->kind = TK_P_WHITESPACE_SPLIT;
    else if (strcmp(type, "ByteLevel") == 0) {
        p->kind = TK_P_BYTELEVEL;
        if (!(p->bytemap = malloc(sizeof(byte_map)))) st = nomem();
        else byte_map_init(p->bytemap);
        if (!st)
        if (!(st = tkj_bool(path, type, j, "add_prefix_space", true, &p->add_prefix_space)))
                st = tkj_bool(path, type, j, "use_regex", true, &p->use_regex);
    } else if (strcmp(type, "Metaspace") == 0) {
        p->kind = TK_P_METASPACE;
        const char *rep, *scheme;
        bool aps_set = false, aps = true;
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "add_prefix_space");
        if (a && !cJSON_IsNull(a)) aps_set = true;
        if (!(st = tkj_str(path, type, j, "replacement", &rep)) && !(st = tkj_str(path, type, j, "prepend_scheme", &scheme)) &&
            !(st = tkj_bool(path, type, j, "split", true, &p->split)) &&
            !(st = tkj_bool(path, type, j, "add_prefix_space", true, &aps))) {
            size_t l = 0;
            if (!rep || !rep[0] || (l = strlen(rep)) != tk_utf8_len((unsigned char)rep[0]))
                st = lc_error(LC_ERR_FORMAT, "%s: Metaspace: \"replacement\" must be one character", path);
            else {
                memcpy(p->rep_utf8, rep, l);
                p->rep_len = l;
                size_t dl;
                p->replacement = tk_utf8_decode((const unsigned char *)rep, l, &dl);
                if (!scheme || strcmp(scheme, "always") == 0) p->prepend_scheme = TK_PREPEND_ALWAYS;
                else if (strcmp(scheme, "first") == 0) p->prepend_scheme = TK_PREPEND_FIRST;
                else if (strcmp(scheme, "never") == 0) p->prepend_scheme = TK_PREPEND_NEVER;
                else st = lc_error(LC_ERR_FORMAT, "%s: Metaspace: unknown prepend_scheme '%s'", path, scheme);
                if (!st && aps_set && !aps) {
                    if (p->prepend_scheme != TK_PREPEND_NEVER && scheme)
                        st = lc_error(LC_ERR_FORMAT, "%s: Metaspace: add_prefix_space does not match declared prepend_scheme", path);
                    p->prepend_scheme = TK_PREPEND_NEVER;
                }
            }
        }
    } else if (strcmp(type, "Punctuation") == 0) {
        p->kind = TK_P_PUNCTUATION;
        st = parse_behavior(path, type, j, TK_SPLIT_ISOLATED, &p->behavior);
    } else if (strcmp(type, "CharDelimiterSplit") == 0) {
        p->kind = TK_P_CHAR_DELIMITER;
        const char *d;
        size_t dl;
        if (!(st = tkj_str(path, type, j, "delimiter", &d))) {
            if (!d || !d[0] || strlen(d) != tk_utf8_len((unsigned char)d[0]))
                st = lc_error(LC_ERR_FORMAT, "%s: CharDelimiterSplit: \"delimiter\" must be one character", path);
            else p->replacement = tk_utf8_decode((const unsigned char *)d, strlen(d), &dl);
        }
    } else if (strcmp(type, "FixedLength") == 0) {
        p->kind = TK_P_FIXED_LENGTH;
        if (!(st = tkj_uint(path, type, j, "length", 1e12, 5, &p->length)) && p->length == 0)
            st = lc_error(LC_ERR_FORMAT, "%s: FixedLength: \"length\" must be at least 1", path);
    } else if (strcmp(type, "Digits") == 0) {
        p->kind = TK_P_DIGITS;
        st = tkj_bool(path, type, j, "individual_digits", false, &p->individual_digits);
    } else if (strcmp(type, "Split") == 0) {
        p->kind = TK_P_SPLIT;
        const cJSON *beh = cJSON_GetObjectItemCaseSensitive(j, "behavior");
        if (!beh) st = lc_error(LC_ERR_FORMAT, "%s: Split: \"behavior\" is missing", path);
        if (!st) st = parse_behavior(path, type, j, TK_SPLIT_REMOVED, &p->behavior);
        if (!st) st = tkj_bool(path, type, j, "invert", false, &p->invert);
        if (!st) st = tk_parse_pattern(path, "Split", j, &p->regex);
    } else if (strcmp(type, "Sequence") == 0) {
        p->kind = TK_P_SEQUENCE;
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "pretokenizers");
        if (!cJSON_IsArray(arr)) st = lc_error(LC_ERR_FORMAT, "%s: pre_tokenizer Sequence without a \"pretokenizers\" list", path);
        else {
            int cnt = cJSON_GetArraySize(arr);
            p->children = calloc((size_t)(cnt > 0 ? cnt : 1), sizeof *p->children);
            if (!p->children) st = nomem();
            const cJSON *c;
            cJSON_ArrayForEach(c, arr) {
                if (st) break;
                st = parse_rec(path, c, depth + 1, &p->children[p->n_children]);
                if (!st) p->n_children++;
            }
        }
    } else {
        st = lc_error(LC_ERR_UNSUPPORTED, "%s: pre_tokenizer type '%s' is not supported", path, type);
    }
    if (st) {
        tk_pre_free(p);
        return st;
    }
    *out = p;
    return LC_OK;
}

lc_status tk_pre_parse(const char *path, const void *json, tk_pre **out) {
    return parse_rec(path, (const cJSON *)json, 0, out);
}
