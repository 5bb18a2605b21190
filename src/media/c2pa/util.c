/* Small string helpers of the C2PA report. */
#include "c2pa_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *c2pa_strndup(const char *s, size_t n) {
    if (!s) return NULL;
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *c2pa_strdup(const char *s) { return s ? c2pa_strndup(s, strlen(s)) : NULL; }

char *c2pa_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

bool c2pa_strlist_push(c2pa_strlist *l, const char *s) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **items = realloc(l->items, cap * sizeof *items);
        if (!items) return false;
        l->items = items;
        l->cap = cap;
    }
    char *d = c2pa_strdup(s ? s : "");
    if (!d) return false;
    l->items[l->n++] = d;
    return true;
}

void c2pa_strlist_free(c2pa_strlist *l) {
    for (size_t i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* As c2pa-rs reads a manifest label out of a JUMBF URI: the part after "=", which must be
 * "/c2pa/<label>[/...]" (or the same without the leading slash). */
char *c2pa_uri_manifest_label(const char *uri) {
    if (!uri) return NULL;
    const char *eq = strchr(uri, '=');
    const char *p = eq ? eq + 1 : uri;
    if (strncmp(p, "c2pa/", 5) == 0) p += 5;
    else if (strncmp(p, "/c2pa/", 6) == 0) p += 6;
    else return NULL;
    size_t n = strcspn(p, "/=");
    return c2pa_strndup(p, n);
}
