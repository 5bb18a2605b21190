/* Tokenizers: tokenizer.json run exactly as Hugging Face `tokenizers` runs it. */
#ifndef LOCUS_TOKENIZER_H
#define LOCUS_TOKENIZER_H
#include "../locus.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef struct lc_tokenizer lc_tokenizer;

/* One encoded text (or pair), after the post-processor and truncation. */
typedef struct lc_encoding {
    int64_t *ids;
    int64_t *type_ids;
    int64_t *attention_mask; /* 1 for every token (padding is the caller's business) */
    size_t len;
} lc_encoding;

/* Load tokenizer.json. Unknown components are LC_ERR_UNSUPPORTED naming the component. */
lc_status lc_tokenizer_load(const char *path, lc_tokenizer **out);
/* The same from memory: json[0..len) is the file's content, name is used in error messages. */
lc_status lc_tokenizer_load_json(const char *json, size_t len, const char *name, lc_tokenizer **out);
void lc_tokenizer_free(lc_tokenizer *t);
/* Encode UTF-8 text (len bytes; invalid UTF-8 is LC_ERR_FORMAT). pair may be NULL. */
lc_status lc_tokenizer_encode(const lc_tokenizer *t, const char *text, size_t len, bool add_special_tokens,
                              lc_encoding *out);
lc_status lc_tokenizer_encode_pair(const lc_tokenizer *t, const char *text, size_t len, const char *pair,
                                   size_t pair_len, bool add_special_tokens, lc_encoding *out);
void lc_encoding_free(lc_encoding *e);
/* Truncate encodings to at most max_len tokens (special tokens included); 0 disables.
 * tokenizer.json's own "truncation" block is honoured when present. */
void lc_tokenizer_set_max_length(lc_tokenizer *t, size_t max_len);
size_t lc_tokenizer_max_length(const lc_tokenizer *t);
/* Id of a token string, or -1. */
int64_t lc_tokenizer_token_to_id(const lc_tokenizer *t, const char *token);
/* Padding id (from "padding" or the model's pad token; 0 if none). */
int64_t lc_tokenizer_pad_id(const lc_tokenizer *t);
size_t lc_tokenizer_vocab_size(const lc_tokenizer *t);
/* The tokenizer.json path it was loaded from (for messages). */
const char *lc_tokenizer_path(const lc_tokenizer *t);

#ifdef __cplusplus
}
#endif
#endif
