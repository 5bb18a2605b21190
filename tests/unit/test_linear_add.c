/* lc_linear_add on the CPU: out = x W^T + bias + residual.
 *
 * Each case is checked against a reference computed here in double precision from the inputs
 * as stored (f32 within 1e-5, norm-wise relative; f16 / bf16 within a few units of their last
 * place, since the sum is rounded once to the 16-bit type), and against lc_linear followed by
 * lc_add (equal up to f32 rounding for f32; one extra 16-bit rounding for f16 / bf16). Shapes
 * are ragged: rank 1, 2 and 3, K = 0, 1 and not a multiple of 8, bias NULL or not, residual
 * contiguous, a strided view, or a contiguous view at an odd offset. Also the errors. */
#include "locus.h"
#include "test_harness.h"

#include <stdint.h>
#include <string.h>

static unsigned seed = 2024;

static lc_array *rand_array(lc_dtype t, int ndim, const int64_t *shape, float scale) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    float *v = malloc(sizeof(float) * (size_t)(n + 1));
    for (int64_t i = 0; i < n; i++) v[i] = test_rand(&seed) * scale;
    lc_array *a = NULL, *c = NULL;
    CHECK_OK(lc_array_from_data(LC_F32, ndim, shape, v, &a));
    free(v);
    if (a && t != LC_F32) {
        CHECK_OK(lc_astype(a, t, &c));
        lc_array_release(a);
        return c;
    }
    return a;
}

/* All elements as f32 (exact for f16 / bf16), in row-major order of the logical shape. */
static float *read_all(lc_array *a) {
    size_t n = (size_t)lc_array_numel(a);
    float *v = malloc(sizeof(float) * (n + 1));
    CHECK_OK(lc_array_read_f32(a, v, n));
    return v;
}

/* Norm-wise relative distance. */
static double rel_norm(const float *a, const double *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = a[i] - ref[i];
        if (isnan(d)) return INFINITY;
        num += d * d;
        den += ref[i] * ref[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static double rel_norm_f(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        if (isnan(d)) return INFINITY;
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* Largest elementwise |a - ref| / (u |ref| + acc mag): u the unit roundoff of the stored result,
 * mag the sum of the magnitudes of the summands (f32 accumulation error scales with it). Pass: <= 1. */
static double max_elem_err(const float *a, const double *ref, const double *mag, size_t n, double u, double acc) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - ref[i]) / (u * fabs(ref[i]) + acc * mag[i] + 1e-30);
        if (isnan(e)) return INFINITY;
        if (e > worst) worst = e;
    }
    return worst;
}

/* Residual layouts: 0 contiguous, 1 a strided slice of a wider array, 2 contiguous at an odd offset. */
static lc_array *make_residual(lc_dtype t, int ndim, const int64_t *shape, int mode) {
    if (mode == 0) return rand_array(t, ndim, shape, 2.0f);
    lc_array *big = NULL, *view = NULL;
    if (mode == 1) {
        int64_t wide[8];
        memcpy(wide, shape, sizeof(int64_t) * (size_t)ndim);
        wide[ndim - 1] += 3;
        big = rand_array(t, ndim, wide, 2.0f);
        CHECK_OK(lc_slice(big, ndim - 1, 2, 2 + shape[ndim - 1], &view));
    } else {
        int64_t n = 1;
        for (int i = 0; i < ndim; i++) n *= shape[i];
        int64_t flat[1] = {n + 1};
        lc_array *tail = NULL;
        big = rand_array(t, 1, flat, 2.0f);
        CHECK_OK(lc_slice(big, 0, 1, n + 1, &tail));
        CHECK_OK(lc_reshape(tail, ndim, shape, &view));
        lc_array_release(tail);
    }
    lc_array_release(big);
    return view;
}

static void one_case(lc_dtype t, int ndim, const int64_t *xshape, int64_t N, bool with_bias, int rmode) {
    int64_t K = xshape[ndim - 1], R = 1;
    for (int i = 0; i + 1 < ndim; i++) R *= xshape[i];
    int64_t oshape[8], ws[2] = {N, K}, bs[1] = {N};
    memcpy(oshape, xshape, sizeof(int64_t) * (size_t)ndim);
    oshape[ndim - 1] = N;
    lc_array *x = rand_array(t, ndim, xshape, 1.0f), *w = rand_array(t, 2, ws, 0.5f);
    lc_array *b = with_bias ? rand_array(t, 1, bs, 1.0f) : NULL;
    lc_array *res = make_residual(t, ndim, oshape, rmode);
    lc_array *got = NULL, *lin = NULL, *two = NULL, *plain = NULL;
    char name[160];
    snprintf(name, sizeof name, "%s rank %d R=%lld K=%lld N=%lld bias=%d residual mode %d", lc_dtype_name(t), ndim, (long long)R,
             (long long)K, (long long)N, with_bias, rmode);
    CHECK_OK(lc_linear_add(x, w, b, res, &got));
    CHECK_OK(lc_linear(x, w, b, &lin));
    CHECK_OK(lc_add(lin, res, &two));
    CHECK_OK(lc_linear_add(x, w, b, NULL, &plain)); /* NULL residual: lc_linear */
    if (!got || !two || !plain || !lin) goto out;
    CHECK(lc_array_dtype(got) == t);
    CHECK(lc_array_ndim(got) == ndim);
    for (int i = 0; i < ndim; i++) CHECK(lc_array_dim(got, i) == oshape[i]);
    size_t n = (size_t)(R * N);
    float *xv = read_all(x), *wv = read_all(w), *bv = b ? read_all(b) : NULL, *rv = read_all(res);
    float *gv = read_all(got), *tv = read_all(two), *pv = read_all(plain), *lv = read_all(lin);
    double *ref = malloc(sizeof(double) * (n + 1)), *mag = malloc(sizeof(double) * (n + 1));
    for (int64_t r = 0; r < R; r++)
        for (int64_t j = 0; j < N; j++) {
            double acc = bv ? bv[j] : 0.0, m = fabs(acc);
            for (int64_t k = 0; k < K; k++) {
                double p = (double)xv[r * K + k] * wv[j * K + k];
                acc += p, m += fabs(p);
            }
            ref[r * N + j] = acc + rv[r * N + j];
            mag[r * N + j] = m + fabs(rv[r * N + j]);
        }
    /* f32: accumulation error only; f16 / bf16: one rounding of the result (unit roundoff 2^-11,
     * 2^-8) on top of it. Elementwise: within u |ref| + 1e-5 sum |summands| (K eps32 <= 1.8e-5 bound). */
    double tol_norm = t == LC_F32 ? 1e-5 : t == LC_F16 ? 1e-3 : 6e-3;
    double u = t == LC_F32 ? 0.0 : t == LC_F16 ? ldexp(1.0, -11) * 1.01 : ldexp(1.0, -8) * 1.01;
    double rn = rel_norm(gv, ref, n), re = max_elem_err(gv, ref, mag, n, u, 1e-5);
    if (!(rn <= tol_norm) || !(re <= 1.0)) {
        fprintf(stderr, "%s: against double: norm-wise %.3g (tol %.1g), elementwise %.3g of the bound\n", name, rn, tol_norm, re);
        test_failures++;
    }
    /* against lc_linear + lc_add: same f32 arithmetic for f32; one more 16-bit rounding otherwise */
    double tol_two = t == LC_F32 ? 1e-6 : t == LC_F16 ? 2e-3 : 1.2e-2;
    double r2 = rel_norm_f(gv, tv, n);
    if (!(r2 <= tol_two)) {
        fprintf(stderr, "%s: against lc_linear + lc_add: %.3g (tol %.1g)\n", name, r2, tol_two);
        test_failures++;
    }
    /* and the residual really is in there: dropping it is far off */
    if (n && rel_norm_f(gv, lv, n) < 0.1) {
        fprintf(stderr, "%s: result does not differ from lc_linear without the residual\n", name);
        test_failures++;
    }
    CHECK(memcmp(pv, lv, sizeof(float) * n) == 0);
    free(xv), free(wv), free(bv), free(rv), free(gv), free(tv), free(pv), free(lv), free(ref), free(mag);
out:
    lc_array_release(x), lc_array_release(w), lc_array_release(b), lc_array_release(res);
    lc_array_release(got), lc_array_release(lin), lc_array_release(two), lc_array_release(plain);
}

static void test_values(void) {
    lc_dtype dts[3] = {LC_F32, LC_F16, LC_BF16};
    for (int d = 0; d < 3; d++) {
        lc_dtype t = dts[d];
        int64_t x3[3] = {2, 5, 13}, x2[2] = {7, 1}, x1[1] = {19}, xb[3] = {3, 37, 300}, xz[2] = {4, 0};
        for (int rmode = 0; rmode < 3; rmode++) {
            one_case(t, 3, x3, 11, true, rmode);
            one_case(t, 3, x3, 11, false, rmode);
            one_case(t, 2, x2, 9, true, rmode);
            one_case(t, 1, x1, 6, rmode != 1, rmode);
            one_case(t, 3, xb, 129, rmode != 2, rmode);
        }
        one_case(t, 2, xz, 5, true, 1);  /* K = 0: bias + residual */
        one_case(t, 2, xz, 5, false, 0); /* K = 0: the residual alone */
    }
}

static bool error_mentions(const char *a, const char *b) {
    const char *e = lc_last_error();
    bool ok = e && strstr(e, a) && (!b || strstr(e, b));
    if (!ok) fprintf(stderr, "error message \"%s\" lacks \"%s\"%s%s\n", e ? e : "(null)", a, b ? " or " : "", b ? b : "");
    return ok;
}

static void test_errors(void) {
    int64_t xs[2] = {3, 4}, ws[2] = {5, 4}, bs[1] = {5}, good[2] = {3, 5}, tr[2] = {5, 3}, row[2] = {1, 5}, r3[3] = {1, 3, 5};
    lc_array *x = rand_array(LC_F32, 2, xs, 1), *w = rand_array(LC_F32, 2, ws, 1), *b = rand_array(LC_F32, 1, bs, 1);
    lc_array *rg = rand_array(LC_F32, 2, good, 1), *rt = rand_array(LC_F32, 2, tr, 1), *rr = rand_array(LC_F32, 2, row, 1);
    lc_array *r3a = rand_array(LC_F32, 3, r3, 1), *rh = rand_array(LC_F16, 2, good, 1);
    lc_array *out = NULL;
    CHECK(lc_linear_add(x, w, b, rt, &out) == LC_ERR_SHAPE && !out);
    CHECK(error_mentions("lc_linear_add", "(5, 3)"));
    CHECK(error_mentions("lc_linear_add", "(3, 5)"));
    CHECK(lc_linear_add(x, w, b, rr, &out) == LC_ERR_SHAPE && !out); /* broadcastable is not enough */
    CHECK(error_mentions("lc_linear_add", "(1, 5)"));
    CHECK(lc_linear_add(x, w, NULL, r3a, &out) == LC_ERR_SHAPE && !out);
    CHECK(error_mentions("lc_linear_add", "(1, 3, 5)"));
    CHECK(lc_linear_add(x, w, b, rh, &out) == LC_ERR_SHAPE && !out);
    CHECK(error_mentions("lc_linear_add", "f16"));
    CHECK(lc_linear_add(x, rt, b, rg, &out) == LC_ERR_SHAPE && !out); /* weight (5, 3) against 4 features */
    CHECK(error_mentions("lc_linear_add", "4"));
    CHECK(lc_linear_add(x, w, rg, rg, &out) == LC_ERR_SHAPE && !out); /* bias of rank 2 */
    CHECK(error_mentions("lc_linear_add", "bias"));
    CHECK(lc_linear_add(NULL, w, b, rg, &out) == LC_ERR_ARG && !out);
    CHECK(error_mentions("lc_linear_add", NULL));
    CHECK(lc_linear_add(x, w, b, rg, NULL) == LC_ERR_ARG);
    /* the good case still works after all that */
    CHECK_OK(lc_linear_add(x, w, b, rg, &out));
    CHECK(out != NULL);
    lc_array_release(out);
    lc_array_release(x), lc_array_release(w), lc_array_release(b), lc_array_release(rg), lc_array_release(rt);
    lc_array_release(rr), lc_array_release(r3a), lc_array_release(rh);
}

int main(void) {
    test_values();
    test_errors();
    return TEST_RESULT();
}
