/* Text reports of one or more benchmark documents: the terminal table, CSV and Markdown, the
 * side-by-side comparison (ratios of median times) and loading/checking report files. */
#include "bench/bench_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double bench_num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *bench_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

void bench_result_key(const cJSON *r, char *buf, size_t len) {
    snprintf(buf, len, "%s|%s|%s|%s|%s", bench_str(r, "kind"), bench_str(r, "name"), bench_str(r, "args"),
             bench_str(r, "device"), bench_str(r, "dtype"));
}

void bench_runtime_label(const cJSON *report, const cJSON *r, char *buf, size_t len) {
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(report, "runtime");
    const char *name = bench_str(rt, "name"), *variant = bench_str(r, "variant");
    if (!variant[0] || strcmp(variant, name) == 0 || strcmp(variant, "locus") == 0) snprintf(buf, len, "%s", name);
    else snprintf(buf, len, "%s %s", name, variant);
    /* the run's LOCUS_* switches, so that runs of one program under different settings are told apart */
    const cJSON *set, *settings = cJSON_GetObjectItemCaseSensitive(rt, "settings");
    bool first = true;
    cJSON_ArrayForEach(set, settings) {
        if (!cJSON_IsString(set)) continue;
        size_t used = strlen(buf);
        if (used + 1 >= len) break;
        snprintf(buf + used, len - used, "%s%s=%s", first ? " [" : " ", set->string, set->valuestring);
        first = false;
    }
    if (!first) {
        size_t used = strlen(buf);
        if (used + 1 < len) snprintf(buf + used, len - used, "]");
    }
}

/* The structural part of bench/schema.json that every reader relies on. */
lc_status bench_check_report(const cJSON *doc, const char *what) {
    if (!cJSON_IsObject(doc)) return lc_error(LC_ERR_FORMAT, "%s: not a JSON object", what);
    if (strcmp(bench_str(doc, "schema"), "locus-bench") != 0)
        return lc_error(LC_ERR_FORMAT, "%s: not a locus-bench report (\"schema\" is not \"locus-bench\")", what);
    double v = bench_num(doc, "schema_version");
    if (v != LC_BENCH_SCHEMA_VERSION)
        return lc_error(LC_ERR_FORMAT, "%s: schema_version %g is not the supported %d", what, v, LC_BENCH_SCHEMA_VERSION);
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(doc, "runtime");
    if (!cJSON_IsObject(rt) || !bench_str(rt, "name")[0]) return lc_error(LC_ERR_FORMAT, "%s: \"runtime.name\" is missing", what);
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "machine")))
        return lc_error(LC_ERR_FORMAT, "%s: \"machine\" is missing", what);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "results");
    if (!cJSON_IsArray(res)) return lc_error(LC_ERR_FORMAT, "%s: \"results\" is not an array", what);
    int i = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, res) {
        const char *kind = bench_str(r, "kind");
        if (strcmp(kind, "op") != 0 && strcmp(kind, "model") != 0)
            return lc_error(LC_ERR_FORMAT, "%s: results[%d].kind must be \"op\" or \"model\"", what, i);
        if (!bench_str(r, "name")[0] || !bench_str(r, "device")[0] || !bench_str(r, "status")[0])
            return lc_error(LC_ERR_FORMAT, "%s: results[%d] lacks name, device or status", what, i);
        if (strcmp(bench_str(r, "status"), "ok") == 0 && !(bench_num(r, "median_ms") >= 0))
            return lc_error(LC_ERR_FORMAT, "%s: results[%d] is ok but has no median_ms", what, i);
        i++;
    }
    return LC_OK;
}

lc_status lc_bench_summary(const char *json_text, int *ok, int *failed, int *other) {
    if (!json_text) return lc_error(LC_ERR_ARG, "lc_bench_summary: NULL argument");
    cJSON *doc = cJSON_Parse(json_text);
    if (!doc) return lc_error(LC_ERR_FORMAT, "lc_bench_summary: not valid JSON");
    int n_ok = 0, n_failed = 0, n_other = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "results")) {
        const char *st = bench_str(r, "status");
        if (!strcmp(st, "ok")) n_ok++;
        else if (!strcmp(st, "error") || !strcmp(st, "wrong-result")) n_failed++;
        else n_other++;
    }
    cJSON_Delete(doc);
    if (ok) *ok = n_ok;
    if (failed) *failed = n_failed;
    if (other) *other = n_other;
    return LC_OK;
}

lc_status lc_bench_load(const char *path, char **json_out) {
    if (!path || !json_out) return lc_error(LC_ERR_ARG, "lc_bench_load: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f) return lc_error(LC_ERR_IO, "%s: cannot open", path);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *t = realloc(buf, (cap *= 2) + 1);
            if (!t) {
                free(buf);
                buf = NULL;
            }
            buf = t;
        }
    }
    bool err = ferror(f);
    fclose(f);
    if (!buf) return lc_error(LC_ERR_NOMEM, "%s: out of memory", path);
    if (err) {
        free(buf);
        return lc_error(LC_ERR_IO, "%s: read error", path);
    }
    buf[n] = 0;
    cJSON *doc = cJSON_ParseWithLength(buf, n);
    if (!doc) {
        free(buf);
        return lc_error(LC_ERR_FORMAT, "%s: not valid JSON", path);
    }
    lc_status s = bench_check_report(doc, path);
    cJSON_Delete(doc);
    if (s) {
        free(buf);
        return s;
    }
    *json_out = buf;
    return LC_OK;
}

/* ---- formatting helpers --------------------------------------------------------------------- */
static void fmt_num(char *buf, size_t len, double v, int prec) {
    if (!isfinite(v)) snprintf(buf, len, "-");
    else if (fabs(v) >= 1e6) snprintf(buf, len, "%.3g", v);
    else snprintf(buf, len, "%.*f", prec, v);
}

static void fmt_ms(char *buf, size_t len, double v) {
    if (!isfinite(v)) snprintf(buf, len, "-");
    else if (v < 0.1) snprintf(buf, len, "%.4f", v);
    else if (v < 10) snprintf(buf, len, "%.3f", v);
    else snprintf(buf, len, "%.1f", v);
}

#define MAXCOLS 24
typedef struct {
    FILE *f;
    lc_bench_format fmt;
    int ncols;
    const char *head[MAXCOLS];
    int width[MAXCOLS];
    bool left[MAXCOLS];
} table;

static void csv_cell(FILE *f, const char *s) {
    if (strpbrk(s, ",\"\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
}

static void row(table *t, char cells[][96]) {
    for (int i = 0; i < t->ncols; i++) {
        if (t->fmt == LC_BENCH_MARKDOWN) {
            fprintf(t->f, "| %s ", cells[i]);
        } else if (t->fmt == LC_BENCH_CSV) {
            if (i) fputc(',', t->f);
            csv_cell(t->f, cells[i]);
        } else {
            fprintf(t->f, t->left[i] ? "%-*s" : "%*s", t->width[i], cells[i]);
            if (i + 1 < t->ncols) fputs("  ", t->f);
        }
    }
    fputs(t->fmt == LC_BENCH_MARKDOWN ? "|\n" : "\n", t->f);
}

static void header(table *t) {
    char cells[MAXCOLS][96];
    for (int i = 0; i < t->ncols; i++) snprintf(cells[i], sizeof cells[i], "%s", t->head[i]);
    row(t, cells);
    if (t->fmt == LC_BENCH_MARKDOWN) {
        for (int i = 0; i < t->ncols; i++) fputs(t->left[i] ? "|---" : "|---:", t->f);
        fputs("|\n", t->f);
    }
}

static void col(table *t, const char *h, int w, bool left) {
    t->head[t->ncols] = h;
    t->width[t->ncols] = w;
    t->left[t->ncols] = left;
    t->ncols++;
}

/* ---- one report ----------------------------------------------------------------------------- */
static void machine_lines(FILE *f, lc_bench_format fmt, const cJSON *doc) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "machine");
    const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(m, "cpu");
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(doc, "runtime");
    bool md = fmt == LC_BENCH_MARKDOWN;
    const char *bullet = md ? "- " : "  ";
    fprintf(f, "%s%s %s%s%s, suite %s, %s\n", md ? "### " : "", bench_str(rt, "name"), bench_str(rt, "version"),
            bench_str(rt, "commit")[0] ? " @ " : "", bench_str(rt, "commit"), bench_str(doc, "suite"),
            bench_str(doc, "created"));
    if (md) fputc('\n', f);
    if (bench_str(doc, "command")[0]) fprintf(f, md ? "%scommand: `%s`\n" : "%scommand: %s\n", bullet, bench_str(doc, "command"));
    fprintf(f, "%sCPU: %s, %g cores (%g threads used), %.1f GiB memory, %s\n", bullet, bench_str(cpu, "model"),
            bench_num(cpu, "cores"), bench_num(cpu, "threads_used"), bench_num(m, "memory_bytes") / 1073741824.0,
            bench_str(m, "os"));
    fprintf(f, "%sBLAS: %s; compiler: %s\n", bullet, bench_str(m, "blas"), bench_str(m, "compiler"));
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(m, "gpus")) {
        fprintf(f, "%sGPU %g: %s, driver %s\n", bullet, bench_num(g, "index"), bench_str(g, "name"),
                bench_str(g, "driver")[0] ? bench_str(g, "driver") : "unknown");
    }
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "devices")) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(d, "ceilings");
        fprintf(f, "%s%s (%s): ", bullet, bench_str(d, "device"), bench_str(d, "name"));
        if (c) {
            fprintf(f, "copy %.1f GB/s", bench_num(c, "copy_gbps"));
            const cJSON *gf;
            cJSON_ArrayForEach(gf, cJSON_GetObjectItemCaseSensitive(c, "gemm_gflops"))
                fprintf(f, ", GEMM %s %.1f GFLOP/s", gf->string, gf->valuedouble);
        } else {
            fprintf(f, "ceilings not measured");
        }
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(d, "energy");
        fprintf(f, "; energy: %s\n", e ? bench_str(e, "source") : "not reported");
    }
    fputc('\n', f);
}

static void op_table(FILE *f, lc_bench_format fmt, const cJSON *doc, const char *kind) {
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "results"), *r;
    bool any = false;
    cJSON_ArrayForEach(r, res) any |= strcmp(bench_str(r, "kind"), kind) == 0;
    if (!any) return;
    bool models = strcmp(kind, "model") == 0;
    table t = {.f = f, .fmt = fmt};
    if (fmt == LC_BENCH_MARKDOWN) fprintf(f, "#### %s\n\n", models ? "Models" : "Operations");
    else fprintf(f, "%s\n", models ? "Models" : "Operations");
    col(&t, models ? "model" : "op", models ? 16 : 25, true);
    col(&t, models ? "batch x seq" : "shapes", models ? 11 : 54, true);
    col(&t, "dev", 6, true);
    col(&t, "dtype", 5, true);
    col(&t, "median ms", 9, false);
    col(&t, "p10", 8, false);
    col(&t, "p90", 8, false);
    col(&t, "n", 4, false);
    col(&t, "GFLOP/s", 8, false);
    col(&t, "GB/s", 7, false);
    col(&t, "% roof", 6, false);
    if (models) {
        col(&t, "tokens/s", 9, false);
        col(&t, "seq/s", 7, false);
        col(&t, "peak MiB", 8, false);
        col(&t, "J/inf", 6, false);
    }
    col(&t, "check", 7, true);
    header(&t);
    cJSON_ArrayForEach(r, res) {
        if (strcmp(bench_str(r, "kind"), kind) != 0) continue;
        char c[MAXCOLS][96];
        int i = 0;
        snprintf(c[i++], 96, "%s", bench_str(r, "name"));
        if (models) snprintf(c[i++], 96, "%gx%g", bench_num(r, "batch"), bench_num(r, "seq"));
        else snprintf(c[i++], 96, "%s", bench_str(r, "args"));
        snprintf(c[i++], 96, "%s", bench_str(r, "device"));
        snprintf(c[i++], 96, "%s", bench_str(r, "dtype"));
        const char *status = bench_str(r, "status");
        if (strcmp(status, "ok") != 0) {
            snprintf(c[i++], 96, "%s", status);
            while (i < t.ncols - 1) snprintf(c[i++], 96, "-");
        } else {
            fmt_ms(c[i++], 96, bench_num(r, "median_ms"));
            fmt_ms(c[i++], 96, bench_num(r, "p10_ms"));
            fmt_ms(c[i++], 96, bench_num(r, "p90_ms"));
            fmt_num(c[i++], 96, bench_num(r, "iterations"), 0);
            fmt_num(c[i++], 96, bench_num(r, "gflops"), 1);
            fmt_num(c[i++], 96, bench_num(r, "gbps"), 1);
            fmt_num(c[i++], 96, bench_num(r, "pct_roofline"), 0);
            if (models) {
                fmt_num(c[i++], 96, bench_num(r, "tokens_per_s"), 0);
                fmt_num(c[i++], 96, bench_num(r, "sequences_per_s"), 1);
                fmt_num(c[i++], 96, bench_num(r, "peak_memory_bytes") / 1048576.0, 0);
                fmt_num(c[i++], 96, bench_num(r, "energy_j"), 2);
            }
        }
        const cJSON *chk = cJSON_GetObjectItemCaseSensitive(r, "check");
        snprintf(c[i++], 96, "%s", chk ? bench_str(chk, "status") : "-");
        row(&t, c);
    }
    fputc('\n', f);
    /* the reasons for anything that did not run */
    cJSON_ArrayForEach(r, res) {
        if (strcmp(bench_str(r, "kind"), kind) != 0 || !bench_str(r, "error")[0]) continue;
        fprintf(f, "%s%s %s: %s: %s\n", fmt == LC_BENCH_MARKDOWN ? "- " : "  ", bench_str(r, "name"), bench_str(r, "args"),
                bench_str(r, "status"), bench_str(r, "error"));
    }
    /* work whose timed runs copied data between host and device (an op without a kernel on that
     * device runs through the host): the time includes the copies */
    cJSON_ArrayForEach(r, res) {
        if (strcmp(bench_str(r, "kind"), kind) != 0) continue;
        double up = bench_num(r, "h2d_bytes_per_run"), down = bench_num(r, "d2h_bytes_per_run");
        if (!(up > 0) && !(down > 0)) continue;
        fprintf(f, "%s%s %s (%s): each run copied %.3g MB host to device and %.3g MB device to host; the time includes them\n",
                fmt == LC_BENCH_MARKDOWN ? "- " : "  ", bench_str(r, "name"), bench_str(r, "args"), bench_str(r, "device"),
                up > 0 ? up / 1e6 : 0.0, down > 0 ? down / 1e6 : 0.0);
    }
}

/* ---- several reports: ratios ---------------------------------------------------------------- */
typedef struct {
    int doc;
    char variant[48];
    char label[96];
} runtime_col;

static int runtime_columns(int n, cJSON *const *docs, runtime_col *cols, int cap) {
    int nc = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[i], "results")) {
            const char *v = bench_str(r, "variant");
            bool seen = false;
            for (int k = 0; k < nc; k++) seen |= cols[k].doc == i && strcmp(cols[k].variant, v) == 0;
            if (seen || nc == cap) continue;
            cols[nc].doc = i;
            snprintf(cols[nc].variant, sizeof cols[nc].variant, "%s", v);
            bench_runtime_label(docs[i], r, cols[nc].label, sizeof cols[nc].label);
            nc++;
        }
    }
    return nc;
}

static const cJSON *find_result(const cJSON *doc, const char *key, const char *variant) {
    const cJSON *r;
    char k[512];
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "results")) {
        if (strcmp(bench_str(r, "variant"), variant) != 0) continue;
        bench_result_key(r, k, sizeof k);
        if (strcmp(k, key) == 0) return r;
    }
    return NULL;
}

static void compare_table(FILE *f, lc_bench_format fmt, int n, cJSON *const *docs) {
    runtime_col cols[16];
    int nc = runtime_columns(n, docs, cols, 8);
    if (nc < 2) return;
    table t = {.f = f, .fmt = fmt};
    if (fmt == LC_BENCH_MARKDOWN) fprintf(f, "#### Side by side (median ms; x = time / %s's time, > 1 means %s is faster)\n\n", cols[0].label, cols[0].label);
    else if (fmt == LC_BENCH_TABLE) fprintf(f, "Side by side (median ms; xN = time / %s's time, > 1: %s is faster)\n", cols[0].label, cols[0].label);
    col(&t, "workload", 52, true);
    col(&t, "dev", 6, true);
    static char heads[16][2][96];
    for (int k = 0; k < nc; k++) {
        snprintf(heads[k][0], 96, "%s", cols[k].label);
        col(&t, heads[k][0], 12, false);
        if (k > 0) {
            snprintf(heads[k][1], 96, "x %s", cols[k].label);
            col(&t, heads[k][1], 8, false);
        }
    }
    header(&t);
    /* rows: every workload of the primary runtime, then ones only peers ran */
    for (int pass = 0; pass < nc; pass++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[cols[pass].doc], "results")) {
            if (strcmp(bench_str(r, "variant"), cols[pass].variant) != 0) continue;
            char key[512];
            bench_result_key(r, key, sizeof key);
            bool earlier = false;
            for (int k = 0; k < pass && !earlier; k++) earlier = find_result(docs[cols[k].doc], key, cols[k].variant) != NULL;
            if (earlier) continue;
            char c[MAXCOLS][96];
            int i = 0;
            if (strcmp(bench_str(r, "kind"), "model") == 0)
                snprintf(c[i++], 96, "%s %gx%g", bench_str(r, "name"), bench_num(r, "batch"), bench_num(r, "seq"));
            else
                snprintf(c[i++], 96, "%s %s", bench_str(r, "name"), bench_str(r, "args"));
            snprintf(c[i++], 96, "%s", bench_str(r, "device"));
            double base = NAN;
            for (int k = 0; k < nc; k++) {
                const cJSON *o = find_result(docs[cols[k].doc], key, cols[k].variant);
                double ms = o && strcmp(bench_str(o, "status"), "ok") == 0 ? bench_num(o, "median_ms") : NAN;
                if (k == 0) base = ms;
                fmt_ms(c[i++], 96, ms);
                if (k > 0) {
                    if (isfinite(ms) && isfinite(base) && base > 0) snprintf(c[i++], 96, "%.2f", ms / base);
                    else snprintf(c[i++], 96, "-");
                }
            }
            row(&t, c);
        }
    }
    fputc('\n', f);
}

static void csv_all(FILE *f, int n, cJSON *const *docs) {
    static const char *num_keys[] = {"batch", "seq", "median_ms", "p10_ms", "p90_ms", "mean_ms", "min_ms", "max_ms",
                                     "iterations", "flops", "bytes", "gflops", "gbps", "intensity", "pct_peak_flops",
                                     "pct_peak_bw", "pct_roofline", "tokens_per_s", "sequences_per_s",
                                     "peak_memory_bytes", "energy_j", "inferences_per_j"};
    const size_t nk = sizeof num_keys / sizeof *num_keys;
    fputs("runtime,variant,kind,name,args,device,dtype,status,check", f);
    for (size_t k = 0; k < nk; k++) fprintf(f, ",%s", num_keys[k]);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        const cJSON *r, *rt = cJSON_GetObjectItemCaseSensitive(docs[i], "runtime");
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[i], "results")) {
            const char *cells[] = {bench_str(rt, "name"), bench_str(r, "variant"), bench_str(r, "kind"), bench_str(r, "name"),
                                   bench_str(r, "args"), bench_str(r, "device"), bench_str(r, "dtype"), bench_str(r, "status"),
                                   bench_str(cJSON_GetObjectItemCaseSensitive(r, "check"), "status")};
            for (size_t k = 0; k < sizeof cells / sizeof *cells; k++) {
                if (k) fputc(',', f);
                csv_cell(f, cells[k]);
            }
            for (size_t k = 0; k < nk; k++) {
                double v = bench_num(r, num_keys[k]);
                if (isfinite(v)) fprintf(f, ",%.9g", v);
                else fputc(',', f);
            }
            fputc('\n', f);
        }
    }
}

lc_status bench_write_text(FILE *f, lc_bench_format fmt, int n, cJSON *const *docs) {
    if (fmt == LC_BENCH_CSV) {
        csv_all(f, n, docs);
        return LC_OK;
    }
    if (fmt == LC_BENCH_MARKDOWN) fprintf(f, "## Benchmark report\n\n");
    for (int i = 0; i < n; i++) {
        machine_lines(f, fmt, docs[i]);
        if (i == 0 || n == 1) {
            op_table(f, fmt, docs[i], "op");
            op_table(f, fmt, docs[i], "model");
        }
    }
    /* several runtimes (several reports, or one peer report with several variants): ratios */
    runtime_col cols[16];
    if (runtime_columns(n, docs, cols, 8) > 1) compare_table(f, fmt, n, docs);
    return LC_OK;
}

lc_status lc_bench_write(FILE *f, lc_bench_format fmt, int n, const char *const *texts) {
    if (!f || n < 1 || !texts) return lc_error(LC_ERR_ARG, "lc_bench_write: nothing to write");
    cJSON *docs[16];
    if (n > 16) return lc_error(LC_ERR_ARG, "lc_bench_write: at most 16 reports");
    lc_status s = LC_OK;
    int k = 0;
    for (; k < n; k++) {
        docs[k] = cJSON_Parse(texts[k]);
        char what[32];
        snprintf(what, sizeof what, "report %d", k + 1);
        if (!docs[k]) {
            s = lc_error(LC_ERR_FORMAT, "%s: not valid JSON", what);
            break;
        }
        if ((s = bench_check_report(docs[k], what))) {
            k++;
            break;
        }
    }
    if (!s) {
        if (fmt == LC_BENCH_JSON) {
            if (n == 1) fprintf(f, "%s\n", texts[0]);
            else {
                cJSON *arr = cJSON_CreateArray();
                for (int i = 0; i < n; i++) cJSON_AddItemReferenceToArray(arr, docs[i]);
                char *t = cJSON_Print(arr);
                cJSON_Delete(arr);
                if (t) fprintf(f, "%s\n", t);
                free(t);
            }
        } else if (fmt == LC_BENCH_HTML) {
            s = bench_write_html(f, n, docs);
        } else {
            s = bench_write_text(f, fmt, n, docs);
        }
    }
    for (int i = 0; i < k; i++) cJSON_Delete(docs[i]);
    if (!s && ferror(f)) s = lc_error(LC_ERR_IO, "bench: write error");
    return s;
}
