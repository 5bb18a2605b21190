/* Normalizers of tokenizer.json: BertNormalizer, NFC/NFD/NFKC/NFKD (utf8proc), Lowercase, Strip,
 * StripAccents, Replace, Prepend, Precompiled, ByteLevel, Nmt and Sequence.
 *
 * Each step rewrites the working text into a scratch buffer and swaps. Besides the bytes it keeps
 * `zero` up to date: the number of leading output bytes that come from the original first
 * character (tokenizers' alignments reduced to what Metaspace's prepend_scheme "first" asks). */
#include "json_util.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static lc_status nomem(void) { return lc_error(LC_ERR_NOMEM, "tokenizer: out of memory while normalizing"); }

static void swap_in(tk_text *t, tk_buf *tmp, size_t zero) {
    tk_buf b = t->s;
    t->s = *tmp;
    *tmp = b;
    tmp->len = 0;
    t->zero = zero;
}

static bool all_ascii(const char *s, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull) return false;
    }
    for (; i < n; i++)
        if ((unsigned char)s[i] & 0x80) return false;
    return true;
}

/* ---------------------------------------------------------------------------------------------- */
/* Unicode normalization forms through utf8proc                                                    */
/* ---------------------------------------------------------------------------------------------- */
typedef struct u32buf {
    utf8proc_int32_t *v;
    size_t n, cap;
} u32buf;

bool tk_unicode_keep(uint32_t cp, bool compat); /* unicode.c: decompositions tokenizers lacks */
int tk_combining_class(uint32_t cp);            /* unicode.c: ccc as tokenizers' tables give it */

/* Decompose (canonically or with compatibility) character by character, skipping the characters
 * whose decomposition is newer than tokenizers' tables, then canonical ordering and, for NFC/NFKC,
 * composition (utf8proc). */
static lc_status unicode_form(tk_text *t, tk_buf *tmp, bool compat, bool compose, bool (*drop)(uint32_t)) {
    const unsigned char *s = (const unsigned char *)t->s.p;
    size_t n = t->s.len;
    if (n == 0) return LC_OK;
    utf8proc_option_t opt = UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0);
    size_t cap = n + 32, m = 0, first_n = 0;
    utf8proc_int32_t *buf = malloc(cap * sizeof *buf);
    if (!buf) return nomem();
    for (size_t i = 0; i < n;) {
        size_t l;
        uint32_t cp = tk_utf8_decode(s + i, n - i, &l);
        if (cap - m < 32) {
            cap *= 2;
            utf8proc_int32_t *nb = realloc(buf, cap * sizeof *nb);
            if (!nb) { free(buf); return nomem(); }
            buf = nb;
        }
        if (cp < 0x80 || tk_unicode_keep(cp, compat)) {
            buf[m++] = (utf8proc_int32_t)cp;
        } else {
            int bc = 0;
            utf8proc_ssize_t k = utf8proc_decompose_char((utf8proc_int32_t)cp, buf + m, (utf8proc_ssize_t)(cap - m), opt, &bc);
            if (k < 0 || (size_t)k > cap - m) { free(buf); return lc_error(LC_ERR_FORMAT, "tokenizer: text could not be normalized"); }
            m += (size_t)k;
        }
        i += l;
        if (i <= t->zero) first_n = m;
    }
    /* canonical ordering: stable sort of each run of non-starters by combining class */
    for (size_t i = 1; i < m; i++) {
        int cc = tk_combining_class((uint32_t)buf[i]);
        if (cc == 0) continue;
        for (size_t j = i; j > 0; j--) {
            int pc = tk_combining_class((uint32_t)buf[j - 1]);
            if (pc <= cc) break;
            utf8proc_int32_t x = buf[j];
            buf[j] = buf[j - 1];
            buf[j - 1] = x;
        }
    }
    utf8proc_ssize_t len = (utf8proc_ssize_t)m;
    if (compose) {
        len = utf8proc_normalize_utf32(buf, len, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
        if (len < 0) { free(buf); return lc_error(LC_ERR_FORMAT, "tokenizer: text could not be normalized"); }
        if (first_n) first_n = 1;
    }
    tmp->len = 0;
    if (!tk_buf_reserve(tmp, (size_t)len * 4)) { free(buf); return nomem(); }
    size_t zero = 0;
    for (utf8proc_ssize_t i = 0; i < len; i++) {
        uint32_t c = (uint32_t)buf[i];
        if (!(drop && drop(c))) tk_buf_push_cp(tmp, c);
        if ((size_t)i < first_n) zero = tmp->len;
    }
    free(buf);
    swap_in(t, tmp, zero);
    return LC_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* Character-by-character passes                                                                   */
/* ---------------------------------------------------------------------------------------------- */
static lc_status lowercase(tk_text *t, tk_buf *tmp) {
    const unsigned char *s = (const unsigned char *)t->s.p;
    size_t n = t->s.len, zero = 0;
    tmp->len = 0;
    if (!tk_buf_reserve(tmp, n + 16)) return nomem();
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            if (!tk_buf_reserve(tmp, 1)) return nomem();
            unsigned char c = s[i];
            tmp->p[tmp->len++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
            i++;
        } else {
            size_t l;
            uint32_t cp = tk_utf8_decode(s + i, n - i, &l), out[3];
            int k = tk_to_lowercase(cp, out);
            for (int j = 0; j < k; j++)
                if (!tk_buf_push_cp(tmp, out[j])) return nomem();
            i += l;
        }
        if (i <= t->zero) zero = tmp->len;
    }
    swap_in(t, tmp, zero);
    return LC_OK;
}

static lc_status bert_clean_chinese(const tk_norm *nm, tk_text *t, tk_buf *tmp) {
    const unsigned char *s = (const unsigned char *)t->s.p;
    size_t n = t->s.len, zero = 0;
    tmp->len = 0;
    /* a character of l bytes becomes at most l + 2 bytes (CJK spacing) */
    if (n > SIZE_MAX / 3 || !tk_buf_reserve(tmp, 3 * n + 16)) return nomem();
    char *o = tmp->p;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c < 0x80) { /* ASCII: controls other than \t \n \r are removed, those three become spaces */
            i++;
            if (c >= 0x20 && c != 0x7f) o[k++] = (char)c;
            else if (!nm->clean_text) o[k++] = (char)c;
            else if (c == '\t' || c == '\n' || c == '\r') o[k++] = ' ';
            if (i <= t->zero) zero = k;
            continue;
        }
        size_t l;
        uint32_t cp = tk_utf8_decode(s + i, n - i, &l);
        bool keep = true;
        if (nm->clean_text) {
            if (cp == 0xfffd || tk_is_other(cp)) keep = false;
            else if (tk_is_whitespace(cp)) cp = ' ';
        }
        if (keep) {
            tmp->len = k;
            if (nm->handle_chinese && cp >= 0x3400 && tk_is_chinese(cp)) {
                tmp->p[tmp->len++] = ' ';
                tk_buf_push_cp(tmp, cp);
                tmp->p[tmp->len++] = ' ';
            } else {
                tk_buf_push_cp(tmp, cp);
            }
            k = tmp->len;
        }
        i += l;
        if (i <= t->zero) zero = k;
    }
    tmp->len = k;
    swap_in(t, tmp, zero);
    return LC_OK;
}

static bool drop_nonspacing(uint32_t c) { return tk_is_mark_nonspacing(c); }
static bool drop_combining(uint32_t c) { return tk_is_combining_mark(c); }

/* filter(): remove characters; `zero` follows the first character while it survives. */
static lc_status filter_chars(tk_text *t, tk_buf *tmp, bool (*drop)(uint32_t)) {
    const unsigned char *s = (const unsigned char *)t->s.p;
    size_t n = t->s.len, zero = 0;
    tmp->len = 0;
    if (!tk_buf_reserve(tmp, n)) return nomem();
    for (size_t i = 0; i < n;) {
        size_t l;
        uint32_t cp = tk_utf8_decode(s + i, n - i, &l);
        if (!drop(cp)) {
            memcpy(tmp->p + tmp->len, s + i, l);
            tmp->len += l;
        }
        i += l;
        if (i <= t->zero) zero = tmp->len;
    }
    swap_in(t, tmp, zero);
    return LC_OK;
}

static lc_status strip(tk_text *t, bool left, bool right) {
    const unsigned char *s = (const unsigned char *)t->s.p;
    size_t n = t->s.len, a = 0, b = n;
    if (left)
        while (a < n) {
            size_t l;
            uint32_t cp = tk_utf8_decode(s + a, n - a, &l);
            if (!tk_is_whitespace(cp)) break;
            a += l;
        }
    if (right)
        while (b > a) {
            size_t p = b - 1;
            while (p > a && (s[p] & 0xc0) == 0x80) p--;
            size_t l;
            uint32_t cp = tk_utf8_decode(s + p, b - p, &l);
            if (!tk_is_whitespace(cp)) break;
            b = p;
        }
    size_t zero = t->zero > a ? (t->zero < b ? t->zero : b) - a : 0;
    memmove(t->s.p, t->s.p + a, b - a);
    t->s.len = b - a;
    t->zero = zero;
    return LC_OK;
}

static lc_status prepend(tk_text *t, tk_buf *tmp, const char *p, size_t pn) {
    if (t->s.len == 0) return LC_OK;
    tmp->len = 0;
    if (!tk_buf_append(tmp, p, pn) || !tk_buf_append(tmp, t->s.p, t->s.len)) return nomem();
    swap_in(t, tmp, t->zero ? t->zero + pn : 0);
    return LC_OK;
}

static lc_status replace(const tk_norm *nm, tk_text *t, tk_buf *tmp, tk_work *w) {
    size_t nmatch = 0;
    if (t->s.len == 0) return LC_OK;
    if (!tk_regex_find_all(nm->regex, t->s.p, t->s.len, &w->matches, &nmatch, &w->cap_matches))
        return lc_error(LC_ERR_FORMAT, "tokenizer: Replace pattern failed on the text");
    if (nmatch == 0) return LC_OK;
    tmp->len = 0;
    size_t prev = 0, zero = 0;
    for (size_t i = 0; i <= nmatch; i++) {
        size_t end = i < nmatch ? w->matches[i].start : t->s.len;
        size_t before = tmp->len;
        if (!tk_buf_append(tmp, t->s.p + prev, end - prev)) return nomem();
        if (prev < t->zero) zero = before + ((t->zero < end ? t->zero : end) - prev);
        if (i == nmatch) break;
        /* inserted text takes the alignment of the match's last byte (tokenizers' replace) */
        if (!tk_buf_append(tmp, nm->content, nm->content_len)) return nomem();
        if (t->zero > 0 && w->matches[i].end <= t->zero) zero = tmp->len;
        prev = w->matches[i].end;
    }
    swap_in(t, tmp, zero);
    return LC_OK;
}

/* GPT-2's byte -> printable character table. */
static uint32_t byte_char(unsigned b) {
    if ((b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)) return b;
    unsigned n = 0;
    for (unsigned x = 0; x < b; x++)
        if (!((x >= '!' && x <= '~') || (x >= 0xa1 && x <= 0xac) || (x >= 0xae && x <= 0xff))) n++;
    return 256 + n;
}

static lc_status bytelevel(tk_text *t, tk_buf *tmp) {
    size_t n = t->s.len, zero = 0;
    tmp->len = 0;
    if (!tk_buf_reserve(tmp, n * 2)) return nomem();
    for (size_t i = 0; i < n; i++) {
        tk_buf_push_cp(tmp, byte_char((unsigned char)t->s.p[i]));
        if (i + 1 <= t->zero) zero = tmp->len;
    }
    swap_in(t, tmp, zero);
    return LC_OK;
}

static lc_status nmt(tk_text *t, tk_buf *tmp) {
    const unsigned char *s = (const unsigned char *)t->s.p;
    size_t n = t->s.len, zero = 0;
    tmp->len = 0;
    if (!tk_buf_reserve(tmp, n)) return nomem();
    for (size_t i = 0; i < n;) {
        size_t l;
        uint32_t c = tk_utf8_decode(s + i, n - i, &l);
        bool drop = (c >= 1 && c <= 8) || c == 0xb || (c >= 0xe && c <= 0x1f) || c == 0x7f || c == 0x8f || c == 0x9f;
        if (!drop) {
            if (c == 9 || c == 10 || c == 12 || c == 13 || c == 0x1680 || (c >= 0x200b && c <= 0x200f) || c == 0x2028 ||
                c == 0x2029 || c == 0x2581 || c == 0xfeff || c == 0xfffd)
                c = ' ';
            if (!tk_buf_push_cp(tmp, c)) return nomem();
        }
        i += l;
        if (i <= t->zero) zero = tmp->len;
    }
    swap_in(t, tmp, zero);
    return LC_OK;
}

lc_status tk_norm_apply(const tk_norm *nm, tk_text *t, tk_buf *tmp, tk_work *w) {
    lc_status st = LC_OK;
    switch (nm->kind) {
    case TK_N_BERT: {
        if (nm->clean_text || nm->handle_chinese) st = bert_clean_chinese(nm, t, tmp);
        if (st) return st;
        if (nm->strip_accents && !all_ascii(t->s.p, t->s.len)) st = unicode_form(t, tmp, false, false, drop_nonspacing);
        if (st) return st;
        if (nm->lowercase) st = lowercase(t, tmp);
        return st;
    }
    case TK_N_NFD: return all_ascii(t->s.p, t->s.len) ? LC_OK : unicode_form(t, tmp, false, false, NULL);
    case TK_N_NFKD: return all_ascii(t->s.p, t->s.len) ? LC_OK : unicode_form(t, tmp, true, false, NULL);
    case TK_N_NFC: return all_ascii(t->s.p, t->s.len) ? LC_OK : unicode_form(t, tmp, false, true, NULL);
    case TK_N_NFKC: return all_ascii(t->s.p, t->s.len) ? LC_OK : unicode_form(t, tmp, true, true, NULL);
    case TK_N_LOWERCASE: return lowercase(t, tmp);
    case TK_N_STRIP: return strip(t, nm->strip_left, nm->strip_right);
    case TK_N_STRIP_ACCENTS: return all_ascii(t->s.p, t->s.len) ? LC_OK : filter_chars(t, tmp, drop_combining);
    case TK_N_REPLACE: return replace(nm, t, tmp, w);
    case TK_N_PREPEND: return prepend(t, tmp, nm->content, nm->content_len);
    case TK_N_PRECOMPILED: return tk_precompiled_apply(nm->pc, t, tmp);
    case TK_N_BYTELEVEL: return bytelevel(t, tmp);
    case TK_N_NMT: return nmt(t, tmp);
    case TK_N_SEQUENCE:
        for (size_t i = 0; i < nm->n_children; i++)
            if ((st = tk_norm_apply(nm->children[i], t, tmp, w))) return st;
        return LC_OK;
    }
    return LC_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* Parsing                                                                                         */
/* ---------------------------------------------------------------------------------------------- */
void tk_norm_free(tk_norm *n) {
    if (!n) return;
    for (size_t i = 0; i < n->n_children; i++) tk_norm_free(n->children[i]);
    free(n->children);
    tk_regex_free(n->regex);
    free(n->content);
    tk_precompiled_free(n->pc);
    free(n);
}

/* A Replace or Split "pattern": {"String": "..."} or {"Regex": "..."}. */
lc_status tk_parse_pattern(const char *path, const char *what, const void *obj, tk_regex **out) {
    const cJSON *o = obj;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "pattern");
    if (!cJSON_IsObject(p)) return lc_error(LC_ERR_FORMAT, "%s: %s: \"pattern\" is missing or not an object", path, what);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "String");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(p, "Regex");
    const cJSON *v = s ? s : r;
    if (!v || !cJSON_IsString(v) || !v->valuestring)
        return lc_error(LC_ERR_FORMAT, "%s: %s: \"pattern\" needs a \"String\" or \"Regex\" string", path, what);
    size_t len = strlen(v->valuestring);
    if (!tk_utf8_valid(v->valuestring, len))
        return lc_error(LC_ERR_FORMAT, "%s: %s: the pattern is not valid UTF-8", path, what);
    return tk_regex_new(path, v->valuestring, len, s != NULL, out);
}

static lc_status parse_rec(const char *path, const cJSON *j, int depth, tk_norm **out) {
    *out = NULL;
    if (depth > 32) return lc_error(LC_ERR_FORMAT, "%s: normalizer: Sequence nested too deeply", path);
    if (!cJSON_IsObject(j)) return lc_error(LC_ERR_FORMAT, "%s: normalizer is not an object", path);
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(ty) || !ty->valuestring) return lc_error(LC_ERR_FORMAT, "%s: normalizer without a \"type\"", path);
    const char *type = ty->valuestring;
    tk_norm *n = calloc(1, sizeof *n);
    if (!n) return nomem();
    lc_status st = LC_OK;
    if (strcmp(type, "BertNormalizer") == 0) {
        n->kind = TK_N_BERT;
        bool sa_set;
        const cJSON *sa = cJSON_GetObjectItemCaseSensitive(j, "strip_accents");
        sa_set = sa && !cJSON_IsNull(sa);
        if (!(st = tkj_bool(path, type, j, "clean_text", true, &n->clean_text)) &&
            !(st = tkj_bool(path, type, j, "handle_chinese_chars", true, &n->handle_chinese)) &&
            !(st = tkj_bool(path, type, j, "lowercase", true, &n->lowercase)) &&
            !(st = tkj_bool(path, type, j, "strip_accents", false, &n->strip_accents))) {
            if (!sa_set) n->strip_accents = n->lowercase;
        }
    } else if (strcmp(type, "NFC") == 0) n->kind = TK_N_NFC;
    else if (strcmp(type, "NFD") == 0) n->kind = TK_N_NFD;
    else if (strcmp(type, "NFKC") == 0) n->kind = TK_N_NFKC;
    else if (strcmp(type, "NFKD") == 0) n->kind = TK_N_NFKD;
    else if (strcmp(type, "Lowercase") == 0) n->kind = TK_N_LOWERCASE;
    else if (strcmp(type, "StripAccents") == 0) n->kind = TK_N_STRIP_ACCENTS;
    else if (strcmp(type, "Nmt") == 0) n->kind = TK_N_NMT;
    else if (strcmp(type, "ByteLevel") == 0) n->kind = TK_N_BYTELEVEL;
    else if (strcmp(type, "Strip") == 0) {
        n->kind = TK_N_STRIP;
        if (!(st = tkj_bool(path, type, j, "strip_left", true, &n->strip_left)))
            st = tkj_bool(path, type, j, "strip_right", true, &n->strip_right);
    } else if (strcmp(type, "Replace") == 0) {
        n->kind = TK_N_REPLACE;
        const char *content;
        if (!(st = tkj_str(path, type, j, "content", &content))) {
            if (!content) st = lc_error(LC_ERR_FORMAT, "%s: Replace: \"content\" is missing", path);
            else if (!(n->content = tk_strndup(content, strlen(content)))) st = nomem();
            else {
                n->content_len = strlen(content);
                st = tk_parse_pattern(path, "Replace", j, &n->regex);
            }
        }
    } else if (strcmp(type, "Prepend") == 0) {
        n->kind = TK_N_PREPEND;
        const char *p;
        if (!(st = tkj_str(path, type, j, "prepend", &p))) {
            if (!p) st = lc_error(LC_ERR_FORMAT, "%s: Prepend: \"prepend\" is missing", path);
            else if (!(n->content = tk_strndup(p, strlen(p)))) st = nomem();
            else n->content_len = strlen(p);
        }
    } else if (strcmp(type, "Precompiled") == 0) {
        n->kind = TK_N_PRECOMPILED;
        const char *b64;
        if (!(st = tkj_str(path, type, j, "precompiled_charsmap", &b64))) {
            if (!b64) st = lc_error(LC_ERR_FORMAT, "%s: Precompiled: \"precompiled_charsmap\" is missing", path);
            else st = tk_precompiled_new(path, b64, &n->pc);
        }
    } else if (strcmp(type, "Sequence") == 0) {
        n->kind = TK_N_SEQUENCE;
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "normalizers");
        if (!cJSON_IsArray(arr)) st = lc_error(LC_ERR_FORMAT, "%s: normalizer Sequence without a \"normalizers\" list", path);
        else {
            int cnt = cJSON_GetArraySize(arr);
            n->children = calloc((size_t)(cnt > 0 ? cnt : 1), sizeof *n->children);
            if (!n->children) st = nomem();
            const cJSON *c;
            cJSON_ArrayForEach(c, arr) {
                if (st) break;
                st = parse_rec(path, c, depth + 1, &n->children[n->n_children]);
                if (!st) n->n_children++;
            }
        }
    } else {
        st = lc_error(LC_ERR_UNSUPPORTED, "%s: normalizer type '%s' is not supported", path, type);
    }
    if (st) {
        tk_norm_free(n);
        return st;
    }
    *out = n;
    return LC_OK;
}

lc_status tk_norm_parse(const char *path, const void *json, tk_norm **out) {
    return parse_rec(path, (const cJSON *)json, 0, out);
}
