/* The operation suite: the operations and input shapes of the public mlx-benchmark suite
 * (TristanBilot/mlx-benchmark), each run through locus's public op API. Before an op is timed
 * its result is checked against a plain double-precision reference computed here (sampled
 * positions for the costly ops, every element for the cheap ones): timing a wrong kernel is
 * worthless.
 *
 * Layouts: mlx-benchmark writes shapes in MLX's channels-last layout; locus (like PyTorch, and
 * like the peers in scripts/peers/) takes convolution inputs channels-first, so Conv1d
 * "dim1=NxLxC dim2=OxKxC" runs as x (N, C, L), w (O, C, K), and Conv2d likewise; Linear's
 * "dim2=KxN" weight is stored as PyTorch's (N, K). Gather "dim1=NxD dim2=E" is the row gather
 * x[idx], run as torch.gather along axis 0 with the index broadcast over D; Scatter is the row
 * scatter zeros[idx] = values, as torch.scatter. Attention runs without mask (locus's attention
 * is the encoder form; mlx-benchmark adds a causal mask). Inputs are uniform in [-1, 1). */
#include "bench/bench_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef LOCUS_WITH_CUDA
#include "locus/cuda.h"
#endif

enum op_kind {
    K_MATMUL, K_LINEAR, K_CONV1D, K_CONV2D, K_SOFTMAX, K_LAYERNORM, K_SDPA, K_RELU, K_LEAKY, K_PRELU, K_SELU,
    K_GELU, K_SIGMOID, K_SOFTPLUS, K_SUM, K_SUMALL, K_ARGMAX, K_SORT, K_CONCAT, K_GATHER, K_SCATTER, K_BCE
};

const char *const bench_op_names[] = {"MatMul", "Linear", "Conv1d", "Conv2d", "Softmax", "LayerNorm",
                                      "ScaledDotProductAttention", "ReLU", "LeakyReLU", "PReLU", "SeLU",
                                      "GELU", "Sigmoid", "Softplus", "Sum", "SumAll", "Argmax", "Sort",
                                      "Concat", "Gather", "Scatter", "BCE", NULL};

typedef struct {
    enum op_kind kind;
    const char *args; /* mlx-benchmark's arguments */
    bool quick;
} op_case;

/* mlx-benchmark's list (its run_benchmark.py), minus the ScatterSum/ScatterMax variants; GELU
 * (absent there) uses the shapes of the other activations. */
static const op_case cases[] = {
    {K_ARGMAX, "dim1=64x1024x128 axis=0", false},
    {K_ARGMAX, "dim1=64x1024x128 axis=1", false},
    {K_ARGMAX, "dim1=64x1024x128 axis=2", true},
    {K_ARGMAX, "dim1=64x128x1024 axis=2", false},
    {K_BCE, "dim1=1000000 dim2=1000000", true},
    {K_BCE, "dim1=100000x32 dim2=100000x32", false},
    {K_BCE, "dim1=100000x64x2 dim2=100000x64x2", false},
    {K_BCE, "dim1=128x100000 dim2=128x100000", false},
    {K_CONCAT, "dim1=1000000x64 dim2=1000000x32 axis=1", true},
    {K_CONCAT, "dim1=1000000x64 dim2=1000000x128 axis=1", false},
    {K_CONCAT, "dim1=1000000x64 dim2=1000000x64 axis=0", false},
    {K_CONCAT, "dim1=64x1000000 dim2=64x1000000 axis=0", false},
    {K_CONV1D, "dim1=100x256x3 dim2=8x3x3", true},
    {K_CONV1D, "dim1=100x256x256 dim2=8x3x256", false},
    {K_CONV1D, "dim1=16x1000x80 dim2=128x11x80", false},
    {K_CONV1D, "dim1=16x1000x3 dim2=128x11x3", false},
    {K_CONV2D, "dim1=100x256x256x3 dim2=8x3x3x3", false},
    {K_CONV2D, "dim1=10x256x256x12 dim2=8x3x3x12", false},
    {K_CONV2D, "dim1=1x256x256x128 dim2=8x3x3x128", false},
    {K_CONV2D, "dim1=100x28x28x3 dim2=8x3x3x3", true},
    {K_CONV2D, "dim1=1000x28x28x3 dim2=8x3x3x3", false},
    {K_GATHER, "dim1=64x256 dim2=10", false},
    {K_GATHER, "dim1=64x256 dim2=1000", true},
    {K_GATHER, "dim1=64x256 dim2=1000000", false},
    {K_GATHER, "dim1=1024x32 dim2=10", false},
    {K_GATHER, "dim1=1024x32 dim2=1000", false},
    {K_GATHER, "dim1=1024x32 dim2=1000000", false},
    {K_GELU, "dim1=128x16x1024", true},
    {K_GELU, "dim1=64x128x1024", false},
    {K_LAYERNORM, "dim1=64x128x1024", false},
    {K_LAYERNORM, "dim1=128x64x1024", true},
    {K_LEAKY, "dim1=128x16x1024", true},
    {K_LEAKY, "dim1=64x128x1024", false},
    {K_LINEAR, "dim1=100x1024x32 dim2=32x1024 dim3=1024", true},
    {K_LINEAR, "dim1=100x1024x64 dim2=64x1024 dim3=1024", false},
    {K_LINEAR, "dim1=100x1024x256 dim2=256x1024 dim3=1024", false},
    {K_LINEAR, "dim1=100x1024x512 dim2=512x1024 dim3=1024", false},
    {K_LINEAR, "dim1=100x1x51200 dim2=51200x1 dim3=1", false},
    {K_MATMUL, "dim1=32x1x1000 dim2=32x1000x128", false},
    {K_MATMUL, "dim1=1000x64x256 dim2=256x32", true},
    {K_MATMUL, "dim1=1000x64x1024 dim2=1000x1024x32", false},
    {K_MATMUL, "dim1=1000x1024x64 dim2=1000x64x256", false},
    {K_MATMUL, "dim1=64x1000000 dim2=1000000x32", false},
    {K_MATMUL, "dim1=1000000x64 dim2=64x1024", false},
    {K_PRELU, "dim1=128x16x1024 dim2=1", true},
    {K_PRELU, "dim1=64x128x1024 dim2=1", false},
    {K_RELU, "dim1=128x16x1024", true},
    {K_RELU, "dim1=64x128x1024", false},
    {K_SDPA, "dim1=64x8x16x1024 dim2=64x8x16x1024 dim3=64x8x16x1024", true},
    {K_SDPA, "dim1=64x8x16x1024 dim2=64x8x64x1024 dim3=64x8x64x1024", false},
    {K_SDPA, "dim1=64x16x16x1024 dim2=64x16x16x1024 dim3=64x16x16x1024", false},
    {K_SDPA, "dim1=64x16x16x1024 dim2=64x16x64x1024 dim3=64x16x64x1024", false},
    {K_SCATTER, "dim1=64x16 dim2=10", false},
    {K_SCATTER, "dim1=64x16 dim2=1000", true},
    {K_SCATTER, "dim1=64x16 dim2=1000000", false},
    {K_SCATTER, "dim1=1024x32 dim2=10", false},
    {K_SCATTER, "dim1=1024x32 dim2=1000", false},
    {K_SCATTER, "dim1=1024x32 dim2=1000000", false},
    {K_SELU, "dim1=128x16x1024", true},
    {K_SELU, "dim1=64x128x1024", false},
    {K_SIGMOID, "dim1=128x16x1024", true},
    {K_SIGMOID, "dim1=64x128x1024", false},
    {K_SOFTMAX, "dim1=64x1000000 axis=-1", false},
    {K_SOFTMAX, "dim1=1000000x64 axis=-1", false},
    {K_SOFTMAX, "dim1=64x16x32x1024 axis=-1", false},
    {K_SOFTMAX, "dim1=128x16x32x1024 axis=-1", false},
    {K_SOFTMAX, "dim1=1024x16x32x128 axis=-1", false},
    {K_SOFTMAX, "dim1=1024x64x32x8 axis=-1", true},
    {K_SOFTPLUS, "dim1=128x16x1024", true},
    {K_SOFTPLUS, "dim1=64x128x1024", false},
    {K_SORT, "dim1=64x128x1024 axis=0", false},
    {K_SORT, "dim1=64x128x1024 axis=1", false},
    {K_SORT, "dim1=64x128x1024 axis=2", true},
    {K_SUM, "dim1=64x128x128x128 axis=0", false},
    {K_SUM, "dim1=64x128x128x128 axis=1", false},
    {K_SUM, "dim1=64x128x128x128 axis=2", false},
    {K_SUM, "dim1=64x128x128x128 axis=3", true},
    {K_SUMALL, "dim1=64x128x128x128", false},
    {K_SUMALL, "dim1=1000000", true},
    {K_SUMALL, "dim1=1000000x128", false},
    {K_SUMALL, "dim1=128x1000000", false},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* ---- parsing "dim1=AxB dim2=C axis=1" ------------------------------------------------------ */
typedef struct {
    int nd[3];
    int64_t dim[3][LC_MAX_DIMS];
    int axis;
} op_args;

static bool parse_args(const char *s, op_args *a) {
    memset(a, 0, sizeof *a);
    const char *p = s;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        if (strncmp(p, "dim", 3) == 0 && p[3] >= '1' && p[3] <= '3' && p[4] == '=') {
            int k = p[3] - '1';
            p += 5;
            while (*p && *p != ' ') {
                char *end;
                long long v = strtoll(p, &end, 10);
                if (end == p || a->nd[k] == LC_MAX_DIMS) return false;
                a->dim[k][a->nd[k]++] = v;
                p = end;
                if (*p == 'x') p++;
            }
        } else if (strncmp(p, "axis=", 5) == 0) {
            a->axis = (int)strtol(p + 5, (char **)&p, 10);
        } else {
            return false;
        }
    }
    return true;
}

static bool name_selected(const char *names, const char *name) {
    if (!names) return true;
    size_t n = strlen(name);
    for (const char *p = names; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0) return true;
        if (!e) break;
        p = e + 1;
    }
    return false;
}

static bool case_selected(const op_case *c, bool full, const char *names) {
    if (names && strcasecmp(names, "all") == 0) names = NULL;
    if (names) return name_selected(names, bench_op_names[c->kind]) && (full || c->quick);
    return full || c->quick;
}

lc_status bench_check_op_names(const char *names) {
    if (!names || strcasecmp(names, "all") == 0 || strcasecmp(names, "none") == 0) return LC_OK;
    for (const char *p = names; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        bool known = false;
        for (int k = 0; bench_op_names[k] && !known; k++)
            known = strlen(bench_op_names[k]) == len && strncasecmp(p, bench_op_names[k], len) == 0;
        if (!known)
            return lc_error(LC_ERR_ARG, "unknown op '%.*s' (MatMul, Linear, Conv1d, Conv2d, Softmax, LayerNorm, "
                            "ScaledDotProductAttention, ReLU, LeakyReLU, PReLU, SeLU, GELU, Sigmoid, Softplus, Sum, "
                            "SumAll, Argmax, Sort, Concat, Gather, Scatter, BCE, all or none)", (int)len, p);
        if (!e) break;
        p = e + 1;
    }
    return LC_OK;
}

int bench_op_count(bool full, const char *names) {
    if (names && strcasecmp(names, "none") == 0) return 0;
    int n = 0;
    for (size_t i = 0; i < NCASES; i++) n += case_selected(&cases[i], full, names);
    return n;
}

/* ---- one prepared case -------------------------------------------------------------------- */
typedef struct {
    const op_case *c;
    enum op_kind kind;
    op_args a;
    lc_dtype t;
    lc_device dev;
    lc_array *in[4];
    float *host[4]; /* inputs as f32 on the host (the values the device holds) */
    int64_t *hidx;  /* gather/scatter: the index (E) of rows */
    int64_t rows_e, rows_n, cols_d;
    double flops, bytes;
} op_run;

static int64_t numel(const int64_t *s, int nd) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= s[i];
    return n;
}

static uint64_t rng_next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static lc_status to_device(lc_array *host, lc_device d, lc_array **out) {
    lc_status s = lc_array_to(host, d, out);
    lc_array_release(host);
    return s;
}

/* A random input of dtype t on the device, plus its f32 host copy for the reference. */
static lc_status make_input(op_run *r, int slot, int nd, const int64_t *shape, float lo, float hi, uint64_t seed) {
    lc_status s = lc_array_rand(r->t, nd, shape, lo, hi, seed, r->dev, &r->in[slot]);
    if (s) return s;
    size_t n = (size_t)numel(shape, nd);
    r->host[slot] = malloc((n ? n : 1) * sizeof(float));
    if (!r->host[slot]) return lc_error(LC_ERR_NOMEM, "bench: out of memory for a reference copy");
    return lc_array_read_f32(r->in[slot], r->host[slot], n);
}

/* An input given as f32 host data, converted to dtype t and moved to the device; the host copy
 * is replaced by the converted values. */
static lc_status make_input_from(op_run *r, int slot, int nd, const int64_t *shape, float *data) {
    lc_array *h = NULL, *c = NULL;
    lc_status s = lc_array_from_data(LC_F32, nd, shape, data, &h);
    if (!s) s = lc_astype(h, r->t, &c);
    lc_array_release(h);
    if (!s) s = to_device(c, r->dev, &r->in[slot]);
    r->host[slot] = data;
    if (!s) s = lc_array_read_f32(r->in[slot], data, (size_t)numel(shape, nd));
    return s;
}

static void op_run_free(op_run *r) {
    for (int i = 0; i < 4; i++) {
        lc_array_release(r->in[i]);
        free(r->host[i]);
    }
    free(r->hidx);
}

static double esize(lc_dtype t) { return (double)lc_dtype_size(t); }

static lc_status prepare(op_run *r) {
    op_args *a = &r->a;
    lc_status s = LC_OK;
    double es = esize(r->t);
    int64_t *d1 = a->dim[0];
    int n1 = a->nd[0];
    int64_t e1 = numel(d1, n1);
    switch (r->kind) {
    case K_MATMUL: {
        if ((s = make_input(r, 0, n1, d1, -1, 1, 11)) || (s = make_input(r, 1, a->nd[1], a->dim[1], -1, 1, 12))) return s;
        int64_t M = d1[n1 - 2], K = d1[n1 - 1], N = a->dim[1][a->nd[1] - 1];
        int64_t B = n1 > 2 ? d1[0] : 1;
        if (a->nd[1] > 2 && a->dim[1][0] > B) B = a->dim[1][0];
        r->flops = 2.0 * (double)B * (double)M * (double)N * (double)K;
        r->bytes = es * ((double)e1 + (double)numel(a->dim[1], a->nd[1]) + (double)B * (double)M * (double)N);
        break;
    }
    case K_LINEAR: {
        int64_t K = d1[n1 - 1], N = a->dim[1][1];
        int64_t wshape[2] = {N, K};
        if ((s = make_input(r, 0, n1, d1, -1, 1, 21)) || (s = make_input(r, 1, 2, wshape, -1, 1, 22)) ||
            (s = make_input(r, 2, 1, &N, -1, 1, 23)))
            return s;
        double R = (double)(e1 / K);
        r->flops = 2.0 * R * (double)N * (double)K + R * (double)N;
        r->bytes = es * ((double)e1 + (double)(N * K) + (double)N + R * (double)N);
        break;
    }
    case K_CONV1D: case K_CONV2D: {
        bool two = r->kind == K_CONV2D;
        int64_t xs[4], ws[4];
        if (two) { /* NHWC -> NCHW; OHWC -> OCHW */
            int64_t xsh[4] = {d1[0], d1[3], d1[1], d1[2]}, wsh[4] = {a->dim[1][0], a->dim[1][3], a->dim[1][1], a->dim[1][2]};
            memcpy(xs, xsh, sizeof xsh);
            memcpy(ws, wsh, sizeof wsh);
        } else { /* NLC -> NCL; OKC -> OCK */
            int64_t xsh[3] = {d1[0], d1[2], d1[1]}, wsh[3] = {a->dim[1][0], a->dim[1][2], a->dim[1][1]};
            memcpy(xs, xsh, sizeof xsh);
            memcpy(ws, wsh, sizeof wsh);
        }
        int nd = two ? 4 : 3;
        if ((s = make_input(r, 0, nd, xs, -1, 1, 31)) || (s = make_input(r, 1, nd, ws, -1, 1, 32))) return s;
        int64_t P = two ? (xs[2] - ws[2] + 1) * (xs[3] - ws[3] + 1) : xs[2] - ws[2] + 1;
        double ck = (double)numel(ws + 1, nd - 1);
        r->flops = 2.0 * (double)xs[0] * (double)ws[0] * (double)P * ck;
        r->bytes = es * ((double)numel(xs, nd) + (double)numel(ws, nd) + (double)(xs[0] * ws[0] * P));
        break;
    }
    case K_SOFTMAX: case K_LAYERNORM: case K_RELU: case K_LEAKY: case K_SELU: case K_GELU: case K_SIGMOID:
    case K_SOFTPLUS: {
        if ((s = make_input(r, 0, n1, d1, -1, 1, 41))) return s;
        static const double per[] = {[K_SOFTMAX] = 5, [K_LAYERNORM] = 8, [K_RELU] = 1, [K_LEAKY] = 2, [K_SELU] = 4,
                                     [K_GELU] = 8, [K_SIGMOID] = 4, [K_SOFTPLUS] = 4};
        r->flops = per[r->kind] * (double)e1;
        r->bytes = es * 2.0 * (double)e1;
        break;
    }
    case K_PRELU: {
        if ((s = make_input(r, 0, n1, d1, -1, 1, 51)) || (s = make_input(r, 1, a->nd[1], a->dim[1], 0, 0.5f, 52))) return s;
        r->flops = 2.0 * (double)e1;
        r->bytes = es * (2.0 * (double)e1 + (double)numel(a->dim[1], a->nd[1]));
        break;
    }
    case K_SDPA: {
        for (int i = 0; i < 3; i++)
            if ((s = make_input(r, i, a->nd[i], a->dim[i], -1, 1, 61 + (uint64_t)i))) return s;
        double B = (double)d1[0], H = (double)d1[1], Tq = (double)d1[2], D = (double)d1[3], Tk = (double)a->dim[1][2];
        r->flops = 4.0 * B * H * Tq * Tk * D + 5.0 * B * H * Tq * Tk;
        r->bytes = es * (B * H * (2.0 * Tq * D + 2.0 * Tk * D));
        break;
    }
    case K_SUM: case K_SUMALL: case K_ARGMAX: {
        if ((s = make_input(r, 0, n1, d1, -1, 1, 71))) return s;
        int64_t outn = r->kind == K_SUMALL ? 1 : e1 / d1[a->axis < 0 ? a->axis + n1 : a->axis];
        r->flops = (double)e1;
        r->bytes = es * (double)e1 + (r->kind == K_ARGMAX ? 8.0 : es) * (double)outn;
        break;
    }
    case K_SORT: {
        if ((s = make_input(r, 0, n1, d1, -1, 1, 81))) return s;
        double len = (double)d1[a->axis < 0 ? a->axis + n1 : a->axis];
        r->flops = (double)e1 * log2(len); /* comparisons, nominal n log n */
        r->bytes = es * 2.0 * (double)e1;
        break;
    }
    case K_CONCAT: {
        if ((s = make_input(r, 0, n1, d1, -1, 1, 91)) || (s = make_input(r, 1, a->nd[1], a->dim[1], -1, 1, 92))) return s;
        double tot = (double)e1 + (double)numel(a->dim[1], a->nd[1]);
        r->flops = 0;
        r->bytes = es * 2.0 * tot;
        break;
    }
    case K_GATHER: case K_SCATTER: {
        int64_t N = d1[0], D = d1[1], E = a->dim[1][0];
        r->rows_n = N;
        r->cols_d = D;
        r->rows_e = E;
        r->hidx = malloc((size_t)E * sizeof *r->hidx);
        int64_t *ix = malloc((size_t)(E * D) * sizeof *ix);
        if (!r->hidx || !ix) {
            free(ix);
            return lc_error(LC_ERR_NOMEM, "bench: out of memory for an index");
        }
        uint64_t st = 101;
        for (int64_t e = 0; e < E; e++) r->hidx[e] = (int64_t)(rng_next(&st) % (uint64_t)N);
        for (int64_t e = 0; e < E; e++)
            for (int64_t j = 0; j < D; j++) ix[e * D + j] = r->hidx[e];
        int64_t ishape[2] = {E, D};
        lc_array *h = NULL;
        s = lc_array_from_data(LC_I64, 2, ishape, ix, &h);
        free(ix);
        if (!s) s = to_device(h, r->dev, &r->in[1]);
        if (s) return s;
        if (r->kind == K_GATHER) {
            if ((s = make_input(r, 0, 2, d1, -1, 1, 102))) return s;
            r->bytes = es * 2.0 * (double)(E * D) + 8.0 * (double)(E * D);
        } else {
            /* base zeros (N, D); values (E, D) = table[idx[e]] so duplicate targets agree */
            float *zeros = calloc((size_t)(N * D), sizeof(float));
            float *table = malloc((size_t)(N * D) * sizeof(float));
            float *vals = malloc((size_t)(E * D) * sizeof(float));
            if (!zeros || !table || !vals) {
                free(zeros), free(table), free(vals);
                return lc_error(LC_ERR_NOMEM, "bench: out of memory for scatter inputs");
            }
            uint64_t sv = 103;
            for (int64_t i = 0; i < N * D; i++) table[i] = (float)((double)(rng_next(&sv) >> 11) * 0x1p-53 * 2.0 - 1.0);
            for (int64_t e = 0; e < E; e++) memcpy(vals + e * D, table + r->hidx[e] * D, (size_t)D * sizeof(float));
            free(table);
            int64_t vshape[2] = {E, D};
            if ((s = make_input_from(r, 0, 2, d1, zeros))) {
                free(vals);
                return s;
            }
            if ((s = make_input_from(r, 2, 2, vshape, vals))) return s;
            r->bytes = es * (2.0 * (double)(N * D) + (double)(E * D)) + 8.0 * (double)(E * D);
        }
        r->flops = 0;
        break;
    }
    case K_BCE: {
        if ((s = make_input(r, 0, n1, d1, 0.001f, 0.999f, 111))) return s;
        float *y = malloc((size_t)e1 * sizeof(float));
        if (!y) return lc_error(LC_ERR_NOMEM, "bench: out of memory for BCE targets");
        uint64_t sy = 112;
        for (int64_t i = 0; i < e1; i++) y[i] = (float)(rng_next(&sy) & 1);
        if ((s = make_input_from(r, 1, n1, d1, y))) return s;
        r->flops = 6.0 * (double)e1;
        r->bytes = es * 2.0 * (double)e1 + es;
        break;
    }
    }
    return s;
}

static lc_status run_op(op_run *r, lc_array **out) {
    lc_array **in = r->in;
    switch (r->kind) {
    case K_MATMUL: return lc_matmul(in[0], in[1], out);
    case K_LINEAR: return lc_linear(in[0], in[1], in[2], out);
    case K_CONV1D: return lc_conv1d(in[0], in[1], NULL, 1, 0, out);
    case K_CONV2D: return lc_conv2d(in[0], in[1], NULL, 1, 0, out);
    case K_SOFTMAX: return lc_softmax(in[0], r->a.axis, out);
    case K_LAYERNORM: return lc_layer_norm(in[0], NULL, NULL, 1e-5f, out);
    case K_SDPA: return lc_attention(in[0], in[1], in[2], NULL, 0.0f, out);
    case K_RELU: return lc_relu(in[0], out);
    case K_LEAKY: return lc_leaky_relu(in[0], 0.01f, out);
    case K_PRELU: return lc_prelu(in[0], in[1], out);
    case K_SELU: return lc_selu(in[0], out);
    case K_GELU: return lc_gelu(in[0], out);
    case K_SIGMOID: return lc_sigmoid(in[0], out);
    case K_SOFTPLUS: return lc_softplus(in[0], 1.0f, 20.0f, out);
    case K_SUM: return lc_sum(in[0], r->a.axis, false, out);
    case K_SUMALL: return lc_sum_all(in[0], out);
    case K_ARGMAX: return lc_argmax(in[0], r->a.axis, false, out);
    case K_SORT: return lc_sort(in[0], r->a.axis, out);
    case K_CONCAT: return lc_concat(2, in, r->a.axis, out);
    case K_GATHER: return lc_gather(in[0], 0, in[1], out);
    case K_SCATTER: return lc_scatter(in[0], 0, in[1], in[2], out);
    case K_BCE: return lc_bce(in[0], in[1], out);
    }
    return lc_error(LC_ERR_INTERNAL, "bench: unknown op");
}

static lc_status timed_op(void *p) {
    lc_array *out = NULL;
    lc_status s = run_op(p, &out);
    lc_array_release(out);
    return s;
}

/* ---- references ------------------------------------------------------------------------------ */
typedef struct {
    double worst;   /* max of |got - ref| / tolerance */
    double max_err; /* max |got - ref| */
    int64_t checked;
    double rtol, atol;
} checker;

static void check_value(checker *c, double got, double ref, double scale) {
    double err = fabs(got - ref);
    if (isnan(got) != isnan(ref)) err = INFINITY;
    else if (isnan(got)) err = 0;
    double tol = c->atol + c->rtol * scale;
    if (err > c->max_err) c->max_err = err;
    if (err / tol > c->worst) c->worst = err / tol;
    c->checked++;
}

/* Positions to check: every one when few, else `k` seeded picks plus the first and last. */
static int64_t pick(int64_t i, int64_t total, int64_t k, uint64_t *st) {
    if (total <= k) return i;
    if (i == 0) return 0;
    if (i == 1) return total - 1;
    return (int64_t)(rng_next(st) % (uint64_t)total);
}

static double gelu_ref(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }
static double selu_ref(double x) {
    const double alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946;
    return scale * (x > 0 ? x : alpha * (exp(x) - 1.0));
}

static lc_status check_result(op_run *r, lc_array *out, checker *ck) {
    op_args *a = &r->a;
    int64_t n_out = lc_array_numel(out);
    lc_status s;
    bool int_out = r->kind == K_ARGMAX;
    float *got = NULL;
    int64_t *goti = NULL;
    if (int_out) {
        goti = malloc((size_t)(n_out ? n_out : 1) * sizeof *goti);
        if (!goti) return lc_error(LC_ERR_NOMEM, "bench: out of memory reading a result");
        if ((s = lc_array_read_i64(out, goti, (size_t)n_out))) goto done;
    } else {
        got = malloc((size_t)(n_out ? n_out : 1) * sizeof *got);
        if (!got) return lc_error(LC_ERR_NOMEM, "bench: out of memory reading a result");
        if ((s = lc_array_read_f32(out, got, (size_t)n_out))) goto done;
    }
    const int64_t K_SAMPLES = 384;
    uint64_t st = 7;
    float **h = r->host;
    int64_t *d1 = a->dim[0];
    int n1 = a->nd[0];
    switch (r->kind) {
    case K_MATMUL: {
        int64_t M = d1[n1 - 2], K = d1[n1 - 1], N = a->dim[1][a->nd[1] - 1];
        bool abatch = n1 > 2, bbatch = a->nd[1] > 2;
        int64_t cnt = n_out < K_SAMPLES ? n_out : K_SAMPLES;
        for (int64_t i = 0; i < cnt; i++) {
            int64_t p = pick(i, n_out, K_SAMPLES, &st);
            int64_t bi = p / (M * N), m = (p / N) % M, n = p % N;
            const float *A = h[0] + (abatch ? bi * M * K : 0), *B = h[1] + (bbatch ? bi * K * N : 0);
            double acc = 0, sc = 0;
            for (int64_t k = 0; k < K; k++) {
                double t = (double)A[m * K + k] * (double)B[k * N + n];
                acc += t;
                sc += fabs(t);
            }
            check_value(ck, got[p], acc, sc);
        }
        break;
    }
    case K_LINEAR: {
        int64_t K = d1[n1 - 1], N = a->dim[1][1];
        int64_t cnt = n_out < K_SAMPLES ? n_out : K_SAMPLES;
        for (int64_t i = 0; i < cnt; i++) {
            int64_t p = pick(i, n_out, K_SAMPLES, &st);
            int64_t row = p / N, n = p % N;
            double acc = h[2][n], sc = fabs(h[2][n]);
            for (int64_t k = 0; k < K; k++) {
                double t = (double)h[0][row * K + k] * (double)h[1][n * K + k];
                acc += t;
                sc += fabs(t);
            }
            check_value(ck, got[p], acc, sc);
        }
        break;
    }
    case K_CONV1D: case K_CONV2D: {
        bool two = r->kind == K_CONV2D;
        const int64_t *xs = lc_array_shape(r->in[0]), *ws = lc_array_shape(r->in[1]);
        int64_t C = xs[1], H = two ? xs[2] : 1, W = two ? xs[3] : xs[2];
        int64_t O = ws[0], KH = two ? ws[2] : 1, KW = two ? ws[3] : ws[2];
        int64_t Ho = H - KH + 1, Wo = W - KW + 1;
        int64_t cnt = n_out < K_SAMPLES ? n_out : K_SAMPLES;
        for (int64_t i = 0; i < cnt; i++) {
            int64_t p = pick(i, n_out, K_SAMPLES, &st);
            int64_t ow = p % Wo, oh = (p / Wo) % Ho, o = (p / (Wo * Ho)) % O, n = p / (Wo * Ho * O);
            double acc = 0, sc = 0;
            for (int64_t c = 0; c < C; c++)
                for (int64_t kh = 0; kh < KH; kh++)
                    for (int64_t kw = 0; kw < KW; kw++) {
                        double t = (double)h[0][((n * C + c) * H + oh + kh) * W + ow + kw] *
                                   (double)h[1][((o * C + c) * KH + kh) * KW + kw];
                        acc += t;
                        sc += fabs(t);
                    }
            check_value(ck, got[p], acc, sc);
        }
        break;
    }
    case K_SOFTMAX: case K_LAYERNORM: {
        int64_t L = d1[n1 - 1], rows = n_out / L;
        int64_t cnt = rows < 64 ? rows : 64;
        for (int64_t i = 0; i < cnt; i++) {
            int64_t row = pick(i, rows, 64, &st);
            const float *x = h[0] + row * L;
            if (r->kind == K_SOFTMAX) {
                double mx = -INFINITY, sum = 0;
                for (int64_t j = 0; j < L; j++) mx = x[j] > mx ? x[j] : mx;
                for (int64_t j = 0; j < L; j++) sum += exp((double)x[j] - mx);
                for (int64_t j = 0; j < L; j++) {
                    double ref = exp((double)x[j] - mx) / sum;
                    check_value(ck, got[row * L + j], ref, fabs(ref));
                }
            } else {
                double mean = 0, var = 0;
                for (int64_t j = 0; j < L; j++) mean += x[j];
                mean /= (double)L;
                for (int64_t j = 0; j < L; j++) var += (x[j] - mean) * (x[j] - mean);
                var /= (double)L;
                for (int64_t j = 0; j < L; j++) {
                    double ref = (x[j] - mean) / sqrt(var + 1e-5);
                    check_value(ck, got[row * L + j], ref, fabs(ref) + 1.0);
                }
            }
        }
        break;
    }
    case K_SDPA: {
        int64_t B = d1[0], Hh = d1[1], Tq = d1[2], D = d1[3], Tk = a->dim[1][2];
        int64_t rows = B * Hh * Tq, cnt = rows < 48 ? rows : 48;
        double *sc = malloc((size_t)Tk * sizeof *sc);
        if (!sc) {
            s = lc_error(LC_ERR_NOMEM, "bench: out of memory");
            goto done;
        }
        double scale = 1.0 / sqrt((double)D);
        for (int64_t i = 0; i < cnt; i++) {
            int64_t row = pick(i, rows, 48, &st);
            int64_t bh = row / Tq, q = row % Tq;
            const float *Q = h[0] + (bh * Tq + q) * D, *Kk = h[1] + bh * Tk * D, *V = h[2] + bh * Tk * D;
            double mx = -INFINITY, sum = 0;
            for (int64_t j = 0; j < Tk; j++) {
                double dot = 0;
                for (int64_t e = 0; e < D; e++) dot += (double)Q[e] * Kk[j * D + e];
                sc[j] = dot * scale;
                if (sc[j] > mx) mx = sc[j];
            }
            for (int64_t j = 0; j < Tk; j++) sum += (sc[j] = exp(sc[j] - mx));
            for (int64_t e = 0; e < D; e++) {
                double acc = 0, mag = 0;
                for (int64_t j = 0; j < Tk; j++) {
                    acc += sc[j] / sum * V[j * D + e];
                    mag += sc[j] / sum * fabs(V[j * D + e]);
                }
                check_value(ck, got[row * D + e], acc, mag);
            }
        }
        free(sc);
        break;
    }
    case K_RELU: case K_LEAKY: case K_PRELU: case K_SELU: case K_GELU: case K_SIGMOID: case K_SOFTPLUS: {
        for (int64_t i = 0; i < n_out; i++) {
            double x = h[0][i], ref;
            switch (r->kind) {
            case K_RELU: ref = x > 0 ? x : 0; break;
            case K_LEAKY: ref = x > 0 ? x : 0.01f * x; break;
            case K_PRELU: ref = x >= 0 ? x : (double)h[1][0] * x; break;
            case K_SELU: ref = selu_ref(x); break;
            case K_GELU: ref = gelu_ref(x); break;
            case K_SIGMOID: ref = 1.0 / (1.0 + exp(-x)); break;
            default: ref = x > 20 ? x : log1p(exp(x)); break;
            }
            check_value(ck, got[i], ref, fabs(ref) + 1e-3);
        }
        break;
    }
    case K_SUM: case K_ARGMAX: {
        int ax = a->axis < 0 ? a->axis + n1 : a->axis;
        int64_t len = d1[ax], inner = 1;
        for (int d = ax + 1; d < n1; d++) inner *= d1[d];
        int64_t cnt = n_out < K_SAMPLES ? n_out : K_SAMPLES;
        for (int64_t i = 0; i < cnt; i++) {
            int64_t p = pick(i, n_out, K_SAMPLES, &st);
            int64_t o = p / inner, in = p % inner;
            const float *x = h[0] + o * len * inner + in;
            if (r->kind == K_SUM) {
                double acc = 0, mag = 0;
                for (int64_t j = 0; j < len; j++) {
                    acc += x[j * inner];
                    mag += fabs(x[j * inner]);
                }
                check_value(ck, got[p], acc, mag);
            } else {
                float mx = -INFINITY;
                for (int64_t j = 0; j < len; j++) mx = x[j * inner] > mx ? x[j * inner] : mx;
                int64_t g = goti[p];
                bool ok = g >= 0 && g < len && x[g * inner] == mx;
                check_value(ck, ok ? 0.0 : 1.0, 0.0, 0.0);
            }
        }
        break;
    }
    case K_SUMALL: {
        double acc = 0, mag = 0;
        int64_t e1 = numel(d1, n1);
        for (int64_t i = 0; i < e1; i++) {
            acc += h[0][i];
            mag += fabs(h[0][i]);
        }
        check_value(ck, got[0], acc, mag);
        break;
    }
    case K_SORT: {
        int ax = a->axis < 0 ? a->axis + n1 : a->axis;
        int64_t len = d1[ax], inner = 1;
        for (int d = ax + 1; d < n1; d++) inner *= d1[d];
        int64_t lines = n_out / len, cnt = lines < 64 ? lines : 64;
        float *line = malloc((size_t)len * sizeof *line);
        if (!line) {
            s = lc_error(LC_ERR_NOMEM, "bench: out of memory");
            goto done;
        }
        for (int64_t i = 0; i < cnt; i++) {
            int64_t l = pick(i, lines, 64, &st);
            int64_t o = l / inner, in = l % inner;
            for (int64_t j = 0; j < len; j++) line[j] = h[0][(o * len + j) * inner + in];
            /* insertion into sorted order (lines are at most a few thousand long) */
            for (int64_t j = 1; j < len; j++) {
                float v = line[j];
                int64_t k = j - 1;
                while (k >= 0 && line[k] > v) {
                    line[k + 1] = line[k];
                    k--;
                }
                line[k + 1] = v;
            }
            for (int64_t j = 0; j < len; j++) check_value(ck, got[(o * len + j) * inner + in], line[j], 0);
        }
        free(line);
        break;
    }
    case K_CONCAT: {
        int ax = a->axis < 0 ? a->axis + n1 : a->axis;
        int64_t outer = 1;
        for (int d = 0; d < ax; d++) outer *= d1[d];
        int64_t ca = numel(d1 + ax, n1 - ax), cb = numel(a->dim[1] + ax, a->nd[1] - ax);
        for (int64_t o = 0; o < outer; o++) {
            for (int64_t j = 0; j < ca; j++) check_value(ck, got[o * (ca + cb) + j], h[0][o * ca + j], 0);
            for (int64_t j = 0; j < cb; j++) check_value(ck, got[o * (ca + cb) + ca + j], h[1][o * cb + j], 0);
        }
        break;
    }
    case K_GATHER: {
        int64_t D = r->cols_d;
        for (int64_t e = 0; e < r->rows_e; e++)
            for (int64_t j = 0; j < D; j++) check_value(ck, got[e * D + j], h[0][r->hidx[e] * D + j], 0);
        break;
    }
    case K_SCATTER: {
        int64_t D = r->cols_d, N = r->rows_n;
        float *ref = malloc((size_t)(N * D) * sizeof *ref);
        if (!ref) {
            s = lc_error(LC_ERR_NOMEM, "bench: out of memory");
            goto done;
        }
        memcpy(ref, h[0], (size_t)(N * D) * sizeof *ref);
        for (int64_t e = 0; e < r->rows_e; e++) memcpy(ref + r->hidx[e] * D, h[2] + e * D, (size_t)D * sizeof *ref);
        for (int64_t i = 0; i < N * D; i++) check_value(ck, got[i], ref[i], 0);
        free(ref);
        break;
    }
    case K_BCE: {
        int64_t e1 = numel(d1, n1);
        double acc = 0, mag = 0;
        for (int64_t i = 0; i < e1; i++) {
            double p = h[0][i], y = h[1][i];
            double lp = fmax(log(p), -100.0), lq = fmax(log(1.0 - p), -100.0);
            double t = -(y * lp + (1.0 - y) * lq);
            acc += t;
            mag += fabs(t);
        }
        check_value(ck, got[0], acc / (double)e1, mag / (double)e1);
        break;
    }
    }
    s = LC_OK;
done:
    free(got);
    free(goti);
    return s;
}

/* Tolerances: relative to each value's scale (the sum of |terms| for sums of products), from the
 * dtype's rounding: f32 allows for transcendental approximations, narrow dtypes for the rounding
 * of inputs, intermediates and the stored output. */
static void tolerances(lc_dtype t, lc_device d, checker *c) {
    c->rtol = t == LC_F32 ? 2e-5 : t == LC_F16 ? 4e-3 : 3e-2;
    c->atol = t == LC_F32 ? 1e-6 : t == LC_F16 ? 1e-4 : 1e-3;
#ifdef LOCUS_WITH_CUDA
    /* f32 products in TF32 (LOCUS_CUDA_MATH=tf32): operands rounded to 11 significant bits */
    if (t == LC_F32 && d.kind == LC_DEVICE_CUDA && lc_cuda_get_math_mode() == LC_CUDA_MATH_TF32) c->rtol = 2e-3;
#else
    (void)d;
#endif
}

void bench_run_ops(bench_ctx *bc, lc_device d, bool full, const char *names, cJSON *results) {
    if (names && strcasecmp(names, "none") == 0) return;
    lc_dtype t = bench_dtype(bc);
    for (size_t i = 0; i < NCASES; i++) {
        const op_case *c = &cases[i];
        if (!case_selected(c, full, names)) continue;
        const char *name = bench_op_names[c->kind];
        char what[160];
        snprintf(what, sizeof what, "%s %s", name, c->args);
        bench_progress(bc, what);
        cJSON *r = bench_result_new("op", name, c->args, d, t);
        cJSON_AddItemToArray(results, r);
        if (bench_list_only(bc)) {
            bench_result_error(r, "skipped", "listed only (--list)");
            continue;
        }
        op_run run = {.c = c, .kind = c->kind, .t = t, .dev = d};
        if (!parse_args(c->args, &run.a)) {
            bench_result_error(r, "error", "cannot parse the case's arguments");
            continue;
        }
        /* integer-valued ops keep f32 inputs: argmax/sort/etc. are fine in any float dtype */
        lc_status s = prepare(&run);
        lc_array *out = NULL;
        if (!s) s = run_op(&run, &out);
        if (s) {
            bench_result_error(r, s == LC_ERR_UNSUPPORTED ? "unsupported" : "error", lc_last_error());
            lc_array_release(out);
            op_run_free(&run);
            lc_clear_error();
            continue;
        }
        checker ck = {0};
        tolerances(t, d, &ck);
        s = check_result(&run, out, &ck);
        lc_array_release(out);
        cJSON *chk = cJSON_AddObjectToObject(r, "check");
        if (s) {
            cJSON_AddStringToObject(chk, "status", "error");
            cJSON_AddStringToObject(chk, "message", lc_last_error());
            lc_clear_error();
            op_run_free(&run);
            continue;
        }
        bool pass = ck.worst <= 1.0;
        cJSON_AddStringToObject(chk, "status", pass ? "passed" : "failed");
        cJSON_AddNumberToObject(chk, "max_abs_error", ck.max_err);
        cJSON_AddNumberToObject(chk, "checked_values", (double)ck.checked);
        cJSON_AddStringToObject(chk, "reference", "double-precision C reference (src/bench/ops_suite.c)");
        if (!pass) { /* a wrong kernel is not timed */
            cJSON_AddStringToObject(r, "status", "wrong-result");
            op_run_free(&run);
            continue;
        }
        lc_bench_measurement m;
        lc_bench_budget ob = *bench_budget(bc);
        ob.energy_s = 0; /* energy per inference is the models' figure; ops are too short for counters */
        s = lc_bench_measure(d, timed_op, &run, &ob, &m);
        if (s) {
            bench_result_error(r, "error", lc_last_error());
            lc_clear_error();
        } else {
            cJSON_AddStringToObject(r, "status", "ok");
            bench_result_measurement(r, &m);
            bench_add_rates(bc, d, r, run.flops, run.bytes, m.stats.median_ms);
        }
        op_run_free(&run);
    }
}
