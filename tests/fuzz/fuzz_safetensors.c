/* libFuzzer target: safetensors header validation and tensor access on arbitrary bytes.
 * Every accepted file must give arrays whose bytes can be read in full. */
#include "locus.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lc_safetensors *st = NULL;
    if (lc_safetensors_open_memory(data, size, "fuzz", &st) != LC_OK) return 0;
    for (size_t i = 0; i < lc_safetensors_count(st); i++) {
        const char *name = lc_safetensors_name(st, i);
        const char *dtype;
        int ndim;
        const int64_t *shape;
        if (lc_safetensors_info(st, name, &dtype, &ndim, &shape) != LC_OK) abort();
        if (!lc_safetensors_has(st, name)) abort();
        lc_array *a = NULL;
        if (lc_safetensors_get(st, name, &a) != LC_OK) continue;
        int64_t n = lc_array_numel(a);
        if (n <= 4096) {
            float *buf = malloc((size_t)(n ? n : 1) * sizeof *buf);
            int64_t *ibuf = malloc((size_t)(n ? n : 1) * sizeof *ibuf);
            lc_dtype t = lc_array_dtype(a);
            if (t == LC_I32 || t == LC_I64) (void)lc_array_read_i64(a, ibuf, (size_t)n);
            else (void)lc_array_read_f32(a, buf, (size_t)n);
            free(buf);
            free(ibuf);
        }
        lc_array_release(a);
    }
    (void)lc_safetensors_metadata(st, "format");
    lc_safetensors_close(st);
    return 0;
}
