/* locus classify MODEL_DIR [--top-k K] [--batch N] [--threads N] [--device D] [TEXT...|IMAGE...]
 *                          [--pixel-values FILE.npy]
 * Text models read texts from the arguments, else one per line from standard input; image models
 * take image files (or directories, walked) or exact pixel_values from a .npy file. Prints
 *   {"model":"...","data":[{"index":0,["file":"...",]"logits":[...],
 *                           "labels":[{"label":"...","score":0.93}, ...]}, ...]}
 * with labels sorted by score: softmax, or sigmoid when problem_type is multi-label. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


static void usage(FILE *f) {
    fprintf(f, "usage: locus classify MODEL_DIR [--top-k K] [--batch N] [--threads N] [--device cpu|cuda]\n"
               "                      [--dtype f32|f16|bf16] [--exif-transpose] [--pixel-values FILE.npy] [TEXT...|IMAGE...]\n"
               "Text models read texts from the arguments, else one per line from standard input.\n"
               "Image models take image files or directories; --pixel-values feeds a float32 (N,C,H,W) .npy.\n");
}

typedef struct {
    float score;
    size_t label;
} scored;

static int by_score(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return x->label < y->label ? -1 : 1;
}

static void print_result(lc_model *m, const char *dir, size_t n, const float *logits, char **files, size_t top_k) {
    size_t L = lc_model_num_labels(m);
    bool multi = lc_model_multi_label(m);
    scored *sc = malloc(sizeof *sc * L);
    printf("{\"model\":");
    cli_json_string(stdout, dir);
    printf(",\"data\":[");
    for (size_t i = 0; i < n; i++) {
        const float *lg = logits + i * L;
        printf("%s{\"index\":%zu,", i ? "," : "", i);
        if (files) {
            printf("\"file\":");
            cli_json_string(stdout, files[i]);
            putchar(',');
        }
        printf("\"logits\":[");
        for (size_t j = 0; j < L; j++) {
            if (j) putchar(',');
            cli_json_float(stdout, lg[j]);
        }
        printf("],\"labels\":[");
        double mx = -INFINITY, sum = 0;
        for (size_t j = 0; j < L; j++) mx = lg[j] > mx ? lg[j] : mx;
        for (size_t j = 0; j < L; j++) sum += exp((double)lg[j] - mx);
        for (size_t j = 0; sc && j < L; j++) {
            sc[j].label = j;
            sc[j].score = multi ? (float)(1.0 / (1.0 + exp(-(double)lg[j]))) : (float)(exp((double)lg[j] - mx) / sum);
        }
        if (sc) qsort(sc, L, sizeof *sc, by_score);
        size_t k = top_k && top_k < L ? top_k : L;
        for (size_t j = 0; sc && j < k; j++) {
            printf("%s{\"label\":", j ? "," : "");
            cli_json_string(stdout, lc_model_label(m, sc[j].label));
            printf(",\"score\":");
            cli_json_float(stdout, sc[j].score);
            putchar('}');
        }
        printf("]}");
    }
    printf("]}\n");
    free(sc);
}

int cmd_classify(int argc, char **argv) {
    const char *dir = NULL, *npy = NULL;
    common_opts o = {.batch = 32, .mopt = {LC_CPU, LC_F32}};
    int first = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--") == 0) {
            first = i + 1;
            break;
        } else if (strcmp(a, "--top-k") == 0) {
            if (!cli_parse_int("classify", a, i + 1 < argc ? argv[i + 1] : NULL, 0, 1 << 20, &o.top_k)) return 2;
            i++;
        } else if (strcmp(a, "--exif-transpose") == 0) {
            cli_exif_transpose = true;
        } else if (strcmp(a, "--pixel-values") == 0) {
            if (i + 1 >= argc) return cli_failf("classify", 2, "--pixel-values needs a file");
            npy = argv[++i];
        } else if (a[0] == '-' && a[1] == '-') {
            int r = cli_common_option("classify", argc, argv, &i, &o);
            if (r > 0) return r;
            if (r < 0) return cli_failf("classify", 2, "unknown option '%s'", a);
        } else if (!dir) {
            dir = a;
        } else {
            first = i;
            break;
        }
    }
    if (!dir) {
        usage(stderr);
        return 2;
    }
    lc_model *m = NULL;
    if (lc_model_load(dir, &o.mopt, &m)) return cli_fail("classify");
    int rc = 0;
    lc_array *logits = NULL, *pixels = NULL;
    size_t n = 0;
    char **items = NULL;
    bool files = false;
    if (!lc_model_is_classifier(m)) {
        rc = cli_failf("classify", 1, "%s: %s has no classification head", dir, lc_model_architecture(m));
        goto done;
    }
    if (lc_model_is_vision(m)) {
        if (npy) {
            if (cli_read_npy_f32(npy, &pixels)) {
                rc = cli_fail("classify");
                goto done;
            }
            n = (size_t)lc_array_dim(pixels, 0);
        } else {
            /* Images stream through the model --batch at a time; only the logits are kept. */
            if (cli_expand_image_args(argc - first, argv + first, &n, &items)) {
                rc = cli_fail("classify");
                goto done;
            }
            files = true;
            if (n == 0) {
                rc = cli_failf("classify", 2, "no images given");
                goto done;
            }
            size_t L = lc_model_num_labels(m);
            float *all = malloc(sizeof(float) * n * L);
            lc_status s = all ? LC_OK : lc_error(LC_ERR_NOMEM, "out of memory");
            for (size_t at = 0; !s && at < n; at += (size_t)o.batch) {
                size_t count = n - at < (size_t)o.batch ? n - at : (size_t)o.batch;
                lc_array *px = NULL, *lg = NULL;
                s = cli_images_to_pixels(dir, count, items + at, &px);
                if (!s) s = lc_model_classify_pixels(m, px, &lg);
                if (!s) s = lc_array_read_f32(lg, all + at * L, count * L);
                lc_array_release(px);
                lc_array_release(lg);
            }
            if (s) {
                free(all);
                rc = cli_fail("classify");
                goto done;
            }
            int64_t shape[2] = {(int64_t)n, (int64_t)L};
            s = lc_array_from_data(LC_F32, 2, shape, all, &logits);
            free(all);
            if (s) {
                rc = cli_fail("classify");
                goto done;
            }
        }
        if (n == 0) {
            rc = cli_failf("classify", 2, "no images given");
            goto done;
        }
        if (!logits && lc_model_classify_pixels(m, pixels, &logits)) {
            rc = cli_fail("classify");
            goto done;
        }
    } else {
        if (npy) {
            rc = cli_failf("classify", 2, "--pixel-values is for image models; %s is a text model", dir);
            goto done;
        }
        if (!cli_read_texts("classify", argc - first, argv + first, &n, &items)) {
            rc = 1;
            goto done;
        }
        if (lc_model_classify_texts(m, n, (const char *const *)items, (size_t)o.batch, &logits)) {
            rc = cli_fail("classify");
            goto done;
        }
    }
    void *p = NULL;
    if (lc_array_host_data(logits, &p)) {
        rc = cli_fail("classify");
        goto done;
    }
    print_result(m, dir, n, p, files ? items : NULL, (size_t)o.top_k);
done:
    if (items) cli_free_texts(n, items);
    lc_array_release(logits);
    lc_array_release(pixels);
    lc_model_free(m);
    return rc;
}
