/* Statistics of the benchmark suite (percentiles, median confidence, errors on bad samples),
 * the adaptive timing loop (budget, iteration bounds, early stop), the ceilings probe (sane,
 * never zero or NaN) and the energy meters (available, or a reason in words). */
#include "locus.h"
#include "test_harness.h"

#include <string.h>
#include <time.h>

static void test_percentiles(void) {
    /* 1..101 shuffled: linear interpolation between ranks gives the k-th percentile = k + 1 */
    double s[101];
    for (int i = 0; i < 101; i++) s[i] = (double)((i * 37) % 101 + 1);
    lc_bench_stats st;
    CHECK_OK(lc_bench_stats_compute(s, 101, &st));
    CHECK(st.iterations == 101);
    CHECK(st.median_ms == 51.0);
    CHECK(fabs(st.p10_ms - 11.0) < 1e-12);
    CHECK(fabs(st.p90_ms - 91.0) < 1e-12);
    CHECK(st.min_ms == 1.0 && st.max_ms == 101.0);
    CHECK(fabs(st.mean_ms - 51.0) < 1e-12);
    /* sample standard deviation of 1..n is sqrt(n (n + 1) / 12) */
    CHECK(fabs(st.stddev_ms - sqrt(101.0 * 102.0 / 12.0)) < 1e-9);
    CHECK(st.median_ci_rel > 0 && st.median_ci_rel < 0.5);

    /* interpolation between two ranks: {1, 2, 3, 4}: p50 = 2.5, p10 = 1.3, p90 = 3.7 */
    double t[4] = {4, 1, 3, 2};
    CHECK_OK(lc_bench_stats_compute(t, 4, &st));
    CHECK(fabs(st.median_ms - 2.5) < 1e-12 && fabs(st.p10_ms - 1.3) < 1e-12 && fabs(st.p90_ms - 3.7) < 1e-12);
    CHECK(st.median_ci_rel == 1.0); /* too few samples to say */

    /* constant samples: no spread */
    double c[30];
    for (int i = 0; i < 30; i++) c[i] = 2.0;
    CHECK_OK(lc_bench_stats_compute(c, 30, &st));
    CHECK(st.median_ms == 2.0 && st.p10_ms == 2.0 && st.p90_ms == 2.0 && st.stddev_ms == 0.0 && st.median_ci_rel == 0.0);

    /* one sample */
    CHECK_OK(lc_bench_stats_compute(c, 1, &st));
    CHECK(st.median_ms == 2.0 && st.p90_ms == 2.0 && st.stddev_ms == 0.0);

    /* bad input */
    double bad[3] = {1, NAN, 2};
    CHECK(lc_bench_stats_compute(bad, 3, &st) == LC_ERR_ARG);
    bad[1] = -1;
    CHECK(lc_bench_stats_compute(bad, 3, &st) == LC_ERR_ARG);
    CHECK(lc_bench_stats_compute(bad, 0, &st) == LC_ERR_ARG);
    CHECK(lc_bench_stats_compute(NULL, 3, &st) == LC_ERR_ARG);
    double sorted[5] = {1, 2, 3, 4, 5};
    CHECK(lc_bench_percentile(sorted, 5, 0) == 1 && lc_bench_percentile(sorted, 5, 100) == 5);
    CHECK(fabs(lc_bench_percentile(sorted, 5, 25) - 2.0) < 1e-12);
}

typedef struct {
    int calls;
    double spin_s;
} work;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static lc_status spin(void *p) {
    work *w = p;
    w->calls++;
    double t0 = now_s();
    while (now_s() - t0 < w->spin_s) {
    }
    return LC_OK;
}

static lc_status failing(void *p) {
    (void)p;
    return lc_error(LC_ERR_INTERNAL, "workload failed on purpose");
}

static void test_measure(void) {
    lc_bench_budget b;
    lc_bench_budget_default(&b);
    b.warmup_s = 0.01;
    b.budget_s = 0.05;
    b.min_iterations = 5;
    b.max_iterations = 1000;
    work w = {0, 0.002};
    lc_bench_measurement m;
    double t0 = now_s();
    CHECK_OK(lc_bench_measure(LC_CPU, spin, &w, &b, &m));
    double el = now_s() - t0;
    printf("measure: %d warm-up + %d timed, median %.3f ms, p10 %.3f, p90 %.3f, %.3f s\n", m.stats.warmup,
           m.stats.iterations, m.stats.median_ms, m.stats.p10_ms, m.stats.p90_ms, el);
    CHECK(m.stats.warmup >= 1);
    CHECK(m.stats.iterations >= 5);
    CHECK(w.calls == m.stats.warmup + m.stats.iterations);
    CHECK(m.stats.median_ms >= 2.0 && m.stats.median_ms < 200.0);
    CHECK(m.stats.p10_ms <= m.stats.median_ms && m.stats.median_ms <= m.stats.p90_ms);
    CHECK(!m.device_timing);
    CHECK(el < 5.0); /* the budget bounds the run (generously: the machine is shared) */
    CHECK(isnan(m.peak_memory_bytes) || m.peak_memory_bytes > 0);

    /* max_iterations caps, min_iterations wins over a tiny budget */
    b.budget_s = 10.0;
    b.max_iterations = 7;
    b.target_ci_rel = 0; /* no early stop */
    w.calls = 0;
    w.spin_s = 0.0001;
    CHECK_OK(lc_bench_measure(LC_CPU, spin, &w, &b, &m));
    CHECK(m.stats.iterations == 7);
    b.budget_s = 1e-6;
    b.max_iterations = 100;
    b.min_iterations = 12;
    CHECK_OK(lc_bench_measure(LC_CPU, spin, &w, &b, &m));
    CHECK(m.stats.iterations == 12);

    /* early stop: a steady workload with a generous precision target stops well before the budget */
    b.budget_s = 30.0;
    b.min_iterations = 5;
    b.max_iterations = 100000;
    b.target_ci_rel = 0.5;
    w.spin_s = 0.0005;
    CHECK_OK(lc_bench_measure(LC_CPU, spin, &w, &b, &m));
    CHECK(m.stats.iterations >= 20 && m.stats.iterations < 100000);
    CHECK(m.stats.median_ci_rel <= 0.5);

    /* a failing workload's error comes back */
    CHECK(lc_bench_measure(LC_CPU, failing, NULL, &b, &m) == LC_ERR_INTERNAL);
    CHECK(strstr(lc_last_error(), "on purpose") != NULL);
}

static void test_probe(void) {
    lc_bench_ceilings c;
    CHECK_OK(lc_bench_probe(LC_CPU, 0.1, &c));
    printf("cpu ceilings: copy %.2f GB/s (%s), GEMM f32 %.1f GFLOP/s (n=%lld), f16 %.1f, bf16 %.1f\n", c.copy_gbps,
           c.copy_method, c.gemm_gflops[LC_F32], (long long)c.gemm_size[LC_F32], c.gemm_gflops[LC_F16], c.gemm_gflops[LC_BF16]);
    /* sane: a real machine copies between 0.1 GB/s and 100 TB/s and multiplies between 0.1 GFLOP/s and 10 PFLOP/s */
    CHECK(isfinite(c.copy_gbps) && c.copy_gbps > 0.1 && c.copy_gbps < 1e5);
    CHECK(isfinite(c.gemm_gflops[LC_F32]) && c.gemm_gflops[LC_F32] > 0.1 && c.gemm_gflops[LC_F32] < 1e7);
    CHECK(c.gemm_size[LC_F32] >= 256);
    for (int t = 0; t < LC_DTYPE_COUNT; t++) CHECK(isfinite(c.gemm_gflops[t]) && c.gemm_gflops[t] >= 0);
    CHECK(strlen(c.copy_method) > 0);
    for (int i = 0; i < lc_cuda_device_count(); i++) {
        lc_device d = {LC_DEVICE_CUDA, i};
        CHECK_OK(lc_bench_probe(d, 0.1, &c));
        printf("cuda:%d ceilings: copy %.1f GB/s, GEMM f32 %.1f, f16 %.1f, bf16 %.1f GFLOP/s\n", i, c.copy_gbps,
               c.gemm_gflops[LC_F32], c.gemm_gflops[LC_F16], c.gemm_gflops[LC_BF16]);
        CHECK(isfinite(c.copy_gbps) && c.copy_gbps > 1);
        CHECK(isfinite(c.gemm_gflops[LC_F32]) && c.gemm_gflops[LC_F32] > 1);
    }
    CHECK(lc_bench_probe(LC_CPU, 0.1, NULL) == LC_ERR_ARG);
}

static void test_energy(void) {
    lc_energy_meter *m = NULL;
    CHECK_OK(lc_energy_open(LC_CPU, &m));
    const char *src = lc_energy_source(m);
    printf("cpu energy: %s\n", src);
    CHECK(src && strlen(src) > 10);
    if (lc_energy_available(m)) {
        double a, b;
        CHECK_OK(lc_energy_read(m, &a));
        work w = {0, 0.05};
        spin(&w);
        CHECK_OK(lc_energy_read(m, &b));
        CHECK(isfinite(a) && isfinite(b) && b >= a);
    } else {
        double j;
        CHECK(strncmp(src, "not measured", 12) == 0);
        CHECK(lc_energy_read(m, &j) == LC_ERR_UNSUPPORTED);
    }
    lc_energy_close(m);
}

int main(void) {
    test_percentiles();
    test_measure();
    test_probe();
    test_energy();
    return TEST_RESULT();
}
