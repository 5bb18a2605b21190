/*
 * PNG container for signing: the C2PA manifest store is the data of a "caBX" chunk, placed after
 * IHDR (before any image data, as the C2PA specification recommends and c2pa-rs does).
 * A chunk is length (4, big-endian, data only) + type (4) + data + CRC-32 of type and data.
 */
#include "sign_internal.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

/* CRC-32 (polynomial 0xEDB88320, reflected), the PNG specification's algorithm, bit by bit: it
 * runs once over a manifest store of some kilobytes, so a table would buy nothing. */
uint32_t lc_png_crc(const uint8_t *data, size_t n, uint32_t crc) {
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= data[i];
        for (int k = 0; k < 8; k++) crc = crc & 1 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
    return ~crc;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

lc_status lc_png_prepare(const uint8_t *d, size_t len, const char *name, lc_asset *out) {
    *out = (lc_asset){.kind = LC_ASSET_PNG, .mime = "image/png"};
    if (len < 8 || memcmp(d, png_signature, 8) != 0) return lc_error(LC_ERR_FORMAT, "%s: not a PNG file", name);
    lc_status st = LC_OK;
    out->stripped = malloc(len);
    if (!out->stripped) return lc_error(LC_ERR_NOMEM, "%s: out of memory", name);
    memcpy(out->stripped, d, 8);
    size_t w = 8, pos = 8;
    bool iend = false;
    for (int index = 0; pos < len; index++) {
        if (len - pos < 12) {
            st = lc_error(LC_ERR_FORMAT, "%s: truncated PNG: partial chunk header at byte %zu", name, pos);
            goto fail;
        }
        size_t data_len = be32(d + pos);
        const uint8_t *type = d + pos + 4;
        if (data_len > 0x7FFFFFFFu || data_len > len - pos - 12) {
            st = lc_error(LC_ERR_FORMAT, "%s: truncated PNG: the %.4s chunk at byte %zu runs past the end", name,
                          (const char *)type, pos);
            goto fail;
        }
        size_t chunk_len = 12 + data_len;
        if (index == 0 && memcmp(type, "IHDR", 4) != 0) {
            st = lc_error(LC_ERR_FORMAT, "%s: malformed PNG: the first chunk is not IHDR", name);
            goto fail;
        }
        if (memcmp(type, "caBX", 4) == 0) {
            if (out->old_store) {
                st = lc_error(LC_ERR_FORMAT, "%s: more than one C2PA manifest store (caBX chunk)", name);
                goto fail;
            }
            out->old_store = malloc(data_len ? data_len : 1);
            if (!out->old_store) {
                st = lc_error(LC_ERR_NOMEM, "%s: out of memory", name);
                goto fail;
            }
            memcpy(out->old_store, d + pos + 8, data_len);
            out->old_store_len = data_len;
        } else {
            memcpy(out->stripped + w, d + pos, chunk_len);
            w += chunk_len;
        }
        if (index == 0) out->insert_at = w;
        pos += chunk_len;
        if (memcmp(type, "IEND", 4) == 0) {
            iend = true;
            break;
        }
    }
    if (!iend) {
        st = lc_error(LC_ERR_FORMAT, "%s: truncated PNG: no IEND chunk", name);
        goto fail;
    }
    memcpy(out->stripped + w, d + pos, len - pos); /* anything after IEND stays as it was */
    out->stripped_len = w + (len - pos);
    return LC_OK;
fail:
    lc_asset_free(out);
    return st;
}

size_t lc_png_wrapped_size(size_t store_len) { return 12 + store_len; }

lc_status lc_png_wrap(const uint8_t *store, size_t len, lc_sbuf *out) {
    if (len > 0x7FFFFFFFu) return lc_error(LC_ERR_ARG, "c2pa sign: manifest store of %zu bytes is too large for PNG", len);
    lc_sbuf_be32(out, (uint32_t)len);
    lc_sbuf_append(out, "caBX", 4);
    lc_sbuf_append(out, store, len);
    uint32_t crc = lc_png_crc((const uint8_t *)"caBX", 4, 0);
    crc = lc_png_crc(store, len, crc);
    lc_sbuf_be32(out, crc);
    return out->failed ? lc_error(LC_ERR_NOMEM, "c2pa sign: out of memory") : LC_OK;
}
