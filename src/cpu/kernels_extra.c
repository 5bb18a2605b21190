/* CPU kernels of the ops the benchmark suite needs beyond the transformer set: PReLU, sort,
 * gather, scatter, binary cross-entropy, conv1d and conv2d (direct for stride 1 and small weights,
 * else im2col + BLAS GEMM).
 *
 * Every kernel receives contiguous f32 (or i64 index) inputs and a freshly allocated contiguous
 * output; shape checks happened in the ops front end, but indices are data and are checked here. */
#include "cpu/kernels_extra.h"

#include "cpu/blas.h"
#include "cpu/threadpool.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const float *cf32(const lc_array *a) { return (const float *)lc_array_ptr(a); }
static float *f32(const lc_array *a) { return (float *)lc_array_ptr(a); }
static const int64_t *ci64(const lc_array *a) { return (const int64_t *)lc_array_ptr(a); }

static lc_status need_f32(const lc_array *a, const char *op, const char *what) {
    if (!a || a->dtype != LC_F32) return lc_error(LC_ERR_UNSUPPORTED, "%s (cpu): %s must be f32", op, what);
    return LC_OK;
}
static lc_status need_i64(const lc_array *a, const char *op) {
    if (!a || a->dtype != LC_I64) return lc_error(LC_ERR_UNSUPPORTED, "%s (cpu): index must be i64", op);
    return LC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* PReLU: out = x >= 0 ? x : w[c] * x, with c the index along dim 1 (one weight for all when
 * the weight has one element).                                                                */
/* ------------------------------------------------------------------------------------------ */
typedef struct {
    const float *x, *w;
    float *y;
    int64_t channels, inner; /* x viewed as (outer, channels, inner) */
} prelu_ctx;

static void prelu_range(void *p, int64_t begin, int64_t end) {
    const prelu_ctx *c = p;
    /* rows of `inner` elements; row r has channel r % channels */
    for (int64_t r = begin; r < end; r++) {
        float w = c->w[c->channels == 1 ? 0 : r % c->channels];
        const float *x = c->x + r * c->inner;
        float *y = c->y + r * c->inner;
        for (int64_t i = 0; i < c->inner; i++) y[i] = x[i] >= 0.0f ? x[i] : w * x[i];
    }
}

lc_status lc_cpu_prelu(const lc_op *op) {
    lc_status s;
    if ((s = need_f32(op->in[0], "prelu", "x")) || (s = need_f32(op->in[1], "prelu", "weight"))) return s;
    const lc_array *x = op->in[0], *w = op->in[1];
    int64_t nw = lc_array_numel(w);
    int64_t channels = x->ndim >= 2 ? x->shape[1] : 1;
    if (nw != 1 && nw != channels)
        return lc_error(LC_ERR_SHAPE, "prelu: weight has %lld elements, input has %lld channels", (long long)nw,
                        (long long)channels);
    int64_t inner = 1;
    for (int i = 2; i < x->ndim; i++) inner *= x->shape[i];
    int64_t rows = lc_array_numel(x) / (inner ? inner : 1);
    if (nw == 1) { /* one weight: treat the whole array as rows of `inner` with any channel */
        channels = 1;
    }
    prelu_ctx c = {cf32(x), cf32(w), f32(op->out), channels, inner};
    if (lc_array_numel(x) == 0) return LC_OK;
    lc_parallel_for(rows, (int64_t)(16384 / (inner ? inner : 1)) + 1, prelu_range, &c);
    return LC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Sort along the last axis, ascending, NaN last: an LSD radix sort of order-preserving 32-bit   */
/* keys (8-bit digits, passes whose digit is constant skipped); insertion sort for short rows. */
/* ------------------------------------------------------------------------------------------ */
static inline uint32_t float_key(float f) {
    uint32_t u;
    if (isnan(f)) return 0xffffffffu; /* every NaN after +inf */
    memcpy(&u, &f, 4);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
static inline float key_float(uint32_t k) {
    uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void sort_keys(uint32_t *k, uint32_t *tmp, int64_t n) {
    if (n <= 32) {
        for (int64_t i = 1; i < n; i++) {
            uint32_t v = k[i];
            int64_t j = i - 1;
            while (j >= 0 && k[j] > v) {
                k[j + 1] = k[j];
                j--;
            }
            k[j + 1] = v;
        }
        return;
    }
    uint32_t *src = k, *dst = tmp;
    for (int shift = 0; shift < 32; shift += 8) {
        int64_t count[256] = {0};
        for (int64_t i = 0; i < n; i++) count[(src[i] >> shift) & 0xff]++;
        if (count[(src[0] >> shift) & 0xff] == n) continue; /* all share this digit */
        int64_t sum = 0;
        for (int d = 0; d < 256; d++) {
            int64_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (int64_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 0xff]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != k) memcpy(k, src, (size_t)n * sizeof *k);
}

typedef struct {
    const float *x;
    float *y;
    int64_t n;
    atomic_int failed;
} sort_ctx;

static void sort_range(void *p, int64_t begin, int64_t end) {
    sort_ctx *c = p;
    uint32_t *keys = malloc((size_t)c->n * 2 * sizeof *keys);
    if (!keys) {
        atomic_store(&c->failed, 1);
        return;
    }
    for (int64_t r = begin; r < end; r++) {
        const float *x = c->x + r * c->n;
        float *y = c->y + r * c->n;
        for (int64_t i = 0; i < c->n; i++) keys[i] = float_key(x[i]);
        sort_keys(keys, keys + c->n, c->n);
        for (int64_t i = 0; i < c->n; i++) y[i] = key_float(keys[i]);
    }
    free(keys);
}

lc_status lc_cpu_sort(const lc_op *op) {
    lc_status s;
    if ((s = need_f32(op->in[0], "sort", "input"))) return s;
    const lc_array *x = op->in[0];
    if (lc_array_numel(x) == 0) return LC_OK;
    int64_t n = x->ndim ? x->shape[x->ndim - 1] : 1;
    sort_ctx c = {cf32(x), f32(op->out), n, 0};
    int64_t rows = lc_array_numel(x) / n;
    lc_parallel_for(rows, 1 + 4096 / n, sort_range, &c);
    if (atomic_load(&c.failed)) return lc_error(LC_ERR_NOMEM, "sort: out of memory for %lld-element rows", (long long)n);
    return LC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Gather / scatter (torch semantics). The index array I has the same rank as the data array A; */
/* it is viewed as (outer, mid, inner) around `axis`, and each position's offset in A (or in    */
/* src) is outer_offset + value * stride(axis) + inner_offset, with offsets from A's own shape. */
/* ------------------------------------------------------------------------------------------ */
typedef struct {
    int64_t outer, mid, inner;
    int64_t *inner_off; /* inner position -> element offset in the data array */
} index_plan;

static lc_status plan_index(const lc_array *idx, const lc_array *data, int axis, const char *op, index_plan *p) {
    int nd = idx->ndim;
    if (data->ndim != nd || axis < 0 || axis >= nd)
        return lc_error(LC_ERR_SHAPE, "%s: index rank %d, data rank %d, axis %d do not fit", op, nd, data->ndim, axis);
    p->outer = p->mid = p->inner = 1;
    for (int d = 0; d < axis; d++) p->outer *= idx->shape[d];
    p->mid = idx->shape[axis];
    for (int d = axis + 1; d < nd; d++) p->inner *= idx->shape[d];
    p->inner_off = malloc((size_t)(p->inner ? p->inner : 1) * sizeof *p->inner_off);
    if (!p->inner_off) return lc_error(LC_ERR_NOMEM, "%s: out of memory", op);
    /* data strides (contiguous) */
    int64_t st[LC_MAX_DIMS];
    int64_t acc = 1;
    for (int d = nd - 1; d >= 0; d--) {
        st[d] = acc;
        acc *= data->shape[d];
    }
    for (int64_t j = 0; j < p->inner; j++) {
        int64_t lin = j, off = 0;
        for (int d = nd - 1; d > axis; d--) {
            off += (lin % idx->shape[d]) * st[d];
            lin /= idx->shape[d];
        }
        p->inner_off[j] = off;
    }
    return LC_OK;
}

static int64_t outer_offset(const lc_array *idx, const lc_array *data, int axis, int64_t o) {
    int64_t off = 0, acc = 1;
    int64_t st[LC_MAX_DIMS];
    for (int d = data->ndim - 1; d >= 0; d--) {
        st[d] = acc;
        acc *= data->shape[d];
    }
    for (int d = axis - 1; d >= 0; d--) {
        off += (o % idx->shape[d]) * st[d];
        o /= idx->shape[d];
    }
    return off;
}

static int64_t axis_stride(const lc_array *data, int axis) {
    int64_t st = 1;
    for (int d = axis + 1; d < data->ndim; d++) st *= data->shape[d];
    return st;
}

typedef struct {
    const lc_array *a, *idx;
    const float *src;
    const int64_t *index;
    float *out;
    int axis;
    index_plan plan;
    int64_t astride, alen;
    atomic_llong bad; /* first out-of-range position + 1, or 0 */
} gather_ctx;

static void gather_range(void *p, int64_t begin, int64_t end) {
    gather_ctx *c = p;
    const index_plan *pl = &c->plan;
    for (int64_t r = begin; r < end; r++) { /* r = o * mid + m */
        int64_t o = r / pl->mid;
        int64_t base = outer_offset(c->idx, c->a, c->axis, o);
        const int64_t *ix = c->index + r * pl->inner;
        float *y = c->out + r * pl->inner;
        for (int64_t j = 0; j < pl->inner; j++) {
            int64_t v = ix[j];
            if (v < 0 || v >= c->alen) {
                long long expect = 0;
                atomic_compare_exchange_strong(&c->bad, &expect, (long long)(r * pl->inner + j + 1));
                y[j] = 0.0f;
                continue;
            }
            y[j] = c->src[base + v * c->astride + pl->inner_off[j]];
        }
    }
}

lc_status lc_cpu_gather(const lc_op *op) {
    lc_status s;
    if ((s = need_f32(op->in[0], "gather", "input")) || (s = need_i64(op->in[1], "gather"))) return s;
    const lc_array *a = op->in[0], *idx = op->in[1];
    int axis = (int)op->i[0];
    gather_ctx c = {.a = a, .idx = idx, .src = cf32(a), .index = ci64(idx), .out = f32(op->out), .axis = axis};
    if ((s = plan_index(idx, a, axis, "gather", &c.plan))) return s;
    for (int d = 0; d < a->ndim; d++)
        if (d != axis && idx->shape[d] > a->shape[d]) {
            free(c.plan.inner_off);
            return lc_error(LC_ERR_SHAPE, "gather: index size %lld exceeds input size %lld in dimension %d",
                            (long long)idx->shape[d], (long long)a->shape[d], d);
        }
    c.astride = axis_stride(a, axis);
    c.alen = a->shape[axis];
    atomic_init(&c.bad, 0);
    if (lc_array_numel(idx) > 0)
        lc_parallel_for(c.plan.outer * c.plan.mid, 1 + 16384 / (c.plan.inner ? c.plan.inner : 1), gather_range, &c);
    free(c.plan.inner_off);
    long long bad = atomic_load(&c.bad);
    if (bad)
        return lc_error(LC_ERR_ARG, "gather: index %lld at position %lld is out of range [0, %lld) on axis %d",
                        (long long)c.index[bad - 1], bad - 1, (long long)c.alen, axis);
    return LC_OK;
}

typedef struct {
    const float *x;
    float *y;
} copy_ctx;
static void copy_range(void *p, int64_t begin, int64_t end) {
    const copy_ctx *c = p;
    memcpy(c->y + begin, c->x + begin, (size_t)(end - begin) * sizeof(float));
}

lc_status lc_cpu_scatter(const lc_op *op) {
    lc_status s;
    if ((s = need_f32(op->in[0], "scatter", "input")) || (s = need_i64(op->in[1], "scatter")) ||
        (s = need_f32(op->in[2], "scatter", "src")))
        return s;
    const lc_array *a = op->in[0], *idx = op->in[1], *srca = op->in[2];
    int axis = (int)op->i[0];
    for (int d = 0; d < a->ndim && d < idx->ndim; d++)
        if ((d != axis && idx->shape[d] > a->shape[d]) || (srca->ndim == idx->ndim && idx->shape[d] > srca->shape[d]))
            return lc_error(LC_ERR_SHAPE, "scatter: index size %lld exceeds input or src size in dimension %d",
                            (long long)idx->shape[d], d);
    index_plan pa, ps;
    if ((s = plan_index(idx, a, axis, "scatter", &pa))) return s;
    if ((s = plan_index(idx, srca, axis, "scatter", &ps))) {
        free(pa.inner_off);
        return s;
    }
    float *out = f32(op->out);
    const float *src = cf32(srca);
    const int64_t *index = ci64(idx);
    copy_ctx cc = {cf32(a), out};
    if (lc_array_numel(a) > 0) lc_parallel_for(lc_array_numel(a), 1 << 16, copy_range, &cc);
    int64_t astride = axis_stride(a, axis), sstride = axis_stride(srca, axis), alen = a->shape[axis];
    /* Sequential, so that duplicate indices resolve as "last write wins", like torch on CPU. */
    for (int64_t o = 0; o < pa.outer; o++) {
        int64_t abase = outer_offset(idx, a, axis, o), sbase = outer_offset(idx, srca, axis, o);
        for (int64_t m = 0; m < pa.mid; m++) {
            const int64_t *ix = index + (o * pa.mid + m) * pa.inner;
            for (int64_t j = 0; j < pa.inner; j++) {
                int64_t v = ix[j];
                if (v < 0 || v >= alen) {
                    free(pa.inner_off);
                    free(ps.inner_off);
                    return lc_error(LC_ERR_ARG, "scatter: index %lld is out of range [0, %lld) on axis %d",
                                    (long long)v, (long long)alen, axis);
                }
                out[abase + v * astride + pa.inner_off[j]] = src[sbase + m * sstride + ps.inner_off[j]];
            }
        }
    }
    free(pa.inner_off);
    free(ps.inner_off);
    return LC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Binary cross-entropy, mean over all elements: -(y log p + (1 - y) log(1 - p)), each log      */
/* clamped at -100 as PyTorch does. Fixed blocks summed in double: the result does not depend    */
/* on the thread count.                                                                         */
/* ------------------------------------------------------------------------------------------ */
#define BCE_BLOCKS 256
typedef struct {
    const float *p, *y;
    int64_t n, block;
    double partial[BCE_BLOCKS];
} bce_ctx;

static void bce_range(void *pp, int64_t begin, int64_t end) {
    bce_ctx *c = pp;
    for (int64_t b = begin; b < end; b++) {
        int64_t i0 = b * c->block, i1 = i0 + c->block < c->n ? i0 + c->block : c->n;
        double acc = 0.0;
        for (int64_t i = i0; i < i1; i++) {
            float lp = logf(c->p[i]), lq = logf(1.0f - c->p[i]);
            if (!(lp >= -100.0f)) lp = isnan(lp) ? lp : -100.0f;
            if (!(lq >= -100.0f)) lq = isnan(lq) ? lq : -100.0f;
            acc -= (double)c->y[i] * lp + (1.0 - (double)c->y[i]) * lq;
        }
        c->partial[b] = acc;
    }
}

lc_status lc_cpu_bce(const lc_op *op) {
    lc_status s;
    if ((s = need_f32(op->in[0], "bce", "p")) || (s = need_f32(op->in[1], "bce", "y"))) return s;
    int64_t n = lc_array_numel(op->in[0]);
    if (lc_array_numel(op->in[1]) != n) return lc_error(LC_ERR_SHAPE, "bce: p and y differ in size");
    bce_ctx *c = calloc(1, sizeof *c);
    if (!c) return lc_error(LC_ERR_NOMEM, "bce: out of memory");
    c->p = cf32(op->in[0]);
    c->y = cf32(op->in[1]);
    c->n = n;
    c->block = (n + BCE_BLOCKS - 1) / BCE_BLOCKS;
    int64_t blocks = c->block ? (n + c->block - 1) / c->block : 0;
    if (blocks) lc_parallel_for(blocks, 1, bce_range, c);
    double total = 0.0;
    for (int64_t b = 0; b < blocks; b++) total += c->partial[b];
    f32(op->out)[0] = n ? (float)(total / (double)n) : NAN; /* torch: mean of nothing is NaN */
    free(c);
    return LC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Convolutions: direct for stride 1 and small weights (below), else im2col of a block of output  */
/* positions into (C*K, nb) then one GEMM: out (O, P) = W (O, C*K) x cols.                        */
/* ------------------------------------------------------------------------------------------ */
typedef struct {
    const float *x; /* the image (C, H, W); conv1d uses H = 1, KH = 1 */
    int64_t rows;   /* C*KH*KW */
    float *cols;    /* (rows, nb) */
    int64_t H, W, KH, KW, Wout, stride, pad_h, pad_w, p0, nb;
} im2col_ctx;

/* Items r = (ch * KH + kh) * KW + kw: row r of the columns, output positions p0 .. p0+nb. */
static void im2col_range(void *pp, int64_t begin, int64_t end) {
    const im2col_ctx *c = pp;
    for (int64_t r = begin; r < end; r++) {
        int64_t kw = r % c->KW, kh = (r / c->KW) % c->KH, ch = r / (c->KW * c->KH);
        const float *xc = c->x + ch * c->H * c->W;
        float *dst = c->cols + r * c->nb;
        int64_t oh = c->p0 / c->Wout, ow = c->p0 % c->Wout; /* then counted, no division per element */
        for (int64_t q = 0; q < c->nb; q++) {
            int64_t ih = oh * c->stride - c->pad_h + kh, iw = ow * c->stride - c->pad_w + kw;
            dst[q] = (ih >= 0 && ih < c->H && iw >= 0 && iw < c->W) ? xc[ih * c->W + iw] : 0.0f;
            if (++ow == c->Wout) {
                ow = 0;
                oh++;
            }
        }
    }
}

/* Direct convolution (stride 1): one item is an output row (n, oh); output channels go in blocks of
 * DC_OB and output columns in strips of 16, with the DC_OB x 16 accumulators kept in vector
 * registers across all C*KH*KW taps, so that each input vector loaded feeds DC_OB multiply-adds.
 * (GCC's vector extensions, which clang shares: written as plain arrays, the accumulators lived on
 * the stack and every multiply-add waited on a store.) Input rows outside the image are skipped; a
 * strip that reaches past the row's ends reads zeros there. The weights come packed per channel
 * block as (CK, DC_OB), zeros past O. */
enum { DC_OB = 8, DC_OW = 16 };
typedef float dc_v8 __attribute__((vector_size(32)));
typedef struct {
    const float *x, *wpack, *bias;
    float *out;
    int64_t C, H, W, O, KH, KW, Hout, Wout, pad_h, pad_w;
} dconv_ctx;

static void dconv_range(void *pp, int64_t begin, int64_t end) {
    const dconv_ctx *c = pp;
    const int64_t CK = c->C * c->KH * c->KW, strips = (c->Wout + DC_OW - 1) / DC_OW;
    for (int64_t t = begin; t < end; t++) {
        const int64_t n = t / c->Hout, oh = t % c->Hout;
        for (int64_t o0 = 0; o0 < c->O; o0 += DC_OB) {
            const float *wb = c->wpack + (o0 / DC_OB) * CK * DC_OB;
            const int64_t ob = c->O - o0 < DC_OB ? c->O - o0 : DC_OB;
            for (int64_t sj = 0; sj < strips; sj++) {
                /* a last, partial strip moves back to end at the row's end when the row is wide enough
                 * (it recomputes a few columns, but reads inside the row when there is no padding) */
                const int64_t ow0 = sj == strips - 1 && c->Wout >= DC_OW ? c->Wout - DC_OW : sj * DC_OW;
                dc_v8 acc[DC_OB][2];
#pragma GCC unroll 8
                for (int o = 0; o < DC_OB; o++) {
                    const float b0 = c->bias && o < ob ? c->bias[o0 + o] : 0.0f;
                    acc[o][0] = acc[o][1] = (dc_v8){0} + b0;
                }
                for (int64_t ch = 0; ch < c->C; ch++)
                    for (int64_t kh = 0; kh < c->KH; kh++) {
                        const int64_t ih = oh - c->pad_h + kh;
                        if (ih < 0 || ih >= c->H) continue;
                        const float *xr = c->x + ((n * c->C + ch) * c->H + ih) * c->W;
                        const float *wk = wb + (ch * c->KH + kh) * c->KW * DC_OB;
                        for (int64_t kw = 0; kw < c->KW; kw++) {
                            const int64_t iw0 = ow0 + kw - c->pad_w;
                            dc_v8 x0, x1;
                            if (iw0 >= 0 && iw0 + DC_OW <= c->W) {
                                memcpy(&x0, xr + iw0, sizeof x0);
                                memcpy(&x1, xr + iw0 + 8, sizeof x1);
                            } else {
                                float xv[DC_OW];
                                for (int j = 0; j < DC_OW; j++) xv[j] = iw0 + j >= 0 && iw0 + j < c->W ? xr[iw0 + j] : 0.0f;
                                memcpy(&x0, xv, sizeof x0);
                                memcpy(&x1, xv + 8, sizeof x1);
                            }
                            const float *wt = wk + kw * DC_OB;
#pragma GCC unroll 8
                            for (int o = 0; o < DC_OB; o++) {
                                const dc_v8 wv = (dc_v8){0} + wt[o];
                                acc[o][0] += wv * x0;
                                acc[o][1] += wv * x1;
                            }
                        }
                    }
                const int64_t wn = c->Wout - ow0 < DC_OW ? c->Wout - ow0 : DC_OW;
                for (int64_t o = 0; o < ob; o++) {
                    float row[DC_OW];
                    memcpy(row, &acc[o][0], sizeof acc[o][0]);
                    memcpy(row + 8, &acc[o][1], sizeof acc[o][1]);
                    memcpy(c->out + ((n * c->O + o0 + o) * c->Hout + oh) * c->Wout + ow0, row, (size_t)wn * sizeof(float));
                }
            }
        }
    }
}

/* Which convolutions go direct: stride 1 and at most 128K weights (512 KB, within the L2 that the
 * per-row passes re-read them from). Single-threaded on the development machine (AMD EPYC, AVX-512;
 * BENCHMARKS.md "Convolutions"), direct against im2col + GEMM: every suite shape (O = 8 or 128)
 * 1.1-7x faster; O = 64 with 3x3 over 256 channels 6.3 against 9.3 ms, but over 512 channels 6.8
 * against 4.5; 128 over 128 channels 22.1 against 18.2; 256 and 512 outputs 1.9-4x slower. */
static bool conv_direct(int64_t stride, int64_t O, int64_t CK) { return stride == 1 && O * CK <= 131072; }

/* c: everything but wpack, which is packed here from the (O, CK) weights wd; N images. */
static lc_status conv_direct_run(dconv_ctx *c, const float *wd, int64_t N, const char *name) {
    const int64_t CK = c->C * c->KH * c->KW, blocks = (c->O + DC_OB - 1) / DC_OB;
    float *wpack = calloc((size_t)(blocks * CK * DC_OB), sizeof *wpack);
    if (!wpack) return lc_error(LC_ERR_NOMEM, "%s: out of memory for packed weights (%lld floats)", name, (long long)(blocks * CK * DC_OB));
    for (int64_t o = 0; o < c->O; o++)
        for (int64_t k = 0; k < CK; k++) wpack[((o / DC_OB) * CK + k) * DC_OB + o % DC_OB] = wd[o * CK + k];
    c->wpack = wpack;
    const int64_t row_work = blocks * DC_OB * c->Wout * CK; /* multiply-adds per item */
    lc_parallel_for(N * c->Hout, 1 + 65536 / (row_work ? row_work : 1), dconv_range, c);
    free(wpack);
    return LC_OK;
}

static lc_status conv_nd(const lc_op *op, int dims, const char *name) {
    lc_status s;
    if ((s = need_f32(op->in[0], name, "x")) || (s = need_f32(op->in[1], name, "weight"))) return s;
    if (op->in[2] && (s = need_f32(op->in[2], name, "bias"))) return s;
    const lc_array *x = op->in[0], *w = op->in[1];
    int64_t stride = op->i[0], pad = op->i[1];
    if (stride < 1 || pad < 0) return lc_error(LC_ERR_ARG, "%s: stride %lld, padding %lld", name, (long long)stride, (long long)pad);
    int64_t N = x->shape[0], C = x->shape[1];
    int64_t H = dims == 2 ? x->shape[2] : 1, W = x->shape[dims == 2 ? 3 : 2];
    int64_t O = w->shape[0];
    int64_t KH = dims == 2 ? w->shape[2] : 1, KW = w->shape[dims == 2 ? 3 : 2];
    if (w->shape[1] != C) return lc_error(LC_ERR_SHAPE, "%s: weight has %lld input channels, x has %lld", name, (long long)w->shape[1], (long long)C);
    int64_t Hout = dims == 2 ? (H + 2 * pad - KH) / stride + 1 : 1;
    int64_t Wout = (W + 2 * pad - KW) / stride + 1;
    if (Hout < 1 || Wout < 1) return lc_error(LC_ERR_SHAPE, "%s: kernel larger than the padded input", name);
    int64_t P = Hout * Wout, CK = C * KH * KW;
    float *out = f32(op->out);
    const float *xd = cf32(x), *wd = cf32(w), *bias = op->in[2] ? cf32(op->in[2]) : NULL;
    if (N == 0 || O == 0) return LC_OK;
    if (conv_direct(stride, O, CK)) {
        dconv_ctx c = {xd, NULL, bias, out, C, H, W, O, KH, KW, Hout, Wout, dims == 2 ? pad : 0, pad};
        return conv_direct_run(&c, wd, N, name);
    }
    /* im2col of a block of output positions (the column buffer near 16 MiB whatever the image), one
     * GEMM per block. (Several small images side by side in one wider GEMM measured slower on every
     * shape tried: 8-66% over stride-2 and patch-embedding convolutions.) */
    int64_t nb = (int64_t)(4 << 20) / (CK ? CK : 1);
    if (nb < 256) nb = 256;
    if (nb > P) nb = P;
    float *cols = malloc((size_t)CK * (size_t)nb * sizeof *cols);
    if (!cols) return lc_error(LC_ERR_NOMEM, "%s: out of memory for a (%lld, %lld) column buffer", name, (long long)CK, (long long)nb);
    for (int64_t n = 0; n < N; n++) {
        float *on = out + n * O * P;
        for (int64_t p0 = 0; p0 < P; p0 += nb) {
            int64_t nbb = p0 + nb <= P ? nb : P - p0;
            im2col_ctx c = {xd + n * C * H * W, CK, cols, H, W, KH, KW, Wout, stride, dims == 2 ? pad : 0, pad, p0, nbb};
            lc_parallel_for(CK, 1 + 16384 / nbb, im2col_range, &c);
            /* (O, CK) x (CK, nbb) -> columns p0.. of (O, P) */
            lc_sgemm(false, false, O, nbb, CK, 1.0f, wd, CK, cols, nbb, 0.0f, on + p0, P);
        }
    }
    if (bias)
        for (int64_t n = 0; n < N; n++)
            for (int64_t o = 0; o < O; o++) {
                float *row = out + (n * O + o) * P;
                for (int64_t p = 0; p < P; p++) row[p] += bias[o];
            }
    free(cols);
    return LC_OK;
}

lc_status lc_cpu_conv1d(const lc_op *op) { return conv_nd(op, 1, "conv1d"); }
lc_status lc_cpu_conv2d(const lc_op *op) { return conv_nd(op, 2, "conv2d"); }
