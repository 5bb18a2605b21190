/* Running a suite: the device list, the ceilings probe per device, the op and model suites,
 * the live progress bar, and the report document (bench/schema.json). */
#include "bench/bench_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Whether an environment variable is one of the switches that change what locus computes or how
 * fast: LOCUS_CUDA_*, LOCUS_NUM_THREADS, LOCUS_FUSE_QKV, LOCUS_RESIDUAL_GEMM; not the *_LOG ones
 * (printing only), nor any whose value looks like a path. */
static bool is_switch(const char *name, size_t len, const char *value) {
    if (strchr(value, '/') || (len > 4 && memcmp(name + len - 4, "_LOG", 4) == 0)) return false;
    static const char *const exact[] = {"LOCUS_NUM_THREADS", "LOCUS_FUSE_QKV", "LOCUS_RESIDUAL_GEMM"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (len == strlen(exact[i]) && memcmp(name, exact[i], len) == 0) return true;
    return len > 11 && memcmp(name, "LOCUS_CUDA_", 11) == 0;
}

/* The libraries a report's numbers depend on beyond the BLAS (machine.blas), and the switches set
 * for the run, so that a comparison of runs under different settings says which is which. */
static void add_runtime_details(cJSON *rt) {
    cJSON *libs = cJSON_AddObjectToObject(rt, "libraries");
    if (lc_cudnn_version()) cJSON_AddStringToObject(libs, "cudnn", lc_cudnn_version());
    cJSON *set = cJSON_AddObjectToObject(rt, "settings");
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || eq - *e > 63 || !is_switch(*e, (size_t)(eq - *e), eq + 1)) continue;
        char name[64];
        memcpy(name, *e, (size_t)(eq - *e));
        name[eq - *e] = 0;
        cJSON_AddStringToObject(set, name, eq + 1);
    }
}

#define MAX_DEVICES 8

struct bench_ctx {
    lc_bench_budget budget;
    lc_dtype dtype;
    bool progress, list_only;
    int done, total;
    double t0;
    int ndev;
    lc_device devs[MAX_DEVICES];
    lc_bench_ceilings ceil[MAX_DEVICES];
    bool have_ceil[MAX_DEVICES];
};

const lc_bench_budget *bench_budget(const bench_ctx *bc) { return &bc->budget; }
lc_dtype bench_dtype(const bench_ctx *bc) { return bc ? bc->dtype : LC_F32; }
bool bench_list_only(const bench_ctx *bc) { return bc->list_only; }

const char *bench_device_name(lc_device d, char *buf, size_t len) {
    if (d.kind == LC_DEVICE_CPU) snprintf(buf, len, "cpu");
    else snprintf(buf, len, "cuda:%d", d.index);
    return buf;
}

void bench_progress(bench_ctx *bc, const char *what) {
    bc->done++;
    if (!bc->progress) return;
    int width = 28, filled = bc->total ? (bc->done - 1) * width / bc->total : width; /* finished ones */
    if (filled > width) filled = width;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = 0;
    double el = bench_now() - bc->t0;
    fprintf(stderr, "\r\033[K[%s] %d/%d %3d:%02d  %.70s", bar, bc->done, bc->total, (int)el / 60, (int)el % 60, what);
    fflush(stderr);
}

static void progress_end(bench_ctx *bc) {
    if (!bc->progress) return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

/* ---- result objects ----------------------------------------------------------------------- */
cJSON *bench_result_new(const char *kind, const char *name, const char *args, lc_device d, lc_dtype t) {
    cJSON *r = cJSON_CreateObject();
    char dev[32];
    cJSON_AddStringToObject(r, "kind", kind);
    cJSON_AddStringToObject(r, "name", name);
    cJSON_AddStringToObject(r, "args", args ? args : "");
    cJSON_AddStringToObject(r, "device", bench_device_name(d, dev, sizeof dev));
    cJSON_AddStringToObject(r, "dtype", lc_dtype_name(t));
    cJSON_AddStringToObject(r, "variant", "locus");
    return r;
}

void bench_result_error(cJSON *r, const char *status, const char *message) {
    cJSON_DeleteItemFromObject(r, "status");
    cJSON_AddStringToObject(r, "status", status);
    cJSON_AddStringToObject(r, "error", message && message[0] ? message : "failed");
}

static void add_num_or_null(cJSON *o, const char *key, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

void bench_result_measurement(cJSON *r, const lc_bench_measurement *m) {
    const lc_bench_stats *s = &m->stats;
    cJSON_AddNumberToObject(r, "iterations", s->iterations);
    cJSON_AddNumberToObject(r, "warmup", s->warmup);
    cJSON_AddNumberToObject(r, "median_ms", s->median_ms);
    cJSON_AddNumberToObject(r, "p10_ms", s->p10_ms);
    cJSON_AddNumberToObject(r, "p90_ms", s->p90_ms);
    cJSON_AddNumberToObject(r, "mean_ms", s->mean_ms);
    cJSON_AddNumberToObject(r, "min_ms", s->min_ms);
    cJSON_AddNumberToObject(r, "max_ms", s->max_ms);
    cJSON_AddNumberToObject(r, "stddev_ms", s->stddev_ms);
    cJSON_AddNumberToObject(r, "median_ci_rel", s->median_ci_rel);
    cJSON_AddStringToObject(r, "timing", m->device_timing ? "device-events" : "host-clock");
    add_num_or_null(r, "peak_memory_bytes", m->peak_memory_bytes);
    add_num_or_null(r, "energy_j", m->energy_j);
    add_num_or_null(r, "inferences_per_j", m->energy_j > 0 ? 1.0 / m->energy_j : NAN);
    cJSON_AddNumberToObject(r, "h2d_bytes_per_run", m->h2d_bytes_per_run);
    cJSON_AddNumberToObject(r, "d2h_bytes_per_run", m->d2h_bytes_per_run);
}

static int device_slot(const bench_ctx *bc, lc_device d) {
    for (int i = 0; i < bc->ndev; i++)
        if (bc->devs[i].kind == d.kind && bc->devs[i].index == d.index) return i;
    return -1;
}

void bench_add_rates(bench_ctx *bc, lc_device d, cJSON *r, double flops, double bytes, double median_ms) {
    double sec = median_ms / 1000.0;
    cJSON_AddNumberToObject(r, "flops", flops);
    cJSON_AddNumberToObject(r, "bytes", bytes);
    double gflops = flops / sec / 1e9, gbps = bytes / sec / 1e9;
    add_num_or_null(r, "gflops", gflops);
    add_num_or_null(r, "gbps", gbps);
    add_num_or_null(r, "intensity", bytes > 0 ? flops / bytes : NAN);
    int k = device_slot(bc, d);
    if (k < 0 || !bc->have_ceil[k]) return;
    const lc_bench_ceilings *c = &bc->ceil[k];
    double peak = c->gemm_gflops[bc->dtype] > 0 ? c->gemm_gflops[bc->dtype] : c->gemm_gflops[LC_F32];
    double bw = c->copy_gbps;
    add_num_or_null(r, "pct_peak_flops", flops > 0 ? 100.0 * gflops / peak : NAN);
    add_num_or_null(r, "pct_peak_bw", 100.0 * gbps / bw);
    /* Roofline: the attainable rate at this intensity is min(peak, intensity x bandwidth); for
     * ops without arithmetic, the bound is the copy bandwidth. */
    double pct;
    if (flops > 0 && bytes > 0) {
        double roof = fmin(peak, flops / bytes * bw);
        pct = 100.0 * gflops / roof;
        cJSON_AddStringToObject(r, "bound", flops / bytes * bw < peak ? "memory" : "compute");
    } else {
        pct = 100.0 * gbps / bw;
        cJSON_AddStringToObject(r, "bound", "memory");
    }
    add_num_or_null(r, "pct_roofline", pct);
}

/* ---- the run ------------------------------------------------------------------------------ */
static const char *const quick_models[] = {"minilm-l6", "bert-base"};
static const int64_t quick_batches[] = {1, 8}, quick_seqs[] = {128};
static const char *const full_models[] = {"bert-base", "bert-large", "roberta-base", "xlm-roberta-base", "minilm-l6",
                                          "vit-base"};
static const int64_t full_batches[] = {1, 16, 32}, full_seqs[] = {32, 128, 512};

static void iso_now(char *buf, size_t len) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Split "a,b,c" into at most cap pointers into a copy (caller frees *storage). */
static int split_list(const char *s, char **storage, const char **out, int cap) {
    *storage = strdup(s);
    if (!*storage) return 0;
    int n = 0;
    for (char *tok = strtok(*storage, ","); tok && n < cap; tok = strtok(NULL, ",")) out[n++] = tok;
    return n;
}

lc_status lc_bench_run(const lc_bench_options *opt, char **json_out) {
    if (!opt || !json_out) return lc_error(LC_ERR_ARG, "lc_bench_run: NULL argument");
    bool full = opt->suite && strcmp(opt->suite, "full") == 0;
    if (opt->suite && strcmp(opt->suite, "full") != 0 && strcmp(opt->suite, "quick") != 0)
        return lc_error(LC_ERR_ARG, "lc_bench_run: unknown suite '%s' (quick or full)", opt->suite);
    lc_status cs = bench_check_op_names(opt->ops);
    if (cs) return cs;
    bench_ctx *bc = calloc(1, sizeof *bc);
    if (!bc) return lc_error(LC_ERR_NOMEM, "lc_bench_run: out of memory");
    bc->dtype = opt->dtype;
    bc->progress = opt->progress && isatty(2) && !opt->list_only;
    bc->list_only = opt->list_only;
    lc_bench_budget_default(&bc->budget);
    if (full) {
        bc->budget.warmup_s = 0.2;
        bc->budget.budget_s = 2.0;
        bc->budget.min_iterations = 5;
    } else {
        bc->budget.warmup_s = 0.05;
        bc->budget.budget_s = 0.25;
        bc->budget.min_iterations = 3;
        bc->budget.max_iterations = 200;
        bc->budget.target_ci_rel = 0.02;
    }
    if (opt->budget.budget_s > 0) bc->budget.budget_s = opt->budget.budget_s;
    if (opt->budget.warmup_s > 0) bc->budget.warmup_s = opt->budget.warmup_s;
    if (opt->budget.min_iterations > 0) bc->budget.min_iterations = opt->budget.min_iterations;
    if (opt->budget.max_iterations > 0) bc->budget.max_iterations = opt->budget.max_iterations;
    if (opt->budget.target_ci_rel > 0) bc->budget.target_ci_rel = opt->budget.target_ci_rel;
    if (opt->budget.energy_s > 0) bc->budget.energy_s = opt->budget.energy_s;

    /* devices: the given list, else every available one */
    if (opt->ndevices > 0) {
        for (int i = 0; i < opt->ndevices && i < MAX_DEVICES; i++) {
            if (!lc_device_available(opt->devices[i])) {
                char dn[32];
                free(bc);
                return lc_error(LC_ERR_DEVICE, "bench: device %s is not available in this build or machine",
                                bench_device_name(opt->devices[i], dn, sizeof dn));
            }
            bc->devs[bc->ndev++] = opt->devices[i];
        }
    } else {
        bc->devs[bc->ndev++] = LC_CPU;
        for (int i = 0; i < lc_cuda_device_count() && bc->ndev < MAX_DEVICES; i++)
            bc->devs[bc->ndev++] = (lc_device){LC_DEVICE_CUDA, i};
    }

    /* models and grid */
    char *mstore = NULL;
    const char *models[32];
    int nmodels;
    if (opt->models && strcasecmp(opt->models, "none") == 0) nmodels = 0;
    else if (opt->models) nmodels = split_list(opt->models, &mstore, models, 32);
    else if (full) {
        nmodels = (int)(sizeof full_models / sizeof *full_models);
        memcpy(models, full_models, sizeof full_models);
    } else {
        nmodels = (int)(sizeof quick_models / sizeof *quick_models);
        memcpy(models, quick_models, sizeof quick_models);
    }
    const int64_t *batches = opt->batches ? opt->batches : full ? full_batches : quick_batches;
    int nb = opt->batches ? opt->nbatches : full ? 3 : 2;
    const int64_t *seqs = opt->seqs ? opt->seqs : full ? full_seqs : quick_seqs;
    int ns = opt->seqs ? opt->nseqs : full ? 3 : 1;
    /* An explicit model list without an op list runs models only, and vice versa ("none" for one
     * of them leaves the suite's choice for the other). */
    bool ops_given = opt->ops && strcasecmp(opt->ops, "none") != 0;
    bool models_given = opt->models && strcasecmp(opt->models, "none") != 0;
    const char *ops = opt->ops;
    if (!opt->ops && models_given) ops = "none";
    if (!opt->models && ops_given) nmodels = 0;

    bc->total = bc->ndev * (bench_op_count(full, ops) + bench_model_count(nmodels, models, nb, ns) + (opt->skip_probe || opt->list_only ? 0 : 1));
    bc->t0 = bench_now();

    cJSON *doc = cJSON_CreateObject();
    char buf[64];
    cJSON_AddStringToObject(doc, "schema", "locus-bench");
    cJSON_AddNumberToObject(doc, "schema_version", LC_BENCH_SCHEMA_VERSION);
    iso_now(buf, sizeof buf);
    cJSON_AddStringToObject(doc, "created", buf);
    cJSON_AddStringToObject(doc, "command", opt->command ? opt->command : "");
    cJSON_AddStringToObject(doc, "suite", opt->ops || opt->models ? "custom" : full ? "full" : "quick");
    cJSON *rt = cJSON_AddObjectToObject(doc, "runtime");
    cJSON_AddStringToObject(rt, "name", "locus");
    cJSON_AddStringToObject(rt, "version", lc_version());
    cJSON_AddStringToObject(rt, "commit", lc_git_commit());
    add_runtime_details(rt);
    cJSON_AddItemToObject(doc, "machine", bench_machine_json());
    cJSON *budget = cJSON_AddObjectToObject(doc, "budget");
    cJSON_AddNumberToObject(budget, "warmup_s", bc->budget.warmup_s);
    cJSON_AddNumberToObject(budget, "budget_s", bc->budget.budget_s);
    cJSON_AddNumberToObject(budget, "min_iterations", bc->budget.min_iterations);
    cJSON_AddNumberToObject(budget, "max_iterations", bc->budget.max_iterations);
    cJSON_AddNumberToObject(budget, "target_ci_rel", bc->budget.target_ci_rel);
    cJSON_AddNumberToObject(budget, "energy_s", bc->budget.energy_s);
    cJSON *devices = cJSON_AddArrayToObject(doc, "devices");
    cJSON *results = cJSON_AddArrayToObject(doc, "results");

    for (int k = 0; k < bc->ndev; k++) {
        lc_device d = bc->devs[k];
        cJSON *dj = cJSON_CreateObject();
        cJSON_AddItemToArray(devices, dj);
        char dn[32], desc[256];
        cJSON_AddStringToObject(dj, "device", bench_device_name(d, dn, sizeof dn));
        if (lc_device_describe(d, desc, sizeof desc) != LC_OK) snprintf(desc, sizeof desc, "unknown");
        cJSON_AddStringToObject(dj, "name", desc);
        if (d.kind == LC_DEVICE_CPU) cJSON_AddNumberToObject(dj, "threads", lc_get_num_threads());
        lc_energy_meter *em = NULL;
        lc_energy_open(d, &em);
        cJSON *ej = cJSON_AddObjectToObject(dj, "energy");
        cJSON_AddBoolToObject(ej, "available", lc_energy_available(em));
        cJSON_AddStringToObject(ej, "source", lc_energy_source(em));
        lc_energy_close(em);
        if (!opt->skip_probe && !opt->list_only) {
            bench_progress(bc, "measuring the device's ceilings");
            if (lc_bench_probe(d, full ? 1.0 : 0.3, &bc->ceil[k]) == LC_OK) {
                bc->have_ceil[k] = true;
                const lc_bench_ceilings *c = &bc->ceil[k];
                cJSON *cj = cJSON_AddObjectToObject(dj, "ceilings");
                cJSON_AddNumberToObject(cj, "copy_gbps", c->copy_gbps);
                cJSON_AddStringToObject(cj, "copy_method", c->copy_method);
                cJSON *g = cJSON_AddObjectToObject(cj, "gemm_gflops");
                cJSON *gs = cJSON_AddObjectToObject(cj, "gemm_size");
                for (int t = 0; t < LC_DTYPE_COUNT; t++)
                    if (c->gemm_gflops[t] > 0) {
                        cJSON_AddNumberToObject(g, lc_dtype_name((lc_dtype)t), c->gemm_gflops[t]);
                        cJSON_AddNumberToObject(gs, lc_dtype_name((lc_dtype)t), (double)c->gemm_size[t]);
                    }
            } else {
                cJSON_AddStringToObject(dj, "ceilings_error", lc_last_error());
                lc_clear_error();
            }
        }
        bench_run_ops(bc, d, full, ops, results);
        bench_run_models(bc, d, nmodels, models, nb, batches, ns, seqs, results);
    }
    progress_end(bc);
    free(mstore);

    /* The engine's original contract: a single workload's headline figures at the top level. */
    if (cJSON_GetArraySize(results) == 1) {
        cJSON *r = cJSON_GetArrayItem(results, 0);
        const char *keys[] = {"median_ms", "p90_ms", "iterations", "gflops"};
        for (size_t i = 0; i < 4; i++) {
            cJSON *v = cJSON_GetObjectItem(r, keys[i]);
            if (v) cJSON_AddItemToObject(doc, keys[i], cJSON_Duplicate(v, 1));
        }
    }
    free(bc);
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    if (!text) return lc_error(LC_ERR_NOMEM, "lc_bench_run: out of memory printing the report");
    *json_out = text;
    return LC_OK;
}
