/* locus embed MODEL_DIR [--pooling cls|mean|max|none] [--no-normalize] [--normalize] [--batch N]
 *                       [--threads N] [--device D] [--dtype T] [TEXT...]
 * Texts from the arguments, else one per line from standard input. Prints
 *   {"model":"...","dim":D,"data":[{"index":0,"embedding":[...]}, ...]}
 * or, with --pooling none, items carrying "last_hidden_state":[[...],...] (one row per token). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: locus embed MODEL_DIR [--pooling cls|mean|max|none] [--no-normalize] [--normalize]\n"
               "                   [--batch N] [--threads N] [--device cpu|cuda] [--dtype f32|f16|bf16] [TEXT...]\n"
               "Texts come from the arguments, else one per line from standard input.\n");
}

int cli_common_option(const char *cmd, int argc, char **argv, int *i, common_opts *o) {
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (strcmp(a, "--batch") == 0) {
        if (!cli_parse_int(cmd, a, v, 1, 1 << 20, &o->batch)) return 2;
    } else if (strcmp(a, "--threads") == 0) {
        if (!cli_parse_int(cmd, a, v, 1, 1024, &o->threads)) return 2;
        lc_set_num_threads((int)o->threads);
    } else if (strcmp(a, "--device") == 0) {
        if (!v || lc_device_parse(v, &o->mopt.device)) return cli_failf(cmd, 2, "%s", v ? lc_last_error() : "--device needs a value");
    } else if (strcmp(a, "--dtype") == 0) {
        if (!v || lc_dtype_parse(v, &o->mopt.dtype)) return cli_failf(cmd, 2, "%s", v ? lc_last_error() : "--dtype needs a value");
    } else {
        return -1; /* not a common option */
    }
    (*i)++;
    return 0;
}

int cmd_embed(int argc, char **argv) {
    const char *dir = NULL;
    lc_pooling pooling = LC_POOL_DEFAULT;
    int normalize = -1;
    common_opts o = {.batch = 32, .mopt = {LC_CPU, LC_F32}};
    int first_text = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--") == 0) {
            first_text = i + 1;
            break;
        } else if (strcmp(a, "--pooling") == 0) {
            const char *v = i + 1 < argc ? argv[++i] : "";
            if (strcmp(v, "cls") == 0) pooling = LC_POOL_CLS;
            else if (strcmp(v, "mean") == 0) pooling = LC_POOL_MEAN;
            else if (strcmp(v, "max") == 0) pooling = LC_POOL_MAX;
            else if (strcmp(v, "none") == 0) pooling = LC_POOL_NONE;
            else return cli_failf("embed", 2, "--pooling must be cls, mean, max or none (got '%s')", v);
        } else if (strcmp(a, "--no-normalize") == 0) {
            normalize = 0;
        } else if (strcmp(a, "--normalize") == 0) {
            normalize = 1;
        } else if (a[0] == '-' && a[1] == '-') {
            int r = cli_common_option("embed", argc, argv, &i, &o);
            if (r > 0) return r;
            if (r < 0) return cli_failf("embed", 2, "unknown option '%s'", a);
        } else if (!dir) {
            dir = a;
        } else {
            first_text = i;
            break;
        }
    }
    if (!dir) {
        usage(stderr);
        return 2;
    }
    size_t n = 0;
    char **texts = NULL;
    if (!cli_read_texts("embed", argc - first_text, argv + first_text, &n, &texts)) return 1;
    lc_model *m = NULL;
    if (lc_model_load(dir, &o.mopt, &m)) {
        cli_free_texts(n, texts);
        return cli_fail("embed");
    }
    int rc = 0;
    int64_t D = lc_model_hidden_size(m);
    lc_array *emb = NULL, **hidden = NULL;
    if (pooling == LC_POOL_NONE && !(hidden = calloc(n ? n : 1, sizeof *hidden))) {
        rc = cli_failf("embed", 1, "out of memory");
        goto done;
    }
    if (lc_model_embed(m, n, (const char *const *)texts, pooling, normalize, (size_t)o.batch, &emb, hidden)) {
        rc = cli_fail("embed");
        goto done;
    }
    printf("{\"model\":");
    cli_json_string(stdout, dir);
    printf(",\"dim\":%lld,\"data\":[", (long long)D);
    for (size_t i = 0; i < n; i++) {
        printf("%s{\"index\":%zu,", i ? "," : "", i);
        void *p = NULL;
        if (pooling == LC_POOL_NONE) {
            lc_array_host_data(hidden[i], &p);
            const float *h = p;
            int64_t T = lc_array_dim(hidden[i], 0);
            printf("\"last_hidden_state\":[");
            for (int64_t t = 0; t < T; t++) {
                printf("%s[", t ? "," : "");
                for (int64_t j = 0; j < D; j++) {
                    if (j) putchar(',');
                    cli_json_float(stdout, h[t * D + j]);
                }
                putchar(']');
            }
            printf("]}");
        } else {
            lc_array_host_data(emb, &p);
            const float *e = (const float *)p + i * (size_t)D;
            printf("\"embedding\":[");
            for (int64_t j = 0; j < D; j++) {
                if (j) putchar(',');
                cli_json_float(stdout, e[j]);
            }
            printf("]}");
        }
    }
    printf("]}\n");
done:
    for (size_t i = 0; hidden && i < n; i++) lc_array_release(hidden[i]);
    free(hidden);
    lc_array_release(emb);
    lc_model_free(m);
    cli_free_texts(n, texts);
    return rc;
}
