/* The Precompiled normalizer: SentencePiece's precompiled_charsmap (a base64 blob holding a
 * Darts double-array trie over UTF-8 bytes plus the replacement strings), applied the way
 * `tokenizers` applies it: grapheme by grapheme, a grapheme shorter than 6 bytes replaced whole by
 * the first (shortest) trie match of its bytes, otherwise character by character.
 *
 * Blob layout: [u32 trie size in bytes, little-endian][trie units: u32 each][replacement strings,
 * each ended by NUL]. A unit holds a label (low byte), a leaf flag (bit 8) and an offset. */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

struct tk_precompiled {
    uint32_t *units;
    size_t n_units;
    char *normalized;
    size_t n_normalized;
    /* each ASCII byte alone: -1 corrupt, 0 unchanged, 1 replaced by normalized[ascii_off..+ascii_len) */
    signed char ascii_state[128];
    uint32_t ascii_off[128], ascii_len[128];
};

static int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Standard base64 with padding (what the `base64` crate's STANDARD engine accepts). */
static unsigned char *b64_decode(const char *s, size_t n, size_t *out_len) {
    if (n % 4 != 0) return NULL;
    unsigned char *o = malloc(n / 4 * 3 + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            unsigned char c = (unsigned char)s[i + j];
            if (c == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
            } else {
                if (pad) { free(o); return NULL; }
                v[j] = b64_value(c);
                if (v[j] < 0) { free(o); return NULL; }
            }
        }
        uint32_t x = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) | (uint32_t)v[3];
        o[k++] = (unsigned char)(x >> 16);
        if (pad < 2) o[k++] = (unsigned char)(x >> 8);
        if (pad < 1) o[k++] = (unsigned char)x;
    }
    *out_len = k;
    return o;
}

static int first_match(const tk_precompiled *p, const unsigned char *key, size_t n, const char **rep, size_t *rep_len);

lc_status tk_precompiled_new(const char *path, const char *b64, tk_precompiled **out) {
    *out = NULL;
    size_t n = 0;
    unsigned char *blob = b64_decode(b64, strlen(b64), &n);
    if (!blob) return lc_error(LC_ERR_FORMAT, "%s: Precompiled: precompiled_charsmap is not valid base64", path);
    if (n < 4) {
        free(blob);
        return lc_error(LC_ERR_FORMAT, "%s: Precompiled: precompiled_charsmap is too short", path);
    }
    uint32_t trie_size = (uint32_t)blob[0] | ((uint32_t)blob[1] << 8) | ((uint32_t)blob[2] << 16) | ((uint32_t)blob[3] << 24);
    size_t units = trie_size / 4;
    if (units > (n - 4) / 4) {
        free(blob);
        return lc_error(LC_ERR_FORMAT, "%s: Precompiled: charsmap trie size %u exceeds the blob", path, trie_size);
    }
    tk_precompiled *p = calloc(1, sizeof *p);
    if (!p) { free(blob); return lc_error(LC_ERR_NOMEM, "%s: out of memory", path); }
    p->n_units = units;
    p->units = malloc((units ? units : 1) * sizeof *p->units);
    size_t rest = n - 4 - units * 4;
    p->normalized = malloc(rest + 1);
    if (!p->units || !p->normalized) {
        free(blob);
        tk_precompiled_free(p);
        return lc_error(LC_ERR_NOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < units; i++) {
        const unsigned char *u = blob + 4 + 4 * i;
        p->units[i] = (uint32_t)u[0] | ((uint32_t)u[1] << 8) | ((uint32_t)u[2] << 16) | ((uint32_t)u[3] << 24);
    }
    memcpy(p->normalized, blob + 4 + units * 4, rest);
    p->normalized[rest] = '\0';
    p->n_normalized = rest;
    free(blob);
    if (!tk_utf8_valid(p->normalized, rest)) {
        tk_precompiled_free(p);
        return lc_error(LC_ERR_FORMAT, "%s: Precompiled: the charsmap's replacement strings are not valid UTF-8", path);
    }
    if (units == 0) {
        tk_precompiled_free(p);
        return lc_error(LC_ERR_FORMAT, "%s: Precompiled: the charsmap has an empty trie", path);
    }
    for (unsigned b = 1; b < 128; b++) {
        unsigned char key = (unsigned char)b;
        const char *rep = NULL;
        size_t rl = 0;
        int r = first_match(p, &key, 1, &rep, &rl);
        p->ascii_state[b] = (signed char)r;
        p->ascii_off[b] = r > 0 ? (uint32_t)(rep - p->normalized) : 0;
        p->ascii_len[b] = r > 0 ? (uint32_t)rl : 0;
    }
    *out = p;
    return LC_OK;
}

void tk_precompiled_free(tk_precompiled *p) {
    if (!p) return;
    free(p->units);
    free(p->normalized);
    free(p);
}

static inline bool unit_leaf(uint64_t u) { return (u >> 8) & 1; }
static inline uint64_t unit_value(uint64_t u) { return u & ((1ull << 31) - 1); }
static inline uint64_t unit_label(uint64_t u) { return u & ((1ull << 31) | 0xff); }
static inline uint64_t unit_offset(uint64_t u) { return (u >> 10) << ((u & (1ull << 9)) >> 6); }

/* First (shortest) match of the trie on key; 1 found, 0 none, -1 corrupt trie. */
static int first_match(const tk_precompiled *p, const unsigned char *key, size_t n, const char **rep, size_t *rep_len) {
    uint64_t pos = 0;
    uint64_t unit = p->units[0];
    pos ^= unit_offset(unit);
    for (size_t i = 0; i < n; i++) {
        unsigned c = key[i];
        if (c == 0) break;
        pos ^= c;
        if (pos >= p->n_units) return -1;
        unit = p->units[pos];
        if (unit_label(unit) != c) return 0;
        pos ^= unit_offset(unit);
        if (unit_leaf(unit)) {
            if (pos >= p->n_units) return -1;
            uint64_t idx = unit_value(p->units[pos]);
            if (idx > p->n_normalized) return -1;
            size_t e = (size_t)idx;
            while (e < p->n_normalized && p->normalized[e] != '\0') e++;
            /* the slice must start on a character boundary */
            if (idx < p->n_normalized && ((unsigned char)p->normalized[idx] & 0xc0) == 0x80) return -1;
            *rep = p->normalized + idx;
            *rep_len = e - (size_t)idx;
            return 1;
        }
    }
    return 0;
}

static lc_status corrupt(void) {
    return lc_error(LC_ERR_FORMAT, "tokenizer: Precompiled charsmap is corrupt (trie points outside its data)");
}

lc_status tk_precompiled_apply(const tk_precompiled *p, tk_text *t, tk_buf *tmp) {
    const unsigned char *s = (const unsigned char *)t->s.p;
    size_t n = t->s.len, zero = 0;
    bool modified = false;
    tmp->len = 0;
    if (!tk_buf_reserve(tmp, n + 16)) return lc_error(LC_ERR_NOMEM, "tokenizer: out of memory");
    utf8proc_int32_t state = 0;
    size_t g = 0; /* start of the current grapheme */
    while (g < n) {
        /* ASCII followed by ASCII (not CR LF) is a grapheme of its own: table lookup */
        unsigned char c0 = s[g];
        if (c0 < 0x80 && c0 != 0 && (g + 1 == n || (s[g + 1] < 0x80 && !(c0 == '\r' && s[g + 1] == '\n')))) {
            int r = p->ascii_state[c0];
            if (r < 0) return corrupt();
            bool ok = r ? (modified = true, tk_buf_append(tmp, p->normalized + p->ascii_off[c0], p->ascii_len[c0]))
                        : tk_buf_append(tmp, s + g, 1);
            if (!ok) return lc_error(LC_ERR_NOMEM, "tokenizer: out of memory");
            g++;
            if (g <= t->zero) zero = tmp->len;
            continue;
        }
        /* find the end of the grapheme starting at g */
        size_t l;
        uint32_t prev = tk_utf8_decode(s + g, n - g, &l);
        size_t e = g + l;
        state = 0;
        while (e < n) {
            size_t l2;
            uint32_t c = tk_utf8_decode(s + e, n - e, &l2);
            if (utf8proc_grapheme_break_stateful((utf8proc_int32_t)prev, (utf8proc_int32_t)c, &state)) break;
            prev = c;
            e += l2;
        }
        const char *rep;
        size_t rl;
        int r = 0;
        if (e - g < 6) {
            r = first_match(p, s + g, e - g, &rep, &rl);
            if (r < 0) return corrupt();
            if (r) {
                modified = true;
                if (!tk_buf_append(tmp, rep, rl)) return lc_error(LC_ERR_NOMEM, "tokenizer: out of memory");
            }
        }
        if (!r) {
            for (size_t i = g; i < e;) {
                size_t cl = tk_utf8_len(s[i]);
                int rc = first_match(p, s + i, cl, &rep, &rl);
                if (rc < 0) return corrupt();
                bool ok = rc ? (modified = true, tk_buf_append(tmp, rep, rl)) : tk_buf_append(tmp, s + i, cl);
                if (!ok) return lc_error(LC_ERR_NOMEM, "tokenizer: out of memory");
                i += cl;
                if (i <= t->zero) zero = tmp->len;
            }
        }
        if (e <= t->zero || (g < t->zero && r)) zero = tmp->len;
        g = e;
    }
    if (!modified) {
        tmp->len = 0;
        return LC_OK;
    }
    tk_buf b = t->s;
    t->s = *tmp;
    *tmp = b;
    tmp->len = 0;
    t->zero = zero;
    return LC_OK;
}
