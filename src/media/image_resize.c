/*
 * PIL-compatible resizing of 8-bit RGB images (Image.resize with the default box).
 *
 * Hugging Face image processors resize through PIL, so matching them means computing what PIL
 * computes, not merely "a bilinear resize":
 *   - convolution filters (box, bilinear, hamming, bicubic a=-0.5, lanczos-3) evaluated at the
 *     centres of the output pixels mapped back to the input, (x + 0.5) * scale;
 *   - when shrinking, the filter is stretched by the scale factor (support * scale), which is the
 *     antialiasing: every input pixel under the stretched kernel contributes;
 *   - per-output-pixel weights are normalised to sum to 1, then turned into 22-bit fixed point
 *     (rounded away from zero), accumulated in 32-bit integers from a rounding bias of one half,
 *     shifted back and clamped to 0..255;
 *   - two passes, each rounded to 8 bits. Pillow 13 picks the order: vertical first when the
 *     height shrinks and the height loses more than twice as many pixels as the width
 *     (2 * (in_w - out_w) < in_h - out_h), else horizontal first over only the rows the vertical
 *     pass will read. (Pillow 12 and older always went horizontal first; the order changes
 *     results by a level or so on strong one-axis shrinks. The rule was measured against
 *     Pillow 13.0 on hundreds of random sizes, see tests/py/test_image_preprocess.py.);
 *   - an axis whose size does not change is not filtered; same size overall is a plain copy;
 *   - nearest neighbour is a separate path: source index floor(a/2 + i*a) accumulated in double,
 *     with a = in_size / out_size.
 * Written from the description of the algorithm (Pillow's libImaging/Resample.c is the reference
 * it was checked against, through tests/py/test_image_preprocess.py).
 */
#include "media/image_internal.h"
#include "cpu/threadpool.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define RESAMPLE_BITS 22 /* 32 bits - 8 bits of pixel - 2 bits of headroom for negative lobes */

typedef struct resample_filter {
    double (*weight)(double x);
    double support;
} resample_filter;

static double w_box(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

static double w_bilinear(double x) {
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double w_hamming(double x) {
    x = fabs(x);
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x *= M_PI;
    /* PIL writes the window constants as floats (0.54f, 0.46f); keep their exact values. */
    return sin(x) / x * ((double)0.54f + (double)0.46f * cos(x));
}

static double w_bicubic(double x) {
    const double a = -0.5;
    x = fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static double sinc(double x) {
    if (x == 0.0) return 1.0;
    x *= M_PI;
    return sin(x) / x;
}

static double w_lanczos(double x) { return (x >= -3.0 && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0; }

static const resample_filter *filter_of(lc_resample f) {
    static const resample_filter box = {w_box, 0.5}, bilinear = {w_bilinear, 1.0}, hamming = {w_hamming, 1.0},
                                 bicubic = {w_bicubic, 2.0}, lanczos = {w_lanczos, 3.0};
    switch (f) {
    case LC_RESAMPLE_BOX: return &box;
    case LC_RESAMPLE_BILINEAR: return &bilinear;
    case LC_RESAMPLE_HAMMING: return &hamming;
    case LC_RESAMPLE_BICUBIC: return &bicubic;
    case LC_RESAMPLE_LANCZOS: return &lanczos;
    default: return NULL;
    }
}

/* Fixed-point weights of one axis: for output i, inputs first[i] .. first[i] + count[i] - 1 with
 * weights w[i * ksize + k]. */
typedef struct axis_weights {
    int ksize;
    int *first, *count;
    int32_t *w;
} axis_weights;

static void axis_free(axis_weights *a) {
    free(a->first);
    free(a->count);
    free(a->w);
}

static lc_status axis_compute(int in_size, int out_size, const resample_filter *f, axis_weights *a) {
    memset(a, 0, sizeof *a);
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = f->support * filterscale;
    double ks = ceil(support) * 2 + 1;
    /* Bound the weight tables (out_size x ksize taps: 4 bytes each here, about 13 in the
     * vectorised layout) at 2^24 taps; a 20000-pixel axis shrunk with lanczos needs 120 thousand. */
    if (ks * (double)out_size > (double)(1 << 24))
        return lc_error(LC_ERR_ARG, "resize from %d to %d pixels: filter table too large", in_size, out_size);
    int ksize = (int)ks;
    size_t nw = (size_t)out_size * (size_t)ksize;
    a->ksize = ksize;
    a->first = malloc((size_t)out_size * sizeof(int));
    a->count = malloc((size_t)out_size * sizeof(int));
    a->w = calloc(nw, sizeof(int32_t));
    double *tmp = malloc((size_t)ksize * sizeof(double));
    if (!a->first || !a->count || !a->w || !tmp) {
        free(tmp);
        axis_free(a);
        return lc_error(LC_ERR_NOMEM, "resize: out of memory");
    }
    double inv = 1.0 / filterscale;
    for (int i = 0; i < out_size; i++) {
        double center = (i + 0.5) * scale;
        int lo = (int)(center - support + 0.5); /* truncation toward zero, as PIL rounds here */
        if (lo < 0) lo = 0;
        int hi = (int)(center + support + 0.5);
        if (hi > in_size) hi = in_size;
        int n = hi - lo;
        if (n > ksize) n = ksize; /* cannot happen; keeps the writes in bounds regardless */
        double total = 0.0;
        for (int k = 0; k < n; k++) {
            double wk = f->weight((k + lo - center + 0.5) * inv);
            tmp[k] = wk;
            total += wk;
        }
        for (int k = 0; k < n; k++) {
            double wk = total != 0.0 ? tmp[k] / total : tmp[k];
            double fx = wk * (double)(1 << RESAMPLE_BITS);
            a->w[(size_t)i * ksize + k] = (int32_t)(wk < 0 ? fx - 0.5 : fx + 0.5);
        }
        a->first[i] = lo;
        a->count[i] = n < 0 ? 0 : n;
    }
    free(tmp);
    return LC_OK;
}

static inline uint8_t clamp_shift(int32_t acc) {
    int32_t v = acc >> RESAMPLE_BITS; /* arithmetic shift: floor */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* (rows, in_w, 3) -> (rows, out_w, 3), rows y0 .. y0 + rows - 1 of `in`. */
static void pass_horizontal(const uint8_t *in, int in_w, int y0, int rows, const axis_weights *a, int out_w,
                            uint8_t *out) {
    for (int y = 0; y < rows; y++) {
        const uint8_t *src = in + (size_t)(y0 + y) * in_w * 3;
        uint8_t *dst = out + (size_t)y * out_w * 3;
        for (int x = 0; x < out_w; x++) {
            const int32_t *w = a->w + (size_t)x * a->ksize;
            const uint8_t *p = src + (size_t)a->first[x] * 3;
            int32_t r = 1 << (RESAMPLE_BITS - 1), g = r, b = r;
            for (int k = 0; k < a->count[x]; k++) {
                r += p[3 * k] * w[k];
                g += p[3 * k + 1] * w[k];
                b += p[3 * k + 2] * w[k];
            }
            dst[3 * x] = clamp_shift(r);
            dst[3 * x + 1] = clamp_shift(g);
            dst[3 * x + 2] = clamp_shift(b);
        }
    }
}

/* The same pass, vectorised: five RGB pixels (15 bytes) of the input widened to 16 int32 lanes,
 * multiplied by their weights (each repeated over the three channels; lane 15 weighs 0) and
 * accumulated, then the five partial sums of each channel added. Integer sums do not depend on
 * their order, so the result is the reference's to the bit (tests/unit/test_image.c checks).
 * AVX-512 does a group of five taps in three instructions, AVX2 in six; without either (or off
 * x86) the scalar pass runs. Outputs whose last 16-byte load would pass the end of the row take
 * the scalar path too. */
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#define RESIZE_SIMD 1
#else
#define RESIZE_SIMD 0
#endif

typedef int32_t v16si __attribute__((vector_size(64), aligned(64)));

typedef struct group_weights {
    v16si *w;     /* groups of 5 taps */
    int *offset;  /* first group of output x */
    int *groups;  /* group count of output x */
} group_weights;

static void group_weights_free(group_weights *g) {
    free(g->w);
    free(g->offset);
    free(g->groups);
}

static lc_status group_weights_make(const axis_weights *a, int out_size, group_weights *g) {
    memset(g, 0, sizeof *g);
    g->offset = malloc((size_t)out_size * sizeof(int));
    g->groups = malloc((size_t)out_size * sizeof(int));
    size_t total = 0;
    for (int x = 0; x < out_size; x++) total += (size_t)(a->count[x] + 4) / 5;
    g->w = aligned_alloc(64, (total ? total : 1) * sizeof(v16si));
    if (!g->offset || !g->groups || !g->w) {
        group_weights_free(g);
        return lc_error(LC_ERR_NOMEM, "resize: out of memory");
    }
    size_t at = 0;
    for (int x = 0; x < out_size; x++) {
        int n = a->count[x], groups = (n + 4) / 5;
        const int32_t *w = a->w + (size_t)x * a->ksize;
        g->offset[x] = (int)at;
        g->groups[x] = groups;
        for (int k = 0; k < groups; k++, at++) {
            v16si v = {0};
            for (int lane = 0; lane < 15; lane++) {
                int tap = 5 * k + lane / 3;
                v[lane] = tap < n ? w[tap] : 0;
            }
            g->w[at] = v;
        }
    }
    return LC_OK;
}

static void pass_horizontal_fast(const uint8_t *in, int in_w, int y0, int rows, const axis_weights *a,
                                 const group_weights *g, int out_w, uint8_t *out) {
    size_t rowbytes = (size_t)in_w * 3;
    for (int y = 0; y < rows; y++) {
        const uint8_t *src = in + (size_t)(y0 + y) * rowbytes;
        uint8_t *dst = out + (size_t)y * out_w * 3;
        for (int x = 0; x < out_w; x++) {
            size_t start = (size_t)a->first[x] * 3;
            int groups = g->groups[x];
            int32_t r = 1 << (RESAMPLE_BITS - 1), gr = r, b = r;
            if (RESIZE_SIMD && groups > 0 && start + 15 * (size_t)(groups - 1) + 16 <= rowbytes) {
                const v16si *w = g->w + g->offset[x];
#if defined(__AVX512F__)
                __m512i acc = _mm512_setzero_si512();
                for (int k = 0; k < groups; k++) {
                    __m128i bytes = _mm_loadu_si128((const __m128i *)(src + start + 15 * (size_t)k));
                    __m512i wk = _mm512_load_si512((const void *)&w[k]);
                    acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(_mm512_cvtepu8_epi32(bytes), wk));
                }
                /* Fold the five pixels: lanes 0..2 end up holding the channel sums. */
                __m512i z = _mm512_setzero_si512();
                __m512i t = _mm512_add_epi32(acc, _mm512_alignr_epi32(z, acc, 3));   /* p0+p1, p2+p3, p4 */
                t = _mm512_add_epi32(t, _mm512_alignr_epi32(z, t, 6));               /* p0..p3, p4 */
                t = _mm512_add_epi32(t, _mm512_alignr_epi32(z, acc, 12));            /* p0..p4 */
                r += _mm_extract_epi32(_mm512_castsi512_si128(t), 0);
                gr += _mm_extract_epi32(_mm512_castsi512_si128(t), 1);
                b += _mm_extract_epi32(_mm512_castsi512_si128(t), 2);
#elif defined(__AVX2__)
                int32_t lanes[16] __attribute__((aligned(64)));
                __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
                for (int k = 0; k < groups; k++) {
                    const uint8_t *q = src + start + 15 * (size_t)k;
                    const __m256i *wk = (const __m256i *)&w[k];
                    lo = _mm256_add_epi32(lo, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)q)),
                                                                 _mm256_load_si256(wk)));
                    hi = _mm256_add_epi32(hi, _mm256_mullo_epi32(
                                                  _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q + 8))),
                                                  _mm256_load_si256(wk + 1)));
                }
                _mm256_store_si256((__m256i *)lanes, lo);
                _mm256_store_si256((__m256i *)(lanes + 8), hi);
#else
                int32_t lanes[16] = {0};
                (void)w;
#endif
#if !defined(__AVX512F__)
                r += lanes[0] + lanes[3] + lanes[6] + lanes[9] + lanes[12];
                gr += lanes[1] + lanes[4] + lanes[7] + lanes[10] + lanes[13];
                b += lanes[2] + lanes[5] + lanes[8] + lanes[11] + lanes[14];
#endif
            } else {
                const int32_t *w = a->w + (size_t)x * a->ksize;
                const uint8_t *p = src + start;
                for (int k = 0; k < a->count[x]; k++) {
                    r += p[3 * k] * w[k];
                    gr += p[3 * k + 1] * w[k];
                    b += p[3 * k + 2] * w[k];
                }
            }
            dst[3 * x] = clamp_shift(r);
            dst[3 * x + 1] = clamp_shift(gr);
            dst[3 * x + 2] = clamp_shift(b);
        }
    }
}

/* Rows per task for the thread pool: enough multiply-adds (about 2^16) to be worth a thread. */
static int64_t rows_per_task(int out_w, int ksize) {
    int64_t per_row = (int64_t)out_w * 3 * (ksize > 0 ? ksize : 1);
    int64_t rows = ((int64_t)1 << 16) / (per_row > 0 ? per_row : 1);
    return rows > 0 ? rows : 1;
}

typedef struct horizontal_job {
    const uint8_t *in;
    int in_w, y0, out_w;
    const axis_weights *a;
    const group_weights *g;
    uint8_t *out;
} horizontal_job;

static void horizontal_rows(void *ctx, int64_t begin, int64_t end) {
    const horizontal_job *j = ctx;
    pass_horizontal_fast(j->in, j->in_w, j->y0 + (int)begin, (int)(end - begin), j->a, j->g, j->out_w,
                         j->out + (size_t)begin * j->out_w * 3);
}

/* Horizontal pass through the fast path (rows spread over the CPU pool), or the single-threaded
 * reference when asked (tests compare the two). */
static lc_status horizontal(const uint8_t *in, int in_w, int y0, int rows, const axis_weights *a, int out_w,
                            uint8_t *out, bool reference) {
    if (reference) {
        pass_horizontal(in, in_w, y0, rows, a, out_w, out);
        return LC_OK;
    }
    group_weights g;
    lc_status s = group_weights_make(a, out_w, &g);
    if (s) return s;
    horizontal_job job = {in, in_w, y0, out_w, a, &g, out};
    lc_parallel_for(rows, rows_per_task(out_w, a->ksize), horizontal_rows, &job);
    group_weights_free(&g);
    return LC_OK;
}

/* (in rows, w, 3) -> (out_h, w, 3); first[] of the weights is relative to row `y_offset`. */
static void pass_vertical(const uint8_t *in, int w, int y_offset, const axis_weights *a, int out_h, uint8_t *out,
                          int32_t *acc) {
    size_t row = (size_t)w * 3;
    for (int y = 0; y < out_h; y++) {
        const int32_t *wt = a->w + (size_t)y * a->ksize;
        for (size_t i = 0; i < row; i++) acc[i] = 1 << (RESAMPLE_BITS - 1);
        for (int k = 0; k < a->count[y]; k++) {
            const uint8_t *src = in + (size_t)(a->first[y] - y_offset + k) * row;
            int32_t wk = wt[k];
            for (size_t i = 0; i < row; i++) acc[i] += src[i] * wk;
        }
        uint8_t *dst = out + (size_t)y * row;
        for (size_t i = 0; i < row; i++) dst[i] = clamp_shift(acc[i]);
    }
}

typedef struct vertical_job {
    const uint8_t *in;
    int w, y_offset;
    const axis_weights *a;
    uint8_t *out;
    atomic_bool failed;
} vertical_job;

static void vertical_rows(void *ctx, int64_t begin, int64_t end) {
    vertical_job *j = ctx;
    int32_t *acc = malloc((size_t)j->w * 3 * sizeof *acc);
    if (!acc) {
        atomic_store(&j->failed, true);
        return;
    }
    /* Output rows begin..end-1: shift the weights' view instead of copying them. */
    axis_weights part = {j->a->ksize, j->a->first + begin, j->a->count + begin, j->a->w + (size_t)begin * j->a->ksize};
    pass_vertical(j->in, j->w, j->y_offset, &part, (int)(end - begin), j->out + (size_t)begin * j->w * 3, acc);
    free(acc);
}

/* Vertical pass over the CPU pool (reference: single-threaded). */
static lc_status vertical(const uint8_t *in, int w, int y_offset, const axis_weights *a, int out_h, uint8_t *out,
                          bool reference) {
    vertical_job job = {.in = in, .w = w, .y_offset = y_offset, .a = a, .out = out};
    atomic_init(&job.failed, false);
    if (reference) vertical_rows(&job, 0, out_h);
    else lc_parallel_for(out_h, rows_per_task(w, a->ksize), vertical_rows, &job);
    return atomic_load(&job.failed) ? lc_error(LC_ERR_NOMEM, "resize: out of memory") : LC_OK;
}

static lc_status resize_nearest(const lc_image *in, int width, int height, lc_image *o) {
    int *xs = malloc((size_t)width * sizeof(int));
    if (!xs) return lc_error(LC_ERR_NOMEM, "resize: out of memory");
    double ax = (double)in->width / width, ay = (double)in->height / height;
    /* Positions accumulate in double exactly as PIL's affine scaling loop does. */
    double xo = ax * 0.5;
    for (int x = 0; x < width; x++, xo += ax) {
        int xi = xo < 0.0 ? -1 : (int)xo;
        xs[x] = xi < 0 ? 0 : xi >= in->width ? in->width - 1 : xi;
    }
    double yo = ay * 0.5;
    for (int y = 0; y < height; y++, yo += ay) {
        int yi = yo < 0.0 ? -1 : (int)yo;
        if (yi < 0) yi = 0;
        if (yi >= in->height) yi = in->height - 1;
        const uint8_t *src = in->data + (size_t)yi * in->width * 3;
        uint8_t *dst = o->data + (size_t)y * width * 3;
        for (int x = 0; x < width; x++) {
            const uint8_t *p = src + (size_t)xs[x] * 3;
            dst[3 * x] = p[0], dst[3 * x + 1] = p[1], dst[3 * x + 2] = p[2];
        }
    }
    free(xs);
    return LC_OK;
}

static lc_status resize(const lc_image *in, int width, int height, lc_resample filter, bool reference,
                        lc_image **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_image_resize: out is NULL");
    *out = NULL;
    if (!in || !in->data || in->width <= 0 || in->height <= 0)
        return lc_error(LC_ERR_ARG, "lc_image_resize: invalid input image");
    if (width <= 0 || height <= 0) return lc_error(LC_ERR_ARG, "resize to %dx%d: size must be positive", width, height);
    const resample_filter *f = filter_of(filter);
    if (!f && filter != LC_RESAMPLE_NEAREST) return lc_error(LC_ERR_ARG, "unknown resampling filter %d", (int)filter);
    lc_image *o = NULL;
    lc_status s = lc_image_alloc(width, height, &o);
    if (s) return s;
    if (width == in->width && height == in->height) {
        memcpy(o->data, in->data, (size_t)width * height * 3);
        *out = o;
        return LC_OK;
    }
    if (filter == LC_RESAMPLE_NEAREST) {
        s = resize_nearest(in, width, height, o);
        if (s) lc_image_free(o);
        else *out = o;
        return s;
    }
    bool need_h = width != in->width, need_v = height != in->height;
    bool vertical_first = need_h && need_v && height < in->height &&
                          2 * ((int64_t)in->width - width) < (int64_t)in->height - height;
    axis_weights ah = {0}, av = {0};
    uint8_t *tmp = NULL;
    if (need_v) s = axis_compute(in->height, height, f, &av);
    if (s == LC_OK && need_h) s = axis_compute(in->width, width, f, &ah);
    if (s != LC_OK) goto done;
    if (vertical_first) {
        /* (H, W) -> (h, W) -> (h, w) */
        tmp = malloc((size_t)height * in->width * 3);
        if (!tmp) {
            s = lc_error(LC_ERR_NOMEM, "resize: out of memory");
            goto done;
        }
        s = vertical(in->data, in->width, 0, &av, height, tmp, reference);
        if (s == LC_OK) s = horizontal(tmp, in->width, 0, height, &ah, width, o->data, reference);
        goto done;
    }
    /* (H, W) -> (rows the vertical pass reads, w) -> (h, w) */
    const uint8_t *mid = in->data;
    int mid_offset = 0;
    if (need_h) {
        int y0 = need_v ? av.first[0] : 0;
        int rows = need_v ? av.first[height - 1] + av.count[height - 1] - y0 : in->height;
        uint8_t *dst = o->data;
        if (need_v) {
            tmp = malloc((size_t)rows * width * 3);
            if (!tmp) {
                s = lc_error(LC_ERR_NOMEM, "resize: out of memory");
                goto done;
            }
            dst = tmp;
        }
        s = horizontal(in->data, in->width, y0, rows, &ah, width, dst, reference);
        if (s) goto done;
        mid = tmp;
        mid_offset = y0;
    }
    if (need_v) s = vertical(mid, width, mid_offset, &av, height, o->data, reference);
done:
    axis_free(&ah);
    axis_free(&av);
    free(tmp);
    if (s != LC_OK) {
        lc_image_free(o);
        return s;
    }
    *out = o;
    return LC_OK;
}

lc_status lc_image_resize(const lc_image *in, int width, int height, lc_resample filter, lc_image **out) {
    return resize(in, width, height, filter, false, out);
}

lc_status lc_image_resize_reference(const lc_image *in, int width, int height, lc_resample filter, lc_image **out) {
    return resize(in, width, height, filter, true, out);
}
