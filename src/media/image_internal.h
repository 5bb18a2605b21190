/* Shared by the image decoders, the resampler and the preprocessor. */
#ifndef LOCUS_MEDIA_IMAGE_INTERNAL_H
#define LOCUS_MEDIA_IMAGE_INTERNAL_H

#include "locus.h"

/* Allocate an RGB image (data uninitialised); LC_ERR_NOMEM on overflow or failure. */
lc_status lc_image_alloc(int width, int height, lc_image **out);

/* Decoders: fill *out with RGB as PIL's convert("RGB") would; *orientation gets the EXIF
 * orientation (1..8, 1 when absent) when want_exif is set. Errors name `label`. */
lc_status lc_image_decode_jpeg(const uint8_t *data, size_t size, const char *label, uint64_t max_pixels,
                               bool want_exif, int *orientation, lc_image **out);
lc_status lc_image_decode_png(const uint8_t *data, size_t size, const char *label, uint64_t max_pixels,
                              bool want_exif, int *orientation, lc_image **out);
/* LC_ERR_UNSUPPORTED when built without libwebp. */
lc_status lc_image_decode_webp(const uint8_t *data, size_t size, const char *label, uint64_t max_pixels,
                               bool want_exif, int *orientation, lc_image **out);

/* Orientation tag (0x0112) of IFD0 in a TIFF-structured block ("II*\0..." or "MM\0*..."),
 * optionally preceded by "Exif\0\0": its value, or -1 when the block has no such tag. */
int lc_exif_orientation(const uint8_t *data, size_t size);
/* PIL's XMP fallback: the digit after the first `tiff:Orientation="` or `tiff:Orientation>`
 * in an XMP packet, or -1. */
int lc_xmp_orientation(const uint8_t *data, size_t size);

/* Apply an EXIF orientation (2..8) as PIL.ImageOps.exif_transpose does; 1 or unknown values
 * return a new reference-free copy-free result: *out = NULL means "unchanged". */
lc_status lc_image_apply_orientation(const lc_image *in, int orientation, lc_image **out);

/* lc_image_resize through the plain scalar passes only: the reference the fast path is tested
 * against. */
lc_status lc_image_resize_reference(const lc_image *in, int width, int height, lc_resample filter, lc_image **out);

#endif
