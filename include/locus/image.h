/* Images: decoding (JPEG, PNG, WebP when built with libwebp) and Hugging Face image-processor
 * preprocessing.
 *
 * Decoding gives 8-bit RGB exactly as PIL's Image.open(path).convert("RGB") does: grayscale is
 * replicated, palette entries are looked up, alpha is dropped (not composited), 16-bit RGB keeps
 * the high byte, 16-bit grayscale is clamped to 255 (PIL's "I;16" -> "RGB"), CMYK JPEGs use PIL's
 * CMYK -> RGB formula. With exif_transpose the EXIF orientation is applied as
 * PIL.ImageOps.exif_transpose does (what transformers' load_image does before converting).
 *
 * Preprocessing follows the PIL backends of transformers' image processors: resize with PIL's
 * resampling filters (same coefficients, same 8-bit fixed point, horizontal pass then vertical),
 * center crop (zero padding when the image is smaller), rescale, normalise, channels first.
 */
#ifndef LOCUS_IMAGE_H
#define LOCUS_IMAGE_H
#include "../locus.h"
#ifdef __cplusplus
extern "C" {
#endif

/* An 8-bit RGB image, rows top to bottom, pixels interleaved (R, G, B), no row padding. */
typedef struct lc_image {
    int width, height;
    int channels; /* always 3 */
    uint8_t *data;
    /* A PNG whose tRNS chunk names a single transparent colour (grayscale, RGB, or one palette
     * entry) keeps it here, as PIL keeps it in info["transparency"] through convert("RGB").
     * Processors with do_convert_rgb (CLIP, Bit, Siglip) then paint those pixels white, as
     * transformers' convert_to_rgb composites the transparency onto white. The colour is the
     * one PIL ends up comparing pixels with, quirks included (raw unscaled samples; 1-bit and
     * 16-bit grey keep an integer that PIL reads as a packed colour), so the same pixels match. */
    bool has_transparent_color;
    uint16_t transparent_color[3];
} lc_image;

/* Decompression-bomb guard: images with more pixels than this are refused before any pixel is
 * decoded (PIL warns from the same number, 89,478,485 = 2^30 / 4 / 3, and refuses at twice it). */
#define LC_IMAGE_DEFAULT_MAX_PIXELS 89478485ull

typedef struct lc_image_options {
    bool exif_transpose;  /* apply the EXIF orientation tag (PIL.ImageOps.exif_transpose) */
    uint64_t max_pixels;  /* 0 means LC_IMAGE_DEFAULT_MAX_PIXELS */
} lc_image_options;

/* Decode a JPEG, PNG or still WebP (detected from its first bytes). opts may be NULL (defaults). Errors name
 * the file: LC_ERR_IO (cannot read), LC_ERR_FORMAT (corrupt, truncated, zero-sized, too many
 * pixels), LC_ERR_UNSUPPORTED (another format, animated WebP, WebP in a build without libwebp). */
lc_status lc_image_decode_file(const char *path, const lc_image_options *opts, lc_image **out);
/* Same from memory; `name` labels error messages (NULL gives "<memory>"). */
lc_status lc_image_decode_memory(const void *data, size_t size, const char *name, const lc_image_options *opts,
                                 lc_image **out);
/* A new image from interleaved RGB bytes (copied). */
lc_status lc_image_from_rgb(int width, int height, const uint8_t *rgb, lc_image **out);
void lc_image_free(lc_image *img);

/* PIL's resampling filters, numbered as PIL numbers them (preprocessor_config.json "resample"). */
typedef enum lc_resample {
    LC_RESAMPLE_NEAREST = 0,
    LC_RESAMPLE_LANCZOS = 1,
    LC_RESAMPLE_BILINEAR = 2,
    LC_RESAMPLE_BICUBIC = 3,
    LC_RESAMPLE_BOX = 4,
    LC_RESAMPLE_HAMMING = 5
} lc_resample;

/* PIL's Image.resize((width, height), filter) on an RGB image, pixel for pixel. */
lc_status lc_image_resize(const lc_image *in, int width, int height, lc_resample filter, lc_image **out);

/* A Hugging Face image processor read from preprocessor_config.json. Understood: do_resize, size
 * ({"height","width"}, {"shortest_edge"}, {"shortest_edge","longest_edge"}), resample,
 * do_center_crop, crop_size, do_rescale, rescale_factor, do_normalize, image_mean, image_std,
 * crop_pct (ConvNeXT), do_convert_rgb. image_processor_type must be one whose preprocessing is this pipeline
 * (ViT, DeiT, BEiT, ConvNeXT, CLIP, Swin, DINOv2, BiT, ...); others are LC_ERR_UNSUPPORTED. */
typedef struct lc_image_preprocessor lc_image_preprocessor;

/* `path` is the JSON file or a model directory holding preprocessor_config.json. */
lc_status lc_image_preprocessor_load(const char *path, lc_image_preprocessor **out);
lc_status lc_image_preprocessor_from_json(const char *json, size_t len, const char *name,
                                          lc_image_preprocessor **out);
void lc_image_preprocessor_free(lc_image_preprocessor *p);
/* Output (height, width) of pixel_values for an input of the given size. */
lc_status lc_image_preprocessor_output_size(const lc_image_preprocessor *p, int width, int height, int *out_height,
                                            int *out_width);
/* pixel_values of one image: f32 (3, H, W). */
lc_status lc_image_preprocess(const lc_image_preprocessor *p, const lc_image *img, lc_array **out);
/* pixel_values of a batch: f32 (N, 3, H, W); every image must give the same (H, W). */
lc_status lc_image_preprocess_batch(const lc_image_preprocessor *p, size_t n, const lc_image *const *imgs,
                                    lc_array **out);
/* Same into caller memory: dst holds 3 * H * W floats for the size output_size reports. */
lc_status lc_image_preprocess_into(const lc_image_preprocessor *p, const lc_image *img, float *dst, size_t dst_len);

#ifdef __cplusplus
}
#endif
#endif
