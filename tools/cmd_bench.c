/* locus bench: measure ops and models on this machine, or compare saved reports. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: locus bench [options]                 run a suite (quick by default) on every device\n"
          "       locus bench --compare A.json B.json...  compare saved reports (first = reference)\n"
          "       locus bench --report A.json            render a saved report\n"
          "\n"
          "what to run:\n"
          "  --suite quick|full       quick: a few minutes on 2 cores; full: every op shape and the model grid\n"
          "  --device DEV             cpu, cuda, cuda:N (repeatable; default: every available device)\n"
          "  --dtype T                f32 (default), f16, bf16\n"
          "  --ops LIST               comma-separated op names (MatMul,Softmax,...) or none\n"
          "  --model LIST             built-in shapes (bert-base, bert-large, roberta-base, xlm-roberta-base,\n"
          "                           minilm-l6) or checkpoint directories, comma-separated\n"
          "  --batch LIST, --seq LIST model grid, e.g. --batch 1,16,32 --seq 32,128,512\n"
          "  --threads N              CPU threads\n"
          "measurement:\n"
          "  --budget S               seconds of timed runs per workload (adaptive: stops early once stable)\n"
          "  --warmup S               seconds of warm-up per workload\n"
          "  --min-iters N, --max-iters N\n"
          "  --energy-window S        seconds of model runs between two energy-counter reads (default 1)\n"
          "  --no-probe               skip measuring the ceilings (no roofline percentages)\n"
          "  --list                   list the workloads the options select, without running them\n"
          "output (stdout is a table unless one of these is given):\n"
          "  --json | --csv | --md    print the report in that format instead\n"
          "  --save-json F, --save-csv F, --save-md F, --html F   also write files\n"
          "  --no-progress            no progress bar on stderr\n",
          f);
}

#define MAX_LIST 16

static bool parse_list(const char *opt, const char *s, int64_t *out, int *n) {
    *n = 0;
    if (!s) {
        cli_failf("bench", 2, "%s needs a value", opt);
        return false;
    }
    const char *p = s;
    while (*p) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 1 || v > 1 << 20 || *n == MAX_LIST || (*end && *end != ',')) {
            cli_failf("bench", 2, "%s: '%s' is not a comma-separated list of positive integers", opt, s);
            return false;
        }
        out[(*n)++] = v;
        p = *end ? end + 1 : end;
    }
    if (*n == 0) {
        cli_failf("bench", 2, "%s: empty list", opt);
        return false;
    }
    return true;
}

static bool parse_seconds(const char *opt, const char *s, double *out) {
    char *end = NULL;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || *end || !(v > 0) || v > 3600) {
        cli_failf("bench", 2, "%s: '%s' is not a number of seconds in (0, 3600]", opt, s ? s : "");
        return false;
    }
    *out = v;
    return true;
}

static int write_file(const char *path, lc_bench_format fmt, int n, const char *const *texts) {
    FILE *f = fopen(path, "w");
    if (!f) return cli_failf("bench", 1, "%s: cannot open for writing", path);
    lc_status s = lc_bench_write(f, fmt, n, texts);
    if (fclose(f) != 0 && !s) s = lc_error(LC_ERR_IO, "%s: write error", path);
    if (s) return cli_fail("bench");
    return 0;
}

int cmd_bench(int argc, char **argv) {
    lc_bench_options opt = {0};
    opt.dtype = LC_F32;
    opt.progress = true;
    int64_t batches[MAX_LIST], seqs[MAX_LIST];
    lc_bench_format out_fmt = LC_BENCH_TABLE;
    const char *save_json = NULL, *save_csv = NULL, *save_md = NULL, *html = NULL;
    const char *inputs[16];
    int ninputs = 0;
    char *texts[16] = {0};
    int ntexts = 0;
    enum { RUN, COMPARE, REPORT } mode = RUN;

    /* the command line, recorded in the report */
    size_t cl = 16;
    for (int i = 0; i < argc; i++) cl += strlen(argv[i]) + 1;
    char *command = malloc(cl);
    if (!command) return cli_failf("bench", 1, "out of memory");
    strcpy(command, "locus");
    for (int i = 0; i < argc; i++) {
        strcat(command, " ");
        strcat(command, argv[i]);
    }
    opt.command = command;

    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (!strcmp(a, "--suite")) {
            if (!v || (strcmp(v, "quick") && strcmp(v, "full"))) {
                cli_failf("bench", 2, "--suite must be quick or full");
                goto out;
            }
            opt.suite = v, i++;
        } else if (!strcmp(a, "--device")) {
            if (!v) {
                cli_failf("bench", 2, "--device needs a value");
                goto out;
            }
            if (opt.ndevices == 8) {
                cli_failf("bench", 2, "at most 8 devices");
                goto out;
            }
            if (lc_device_parse(v, &opt.devices[opt.ndevices]) != LC_OK) {
                cli_failf("bench", 2, "--device: %s", lc_last_error());
                goto out;
            }
            opt.ndevices++, i++;
        } else if (!strcmp(a, "--dtype")) {
            if (!v || lc_dtype_parse(v, &opt.dtype) != LC_OK || !(opt.dtype == LC_F32 || opt.dtype == LC_F16 || opt.dtype == LC_BF16)) {
                cli_failf("bench", 2, "--dtype must be f32, f16 or bf16");
                goto out;
            }
            i++;
        } else if (!strcmp(a, "--ops")) {
            if (!v) {
                cli_failf("bench", 2, "--ops needs a value");
                goto out;
            }
            opt.ops = v, i++;
        } else if (!strcmp(a, "--model") || !strcmp(a, "--models")) {
            if (!v) {
                cli_failf("bench", 2, "--model needs a value");
                goto out;
            }
            opt.models = v, i++;
        } else if (!strcmp(a, "--batch")) {
            if (!parse_list(a, v, batches, &opt.nbatches)) goto out;
            opt.batches = batches, i++;
        } else if (!strcmp(a, "--seq")) {
            if (!parse_list(a, v, seqs, &opt.nseqs)) goto out;
            opt.seqs = seqs, i++;
        } else if (!strcmp(a, "--threads")) {
            if (!cli_parse_int("bench", a, v, 1, 1024, &n)) goto out;
            lc_set_num_threads((int)n), i++;
        } else if (!strcmp(a, "--budget")) {
            if (!parse_seconds(a, v, &opt.budget.budget_s)) goto out;
            i++;
        } else if (!strcmp(a, "--warmup")) {
            if (!parse_seconds(a, v, &opt.budget.warmup_s)) goto out;
            i++;
        } else if (!strcmp(a, "--energy-window")) {
            if (!parse_seconds(a, v, &opt.budget.energy_s)) goto out;
            i++;
        } else if (!strcmp(a, "--min-iters")) {
            if (!cli_parse_int("bench", a, v, 1, 1000000, &n)) goto out;
            opt.budget.min_iterations = (int)n, i++;
        } else if (!strcmp(a, "--max-iters")) {
            if (!cli_parse_int("bench", a, v, 1, 1000000, &n)) goto out;
            opt.budget.max_iterations = (int)n, i++;
        } else if (!strcmp(a, "--list")) {
            opt.list_only = true;
        } else if (!strcmp(a, "--no-probe")) {
            opt.skip_probe = true;
        } else if (!strcmp(a, "--no-progress")) {
            opt.progress = false;
        } else if (!strcmp(a, "--json")) {
            out_fmt = LC_BENCH_JSON;
        } else if (!strcmp(a, "--csv")) {
            out_fmt = LC_BENCH_CSV;
        } else if (!strcmp(a, "--md") || !strcmp(a, "--markdown")) {
            out_fmt = LC_BENCH_MARKDOWN;
        } else if (!strcmp(a, "--save-json") || !strcmp(a, "--save-csv") || !strcmp(a, "--save-md") || !strcmp(a, "--html")) {
            if (!v) {
                cli_failf("bench", 2, "%s needs a file name", a);
                goto out;
            }
            if (!strcmp(a, "--save-json")) save_json = v;
            else if (!strcmp(a, "--save-csv")) save_csv = v;
            else if (!strcmp(a, "--save-md")) save_md = v;
            else html = v;
            i++;
        } else if (!strcmp(a, "--compare") || !strcmp(a, "--report")) {
            mode = !strcmp(a, "--compare") ? COMPARE : REPORT;
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
                if (ninputs == 16) {
                    cli_failf("bench", 2, "at most 16 reports");
                    goto out;
                }
                inputs[ninputs++] = argv[++i];
            }
        } else {
            cli_failf("bench", 2, "unknown option '%s' (see locus bench --help)", a);
            goto out;
        }
    }

    rc = 1;
    if (mode != RUN) {
        if (ninputs < (mode == COMPARE ? 2 : 1)) {
            rc = cli_failf("bench", 2, "%s needs %s report file%s", mode == COMPARE ? "--compare" : "--report",
                           mode == COMPARE ? "two or more" : "a", mode == COMPARE ? "s" : "");
            goto out;
        }
        for (; ntexts < ninputs; ntexts++)
            if (lc_bench_load(inputs[ntexts], &texts[ntexts]) != LC_OK) {
                cli_fail("bench");
                goto done;
            }
    } else {
        if (lc_bench_run(&opt, &texts[0]) != LC_OK) {
            cli_fail("bench");
            goto done;
        }
        ntexts = 1;
    }
    {
        const char *const *ct = (const char *const *)texts;
        if (lc_bench_write(stdout, out_fmt, ntexts, ct) != LC_OK) {
            cli_fail("bench");
            goto done;
        }
        fflush(stdout);
        if ((save_json && write_file(save_json, LC_BENCH_JSON, mode == RUN ? 1 : ntexts, ct)) ||
            (save_csv && write_file(save_csv, LC_BENCH_CSV, ntexts, ct)) ||
            (save_md && write_file(save_md, LC_BENCH_MARKDOWN, ntexts, ct)) ||
            (html && write_file(html, LC_BENCH_HTML, ntexts, ct)))
            goto done;
        /* A workload that failed (an error, or a result that disagreed with its reference) fails the
         * command; unsupported and skipped ones do not. */
        int failed = 0;
        if (mode == RUN && lc_bench_summary(texts[0], NULL, &failed, NULL) == LC_OK && failed > 0) {
            cli_failf("bench", 1, "%d workload%s failed (status error or wrong-result in the report)", failed,
                      failed > 1 ? "s" : "");
            goto done;
        }
    }
    rc = 0;
done:
    for (int i = 0; i < ntexts; i++) free(texts[i]);
out:
    free(command);
    return rc;
}
