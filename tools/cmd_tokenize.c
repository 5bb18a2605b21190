/* locus tokenize MODEL_DIR [TEXT...]: token ids of each text as JSON.
 *   {"data":[{"index":0,"input_ids":[...]}, ...]}
 * Texts come from the arguments, else one per line from standard input. MODEL_DIR is a directory
 * holding tokenizer.json, or the tokenizer.json file itself. Ids are those Hugging Face `tokenizers`
 * gives with `encode(text)`: special tokens added, the file's truncation applied, no padding. */
#include "cli.h"
#include "locus/tokenizer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: locus tokenize MODEL_DIR [options] [TEXT...]\n"
            "  MODEL_DIR            directory with tokenizer.json (or the file itself)\n"
            "  --no-special-tokens  do not add [CLS]/[SEP]-style special tokens\n"
            "  --max-length N       truncate to N tokens (0: no truncation; default: the file's)\n"
            "  --type-ids           also print token_type_ids\n"
            "  --pairs              each text is a pair: first and second part split at the first TAB\n"
            "  --bench SECONDS      encode the texts repeatedly for about SECONDS on one thread and print\n"
            "                       the throughput instead of ids\n"
            "Texts come from the arguments, else one per line from standard input.\n");
}

static lc_status encode_one(const lc_tokenizer *tok, const char *text, bool special, bool pairs, lc_encoding *e) {
    size_t len = strlen(text);
    const char *tab = pairs ? memchr(text, '\t', len) : NULL;
    if (!tab) return lc_tokenizer_encode(tok, text, len, special, e);
    return lc_tokenizer_encode_pair(tok, text, (size_t)(tab - text), tab + 1, len - (size_t)(tab - text) - 1, special, e);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Throughput of lc_tokenizer_encode on these texts, one thread: whole passes over the texts until
 * `seconds` have gone by (at least one pass after a warm-up pass). */
static int run_bench(const lc_tokenizer *tok, char **texts, size_t n, bool special, bool pairs, double seconds) {
    size_t bytes = 0, tokens = 0;
    for (size_t i = 0; i < n; i++) bytes += strlen(texts[i]);
    int passes = 0;
    double best = 1e300, total = 0;
    for (int warm = 1; warm >= 0; warm--) {
        do {
            double t0 = now_s();
            size_t ntok = 0;
            for (size_t i = 0; i < n; i++) {
                lc_encoding e;
                if (encode_one(tok, texts[i], special, pairs, &e) != LC_OK)
                    return cli_failf("tokenize", 1, "text %zu: %s", i + 1, lc_last_error());
                ntok += e.len;
                lc_encoding_free(&e);
            }
            double dt = now_s() - t0;
            if (warm) break;
            tokens = ntok;
            total += dt;
            passes++;
            if (dt < best) best = dt;
        } while (total < seconds);
    }
    printf("{\"texts\":%zu,\"bytes\":%zu,\"tokens\":%zu,\"passes\":%d,\"best_seconds\":%.6f,"
           "\"mean_seconds\":%.6f,\"mb_per_s\":%.3f,\"tokens_per_s\":%.0f}\n",
           n, bytes, tokens, passes, best, total / passes, (double)bytes / best / 1e6, (double)tokens / best);
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    const char *dir = NULL;
    bool special = true, type_ids = false, pairs = false;
    long max_len = -1, bench = -1;
    int first_text = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--no-special-tokens") == 0) {
            special = false;
        } else if (strcmp(a, "--type-ids") == 0) {
            type_ids = true;
        } else if (strcmp(a, "--pairs") == 0) {
            pairs = true;
        } else if (strcmp(a, "--bench") == 0) {
            if (!cli_parse_int("tokenize", a, i + 1 < argc ? argv[i + 1] : NULL, 0, 3600, &bench)) return 2;
            i++;
        } else if (strcmp(a, "--max-length") == 0) {
            if (!cli_parse_int("tokenize", a, i + 1 < argc ? argv[i + 1] : NULL, 0, 1L << 30, &max_len)) return 2;
            i++;
        } else if (strcmp(a, "--") == 0) {
            if (!dir && i + 1 < argc) dir = argv[++i];
            first_text = i + 1;
            break;
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
    struct stat sb;
    char *path = NULL;
    bool is_dir = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (is_dir) {
        size_t n = strlen(dir) + sizeof "/tokenizer.json";
        path = malloc(n);
        if (!path) return cli_failf("tokenize", 1, "out of memory");
        snprintf(path, n, "%s/tokenizer.json", dir);
    } else {
        path = strdup(dir);
        if (!path) return cli_failf("tokenize", 1, "out of memory");
    }
    lc_tokenizer *tok = NULL;
    /* A model directory truncates at the model's maximum, as embed and classify do. */
    if ((is_dir ? lc_model_dir_tokenizer(dir, &tok) : lc_tokenizer_load(path, &tok)) != LC_OK) {
        free(path);
        return cli_fail("tokenize");
    }
    free(path);
    if (max_len >= 0) lc_tokenizer_set_max_length(tok, (size_t)max_len);
    size_t n = 0;
    char **texts = NULL;
    if (!cli_read_texts("tokenize", argc - first_text, argv + first_text, &n, &texts)) {
        lc_tokenizer_free(tok);
        return 1;
    }
    /* encode everything first so that a failure prints one error line and no partial JSON */
    lc_encoding *enc = calloc(n ? n : 1, sizeof *enc);
    if (!enc) {
        cli_free_texts(n, texts);
        lc_tokenizer_free(tok);
        return cli_failf("tokenize", 1, "out of memory");
    }
    int rc = 0;
    if (bench >= 0) {
        rc = run_bench(tok, texts, n, special, pairs, (double)bench);
        free(enc);
        cli_free_texts(n, texts);
        lc_tokenizer_free(tok);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if (encode_one(tok, texts[i], special, pairs, &enc[i]) != LC_OK) {
            rc = cli_failf("tokenize", 1, "text %zu: %s", i + 1, lc_last_error());
            break;
        }
    }
    if (rc == 0) {
        FILE *f = stdout;
        fputs("{\"data\":[", f);
        for (size_t i = 0; i < n; i++) {
            fprintf(f, "%s{\"index\":%zu,\"input_ids\":[", i ? "," : "", i);
            for (size_t k = 0; k < enc[i].len; k++) fprintf(f, k ? ",%lld" : "%lld", (long long)enc[i].ids[k]);
            fputc(']', f);
            if (type_ids) {
                fputs(",\"token_type_ids\":[", f);
                for (size_t k = 0; k < enc[i].len; k++) fprintf(f, k ? ",%lld" : "%lld", (long long)enc[i].type_ids[k]);
                fputc(']', f);
            }
            fputc('}', f);
        }
        fputs("]}\n", f);
        if (fflush(f) != 0) rc = cli_failf("tokenize", 1, "cannot write the output");
    }
    for (size_t i = 0; i < n; i++) lc_encoding_free(&enc[i]);
    free(enc);
    cli_free_texts(n, texts);
    lc_tokenizer_free(tok);
    return rc;
}
