/* The tokenizer's C API on the committed fixtures: special tokens and type ids of single texts and
 * pairs, truncation, errors, and the same ids from several threads sharing one tokenizer. Ids are
 * checked against the tokenizer's own pieces (the Python differential tests compare them with
 * Hugging Face tokenizers); skipped (77) when the fixtures are not found. */
#include "locus/tokenizer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__, #c, lc_last_error()); \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static char path_buf[4096];
static const char *fixture(const char *name) {
    const char *root = getenv("LOCUS_SOURCE_DIR");
    snprintf(path_buf, sizeof path_buf, "%s/tests/data/tokenizers/%s/tokenizer.json", root ? root : ".", name);
    return path_buf;
}

static const char *const texts[] = {
    "Hello, world! Héllo wörld", "The quick brown fox jumps over the lazy dog.", "中文 日本語 한국어", "😀 👩‍💻 🇫🇷 1234",
    "[CLS] <mask> tokenization NoNorm", "", "   ", "unbelievably antidisestablishmentarianism",
};
#define N_TEXTS (sizeof texts / sizeof texts[0])

static bool same(const lc_encoding *a, const lc_encoding *b) {
    return a->len == b->len && (a->len == 0 || (memcmp(a->ids, b->ids, a->len * sizeof *a->ids) == 0 &&
                                                memcmp(a->type_ids, b->type_ids, a->len * sizeof *a->ids) == 0));
}

static void test_bert(void) {
    lc_tokenizer *t = NULL;
    CHECK(lc_tokenizer_load(fixture("wordpiece-bert"), &t) == LC_OK);
    if (!t) return;
    int64_t cls = lc_tokenizer_token_to_id(t, "[CLS]"), sep = lc_tokenizer_token_to_id(t, "[SEP]");
    CHECK(cls >= 0 && sep >= 0 && cls != sep);
    CHECK(lc_tokenizer_token_to_id(t, "no such token at all") == -1);
    CHECK(lc_tokenizer_pad_id(t) == lc_tokenizer_token_to_id(t, "[PAD]"));
    CHECK(lc_tokenizer_vocab_size(t) > 1000);
    for (size_t i = 0; i < N_TEXTS; i++) {
        lc_encoding with, without;
        CHECK(lc_tokenizer_encode(t, texts[i], strlen(texts[i]), true, &with) == LC_OK);
        CHECK(lc_tokenizer_encode(t, texts[i], strlen(texts[i]), false, &without) == LC_OK);
        /* BertProcessing: [CLS] A [SEP], type ids 0, attention 1 */
        CHECK(with.len == without.len + 2);
        if (with.len == without.len + 2) {
            CHECK(with.ids[0] == cls && with.ids[with.len - 1] == sep);
            CHECK(without.len == 0 || memcmp(with.ids + 1, without.ids, without.len * sizeof(int64_t)) == 0);
        }
        for (size_t k = 0; k < with.len; k++) CHECK(with.type_ids[k] == 0 && with.attention_mask[k] == 1);
        /* pairs: [CLS] A [SEP] B [SEP], B and its [SEP] with type 1 */
        const char *b = texts[(i + 3) % N_TEXTS];
        lc_encoding pb, pair;
        CHECK(lc_tokenizer_encode(t, b, strlen(b), false, &pb) == LC_OK);
        CHECK(lc_tokenizer_encode_pair(t, texts[i], strlen(texts[i]), b, strlen(b), true, &pair) == LC_OK);
        CHECK(pair.len == without.len + pb.len + 3);
        if (pair.len == without.len + pb.len + 3) {
            size_t a_end = 1 + without.len;
            CHECK(pair.ids[a_end] == sep && pair.ids[pair.len - 1] == sep);
            CHECK(pb.len == 0 || memcmp(pair.ids + a_end + 1, pb.ids, pb.len * sizeof(int64_t)) == 0);
            for (size_t k = 0; k < pair.len; k++) CHECK(pair.type_ids[k] == (k > a_end ? 1 : 0));
        }
        lc_encoding_free(&with);
        lc_encoding_free(&without);
        lc_encoding_free(&pb);
        lc_encoding_free(&pair);
    }
    /* truncation to the maximum, special tokens included */
    const char *longt = texts[1];
    lc_encoding full, cut;
    lc_tokenizer_set_max_length(t, 0);
    CHECK(lc_tokenizer_max_length(t) == 0);
    CHECK(lc_tokenizer_encode(t, longt, strlen(longt), true, &full) == LC_OK);
    lc_tokenizer_set_max_length(t, 6);
    CHECK(lc_tokenizer_max_length(t) == 6);
    CHECK(lc_tokenizer_encode(t, longt, strlen(longt), true, &cut) == LC_OK);
    CHECK(full.len > 6 && cut.len == 6);
    if (cut.len == 6 && full.len > 6) {
        CHECK(memcmp(cut.ids, full.ids, 5 * sizeof(int64_t)) == 0);
        CHECK(cut.ids[5] == sep);
    }
    lc_encoding_free(&full);
    lc_encoding_free(&cut);
    /* errors */
    lc_encoding e;
    CHECK(lc_tokenizer_encode(t, "bad \xc3\x28", 6, true, &e) == LC_ERR_FORMAT);
    CHECK(strstr(lc_last_error(), "UTF-8") != NULL);
    CHECK(e.len == 0 && e.ids == NULL);
    CHECK(lc_tokenizer_encode(NULL, "x", 1, true, &e) == LC_ERR_ARG);
    CHECK(lc_tokenizer_encode(t, NULL, 3, true, &e) == LC_ERR_ARG);
    lc_tokenizer_free(t);
}

typedef struct job {
    lc_tokenizer *t;
    lc_encoding out[N_TEXTS * 4];
    int rc;
} job;

static void *worker(void *p) {
    job *j = p;
    for (int r = 0; r < 200; r++)
        for (size_t i = 0; i < N_TEXTS * 4; i++) {
            const char *s = texts[i % N_TEXTS];
            lc_encoding e;
            if (lc_tokenizer_encode(j->t, s, strlen(s), i >= N_TEXTS, &e) != LC_OK) j->rc = 1;
            if (r == 0) j->out[i] = e;
            else lc_encoding_free(&e);
        }
    return NULL;
}

static void test_threads(const char *name) {
    lc_tokenizer *t = NULL;
    CHECK(lc_tokenizer_load(fixture(name), &t) == LC_OK);
    if (!t) return;
    job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].t = t;
        CHECK(pthread_create(&th[i], NULL, worker, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        CHECK(jobs[i].rc == 0);
        for (size_t k = 0; k < N_TEXTS * 4; k++) {
            CHECK(same(&jobs[i].out[k], &jobs[0].out[k]));
            if (i) lc_encoding_free(&jobs[i].out[k]);
        }
    }
    for (size_t k = 0; k < N_TEXTS * 4; k++) lc_encoding_free(&jobs[0].out[k]);
    lc_tokenizer_free(t);
}

static void test_load_errors(void) {
    lc_tokenizer *t = (lc_tokenizer *)1;
    CHECK(lc_tokenizer_load("/nonexistent/tokenizer.json", &t) == LC_ERR_IO && t == NULL);
    CHECK(strstr(lc_last_error(), "/nonexistent/tokenizer.json") != NULL);
    const char *bad = "{\"model\": {\"type\": \"Mystery\"}}";
    CHECK(lc_tokenizer_load_json(bad, strlen(bad), "mem.json", &t) == LC_ERR_UNSUPPORTED);
    CHECK(strstr(lc_last_error(), "mem.json") && strstr(lc_last_error(), "Mystery"));
    const char *trunc = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a";
    CHECK(lc_tokenizer_load_json(trunc, strlen(trunc), "mem.json", &t) == LC_ERR_FORMAT);
    const char *merge = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}";
    CHECK(lc_tokenizer_load_json(merge, strlen(merge), "mem.json", &t) == LC_ERR_FORMAT);
    CHECK(strstr(lc_last_error(), "merge 1") != NULL);
    const char *ok = "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0, \"b\": 1}, \"unk_token\": \"b\"},"
                     " \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}}";
    CHECK(lc_tokenizer_load_json(ok, strlen(ok), "mem.json", &t) == LC_OK);
    if (t) {
        lc_encoding e;
        CHECK(lc_tokenizer_encode(t, "a zz a", 6, true, &e) == LC_OK);
        CHECK(e.len == 3 && e.ids[0] == 0 && e.ids[1] == 1 && e.ids[2] == 0);
        lc_encoding_free(&e);
        lc_tokenizer_free(t);
    }
}

int main(void) {
    FILE *f = fopen(fixture("wordpiece-bert"), "rb");
    if (!f) {
        fprintf(stderr, "skipped: fixtures not found (set LOCUS_SOURCE_DIR)\n");
        return 77;
    }
    fclose(f);
    test_bert();
    test_threads("wordpiece-bert");
    test_threads("bpe-bytelevel-roberta");
    test_threads("spm-xlmr-unigram-precompiled");
    test_threads("split-behaviors");
    test_threads("unigram-byte-fallback");
    test_load_errors();
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("tokenizer API: all checks passed\n");
    return 0;
}
