/*
 * JPEG: the C2PA manifest store lives in APP11 (0xFFEB) segments as JUMBF (ISO 19566-5).
 * Each segment's payload is: CI "JP" (2 bytes), box instance number En (2), packet sequence
 * number Z (4), then the box bytes. The first packet (Z = 1) starts with the box header
 * (LBox, TBox[, XLBox]); later packets repeat that header, which is skipped when reassembling.
 * Only the header segments before the first scan are read: the entropy-coded data is never
 * touched here (it is streamed through the hash later).
 */
#include "c2pa_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* Is this a marker without a length field? */
static bool standalone_marker(uint8_t m) { return (m >= 0xD0 && m <= 0xD7) || m == 0x01 || m == 0xD8; }

lc_status c2pa_jpeg_read_store(const c2pa_src *s, c2pa_container *c) {
    uint8_t hdr[48];
    lc_status st = c2pa_src_read(s, 0, hdr, 2, "JPEG start of image");
    if (st) return st;
    if (hdr[0] != 0xFF || hdr[1] != 0xD8) return lc_error(LC_ERR_FORMAT, "%s: not a JPEG file", s->name);
    uint64_t off = 2;
    bool found = false;
    uint16_t en = 0;
    uint32_t next_z = 1;
    uint64_t total = 0; /* LBox of the store */
    size_t have = 0;
    uint8_t *buf = NULL;
    for (;;) {
        if ((st = c2pa_src_read(s, off, hdr, 2, "JPEG marker"))) goto fail;
        if (hdr[0] != 0xFF) {
            st = lc_error(LC_ERR_FORMAT, "%s: corrupt JPEG: expected a marker at byte %llu, found 0x%02x", s->name,
                          (unsigned long long)off, hdr[0]);
            goto fail;
        }
        if (hdr[1] == 0xFF) { /* fill byte */
            off++;
            continue;
        }
        uint8_t m = hdr[1];
        if (standalone_marker(m)) {
            off += 2;
            continue;
        }
        if (m == 0xD9 || m == 0xDA) break; /* EOI, or start of scan: C2PA data must come before */
        if ((st = c2pa_src_read(s, off + 2, hdr, 2, "JPEG segment length"))) goto fail;
        uint32_t L = (uint32_t)hdr[0] << 8 | hdr[1];
        if (L < 2) {
            st = lc_error(LC_ERR_FORMAT, "%s: corrupt JPEG: segment 0xFF%02X at byte %llu has length %u", s->name, m,
                          (unsigned long long)off, L);
            goto fail;
        }
        uint64_t seg_off = off;
        uint64_t seg_end = off + 2 + L;
        if (seg_end > s->size) {
            st = lc_error(LC_ERR_FORMAT, "%s: truncated file: JPEG segment 0xFF%02X at byte %llu runs past the end",
                          s->name, m, (unsigned long long)off);
            goto fail;
        }
        if (m == 0xEB && L >= 2 + 8 + 8) {
            size_t plen = L - 2;
            size_t peek = plen < 40 ? plen : 40;
            if ((st = c2pa_src_read(s, off + 4, hdr, peek, "APP11 segment"))) goto fail;
            uint16_t seg_en = (uint16_t)(hdr[2] << 8 | hdr[3]);
            uint32_t z = be32(hdr + 4);
            bool is_jp = hdr[0] == 'J' && hdr[1] == 'P';
            if (is_jp && found && z == 1 && seg_en != en && memcmp(hdr + 12, "jumb", 4) == 0 && peek >= 36 &&
                memcmp(hdr + 20, "jumd", 4) == 0 && memcmp(hdr + 24, "c2pa", 4) == 0) {
                /* A second manifest store: ambiguous, refused as c2pa-rs refuses it. */
                st = lc_error(LC_ERR_FORMAT, "%s: more than one C2PA manifest store (APP11 at byte %llu)", s->name,
                              (unsigned long long)off);
                goto fail;
            }
            if (is_jp && !found && z == 1 && memcmp(hdr + 12, "jumb", 4) == 0) {
                /* A new JUMBF box: is it the C2PA store (description type "c2pa")? */
                uint64_t lbox = be32(hdr + 8);
                size_t box_hdr = 8;
                if (lbox == 1) {
                    if (peek < 24) goto next;
                    lbox = be64(hdr + 16);
                    box_hdr = 16;
                }
                if (peek >= 8 + box_hdr + 12 && memcmp(hdr + 8 + box_hdr + 4, "jumd", 4) == 0 &&
                    memcmp(hdr + 8 + box_hdr + 8, "c2pa", 4) == 0) {
                    if (lbox < box_hdr || lbox > C2PA_MAX_STORE_BYTES || lbox > s->size) {
                        st = lc_error(LC_ERR_FORMAT,
                                      "%s: C2PA manifest store declares an absurd length of %llu bytes (file is %llu)",
                                      s->name, (unsigned long long)lbox, (unsigned long long)s->size);
                        goto fail;
                    }
                    found = true;
                    en = seg_en;
                    total = lbox;
                    buf = malloc((size_t)total);
                    if (!buf) {
                        st = lc_error(LC_ERR_NOMEM, "%s: out of memory for a %llu-byte manifest store", s->name,
                                      (unsigned long long)total);
                        goto fail;
                    }
                    c->store_span.off = seg_off;
                    size_t n = plen - 8;
                    if (n > total) {
                        st = lc_error(LC_ERR_FORMAT, "%s: APP11 segment holds more bytes than its JUMBF box declares",
                                      s->name);
                        goto fail;
                    }
                    if ((st = c2pa_src_read(s, off + 4 + 8, buf, n, "APP11 segment"))) goto fail;
                    have = n;
                    next_z = 2;
                    c->store_span.len = seg_end - seg_off;
                }
            } else if (is_jp && found && seg_en == en && have < total) {
                if (z != next_z) {
                    st = lc_error(LC_ERR_FORMAT,
                                  "%s: APP11 packets of the manifest store out of order (Z %u, expected %u)", s->name,
                                  z, next_z);
                    goto fail;
                }
                size_t box_hdr = be32(hdr + 8) == 1 ? 16 : 8;
                if (plen < 8 + box_hdr) {
                    st = lc_error(LC_ERR_FORMAT, "%s: APP11 continuation segment too short", s->name);
                    goto fail;
                }
                size_t n = plen - 8 - box_hdr;
                if (n > total - have) {
                    st = lc_error(LC_ERR_FORMAT, "%s: APP11 segments hold more bytes than the manifest store declares",
                                  s->name);
                    goto fail;
                }
                if ((st = c2pa_src_read(s, off + 4 + 8 + box_hdr, buf + have, n, "APP11 segment"))) goto fail;
                have += n;
                next_z++;
                c->store_span.len = seg_end - c->store_span.off;
            }
        }
    next:
        off = seg_end;
    }
    if (found && have != total) {
        st = lc_error(LC_ERR_FORMAT, "%s: C2PA manifest store is truncated: %zu of %llu bytes present", s->name, have,
                      (unsigned long long)total);
        goto fail;
    }
    c->format = C2PA_FMT_JPEG;
    c->store = buf;
    c->store_len = found ? (size_t)total : 0;
    return LC_OK;
fail:
    free(buf);
    return st;
}

/*
 * Box map for c2pa.hash.boxes, named as c2pa-rs names JPEG boxes: "SOI", "APPn", "DQT", "DHT",
 * "SOFn", "DRI", "COM", "SOS" (the scan header with its entropy-coded data), "EOI", and "C2PA" for
 * the APP11 segments of the manifest store (one box).
 */
static const char *marker_name(uint8_t m, char *buf) {
    if (m >= 0xE0 && m <= 0xEF) {
        snprintf(buf, 8, "APP%d", m - 0xE0);
        return buf;
    }
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
        snprintf(buf, 8, "SOF%d", m - 0xC0);
        return buf;
    }
    if (m >= 0xD0 && m <= 0xD7) {
        snprintf(buf, 8, "RST%d", m - 0xD0);
        return buf;
    }
    switch (m) {
    case 0xD8: return "SOI";
    case 0xD9: return "EOI";
    case 0xDA: return "SOS";
    case 0xDB: return "DQT";
    case 0xC4: return "DHT";
    case 0xDD: return "DRI";
    case 0xFE: return "COM";
    case 0xCC: return "DAC";
    case 0xDC: return "DNL";
    case 0xDE: return "DHP";
    case 0xDF: return "EXP";
    }
    if (m >= 0xF0 && m <= 0xFD) {
        snprintf(buf, 8, "JPG%d", m - 0xF0);
        return buf;
    }
    snprintf(buf, 8, "M%02X", m);
    return buf;
}

static lc_status push_box(c2pa_named_box **boxes, size_t *n, size_t *cap, const char *name, uint64_t off,
                          uint64_t len) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        c2pa_named_box *b = realloc(*boxes, nc * sizeof *b);
        if (!b) return lc_error(LC_ERR_NOMEM, "out of memory for the JPEG box map");
        *boxes = b;
        *cap = nc;
    }
    c2pa_named_box *b = &(*boxes)[(*n)++];
    snprintf(b->name, sizeof b->name, "%s", name);
    b->off = off;
    b->len = len;
    return LC_OK;
}

lc_status c2pa_jpeg_box_map(const c2pa_src *s, c2pa_named_box **boxes_out, size_t *n_out) {
    c2pa_named_box *boxes = NULL;
    size_t n = 0, cap = 0;
    uint8_t hdr[16];
    char nb[8];
    lc_status st;
    uint64_t off = 0;
    bool in_c2pa = false;
    for (;;) {
        if (off >= s->size) break;
        if ((st = c2pa_src_read(s, off, hdr, 2, "JPEG marker"))) goto fail;
        if (hdr[0] != 0xFF) {
            st = lc_error(LC_ERR_FORMAT, "%s: corrupt JPEG: expected a marker at byte %llu", s->name,
                          (unsigned long long)off);
            goto fail;
        }
        uint8_t m = hdr[1];
        if (m == 0xFF) {
            off++;
            continue;
        }
        if (standalone_marker(m) || m == 0xD9) {
            in_c2pa = false;
            if ((st = push_box(&boxes, &n, &cap, marker_name(m, nb), off, 2))) goto fail;
            off += 2;
            if (m == 0xD9) break;
            continue;
        }
        if ((st = c2pa_src_read(s, off + 2, hdr, 2, "JPEG segment length"))) goto fail;
        uint32_t L = (uint32_t)hdr[0] << 8 | hdr[1];
        if (L < 2 || off + 2 + L > s->size) {
            st = lc_error(LC_ERR_FORMAT, "%s: corrupt JPEG segment at byte %llu", s->name, (unsigned long long)off);
            goto fail;
        }
        uint64_t end = off + 2 + L;
        if (m == 0xEB && L >= 2 + 8) {
            uint8_t p[8];
            if ((st = c2pa_src_read(s, off + 4, p, 8, "APP11 segment"))) goto fail;
            if (p[0] == 'J' && p[1] == 'P') {
                /* Consecutive JUMBF APP11 segments form one "C2PA" box. */
                if (in_c2pa) {
                    boxes[n - 1].len = end - boxes[n - 1].off;
                } else if ((st = push_box(&boxes, &n, &cap, "C2PA", off, end - off))) {
                    goto fail;
                }
                in_c2pa = true;
                off = end;
                continue;
            }
        }
        in_c2pa = false;
        if (m == 0xDA) {
            /* The scan: header plus entropy-coded data up to the next 0xFF that is not followed by
             * a stuffed 0x00 or an RSTn (as c2pa-rs delimits it). Scanned in blocks. As in c2pa-rs,
             * each restart marker inside is also a box of its own (its 2 bytes), listed after SOS. */
            uint64_t p = end;
            uint8_t blk[65536];
            bool done = false;
            size_t sos_index = n;
            if ((st = push_box(&boxes, &n, &cap, "SOS", off, 0))) goto fail;
            while (!done && p < s->size) {
                size_t want = s->size - p < sizeof blk ? (size_t)(s->size - p) : sizeof blk;
                if ((st = c2pa_src_read(s, p, blk, want, "JPEG scan data"))) goto fail;
                for (size_t i = 0; i + 1 < want; i++) {
                    if (blk[i] != 0xFF) continue;
                    uint8_t nx = blk[i + 1];
                    if (nx == 0x00) continue;
                    if (nx >= 0xD0 && nx <= 0xD7) {
                        if ((st = push_box(&boxes, &n, &cap, marker_name(nx, nb), p + i, 2))) goto fail;
                        continue;
                    }
                    p += i;
                    done = true;
                    break;
                }
                if (!done) p += want > 1 ? want - 1 : want;
            }
            if (!done) p = s->size;
            boxes[sos_index].len = p - off;
            off = p;
            continue;
        }
        if ((st = push_box(&boxes, &n, &cap, marker_name(m, nb), off, end - off))) goto fail;
        off = end;
    }
    *boxes_out = boxes;
    *n_out = n;
    return LC_OK;
fail:
    free(boxes);
    return st;
}
