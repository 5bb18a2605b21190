/*
 * WebP through libwebp (optional: built when CMake finds libwebp, LOCUS_HAVE_WEBP). Still images,
 * lossy or lossless, decoded to RGB; alpha dropped as PIL's convert("RGB") drops it. Animated
 * files are refused (PIL would give the first frame composited by its animation decoder).
 * EXIF orientation comes from the RIFF "EXIF" chunk, with the "XMP " chunk as PIL's fallback.
 */
#include "media/image_internal.h"

#include <stdio.h>
#include <string.h>

#ifdef LOCUS_HAVE_WEBP
#include <webp/decode.h>

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Orientation from the EXIF chunk, else the XMP chunk; -1 when neither says. Bounds-checked walk
 * of the RIFF chunks after the 12-byte "RIFF....WEBP" header. */
static int webp_orientation(const uint8_t *data, size_t size) {
    int exif = -1, xmp = -1;
    size_t at = 12;
    while (at <= size && size - at >= 8) {
        uint32_t len = le32(data + at + 4);
        const uint8_t *payload = data + at + 8;
        size_t avail = size - at - 8;
        if (len > avail) break;
        if (memcmp(data + at, "EXIF", 4) == 0 && exif < 0) exif = lc_exif_orientation(payload, len);
        else if (memcmp(data + at, "XMP ", 4) == 0 && xmp < 0) xmp = lc_xmp_orientation(payload, len);
        size_t step = 8 + (size_t)len + (len & 1);
        if (step > size - at) break;
        at += step;
    }
    return exif >= 0 ? exif : xmp;
}

lc_status lc_image_decode_webp(const uint8_t *data, size_t size, const char *label, uint64_t max_pixels,
                               bool want_exif, int *orientation, lc_image **out) {
    *out = NULL;
    *orientation = 1;
    WebPBitstreamFeatures f;
    VP8StatusCode st = WebPGetFeatures(data, size, &f);
    if (st == VP8_STATUS_NOT_ENOUGH_DATA) return lc_error(LC_ERR_FORMAT, "%s: truncated WebP", label);
    if (st != VP8_STATUS_OK) return lc_error(LC_ERR_FORMAT, "%s: corrupt WebP (libwebp status %d)", label, (int)st);
    if (f.has_animation) return lc_error(LC_ERR_UNSUPPORTED, "%s: animated WebP is not supported", label);
    if (f.width <= 0 || f.height <= 0)
        return lc_error(LC_ERR_FORMAT, "%s: WebP has a zero dimension (%dx%d)", label, f.width, f.height);
    if ((uint64_t)f.width * (uint64_t)f.height > max_pixels)
        return lc_error(LC_ERR_FORMAT, "%s: WebP of %dx%d pixels exceeds the limit of %llu pixels", label, f.width,
                        f.height, (unsigned long long)max_pixels);
    lc_image *img = NULL;
    lc_status s = lc_image_alloc(f.width, f.height, &img);
    if (s) return lc_error(LC_ERR_NOMEM, "%s: out of memory for a %dx%d image", label, f.width, f.height);
    size_t stride = (size_t)f.width * 3;
    if (!WebPDecodeRGBInto(data, size, img->data, stride * (size_t)f.height, (int)stride)) {
        lc_image_free(img);
        return lc_error(LC_ERR_FORMAT, "%s: corrupt or truncated WebP image data", label);
    }
    if (want_exif) {
        int o = webp_orientation(data, size);
        if (o >= 0) *orientation = o;
    }
    *out = img;
    return LC_OK;
}

#else

lc_status lc_image_decode_webp(const uint8_t *data, size_t size, const char *label, uint64_t max_pixels,
                               bool want_exif, int *orientation, lc_image **out) {
    (void)data, (void)size, (void)max_pixels, (void)want_exif;
    *orientation = 1;
    *out = NULL;
    return lc_error(LC_ERR_UNSUPPORTED, "%s: WebP images are not supported by this build (no libwebp)", label);
}

#endif
