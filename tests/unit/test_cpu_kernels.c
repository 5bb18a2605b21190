/* Each CPU kernel against a plain reference written here (scalar loops, libm): random shapes,
 * broadcasting, strided views, masks, f16/bf16 round trips. */
#include "core/internal.h"
#include "cpu/kernels.h"
#include "cpu/vmath.h"
#include "test_harness.h"

#include <string.h>

static unsigned seed = 12345;

static lc_array *rand_array(int ndim, const int64_t *shape) {
    lc_array *a = NULL;
    CHECK_OK(lc_array_empty(LC_F32, ndim, shape, LC_CPU, &a));
    float *p;
    lc_array_host_data(a, (void **)&p);
    for (int64_t i = 0; i < lc_array_numel(a); i++) p[i] = test_rand(&seed) * 3.0f;
    return a;
}

static float *data(lc_array *a) {
    void *p = NULL;
    CHECK_OK(lc_array_host_data(a, &p));
    return p;
}

static double max_diff(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m || isnan(d)) m = isnan(d) ? INFINITY : d;
    }
    return m;
}

static void test_math(void) {
    double emax = 0, gmax = 0, rmax = 0;
    for (float x = -80.0f; x < 80.0f; x += 0.0137f) {
        double r = fabs(lc_vexpf(x) - exp(x)) / exp(x);
        emax = r > emax ? r : emax;
    }
    for (float x = -10.0f; x < 10.0f; x += 0.001f) {
        double d = fabs(lc_verff(x) - erf(x));
        gmax = d > gmax ? d : gmax;
        double g = fabs(lc_vgeluf(x) - lc_ref_gelu(x));
        rmax = g > rmax ? g : rmax;
    }
    double lmax = 0, smax = 0;
    for (double x = 0; x < 1e6; x = x < 1e-6 ? x + 1e-9 : x * 1.0007) {
        double r = fabs(lc_vlog1pf((float)x) - log1p((float)x)) / fmax(log1p((float)x), 1e-30);
        lmax = r > lmax ? r : lmax;
    }
    for (float x = -60.0f; x < 60.0f; x += 0.0071f) {
        double want = x * 1.0 > 20 ? x : log1p(exp((double)x));
        double r = fabs(lc_vsoftplusf(x, 1.0f, 1.0f, 20.0f) - want) / fmax(want, 1e-30);
        smax = r > smax ? r : smax;
    }
    printf("exp max rel err %.3g, erf max abs err %.3g, gelu max abs err %.3g, log1p max rel err %.3g, softplus max rel err %.3g\n",
           emax, gmax, rmax, lmax, smax);
    CHECK(lmax < 3e-7);
    CHECK(smax < 1e-6);
    CHECK(emax < 2e-7);
    CHECK(gmax < 5e-7);
    CHECK(rmax < 2e-6);
}

static void test_linear_matmul(void) {
    int64_t xs[3] = {3, 5, 17}, ws[2] = {9, 17}, bs[1] = {9};
    lc_array *x = rand_array(3, xs), *w = rand_array(2, ws), *b = rand_array(1, bs), *y = NULL, *g = NULL;
    CHECK_OK(lc_linear(x, w, b, &y));
    CHECK_OK(lc_linear_gelu(x, w, b, &g));
    float *px = data(x), *pw = data(w), *pb = data(b), *py = data(y), *pg = data(g);
    double err = 0, errg = 0;
    for (int r = 0; r < 15; r++)
        for (int n = 0; n < 9; n++) {
            double acc = pb[n];
            for (int k = 0; k < 17; k++) acc += (double)px[r * 17 + k] * pw[n * 17 + k];
            err = fmax(err, fabs(acc - py[r * 9 + n]));
            errg = fmax(errg, fabs(lc_ref_gelu((float)acc) - pg[r * 9 + n]));
        }
    CHECK(err < 1e-4);
    CHECK(errg < 1e-4);
    /* batched matmul with broadcasting and a transposed operand: (2,1,4,6) x (3,6,5)^T-view */
    int64_t as[4] = {2, 1, 4, 6}, bts[3] = {3, 5, 6};
    lc_array *a = rand_array(4, as), *bt = rand_array(3, bts), *bv = NULL, *c = NULL;
    CHECK_OK(lc_transpose(bt, 1, 2, &bv)); /* (3, 6, 5) strided */
    CHECK_OK(lc_matmul(a, bv, &c));
    CHECK(c && lc_array_ndim(c) == 4 && lc_array_dim(c, 0) == 2 && lc_array_dim(c, 1) == 3 && lc_array_dim(c, 3) == 5);
    float *pa = data(a), *pbt = data(bt), *pc = data(c);
    err = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int m = 0; m < 4; m++)
                for (int n = 0; n < 5; n++) {
                    double acc = 0;
                    for (int k = 0; k < 6; k++) acc += (double)pa[(i * 4 + m) * 6 + k] * pbt[(j * 5 + n) * 6 + k];
                    err = fmax(err, fabs(acc - pc[((i * 3 + j) * 4 + m) * 5 + n]));
                }
    CHECK(err < 1e-4);
    lc_array *all[] = {x, w, b, y, g, a, bt, bv, c};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) lc_array_release(all[i]);
}

static void test_rowwise(void) {
    int64_t s[2] = {7, 37}, c1[1] = {37};
    lc_array *x = rand_array(2, s), *r = rand_array(2, s), *w = rand_array(1, c1), *b = rand_array(1, c1);
    lc_array *sm = NULL, *ln = NULL, *aln = NULL, *sm0 = NULL;
    CHECK_OK(lc_softmax(x, -1, &sm));
    CHECK_OK(lc_softmax(x, 0, &sm0));
    CHECK_OK(lc_layer_norm(x, w, b, 1e-5f, &ln));
    CHECK_OK(lc_add_layer_norm(x, r, w, b, 1e-5f, &aln));
    float *px = data(x), *pr = data(r), *pw = data(w), *pb = data(b);
    float ref[7 * 37], ref2[7 * 37], ref0[7 * 37];
    for (int i = 0; i < 7; i++) {
        double m = -INFINITY, sum = 0;
        for (int j = 0; j < 37; j++) m = fmax(m, px[i * 37 + j]);
        for (int j = 0; j < 37; j++) sum += exp(px[i * 37 + j] - m);
        for (int j = 0; j < 37; j++) ref[i * 37 + j] = (float)(exp(px[i * 37 + j] - m) / sum);
        for (int pass = 0; pass < 2; pass++) {
            double mean = 0, var = 0, v[37];
            for (int j = 0; j < 37; j++) v[j] = px[i * 37 + j] + (pass ? pr[i * 37 + j] : 0), mean += v[j];
            mean /= 37;
            for (int j = 0; j < 37; j++) var += (v[j] - mean) * (v[j] - mean);
            var /= 37;
            for (int j = 0; j < 37; j++) (pass ? ref2 : ref0)[i * 37 + j] = (float)((v[j] - mean) / sqrt(var + 1e-5) * pw[j] + pb[j]);
        }
    }
    CHECK(max_diff(data(sm), ref, 7 * 37) < 1e-6);
    CHECK(max_diff(data(ln), ref0, 7 * 37) < 1e-4);
    CHECK(max_diff(data(aln), ref2, 7 * 37) < 1e-4);
    /* softmax over axis 0: columns sum to one */
    float *p0 = data(sm0);
    for (int j = 0; j < 37; j++) {
        double col = 0;
        for (int i = 0; i < 7; i++) col += p0[i * 37 + j];
        CHECK(fabs(col - 1) < 1e-5);
    }
    lc_array *all[] = {x, r, w, b, sm, ln, aln, sm0};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) lc_array_release(all[i]);
}

static void test_attention(void) {
    int B = 2, H = 3, T = 45, D = 16;
    int64_t s[4] = {B, H, T, D}, ms[2] = {B, T};
    lc_array *q = rand_array(4, s), *k = rand_array(4, s), *v = rand_array(4, s), *mask = NULL, *o = NULL;
    float mk[2 * 45];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) mk[b * T + t] = (b == 1 && t >= 30) ? 0.0f : 1.0f; /* ragged batch */
    CHECK_OK(lc_array_from_data(LC_F32, 2, ms, mk, &mask));
    CHECK_OK(lc_attention(q, k, v, mask, 0, &o));
    float *pq = data(q), *pk = data(k), *pv = data(v), *po = data(o);
    double err = 0, sc = 1.0 / sqrt(D);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < T; i++) {
                double sr[45], m = -INFINITY, sum = 0;
                const float *qi = pq + ((b * H + h) * T + i) * D;
                for (int j = 0; j < T; j++) {
                    double acc = 0;
                    for (int d = 0; d < D; d++) acc += (double)qi[d] * pk[((b * H + h) * T + j) * D + d];
                    sr[j] = mk[b * T + j] ? acc * sc : -INFINITY;
                    m = fmax(m, sr[j]);
                }
                for (int j = 0; j < T; j++) sum += sr[j] == -INFINITY ? 0 : exp(sr[j] - m);
                for (int d = 0; d < D; d++) {
                    double acc = 0;
                    for (int j = 0; j < T; j++)
                        if (sr[j] != -INFINITY) acc += exp(sr[j] - m) / sum * pv[((b * H + h) * T + j) * D + d];
                    err = fmax(err, fabs(acc - po[((b * H + h) * T + i) * D + d]));
                }
            }
    printf("attention max abs err %.3g\n", err);
    CHECK(err < 1e-5);
    lc_array *all[] = {q, k, v, mask, o};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) lc_array_release(all[i]);
}

/* Sums and means of few long rows (blocks of 4096 summed in parallel, added in order): against a
 * double-precision sum; lc_sum_all of a vector too. The rows are the length of the bench's SumAll
 * plus a partial block. */
static void test_long_row_sums(void) {
    int64_t s[2] = {3, (1 << 20) + 123}, v[1] = {(1 << 20) + 7};
    lc_array *x = rand_array(2, s), *vec = rand_array(1, v), *sum = NULL, *mean = NULL, *all = NULL;
    CHECK_OK(lc_sum(x, 1, false, &sum));
    CHECK_OK(lc_mean(x, 1, false, &mean));
    CHECK_OK(lc_sum_all(vec, &all));
    const float *px = data(x), *ps = data(sum), *pm = data(mean), *pv = data(vec), *pa = data(all);
    double worst = 0;
    for (int r = 0; r < 3; r++) {
        double acc = 0, mag = 0;
        for (int64_t j = 0; j < s[1]; j++) acc += px[r * s[1] + j], mag += fabs(px[r * s[1] + j]);
        worst = fmax(worst, fabs(ps[r] - acc) / mag);
        worst = fmax(worst, fabs(pm[r] - acc / (double)s[1]) / (mag / (double)s[1]));
    }
    double acc = 0, mag = 0;
    for (int64_t j = 0; j < v[0]; j++) acc += pv[j], mag += fabs(pv[j]);
    worst = fmax(worst, fabs(pa[0] - acc) / mag);
    printf("long-row sums: worst error %.3g of the sum of magnitudes\n", worst);
    CHECK(worst < 1e-6);
    lc_array_release(x), lc_array_release(vec), lc_array_release(sum), lc_array_release(mean), lc_array_release(all);
}

static void test_reduce_binary_views(void) {
    int64_t s[3] = {4, 5, 6}, bs[2] = {1, 6};
    lc_array *x = rand_array(3, s), *row = rand_array(2, bs), *sum = NULL, *mx = NULL, *am = NULL, *add = NULL, *t = NULL, *tc = NULL;
    CHECK_OK(lc_sum(x, 1, false, &sum));
    CHECK_OK(lc_max(x, 2, true, &mx));
    CHECK_OK(lc_argmax(x, 0, false, &am));
    CHECK_OK(lc_add(x, row, &add));
    CHECK_OK(lc_transpose(x, 0, 2, &t));
    CHECK_OK(lc_contiguous(t, &tc));
    float *px = data(x), *pr = data(row);
    float *ps = data(sum), *pm = data(mx), *pa = data(add), *pt = data(tc);
    int64_t *pam = (int64_t *)(void *)data(am);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 6; k++) {
            double acc = 0;
            for (int j = 0; j < 5; j++) acc += px[(i * 5 + j) * 6 + k];
            CHECK(fabs(acc - ps[i * 6 + k]) < 1e-5);
        }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 5; j++) {
            float m = -INFINITY;
            for (int k = 0; k < 6; k++) m = fmaxf(m, px[(i * 5 + j) * 6 + k]);
            CHECK(m == pm[i * 5 + j]);
        }
    for (int j = 0; j < 5; j++)
        for (int k = 0; k < 6; k++) {
            int best = 0;
            for (int i = 1; i < 4; i++)
                if (px[(i * 5 + j) * 6 + k] > px[(best * 5 + j) * 6 + k]) best = i;
            CHECK(pam[j * 6 + k] == best);
        }
    for (int n = 0; n < 120; n++) CHECK(pa[n] == px[n] + pr[n % 6]);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 5; j++)
            for (int k = 0; k < 6; k++) CHECK(pt[(k * 5 + j) * 4 + i] == px[(i * 5 + j) * 6 + k]);
    lc_array *all[] = {x, row, sum, mx, am, add, t, tc};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) lc_array_release(all[i]);
}

static void test_argmax_last_axis(void) {
    /* rows: ties (first index wins), a NaN (its index wins, as torch.argmax), all -inf, long random */
    float rows[4][40];
    for (int j = 0; j < 40; j++) {
        rows[0][j] = (j == 7 || j == 30) ? 5.0f : (float)(j % 5);
        rows[1][j] = (float)j;
        rows[2][j] = -INFINITY;
        rows[3][j] = test_rand(&seed);
    }
    rows[1][12] = NAN;
    rows[1][20] = NAN;
    int64_t shape[2] = {4, 40};
    lc_array *a = NULL, *am = NULL;
    CHECK_OK(lc_array_from_data(LC_F32, 2, shape, rows, &a));
    CHECK_OK(lc_argmax(a, 1, false, &am));
    int64_t *p = (int64_t *)(void *)data(am);
    int best = 0;
    for (int j = 1; j < 40; j++)
        if (rows[3][j] > rows[3][best]) best = j;
    CHECK(p[0] == 7);
    CHECK(p[1] == 12);
    CHECK(p[2] == 0);
    CHECK(p[3] == best);
    lc_array_release(a);
    lc_array_release(am);
}

static void test_half_types(void) {
    /* Every f16 value converts to f32 and back unchanged; bf16 likewise for a sample. */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = lc_f16_to_f32((uint16_t)h);
        if (isnan(f)) continue;
        if (lc_f32_to_f16(f) != h) bad++;
    }
    CHECK(bad == 0);
    CHECK(lc_f32_to_f16(65520.0f) == 0x7c00);           /* rounds to inf */
    CHECK(lc_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00); /* ties to even */
    CHECK(lc_f32_to_bf16(1.0f) == 0x3f80);
    /* an f16 op result equals the f32 op on widened inputs, narrowed */
    int64_t s[2] = {3, 33};
    lc_array *x = rand_array(2, s), *h = NULL, *sh = NULL, *s32 = NULL, *sh32 = NULL;
    CHECK_OK(lc_astype(x, LC_F16, &h));
    CHECK_OK(lc_softmax(h, -1, &sh));
    CHECK(sh && lc_array_dtype(sh) == LC_F16);
    lc_array *hw = NULL;
    CHECK_OK(lc_astype(h, LC_F32, &hw));
    CHECK_OK(lc_softmax(hw, -1, &s32));
    CHECK_OK(lc_astype(sh, LC_F32, &sh32));
    CHECK(max_diff(data(s32), data(sh32), 99) < 1e-3);
    lc_array *all[] = {x, h, sh, s32, sh32, hw};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) lc_array_release(all[i]);
}

static void test_errors(void) {
    int64_t a[2] = {2, 3}, b[2] = {4, 5};
    lc_array *x = rand_array(2, a), *y = rand_array(2, b), *o = NULL;
    CHECK(lc_matmul(x, y, &o) == LC_ERR_SHAPE);
    CHECK(strstr(lc_last_error(), "inner dimensions") != NULL);
    CHECK(lc_add(x, y, &o) == LC_ERR_SHAPE);
    CHECK(lc_reshape(x, 1, (int64_t[]){7}, &o) == LC_ERR_SHAPE);
    CHECK(lc_slice(x, 1, 2, 5, &o) == LC_ERR_SHAPE);
    int64_t ids_s[1] = {2};
    int64_t ids_v[2] = {0, 9};
    lc_array *ids = NULL;
    CHECK_OK(lc_array_from_data(LC_I64, 1, ids_s, ids_v, &ids));
    CHECK(lc_embedding(x, ids, &o) == LC_ERR_ARG); /* id 9 outside 2 rows */
    lc_array_release(x), lc_array_release(y), lc_array_release(ids);
}

int main(void) {
    lc_set_num_threads(2);
    test_math();
    test_linear_matmul();
    test_rowwise();
    test_attention();
    test_reduce_binary_views();
    test_long_row_sums();
    test_argmax_last_axis();
    test_half_types();
    test_errors();
    return TEST_RESULT();
}
