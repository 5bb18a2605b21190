/* libFuzzer target: arbitrary bytes as text through every committed test tokenizer (WordPiece,
 * byte-level BPE, BPE with byte fallback, Unigram with a Precompiled charsmap, regex splits...).
 * The first byte picks the tokenizer and the options; the rest is the text (invalid UTF-8 must be
 * refused with LC_ERR_FORMAT). Run from the repository root (tests/fuzz/run.sh does). */
#include "locus/tokenizer.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOK 32
static lc_tokenizer *toks[MAX_TOK];
static size_t n_toks;

static void load_all(void) {
    const char *root = getenv("LOCUS_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/tokenizers", root ? root : ".");
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) && n_toks < MAX_TOK) {
        if (e->d_name[0] == '.') continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s/tokenizer.json", dir, e->d_name);
        lc_tokenizer *t;
        if (lc_tokenizer_load(p, &t) == LC_OK) toks[n_toks++] = t;
    }
    closedir(d);
}

static const char builtin[] =
    "{\"version\":\"1.0\",\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFKC\"},"
    "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"\\\\s+\"},\"content\":\" \"},{\"type\":\"Lowercase\"}]},"
    "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"prepend_scheme\":\"first\",\"split\":true},"
    "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"byte_fallback\":true,"
    "\"vocab\":{\"<unk>\":0,\"<0x41>\":1,\"a\":2,\"b\":3,\"ab\":4,\"\\u2581\":5,\"\\u2581a\":6},"
    "\"merges\":[\"a b\",[\"\\u2581\",\"a\"]]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) {
        init = 1;
        load_all();
        lc_tokenizer *t;
        if (n_toks < MAX_TOK && lc_tokenizer_load_json(builtin, sizeof builtin - 1, "builtin", &t) == LC_OK)
            toks[n_toks++] = t;
        if (n_toks == 0) abort();
    }
    if (size < 1) return 0;
    unsigned sel = data[0];
    lc_tokenizer *t = toks[sel % n_toks];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    lc_encoding e;
    lc_status st;
    if (sel & 0x80) {
        size_t half = len / 2;
        st = lc_tokenizer_encode_pair(t, text, half, text + half, len - half, (sel & 0x40) != 0, &e);
    } else {
        st = lc_tokenizer_encode(t, text, len, (sel & 0x40) != 0, &e);
    }
    if (st == LC_OK) {
        for (size_t k = 0; k < e.len; k++)
            if (e.ids[k] < 0 || e.attention_mask[k] != 1) abort();
        lc_encoding_free(&e);
    } else if (lc_last_error()[0] == '\0') {
        abort();
    }
    return 0;
}
