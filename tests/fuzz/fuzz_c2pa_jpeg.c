/* libFuzzer target: C2PA reading and validation of arbitrary bytes as a JPEG (APP11 reassembly,
 * JUMBF, claims, COSE, hashes), plus the JPEG box map used by c2pa.hash.boxes. Any result is
 * fine except a crash, a leak or a read outside the buffer; a report must be consistent. */
#include "locus/c2pa.h"
#include "media/c2pa/c2pa_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lc_c2pa_report *r = NULL;
    if (lc_c2pa_verify_memory(data, size, "fuzz.jpg", NULL, &r) == LC_OK) {
        lc_c2pa_state s = lc_c2pa_report_state(r);
        if (s == LC_C2PA_ABSENT && lc_c2pa_report_manifest_count(r) != 0) abort();
        if ((s == LC_C2PA_VALID || s == LC_C2PA_TRUSTED) && !lc_c2pa_report_active_manifest(r)) abort();
        char *json = lc_c2pa_report_json(r, "fuzz.jpg");
        if (!json) abort();
        free(json);
        lc_c2pa_report_free(r);
    }
    c2pa_src src;
    c2pa_src_memory(&src, data, size, "fuzz.jpg");
    c2pa_named_box *boxes = NULL;
    size_t n = 0;
    if (c2pa_jpeg_box_map(&src, &boxes, &n) == LC_OK) {
        for (size_t i = 0; i < n; i++)
            if (boxes[i].off > size || boxes[i].len > size - boxes[i].off) abort();
        free(boxes);
    }
    return 0;
}
