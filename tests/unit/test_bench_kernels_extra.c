/* The kernels the benchmark suite added (PReLU, sort, gather, scatter, BCE, conv1d, conv2d)
 * through the public ops, against plain references written here: random shapes, NaN and
 * duplicates in sort, out-of-range indices, stride/padding/bias in the convolutions, the -100
 * log clamp of BCE, f16/bf16 inputs. */
#include "locus.h"
#include "test_harness.h"

#include <string.h>

static unsigned seed = 4242;

static lc_array *rand_f32(int ndim, const int64_t *shape, float scale) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = test_rand(&seed) * scale;
    lc_array *a = NULL;
    CHECK_OK(lc_array_from_data(LC_F32, ndim, shape, v, &a));
    free(v);
    return a;
}

static float *read_all(lc_array *a) {
    int64_t n = lc_array_numel(a);
    float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    CHECK_OK(lc_array_read_f32(a, v, (size_t)n));
    return v;
}

static int64_t irand(int64_t n) { return (int64_t)((test_rand(&seed) + 1.0f) * 0.5f * (float)n) % n; }

static void test_prelu(void) {
    int64_t shape[4] = {2, 5, 3, 7};
    lc_array *x = rand_f32(4, shape, 2.0f);
    int64_t c = 5, one = 1;
    lc_array *wc = rand_f32(1, &c, 1.0f), *w1 = rand_f32(1, &one, 1.0f), *y = NULL, *y1 = NULL;
    CHECK_OK(lc_prelu(x, wc, &y));
    CHECK_OK(lc_prelu(x, w1, &y1));
    float *px = read_all(x), *pw = read_all(wc), *p1 = read_all(w1), *py = read_all(y), *py1 = read_all(y1);
    int bad = 0;
    for (int64_t i = 0; i < lc_array_numel(x); i++) {
        int64_t ch = (i / 21) % 5;
        float r = px[i] >= 0 ? px[i] : pw[ch] * px[i];
        float r1 = px[i] >= 0 ? px[i] : p1[0] * px[i];
        bad += py[i] != r || py1[i] != r1;
    }
    CHECK(bad == 0);
    /* wrong weight size is a shape error */
    int64_t three = 3;
    lc_array *w3 = rand_f32(1, &three, 1.0f), *z = NULL;
    CHECK(lc_prelu(x, w3, &z) == LC_ERR_SHAPE);
    free(px), free(pw), free(p1), free(py), free(py1);
    lc_array_release(x), lc_array_release(wc), lc_array_release(w1), lc_array_release(y), lc_array_release(y1);
    lc_array_release(w3);
}

static int cmp_float_nan_last(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    if (isnan(x)) return isnan(y) ? 0 : 1;
    if (isnan(y)) return -1;
    return (x > y) - (x < y);
}

static void test_sort(void) {
    const int64_t lens[] = {1, 7, 33, 100, 1024, 3000};
    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
        int64_t shape[3] = {3, 4, lens[li]};
        lc_array *x = rand_f32(3, shape, 100.0f);
        float *px = read_all(x);
        /* duplicates, signed zeros, infinities and NaN */
        int64_t n = lc_array_numel(x);
        for (int64_t i = 0; i < n; i += 5) px[i] = (float)(int)px[i];
        if (n > 10) {
            px[1] = NAN, px[2] = INFINITY, px[3] = -INFINITY, px[4] = -0.0f, px[6] = 0.0f;
        }
        lc_array *xx = NULL, *y = NULL;
        CHECK_OK(lc_array_from_data(LC_F32, 3, shape, px, &xx));
        CHECK_OK(lc_sort(xx, -1, &y));
        float *py = read_all(y);
        int bad = 0;
        for (int64_t r = 0; r < n / lens[li]; r++) {
            float *row = px + r * lens[li];
            qsort(row, (size_t)lens[li], sizeof(float), cmp_float_nan_last);
            for (int64_t j = 0; j < lens[li]; j++) {
                float a = py[r * lens[li] + j], b = row[j];
                bad += !(a == b || (isnan(a) && isnan(b)));
            }
        }
        CHECK(bad == 0);
        /* another axis: sort along axis 1 equals sorting the transposed rows */
        lc_array *y1 = NULL;
        CHECK_OK(lc_sort(x, 1, &y1));
        float *orig = read_all(x), *p1 = read_all(y1);
        int bad1 = 0;
        for (int64_t a0 = 0; a0 < 3; a0++)
            for (int64_t k = 0; k < lens[li]; k++) {
                float col[4];
                for (int j = 0; j < 4; j++) col[j] = orig[(a0 * 4 + j) * lens[li] + k];
                qsort(col, 4, sizeof(float), cmp_float_nan_last);
                for (int j = 0; j < 4; j++) bad1 += p1[(a0 * 4 + j) * lens[li] + k] != col[j];
            }
        CHECK(bad1 == 0);
        free(px), free(py), free(orig), free(p1);
        lc_array_release(x), lc_array_release(xx), lc_array_release(y), lc_array_release(y1);
    }
}

static void test_gather_scatter(void) {
    /* a (4, 6, 5), index (3, 6, 2) along axis 1 (index smaller than a off the axis) */
    int64_t as[3] = {4, 6, 5}, is[3] = {3, 9, 2};
    lc_array *a = rand_f32(3, as, 1.0f);
    int64_t nidx = 3 * 9 * 2;
    int64_t *idx = malloc((size_t)nidx * sizeof *idx);
    for (int64_t i = 0; i < nidx; i++) idx[i] = irand(6);
    lc_array *ia = NULL, *g = NULL;
    CHECK_OK(lc_array_from_data(LC_I64, 3, is, idx, &ia));
    CHECK_OK(lc_gather(a, 1, ia, &g));
    float *pa = read_all(a), *pg = read_all(g);
    int bad = 0;
    for (int64_t i = 0; i < 3; i++)
        for (int64_t j = 0; j < 9; j++)
            for (int64_t k = 0; k < 2; k++)
                bad += pg[(i * 9 + j) * 2 + k] != pa[(i * 6 + idx[(i * 9 + j) * 2 + k]) * 5 + k];
    CHECK(bad == 0);

    /* scatter along axis 0 of a (4, 6, 5) with index (2, 3, 5) and src (3, 4, 5) */
    int64_t sis[3] = {2, 3, 5}, ss[3] = {3, 4, 5};
    lc_array *src = rand_f32(3, ss, 1.0f), *sia = NULL, *sc = NULL;
    int64_t ns = 2 * 3 * 5, *sidx = malloc((size_t)ns * sizeof *sidx);
    for (int64_t i = 0; i < ns; i++) sidx[i] = irand(4);
    CHECK_OK(lc_array_from_data(LC_I64, 3, sis, sidx, &sia));
    CHECK_OK(lc_scatter(a, 0, sia, src, &sc));
    float *ps = read_all(src), *pc = read_all(sc), *ref = malloc(4 * 6 * 5 * sizeof *ref);
    memcpy(ref, pa, 4 * 6 * 5 * sizeof *ref);
    for (int64_t i = 0; i < 2; i++) /* in order: the last write wins, as in torch on the CPU */
        for (int64_t j = 0; j < 3; j++)
            for (int64_t k = 0; k < 5; k++) ref[(sidx[(i * 3 + j) * 5 + k] * 6 + j) * 5 + k] = ps[(i * 4 + j) * 5 + k];
    bad = 0;
    for (int64_t i = 0; i < 4 * 6 * 5; i++) bad += pc[i] != ref[i];
    CHECK(bad == 0);

    /* out-of-range and negative indices are errors, not reads outside the array */
    idx[5] = 6;
    lc_array *ib = NULL, *gb = NULL;
    CHECK_OK(lc_array_from_data(LC_I64, 3, is, idx, &ib));
    CHECK(lc_gather(a, 1, ib, &gb) == LC_ERR_ARG);
    CHECK(strstr(lc_last_error(), "out of range") != NULL);
    sidx[0] = -1;
    lc_array *sb = NULL, *scb = NULL;
    CHECK_OK(lc_array_from_data(LC_I64, 3, sis, sidx, &sb));
    CHECK(lc_scatter(a, 0, sb, src, &scb) == LC_ERR_ARG);
    free(idx), free(sidx), free(pa), free(pg), free(ps), free(pc), free(ref);
    lc_array_release(a), lc_array_release(ia), lc_array_release(g), lc_array_release(src), lc_array_release(sia);
    lc_array_release(sc), lc_array_release(ib), lc_array_release(sb);
}

static void test_bce(void) {
    int64_t shape[2] = {37, 53};
    int64_t n = 37 * 53;
    float *p = malloc((size_t)n * sizeof *p), *y = malloc((size_t)n * sizeof *y);
    for (int64_t i = 0; i < n; i++) {
        p[i] = (test_rand(&seed) + 1.0f) * 0.5f;
        y[i] = test_rand(&seed) > 0 ? 1.0f : 0.0f;
    }
    p[0] = 0.0f, y[0] = 1.0f; /* log 0 clamps to -100 */
    p[1] = 1.0f, y[1] = 0.0f;
    p[2] = 1.0f, y[2] = 1.0f;
    lc_array *pa = NULL, *ya = NULL, *out = NULL;
    CHECK_OK(lc_array_from_data(LC_F32, 2, shape, p, &pa));
    CHECK_OK(lc_array_from_data(LC_F32, 2, shape, y, &ya));
    CHECK_OK(lc_bce(pa, ya, &out));
    CHECK(lc_array_ndim(out) == 0);
    float got;
    CHECK_OK(lc_array_read_f32(out, &got, 1));
    double acc = 0;
    for (int64_t i = 0; i < n; i++) {
        double lp = log((double)p[i]), lq = log(1.0 - (double)p[i]);
        if (lp < -100) lp = -100;
        if (lq < -100) lq = -100;
        acc -= y[i] * lp + (1.0 - y[i]) * lq;
    }
    acc /= (double)n;
    printf("bce %.7g reference %.7g\n", got, acc);
    CHECK(fabs(got - acc) <= 1e-5 * fabs(acc));
    free(p), free(y);
    lc_array_release(pa), lc_array_release(ya), lc_array_release(out);
}

static void conv_case(int dims, int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t KH, int64_t KW, int stride,
                      int pad, bool bias, lc_dtype t) {
    int64_t xs[4] = {N, C, H, W}, ws[4] = {O, C, KH, KW};
    if (dims == 1) xs[2] = W, ws[2] = KW;
    lc_array *x32 = rand_f32(dims + 2, xs, 1.0f), *w32 = rand_f32(dims + 2, ws, 1.0f), *b32 = bias ? rand_f32(1, &O, 1.0f) : NULL;
    lc_array *x = NULL, *w = NULL, *b = NULL, *y = NULL;
    CHECK_OK(lc_astype(x32, t, &x));
    CHECK_OK(lc_astype(w32, t, &w));
    if (bias) CHECK_OK(lc_astype(b32, t, &b));
    CHECK_OK(dims == 2 ? lc_conv2d(x, w, b, stride, pad, &y) : lc_conv1d(x, w, b, stride, pad, &y));
    if (!y) return;
    float *px = read_all(x), *pw = read_all(w), *pb = bias ? read_all(b) : NULL, *py = read_all(y);
    int64_t Hh = dims == 2 ? H : 1, KHh = dims == 2 ? KH : 1;
    int64_t Ho = dims == 2 ? (H + 2 * pad - KH) / stride + 1 : 1, Wo = (W + 2 * pad - KW) / stride + 1;
    CHECK(lc_array_dim(y, -1) == Wo && lc_array_dim(y, 1) == O);
    double worst = 0, tol = t == LC_F32 ? 1e-5 : t == LC_F16 ? 4e-3 : 3e-2;
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t oh = 0; oh < Ho; oh++)
                for (int64_t ow = 0; ow < Wo; ow++) {
                    double acc = pb ? pb[o] : 0, mag = pb ? fabs(pb[o]) : 0;
                    for (int64_t c = 0; c < C; c++)
                        for (int64_t kh = 0; kh < KHh; kh++)
                            for (int64_t kw = 0; kw < KW; kw++) {
                                int64_t ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
                                if (dims == 1) ih = 0;
                                if (ih < 0 || ih >= Hh || iw < 0 || iw >= W) continue;
                                double v = (double)px[((n * C + c) * Hh + ih) * W + iw] * pw[((o * C + c) * KHh + kh) * KW + kw];
                                acc += v;
                                mag += fabs(v);
                            }
                    double e = fabs(py[((n * O + o) * Ho + oh) * Wo + ow] - acc) / (mag + 1e-3);
                    if (e > worst) worst = e;
                }
    printf("conv%dd N%lld C%lld %lldx%lld O%lld k%lldx%lld s%d p%d %s: worst rel err %.3g\n", dims, (long long)N, (long long)C,
           (long long)H, (long long)W, (long long)O, (long long)KH, (long long)KW, stride, pad, lc_dtype_name(t), worst);
    CHECK(worst <= tol);
    free(px), free(pw), free(pb), free(py);
    lc_array_release(x32), lc_array_release(w32), lc_array_release(b32);
    lc_array_release(x), lc_array_release(w), lc_array_release(b), lc_array_release(y);
}

static void test_conv(void) {
    conv_case(1, 3, 4, 1, 29, 5, 1, 3, 1, 0, false, LC_F32);
    conv_case(1, 2, 7, 1, 40, 6, 1, 11, 2, 3, true, LC_F32);
    conv_case(2, 2, 3, 13, 11, 4, 3, 3, 1, 0, false, LC_F32);
    conv_case(2, 1, 5, 17, 19, 3, 5, 3, 2, 2, true, LC_F32);
    conv_case(2, 2, 3, 9, 9, 2, 3, 3, 1, 1, true, LC_BF16);
    conv_case(1, 2, 3, 1, 20, 2, 1, 5, 1, 2, true, LC_F16);
    /* the direct kernel (stride 1, at most 128K weights): output rows of 16 columns and fewer, a last
     * partial strip moved back (26, 37 columns), padding reaching into the first and last strips,
     * whole input rows in the padding, output channels in blocks of 8 with a partial block (11, 19) */
    conv_case(2, 3, 3, 28, 28, 8, 3, 3, 1, 0, false, LC_F32);
    conv_case(2, 2, 4, 12, 39, 11, 3, 3, 1, 1, true, LC_F32);
    conv_case(2, 1, 2, 7, 16, 19, 5, 4, 1, 2, true, LC_F32);
    conv_case(2, 1, 3, 5, 5, 3, 3, 3, 1, 3, true, LC_F32);
    conv_case(1, 2, 5, 1, 300, 13, 1, 7, 1, 3, true, LC_F32);
    conv_case(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, true, LC_F32);
    /* stride 1 over more than 128K weights: im2col + GEMM (150 x 100 x 3 x 3 = 135000) */
    conv_case(2, 2, 100, 6, 9, 150, 3, 3, 1, 1, true, LC_F32);
    /* kernel larger than the padded input */
    int64_t xs[3] = {1, 2, 3}, ws[3] = {1, 2, 9};
    lc_array *x = rand_f32(3, xs, 1.0f), *w = rand_f32(3, ws, 1.0f), *y = NULL;
    CHECK(lc_conv1d(x, w, NULL, 1, 0, &y) == LC_ERR_SHAPE);
    lc_array_release(x), lc_array_release(w);
}

int main(void) {
    test_prelu();
    test_sort();
    test_gather_scatter();
    test_bce();
    test_conv();
    return TEST_RESULT();
}
