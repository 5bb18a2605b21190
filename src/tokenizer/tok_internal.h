/* Internals of the tokenizer: the pieces of a tokenizer.json pipeline and the working buffers.
 *
 * The pipeline is the one Hugging Face `tokenizers` runs:
 *   raw text -> split on added tokens that are not normalized
 *            -> each remaining part normalized on its own -> split on normalized added tokens
 *            -> pre-tokenizer (splits, byte mapping...) -> model (WordPiece, BPE, Unigram)
 *            -> truncation -> post-processor (special tokens, type ids).
 * Only ids are produced (no offsets), so a working string carries one extra fact instead of a full
 * alignment table: `zero`, how many of its leading bytes come from the first character of the
 * original text. Metaspace's prepend_scheme "first" is the only step that needs it. */
#ifndef LOCUS_TOKENIZER_INTERNAL_H
#define LOCUS_TOKENIZER_INTERNAL_H

#include "locus/tokenizer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------------- */
/* Growable buffers                                                                                */
/* ---------------------------------------------------------------------------------------------- */
typedef struct tk_buf {
    char *p;
    size_t len, cap;
} tk_buf;

bool tk_buf_reserve(tk_buf *b, size_t extra); /* room for len + extra bytes */
bool tk_buf_append(tk_buf *b, const void *s, size_t n);
bool tk_buf_push_cp(tk_buf *b, uint32_t cp); /* UTF-8 encode one code point */
void tk_buf_free(tk_buf *b);

typedef struct tk_ids {
    int32_t *v;
    size_t n, cap;
} tk_ids;
bool tk_ids_push(tk_ids *a, int32_t id);
void tk_ids_free(tk_ids *a);

/* ---------------------------------------------------------------------------------------------- */
/* UTF-8 and Unicode properties (as the Rust crates `tokenizers` uses define them)                  */
/* ---------------------------------------------------------------------------------------------- */
/* Decode the code point at s[0..n) (the text is already valid UTF-8); *len gets its byte length. */
static inline uint32_t tk_utf8_decode(const unsigned char *s, size_t n, size_t *len) {
    unsigned c = s[0];
    if (c < 0x80 || n < 2) { *len = 1; return c; }
    if (c < 0xe0) { *len = 2; return ((c & 0x1fu) << 6) | (s[1] & 0x3fu); }
    if (c < 0xf0 || n < 4) {
        if (n < 3) { *len = n; return 0xfffd; }
        *len = 3;
        return ((c & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
    }
    *len = 4;
    return ((c & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) | (s[3] & 0x3fu);
}
static inline size_t tk_utf8_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4; }
bool tk_utf8_valid(const char *s, size_t len);

bool tk_is_whitespace(uint32_t cp);      /* Rust char::is_whitespace (White_Space) */
bool tk_is_punctuation(uint32_t cp);     /* ASCII punctuation or Unicode P* (unicode_categories) */
bool tk_is_other(uint32_t cp);           /* Cc Cf Co Cs (unicode_categories is_other) */
bool tk_is_mark_nonspacing(uint32_t cp); /* Mn */
bool tk_is_combining_mark(uint32_t cp);  /* Mn Mc Me */
bool tk_is_numeric(uint32_t cp);         /* Rust char::is_numeric: Nd Nl No */
bool tk_is_word(uint32_t cp);            /* regex crate \w */
bool tk_is_letter(uint32_t cp);          /* \p{L} (Oniguruma) */
bool tk_is_number(uint32_t cp);          /* \p{N} (Oniguruma) */
bool tk_is_onig_space(uint32_t cp);      /* \s (Oniguruma, Unicode) */
bool tk_is_chinese(uint32_t cp);         /* the CJK blocks of BERT's tokenizer */
/* Rust char::to_lowercase: appends the lowercase form (1 or 2 code points) to out[]; returns count. */
int tk_to_lowercase(uint32_t cp, uint32_t out[3]);

/* ---------------------------------------------------------------------------------------------- */
/* String -> id hash map                                                                           */
/* ---------------------------------------------------------------------------------------------- */
typedef struct tk_map_entry {
    uint32_t off, len; /* key bytes in pool */
    uint32_t hash;
    int32_t value;
} tk_map_entry;

typedef struct tk_map {
    uint32_t *slots; /* entry index + 1; 0 = empty */
    size_t mask;
    tk_map_entry *entries;
    size_t n, cap;
    tk_buf pool;
} tk_map;

uint32_t tk_hash(const void *s, size_t n);
/* Insert or overwrite (the last value wins, as a Rust HashMap collect does). */
bool tk_map_put(tk_map *m, const char *key, size_t len, int32_t value);
/* -1 when absent. */
int32_t tk_map_get(const tk_map *m, const char *key, size_t len);
static inline const char *tk_map_key(const tk_map *m, size_t i) { return m->pool.p + m->entries[i].off; }
void tk_map_free(tk_map *m);

/* ---------------------------------------------------------------------------------------------- */
/* Regular expressions (Oniguruma, the engine `tokenizers` uses) and literal patterns              */
/* ---------------------------------------------------------------------------------------------- */
typedef struct tk_regex tk_regex;
/* literal: match the string itself (tokenizers escapes String patterns). */
lc_status tk_regex_new(const char *path, const char *pattern, size_t len, bool literal, tk_regex **out);
void tk_regex_free(tk_regex *r);
/* Non-overlapping matches over s[0..n), as tokenizers' SysRegex::find_iter reports them, into the
 * growable array *v (*count of them, *cap allocated); false on a matcher error or out of memory. */
typedef struct tk_match {
    size_t start, end;
} tk_match;
bool tk_regex_find_all(const tk_regex *r, const char *s, size_t n, tk_match **v, size_t *count, size_t *cap);

/* ---------------------------------------------------------------------------------------------- */
/* Normalizers                                                                                     */
/* ---------------------------------------------------------------------------------------------- */
typedef enum tk_norm_kind {
    TK_N_BERT, TK_N_NFC, TK_N_NFD, TK_N_NFKC, TK_N_NFKD, TK_N_LOWERCASE, TK_N_STRIP, TK_N_STRIP_ACCENTS,
    TK_N_REPLACE, TK_N_PREPEND, TK_N_PRECOMPILED, TK_N_SEQUENCE, TK_N_BYTELEVEL, TK_N_NMT
} tk_norm_kind;

typedef struct tk_precompiled tk_precompiled;

typedef struct tk_work tk_work;
typedef struct tk_norm {
    tk_norm_kind kind;
    bool clean_text, handle_chinese, strip_accents, lowercase; /* Bert */
    bool strip_left, strip_right;                              /* Strip */
    tk_regex *regex;                                           /* Replace */
    char *content;                                             /* Replace content, Prepend string */
    size_t content_len;
    tk_precompiled *pc;
    struct tk_norm **children;
    size_t n_children;
} tk_norm;

/* The working string of a normalizer or pre-tokenizer step. */
typedef struct tk_text {
    tk_buf s;
    size_t zero; /* leading bytes that come from the original text's first character */
} tk_text;

lc_status tk_norm_parse(const char *path, const void *json, tk_norm **out);
/* A Replace/Split "pattern" object ({"String": s} or {"Regex": r}) of the component object o. */
lc_status tk_parse_pattern(const char *path, const char *what, const void *o, tk_regex **out);
void tk_norm_free(tk_norm *n);
/* Normalize t in place (tmp is scratch space). */
lc_status tk_norm_apply(const tk_norm *n, tk_text *t, tk_buf *tmp, tk_work *w);

lc_status tk_precompiled_new(const char *path, const char *b64, tk_precompiled **out);
void tk_precompiled_free(tk_precompiled *p);
lc_status tk_precompiled_apply(const tk_precompiled *p, tk_text *t, tk_buf *tmp);

/* ---------------------------------------------------------------------------------------------- */
/* Pre-tokenizers                                                                                  */
/* ---------------------------------------------------------------------------------------------- */
typedef enum tk_split_behavior {
    TK_SPLIT_REMOVED, TK_SPLIT_ISOLATED, TK_SPLIT_MERGED_PREV, TK_SPLIT_MERGED_NEXT, TK_SPLIT_CONTIGUOUS
} tk_split_behavior;

typedef enum tk_pre_kind {
    TK_P_BERT, TK_P_BYTELEVEL, TK_P_METASPACE, TK_P_WHITESPACE, TK_P_WHITESPACE_SPLIT, TK_P_PUNCTUATION,
    TK_P_SPLIT, TK_P_DIGITS, TK_P_SEQUENCE, TK_P_CHAR_DELIMITER, TK_P_FIXED_LENGTH
} tk_pre_kind;

typedef enum tk_prepend_scheme { TK_PREPEND_ALWAYS, TK_PREPEND_FIRST, TK_PREPEND_NEVER } tk_prepend_scheme;

typedef struct tk_pre {
    tk_pre_kind kind;
    bool add_prefix_space, use_regex;      /* ByteLevel */
    uint32_t replacement;                  /* Metaspace */
    char rep_utf8[5];
    size_t rep_len;
    tk_prepend_scheme prepend_scheme;
    bool split;
    tk_split_behavior behavior; /* Punctuation, Split */
    bool invert;                /* Split */
    tk_regex *regex;            /* Split */
    bool individual_digits;     /* Digits */
    size_t length;              /* FixedLength: characters per piece */
    void *bytemap;              /* ByteLevel: byte -> character table */
    struct tk_pre **children;
    size_t n_children;
} tk_pre;

/* A piece of text between steps: bytes [off, off+len) of the arena, or an added token (id >= 0). */
typedef struct tk_piece {
    uint32_t off, len;
    uint32_t zero; /* leading bytes from the original first character (Metaspace "first") */
    int32_t id;    /* -1: text still to tokenize */
} tk_piece;

typedef struct tk_pieces {
    tk_piece *v;
    size_t n, cap;
} tk_pieces;
bool tk_pieces_push(tk_pieces *p, tk_piece x);

lc_status tk_pre_parse(const char *path, const void *json, tk_pre **out);
void tk_pre_free(tk_pre *p);
/* Replace w->pieces by their pre-tokenized pieces. */
lc_status tk_pre_apply(const tk_pre *p, tk_work *w);

/* ---------------------------------------------------------------------------------------------- */
/* Models                                                                                          */
/* ---------------------------------------------------------------------------------------------- */
typedef enum tk_model_kind { TK_M_WORDPIECE, TK_M_BPE, TK_M_UNIGRAM, TK_M_WORDLEVEL } tk_model_kind;

typedef struct tk_merge_entry {
    uint64_t key; /* (left << 32) | right */
    uint32_t rank;
    int32_t new_id;
} tk_merge_entry;

typedef struct tk_model {
    tk_model_kind kind;
    tk_map vocab;
    size_t vocab_size; /* number of distinct tokens (the HashMap's len) */
    int32_t unk_id;    /* -1 if none */
    char *unk_token;
    /* WordPiece */
    char *prefix; /* continuing_subword_prefix (WordPiece, BPE) */
    size_t prefix_len;
    size_t max_input_chars_per_word;
    /* BPE */
    char *suffix; /* end_of_word_suffix */
    size_t suffix_len;
    bool fuse_unk, byte_fallback, ignore_merges;
    tk_merge_entry *merges; /* open-addressed hash on key */
    size_t merges_mask;
    int32_t byte_ids[256]; /* <0xXX> tokens for byte fallback, -1 if absent */
    int32_t *char_ids;     /* BPE: id of each single code point < U+0800 (fast path), -1 = not in vocab */
    struct tk_bpe_cache *cache; /* BPE: word -> ids, shared by threads (try-locked) */
    /* Unigram */
    double *scores; /* per id */
    size_t n_pieces;
    double min_score;
    struct tk_trie *trie;
} tk_model;

lc_status tk_model_parse(const char *path, const void *json, tk_model *m);
void tk_model_free(tk_model *m);
/* Tokenize one pre-tokenized piece (non-empty) and append its ids. */
lc_status tk_model_tokenize(const tk_model *m, const char *s, size_t n, tk_ids *out, tk_work *w);
int32_t tk_model_token_to_id(const tk_model *m, const char *s, size_t n);

/* ---------------------------------------------------------------------------------------------- */
/* Byte trie (Unigram vocabulary, added tokens): common-prefix search over bytes                    */
/* ---------------------------------------------------------------------------------------------- */
typedef struct tk_trie tk_trie;
tk_trie *tk_trie_new(void);
bool tk_trie_insert(tk_trie *t, const char *key, size_t len, int32_t value);
bool tk_trie_build(tk_trie *t); /* freeze after the inserts (needed before searching) */
/* Walks s from the start; calls back (prefix length, value) for every key that is a prefix of s, in
 * increasing length. Returns false to stop early from the callback. */
typedef bool (*tk_trie_fn)(void *ctx, size_t len, int32_t value);
void tk_trie_prefixes(const tk_trie *t, const char *s, size_t n, tk_trie_fn fn, void *ctx);
/* Longest key that is a prefix of s: its length (0 if none) and value. */
size_t tk_trie_longest(const tk_trie *t, const char *s, size_t n, int32_t *value);
bool tk_trie_first_byte(const tk_trie *t, unsigned char c); /* could a key start with c? */
bool tk_trie_empty(const tk_trie *t);
void tk_trie_free(tk_trie *t);

/* ---------------------------------------------------------------------------------------------- */
/* Scratch space of one encode call                                                                */
/* ---------------------------------------------------------------------------------------------- */
struct tk_work {
    tk_buf arena; /* texts of the pieces */
    tk_pieces pieces, next;
    tk_text text;
    tk_buf tmp, tmp2;
    tk_match *matches;
    size_t n_matches, cap_matches;
    struct tk_span { uint32_t s, e; bool m; } *spans;
    size_t n_spans, cap_spans;
    /* model scratch */
    void *sym;
    size_t sym_cap;
    void *heap;
    size_t heap_cap;
    void *lattice;
    size_t lattice_cap;
};
void tk_work_free(tk_work *w);

#endif
