/* libFuzzer target: preprocessor_config.json parsing, output-size arithmetic and preprocessing of
 * small images under whatever configuration parses. */
#include "locus.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lc_image_preprocessor *p = NULL;
    if (lc_image_preprocessor_from_json((const char *)data, size, "fuzz.json", &p) != LC_OK) return 0;
    static const int sizes[][2] = {{1, 1}, {5, 3}, {3, 7}, {64, 48}, {2, 9}, {40000, 2}, {1, 30000}};
    uint8_t px[64 * 48 * 3];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 131u + 7u);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int h = 0, w = 0;
        if (lc_image_preprocessor_output_size(p, sizes[k][0], sizes[k][1], &h, &w) != LC_OK) continue;
        if (h <= 0 || w <= 0) abort();
        /* Preprocess only what stays small, and only inputs small enough to build here. */
        if ((int64_t)h * w > 512 * 512 || (int64_t)sizes[k][0] * sizes[k][1] > 64 * 48) continue;
        lc_image img = {sizes[k][0], sizes[k][1], 3, px, false, {0, 0, 0}};
        float *out = malloc((size_t)3 * h * w * sizeof *out);
        if (!out) abort();
        if (lc_image_preprocess_into(p, &img, out, (size_t)3 * h * w) != LC_OK) {
            /* a resize the limits refuse is fine; anything else is not */
        }
        free(out);
    }
    lc_image_preprocessor_free(p);
    return 0;
}
