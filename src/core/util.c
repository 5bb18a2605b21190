/* Small utilities shared across the library: UTF-8 validation, whole-file reads with a limit. */
#include "core/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lc_utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) n = 1, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0) n = 2, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0) n = 3, cp = c & 0x07;
        else return false;
        if (i + n >= len) return false; /* truncated sequence */
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        /* overlong forms, beyond U+10FFFF, surrogates */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

lc_status lc_read_file(const char *path, size_t limit, char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return lc_error(LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= limit) {
                free(buf);
                fclose(f);
                return lc_error(LC_ERR_FORMAT, "%s: larger than the limit of %zu bytes", path, limit);
            }
            cap = cap ? cap * 2 : 65536;
            if (cap > limit) cap = limit;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return lc_error(LC_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return lc_error(LC_ERR_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return LC_OK;
}
