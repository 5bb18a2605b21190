/* Statistics of timed runs and the adaptive timing loop: warm up, then time runs until the
 * median is stable (its confidence interval narrow) or the time budget is spent. */
#include "bench/bench_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double lc_bench_percentile(const double *sorted, size_t n, double q) {
    if (n == 0) return NAN;
    if (q <= 0) return sorted[0];
    if (q >= 100) return sorted[n - 1];
    double pos = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - (double)lo;
    return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

/* Half-width of the distribution-free ~95% confidence interval of the median (order statistics
 * n/2 -+ 1.96 sqrt(n)/2), relative to the median. Wide (1) for fewer than 6 samples. */
static double median_ci_rel(const double *sorted, size_t n, double median) {
    if (n < 6 || !(median > 0)) return 1.0;
    double h = 0.98 * sqrt((double)n);
    long lo = (long)floor((double)n / 2.0 - h), hi = (long)ceil((double)n / 2.0 + h);
    if (lo < 0) lo = 0;
    if (hi > (long)n - 1) hi = (long)n - 1;
    return (sorted[hi] - sorted[lo]) / (2.0 * median);
}

lc_status lc_bench_stats_compute(const double *samples_ms, size_t n, lc_bench_stats *out) {
    if (!samples_ms || !out || n == 0) return lc_error(LC_ERR_ARG, "lc_bench_stats_compute: no samples");
    double *s = malloc(n * sizeof *s);
    if (!s) return lc_error(LC_ERR_NOMEM, "lc_bench_stats_compute: out of memory");
    memcpy(s, samples_ms, n * sizeof *s);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(s[i]) || s[i] < 0) {
            free(s);
            return lc_error(LC_ERR_ARG, "lc_bench_stats_compute: sample %zu is not a finite non-negative time", i);
        }
    qsort(s, n, sizeof *s, cmp_double);
    memset(out, 0, sizeof *out);
    out->iterations = (int)n;
    out->median_ms = lc_bench_percentile(s, n, 50);
    out->p10_ms = lc_bench_percentile(s, n, 10);
    out->p90_ms = lc_bench_percentile(s, n, 90);
    out->min_ms = s[0];
    out->max_ms = s[n - 1];
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++) sum += s[i];
    out->mean_ms = sum / (double)n;
    for (size_t i = 0; i < n; i++) sq += (s[i] - out->mean_ms) * (s[i] - out->mean_ms);
    out->stddev_ms = n > 1 ? sqrt(sq / (double)(n - 1)) : 0.0;
    out->median_ci_rel = median_ci_rel(s, n, out->median_ms);
    out->total_s = sum / 1000.0;
    free(s);
    return LC_OK;
}

void lc_bench_budget_default(lc_bench_budget *b) {
    b->warmup_s = 0.05;
    b->budget_s = 1.0;
    b->min_iterations = 5;
    b->max_iterations = 1000;
    b->target_ci_rel = 0.01;
    b->energy_s = 1.0;
}

/* ---- host peak memory: VmHWM, reset through /proc/self/clear_refs ("5", Linux >= 4.0) ----- */
void bench_rss_peak_reset(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

double bench_rss_peak(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return NAN;
    char line[256];
    double kb = NAN;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtod(line + 6, NULL);
            break;
        }
    fclose(f);
    return kb * 1024.0;
}

/* ---- the loop ---------------------------------------------------------------------------- */
static lc_status run_once(lc_device d, lc_bench_fn fn, void *ctx, bool *use_events, double *ms) {
    if (*use_events && lc_bench_device_timer_start(d) != LC_OK) *use_events = false;
    double t0 = bench_now();
    lc_status s = fn(ctx);
    if (s) return s;
    if (*use_events) {
        if (lc_bench_device_timer_stop(d, ms) == LC_OK) return LC_OK;
        *use_events = false;
    }
    if ((s = lc_synchronize(d))) return s;
    *ms = (bench_now() - t0) * 1000.0;
    return LC_OK;
}

lc_status lc_bench_measure(lc_device d, lc_bench_fn fn, void *ctx, const lc_bench_budget *bud, lc_bench_measurement *out) {
    if (!fn || !out) return lc_error(LC_ERR_ARG, "lc_bench_measure: NULL argument");
    lc_bench_budget b;
    lc_bench_budget_default(&b);
    if (bud) b = *bud;
    if (b.min_iterations < 1) b.min_iterations = 1;
    if (b.max_iterations < b.min_iterations) b.max_iterations = b.min_iterations;
    memset(out, 0, sizeof *out);
    out->energy_j = NAN;
    out->peak_memory_bytes = NAN;
    bool use_events = d.kind != LC_DEVICE_CPU;
    lc_status s;
    double ms = 0;

    /* Warm-up: at least one run and at least warmup_s. */
    double t0 = bench_now();
    int warm = 0;
    do {
        if ((s = run_once(d, fn, ctx, &use_events, &ms))) return s;
        warm++;
    } while (bench_now() - t0 < b.warmup_s && warm < 1000);

    double mem_peak = NAN;
    if (d.kind == LC_DEVICE_CPU) bench_rss_peak_reset();
    else if (lc_bench_device_memory(d, true, &mem_peak) != LC_OK) mem_peak = NAN;

    size_t cap = 64, n = 0;
    double *samples = malloc(cap * sizeof *samples);
    if (!samples) return lc_error(LC_ERR_NOMEM, "lc_bench_measure: out of memory");
    lc_transfer_stats x0, x1;
    lc_transfer_stats_get(&x0);
    double start = bench_now();
    for (;;) {
        if ((s = run_once(d, fn, ctx, &use_events, &ms))) break;
        if (n == cap) {
            double *t = realloc(samples, (cap *= 2) * sizeof *samples);
            if (!t) {
                s = lc_error(LC_ERR_NOMEM, "lc_bench_measure: out of memory");
                break;
            }
            samples = t;
        }
        samples[n++] = ms;
        double elapsed = bench_now() - start;
        if ((int)n >= b.max_iterations) break;
        if ((int)n < b.min_iterations) continue;
        if (elapsed >= b.budget_s) break;
        /* Early stop: with enough samples, a median known to target_ci_rel is stable. */
        if (n >= 20 && n % 10 == 0) {
            lc_bench_stats st;
            if (lc_bench_stats_compute(samples, n, &st) == LC_OK && st.median_ci_rel <= b.target_ci_rel) break;
        }
    }
    double wall = bench_now() - start;
    lc_transfer_stats_get(&x1);
    if (n) {
        out->h2d_bytes_per_run = (double)(x1.host_to_device_bytes - x0.host_to_device_bytes) / (double)n;
        out->d2h_bytes_per_run = (double)(x1.device_to_host_bytes - x0.device_to_host_bytes) / (double)n;
    }
    if (s == LC_OK) s = lc_bench_stats_compute(samples, n, &out->stats);
    free(samples);
    if (s) return s;
    /* Energy: a window of its own, long against the counter's update period, between two reads
     * taken with the device idle (synchronised). A counter that did not move gives no figure. */
    if (b.energy_s > 0) {
        lc_energy_meter *em = NULL;
        double e0, e1;
        if (lc_energy_open(d, &em) == LC_OK && lc_energy_available(em) && lc_synchronize(d) == LC_OK &&
            lc_energy_read(em, &e0) == LC_OK) {
            double t0e = bench_now();
            int runs = 0;
            while (s == LC_OK && (runs < 3 || bench_now() - t0e < b.energy_s)) {
                s = fn(ctx);
                runs++;
            }
            if (s == LC_OK) s = lc_synchronize(d);
            if (s == LC_OK && lc_energy_read(em, &e1) == LC_OK && e1 > e0) out->energy_j = (e1 - e0) / runs;
        }
        lc_energy_close(em);
        lc_clear_error();
        if (s) return s;
    }
    out->stats.total_s = wall;
    out->stats.warmup = warm;
    out->device_timing = use_events;
    if (d.kind == LC_DEVICE_CPU) out->peak_memory_bytes = bench_rss_peak();
    else if (lc_bench_device_memory(d, false, &mem_peak) == LC_OK) out->peak_memory_bytes = mem_peak;
    return LC_OK;
}
