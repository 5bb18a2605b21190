/* The HTML report: one self-contained page (inline CSS and SVG, nothing fetched from the
 * network) with the machine, the ceilings, the tables and three kinds of chart:
 *   - latency against batch and sequence, one chart per model and device;
 *   - the roofline of each device with every op placed on it (ops without arithmetic shown as
 *     a share of the copy bandwidth);
 *   - when several runtimes are present, the ratio of each runtime's median time to the first's.
 * Every chart is an <svg class="chart" data-chart="..."> and every series a
 * <g class="series" data-series="..."> so that tests (and people) can find them. */
#include "bench/bench_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                                      "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#843c39", "#7b4173",
                                      "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363", "#fd8d3c", "#74c476",
                                      "#9e9ac8", "#6baed6", "#e7969c"};
#define NPAL (sizeof palette / sizeof *palette)

static void esc(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* ---- a log-log (or log-y categorical-x) plot area ------------------------------------------ */
typedef struct {
    FILE *f;
    double x0, x1, y0, y1; /* data range (log10 applied where log) */
    bool logx;
    bool no_xlabels;       /* the caller labels the x axis itself */
    int W, H, L, R, T, B;  /* size and margins */
} plot;

static double px(const plot *p, double x) {
    double v = p->logx ? log10(x) : x;
    return p->L + (v - p->x0) / (p->x1 - p->x0) * (p->W - p->L - p->R);
}
static double py(const plot *p, double y) {
    return p->H - p->B - (log10(y) - p->y0) / (p->y1 - p->y0) * (p->H - p->T - p->B);
}

static void fmt_tick(char *buf, size_t len, double v) {
    if (v >= 1e6 || v < 1e-3) snprintf(buf, len, "%.0e", v);
    else snprintf(buf, len, "%g", v);
}

static void svg_begin(plot *p, const char *chart, const char *attr_name, const char *attr_val, const char *title) {
    fprintf(p->f, "<figure><svg class=\"chart\" data-chart=\"%s\"", chart);
    if (attr_name) {
        fprintf(p->f, " data-%s=\"", attr_name);
        esc(p->f, attr_val);
        fputc('"', p->f);
    }
    fprintf(p->f, " xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", p->W, p->H,
            p->W, p->H);
    fprintf(p->f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", p->W, p->H);
    fprintf(p->f, "<text x=\"10\" y=\"18\" class=\"title\">");
    esc(p->f, title);
    fputs("</text>\n", p->f);
}

/* Decade grid lines and labels on a log axis (y always log; x when logx). */
static void axes(plot *p, const char *xlabel, const char *ylabel) {
    FILE *f = p->f;
    char buf[32];
    for (int e = (int)floor(p->y0); e <= (int)ceil(p->y1); e++) {
        double v = pow(10, e);
        if (e < p->y0 - 1e-9 || e > p->y1 + 1e-9) continue;
        double y = py(p, v);
        fmt_tick(buf, sizeof buf, v);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>", p->L, y, p->W - p->R, y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>\n", p->L - 4, y + 4, buf);
    }
    if (p->logx)
        for (int e = (int)floor(p->x0); e <= (int)ceil(p->x1); e++) {
            if (e < p->x0 - 1e-9 || e > p->x1 + 1e-9) continue;
            double v = pow(10, e), x = px(p, v);
            fmt_tick(buf, sizeof buf, v);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>", x, p->T, x, p->H - p->B);
            if (!p->no_xlabels)
                fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%s</text>\n", x, p->H - p->B + 14, buf);
        }
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>\n", p->L, p->T, p->W - p->L - p->R,
            p->H - p->T - p->B);
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"label\" text-anchor=\"middle\">%s</text>\n", (p->L + p->W - p->R) / 2,
            p->H - 6, xlabel);
    fprintf(f, "<text x=\"14\" y=\"%d\" class=\"label\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">%s</text>\n",
            (p->T + p->H - p->B) / 2, (p->T + p->H - p->B) / 2, ylabel);
}

static void legend_item(plot *p, int i, const char *label, const char *color, bool dashed) {
    int x = p->W - p->R + 12, y = p->T + 14 + 16 * i;
    fprintf(p->f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"%s/>", x, y - 4, x + 18, y - 4,
            color, dashed ? " stroke-dasharray=\"5 3\"" : "");
    fprintf(p->f, "<text x=\"%d\" y=\"%d\" class=\"legend\">", x + 24, y);
    esc(p->f, label);
    fputs("</text>\n", p->f);
}

static void svg_end(plot *p, const char *caption) {
    fputs("</svg>", p->f);
    if (caption) {
        fputs("<figcaption>", p->f);
        esc(p->f, caption);
        fputs("</figcaption>", p->f);
    }
    fputs("</figure>\n", p->f);
}

static bool ok(const cJSON *r) { return strcmp(bench_str(r, "status"), "ok") == 0 && bench_num(r, "median_ms") > 0; }

static void range_update(double v, double *lo, double *hi) {
    if (!(v > 0) || !isfinite(v)) return;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

/* log10 range padded to whole decades */
static void log_range(double lo, double hi, double *a, double *b) {
    if (!(lo > 0) || !(hi > 0)) lo = 1, hi = 10;
    *a = floor(log10(lo));
    *b = ceil(log10(hi));
    if (*b <= *a) *b = *a + 1;
}

/* ---- latency per model ---------------------------------------------------------------------- */
typedef struct {
    char model[128], device[32], dtype[16];
} model_key;

static bool same_model(const cJSON *r, const model_key *k) {
    return !strcmp(bench_str(r, "kind"), "model") && ok(r) && !strcmp(bench_str(r, "name"), k->model) &&
           !strcmp(bench_str(r, "device"), k->device) && !strcmp(bench_str(r, "dtype"), k->dtype);
}

/* One latency chart of a model: x = `xkey` ("seq" or "batch", log scale), one series per runtime and
 * value of `skey` (the other), labelled "<runtime> <sprefix><value>". */
static void latency_chart(FILE *f, int n, cJSON *const *docs, const model_key *key, const char *xkey, const char *skey,
                          const char *sprefix, const char *xlabel) {
    double ylo = INFINITY, yhi = 0, xlo = INFINITY, xhi = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[i], "results")) {
            if (!same_model(r, key)) continue;
            range_update(bench_num(r, "median_ms"), &ylo, &yhi);
            range_update(bench_num(r, xkey), &xlo, &xhi);
        }
    }
    plot p = {.f = f, .logx = true, .no_xlabels = true, .W = 560, .H = 340, .L = 64, .R = 190, .T = 30, .B = 44};
    log_range(ylo, yhi, &p.y0, &p.y1);
    p.x0 = log10(xlo) - 0.15;
    p.x1 = log10(xhi) + 0.15;
    if (xhi <= xlo) p.x0 = log10(xlo) - 0.5, p.x1 = log10(xlo) + 0.5;
    char title[256];
    snprintf(title, sizeof title, "%.120s on %.30s (%.15s): median ms by %s", key->model, key->device, key->dtype, xkey);
    fprintf(f, "<figure><svg class=\"chart\" data-chart=\"latency\" data-axis=\"%s\" data-model=\"", xkey);
    esc(f, key->model);
    fprintf(f, "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", p.W, p.H, p.W, p.H);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n<text x=\"10\" y=\"18\" class=\"title\">", p.W, p.H);
    esc(f, title);
    fputs("</text>\n", f);
    axes(&p, xlabel, "median ms");
    /* x ticks at the measured values */
    double ticks[64];
    int nt = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[i], "results")) {
            if (!same_model(r, key)) continue;
            double v = bench_num(r, xkey);
            bool seen = false;
            for (int t = 0; t < nt && !seen; t++) seen = ticks[t] == v;
            if (seen || nt == 64 || !(v > 0)) continue;
            ticks[nt++] = v;
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%g</text>", px(&p, v), p.H - p.B + 14, v);
        }
    }
    int nser = 0;
    for (int i = 0; i < n; i++) {
        char labels[32][128];
        double svals[32];
        int nl = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[i], "results")) {
            if (!same_model(r, key)) continue;
            char rl[96], label[128];
            bench_runtime_label(docs[i], r, rl, sizeof rl);
            snprintf(label, sizeof label, "%s %s%g", rl, sprefix, bench_num(r, skey));
            bool seen = false;
            for (int q = 0; q < nl && !seen; q++) seen = !strcmp(labels[q], label);
            if (seen || nl == 32) continue;
            snprintf(labels[nl], sizeof labels[nl], "%s", label);
            svals[nl] = bench_num(r, skey);
            nl++;
        }
        for (int q = 0; q < nl; q++) {
            const char *color = palette[nser % NPAL];
            bool dashed = i > 0;
            fputs("<g class=\"series\" data-series=\"", f);
            esc(f, labels[q]);
            fputs("\">", f);
            double xs[64], ys[64];
            int np = 0;
            cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[i], "results")) {
                if (!same_model(r, key) || bench_num(r, skey) != svals[q]) continue;
                char rl[96], label[128];
                bench_runtime_label(docs[i], r, rl, sizeof rl);
                snprintf(label, sizeof label, "%s %s%g", rl, sprefix, bench_num(r, skey));
                if (strcmp(label, labels[q]) || np == 64) continue;
                xs[np] = bench_num(r, xkey);
                ys[np] = bench_num(r, "median_ms");
                np++;
            }
            for (int a2 = 1; a2 < np; a2++) /* by x */
                for (int b2 = a2; b2 > 0 && xs[b2] < xs[b2 - 1]; b2--) {
                    double t = xs[b2];
                    xs[b2] = xs[b2 - 1], xs[b2 - 1] = t;
                    t = ys[b2];
                    ys[b2] = ys[b2 - 1], ys[b2 - 1] = t;
                }
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", color,
                    dashed ? " stroke-dasharray=\"5 3\"" : "");
            for (int a2 = 0; a2 < np; a2++) fprintf(f, "%.1f,%.1f ", px(&p, xs[a2]), py(&p, ys[a2]));
            fputs("\"/>", f);
            for (int a2 = 0; a2 < np; a2++) {
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>", px(&p, xs[a2]), py(&p, ys[a2]), color);
                esc(f, labels[q]);
                fprintf(f, ", %s %g: %.3f ms</title></circle>", xkey, xs[a2], ys[a2]);
            }
            fputs("</g>\n", f);
            legend_item(&p, nser, labels[q], color, dashed);
            nser++;
        }
    }
    svg_end(&p, NULL);
}

static void latency_charts(FILE *f, int n, cJSON *const *docs) {
    model_key keys[64];
    int nk = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[i], "results")) {
            if (strcmp(bench_str(r, "kind"), "model") != 0 || !ok(r)) continue;
            bool seen = false;
            for (int k = 0; k < nk && !seen; k++)
                seen = !strcmp(keys[k].model, bench_str(r, "name")) && !strcmp(keys[k].device, bench_str(r, "device")) &&
                       !strcmp(keys[k].dtype, bench_str(r, "dtype"));
            if (seen || nk == 64) continue;
            snprintf(keys[nk].model, sizeof keys[nk].model, "%s", bench_str(r, "name"));
            snprintf(keys[nk].device, sizeof keys[nk].device, "%s", bench_str(r, "device"));
            snprintf(keys[nk].dtype, sizeof keys[nk].dtype, "%s", bench_str(r, "dtype"));
            nk++;
        }
    }
    if (!nk) return;
    fputs("<h2>Latency against batch and sequence</h2>\n<p>Solid lines: the first runtime; dashed: the others.</p>\n"
          "<div class=\"charts\">\n", f);
    for (int k = 0; k < nk; k++) {
        latency_chart(f, n, docs, &keys[k], "seq", "batch", "B=", "sequence length (tokens)");
        latency_chart(f, n, docs, &keys[k], "batch", "seq", "T=", "batch size (sequences)");
    }
    fputs("</div>\n", f);
}

/* ---- rooflines -------------------------------------------------------------------------------- */
static void roofline_charts(FILE *f, const cJSON *doc) {
    const cJSON *d;
    bool heading = false;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "devices")) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(d, "ceilings");
        const char *dev = bench_str(d, "device");
        double bw = bench_num(c, "copy_gbps");
        const cJSON *gemm = cJSON_GetObjectItemCaseSensitive(c, "gemm_gflops");
        if (!c || !(bw > 0) || !gemm) continue;
        double peak = 0;
        const cJSON *g;
        cJSON_ArrayForEach(g, gemm) peak = fmax(peak, g->valuedouble);
        /* ranges */
        double xlo = INFINITY, xhi = 0, ylo = INFINITY, yhi = peak;
        int nops = 0, nmem = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "results")) {
            if (strcmp(bench_str(r, "kind"), "op") || !ok(r) || strcmp(bench_str(r, "device"), dev)) continue;
            if (bench_num(r, "flops") > 0) {
                range_update(bench_num(r, "intensity"), &xlo, &xhi);
                range_update(bench_num(r, "gflops"), &ylo, &yhi);
                nops++;
            } else {
                nmem++;
            }
        }
        if (!nops && !nmem) continue;
        if (!heading) {
            fputs("<h2>Roofline</h2>\n<p>Each op at its arithmetic intensity (FLOPs per minimum byte moved) and achieved "
                  "GFLOP/s, under the device's measured copy bandwidth and peak GEMM rate per dtype. Working sets that fit in the caches can exceed the (memory) copy ceiling: above 100% of the roofline means cache-resident.</p>\n<div class=\"charts\">\n",
                  f);
            heading = true;
        }
        if (nops) {
            range_update(peak / bw, &xlo, &xhi); /* the ridge point */
            plot p = {.f = f, .logx = true, .W = 700, .H = 420, .L = 64, .R = 200, .T = 30, .B = 44};
            log_range(xlo, xhi, &p.x0, &p.x1);
            log_range(ylo, yhi * 1.5, &p.y0, &p.y1);
            char title[256];
            snprintf(title, sizeof title, "Roofline of %s (%s)", dev, bench_str(d, "name"));
            svg_begin(&p, "roofline", "device", dev, title);
            axes(&p, "arithmetic intensity (FLOP/byte)", "GFLOP/s");
            /* roofs: one per dtype ceiling */
            int li = 0;
            cJSON_ArrayForEach(g, gemm) {
                double pk = g->valuedouble, ridge = pk / bw;
                double xa = pow(10, p.x0), xb = pow(10, p.x1);
                double ya = fmax(xa * bw, pow(10, p.y0));
                double xa2 = ya / bw;
                fprintf(f, "<g class=\"roof\" data-dtype=\"%s\"><polyline fill=\"none\" stroke=\"#444\" stroke-width=\"%s\" points=\"",
                        g->string, li == 0 ? "2" : "1");
                fprintf(f, "%.1f,%.1f ", px(&p, xa2), py(&p, ya));
                if (ridge < xb) fprintf(f, "%.1f,%.1f %.1f,%.1f", px(&p, ridge), py(&p, pk), px(&p, xb), py(&p, pk));
                else fprintf(f, "%.1f,%.1f", px(&p, xb), py(&p, xb * bw));
                fprintf(f, "\"/><text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%s peak %.0f GFLOP/s</text></g>\n", px(&p, xb) - 150,
                        py(&p, pk) - 4, g->string, pk);
                li++;
            }
            fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"tick\">copy %.1f GB/s</text>\n", p.L + 6, p.H - p.B - 8, bw);
            /* points: one series per op name */
            int ns = 0;
            const char *const *names = bench_op_names;
            for (int k = 0; names[k]; k++) {
                bool any = false;
                cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "results")) any |=
                    !strcmp(bench_str(r, "kind"), "op") && ok(r) && !strcmp(bench_str(r, "device"), dev) &&
                    !strcmp(bench_str(r, "name"), names[k]) && bench_num(r, "flops") > 0;
                if (!any) continue;
                const char *color = palette[ns % NPAL];
                fprintf(f, "<g class=\"series\" data-series=\"%s\">", names[k]);
                cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "results")) {
                    if (strcmp(bench_str(r, "kind"), "op") || !ok(r) || strcmp(bench_str(r, "device"), dev) ||
                        strcmp(bench_str(r, "name"), names[k]) || !(bench_num(r, "flops") > 0))
                        continue;
                    double x = bench_num(r, "intensity"), y = bench_num(r, "gflops");
                    if (!(x > 0) || !(y > 0)) continue;
                    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\" fill-opacity=\"0.85\"><title>%s ", px(&p, x),
                            py(&p, y), color, names[k]);
                    esc(f, bench_str(r, "args"));
                    fprintf(f, ": %.1f GFLOP/s, %.1f GB/s, %.0f%% of roofline</title></circle>", y, bench_num(r, "gbps"),
                            bench_num(r, "pct_roofline"));
                }
                fputs("</g>\n", f);
                legend_item(&p, ns, names[k], color, false);
                ns++;
            }
            svg_end(&p, NULL);
        }
        if (nmem) { /* bars: share of the copy bandwidth for ops that only move data */
            int H = 40 + 22 * nmem + 30;
            plot p = {.f = f, .W = 760, .H = H, .L = 330, .R = 110, .T = 30, .B = 40};
            char title[256];
            snprintf(title, sizeof title, "Data-movement ops on %s: achieved GB/s as %% of copy bandwidth (%.1f GB/s)", dev, bw);
            svg_begin(&p, "bandwidth", "device", dev, title);
            int i = 0;
            double span = p.W - p.L - p.R;
            fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"frame\"/>", p.L, p.T, p.L, H - p.B);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/><text x=\"%.1f\" y=\"%d\" class=\"tick\" "
                       "text-anchor=\"middle\">100%%</text>",
                    p.L + span, p.T, p.L + span, H - p.B, p.L + span, H - p.B + 14);
            const char *last = "";
            int ns = 0;
            cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "results")) {
                if (strcmp(bench_str(r, "kind"), "op") || !ok(r) || strcmp(bench_str(r, "device"), dev) || bench_num(r, "flops") > 0)
                    continue;
                if (strcmp(last, bench_str(r, "name")) != 0) {
                    if (ns) fputs("</g>", f);
                    fprintf(f, "<g class=\"series\" data-series=\"%s\">", bench_str(r, "name"));
                    last = bench_str(r, "name");
                    ns++;
                }
                double pct = bench_num(r, "gbps") / bw * 100.0;
                double w = fmin(pct, 120.0) / 100.0 * span;
                int y = p.T + 8 + 22 * i;
                fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\"><title>%.1f GB/s</title></rect>", p.L, y,
                        w > 1 ? w : 1, palette[(ns - 1) % NPAL], bench_num(r, "gbps"));
                fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"end\">", p.L - 6, y + 12);
                esc(f, bench_str(r, "name"));
                fputc(' ', f);
                esc(f, bench_str(r, "args"));
                fprintf(f, "</text><text x=\"%.1f\" y=\"%d\" class=\"tick\">%.0f%%</text>", p.L + (w > 1 ? w : 1) + 4, y + 12, pct);
                i++;
            }
            if (ns) fputs("</g>\n", f);
            svg_end(&p, NULL);
        }
    }
    if (heading) fputs("</div>\n", f);
}

/* ---- comparison ----------------------------------------------------------------------------- */
static void comparison_chart(FILE *f, int n, cJSON *const *docs) {
    /* runtimes: (doc, variant) pairs in order */
    struct {
        int doc;
        char variant[48], label[96];
    } cols[8];
    int nc = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[i], "results")) {
            bool seen = false;
            for (int k = 0; k < nc && !seen; k++) seen = cols[k].doc == i && !strcmp(cols[k].variant, bench_str(r, "variant"));
            if (seen || nc == 8) continue;
            cols[nc].doc = i;
            snprintf(cols[nc].variant, sizeof cols[nc].variant, "%s", bench_str(r, "variant"));
            bench_runtime_label(docs[i], r, cols[nc].label, sizeof cols[nc].label);
            nc++;
        }
    }
    if (nc < 2) return;
    /* workloads of the primary runtime that at least one other runtime also ran */
    const cJSON *base[512];
    int nw = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[cols[0].doc], "results")) {
        if (strcmp(bench_str(r, "variant"), cols[0].variant) || !ok(r) || nw == 512) continue;
        char key[512], k2[512];
        bench_result_key(r, key, sizeof key);
        bool other = false;
        for (int k = 1; k < nc && !other; k++) {
            const cJSON *o;
            cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(docs[cols[k].doc], "results")) {
                if (strcmp(bench_str(o, "variant"), cols[k].variant) || !ok(o)) continue;
                bench_result_key(o, k2, sizeof k2);
                if (!strcmp(key, k2)) {
                    other = true;
                    break;
                }
            }
        }
        if (other) base[nw++] = r;
    }
    if (!nw) return;
    fprintf(f, "<h2>Side by side</h2>\n<p>Median time of each runtime divided by %s's: a bar right of 1 means %s is faster.</p>\n",
            cols[0].label, cols[0].label);
    int rowh = 8 + 10 * (nc - 1);
    int H = 40 + rowh * nw + 50;
    plot p = {.f = f, .logx = true, .W = 900, .H = H, .L = 380, .R = 170, .T = 30, .B = 44};
    /* ratio range */
    double lo = 1, hi = 1;
    for (int w = 0; w < nw; w++) {
        char key[512], k2[512];
        bench_result_key(base[w], key, sizeof key);
        for (int k = 1; k < nc; k++) {
            const cJSON *o;
            cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(docs[cols[k].doc], "results")) {
                if (strcmp(bench_str(o, "variant"), cols[k].variant) || !ok(o)) continue;
                bench_result_key(o, k2, sizeof k2);
                if (!strcmp(key, k2)) range_update(bench_num(o, "median_ms") / bench_num(base[w], "median_ms"), &lo, &hi);
            }
        }
    }
    log_range(lo, hi, &p.x0, &p.x1);
    p.y0 = 0, p.y1 = 1;
    svg_begin(&p, "comparison", NULL, NULL, "Time relative to the first runtime (log scale)");
    char buf[32];
    for (int e = (int)p.x0; e <= (int)p.x1; e++) {
        double x = px(&p, pow(10, e));
        fmt_tick(buf, sizeof buf, pow(10, e));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"%s\"/>", x, p.T, x, H - p.B, e == 0 ? "one" : "grid");
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%s</text>\n", x, H - p.B + 14, buf);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"label\" text-anchor=\"middle\">time / %s time</text>\n", (p.L + p.W - p.R) / 2,
            H - 8, cols[0].label);
    for (int w = 0; w < nw; w++) {
        int y = p.T + 6 + rowh * w;
        fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"end\">", p.L - 6, y + rowh / 2 + 2);
        if (!strcmp(bench_str(base[w], "kind"), "model")) {
            esc(f, bench_str(base[w], "name"));
            fprintf(f, " %gx%g", bench_num(base[w], "batch"), bench_num(base[w], "seq"));
        } else {
            esc(f, bench_str(base[w], "name"));
            fputc(' ', f);
            esc(f, bench_str(base[w], "args"));
        }
        fprintf(f, " (%s)</text>\n", bench_str(base[w], "device"));
    }
    for (int k = 1; k < nc; k++) {
        const char *color = palette[(k - 1) % NPAL];
        fputs("<g class=\"series\" data-series=\"", f);
        esc(f, cols[k].label);
        fputs("\">", f);
        for (int w = 0; w < nw; w++) {
            char key[512], k2[512];
            bench_result_key(base[w], key, sizeof key);
            const cJSON *o;
            cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(docs[cols[k].doc], "results")) {
                if (strcmp(bench_str(o, "variant"), cols[k].variant) || !ok(o)) continue;
                bench_result_key(o, k2, sizeof k2);
                if (strcmp(key, k2)) continue;
                double ratio = bench_num(o, "median_ms") / bench_num(base[w], "median_ms");
                double x1 = px(&p, 1.0), x2 = px(&p, ratio);
                int y = p.T + 6 + rowh * w + 4 + 10 * (k - 1);
                fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"8\" fill=\"%s\"><title>", fmin(x1, x2), y,
                        fmax(fabs(x2 - x1), 1.0), color);
                esc(f, cols[k].label);
                fprintf(f, ": %.3f ms, x%.2f</title></rect>", bench_num(o, "median_ms"), ratio);
                break;
            }
        }
        fputs("</g>\n", f);
        legend_item(&p, k - 1, cols[k].label, color, false);
    }
    svg_end(&p, NULL);
}

/* ---- page ------------------------------------------------------------------------------------ */
static const char *css =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;background:#fff}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:28px}table{border-collapse:collapse;font-size:12px;margin:8px 0}"
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td.l,th.l{text-align:left}th{background:#f3f3f3}"
    ".charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}svg .grid{stroke:#e3e3e3;stroke-width:1}"
    "svg .one{stroke:#333;stroke-width:1.5}svg .frame{fill:none;stroke:#999}svg .tick{font-size:10px;fill:#444}"
    "svg .label{font-size:11px;fill:#222}svg .legend{font-size:11px;fill:#222}svg .title{font-size:13px;font-weight:600;fill:#111}"
    "pre{background:#f6f6f6;padding:8px;font-size:12px;white-space:pre-wrap}";

static void html_table(FILE *f, const cJSON *doc, const char *kind) {
    bool models = !strcmp(kind, "model");
    const cJSON *r;
    bool any = false;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "results")) any |= !strcmp(bench_str(r, "kind"), kind);
    if (!any) return;
    fprintf(f, "<h2>%s</h2>\n<table><tr><th class=\"l\">%s</th><th class=\"l\">%s</th><th class=\"l\">device</th><th>dtype</th>"
               "<th>median ms</th><th>p10</th><th>p90</th><th>n</th><th>GFLOP/s</th><th>GB/s</th><th>%% roofline</th>%s"
               "<th class=\"l\">check</th></tr>\n",
            models ? "Models" : "Operations", models ? "model" : "op", models ? "batch x seq" : "shapes",
            models ? "<th>tokens/s</th><th>seq/s</th><th>peak MiB</th><th>J/inference</th>" : "");
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "results")) {
        if (strcmp(bench_str(r, "kind"), kind)) continue;
        fputs("<tr><td class=\"l\">", f);
        esc(f, bench_str(r, "name"));
        fputs("</td><td class=\"l\">", f);
        if (models) fprintf(f, "%gx%g", bench_num(r, "batch"), bench_num(r, "seq"));
        else esc(f, bench_str(r, "args"));
        fprintf(f, "</td><td class=\"l\">%s</td><td>%s</td>", bench_str(r, "device"), bench_str(r, "dtype"));
        if (!ok(r)) {
            fprintf(f, "<td colspan=\"%d\" class=\"l\">%s: ", models ? 11 : 7, bench_str(r, "status"));
            esc(f, bench_str(r, "error"));
            fputs("</td>", f);
        } else {
            const char *keys[] = {"median_ms", "p10_ms", "p90_ms", "iterations", "gflops", "gbps", "pct_roofline",
                                  "tokens_per_s", "sequences_per_s", "peak_memory_bytes", "energy_j"};
            int nk = models ? 11 : 7;
            for (int i = 0; i < nk; i++) {
                double v = bench_num(r, keys[i]);
                if (i == 9) v /= 1048576.0;
                if (!isfinite(v)) fputs("<td>-</td>", f);
                else if (i < 3) fprintf(f, "<td>%.4g</td>", v);
                else if (i == 3 || i == 6 || i == 7 || i == 9) fprintf(f, "<td>%.0f</td>", v);
                else fprintf(f, "<td>%.3g</td>", v);
            }
        }
        fprintf(f, "<td class=\"l\">%s</td></tr>\n", bench_str(cJSON_GetObjectItemCaseSensitive(r, "check"), "status"));
    }
    fputs("</table>\n", f);
}

lc_status bench_write_html(FILE *f, int n, cJSON *const *docs) {
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>locus bench report</title>"
               "<style>%s</style></head><body>\n<h1>locus bench report</h1>\n",
            css);
    fputs("<h2>Machine and runs</h2>\n<pre>", f);
    for (int i = 0; i < n; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (m) {
            cJSON *one[1] = {docs[i]};
            /* the header lines of the text report: runtime, command, machine, ceilings, energy */
            cJSON *copy = cJSON_Duplicate(docs[i], 1);
            cJSON_ReplaceItemInObject(copy, "results", cJSON_CreateArray());
            one[0] = copy;
            bench_write_text(m, LC_BENCH_TABLE, 1, one);
            cJSON_Delete(copy);
            fclose(m);
            esc(f, buf);
            free(buf);
        }
    }
    fputs("</pre>\n", f);
    latency_charts(f, n, docs);
    roofline_charts(f, docs[0]);
    comparison_chart(f, n, docs);
    html_table(f, docs[0], "op");
    html_table(f, docs[0], "model");
    fputs("<p>Generated by <code>locus bench</code>; the data are the JSON reports (schema locus-bench v1).</p>\n</body></html>\n", f);
    return LC_OK;
}
