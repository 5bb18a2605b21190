/*
 * Writing JUMBF boxes (ISO/IEC 19566-5) and the byte buffer they are written into.
 *
 * A box is LBox (4 bytes, big-endian, the whole box's size) + TBox (4 characters) + payload. A
 * superbox ("jumb") holds a description box ("jumd": type UUID, toggles, label) followed by its
 * content boxes. C2PA labels every box and marks it requestable (toggles 0x03).
 */
#include "sign_internal.h"

#include <stdlib.h>
#include <string.h>

/* C2PA type UUIDs: four ASCII characters followed by the ISO suffix 0011-0010-8000-00AA00389B71. */
#define C2PA_UUID(a, b, c, d) {a, b, c, d, 0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71}
const uint8_t LC_JUMBF_UUID_STORE[16] = C2PA_UUID('c', '2', 'p', 'a');
const uint8_t LC_JUMBF_UUID_MANIFEST[16] = C2PA_UUID('c', '2', 'm', 'a');
const uint8_t LC_JUMBF_UUID_ASSERTIONS[16] = C2PA_UUID('c', '2', 'a', 's');
const uint8_t LC_JUMBF_UUID_CLAIM[16] = C2PA_UUID('c', '2', 'c', 'l');
const uint8_t LC_JUMBF_UUID_SIGNATURE[16] = C2PA_UUID('c', '2', 'c', 's');
const uint8_t LC_JUMBF_UUID_CBOR[16] = C2PA_UUID('c', 'b', 'o', 'r');
const uint8_t LC_JUMBF_UUID_JSON[16] = C2PA_UUID('j', 's', 'o', 'n');

/* ---- byte buffer ------------------------------------------------------------------------- */
void lc_sbuf_free(lc_sbuf *b) {
    free(b->data);
    *b = (lc_sbuf){0};
}

static bool sbuf_reserve(lc_sbuf *b, size_t extra) {
    if (b->failed) return false;
    size_t need;
    if (__builtin_add_overflow(b->len, extra, &need)) {
        b->failed = true;
        return false;
    }
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void lc_sbuf_append(lc_sbuf *b, const void *data, size_t n) {
    if (n == 0 || !sbuf_reserve(b, n)) return;
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

void lc_sbuf_byte(lc_sbuf *b, uint8_t v) { lc_sbuf_append(b, &v, 1); }

void lc_sbuf_be16(lc_sbuf *b, uint16_t v) {
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    lc_sbuf_append(b, x, 2);
}

void lc_sbuf_be32(lc_sbuf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    lc_sbuf_append(b, x, 4);
}

void lc_sbuf_patch_be32(lc_sbuf *b, size_t at, uint32_t v) {
    if (b->failed || at + 4 > b->len) return;
    b->data[at] = (uint8_t)(v >> 24);
    b->data[at + 1] = (uint8_t)(v >> 16);
    b->data[at + 2] = (uint8_t)(v >> 8);
    b->data[at + 3] = (uint8_t)v;
}

/* ---- boxes ------------------------------------------------------------------------------- */
size_t lc_jumbf_begin(lc_sbuf *b, const uint8_t uuid[16], const char *label) {
    size_t begin = b->len;
    size_t label_len = strlen(label);
    lc_sbuf_be32(b, 0); /* LBox, patched by lc_jumbf_end */
    lc_sbuf_append(b, "jumb", 4);
    /* description box: LBox, "jumd", UUID, toggles (requestable | label present), label + NUL */
    lc_sbuf_be32(b, (uint32_t)(8 + 16 + 1 + label_len + 1));
    lc_sbuf_append(b, "jumd", 4);
    lc_sbuf_append(b, uuid, 16);
    lc_sbuf_byte(b, 0x03);
    lc_sbuf_append(b, label, label_len + 1);
    return begin;
}

void lc_jumbf_end(lc_sbuf *b, size_t begin) {
    if (b->len - begin > UINT32_MAX) {
        b->failed = true;
        return;
    }
    lc_sbuf_patch_be32(b, begin, (uint32_t)(b->len - begin));
}

void lc_jumbf_content(lc_sbuf *b, const char type[4], const void *data, size_t n) {
    if (n > UINT32_MAX - 8) {
        b->failed = true;
        return;
    }
    lc_sbuf_be32(b, (uint32_t)(8 + n));
    lc_sbuf_append(b, type, 4);
    lc_sbuf_append(b, data, n);
}

void lc_jumbf_single(lc_sbuf *b, const uint8_t uuid[16], const char *label, const char type[4],
                     const void *data, size_t n) {
    size_t at = lc_jumbf_begin(b, uuid, label);
    lc_jumbf_content(b, type, data, n);
    lc_jumbf_end(b, at);
}
