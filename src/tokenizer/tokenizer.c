/* tokenizer.json loading and the encode pipeline (added tokens, normalizer, pre-tokenizer, model,
 * truncation, post-processor), in the order Hugging Face `tokenizers` runs them. */
#include "json_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------- */
/* The tokenizer                                                                                    */
/* ---------------------------------------------------------------------------------------------- */
typedef struct added_token {
    char *content;
    size_t len;
    int32_t id;
    bool single_word, lstrip, rstrip, normalized, special;
} added_token;

typedef enum post_kind { POST_NONE, POST_TEMPLATE, POST_BERT, POST_ROBERTA } post_kind;

typedef struct template_piece {
    bool is_special;
    int seq;          /* 0 = A, 1 = B */
    int32_t *ids;     /* special token ids */
    size_t n_ids;
    int64_t type_id;
} template_piece;

typedef enum trunc_strategy { TRUNC_LONGEST_FIRST, TRUNC_ONLY_FIRST, TRUNC_ONLY_SECOND } trunc_strategy;

struct lc_tokenizer {
    char *path;
    tk_model model;
    tk_norm *normalizer;
    tk_pre *pre;
    /* added tokens: by id (the last token given an id wins), tries over their patterns */
    added_token *added;
    size_t n_added;
    tk_map added_ids; /* content -> id */
    tk_trie *raw_trie, *norm_trie;
    /* post-processor */
    post_kind post;
    template_piece *single, *pair;
    size_t n_single, n_pair;
    int32_t cls_id, sep_id;
    size_t added_single, added_pair;
    /* truncation */
    bool trunc_on;
    size_t trunc_max;
    trunc_strategy trunc_strategy;
    bool trunc_left;
    size_t user_max; /* lc_tokenizer_set_max_length; SIZE_MAX = not set */
    int64_t pad_id;
};

static lc_status nomem(const char *path) { return lc_error(LC_ERR_NOMEM, "%s: out of memory", path); }

static void free_template(template_piece *t, size_t n) {
    for (size_t i = 0; i < n; i++) free(t[i].ids);
    free(t);
}

void lc_tokenizer_free(lc_tokenizer *t) {
    if (!t) return;
    tk_model_free(&t->model);
    tk_norm_free(t->normalizer);
    tk_pre_free(t->pre);
    for (size_t i = 0; i < t->n_added; i++) free(t->added[i].content);
    free(t->added);
    tk_map_free(&t->added_ids);
    tk_trie_free(t->raw_trie);
    tk_trie_free(t->norm_trie);
    free_template(t->single, t->n_single);
    free_template(t->pair, t->n_pair);
    free(t->path);
    free(t);
}

/* ---------------------------------------------------------------------------------------------- */
/* Added tokens                                                                                     */
/* ---------------------------------------------------------------------------------------------- */
static lc_status normalize_string(const lc_tokenizer *t, const char *s, size_t n, tk_buf *out);

static lc_status parse_added_tokens(lc_tokenizer *t, const cJSON *arr) {
    const char *path = t->path;
    if (!arr || cJSON_IsNull(arr)) return LC_OK;
    if (!cJSON_IsArray(arr)) return lc_error(LC_ERR_FORMAT, "%s: \"added_tokens\" is not a list", path);
    size_t cnt = (size_t)cJSON_GetArraySize(arr);
    t->added = calloc(cnt ? cnt : 1, sizeof *t->added);
    if (!t->added) return nomem(path);
    /* ids as AddedVocabulary::add_tokens gives them: an existing token keeps its id, then the
     * model's id for the content, else the next id after the model's vocabulary */
    int64_t next_id = (int64_t)t->model.vocab_size;
    const cJSON *e;
    lc_status st;
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsObject(e)) return lc_error(LC_ERR_FORMAT, "%s: an added token is not an object", path);
        const char *content;
        added_token a = {0};
        const char *what = "added token";
        if ((st = tkj_str(path, what, e, "content", &content))) return st;
        if (!content) return lc_error(LC_ERR_FORMAT, "%s: an added token has no \"content\"", path);
        if ((st = tkj_bool(path, what, e, "special", false, &a.special)) ||
            (st = tkj_bool(path, what, e, "single_word", false, &a.single_word)) ||
            (st = tkj_bool(path, what, e, "lstrip", false, &a.lstrip)) ||
            (st = tkj_bool(path, what, e, "rstrip", false, &a.rstrip)) ||
            (st = tkj_bool(path, what, e, "normalized", !a.special, &a.normalized)))
            return st;
        a.len = strlen(content);
        if (a.len == 0) continue;
        int32_t existing = tk_map_get(&t->added_ids, content, a.len);
        int32_t id;
        if (existing >= 0) id = existing;
        else if ((id = tk_model_token_to_id(&t->model, content, a.len)) < 0) {
            if (next_id > INT32_MAX) return lc_error(LC_ERR_FORMAT, "%s: too many added tokens", path);
            id = (int32_t)next_id++;
        }
        a.id = id;
        if (!(a.content = tk_strndup(content, a.len))) return nomem(path);
        if (!tk_map_put(&t->added_ids, content, a.len, id)) {
            free(a.content);
            return nomem(path);
        }
        /* one token per id: a later one replaces the earlier */
        size_t k = 0;
        while (k < t->n_added && t->added[k].id != id) k++;
        if (k < t->n_added) free(t->added[k].content);
        else t->n_added++;
        t->added[k] = a;
    }
    /* the two matchers: raw text for normalized=false, normalized text for normalized=true */
    t->raw_trie = tk_trie_new();
    t->norm_trie = tk_trie_new();
    if (!t->raw_trie || !t->norm_trie) return nomem(path);
    tk_buf nb = {0};
    for (size_t i = 0; i < t->n_added; i++) {
        added_token *a = &t->added[i];
        bool ok;
        if (a->normalized) {
            const char *pat = a->content;
            size_t pl = a->len;
            if (t->normalizer) {
                if ((st = normalize_string(t, a->content, a->len, &nb))) {
                    tk_buf_free(&nb);
                    return st;
                }
                pat = nb.p;
                pl = nb.len;
            }
            ok = pl == 0 || tk_trie_insert(t->norm_trie, pat, pl, (int32_t)i);
        } else {
            ok = tk_trie_insert(t->raw_trie, a->content, a->len, (int32_t)i);
        }
        if (!ok) {
            tk_buf_free(&nb);
            return nomem(path);
        }
    }
    tk_buf_free(&nb);
    if (!tk_trie_build(t->raw_trie) || !tk_trie_build(t->norm_trie)) return nomem(path);
    return LC_OK;
}

static bool last_char_is_word(const char *s, size_t end) {
    if (end == 0) return false;
    size_t p = end - 1;
    while (p > 0 && ((unsigned char)s[p] & 0xc0) == 0x80) p--;
    size_t l;
    return tk_is_word(tk_utf8_decode((const unsigned char *)s + p, end - p, &l));
}

static bool first_char_is_word(const char *s, size_t start, size_t n) {
    if (start >= n) return false;
    size_t l;
    return tk_is_word(tk_utf8_decode((const unsigned char *)s + start, n - start, &l));
}

/* AddedVocabulary::find_matches: spans of s that are added tokens (value = index in t->added) or
 * text (value = -1), with single_word, lstrip and rstrip applied. Calls fn for each span. */
typedef lc_status (*span_fn)(void *ctx, size_t start, size_t end, int32_t added_index);

static lc_status find_added(const lc_tokenizer *t, const tk_trie *trie, const char *s, size_t n, span_fn fn, void *ctx) {
    lc_status st;
    size_t start_offset = 0;
    if (!tk_trie_empty(trie)) {
        bool first[256];
        for (int c = 0; c < 256; c++) first[c] = tk_trie_first_byte(trie, (unsigned char)c);
        size_t i = 0;
        while (i < n) {
            if (!first[(unsigned char)s[i]]) {
                i++;
                continue;
            }
            int32_t idx = -1;
            size_t ml = tk_trie_longest(trie, s + i, n - i, &idx);
            if (ml == 0) {
                i++;
                continue;
            }
            size_t start = i, stop = i + ml;
            i = stop;
            const added_token *a = &t->added[idx];
            if (a->single_word) {
                bool start_space = start == 0 || !last_char_is_word(s, start);
                bool stop_space = stop == n || !first_char_is_word(s, stop, n);
                if (!start_space || !stop_space) continue;
            }
            if (a->lstrip) {
                size_t ns = start;
                while (ns > 0) {
                    size_t p = ns - 1;
                    while (p > 0 && ((unsigned char)s[p] & 0xc0) == 0x80) p--;
                    size_t l;
                    if (!tk_is_whitespace(tk_utf8_decode((const unsigned char *)s + p, ns - p, &l))) break;
                    ns = p;
                }
                start = ns > start_offset ? ns : start_offset;
            }
            if (a->rstrip) {
                while (stop < n) {
                    size_t l;
                    if (!tk_is_whitespace(tk_utf8_decode((const unsigned char *)s + stop, n - stop, &l))) break;
                    stop += l;
                }
            }
            if (start_offset < start && (st = fn(ctx, start_offset, start, -1))) return st;
            if ((st = fn(ctx, start, stop, idx))) return st;
            start_offset = stop;
        }
    }
    if (start_offset < n && (st = fn(ctx, start_offset, n, -1))) return st;
    return LC_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* Encoding one sequence                                                                            */
/* ---------------------------------------------------------------------------------------------- */
typedef struct seg_ctx {
    const lc_tokenizer *t;
    tk_work *w;
    const char *text;
    size_t base_zero; /* for a raw segment: bytes of the first character when it starts the text */
} seg_ctx;

static lc_status push_piece(tk_work *w, const char *s, size_t n, size_t zero, int32_t id) {
    if (n == 0) return LC_OK;
    if (w->arena.len > UINT32_MAX - n) return lc_error(LC_ERR_NOMEM, "tokenizer: text too long");
    tk_piece p = {(uint32_t)w->arena.len, (uint32_t)n, (uint32_t)zero, id};
    if (!tk_buf_append(&w->arena, s, n) || !tk_pieces_push(&w->pieces, p))
        return lc_error(LC_ERR_NOMEM, "tokenizer: out of memory");
    return LC_OK;
}

static lc_status on_norm_span(void *ctx, size_t a, size_t b, int32_t idx) {
    seg_ctx *c = ctx;
    tk_text *tx = &c->w->text;
    size_t zero = tx->zero > a ? tx->zero - a : 0;
    return push_piece(c->w, tx->s.p + a, b - a, zero, idx >= 0 ? c->t->added[idx].id : -1);
}

static lc_status on_raw_span(void *ctx, size_t a, size_t b, int32_t idx) {
    seg_ctx *c = ctx;
    const lc_tokenizer *t = c->t;
    tk_work *w = c->w;
    if (idx >= 0) return push_piece(w, c->text + a, b - a, 0, t->added[idx].id);
    tk_text *tx = &w->text;
    tx->s.len = 0;
    if (!tk_buf_append(&tx->s, c->text + a, b - a)) return lc_error(LC_ERR_NOMEM, "tokenizer: out of memory");
    tx->zero = a == 0 ? tk_utf8_len((unsigned char)c->text[0]) : 0;
    if (tx->zero > b - a) tx->zero = b - a;
    lc_status st;
    if (t->normalizer && (st = tk_norm_apply(t->normalizer, tx, &w->tmp, w))) return st;
    return find_added(t, t->norm_trie, tx->s.p, tx->s.len, on_norm_span, c);
}

static lc_status encode_sequence(const lc_tokenizer *t, const char *text, size_t len, tk_work *w, tk_ids *ids) {
    w->arena.len = 0;
    w->pieces.n = 0;
    seg_ctx c = {t, w, text, 0};
    lc_status st = find_added(t, t->raw_trie, text, len, on_raw_span, &c);
    if (st) return st;
    if (t->pre && (st = tk_pre_apply(t->pre, w))) return st;
    for (size_t i = 0; i < w->pieces.n; i++) {
        tk_piece p = w->pieces.v[i];
        if (p.id >= 0) {
            if (!tk_ids_push(ids, p.id)) return lc_error(LC_ERR_NOMEM, "tokenizer: out of memory");
        } else if ((st = tk_model_tokenize(&t->model, w->arena.p + p.off, p.len, ids, w))) {
            return st;
        }
    }
    return LC_OK;
}

/* Normalize a standalone string (an added token's content) with the tokenizer's normalizer. */
static lc_status normalize_string(const lc_tokenizer *t, const char *s, size_t n, tk_buf *out) {
    tk_work w = {0};
    lc_status st = LC_OK;
    if (!tk_buf_append(&w.text.s, s, n)) st = nomem(t->path);
    w.text.zero = n ? tk_utf8_len((unsigned char)s[0]) : 0;
    if (!st) st = tk_norm_apply(t->normalizer, &w.text, &w.tmp, &w);
    out->len = 0;
    if (!st && !tk_buf_append(out, w.text.s.p, w.text.s.len)) st = nomem(t->path);
    tk_work_free(&w);
    return st;
}

/* ---------------------------------------------------------------------------------------------- */
/* Post-processor                                                                                   */
/* ---------------------------------------------------------------------------------------------- */
static lc_status parse_special_pair(const char *path, const char *what, const cJSON *j, const char *key,
                                    int32_t *id) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    const cJSON *n = cJSON_GetArrayItem(v, 1);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsString(cJSON_GetArrayItem(v, 0)) ||
        !cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > INT32_MAX)
        return lc_error(LC_ERR_FORMAT, "%s: %s: \"%s\" is not [\"token\", id]", path, what, key);
    *id = (int32_t)n->valuedouble;
    return LC_OK;
}

static lc_status parse_template(lc_tokenizer *t, const cJSON *pp, const char *key, template_piece **out, size_t *n_out,
                                size_t *added) {
    const char *path = t->path;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(pp, key);
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
    if (!cJSON_IsArray(arr)) return lc_error(LC_ERR_FORMAT, "%s: TemplateProcessing: \"%s\" is not a list", path, key);
    size_t cnt = (size_t)cJSON_GetArraySize(arr);
    template_piece *v = calloc(cnt ? cnt : 1, sizeof *v);
    if (!v) return nomem(path);
    *out = v;
    *n_out = 0;
    *added = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        template_piece *p = &v[(*n_out)++];
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(e, "Sequence");
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(e, "SpecialToken");
        const cJSON *body = seq ? seq : sp;
        const cJSON *idv = cJSON_GetObjectItemCaseSensitive(body, "id");
        const cJSON *tyv = cJSON_GetObjectItemCaseSensitive(body, "type_id");
        if (!body || !cJSON_IsString(idv) ||
            (tyv && (!cJSON_IsNumber(tyv) || tyv->valuedouble < 0 || tyv->valuedouble > 2147483647.0)))
            return lc_error(LC_ERR_FORMAT, "%s: TemplateProcessing: bad piece in \"%s\"", path, key);
        p->type_id = tyv ? (int64_t)tyv->valuedouble : 0;
        if (seq) {
            if (strcmp(idv->valuestring, "A") == 0) p->seq = 0;
            else if (strcmp(idv->valuestring, "B") == 0) p->seq = 1;
            else return lc_error(LC_ERR_FORMAT, "%s: TemplateProcessing: sequence '%s' is neither A nor B", path, idv->valuestring);
            continue;
        }
        p->is_special = true;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(specials, idv->valuestring);
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(st, "ids");
        if (!cJSON_IsArray(ids))
            return lc_error(LC_ERR_FORMAT, "%s: TemplateProcessing: special token '%s' is not in \"special_tokens\"", path,
                            idv->valuestring);
        size_t k = (size_t)cJSON_GetArraySize(ids);
        p->ids = calloc(k ? k : 1, sizeof *p->ids);
        if (!p->ids) return nomem(path);
        const cJSON *x;
        cJSON_ArrayForEach(x, ids) {
            if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > INT32_MAX)
                return lc_error(LC_ERR_FORMAT, "%s: TemplateProcessing: special token '%s' has a bad id", path, idv->valuestring);
            p->ids[p->n_ids++] = (int32_t)x->valuedouble;
        }
        *added += p->n_ids;
    }
    return LC_OK;
}

static lc_status parse_post(lc_tokenizer *t, const cJSON *pp, int depth) {
    const char *path = t->path;
    if (!pp || cJSON_IsNull(pp)) return LC_OK;
    if (depth > 8) return lc_error(LC_ERR_FORMAT, "%s: post_processor nested too deeply", path);
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(pp, "type");
    if (!cJSON_IsObject(pp) || !cJSON_IsString(ty)) return lc_error(LC_ERR_FORMAT, "%s: post_processor without a \"type\"", path);
    const char *type = ty->valuestring;
    lc_status st;
    if (strcmp(type, "ByteLevel") == 0) return LC_OK; /* changes offsets only */
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(pp, "processors");
        if (!cJSON_IsArray(arr)) return lc_error(LC_ERR_FORMAT, "%s: post_processor Sequence without \"processors\"", path);
        const cJSON *e;
        cJSON_ArrayForEach(e, arr) {
            post_kind before = t->post;
            if ((st = parse_post(t, e, depth + 1))) return st;
            if (before != POST_NONE && t->post != before)
                return lc_error(LC_ERR_UNSUPPORTED, "%s: a post_processor Sequence with two processors that add tokens is not supported", path);
        }
        return LC_OK;
    }
    if (t->post != POST_NONE)
        return lc_error(LC_ERR_UNSUPPORTED, "%s: a post_processor Sequence with two processors that add tokens is not supported", path);
    if (strcmp(type, "TemplateProcessing") == 0) {
        t->post = POST_TEMPLATE;
        if ((st = parse_template(t, pp, "single", &t->single, &t->n_single, &t->added_single))) return st;
        return parse_template(t, pp, "pair", &t->pair, &t->n_pair, &t->added_pair);
    }
    if (strcmp(type, "BertProcessing") == 0 || strcmp(type, "RobertaProcessing") == 0) {
        bool bert = type[0] == 'B';
        t->post = bert ? POST_BERT : POST_ROBERTA;
        if ((st = parse_special_pair(path, type, pp, "sep", &t->sep_id)) ||
            (st = parse_special_pair(path, type, pp, "cls", &t->cls_id)))
            return st;
        t->added_single = 2;
        t->added_pair = bert ? 3 : 4;
        return LC_OK;
    }
    return lc_error(LC_ERR_UNSUPPORTED, "%s: post_processor type '%s' is not supported", path, type);
}

/* ---------------------------------------------------------------------------------------------- */
/* Loading                                                                                          */
/* ---------------------------------------------------------------------------------------------- */
static lc_status read_file(const char *path, char **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return lc_error(LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    tk_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (!tk_buf_append(&b, chunk, n)) {
            fclose(f);
            tk_buf_free(&b);
            return nomem(path);
        }
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        tk_buf_free(&b);
        return lc_error(LC_ERR_IO, "%s: read error", path);
    }
    if (!tk_buf_append(&b, "", 1)) {
        tk_buf_free(&b);
        return nomem(path);
    }
    *data = b.p;
    *len = b.len - 1;
    return LC_OK;
}

/* The decoder does not change ids, but a file naming a decoder tokenizers does not know is one it
 * refuses to load: refuse it too, naming the decoder. */
static lc_status check_decoder(const char *path, const cJSON *d, int depth) {
    static const char *const known[] = {"BPEDecoder", "ByteLevel", "WordPiece", "Metaspace", "CTC", "Sequence",
                                        "Replace", "Fuse", "Strip", "ByteFallback"};
    if (!d || cJSON_IsNull(d)) return LC_OK;
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(d, "type");
    if (!cJSON_IsObject(d) || !cJSON_IsString(ty) || depth > 16)
        return lc_error(LC_ERR_FORMAT, "%s: decoder without a \"type\"", path);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(ty->valuestring, known[i]) == 0) {
            if (i == 5) {
                const cJSON *e;
                cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(d, "decoders")) {
                    lc_status st = check_decoder(path, e, depth + 1);
                    if (st) return st;
                }
            }
            return LC_OK;
        }
    return lc_error(LC_ERR_UNSUPPORTED, "%s: decoder type '%s' is not supported", path, ty->valuestring);
}

static lc_status parse_truncation(lc_tokenizer *t, const cJSON *tr) {
    const char *path = t->path;
    if (!tr || cJSON_IsNull(tr)) return LC_OK;
    if (!cJSON_IsObject(tr)) return lc_error(LC_ERR_FORMAT, "%s: \"truncation\" is not an object", path);
    lc_status st = tkj_uint(path, "truncation", tr, "max_length", 1e15, 512, &t->trunc_max);
    if (st) return st;
    const char *s, *d;
    if ((st = tkj_str(path, "truncation", tr, "strategy", &s)) || (st = tkj_str(path, "truncation", tr, "direction", &d)))
        return st;
    if (!s || strcmp(s, "LongestFirst") == 0) t->trunc_strategy = TRUNC_LONGEST_FIRST;
    else if (strcmp(s, "OnlyFirst") == 0) t->trunc_strategy = TRUNC_ONLY_FIRST;
    else if (strcmp(s, "OnlySecond") == 0) t->trunc_strategy = TRUNC_ONLY_SECOND;
    else return lc_error(LC_ERR_FORMAT, "%s: truncation: unknown strategy '%s'", path, s);
    if (!d || strcmp(d, "Right") == 0) t->trunc_left = false;
    else if (strcmp(d, "Left") == 0) t->trunc_left = true;
    else return lc_error(LC_ERR_FORMAT, "%s: truncation: unknown direction '%s'", path, d);
    t->trunc_on = true;
    return LC_OK;
}

lc_status lc_tokenizer_load(const char *path, lc_tokenizer **out) {
    if (!path || !out) return lc_error(LC_ERR_ARG, "lc_tokenizer_load: NULL argument");
    *out = NULL;
    char *data;
    size_t len;
    lc_status st = read_file(path, &data, &len);
    if (st) return st;
    st = lc_tokenizer_load_json(data, len, path, out);
    free(data);
    return st;
}

lc_status lc_tokenizer_load_json(const char *data, size_t len, const char *path, lc_tokenizer **out) {
    if (!out || (!data && len)) return lc_error(LC_ERR_ARG, "lc_tokenizer_load_json: NULL argument");
    *out = NULL;
    if (!path) path = "tokenizer.json";
    if (!data) data = "";
    lc_status st;
    if (!tk_utf8_valid(data, len)) return lc_error(LC_ERR_FORMAT, "%s: not valid UTF-8", path);
    const char *at = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len, &at, false);
    if (root && at && at >= data && at <= data + len) { /* only white space may follow the value */
        const char *e = at;
        while (e < data + len && (*e == ' ' || *e == '\t' || *e == '\n' || *e == '\r')) e++;
        if (e < data + len) {
            cJSON_Delete(root);
            root = NULL;
            at = e;
        }
    }
    if (!root) {
        size_t off = at && at >= data && at <= data + len ? (size_t)(at - data) : 0;
        return lc_error(LC_ERR_FORMAT, "%s: not valid JSON (near byte %zu)", path, off);
    }
    lc_tokenizer *t = calloc(1, sizeof *t);
    if (!t || !(t->path = tk_strndup(path, strlen(path)))) {
        free(t);
        cJSON_Delete(root);
        return nomem(path);
    }
    t->user_max = SIZE_MAX;
    t->cls_id = t->sep_id = -1;
    if (!cJSON_IsObject(root)) {
        st = lc_error(LC_ERR_FORMAT, "%s: the top level is not a JSON object", path);
        goto done;
    }
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (ver && (!cJSON_IsString(ver) || strcmp(ver->valuestring, "1.0") != 0)) {
        st = lc_error(LC_ERR_UNSUPPORTED, "%s: unknown tokenizer version '%s'", path,
                      cJSON_IsString(ver) ? ver->valuestring : "?");
        goto done;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!model) {
        st = lc_error(LC_ERR_FORMAT, "%s: no \"model\"", path);
        goto done;
    }
    if ((st = tk_model_parse(path, model, &t->model))) goto done;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    if (n && !cJSON_IsNull(n) && (st = tk_norm_parse(path, n, &t->normalizer))) goto done;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    if (p && !cJSON_IsNull(p) && (st = tk_pre_parse(path, p, &t->pre))) goto done;
    if ((st = parse_post(t, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), 0))) goto done;
    if ((st = check_decoder(path, cJSON_GetObjectItemCaseSensitive(root, "decoder"), 0))) goto done;
    if ((st = parse_truncation(t, cJSON_GetObjectItemCaseSensitive(root, "truncation")))) goto done;
    const cJSON *pad = cJSON_GetObjectItemCaseSensitive(root, "padding");
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(pad, "pad_id");
    if (pid && !cJSON_IsNull(pid) &&
        (!cJSON_IsNumber(pid) || pid->valuedouble < 0 || pid->valuedouble > 4294967295.0)) {
        st = lc_error(LC_ERR_FORMAT, "%s: padding: \"pad_id\" is not an id", path);
        goto done;
    }
    if (cJSON_IsNumber(pid)) t->pad_id = (int64_t)pid->valuedouble;
    else {
        int32_t id = tk_model_token_to_id(&t->model, "[PAD]", 5);
        if (id < 0) id = tk_model_token_to_id(&t->model, "<pad>", 5);
        t->pad_id = id < 0 ? 0 : id;
    }
    if ((st = parse_added_tokens(t, cJSON_GetObjectItemCaseSensitive(root, "added_tokens")))) goto done;
    if (t->added_ids.n) {
        int32_t id = -1;
        if (!cJSON_IsNumber(pid)) {
            id = tk_map_get(&t->added_ids, "[PAD]", 5);
            if (id < 0) id = tk_map_get(&t->added_ids, "<pad>", 5);
            if (id >= 0) t->pad_id = id;
        }
    }
done:
    cJSON_Delete(root);
    if (st) {
        lc_tokenizer_free(t);
        return st;
    }
    *out = t;
    return LC_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* Encode                                                                                           */
/* ---------------------------------------------------------------------------------------------- */
static void truncate_ids(tk_ids *a, size_t max, bool left) {
    if (a->n <= max) return;
    if (left) memmove(a->v, a->v + (a->n - max), max * sizeof *a->v);
    a->n = max;
}

static lc_status apply_truncation(const lc_tokenizer *t, tk_ids *a, tk_ids *b, bool add_special) {
    bool on = t->trunc_on;
    size_t max = t->trunc_max;
    if (t->user_max != SIZE_MAX) {
        on = t->user_max > 0;
        max = t->user_max;
    }
    if (!on) return LC_OK;
    size_t n_added = b ? t->added_pair : t->added_single;
    if (add_special && n_added > 0) {
        if (max < n_added) return LC_OK; /* tokenizers' usize subtraction wraps: no truncation */
        max -= n_added;
    }
    if (max == 0) {
        a->n = 0;
        if (b) b->n = 0;
        return LC_OK;
    }
    size_t total = a->n + (b ? b->n : 0);
    if (total <= max) return LC_OK;
    size_t to_remove = total - max;
    switch (t->trunc_strategy) {
    case TRUNC_LONGEST_FIRST:
        if (b) {
            size_t n1 = a->n, n2 = b->n;
            bool swap = n1 > n2;
            if (swap) { size_t x = n1; n1 = n2; n2 = x; }
            if (n1 > max) n2 = n1;
            else n2 = n1 > max - n1 ? n1 : max - n1;
            if (n1 + n2 > max) {
                n1 = max / 2;
                n2 = n1 + max % 2;
            }
            if (swap) { size_t x = n1; n1 = n2; n2 = x; }
            truncate_ids(a, n1, t->trunc_left);
            truncate_ids(b, n2, t->trunc_left);
        } else {
            truncate_ids(a, total - to_remove, t->trunc_left);
        }
        return LC_OK;
    case TRUNC_ONLY_FIRST:
    case TRUNC_ONLY_SECOND: {
        tk_ids *target = t->trunc_strategy == TRUNC_ONLY_FIRST ? a : b;
        if (!target) return lc_error(LC_ERR_ARG, "%s: truncation OnlySecond needs a second sequence", t->path);
        if (target->n <= to_remove)
            return lc_error(LC_ERR_ARG, "%s: the sequence to truncate is too short for max_length %zu", t->path, max);
        truncate_ids(target, target->n - to_remove, t->trunc_left);
        return LC_OK;
    }
    }
    return LC_OK;
}

typedef struct out_builder {
    lc_encoding *e;
    size_t cap;
} out_builder;

static bool out_push(out_builder *o, int32_t id, int64_t type) {
    lc_encoding *e = o->e;
    if (e->len == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        int64_t *a = realloc(e->ids, cap * sizeof *a);
        if (!a) return false;
        e->ids = a;
        int64_t *b = realloc(e->type_ids, cap * sizeof *b);
        if (!b) return false;
        e->type_ids = b;
        int64_t *c = realloc(e->attention_mask, cap * sizeof *c);
        if (!c) return false;
        e->attention_mask = c;
        o->cap = cap;
    }
    e->ids[e->len] = id;
    e->type_ids[e->len] = type;
    e->attention_mask[e->len] = 1;
    e->len++;
    return true;
}

static bool out_seq(out_builder *o, const tk_ids *s, int64_t type) {
    for (size_t i = 0; i < s->n; i++)
        if (!out_push(o, s->v[i], type)) return false;
    return true;
}

static lc_status post_process(const lc_tokenizer *t, const tk_ids *a, const tk_ids *b, bool add_special, lc_encoding *e) {
    out_builder o = {e, 0};
    bool ok = true;
    switch (t->post) {
    case POST_NONE:
        ok = out_seq(&o, a, 0) && (!b || out_seq(&o, b, 1));
        break;
    case POST_TEMPLATE: {
        const template_piece *tp = b ? t->pair : t->single;
        size_t n = b ? t->n_pair : t->n_single;
        for (size_t i = 0; i < n && ok; i++) {
            if (tp[i].is_special) {
                if (!add_special) continue;
                for (size_t k = 0; k < tp[i].n_ids && ok; k++) ok = out_push(&o, tp[i].ids[k], tp[i].type_id);
            } else {
                const tk_ids *s = tp[i].seq == 0 ? a : b;
                if (!s) return lc_error(LC_ERR_FORMAT, "%s: TemplateProcessing: the single template uses sequence B", t->path);
                ok = out_seq(&o, s, tp[i].type_id);
            }
        }
        break;
    }
    case POST_BERT:
        if (!add_special) {
            ok = out_seq(&o, a, 0) && (!b || out_seq(&o, b, 1));
            break;
        }
        ok = out_push(&o, t->cls_id, 0) && out_seq(&o, a, 0) && out_push(&o, t->sep_id, 0);
        if (ok && b) ok = out_seq(&o, b, 1) && out_push(&o, t->sep_id, 1);
        break;
    case POST_ROBERTA:
        if (!add_special) {
            ok = out_seq(&o, a, 0) && (!b || out_seq(&o, b, 0));
            break;
        }
        ok = out_push(&o, t->cls_id, 0) && out_seq(&o, a, 0) && out_push(&o, t->sep_id, 0);
        if (ok && b) ok = out_push(&o, t->sep_id, 0) && out_seq(&o, b, 0) && out_push(&o, t->sep_id, 0);
        break;
    }
    if (!ok) return lc_error(LC_ERR_NOMEM, "tokenizer: out of memory");
    return LC_OK;
}

lc_status lc_tokenizer_encode_pair(const lc_tokenizer *t, const char *text, size_t len, const char *pair, size_t pair_len,
                                   bool add_special_tokens, lc_encoding *out) {
    if (!t || (!text && len) || !out || (!pair && pair_len)) return lc_error(LC_ERR_ARG, "lc_tokenizer_encode: NULL argument");
    memset(out, 0, sizeof *out);
    if (!text) text = "";
    if (!tk_utf8_valid(text, len)) return lc_error(LC_ERR_FORMAT, "tokenizer: the text is not valid UTF-8");
    if (pair && !tk_utf8_valid(pair, pair_len)) return lc_error(LC_ERR_FORMAT, "tokenizer: the second text is not valid UTF-8");
    if (len > UINT32_MAX / 4 || pair_len > UINT32_MAX / 4) return lc_error(LC_ERR_ARG, "tokenizer: text too long");
    tk_work w = {0};
    tk_ids a = {0}, b = {0};
    lc_status st = encode_sequence(t, text, len, &w, &a);
    if (!st && pair) st = encode_sequence(t, pair, pair_len, &w, &b);
    if (!st) st = apply_truncation(t, &a, pair ? &b : NULL, add_special_tokens);
    if (!st) st = post_process(t, &a, pair ? &b : NULL, add_special_tokens, out);
    tk_work_free(&w);
    tk_ids_free(&a);
    tk_ids_free(&b);
    if (st) lc_encoding_free(out);
    return st;
}

lc_status lc_tokenizer_encode(const lc_tokenizer *t, const char *text, size_t len, bool add_special_tokens,
                              lc_encoding *out) {
    return lc_tokenizer_encode_pair(t, text, len, NULL, 0, add_special_tokens, out);
}

void lc_encoding_free(lc_encoding *e) {
    if (!e) return;
    free(e->ids);
    free(e->type_ids);
    free(e->attention_mask);
    memset(e, 0, sizeof *e);
}

void lc_tokenizer_set_max_length(lc_tokenizer *t, size_t max_len) {
    if (t) t->user_max = max_len;
}

size_t lc_tokenizer_max_length(const lc_tokenizer *t) {
    if (!t) return 0;
    if (t->user_max != SIZE_MAX) return t->user_max;
    return t->trunc_on ? t->trunc_max : 0;
}

int64_t lc_tokenizer_token_to_id(const lc_tokenizer *t, const char *token) {
    if (!t || !token) return -1;
    size_t n = strlen(token);
    int32_t id = tk_map_get(&t->added_ids, token, n);
    if (id < 0) id = tk_model_token_to_id(&t->model, token, n);
    return id;
}

int64_t lc_tokenizer_pad_id(const lc_tokenizer *t) { return t ? t->pad_id : 0; }

size_t lc_tokenizer_vocab_size(const lc_tokenizer *t) {
    if (!t) return 0;
    /* tokenizers' get_vocab_size(with_added_tokens=True): the model's, plus added tokens beyond it */
    size_t n = t->model.vocab_size;
    for (size_t i = 0; i < t->n_added; i++)
        if (tk_model_token_to_id(&t->model, t->added[i].content, t->added[i].len) < 0) n++;
    return n;
}

const char *lc_tokenizer_path(const lc_tokenizer *t) { return t ? t->path : ""; }
