/*
 * Images in: format detection, reading files, EXIF orientation, and the lc_image object.
 * The decoders themselves are image_jpeg.c (libjpeg-turbo), image_png.c (libpng) and
 * image_webp.c (libwebp, optional).
 */
#include "media/image_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files larger than this are refused before reading (an 89-megapixel PNG compresses far below). */
#define LC_IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)

lc_status lc_image_alloc(int width, int height, lc_image **out) {
    *out = NULL;
    if (width <= 0 || height <= 0) return lc_error(LC_ERR_ARG, "image size %dx%d is not positive", width, height);
    size_t n;
    if (!__builtin_mul_overflow((size_t)width, (size_t)height, &n) && !__builtin_mul_overflow(n, (size_t)3, &n)) {
        lc_image *img = malloc(sizeof *img);
        uint8_t *data = malloc(n);
        if (img && data) {
            img->width = width;
            img->height = height;
            img->channels = 3;
            img->data = data;
            img->has_transparent_color = false;
            memset(img->transparent_color, 0, sizeof img->transparent_color);
            *out = img;
            return LC_OK;
        }
        free(img);
        free(data);
    }
    return lc_error(LC_ERR_NOMEM, "out of memory for a %dx%d image", width, height);
}

void lc_image_free(lc_image *img) {
    if (!img) return;
    free(img->data);
    free(img);
}

lc_status lc_image_from_rgb(int width, int height, const uint8_t *rgb, lc_image **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_image_from_rgb: out is NULL");
    *out = NULL;
    if (!rgb) return lc_error(LC_ERR_ARG, "lc_image_from_rgb: rgb is NULL");
    lc_status s = lc_image_alloc(width, height, out);
    if (s == LC_OK) memcpy((*out)->data, rgb, (size_t)width * (size_t)height * 3);
    return s;
}

/* ---- EXIF ------------------------------------------------------------------------------------ */
static unsigned exif_u16(const uint8_t *p, bool le) { return le ? p[0] | (unsigned)p[1] << 8 : (unsigned)p[0] << 8 | p[1]; }
static uint32_t exif_u32(const uint8_t *p, bool le) {
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int lc_exif_orientation(const uint8_t *data, size_t size) {
    if (!data) return -1;
    if (size >= 6 && memcmp(data, "Exif\0\0", 6) == 0) {
        data += 6;
        size -= 6;
    }
    if (size < 8) return -1;
    bool le;
    if (memcmp(data, "II*\0", 4) == 0) le = true;
    else if (memcmp(data, "MM\0*", 4) == 0) le = false;
    else return -1;
    uint32_t ifd = exif_u32(data + 4, le);
    if (ifd > size || size - ifd < 2) return -1;
    unsigned count = exif_u16(data + ifd, le);
    for (unsigned i = 0; i < count; i++) {
        size_t at = (size_t)ifd + 2 + (size_t)i * 12;
        if (at > size || size - at < 12) return -1;
        const uint8_t *e = data + at;
        if (exif_u16(e, le) != 0x0112) continue;
        unsigned type = exif_u16(e + 2, le);
        if (exif_u32(e + 4, le) < 1) return -1;
        if (type == 3) return (int)exif_u16(e + 8, le); /* SHORT */
        if (type == 4) {                                  /* LONG */
            uint32_t v = exif_u32(e + 8, le);
            return v > 65535 ? 0 : (int)v;
        }
        return 0; /* present but of another type: no transposition, and no XMP fallback */
    }
    return -1;
}

int lc_xmp_orientation(const uint8_t *data, size_t size) {
    static const char key[] = "tiff:Orientation";
    const size_t klen = sizeof key - 1;
    for (size_t i = 0; data && i + klen + 1 < size; i++) {
        if (data[i] != 't' || memcmp(data + i, key, klen) != 0) continue;
        size_t j = i + klen;
        if (data[j] == '>') j += 1;
        else if (data[j] == '=' && j + 1 < size && data[j + 1] == '"') j += 2;
        else continue;
        if (j < size && data[j] >= '0' && data[j] <= '9') return data[j] - '0';
    }
    return -1;
}

lc_status lc_image_apply_orientation(const lc_image *in, int orientation, lc_image **out) {
    *out = NULL;
    if (orientation < 2 || orientation > 8) return LC_OK;
    int w = in->width, h = in->height;
    bool swap = orientation >= 5; /* 5..8 exchange width and height */
    lc_image *o = NULL;
    lc_status s = lc_image_alloc(swap ? h : w, swap ? w : h, &o);
    if (s) return s;
    int ow = o->width, oh = o->height;
    for (int y = 0; y < oh; y++) {
        uint8_t *dst = o->data + (size_t)y * ow * 3;
        for (int x = 0; x < ow; x++, dst += 3) {
            int sx, sy; /* source pixel of output (x, y) */
            switch (orientation) {
            case 2: sx = w - 1 - x, sy = y; break;          /* mirror left-right */
            case 3: sx = w - 1 - x, sy = h - 1 - y; break;  /* rotate 180 */
            case 4: sx = x, sy = h - 1 - y; break;          /* mirror top-bottom */
            case 5: sx = y, sy = x; break;                  /* transpose */
            case 6: sx = y, sy = h - 1 - x; break;          /* rotate 270 (PIL's ROTATE_270) */
            case 7: sx = w - 1 - y, sy = h - 1 - x; break;  /* transverse */
            default: sx = w - 1 - y, sy = x; break;         /* 8: rotate 90 */
            }
            const uint8_t *src = in->data + ((size_t)sy * w + (size_t)sx) * 3;
            dst[0] = src[0], dst[1] = src[1], dst[2] = src[2];
        }
    }
    o->has_transparent_color = in->has_transparent_color; /* PIL's transpose keeps info */
    memcpy(o->transparent_color, in->transparent_color, sizeof o->transparent_color);
    *out = o;
    return LC_OK;
}

/* ---- decoding -------------------------------------------------------------------------------- */
static const char *format_name(const uint8_t *d, size_t n) {
    if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0)) return "GIF";
    if (n >= 2 && memcmp(d, "BM", 2) == 0) return "BMP";
    if (n >= 4 && (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0)) return "TIFF";
    if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0) return "HEIF/AVIF";
    return NULL;
}

lc_status lc_image_decode_memory(const void *data, size_t size, const char *name, const lc_image_options *opts,
                                 lc_image **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_image_decode_memory: out is NULL");
    *out = NULL;
    const char *label = name ? name : "<memory>";
    if (!data && size) return lc_error(LC_ERR_ARG, "%s: data is NULL", label);
    uint64_t max_pixels = opts && opts->max_pixels ? opts->max_pixels : LC_IMAGE_DEFAULT_MAX_PIXELS;
    bool want_exif = opts && opts->exif_transpose;
    const uint8_t *d = data;
    if (size == 0) return lc_error(LC_ERR_FORMAT, "%s: empty file, not an image", label);
    int orientation = 1;
    lc_image *img = NULL;
    lc_status s;
    if (size >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) {
        s = lc_image_decode_jpeg(d, size, label, max_pixels, want_exif, &orientation, &img);
    } else if (size >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) {
        s = lc_image_decode_png(d, size, label, max_pixels, want_exif, &orientation, &img);
    } else if (size >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) {
        s = lc_image_decode_webp(d, size, label, max_pixels, want_exif, &orientation, &img);
    } else {
        const char *f = format_name(d, size);
        if (f) return lc_error(LC_ERR_UNSUPPORTED, "%s: %s images are not supported (JPEG, PNG and WebP are)", label, f);
        return lc_error(LC_ERR_FORMAT, "%s: not a JPEG, PNG or WebP image", label);
    }
    if (s != LC_OK) return s;
    if (want_exif && orientation != 1) {
        lc_image *t = NULL;
        s = lc_image_apply_orientation(img, orientation, &t);
        if (s != LC_OK) {
            lc_image_free(img);
            return s;
        }
        if (t) {
            lc_image_free(img);
            img = t;
        }
    }
    *out = img;
    return LC_OK;
}

lc_status lc_image_decode_file(const char *path, const lc_image_options *opts, lc_image **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_image_decode_file: out is NULL");
    *out = NULL;
    if (!path) return lc_error(LC_ERR_ARG, "lc_image_decode_file: path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lc_error(LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return lc_error(LC_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > LC_IMAGE_MAX_FILE_BYTES) {
        close(fd);
        return lc_error(LC_ERR_FORMAT, "%s: %lld bytes is larger than the %zu-byte limit for an image file", path,
                        (long long)sb.st_size, LC_IMAGE_MAX_FILE_BYTES);
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return lc_error(LC_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    int e = errno;
    close(fd);
    if (got != size) {
        free(buf);
        return lc_error(LC_ERR_IO, "%s: read error: %s", path, strerror(e));
    }
    lc_status s = lc_image_decode_memory(buf, size, path, opts, out);
    free(buf);
    return s;
}
