/*
 * JPEG container for signing: find and remove an existing C2PA manifest store (APP11 segments),
 * choose where the new one goes, and wrap a store into APP11 segments.
 *
 * An APP11 segment of JUMBF (ISO/IEC 19566-5, JPEG XT "JP" boxes) is
 *   FF EB, Lp (2, counts itself), CI "JP", En (2, box instance), Z (4, sequence number from 1),
 *   then for Z = 1 the superbox from its start, and for Z > 1 the superbox's LBox + TBox again
 *   followed by the next piece of its payload.
 * The new store goes after the leading APP0 (JFIF) / APP1 (Exif, XMP) segments, as c2pa-rs does
 * after APP0; keeping Exif directly after SOI keeps Exif readers happy.
 */
#include "sign_internal.h"

#include <stdlib.h>
#include <string.h>

#define APP11 0xEB
#define SEG_MAX 65535u                     /* largest Lp */
#define FIRST_PAYLOAD (SEG_MAX - 2 - 8)     /* box bytes in the first segment */
#define NEXT_PAYLOAD (SEG_MAX - 2 - 8 - 8)  /* box payload bytes in each further segment */

typedef struct segment {
    size_t at, len; /* marker included */
    uint8_t marker;
} segment;

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Is this APP11 segment JUMBF ("JP")? Its En and Z then. */
static bool jp_segment(const uint8_t *d, const segment *s, uint16_t *en, uint32_t *z) {
    if (s->marker != APP11 || s->len < 4 + 8) return false;
    const uint8_t *p = d + s->at + 4;
    if (p[0] != 'J' || p[1] != 'P') return false;
    *en = (uint16_t)(p[2] << 8 | p[3]);
    *z = be32(p + 4);
    return true;
}

lc_status lc_jpeg_prepare(const uint8_t *d, size_t len, const char *name, lc_asset *out) {
    *out = (lc_asset){.kind = LC_ASSET_JPEG, .mime = "image/jpeg"};
    if (len < 4 || d[0] != 0xFF || d[1] != 0xD8) return lc_error(LC_ERR_FORMAT, "%s: not a JPEG file", name);

    /* 1. the segments before the image data (SOS) */
    segment *segs = NULL;
    size_t n = 0, cap = 0, pos = 2;
    lc_status st = LC_OK;
    bool sos = false;
    while (pos < len) {
        if (d[pos] != 0xFF) {
            st = lc_error(LC_ERR_FORMAT, "%s: malformed JPEG: expected a marker at byte %zu", name, pos);
            goto done;
        }
        size_t m_at = pos;
        while (pos + 1 < len && d[pos + 1] == 0xFF) pos++; /* fill bytes */
        if (pos + 1 >= len) break;
        uint8_t m = d[pos + 1];
        if (m == 0xD9) break; /* EOI before any image data */
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01 || m == 0xD8) {
            pos += 2; /* standalone markers carry no length */
            continue;
        }
        if (pos + 4 > len) break;
        size_t seg_len = 2 + ((size_t)d[pos + 2] << 8 | d[pos + 3]);
        if (seg_len < 4 || pos + seg_len > len) {
            st = lc_error(LC_ERR_FORMAT, "%s: truncated JPEG: the segment at byte %zu runs past the end", name, pos);
            goto done;
        }
        if (m == 0xDA) {
            sos = true;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            segment *p = realloc(segs, cap * sizeof *p);
            if (!p) {
                st = lc_error(LC_ERR_NOMEM, "%s: out of memory", name);
                goto done;
            }
            segs = p;
        }
        segs[n++] = (segment){.at = m_at, .len = pos + seg_len - m_at, .marker = m};
        pos += seg_len;
    }
    if (!sos) {
        st = lc_error(LC_ERR_FORMAT, "%s: truncated JPEG: no image data (SOS segment) found", name);
        goto done;
    }

    /* 2. which box instance (En) is the C2PA store: its first segment opens a "jumb" superbox
     *    whose description box has the C2PA store type */
    int store_en = -1;
    for (size_t i = 0; i < n; i++) {
        uint16_t en;
        uint32_t z;
        if (!jp_segment(d, &segs[i], &en, &z) || z != 1) continue;
        const uint8_t *box = d + segs[i].at + 12;
        size_t box_avail = segs[i].len - 12;
        if (box_avail < 8 + 8 + 16 || memcmp(box + 4, "jumb", 4) != 0 || memcmp(box + 12, "jumd", 4) != 0 ||
            memcmp(box + 16, LC_JUMBF_UUID_STORE, 16) != 0)
            continue;
        if (store_en >= 0 && store_en != en) {
            st = lc_error(LC_ERR_FORMAT, "%s: more than one C2PA manifest store in APP11 segments", name);
            goto done;
        }
        store_en = en;
    }

    /* 3. reassemble the old store (segments of that En in Z order) */
    if (store_en >= 0) {
        size_t total = 0, first = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            uint16_t en;
            uint32_t z;
            if (jp_segment(d, &segs[i], &en, &z) && en == store_en && z == 1) first = i;
        }
        total = be32(d + segs[first].at + 12);
        if (total < 8) {
            st = lc_error(LC_ERR_FORMAT, "%s: malformed C2PA store: box length %zu", name, total);
            goto done;
        }
        out->old_store = malloc(total);
        if (!out->old_store) {
            st = lc_error(LC_ERR_NOMEM, "%s: out of memory", name);
            goto done;
        }
        size_t have = 0;
        for (uint32_t want = 1; have < total; want++) {
            size_t found = SIZE_MAX;
            for (size_t i = 0; i < n && found == SIZE_MAX; i++) {
                uint16_t en;
                uint32_t z;
                if (jp_segment(d, &segs[i], &en, &z) && en == store_en && z == want) found = i;
            }
            size_t skip = want == 1 ? 12 : 20;
            if (found == SIZE_MAX || segs[found].len < skip) {
                st = lc_error(LC_ERR_FORMAT, "%s: C2PA store incomplete: APP11 segment %u of %zu bytes is missing",
                              name, want, total);
                goto done;
            }
            size_t piece = segs[found].len - skip;
            if (piece > total - have) {
                st = lc_error(LC_ERR_FORMAT, "%s: C2PA store APP11 segments hold more than its %zu bytes", name, total);
                goto done;
            }
            memcpy(out->old_store + have, d + segs[found].at + skip, piece);
            have += piece;
        }
        out->old_store_len = total;
    }

    /* 4. the file without those segments; the insertion point after SOI + leading APP0/APP1 */
    out->stripped = malloc(len);
    if (!out->stripped) {
        st = lc_error(LC_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    uint8_t used[65536 / 8] = {0};
    size_t w = 0, r = 0;
    bool leading = true;
    out->insert_at = 2;
    for (size_t i = 0; i < n; i++) {
        uint16_t en;
        uint32_t z;
        bool is_jp = jp_segment(d, &segs[i], &en, &z);
        if (is_jp && store_en >= 0 && en == store_en) {
            memcpy(out->stripped + w, d + r, segs[i].at - r);
            w += segs[i].at - r;
            r = segs[i].at + segs[i].len;
            continue;
        }
        if (is_jp) used[en / 8] |= (uint8_t)(1u << (en % 8));
        if (leading && (segs[i].marker == 0xE0 || segs[i].marker == 0xE1))
            out->insert_at = w + (segs[i].at + segs[i].len - r);
        else
            leading = false;
    }
    memcpy(out->stripped + w, d + r, len - r);
    out->stripped_len = w + (len - r);
    out->jpeg_box_instance = 1;
    while (out->jpeg_box_instance < 0xFFFF && (used[out->jpeg_box_instance / 8] >> (out->jpeg_box_instance % 8) & 1))
        out->jpeg_box_instance++;
done:
    free(segs);
    if (st != LC_OK) lc_asset_free(out);
    return st;
}

size_t lc_jpeg_wrapped_size(size_t store_len) {
    size_t size = 4 + 8 + (store_len < FIRST_PAYLOAD ? store_len : FIRST_PAYLOAD);
    if (store_len > FIRST_PAYLOAD) {
        size_t rest = store_len - FIRST_PAYLOAD;
        size_t extra = (rest + NEXT_PAYLOAD - 1) / NEXT_PAYLOAD;
        size += rest + extra * (4 + 8 + 8);
    }
    return size;
}

lc_status lc_jpeg_wrap(const uint8_t *store, size_t len, uint16_t box_instance, lc_sbuf *out) {
    if (len < 8 || len > UINT32_MAX) return lc_error(LC_ERR_ARG, "c2pa sign: manifest store of %zu bytes", len);
    size_t done = 0;
    for (uint32_t z = 1; done < len; z++) {
        size_t room = z == 1 ? FIRST_PAYLOAD : NEXT_PAYLOAD;
        size_t piece = len - done < room ? len - done : room;
        size_t header = z == 1 ? 8 : 16;
        lc_sbuf_byte(out, 0xFF);
        lc_sbuf_byte(out, APP11);
        lc_sbuf_be16(out, (uint16_t)(2 + header + piece));
        lc_sbuf_append(out, "JP", 2);
        lc_sbuf_be16(out, box_instance);
        lc_sbuf_be32(out, z);
        if (z > 1) lc_sbuf_append(out, store, 8); /* the superbox's LBox + TBox again */
        lc_sbuf_append(out, store + done, piece);
        done += piece;
    }
    return out->failed ? lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory") : LC_OK;
}
