/* Minimal reader of NumPy .npy files holding little-endian float32 C-order arrays (what
 * `numpy.save` writes for np.float32), used to feed exact pixel_values to image models. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

lc_status cli_read_npy_f32(const char *path, lc_array **out) {
    FILE *f = fopen(path, "rb");
    if (!f) return lc_error(LC_ERR_IO, "%s: cannot open", path);
    unsigned char pre[10];
    lc_status s = LC_OK;
    char *hdr = NULL;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        s = lc_error(LC_ERR_FORMAT, "%s: not a .npy file", path);
        goto done;
    }
    size_t hlen;
    if (pre[6] == 1) {
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        unsigned char more[2];
        if (fread(more, 1, 2, f) != 2) {
            s = lc_error(LC_ERR_FORMAT, "%s: truncated header", path);
            goto done;
        }
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)more[0] << 16 | (size_t)more[1] << 24;
    } else {
        s = lc_error(LC_ERR_FORMAT, "%s: unknown .npy version %d", path, pre[6]);
        goto done;
    }
    if (hlen > 65536) {
        s = lc_error(LC_ERR_FORMAT, "%s: header too long", path);
        goto done;
    }
    hdr = calloc(1, hlen + 1);
    if (!hdr || fread(hdr, 1, hlen, f) != hlen) {
        s = lc_error(LC_ERR_FORMAT, "%s: truncated header", path);
        goto done;
    }
    if (!strstr(hdr, "'descr': '<f4'") || !strstr(hdr, "'fortran_order': False")) {
        s = lc_error(LC_ERR_UNSUPPORTED, "%s: only little-endian float32 C-order arrays are read", path);
        goto done;
    }
    const char *sh = strstr(hdr, "'shape': (");
    if (!sh) {
        s = lc_error(LC_ERR_FORMAT, "%s: no shape in header", path);
        goto done;
    }
    sh += 10;
    int64_t shape[LC_MAX_DIMS];
    int nd = 0;
    size_t count = 1;
    while (*sh && *sh != ')') {
        char *end;
        long long v = strtoll(sh, &end, 10);
        if (end == sh || v < 0 || nd == LC_MAX_DIMS || __builtin_mul_overflow(count, (size_t)v, &count)) {
            s = lc_error(LC_ERR_FORMAT, "%s: bad shape in header", path);
            goto done;
        }
        shape[nd++] = v;
        sh = end;
        while (*sh == ',' || *sh == ' ') sh++;
    }
    size_t bytes;
    if (__builtin_mul_overflow(count, (size_t)4, &bytes) || bytes > ((size_t)1 << 34)) {
        s = lc_error(LC_ERR_FORMAT, "%s: array too large", path);
        goto done;
    }
    float *data = malloc(bytes ? bytes : 1);
    if (!data) {
        s = lc_error(LC_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fread(data, 1, bytes, f) != bytes) {
        free(data);
        s = lc_error(LC_ERR_FORMAT, "%s: file shorter than its shape says", path);
        goto done;
    }
    s = lc_array_from_data(LC_F32, nd, shape, data, out);
    free(data);
done:
    free(hdr);
    fclose(f);
    return s;
}
