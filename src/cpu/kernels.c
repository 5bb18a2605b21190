/* CPU kernels. GEMMs go to the BLAS; everything else is here, parallelised over rows with the
 * thread pool and written so the compiler vectorises the inner loops (no reductions across
 * lanes in inner loops, own exp/erf from vmath.h). */
#include "cpu/kernels.h"
#include "cpu/blas.h"
#include "cpu/threadpool.h"
#include "cpu/vmath.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

float lc_ref_gelu(float x) { return 0.5f * x * (1.0f + erff(x / sqrtf(2.0f))); }

/* ---- strided element access ---------------------------------------------------------------- */
static inline float load_f(const void *base, lc_dtype t, int64_t i) {
    switch (t) {
    case LC_F32: return ((const float *)base)[i];
    case LC_F16: return lc_f16_to_f32(((const uint16_t *)base)[i]);
    case LC_BF16: return lc_bf16_to_f32(((const uint16_t *)base)[i]);
    case LC_I32: return (float)((const int32_t *)base)[i];
    case LC_I64: return (float)((const int64_t *)base)[i];
    default: return 0;
    }
}

/* Offset (elements) of linear index `i` of an array with the given shape/strides. */
static inline int64_t strided_offset(const lc_array *a, int64_t i) {
    int64_t off = 0;
    for (int d = a->ndim - 1; d >= 0; d--) {
        int64_t n = a->shape[d];
        if (n == 0) return 0;
        off += (i % n) * a->strides[d];
        i /= n;
    }
    return off;
}

typedef struct {
    const lc_array *in, *out;
} copy_ctx;

static void copy_range(void *vctx, int64_t b, int64_t e) {
    const copy_ctx *c = vctx;
    const lc_array *in = c->in, *out = c->out;
    const char *src = lc_array_ptr(in);
    char *dst = lc_array_ptr(out);
    lc_dtype st = in->dtype, dt = out->dtype;
    /* Rows of the last dimension; contiguous inner rows take the fast path. */
    int64_t inner = in->ndim ? in->shape[in->ndim - 1] : 1;
    int64_t sin = in->ndim ? in->strides[in->ndim - 1] : 1, sout = out->ndim ? out->strides[out->ndim - 1] : 1;
    for (int64_t r = b; r < e; r++) {
        int64_t oi = in->ndim ? strided_offset(in, r * inner) : 0, oo = out->ndim ? strided_offset(out, r * inner) : 0;
        if (st == dt && sin == 1 && sout == 1) {
            size_t es = lc_dtype_size(st);
            memcpy(dst + oo * es, src + oi * es, (size_t)inner * es);
            continue;
        }
        for (int64_t j = 0; j < inner; j++) {
            int64_t is = oi + j * sin, os = oo + j * sout;
            if (st == dt) {
                size_t es = lc_dtype_size(st);
                memcpy(dst + os * es, src + is * es, es);
            } else if (dt == LC_I64 && st == LC_I32) {
                ((int64_t *)dst)[os] = ((const int32_t *)src)[is];
            } else if (dt == LC_I32 && st == LC_I64) {
                ((int32_t *)dst)[os] = (int32_t)((const int64_t *)src)[is];
            } else {
                float v = load_f(src, st, is);
                switch (dt) {
                case LC_F32: ((float *)dst)[os] = v; break;
                case LC_F16: ((uint16_t *)dst)[os] = lc_f32_to_f16(v); break;
                case LC_BF16: ((uint16_t *)dst)[os] = lc_f32_to_bf16(v); break;
                case LC_I32: ((int32_t *)dst)[os] = (int32_t)v; break;
                case LC_I64: ((int64_t *)dst)[os] = (int64_t)v; break;
                default: break;
                }
            }
        }
    }
}

lc_status lc_cpu_copy(const lc_op *op) {
    const lc_array *in = op->in[0], *out = op->out;
    if (lc_array_numel(in) != lc_array_numel(out)) return lc_error(LC_ERR_SHAPE, "copy: element counts differ");
    int64_t inner = in->ndim ? in->shape[in->ndim - 1] : 1;
    int64_t rows = inner ? lc_array_numel(in) / inner : 0;
    if (in->ndim != out->ndim) return lc_error(LC_ERR_INTERNAL, "copy: ranks differ");
    copy_ctx c = {in, out};
    lc_parallel_for(rows, 1 + 16384 / (inner ? inner : 1), copy_range, &c);
    return LC_OK;
}

/* ---- matmul / linear ----------------------------------------------------------------------- */
lc_status lc_cpu_matmul(const lc_op *op) {
    const lc_array *a = op->in[0], *b = op->in[1], *o = op->out;
    int nd = o->ndim;
    int64_t m = o->shape[nd - 2], n = o->shape[nd - 1], k = a->shape[nd - 1];
    int64_t batches = lc_rows(o) / (m ? m : 1);
    if (m == 0) batches = 0;
    bool ta, tb;
    int64_t lda, ldb;
    /* Each operand's inner 2-D block must be row- or column-major for the BLAS. */
    lc_array *ac = NULL, *bc = NULL;
    const lc_array *A = a, *B = b;
    if (a->strides[nd - 1] == 1 && (a->strides[nd - 2] >= k || m == 1)) { ta = false; lda = m == 1 ? k : a->strides[nd - 2]; }
    else if (a->strides[nd - 2] == 1 && a->strides[nd - 1] >= m) { ta = true; lda = a->strides[nd - 1]; }
    else {
        lc_status s = lc_contiguous((lc_array *)a, &ac);
        if (s) return s;
        A = ac; ta = false; lda = k;
    }
    if (b->strides[nd - 1] == 1 && (b->strides[nd - 2] >= n || k == 1)) { tb = false; ldb = k == 1 ? n : b->strides[nd - 2]; }
    else if (b->strides[nd - 2] == 1 && b->strides[nd - 1] >= k) { tb = true; ldb = b->strides[nd - 1]; }
    else {
        lc_status s = lc_contiguous((lc_array *)b, &bc);
        if (s) { lc_array_release(ac); return s; }
        B = bc; tb = false; ldb = n;
    }
    if (lda < 1) lda = 1;
    if (ldb < 1) ldb = 1;
    const float *pa = lc_array_ptr(A), *pb = lc_array_ptr(B);
    float *po = lc_array_ptr(o);
    for (int64_t bi = 0; bi < batches; bi++) {
        int64_t oa = 0, ob = 0, rem = bi;
        for (int d = nd - 3; d >= 0; d--) {
            int64_t idx = rem % o->shape[d];
            rem /= o->shape[d];
            oa += idx * A->strides[d];
            ob += idx * B->strides[d];
        }
        if (k == 0) {
            memset(po + bi * m * n, 0, sizeof(float) * (size_t)(m * n));
            continue;
        }
        lc_sgemm(ta, tb, m, n, k, 1.0f, pa + oa, lda, pb + ob, ldb, 0.0f, po + bi * m * n, n);
    }
    lc_array_release(ac);
    lc_array_release(bc);
    return LC_OK;
}

typedef struct {
    float *out;
    const float *bias, *residual;
    int64_t n;
    int gelu;
} bias_ctx;

static void bias_act_range(void *vctx, int64_t b, int64_t e) {
    const bias_ctx *c = vctx;
    for (int64_t r = b; r < e; r++) {
        float *row = c->out + r * c->n;
        if (c->bias)
            for (int64_t j = 0; j < c->n; j++) row[j] += c->bias[j];
        if (c->residual) {
            const float *res = c->residual + r * c->n;
            for (int64_t j = 0; j < c->n; j++) row[j] += res[j];
        }
        if (c->gelu)
            for (int64_t j = 0; j < c->n; j++) row[j] = lc_vgeluf(row[j]);
    }
}

/* out = x w^T, then bias, the residual (in[3], contiguous like out) and GELU in one pass over the rows. */
lc_status lc_cpu_linear(const lc_op *op) {
    const lc_array *x = op->in[0], *w = op->in[1], *bias = op->in[2], *residual = op->in[3];
    int64_t k = x->shape[x->ndim - 1], n = w->shape[0], rows = lc_rows(x);
    float *out = lc_array_ptr(op->out);
    if (k == 0) memset(out, 0, sizeof(float) * (size_t)(rows * n));
    else lc_sgemm(false, true, rows, n, k, 1.0f, lc_array_ptr(x), k, lc_array_ptr(w), k, 0.0f, out, n);
    if (bias || residual || op->i[0]) {
        bias_ctx c = {out, bias ? lc_array_ptr(bias) : NULL, residual ? lc_array_ptr(residual) : NULL, n, (int)op->i[0]};
        lc_parallel_for(rows, 1 + 8192 / (n ? n : 1), bias_act_range, &c);
    }
    return LC_OK;
}

/* ---- elementwise --------------------------------------------------------------------------- */
typedef struct {
    const lc_op *op;
    int64_t inner;
} ew_ctx;

static void binary_range(void *vctx, int64_t b, int64_t e) {
    const ew_ctx *c = vctx;
    const lc_array *x = c->op->in[0], *y = c->op->in[1], *o = c->op->out;
    const float *px = lc_array_ptr(x), *py = lc_array_ptr(y);
    float *po = lc_array_ptr(o);
    int64_t inner = c->inner, nd = o->ndim;
    int64_t sx = nd ? x->strides[nd - 1] : 0, sy = nd ? y->strides[nd - 1] : 0;
    lc_op_kind k = c->op->kind;
    for (int64_t r = b; r < e; r++) {
        const float *a = px + (nd ? strided_offset(x, r * inner) : 0), *bb = py + (nd ? strided_offset(y, r * inner) : 0);
        float *d = po + r * inner;
        if (sx == 1 && sy == 1) {
            switch (k) {
            case LC_OP_ADD: for (int64_t j = 0; j < inner; j++) d[j] = a[j] + bb[j]; break;
            case LC_OP_SUB: for (int64_t j = 0; j < inner; j++) d[j] = a[j] - bb[j]; break;
            case LC_OP_MUL: for (int64_t j = 0; j < inner; j++) d[j] = a[j] * bb[j]; break;
            default: for (int64_t j = 0; j < inner; j++) d[j] = a[j] / bb[j]; break;
            }
        } else {
            for (int64_t j = 0; j < inner; j++) {
                float u = a[j * sx], v = bb[j * sy];
                d[j] = k == LC_OP_ADD ? u + v : k == LC_OP_SUB ? u - v : k == LC_OP_MUL ? u * v : u / v;
            }
        }
    }
}

lc_status lc_cpu_binary(const lc_op *op) {
    const lc_array *o = op->out;
    int64_t inner = o->ndim ? o->shape[o->ndim - 1] : 1;
    int64_t rows = inner ? lc_array_numel(o) / inner : 0;
    ew_ctx c = {op, inner};
    lc_parallel_for(rows, 1 + 16384 / (inner ? inner : 1), binary_range, &c);
    return LC_OK;
}

static void unary_range(void *vctx, int64_t b, int64_t e) {
    const lc_op *op = ((const ew_ctx *)vctx)->op;
    const float *x = lc_array_ptr(op->in[0]);
    float *y = lc_array_ptr(op->out);
    float p0 = op->f[0], p1 = op->f[1];
    switch ((lc_unary_kind)op->i[0]) {
    case LC_UNARY_GELU: for (int64_t i = b; i < e; i++) y[i] = lc_vgeluf(x[i]); break;
    case LC_UNARY_GELU_TANH:
        for (int64_t i = b; i < e; i++) {
            float v = x[i], u = 0.7978845608028654f * (v + 0.044715f * v * v * v);
            float t = 1.0f - 2.0f / (lc_vexpf(2.0f * u) + 1.0f);
            y[i] = 0.5f * v * (1.0f + t);
        }
        break;
    case LC_UNARY_RELU: for (int64_t i = b; i < e; i++) y[i] = x[i] > 0 ? x[i] : 0.0f; break;
    case LC_UNARY_LEAKY_RELU: for (int64_t i = b; i < e; i++) y[i] = lc_vselect(x[i] >= 0, x[i], p0 * x[i]); break;
    case LC_UNARY_SELU: {
        const float alpha = 1.6732632423543772f, scale = 1.0507009873554805f;
        for (int64_t i = b; i < e; i++) y[i] = scale * lc_vselect(x[i] > 0, x[i], alpha * (lc_vexpf(x[i]) - 1.0f));
        break;
    }
    case LC_UNARY_SIGMOID: for (int64_t i = b; i < e; i++) y[i] = 1.0f / (1.0f + lc_vexpf(-x[i])); break;
    case LC_UNARY_SOFTPLUS:
        /* torch: x when beta x > threshold, else log1p(exp(beta x)) / beta */
        for (int64_t i = b; i < e; i++) y[i] = lc_vsoftplusf(x[i], p0, 1.0f / p0, p1);
        break;
    case LC_UNARY_TANH: for (int64_t i = b; i < e; i++) y[i] = tanhf(x[i]); break;
    case LC_UNARY_EXP: for (int64_t i = b; i < e; i++) y[i] = expf(x[i]); break;
    case LC_UNARY_SCALE: for (int64_t i = b; i < e; i++) y[i] = x[i] * p0; break;
    default: break;
    }
}

lc_status lc_cpu_unary(const lc_op *op) {
    if ((uint64_t)op->i[0] >= LC_UNARY_COUNT) return lc_error(LC_ERR_INTERNAL, "unary: unknown kind");
    ew_ctx c = {op, 0};
    lc_parallel_for(lc_array_numel(op->out), 16384, unary_range, &c);
    return LC_OK;
}

/* ---- row-wise: softmax, layer norm ----------------------------------------------------------- */
static inline float row_max(const float *x, int64_t n) {
    float acc[16];
    for (int j = 0; j < 16; j++) acc[j] = -INFINITY;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
    float m = -INFINITY;
    for (int j = 0; j < 16; j++) m = acc[j] > m ? acc[j] : m;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

static inline float row_sum(const float *x, int64_t n) {
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j];
    float s = 0;
    for (int j = 0; j < 16; j++) s += acc[j];
    for (; i < n; i++) s += x[i];
    return s;
}

/* In place: x = softmax(x) over n entries. */
static inline void softmax_row(float *x, int64_t n) {
    float m = row_max(x, n);
    if (m == -INFINITY) { /* every entry masked: leave a zero row */
        for (int64_t i = 0; i < n; i++) x[i] = 0;
        return;
    }
    for (int64_t i = 0; i < n; i++) x[i] = lc_vexpf(x[i] - m);
    float inv = 1.0f / row_sum(x, n);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

static void softmax_range(void *vctx, int64_t b, int64_t e) {
    const lc_op *op = ((const ew_ctx *)vctx)->op;
    int64_t n = ((const ew_ctx *)vctx)->inner;
    const float *x = lc_array_ptr(op->in[0]);
    float *y = lc_array_ptr(op->out);
    for (int64_t r = b; r < e; r++) {
        memcpy(y + r * n, x + r * n, sizeof(float) * (size_t)n);
        softmax_row(y + r * n, n);
    }
}

lc_status lc_cpu_softmax(const lc_op *op) {
    int64_t n = op->out->shape[op->out->ndim - 1];
    ew_ctx c = {op, n};
    lc_parallel_for(lc_rows(op->out), 1 + 16384 / (n ? n : 1), softmax_range, &c);
    return LC_OK;
}

static void layer_norm_range(void *vctx, int64_t b, int64_t e) {
    const lc_op *op = ((const ew_ctx *)vctx)->op;
    int64_t n = ((const ew_ctx *)vctx)->inner;
    const float *x = lc_array_ptr(op->in[0]);
    const float *res = op->in[1] ? lc_array_ptr(op->in[1]) : NULL;
    const float *w = op->in[2] ? lc_array_ptr(op->in[2]) : NULL, *bias = op->in[3] ? lc_array_ptr(op->in[3]) : NULL;
    float *y = lc_array_ptr(op->out), eps = op->f[0];
    for (int64_t r = b; r < e; r++) {
        float *out = y + r * n;
        const float *in = x + r * n;
        if (res) {
            const float *rr = res + r * n;
            for (int64_t j = 0; j < n; j++) out[j] = in[j] + rr[j];
            in = out;
        }
        float mean = row_sum(in, n) / (float)n;
        float acc[16] = {0};
        int64_t i = 0;
        for (; i + 16 <= n; i += 16)
            for (int j = 0; j < 16; j++) {
                float d = in[i + j] - mean;
                acc[j] += d * d;
            }
        float var = 0;
        for (int j = 0; j < 16; j++) var += acc[j];
        for (; i < n; i++) var += (in[i] - mean) * (in[i] - mean);
        var /= (float)n;
        float inv = 1.0f / sqrtf(var + eps);
        /* One loop per case: a NULL test inside the loop becomes a masked load from address 0,
         * which some CPUs (AMD Zen 4) execute through a slow microcode assist on every vector. */
        if (w && bias)
            for (int64_t j = 0; j < n; j++) out[j] = (in[j] - mean) * inv * w[j] + bias[j];
        else if (w)
            for (int64_t j = 0; j < n; j++) out[j] = (in[j] - mean) * inv * w[j];
        else if (bias)
            for (int64_t j = 0; j < n; j++) out[j] = (in[j] - mean) * inv + bias[j];
        else
            for (int64_t j = 0; j < n; j++) out[j] = (in[j] - mean) * inv;
    }
}

lc_status lc_cpu_layer_norm(const lc_op *op) {
    int64_t n = op->out->shape[op->out->ndim - 1];
    ew_ctx c = {op, n};
    lc_parallel_for(lc_rows(op->out), 1 + 8192 / (n ? n : 1), layer_norm_range, &c);
    return LC_OK;
}

/* ---- reductions: input viewed as (outer, n, inner) ----------------------------------------- */
/* Long sums go by blocks of SUM_BLOCK, 16 float lanes within a block, the blocks added in double in
 * order; the serial and the parallel path (reduce_long_rows) share block_sum, hence the same bits. */
enum { SUM_BLOCK = 4096 };
static inline float block_sum(const float *x, int64_t n, int64_t i) {
    int64_t j = i * SUM_BLOCK;
    return row_sum(x + j, n - j < SUM_BLOCK ? n - j : SUM_BLOCK);
}

typedef struct {
    const lc_op *op;
    int64_t n, inner;
} reduce_ctx;

static void reduce_range(void *vctx, int64_t b, int64_t e) {
    const reduce_ctx *c = vctx;
    const float *x = lc_array_ptr(c->op->in[0]);
    int64_t n = c->n, inner = c->inner;
    lc_reduce_kind kind = (lc_reduce_kind)c->op->i[0];
    for (int64_t o = b; o < e; o++) {
        const float *base = x + o * n * inner;
        if (kind == LC_REDUCE_ARGMAX && inner == 1) {
            /* Contiguous row: vectorised passes instead of a compare-and-branch per element. The
             * first NaN wins (as torch.argmax), else the first index of the maximum. */
            int64_t *dst = (int64_t *)lc_array_ptr(c->op->out) + o, nan_count = 0, arg = 0;
            for (int64_t j = 0; j < n; j++) nan_count += base[j] != base[j];
            if (nan_count) {
                while (base[arg] == base[arg]) arg++;
            } else {
                float m = row_max(base, n);
                while (arg < n - 1 && base[arg] != m) arg++;
            }
            *dst = arg;
            continue;
        }
        if (kind == LC_REDUCE_ARGMAX) {
            int64_t *dst = (int64_t *)lc_array_ptr(c->op->out) + o * inner;
            for (int64_t i = 0; i < inner; i++) {
                float best = base[i];
                int64_t arg = 0;
                for (int64_t j = 1; j < n; j++) {
                    float v = base[j * inner + i];
                    if (v > best || (isnan(v) && !isnan(best))) { best = v; arg = j; }
                }
                dst[i] = arg;
            }
            continue;
        }
        float *dst = (float *)lc_array_ptr(c->op->out) + o * inner;
        if (kind == LC_REDUCE_MAX) {
            for (int64_t i = 0; i < inner; i++) dst[i] = base[i];
            for (int64_t j = 1; j < n; j++)
                for (int64_t i = 0; i < inner; i++) dst[i] = base[j * inner + i] > dst[i] ? base[j * inner + i] : dst[i];
        } else if (inner == 1) {
            double s = 0;
            for (int64_t i = 0; i * SUM_BLOCK < n; i++) s += block_sum(base, n, i);
            dst[0] = (float)(kind == LC_REDUCE_MEAN ? s / (double)(n ? n : 1) : s);
        } else {
            for (int64_t i = 0; i < inner; i++) dst[i] = 0;
            for (int64_t j = 0; j < n; j++)
                for (int64_t i = 0; i < inner; i++) dst[i] += base[j * inner + i];
            if (kind == LC_REDUCE_MEAN)
                for (int64_t i = 0; i < inner; i++) dst[i] /= (float)(n ? n : 1);
        }
    }
}

/* Long sums of few rows: the row's blocks summed in parallel, then added in order in double, as
 * reduce_range adds them one after the other. */
typedef struct {
    const float *x;
    int64_t n;
    double *partial;
} block_sum_ctx;

static void block_sum_range(void *vctx, int64_t b, int64_t e) {
    const block_sum_ctx *c = vctx;
    for (int64_t i = b; i < e; i++) c->partial[i] = block_sum(c->x, c->n, i);
}

static bool reduce_long_rows(const lc_op *op, int64_t outer, int64_t n) {
    lc_reduce_kind kind = (lc_reduce_kind)op->i[0];
    if ((kind != LC_REDUCE_SUM && kind != LC_REDUCE_MEAN) || outer > 4 || n < (1 << 16)) return false;
    int64_t blocks = (n + SUM_BLOCK - 1) / SUM_BLOCK;
    double *partial = malloc((size_t)blocks * sizeof *partial);
    if (!partial) return false; /* the serial loop needs no memory */
    const float *x = lc_array_ptr(op->in[0]);
    float *out = lc_array_ptr(op->out);
    for (int64_t o = 0; o < outer; o++) {
        block_sum_ctx c = {x + o * n, n, partial};
        lc_parallel_for(blocks, 4, block_sum_range, &c);
        double s = 0;
        for (int64_t i = 0; i < blocks; i++) s += partial[i];
        out[o] = (float)(kind == LC_REDUCE_MEAN ? s / (double)n : s);
    }
    free(partial);
    return true;
}

lc_status lc_cpu_reduce(const lc_op *op) {
    const lc_array *x = op->in[0];
    int axis = (int)op->i[1];
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) inner *= x->shape[d];
    if (inner == 1 && x->ndim && reduce_long_rows(op, outer, x->shape[axis])) return LC_OK;
    reduce_ctx c = {op, x->shape[axis], inner};
    int64_t work = c.n * inner;
    lc_parallel_for(outer, 1 + 16384 / (work > 0 ? work : 1), reduce_range, &c);
    return LC_OK;
}

/* ---- embedding ----------------------------------------------------------------------------- */
lc_status lc_cpu_embedding(const lc_op *op) {
    const lc_array *table = op->in[0], *ids = op->in[1];
    int64_t v = table->shape[0], d = table->shape[1], n = lc_array_numel(ids);
    size_t row = (size_t)d * lc_dtype_size(table->dtype);
    const char *src = lc_array_ptr(table);
    char *dst = lc_array_ptr(op->out);
    const void *pid = lc_array_ptr(ids);
    for (int64_t i = 0; i < n; i++) {
        int64_t id = ids->dtype == LC_I64 ? ((const int64_t *)pid)[i] : ((const int32_t *)pid)[i];
        if (id < 0 || id >= v) return lc_error(LC_ERR_ARG, "embedding: id %lld outside the table's %lld rows", (long long)id, (long long)v);
        memcpy(dst + (size_t)i * row, src + (size_t)id * row, row);
    }
    return LC_OK;
}

/* ---- attention ----------------------------------------------------------------------------- */
/* q (B, H, Tq, D), k, v (B, H, Tk, D), any B/H/T strides with D contiguous; out likewise.
 * One task per (b, h, block of queries): S = scale Q K^T and O = softmax(S) V are two GEMMs on
 * the strided views (no copies), the block's scores stay in a per-task scratch. */
#define ATTN_QBLOCK 256
typedef struct {
    const lc_op *op;
    int64_t B, H, Tq, Tk, D, nqb;
    atomic_int failed;
} attn_ctx;

static void attention_range(void *vctx, int64_t b, int64_t e) {
    attn_ctx *c = vctx;
    const lc_array *q = c->op->in[0], *k = c->op->in[1], *v = c->op->in[2], *mask = c->op->in[3], *o = c->op->out;
    const float *pq = lc_array_ptr(q), *pk = lc_array_ptr(k), *pv = lc_array_ptr(v);
    const float *pm = mask ? lc_array_ptr(mask) : NULL;
    float *po = lc_array_ptr(o);
    int64_t Tk = c->Tk, D = c->D, qb_rows = c->Tq < ATTN_QBLOCK ? c->Tq : ATTN_QBLOCK;
    float *s = malloc(sizeof(float) * (size_t)(qb_rows * Tk));
    if (!s) {
        atomic_store(&c->failed, 1);
        return;
    }
    for (int64_t t = b; t < e; t++) {
        int64_t bh = t / c->nqb, qb = t % c->nqb, bi = bh / c->H, hi = bh % c->H;
        int64_t q0 = qb * ATTN_QBLOCK, rows = (q0 + ATTN_QBLOCK < c->Tq ? q0 + ATTN_QBLOCK : c->Tq) - q0;
        const float *qp = pq + bi * q->strides[0] + hi * q->strides[1] + q0 * q->strides[2];
        const float *kp = pk + bi * k->strides[0] + hi * k->strides[1];
        const float *vp = pv + bi * v->strides[0] + hi * v->strides[1];
        float *op = po + bi * o->strides[0] + hi * o->strides[1] + q0 * o->strides[2];
        /* (rows, D) x (Tk, D)^T -> (rows, Tk) */
        lc_sgemm(false, true, rows, Tk, D, c->op->f[0], qp, q->strides[2], kp, k->strides[2], 0.0f, s, Tk);
        for (int64_t i = 0; i < rows; i++) {
            float *row = s + i * Tk;
            if (pm) {
                const float *mrow = pm + bi * Tk;
                for (int64_t j = 0; j < Tk; j++) row[j] = mrow[j] != 0.0f ? row[j] : -INFINITY;
            }
            softmax_row(row, Tk);
        }
        /* (rows, Tk) x (Tk, D) -> (rows, D) */
        lc_sgemm(false, false, rows, D, Tk, 1.0f, s, Tk, vp, v->strides[2], 0.0f, op, o->strides[2]);
    }
    free(s);
}

lc_status lc_cpu_attention(const lc_op *op) {
    const lc_array *q = op->in[0], *k = op->in[1];
    attn_ctx c = {op, q->shape[0], q->shape[1], q->shape[2], k->shape[2], q->shape[3], 0, 0};
    if (q->strides[3] != 1 || k->strides[3] != 1 || op->in[2]->strides[3] != 1 || op->out->strides[3] != 1)
        return lc_error(LC_ERR_INTERNAL, "attention: head dimension must be contiguous");
    if (op->in[3] && (op->in[3]->dtype != LC_F32 || !lc_array_is_contiguous(op->in[3])))
        return lc_error(LC_ERR_INTERNAL, "attention: mask must be contiguous f32");
    if (c.Tq == 0 || c.Tk == 0 || c.D == 0) {
        if (c.Tq && c.D) { /* no keys: zero output like a fully masked row */
            for (int64_t b = 0; b < c.B; b++)
                for (int64_t h = 0; h < c.H; h++)
                    for (int64_t i = 0; i < c.Tq; i++)
                        memset((float *)lc_array_ptr(op->out) + b * op->out->strides[0] + h * op->out->strides[1] +
                                   i * op->out->strides[2], 0, sizeof(float) * (size_t)c.D);
        }
        return LC_OK;
    }
    c.nqb = (c.Tq + ATTN_QBLOCK - 1) / ATTN_QBLOCK;
    lc_parallel_for(c.B * c.H * c.nqb, 1, attention_range, &c);
    return atomic_load(&c.failed) ? lc_error(LC_ERR_NOMEM, "attention: out of memory") : LC_OK;
}

/* ---- random fill (xoshiro256** seeded by splitmix64; deterministic for a seed) -------------- */
static inline uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

lc_status lc_cpu_fill_random(const lc_op *op) {
    float *out = lc_array_ptr(op->out);
    float lo = op->f[0], hi = op->f[1];
    uint64_t seed = (uint64_t)op->i[0];
    int64_t n = lc_array_numel(op->out);
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = splitmix64(&seed);
        out[i] = lo + (hi - lo) * (float)((r >> 40) * (1.0 / 16777216.0));
    }
    return LC_OK;
}
