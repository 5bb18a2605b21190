/* Benchmark suite: statistics, the machine's ceilings, op and model suites, reports.
 *
 * A run produces one report: a JSON document following bench/schema.json ("locus-bench",
 * schema_version 1). Every writer (table, CSV, Markdown, HTML) and the comparison of several
 * runs read that document, so reports from the PyTorch and ONNX Runtime peers
 * (scripts/peers/) are handled exactly like locus's own. */
#ifndef LOCUS_BENCH_H
#define LOCUS_BENCH_H
#include "../locus.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LC_BENCH_SCHEMA_VERSION 1

/* ---- statistics ------------------------------------------------------------------------- */
typedef struct lc_bench_stats {
    int iterations; /* timed runs */
    int warmup;     /* untimed runs before them */
    double median_ms, p10_ms, p90_ms, mean_ms, min_ms, max_ms, stddev_ms;
    double median_ci_rel; /* half-width of the ~95% confidence interval of the median / median */
    double total_s;       /* wall time of the timed runs */
} lc_bench_stats;

/* Percentile q in [0, 100] of sorted samples, interpolated linearly between ranks (NumPy's
 * default). n must be > 0. */
double lc_bench_percentile(const double *sorted, size_t n, double q);
/* Statistics of n > 0 samples in milliseconds (samples may be in any order; not modified). */
lc_status lc_bench_stats_compute(const double *samples_ms, size_t n, lc_bench_stats *out);

/* ---- the timing loop -------------------------------------------------------------------- */
typedef struct lc_bench_budget {
    double warmup_s;       /* warm up for at least this long (and at least one run) */
    double budget_s;       /* time budget of the timed runs */
    int min_iterations;    /* at least this many timed runs, whatever the budget */
    int max_iterations;    /* at most this many */
    double target_ci_rel;  /* stop early once the median is known to this relative precision */
    double energy_s;       /* > 0: after the timed runs, run for at least this long between two reads of
                            * the device's energy counter (counters tick coarsely: NVML's every few tens
                            * of ms); 0: no energy figure */
} lc_bench_budget;
void lc_bench_budget_default(lc_bench_budget *b); /* 0.05 s, 1 s, 5, 1000, 0.01, energy 1 s */

/* One run of a workload; the loop synchronises the device after each run. */
typedef lc_status (*lc_bench_fn)(void *ctx);

typedef struct lc_bench_measurement {
    lc_bench_stats stats;
    bool device_timing;   /* times from device events (GPU) rather than host clock */
    double energy_j;      /* energy per run, NAN when no counter could be read or it did not advance */
    double peak_memory_bytes; /* peak resident bytes during the runs (host RSS or device), NAN if unknown */
    /* bytes copied between host and devices per timed run (lc_transfer_stats): 0 for work resident
     * where it runs; more for an op that goes through the host, or inputs uploaded on every call */
    double h2d_bytes_per_run, d2h_bytes_per_run;
} lc_bench_measurement;

/* Warm up, then time runs of fn on device d until the budget says stop. */
lc_status lc_bench_measure(lc_device d, lc_bench_fn fn, void *ctx, const lc_bench_budget *b, lc_bench_measurement *out);

/* ---- the machine's ceilings ------------------------------------------------------------- */
typedef struct lc_bench_ceilings {
    double copy_gbps;                  /* streaming copy, (read + written bytes) / s / 1e9 */
    double gemm_gflops[LC_DTYPE_COUNT]; /* peak GEMM rate per float dtype; 0 = not measured */
    int64_t gemm_size[LC_DTYPE_COUNT]; /* n of the n x n x n GEMM that reached it */
    char copy_method[64];              /* "memcpy, 2 threads, 128 MiB" ... */
} lc_bench_ceilings;

/* Measure the ceilings of a device (takes about budget_s per probe; 0 = default 0.3 s). */
lc_status lc_bench_probe(lc_device d, double budget_s, lc_bench_ceilings *out);

/* ---- energy counters -------------------------------------------------------------------- */
typedef struct lc_energy_meter lc_energy_meter;
/* Open the energy counter of a device: RAPL powercap for the CPU, NVML total energy for an
 * NVIDIA GPU. Never fails for lack of a counter: lc_energy_available() then says false and
 * lc_energy_source() says why in plain words. */
lc_status lc_energy_open(lc_device d, lc_energy_meter **out);
bool lc_energy_available(const lc_energy_meter *m);
const char *lc_energy_source(const lc_energy_meter *m); /* what is read, or why nothing can be */
/* Cumulative joules (monotonic within a run, wrap-around handled). */
lc_status lc_energy_read(lc_energy_meter *m, double *joules);
void lc_energy_close(lc_energy_meter *m);

/* ---- suites ----------------------------------------------------------------------------- */
typedef struct lc_bench_options {
    const char *suite;         /* "quick" (default), "full", or NULL with models/ops below */
    int ndevices;              /* 0 = every available device */
    lc_device devices[8];
    lc_dtype dtype;            /* op and model compute dtype, default LC_F32 */
    const char *ops;           /* comma-separated op names ("MatMul,Softmax"), "none", or NULL = suite's */
    const char *models;        /* comma-separated built-in names or checkpoint dirs, "none", NULL = suite's */
    const int64_t *batches;    /* model grid; NULL = suite's */
    int nbatches;
    const int64_t *seqs;
    int nseqs;
    lc_bench_budget budget;    /* zeros = the suite's */
    bool skip_probe;           /* do not measure the ceilings (percentages left out) */
    bool progress;             /* live progress bar on stderr */
    bool list_only;            /* list the workloads (status "skipped") without running anything */
    const char *command;       /* the command line, recorded in the report */
} lc_bench_options;

/* Run a suite and return the report as JSON text (malloc'd; free() it). */
lc_status lc_bench_run(const lc_bench_options *opt, char **json_out);

/* ---- reports ---------------------------------------------------------------------------- */
typedef enum lc_bench_format {
    LC_BENCH_TABLE = 0, /* aligned text for the terminal */
    LC_BENCH_JSON,
    LC_BENCH_CSV,
    LC_BENCH_MARKDOWN,
    LC_BENCH_HTML /* self-contained page with SVG charts, no network */
} lc_bench_format;

/* Write one or more reports (JSON texts; the first is the primary run, the others peers or
 * earlier runs) in a format. With several reports the table, Markdown and HTML outputs add the
 * ratios of each workload's median time to the primary's. */
lc_status lc_bench_write(FILE *f, lc_bench_format fmt, int nreports, const char *const *json_texts);

/* Count a report's results: ran and checked ("ok"), failed ("error" or "wrong-result"), and the
 * rest ("unsupported", "skipped"). Any pointer may be NULL. */
lc_status lc_bench_summary(const char *json_text, int *ok, int *failed, int *other);

/* Read a report file and check it follows the schema's required structure. */
lc_status lc_bench_load(const char *path, char **json_out);

#ifdef __cplusplus
}
#endif
#endif
