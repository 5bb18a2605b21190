/* libFuzzer target: tokenizer.json parsing on arbitrary bytes. An accepted file must encode a few
 * texts (and a pair) without a crash, leak or sanitizer report; a refused one must say why. */
#include "locus/tokenizer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const texts[] = {
    "Hello, world! Héllo wörld", "  leading  spaces\tand tabs ", "中文 日本語 한국어 ไทย", "😀👩‍💻🇫🇷 1234 3.14",
    "[CLS] <s> </s> <mask> [MASK] <unk>", "", "a", "ﬁ Ⅻ ｆｕｌｌ e\xcc\x81",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lc_tokenizer *t = NULL;
    if (lc_tokenizer_load_json((const char *)data, size, "fuzz.json", &t) != LC_OK) {
        if (lc_last_error()[0] == '\0') abort(); /* a refusal always has a message */
        return 0;
    }
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        lc_encoding e;
        if (lc_tokenizer_encode(t, texts[i], strlen(texts[i]), i % 2 == 0, &e) == LC_OK) {
            for (size_t k = 0; k < e.len; k++)
                if (e.attention_mask[k] != 1) abort();
            lc_encoding_free(&e);
        }
    }
    lc_encoding e;
    if (lc_tokenizer_encode_pair(t, texts[0], strlen(texts[0]), texts[2], strlen(texts[2]), true, &e) == LC_OK)
        lc_encoding_free(&e);
    lc_tokenizer_set_max_length(t, 5);
    if (lc_tokenizer_encode_pair(t, texts[1], strlen(texts[1]), texts[3], strlen(texts[3]), true, &e) == LC_OK) {
        if (e.len > 5 && lc_tokenizer_max_length(t) == 5) {
            /* more than max_length only when the special tokens alone exceed it (as tokenizers does) */
        }
        lc_encoding_free(&e);
    }
    (void)lc_tokenizer_token_to_id(t, "[UNK]");
    (void)lc_tokenizer_vocab_size(t);
    lc_tokenizer_free(t);
    return 0;
}
