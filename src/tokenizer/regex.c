/* Patterns of Split and Replace. Regex patterns run on Oniguruma, the engine `tokenizers` itself
 * uses for them (its SysRegex), so the syntax and the matches are the same. String patterns are
 * matched as literals. Iteration follows the onig crate's find_iter: an empty match right where the
 * previous match ended is skipped by advancing one character. */
#define _GNU_SOURCE /* memmem */
#include "tok_internal.h"

#include <oniguruma.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct tk_regex {
    regex_t *re; /* NULL for a non-empty literal */
    char *lit;
    size_t lit_len;
};

static pthread_once_t onig_once = PTHREAD_ONCE_INIT;
static void onig_setup(void) {
    OnigEncoding enc[] = {ONIG_ENCODING_UTF8};
    onig_initialize(enc, 1);
}

lc_status tk_regex_new(const char *path, const char *pattern, size_t len, bool literal, tk_regex **out) {
    *out = NULL;
    tk_regex *r = calloc(1, sizeof *r);
    if (!r) return lc_error(LC_ERR_NOMEM, "%s: out of memory", path);
    if (literal && len > 0) {
        r->lit = malloc(len);
        if (!r->lit) {
            free(r);
            return lc_error(LC_ERR_NOMEM, "%s: out of memory", path);
        }
        memcpy(r->lit, pattern, len);
        r->lit_len = len;
        *out = r;
        return LC_OK;
    }
    pthread_once(&onig_once, onig_setup);
    OnigErrorInfo einfo;
    int rc = onig_new(&r->re, (const OnigUChar *)pattern, (const OnigUChar *)pattern + len, ONIG_OPTION_NONE,
                      ONIG_ENCODING_UTF8, ONIG_SYNTAX_DEFAULT, &einfo);
    if (rc != ONIG_NORMAL) {
        OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
        onig_error_code_to_str(msg, rc, &einfo);
        free(r);
        return lc_error(LC_ERR_FORMAT, "%s: bad regular expression '%.60s': %s", path, pattern, (const char *)msg);
    }
    *out = r;
    return LC_OK;
}

void tk_regex_free(tk_regex *r) {
    if (!r) return;
    if (r->re) onig_free(r->re);
    free(r->lit);
    free(r);
}

static bool push(tk_match **v, size_t *n, size_t *cap, size_t s, size_t e) {
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        tk_match *nv = realloc(*v, c * sizeof *nv);
        if (!nv) return false;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = (tk_match){s, e};
    return true;
}

bool tk_regex_find_all(const tk_regex *r, const char *s, size_t n, tk_match **v, size_t *count, size_t *cap) {
    *count = 0;
    if (!r->re) {
        size_t i = 0;
        while (i + r->lit_len <= n) {
            const char *p = memmem(s + i, n - i, r->lit, r->lit_len);
            if (!p) break;
            size_t st = (size_t)(p - s);
            if (!push(v, count, cap, st, st + r->lit_len)) return false;
            i = st + r->lit_len;
        }
        return true;
    }
    OnigRegion *region = onig_region_new();
    if (!region) return false;
    const OnigUChar *str = (const OnigUChar *)s, *end = str + n;
    size_t last_end = 0;
    bool have_last = false;
    size_t last_match_end = 0;
    bool ok = true;
    while (last_end <= n) {
        onig_region_clear(region);
        int rc = onig_search(r->re, str, end, str + last_end, end, region, ONIG_OPTION_NONE);
        if (rc == ONIG_MISMATCH) break;
        if (rc < 0) { ok = false; break; }
        size_t ms = (size_t)region->beg[0], me = (size_t)region->end[0];
        if (ms == me && have_last && last_match_end == me) {
            last_end += last_end < n ? tk_utf8_len((unsigned char)s[last_end]) : 1;
            continue;
        }
        last_end = me;
        have_last = true;
        last_match_end = me;
        if (!push(v, count, cap, ms, me)) { ok = false; break; }
    }
    onig_region_free(region, 1);
    return ok;
}
