/*
 * PNG through libpng, converted to 8-bit RGB the way PIL's Image.open(...).convert("RGB") does:
 *   - palette: looked up (a tRNS chunk is ignored, as convert("RGB") ignores transparency);
 *   - grayscale 1/2/4 bits: scaled to 0..255 (0 -> 0, max -> 255), then replicated;
 *   - grayscale 16 bits: PIL opens it as "I;16" and clamps values above 255 to 255;
 *   - grayscale + alpha, RGB + alpha: alpha dropped, not composited;
 *   - 16-bit RGB(A) and 16-bit grayscale + alpha: the high byte of each sample;
 *   - gamma, ICC profiles, sBIT: not applied (PIL applies none of them either).
 * Truncated data, bad CRCs of critical chunks and malformed headers are errors naming the file.
 */
#include "media/image_internal.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct png_src {
    const uint8_t *data;
    size_t size, at;
} png_src;

typedef struct png_state {
    png_structp png;
    png_infop info;
    png_src src;
    char message[256];
    uint8_t *row;
    png_bytep *rows;
    lc_image *img;
    lc_status status;
} png_state;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_state *st = png_get_error_ptr(png);
    snprintf(st->message, sizeof st->message, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg; /* ancillary problems (bad CRC of a text chunk ...) are skipped, as PIL does */
}

static void png_read_mem(png_structp png, png_bytep out, size_t n) {
    png_state *st = png_get_io_ptr(png);
    if (st->src.size - st->src.at < n) png_error(png, "file is truncated");
    memcpy(out, st->src.data + st->src.at, n);
    st->src.at += n;
}

lc_status lc_image_decode_png(const uint8_t *data, size_t size, const char *label, uint64_t max_pixels,
                              bool want_exif, int *orientation, lc_image **out) {
    *out = NULL;
    *orientation = 1;
    /* Refuse a decompression bomb from its IHDR (the first chunk) before libpng reads further:
     * png_read_info would otherwise go on reading chunks up to the first IDAT. */
    if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        uint64_t w = (uint64_t)data[16] << 24 | (uint64_t)data[17] << 16 | (uint64_t)data[18] << 8 | data[19];
        uint64_t h = (uint64_t)data[20] << 24 | (uint64_t)data[21] << 16 | (uint64_t)data[22] << 8 | data[23];
        if (w && h && w * h > max_pixels)
            return lc_error(LC_ERR_FORMAT, "%s: PNG of %llux%llu pixels exceeds the limit of %llu pixels", label,
                            (unsigned long long)w, (unsigned long long)h, (unsigned long long)max_pixels);
    }
    png_state *st = calloc(1, sizeof *st);
    if (!st) return lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
    st->src.data = data;
    st->src.size = size;
    st->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, st, png_on_error, png_on_warning);
    if (st->png) st->info = png_create_info_struct(st->png);
    if (!st->png || !st->info) {
        png_destroy_read_struct(st->png ? &st->png : NULL, NULL, NULL);
        free(st);
        return lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
    }
    lc_status status = LC_OK;
    if (setjmp(png_jmpbuf(st->png))) {
        st->status = lc_error(LC_ERR_FORMAT, "%s: corrupt PNG: %s", label, st->message);
        goto done;
    }
    png_set_read_fn(st->png, st, png_read_mem);
    /* Keep every chunk's CRC checked for critical chunks; ancillary ones with bad CRCs are dropped. */
    png_set_crc_action(st->png, PNG_CRC_DEFAULT, PNG_CRC_DEFAULT);
    png_read_info(st->png, st->info);

    png_uint_32 w = png_get_image_width(st->png, st->info), h = png_get_image_height(st->png, st->info);
    int depth = png_get_bit_depth(st->png, st->info);
    int color = png_get_color_type(st->png, st->info);
    if (w == 0 || h == 0) {
        status = lc_error(LC_ERR_FORMAT, "%s: PNG has a zero dimension (%ux%u)", label, (unsigned)w, (unsigned)h);
        goto fail;
    }
    if ((uint64_t)w * h > max_pixels || w > 0x7fffffff || h > 0x7fffffff) {
        status = lc_error(LC_ERR_FORMAT, "%s: PNG of %ux%u pixels exceeds the limit of %llu pixels", label, (unsigned)w,
                          (unsigned)h, (unsigned long long)max_pixels);
        goto fail;
    }
    /* The transparent colour PIL would keep in info["transparency"] (see lc_image). */
    bool has_trns = false;
    uint16_t trns[3] = {0, 0, 0};
    if (png_get_valid(st->png, st->info, PNG_INFO_tRNS)) {
        png_bytep alpha = NULL;
        int num = 0;
        png_color_16p c = NULL;
        png_get_tRNS(st->png, st->info, &alpha, &num, &c);
        if (color == PNG_COLOR_TYPE_PALETTE && alpha && num > 0) {
            /* PIL keeps a single index only when exactly one entry is 0 and the rest 255. */
            int zero = -1, zeros = 0, others = 0;
            for (int i = 0; i < num; i++) {
                if (alpha[i] == 0) zero = i, zeros++;
                else if (alpha[i] != 255) others++;
            }
            png_colorp pal = NULL;
            int npal = 0;
            png_get_PLTE(st->png, st->info, &pal, &npal);
            if (zeros == 1 && others == 0 && pal && zero < npal) {
                has_trns = true;
                trns[0] = pal[zero].red, trns[1] = pal[zero].green, trns[2] = pal[zero].blue;
            }
        } else if (color == PNG_COLOR_TYPE_GRAY && c) {
            uint16_t v = c->gray;
            has_trns = true;
            if (depth == 1) {
                /* Mode "1" keeps an integer (0 or 255) through convert("RGB"); PIL then reads an
                 * integer colour as packed 0xBBGGRR. */
                trns[0] = v ? 255 : 0;
            } else if (depth == 16) {
                /* "I;16" keeps the raw integer, read as packed 0xBBGGRR as well. */
                trns[0] = v & 255, trns[1] = (uint16_t)(v >> 8);
            } else {
                /* "L" (2, 4, 8 bits): the raw sample, unscaled, as a grey. */
                trns[0] = trns[1] = trns[2] = v;
            }
        } else if (color == PNG_COLOR_TYPE_RGB && c) {
            has_trns = true;
            trns[0] = c->red, trns[1] = c->green, trns[2] = c->blue;
        }
    }
    bool gray16 = color == PNG_COLOR_TYPE_GRAY && depth == 16;
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(st->png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(st->png);
    if (depth == 16 && !gray16) png_set_strip_16(st->png); /* high byte, as PIL's ";16B" unpackers */
    /* Also drops the alpha that palette expansion would make from a tRNS chunk. */
    png_set_strip_alpha(st->png);
    if ((color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) && !gray16) png_set_gray_to_rgb(st->png);
    int passes = png_set_interlace_handling(st->png);
    (void)passes;
    png_read_update_info(st->png, st->info);
    size_t rowbytes = png_get_rowbytes(st->png, st->info);
    int channels = png_get_channels(st->png, st->info);
    size_t want = gray16 ? (size_t)w * 2 : (size_t)w * 3;
    if (rowbytes != want || (gray16 ? channels != 1 : channels != 3)) {
        status = lc_error(LC_ERR_INTERNAL, "%s: unexpected PNG row layout (%zu bytes, %d channels)", label, rowbytes,
                          channels);
        goto fail;
    }
    status = lc_image_alloc((int)w, (int)h, &st->img);
    if (status) {
        status = lc_error(LC_ERR_NOMEM, "%s: out of memory for a %ux%u image", label, (unsigned)w, (unsigned)h);
        goto fail;
    }
    if (!gray16) {
        st->rows = malloc((size_t)h * sizeof *st->rows);
        if (!st->rows) {
            status = lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
            goto fail;
        }
        for (png_uint_32 y = 0; y < h; y++) st->rows[y] = st->img->data + (size_t)y * w * 3;
        png_read_image(st->png, st->rows);
    } else {
        /* 16-bit samples, big-endian, clamped to 255 then replicated. Interlaced files need the
         * whole 16-bit image; others go row by row. */
        bool interlaced = png_get_interlace_type(st->png, st->info) != PNG_INTERLACE_NONE;
        size_t rows_needed = interlaced ? h : 1;
        size_t bytes;
        if (__builtin_mul_overflow(rowbytes, rows_needed, &bytes)) {
            status = lc_error(LC_ERR_NOMEM, "%s: image too large", label);
            goto fail;
        }
        st->row = malloc(bytes);
        st->rows = malloc((size_t)h * sizeof *st->rows);
        if (!st->row || !st->rows) {
            status = lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
            goto fail;
        }
        if (interlaced) {
            for (png_uint_32 y = 0; y < h; y++) st->rows[y] = st->row + (size_t)y * rowbytes;
            png_read_image(st->png, st->rows);
        }
        for (png_uint_32 y = 0; y < h; y++) {
            const uint8_t *src = interlaced ? st->rows[y] : st->row;
            if (!interlaced) png_read_row(st->png, st->row, NULL);
            uint8_t *dst = st->img->data + (size_t)y * w * 3;
            for (png_uint_32 x = 0; x < w; x++) {
                unsigned v = (unsigned)src[2 * x] << 8 | src[2 * x + 1];
                uint8_t b = v > 255 ? 255 : (uint8_t)v;
                dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = b;
            }
        }
    }
    if (want_exif) {
        /* The eXIf chunk may follow the image data: read to the end to see it. */
        png_read_end(st->png, st->info);
        png_bytep exif = NULL;
        png_uint_32 n = 0;
        int o = -1;
        if (png_get_eXIf_1(st->png, st->info, &n, &exif) && n && exif) o = lc_exif_orientation(exif, n);
        if (o < 0) {
            /* PIL's fallback: the XMP packet of an iTXt chunk "XML:com.adobe.xmp". */
            png_textp text = NULL;
            int nt = 0;
            png_get_text(st->png, st->info, &text, &nt);
            for (int i = 0; i < nt && o < 0; i++) {
                if (text[i].key && strcmp(text[i].key, "XML:com.adobe.xmp") == 0 && text[i].text) {
                    size_t len = text[i].compression > 0 ? text[i].itxt_length : text[i].text_length;
                    o = lc_xmp_orientation((const uint8_t *)text[i].text, len);
                }
            }
        }
        if (o >= 0) *orientation = o;
    }
    st->img->has_transparent_color = has_trns;
    memcpy(st->img->transparent_color, trns, sizeof trns);
    *out = st->img;
    st->img = NULL;
    st->status = LC_OK;
    goto done;
fail:
    st->status = status;
done:
    status = st->status;
    png_destroy_read_struct(&st->png, &st->info, NULL);
    lc_image_free(st->img);
    free(st->row);
    free(st->rows);
    free(st);
    return status;
}
