/* Internals of the benchmark suite shared by its files (not part of the public API). */
#ifndef LOCUS_BENCH_INTERNAL_H
#define LOCUS_BENCH_INTERNAL_H
#include "locus.h"

#include <cjson/cJSON.h>

/* Monotonic clock in seconds. */
double bench_now(void);

/* ---- device hooks (device_cuda.c) ----------------------------------------------------------
 * Device-side timing and device memory statistics where the device's backend allows them; they
 * return LC_ERR_UNSUPPORTED otherwise, and the suite then times with the host clock after
 * lc_synchronize() and reports device memory as unknown. The CPU needs none of them. */
/* Record a start event on the device's compute stream. */
lc_status lc_bench_device_timer_start(lc_device d);
/* Record a stop event, wait for it, and give the milliseconds between the two events. */
lc_status lc_bench_device_timer_stop(lc_device d, double *ms);
/* Peak bytes allocated by locus on the device since the last reset (reset_peak resets it first). */
lc_status lc_bench_device_memory(lc_device d, bool reset_peak, double *peak_bytes);

/* Host peak resident set: reset (where the kernel allows it) and read, in bytes (NAN if unknown). */
void bench_rss_peak_reset(void);
double bench_rss_peak(void);

/* ---- machine description ------------------------------------------------------------------ */
cJSON *bench_machine_json(void);
/* NVIDIA driver version through NVML, or NULL. */
const char *bench_nvml_driver(void);

/* ---- ops and models ----------------------------------------------------------------------- */
typedef struct bench_ctx bench_ctx; /* the running suite: devices, ceilings, progress */

/* Names of the ops in the operation suite, in order; NULL-terminated. */
extern const char *const bench_op_names[];
/* LC_ERR_ARG naming the first unknown op of a comma-separated list. */
lc_status bench_check_op_names(const char *names);
/* Number of op cases (shapes) the suite would run for a filter ("quick"/"full" and names). */
int bench_op_count(bool full, const char *names);
/* Run the op cases for one device, appending result objects to `results`. */
void bench_run_ops(bench_ctx *bc, lc_device d, bool full, const char *names, cJSON *results);

int bench_model_count(int nmodels, const char *const *models, int nb, int ns);
void bench_run_models(bench_ctx *bc, lc_device d, int nmodels, const char *const *models, int nb,
                      const int64_t *batches, int ns, const int64_t *seqs, cJSON *results);

/* Suite plumbing used by ops and models. */
void bench_progress(bench_ctx *bc, const char *what);
const lc_bench_budget *bench_budget(const bench_ctx *bc);
lc_dtype bench_dtype(const bench_ctx *bc);
bool bench_list_only(const bench_ctx *bc);
/* Fill the derived figures of a result (achieved rates, percentages of the device's ceilings). */
void bench_add_rates(bench_ctx *bc, lc_device d, cJSON *r, double flops, double bytes, double median_ms);
/* The common fields of a result object. */
cJSON *bench_result_new(const char *kind, const char *name, const char *args, lc_device d, lc_dtype t);
void bench_result_measurement(cJSON *r, const lc_bench_measurement *m);
void bench_result_error(cJSON *r, const char *status, const char *message);
const char *bench_device_name(lc_device d, char *buf, size_t len); /* "cpu", "cuda:0" */

/* ---- reports ---------------------------------------------------------------------------------- */
/* Key identifying a workload across runs: "op|MatMul|dim1=..|cpu|f32" or "model|bert-base|1x128|cpu|f32". */
void bench_result_key(const cJSON *r, char *buf, size_t len);
/* "locus", "pytorch eager", ... from a report's runtime object plus a result's variant. */
void bench_runtime_label(const cJSON *report, const cJSON *r, char *buf, size_t len);
lc_status bench_check_report(const cJSON *doc, const char *what);
lc_status bench_write_text(FILE *f, lc_bench_format fmt, int n, cJSON *const *docs);
lc_status bench_write_html(FILE *f, int n, cJSON *const *docs);
double bench_num(const cJSON *o, const char *key); /* NAN when absent or null */
const char *bench_str(const cJSON *o, const char *key); /* "" when absent */

#endif
