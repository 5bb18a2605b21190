/* libFuzzer target: config.json of a checkpoint directory. Each input becomes the config.json of a
 * scratch directory that holds a small checkpoint's weights and tokenizer (fixtures/models/bert-cls,
 * read from the working directory, which tests/fuzz/run.sh sets to the repository root); whatever
 * loads must then embed and classify two short texts, or fail with an error. */
#include "locus.h"
#include "locus/model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static const char *files[] = {"model.safetensors", "tokenizer.json", "tokenizer_config.json", "config.json"};

static void remove_dir(void) {
    char p[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) {
        fprintf(stderr, "fuzz_model_config: cannot copy %s to %s (run from the repository root)\n", from, to);
        exit(1);
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) exit(1);
    fclose(in);
    fclose(out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    strcpy(dir, "/tmp/locus-fuzz-model-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("fuzz_model_config: mkdtemp");
        exit(1);
    }
    atexit(remove_dir);
    for (size_t i = 0; i + 1 < sizeof files / sizeof files[0]; i++) { /* all but config.json, the input */
        char from[256], to[256];
        snprintf(from, sizeof from, "fixtures/models/bert-cls/%s", files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, files[i]);
        copy_file(from, to);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[128];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    lc_model *m = NULL;
    if (lc_model_load(dir, NULL, &m) == LC_OK) {
        static const char *const texts[] = {"a short text", "and another one, a little longer than the first"};
        lc_array *emb = NULL, *logits = NULL;
        if (lc_model_embed(m, 2, texts, LC_POOL_DEFAULT, -1, 2, &emb, NULL) == LC_OK && !emb) abort();
        if (lc_model_is_classifier(m) && lc_model_classify_texts(m, 2, texts, 2, &logits) == LC_OK) {
            if (!logits || lc_array_dim(logits, 1) != (int64_t)lc_model_num_labels(m)) abort();
            for (size_t i = 0; i < lc_model_num_labels(m); i++)
                if (!lc_model_label(m, i)) abort();
        }
        lc_array_release(emb);
        lc_array_release(logits);
        lc_model_free(m);
    }
    lc_clear_error();
    return 0;
}
