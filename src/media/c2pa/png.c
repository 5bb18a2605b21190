/*
 * PNG: the C2PA manifest store is the data of a "caBX" chunk. Chunks are walked by their headers
 * only (pread of 8 bytes each); image data is never read here.
 */
#include "c2pa_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Visit each chunk: fn(type, chunk offset, data length, ctx); stops at IEND. */
typedef lc_status (*chunk_fn)(const c2pa_src *s, const uint8_t type[4], uint64_t off, uint32_t len, void *ctx);

static lc_status walk_chunks(const c2pa_src *s, chunk_fn fn, void *ctx) {
    uint8_t hdr[8];
    lc_status st = c2pa_src_read(s, 0, hdr, 8, "PNG signature");
    if (st) return st;
    if (memcmp(hdr, png_sig, 8) != 0) return lc_error(LC_ERR_FORMAT, "%s: not a PNG file", s->name);
    uint64_t off = 8;
    for (;;) {
        if ((st = c2pa_src_read(s, off, hdr, 8, "PNG chunk header"))) return st;
        uint32_t len = be32(hdr);
        if (len > 0x7fffffffu)
            return lc_error(LC_ERR_FORMAT, "%s: PNG chunk at byte %llu declares an absurd length %u", s->name,
                            (unsigned long long)off, len);
        for (int i = 4; i < 8; i++)
            if (!((hdr[i] >= 'A' && hdr[i] <= 'Z') || (hdr[i] >= 'a' && hdr[i] <= 'z')))
                return lc_error(LC_ERR_FORMAT, "%s: corrupt PNG: bad chunk type at byte %llu", s->name,
                                (unsigned long long)off);
        if (off + 12 + (uint64_t)len > s->size)
            return lc_error(LC_ERR_FORMAT, "%s: truncated file: PNG chunk %.4s at byte %llu runs past the end",
                            s->name, (const char *)hdr + 4, (unsigned long long)off);
        if ((st = fn(s, hdr + 4, off, len, ctx))) return st;
        off += 12 + (uint64_t)len;
        if (memcmp(hdr + 4, "IEND", 4) == 0) break;
    }
    return LC_OK;
}

static lc_status find_cabx(const c2pa_src *s, const uint8_t type[4], uint64_t off, uint32_t len, void *ctx) {
    c2pa_container *c = ctx;
    if (memcmp(type, "caBX", 4) != 0 || c->store) return LC_OK;
    if (len > C2PA_MAX_STORE_BYTES)
        return lc_error(LC_ERR_FORMAT, "%s: caBX chunk of %u bytes is larger than locus accepts", s->name, len);
    if (len < 8) return lc_error(LC_ERR_FORMAT, "%s: caBX chunk too short for a JUMBF box", s->name);
    uint8_t *buf = malloc(len);
    if (!buf) return lc_error(LC_ERR_NOMEM, "%s: out of memory for the manifest store", s->name);
    lc_status st = c2pa_src_read(s, off + 8, buf, len, "caBX chunk");
    if (st) {
        free(buf);
        return st;
    }
    c->store = buf;
    c->store_len = len;
    c->store_span.off = off;
    c->store_span.len = 12 + (uint64_t)len;
    return LC_OK;
}

lc_status c2pa_png_read_store(const c2pa_src *s, c2pa_container *c) {
    c->format = C2PA_FMT_PNG;
    lc_status st = walk_chunks(s, find_cabx, c);
    if (st) {
        free(c->store);
        c->store = NULL;
        c->store_len = 0;
    }
    return st;
}

typedef struct {
    c2pa_named_box *boxes;
    size_t n, cap;
} box_list;

static lc_status add_chunk(const c2pa_src *s, const uint8_t type[4], uint64_t off, uint32_t len, void *ctx) {
    box_list *l = ctx;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 32;
        c2pa_named_box *b = realloc(l->boxes, nc * sizeof *b);
        if (!b) return lc_error(LC_ERR_NOMEM, "%s: out of memory for the PNG chunk map", s->name);
        l->boxes = b;
        l->cap = nc;
    }
    c2pa_named_box *b = &l->boxes[l->n++];
    memset(b->name, 0, sizeof b->name);
    if (memcmp(type, "caBX", 4) == 0) memcpy(b->name, "C2PA", 4);
    else memcpy(b->name, type, 4);
    b->off = off;
    b->len = 12 + (uint64_t)len;
    return LC_OK;
}

lc_status c2pa_png_box_map(const c2pa_src *s, c2pa_named_box **boxes, size_t *n) {
    box_list l = {0};
    /* The signature is a box of its own ("PNGh" in c2pa-rs). */
    l.boxes = malloc(32 * sizeof *l.boxes);
    if (!l.boxes) return lc_error(LC_ERR_NOMEM, "out of memory");
    l.cap = 32;
    memset(&l.boxes[0], 0, sizeof l.boxes[0]);
    memcpy(l.boxes[0].name, "PNGh", 4);
    l.boxes[0].off = 0;
    l.boxes[0].len = 8;
    l.n = 1;
    lc_status st = walk_chunks(s, add_chunk, &l);
    if (st) {
        free(l.boxes);
        return st;
    }
    *boxes = l.boxes;
    *n = l.n;
    return LC_OK;
}

c2pa_format c2pa_sniff(const c2pa_src *s) {
    uint8_t h[8];
    if (s->size >= 8 && c2pa_src_read(s, 0, h, 8, "header") == LC_OK && memcmp(h, png_sig, 8) == 0)
        return C2PA_FMT_PNG;
    if (s->size >= 2 && c2pa_src_read(s, 0, h, 2, "header") == LC_OK && h[0] == 0xFF && h[1] == 0xD8)
        return C2PA_FMT_JPEG;
    return C2PA_FMT_UNKNOWN;
}

lc_status c2pa_container_read(const c2pa_src *s, c2pa_container *c) {
    memset(c, 0, sizeof *c);
    switch (c2pa_sniff(s)) {
    case C2PA_FMT_JPEG: return c2pa_jpeg_read_store(s, c);
    case C2PA_FMT_PNG: return c2pa_png_read_store(s, c);
    default:
        if (s->size == 0) return lc_error(LC_ERR_FORMAT, "%s: empty file", s->name);
        return lc_error(LC_ERR_UNSUPPORTED, "%s: not a JPEG or PNG file", s->name);
    }
}

void c2pa_container_free(c2pa_container *c) {
    free(c->store);
    memset(c, 0, sizeof *c);
}
