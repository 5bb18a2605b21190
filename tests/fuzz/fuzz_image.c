/* libFuzzer target: JPEG / PNG decoding (with and without EXIF orientation) and preprocessing of
 * whatever decodes. A lower pixel limit than the default keeps each input fast; the limit check
 * itself is exercised all the same. */
#include "locus.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static lc_image_preprocessor *preprocessor(void) {
    static lc_image_preprocessor *p;
    if (!p) {
        const char *cfg = "{\"image_processor_type\": \"CLIPImageProcessor\", \"size\": {\"shortest_edge\": 24}, "
                          "\"crop_size\": {\"height\": 20, \"width\": 28}, \"do_center_crop\": true, \"resample\": 3}";
        if (lc_image_preprocessor_from_json(cfg, strlen(cfg), "fuzz.json", &p) != LC_OK) abort();
    }
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lc_image_options o = {.exif_transpose = size > 0 && (data[size - 1] & 1), .max_pixels = 1u << 22};
    lc_image *img = NULL;
    if (lc_image_decode_memory(data, size, "fuzz", &o, &img) != LC_OK) return 0;
    if (img->width <= 0 || img->height <= 0 || img->channels != 3) abort();
    float out[3 * 20 * 28];
    if (lc_image_preprocess_into(preprocessor(), img, out, sizeof out / sizeof out[0]) != LC_OK) abort();
    lc_image *small = NULL;
    if (lc_image_resize(img, 7, 5, LC_RESAMPLE_LANCZOS, &small) != LC_OK) abort();
    lc_image_free(small);
    lc_image_free(img);
    return 0;
}
