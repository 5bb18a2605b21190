/*
 * JPEG through libjpeg-turbo, with the settings PIL uses when it opens a file: full-size decode,
 * accurate integer IDCT (JDCT_ISLOW), fancy upsampling. That gives the same pixels as PIL, so the
 * preprocessing downstream matches Hugging Face's.
 *
 * DCT scaling (decoding at 1/2, 1/4, 1/8 size) would be faster for large photos shrunk to 224
 * pixels, but it is not the same function: it averages in the frequency domain where PIL filters
 * the full image. Measured through ViTImageProcessor (224x224, bilinear) on the fixture photos:
 * at 1/2 scale pixel_values differ by up to 2 levels on C.jpg and 14 on CA.jpg (5% of values
 * off by more than one level), at 1/4 by up to 22; the preprocessing must stay within one level
 * of Hugging Face. So locus always decodes at full size; libjpeg-turbo's SIMD decode of a
 * 1-megapixel JPEG takes about 1 ms of CPU, leaving room within 5 ms per image.
 *
 * Errors: libjpeg's fatal errors longjmp back here with its message; a file cut short (libjpeg's
 * "Premature end of JPEG file" warning, after which it would pad with grey) is an error, as in
 * PIL. Recoverable corruption warnings inside the entropy-coded data are tolerated, as PIL does.
 * Progressive files with an absurd number of scans (a known CPU-exhaustion trick) are refused.
 */
#include "media/image_internal.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#define JPEG_MAX_SCANS 1000

typedef struct jpeg_ctx {
    struct jpeg_error_mgr pub;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    bool truncated;
    bool too_many_scans;
} jpeg_ctx;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, c->message);
    longjmp(c->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo, int level) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        c->truncated = true;
        (*cinfo->err->format_message)(cinfo, c->message);
        longjmp(c->jump, 1);
    }
    /* Other warnings and trace messages: silent (PIL ignores them too). */
}

static void jpeg_on_progress(j_common_ptr cinfo) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    if (cinfo->is_decompressor && ((j_decompress_ptr)cinfo)->input_scan_number > JPEG_MAX_SCANS) {
        c->too_many_scans = true;
        snprintf(c->message, sizeof c->message, "more than %d progressive scans", JPEG_MAX_SCANS);
        longjmp(c->jump, 1);
    }
}

/* PIL's CMYK -> RGB (no colour management): channel = clip(nk - nk * c / 255) with nk = 255 - k,
 * the division done as PIL's rounded fixed-point multiply. */
static inline uint8_t cmyk_channel(int c, int nk) {
    int t = c * nk + 128;
    int v = nk - (((t >> 8) + t) >> 8);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

typedef struct jpeg_state {
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx err;
    uint8_t *row;     /* scratch row for grayscale / CMYK */
    lc_image *img;
    lc_status status; /* set before any longjmp can skip to the end */
} jpeg_state;

lc_status lc_image_decode_jpeg(const uint8_t *data, size_t size, const char *label, uint64_t max_pixels,
                               bool want_exif, int *orientation, lc_image **out) {
    *out = NULL;
    *orientation = 1;
    if (size > (size_t)(unsigned long)-1) return lc_error(LC_ERR_FORMAT, "%s: JPEG too large", label);
    /* Heap state so nothing the longjmp skips over lives in registers. */
    jpeg_state *st = calloc(1, sizeof *st);
    if (!st) return lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
    struct jpeg_decompress_struct *cinfo = &st->cinfo;
    cinfo->err = jpeg_std_error(&st->err.pub);
    st->err.pub.error_exit = jpeg_on_error;
    st->err.pub.emit_message = jpeg_on_message;
    st->err.progress.progress_monitor = jpeg_on_progress;
    lc_status status = LC_OK;
    if (setjmp(st->err.jump)) {
        if (st->err.truncated)
            st->status = lc_error(LC_ERR_FORMAT, "%s: truncated JPEG (%s)", label, st->err.message);
        else if (st->err.too_many_scans)
            st->status = lc_error(LC_ERR_FORMAT, "%s: JPEG has %s", label, st->err.message);
        else
            st->status = lc_error(LC_ERR_FORMAT, "%s: corrupt JPEG: %s", label, st->err.message);
        goto done;
    }
    jpeg_create_decompress(cinfo);
    cinfo->progress = &st->err.progress;
    jpeg_mem_src(cinfo, data, (unsigned long)size);
    if (want_exif) jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_save_markers(cinfo, JPEG_APP0 + 14, 0xFFFF); /* Adobe: tells whether CMYK is inverted */
    jpeg_read_header(cinfo, TRUE);

    uint64_t w = cinfo->image_width, h = cinfo->image_height;
    if (w == 0 || h == 0) {
        status = lc_error(LC_ERR_FORMAT, "%s: JPEG has a zero dimension (%llux%llu)", label, (unsigned long long)w,
                          (unsigned long long)h);
        goto fail;
    }
    if (w * h > max_pixels || w > 0x7fffffff || h > 0x7fffffff) {
        status = lc_error(LC_ERR_FORMAT, "%s: JPEG of %llux%llu pixels exceeds the limit of %llu pixels", label,
                          (unsigned long long)w, (unsigned long long)h, (unsigned long long)max_pixels);
        goto fail;
    }
    if (want_exif) {
        /* PIL: the first Exif segment; when it has no orientation, the last XMP packet's. */
        int o = -1;
        bool seen_exif = false;
        const uint8_t *xmp = NULL;
        size_t xmp_len = 0;
        static const char xmp_id[] = "http://ns.adobe.com/xap/1.0/";
        for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
            if (m->marker != JPEG_APP0 + 1) continue;
            if (!seen_exif && m->data_length >= 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
                seen_exif = true;
                o = lc_exif_orientation(m->data, m->data_length);
            } else if (m->data_length >= sizeof xmp_id && memcmp(m->data, xmp_id, sizeof xmp_id) == 0) {
                xmp = m->data + sizeof xmp_id;
                xmp_len = m->data_length - sizeof xmp_id;
            }
        }
        if (o < 0 && xmp) o = lc_xmp_orientation(xmp, xmp_len);
        if (o >= 0) *orientation = o;
    }
    bool cmyk = false;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo->out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo->out_color_space = JCS_CMYK;
        cmyk = true;
        break;
    case JCS_RGB:
    case JCS_YCbCr: cinfo->out_color_space = JCS_RGB; break;
    default:
        status = lc_error(LC_ERR_UNSUPPORTED, "%s: JPEG colour space %d is not supported", label,
                          (int)cinfo->jpeg_color_space);
        goto fail;
    }
    cinfo->dct_method = JDCT_ISLOW;
    cinfo->do_fancy_upsampling = TRUE;
    jpeg_start_decompress(cinfo);
    if (cinfo->output_width != w || cinfo->output_height != h) {
        status = lc_error(LC_ERR_INTERNAL, "%s: JPEG output size changed while decoding", label);
        goto fail;
    }
    status = lc_image_alloc((int)w, (int)h, &st->img);
    if (status) {
        status = lc_error(LC_ERR_NOMEM, "%s: out of memory for a %llux%llu image", label, (unsigned long long)w,
                          (unsigned long long)h);
        goto fail;
    }
    int comps = cinfo->output_components;
    if (!cmyk && comps != 1 && comps != 3) {
        status = lc_error(LC_ERR_FORMAT, "%s: JPEG with %d output components", label, comps);
        goto fail;
    }
    if (comps != 3) {
        st->row = malloc((size_t)w * (size_t)comps);
        if (!st->row) {
            status = lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
            goto fail;
        }
    }
    /* PIL treats CMYK as inverted when an Adobe marker is present (Photoshop writes it so). */
    bool inverted = cmyk && cinfo->saw_Adobe_marker;
    while (cinfo->output_scanline < cinfo->output_height) {
        uint8_t *dst = st->img->data + (size_t)cinfo->output_scanline * w * 3;
        JSAMPROW rowp = comps == 3 ? dst : st->row;
        jpeg_read_scanlines(cinfo, &rowp, 1);
        if (comps == 1) {
            for (size_t x = 0; x < w; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = st->row[x];
        } else if (comps == 4) {
            for (size_t x = 0; x < w; x++) {
                const uint8_t *p = st->row + 4 * x;
                int c = p[0], m = p[1], y = p[2], k = p[3];
                if (inverted) c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
                int nk = 255 - k;
                dst[3 * x] = cmyk_channel(c, nk);
                dst[3 * x + 1] = cmyk_channel(m, nk);
                dst[3 * x + 2] = cmyk_channel(y, nk);
            }
        }
    }
    /* Read on to the EOI marker: a file cut short after its last scanline is truncated too. */
    jpeg_finish_decompress(cinfo);
    *out = st->img;
    st->img = NULL;
    st->status = LC_OK;
    goto done;
fail:
    st->status = status;
done:
    status = st->status;
    jpeg_destroy_decompress(cinfo);
    lc_image_free(st->img);
    free(st->row);
    free(st);
    return status;
}
