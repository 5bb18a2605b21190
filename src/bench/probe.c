/* The machine's own ceilings, measured: streaming copy bandwidth and the peak GEMM rate per
 * float dtype. Results of the suite are reported against these (a roofline), so they are
 * measured the same way as everything else: warm-up, repeated runs, the median. */
#include "bench/bench_internal.h"

#include "cpu/blas.h"
#include "cpu/threadpool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- host streaming copy ----------------------------------------------------------------- */
typedef struct {
    char *dst;
    const char *src;
    size_t block, total;
} hostcopy_ctx;

static void hostcopy_range(void *p, int64_t begin, int64_t end) {
    const hostcopy_ctx *c = p;
    size_t b0 = (size_t)begin * c->block, b1 = (size_t)end * c->block;
    if (b1 > c->total) b1 = c->total;
    memcpy(c->dst + b0, c->src + b0, b1 - b0);
}

static lc_status hostcopy_run(void *p) {
    hostcopy_ctx *c = p;
    int64_t blocks = (int64_t)((c->total + c->block - 1) / c->block);
    lc_parallel_for(blocks, 1, hostcopy_range, c);
    return LC_OK;
}

/* ---- GEMM through BLAS (CPU f32) and through lc_matmul (every dtype and device) ----------- */
typedef struct {
    int64_t n;
    float *a, *b, *c;
} sgemm_ctx;

static lc_status sgemm_run(void *p) {
    sgemm_ctx *g = p;
    lc_sgemm(false, false, g->n, g->n, g->n, 1.0f, g->a, g->n, g->b, g->n, 0.0f, g->c, g->n);
    return LC_OK;
}

typedef struct {
    lc_array *a, *b;
} matmul_ctx;

static lc_status matmul_run(void *p) {
    matmul_ctx *m = p;
    lc_array *c = NULL;
    lc_status s = lc_matmul(m->a, m->b, &c);
    lc_array_release(c);
    return s;
}

typedef struct {
    lc_array *a;
} scale_ctx;

static lc_status scale_run(void *p) {
    scale_ctx *m = p;
    lc_array *c = NULL;
    lc_status s = lc_scale(m->a, 1.0f, &c);
    lc_array_release(c);
    return s;
}

static lc_bench_budget probe_budget(double budget_s) {
    lc_bench_budget b;
    lc_bench_budget_default(&b);
    b.warmup_s = budget_s / 4;
    b.budget_s = budget_s;
    b.min_iterations = 3;
    b.max_iterations = 200;
    b.target_ci_rel = 0.02;
    b.energy_s = 0;
    return b;
}

/* GEMM rate of one dtype: grow n until one run takes >= 20 ms (or the size cap), keep the best. */
static double probe_gemm(lc_device d, lc_dtype t, double budget_s, int64_t *size_out) {
    int64_t cap = d.kind == LC_DEVICE_CPU ? 2048 : 8192;
    double best = 0;
    lc_bench_budget b = probe_budget(budget_s);
    for (int64_t n = 256; n <= cap; n *= 2) {
        lc_bench_measurement m;
        lc_status s;
        if (d.kind == LC_DEVICE_CPU && t == LC_F32) {
            sgemm_ctx g = {n, NULL, NULL, NULL};
            size_t bytes = (size_t)(n * n) * sizeof(float);
            g.a = malloc(bytes);
            g.b = malloc(bytes);
            g.c = malloc(bytes);
            if (!g.a || !g.b || !g.c) {
                free(g.a), free(g.b), free(g.c);
                break;
            }
            for (int64_t i = 0; i < n * n; i++) {
                g.a[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
                g.b[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
            }
            s = lc_bench_measure(d, sgemm_run, &g, &b, &m);
            free(g.a), free(g.b), free(g.c);
        } else {
            int64_t shape[2] = {n, n};
            matmul_ctx mc = {NULL, NULL};
            s = lc_array_rand(t, 2, shape, -1.0f, 1.0f, 1, d, &mc.a);
            if (!s) s = lc_array_rand(t, 2, shape, -1.0f, 1.0f, 2, d, &mc.b);
            if (!s) s = lc_bench_measure(d, matmul_run, &mc, &b, &m);
            lc_array_release(mc.a);
            lc_array_release(mc.b);
        }
        if (s) break;
        double rate = 2.0 * (double)n * (double)n * (double)n / (m.stats.median_ms * 1e-3) / 1e9;
        if (isfinite(rate) && rate > best) {
            best = rate;
            *size_out = n;
        }
        if (m.stats.median_ms >= 20.0) break;
    }
    lc_clear_error();
    return best;
}

lc_status lc_bench_probe(lc_device d, double budget_s, lc_bench_ceilings *out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_bench_probe: NULL argument");
    if (!lc_device_available(d)) return lc_error(LC_ERR_DEVICE, "lc_bench_probe: device is not available");
    if (!(budget_s > 0)) budget_s = 0.3;
    memset(out, 0, sizeof *out);
    lc_bench_budget b = probe_budget(budget_s);
    lc_bench_measurement m;
    lc_status s;

    if (d.kind == LC_DEVICE_CPU) {
        /* Large enough to defeat the caches (a few times a typical last-level cache). */
        size_t total = (size_t)128 << 20;
        hostcopy_ctx c = {malloc(total), malloc(total), (size_t)1 << 20, total};
        if (!c.dst || !c.src) {
            free(c.dst), free((void *)c.src);
            return lc_error(LC_ERR_NOMEM, "lc_bench_probe: out of memory for the copy buffers");
        }
        memset(c.dst, 1, total); /* touch every page before timing */
        memset((void *)c.src, 2, total);
        s = lc_bench_measure(d, hostcopy_run, &c, &b, &m);
        free(c.dst), free((void *)c.src);
        if (s) return s;
        out->copy_gbps = 2.0 * (double)total / (m.stats.median_ms * 1e-3) / 1e9;
        snprintf(out->copy_method, sizeof out->copy_method, "memcpy, %d threads, 128 MiB", lc_get_num_threads());
    } else {
        int64_t n = (int64_t)256 << 18; /* 256 Mi f32 = 1 GiB */
        scale_ctx c = {NULL};
        s = lc_array_rand(LC_F32, 1, &n, -1.0f, 1.0f, 3, d, &c.a);
        if (!s) s = lc_bench_measure(d, scale_run, &c, &b, &m);
        lc_array_release(c.a);
        if (s) return s;
        out->copy_gbps = 2.0 * (double)n * 4.0 / (m.stats.median_ms * 1e-3) / 1e9;
        snprintf(out->copy_method, sizeof out->copy_method, "lc_scale, 1 GiB f32");
    }

    const lc_dtype float_types[] = {LC_F32, LC_F16, LC_BF16};
    for (size_t i = 0; i < sizeof float_types / sizeof float_types[0]; i++) {
        lc_dtype t = float_types[i];
        out->gemm_gflops[t] = probe_gemm(d, t, budget_s, &out->gemm_size[t]);
    }
    if (!(out->copy_gbps > 0) || !isfinite(out->copy_gbps))
        return lc_error(LC_ERR_INTERNAL, "lc_bench_probe: copy bandwidth came out as %g", out->copy_gbps);
    if (!(out->gemm_gflops[LC_F32] > 0) || !isfinite(out->gemm_gflops[LC_F32]))
        return lc_error(LC_ERR_INTERNAL, "lc_bench_probe: f32 GEMM rate could not be measured");
    return LC_OK;
}
