/* libFuzzer target: C2PA reading and validation of arbitrary bytes as a PNG (the input is given the
 * PNG signature when it lacks one, so the chunk walker and caBX reader are always exercised), plus
 * the PNG chunk map used by c2pa.hash.boxes. */
#include "locus/c2pa.h"
#include "media/c2pa/c2pa_internal.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = NULL;
    if (size < 8 || memcmp(data, sig, 8) != 0) {
        buf = malloc(size + 8);
        if (!buf) return 0;
        memcpy(buf, sig, 8);
        if (size) memcpy(buf + 8, data, size);
        data = buf;
        size += 8;
    }
    lc_c2pa_report *r = NULL;
    if (lc_c2pa_verify_memory(data, size, "fuzz.png", NULL, &r) == LC_OK) {
        char *json = lc_c2pa_report_json(r, "fuzz.png");
        if (!json) abort();
        free(json);
        lc_c2pa_report_free(r);
    }
    c2pa_src src;
    c2pa_src_memory(&src, data, size, "fuzz.png");
    c2pa_named_box *boxes = NULL;
    size_t n = 0;
    if (c2pa_png_box_map(&src, &boxes, &n) == LC_OK) {
        for (size_t i = 0; i < n; i++)
            if (boxes[i].off > size || boxes[i].len > size - boxes[i].off) abort();
        free(boxes);
    }
    free(buf);
    return 0;
}
