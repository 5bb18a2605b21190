/* Helpers shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(const char *cmd) {
    const char *msg = lc_last_error();
    fprintf(stderr, "locus %s: %s\n", cmd, msg[0] ? msg : "failed");
    return 1;
}

int cli_failf(const char *cmd, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "locus %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

bool cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out) {
    if (!s) {
        cli_failf(cmd, 2, "%s needs a value", opt);
        return false;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_failf(cmd, 2, "%s: '%s' is not an integer in [%ld, %ld]", opt, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

bool cli_utf8_valid(const char *s, size_t len) { return lc_utf8_valid(s, len); }

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void cli_free_texts(size_t n, char **texts) {
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
}

bool cli_read_texts(const char *cmd, int argc, char **argv, size_t *n_out, char ***texts_out) {
    size_t n = 0, cap = 16;
    char **texts = malloc(cap * sizeof *texts);
    if (!texts) goto nomem;
    if (argc > 0) {
        for (int i = 0; i < argc; i++) {
            size_t len = strlen(argv[i]);
            if (!cli_utf8_valid(argv[i], len)) {
                cli_failf(cmd, 1, "text argument %d is not valid UTF-8", i + 1);
                cli_free_texts(n, texts);
                return false;
            }
            if (n == cap) {
                char **t = realloc(texts, (cap *= 2) * sizeof *texts);
                if (!t) goto nomem;
                texts = t;
            }
            if (!(texts[n] = dup_n(argv[i], len))) goto nomem;
            n++;
        }
    } else {
        char *line = NULL;
        size_t lcap = 0;
        ssize_t len;
        size_t lineno = 0;
        while ((len = getline(&line, &lcap, stdin)) >= 0) {
            lineno++;
            if (len > 0 && line[len - 1] == '\n') len--;
            if (len > 0 && line[len - 1] == '\r') len--;
            if (memchr(line, '\0', (size_t)len) || !cli_utf8_valid(line, (size_t)len)) {
                cli_failf(cmd, 1, "standard input line %zu is not valid UTF-8 text", lineno);
                free(line);
                cli_free_texts(n, texts);
                return false;
            }
            if (n == cap) {
                char **t = realloc(texts, (cap *= 2) * sizeof *texts);
                if (!t) { free(line); goto nomem; }
                texts = t;
            }
            if (!(texts[n] = dup_n(line, (size_t)len))) { free(line); goto nomem; }
            n++;
        }
        free(line);
    }
    *n_out = n;
    *texts_out = texts;
    return true;
nomem:
    cli_failf(cmd, 1, "out of memory reading texts");
    if (texts) cli_free_texts(n, texts);
    return false;
}

void cli_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

void cli_json_float(FILE *f, float v) {
    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    char buf[32];
    /* Shortest representation that reads back to the same float. */
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    fputs(buf, f);
}
