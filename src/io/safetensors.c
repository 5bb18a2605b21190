/*
 * safetensors: a little-endian u64 header length N, N bytes of JSON, then the data section.
 *
 *   { "__metadata__": {"k": "v", ...},                       optional, string values only
 *     "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ... }
 *
 * The file is mapped read-only; tensors of the dtypes locus computes with are handed out as arrays
 * that point into the mapping (no copy). The mapping is reference counted: the lc_safetensors
 * handle holds one reference and every array made from it holds one, so closing the handle while
 * arrays are alive is fine.
 *
 * Validation on open (every check names the file and the problem in one line):
 *   - file at least 8 bytes; 0 < N <= 100 MiB and 8 + N <= file size;
 *   - header bytes are valid UTF-8 without NUL, start with '{', parse as one JSON object followed
 *     only by whitespace;
 *   - "__metadata__", if present, is an object of strings;
 *   - every other member is an object with exactly "dtype" (a known dtype), "shape" (array of
 *     integers >= 0) and "data_offsets" (two integers, begin <= end), no other keys;
 *   - byte size = product(shape) * dtype bits / 8 with overflow checks (packed sub-byte dtypes
 *     must fill whole bytes), equal to end - begin;
 *   - the tensors, sorted by offset, tile the data section exactly: no overlap, no gap, nothing
 *     past the end, nothing left over (the rules of the reference implementation);
 *   - names are unique (cJSON keeps duplicate keys, so this is checked here).
 * JSON numbers are doubles in cJSON, so integers are accepted only up to 2^53, where they are
 * still exact; larger shapes or offsets could not be addressed on any machine anyway.
 */
#define _GNU_SOURCE /* qsort_r */
#include "core/internal.h"
#include "locus/io.h"

#include <cjson/cJSON.h>
#include <utf8proc.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "safetensors data is little-endian; a big-endian host would need byte swapping here"
#endif

#define ST_MAX_EXACT_INT 9007199254740992.0 /* 2^53 */

/* ---- dtypes ---------------------------------------------------------------------------------- */
typedef struct st_dtype {
    const char *name;
    size_t bits;   /* per element; the sub-byte ones (F4, F6_*) pack, and must fill whole bytes */
    int lc;        /* lc_dtype, or -1 when locus does not load it */
} st_dtype;

static const st_dtype st_dtypes[] = {
    {"F32", 32, LC_F32},        {"F16", 16, LC_F16},        {"BF16", 16, LC_BF16},  {"I32", 32, LC_I32},
    {"I64", 64, LC_I64},        {"BOOL", 8, -1},            {"U8", 8, -1},          {"I8", 8, -1},
    {"I16", 16, -1},            {"U16", 16, -1},            {"F64", 64, -1},        {"U32", 32, -1},
    {"U64", 64, -1},            {"F8_E4M3", 8, -1},         {"F8_E5M2", 8, -1},     {"F8_E8M0", 8, -1},
    {"F8_E4M3FNUZ", 8, -1},     {"F8_E5M2FNUZ", 8, -1},     {"C64", 64, -1},        {"F4", 4, -1},
    {"F6_E2M3", 6, -1},         {"F6_E3M2", 6, -1},
};
#define ST_NDTYPES (sizeof st_dtypes / sizeof st_dtypes[0])

static const st_dtype *st_dtype_find(const char *name) {
    for (size_t i = 0; i < ST_NDTYPES; i++)
        if (strcmp(st_dtypes[i].name, name) == 0) return &st_dtypes[i];
    return NULL;
}

/* ---- the mapping (shared by the handle and the arrays) ---------------------------------------- */
typedef struct st_mapping {
    atomic_int refs;
    unsigned char *base;
    size_t size;
    bool is_mmap;
} st_mapping;

static void st_mapping_release(void *ctx) {
    st_mapping *m = ctx;
    if (!m) return;
    if (atomic_fetch_sub(&m->refs, 1) != 1) return;
    if (m->is_mmap) munmap(m->base, m->size);
    else free(m->base);
    free(m);
}

/* ---- the handle ------------------------------------------------------------------------------ */
typedef struct st_entry {
    char *name;
    const st_dtype *dtype;
    int ndim;
    int64_t *shape;   /* ndim entries (NULL when ndim == 0) */
    uint64_t begin, end; /* relative to the data section */
    size_t file;
} st_entry;

typedef struct st_file {
    char *path;
    st_mapping *map;
    size_t data_start; /* 8 + N */
} st_file;

typedef struct st_meta {
    char *key, *value;
    size_t file, order;
} st_meta;

struct lc_safetensors {
    st_file *files;
    size_t nfiles;
    st_entry *entries; /* header order, shard after shard */
    size_t count, cap;
    size_t *by_name;   /* indices into entries, sorted by name */
    st_meta *meta;     /* sorted by key once every file is read */
    size_t nmeta, meta_cap;
};

static void st_free(lc_safetensors *st) {
    if (!st) return;
    for (size_t i = 0; i < st->count; i++) {
        free(st->entries[i].name);
        free(st->entries[i].shape);
    }
    free(st->entries);
    free(st->by_name);
    for (size_t i = 0; i < st->nmeta; i++) {
        free(st->meta[i].key);
        free(st->meta[i].value);
    }
    free(st->meta);
    for (size_t i = 0; i < st->nfiles; i++) {
        free(st->files[i].path);
        st_mapping_release(st->files[i].map);
    }
    free(st->files);
    free(st);
}

void lc_safetensors_close(lc_safetensors *st) { st_free(st); }

static char *st_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* ---- header validation ---------------------------------------------------------------------- */
static bool st_get_u53(const cJSON *item, uint64_t *out) {
    if (!cJSON_IsNumber(item)) return false;
    double v = item->valuedouble;
    if (!(v >= 0.0) || v > ST_MAX_EXACT_INT || floor(v) != v) return false;
    *out = (uint64_t)v;
    return true;
}

/* A name as it may appear in a one-line message: control bytes escaped, long names cut. */
#define ST_SHOW 160
static const char *st_show(const char *s, char *buf) {
    size_t k = 0;
    for (; *s && k + 8 < ST_SHOW; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) k += (size_t)snprintf(buf + k, ST_SHOW - k, "\\x%02x", c);
        else buf[k++] = (char)c;
    }
    if (*s) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}

/* Valid UTF-8 (no surrogates, no overlongs), no NUL byte, and no raw control character inside a
 * JSON string (JSON forbids them; cJSON would let them through). Returns the offset of the first
 * bad byte, or len when all is well. */
static size_t st_text_check(const unsigned char *s, size_t len) {
    bool in_string = false, escaped = false;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c == 0) return i;
        if (c < 0x80) {
            if (in_string) {
                if (escaped) escaped = false;
                else if (c == '\\') escaped = true;
                else if (c == '"') in_string = false;
                else if (c < 0x20) return i;
            } else if (c == '"') {
                in_string = true;
            }
            i++;
            continue;
        }
        escaped = false;
        utf8proc_int32_t cp;
        size_t left = len - i;
        utf8proc_ssize_t n = utf8proc_iterate(s + i, left > 4 ? 4 : (utf8proc_ssize_t)left, &cp);
        if (n <= 0) return i;
        i += (size_t)n;
    }
    return len;
}

static lc_status st_push_entry(lc_safetensors *st, st_entry *e) {
    if (st->count == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        st_entry *ne = realloc(st->entries, cap * sizeof *ne);
        if (!ne) return lc_error(LC_ERR_NOMEM, "out of memory reading a safetensors header");
        st->entries = ne;
        st->cap = cap;
    }
    st->entries[st->count++] = *e;
    return LC_OK;
}

static lc_status st_parse_tensor(const char *label, const cJSON *item, size_t data_size, size_t file,
                                 st_entry *e) {
    char shown[ST_SHOW], shown2[ST_SHOW];
    const char *name = st_show(item->string, shown);
    if (!cJSON_IsObject(item))
        return lc_error(LC_ERR_FORMAT, "%s: tensor '%s' is not a JSON object", label, name);
    const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
    for (const cJSON *f = item->child; f; f = f->next) {
        const cJSON **slot = NULL;
        if (strcmp(f->string, "dtype") == 0) slot = &dtype;
        else if (strcmp(f->string, "shape") == 0) slot = &shape;
        else if (strcmp(f->string, "data_offsets") == 0) slot = &offsets;
        else
            return lc_error(LC_ERR_FORMAT, "%s: tensor '%s' has an unknown field '%s'", label, name,
                            st_show(f->string, shown2));
        if (*slot) return lc_error(LC_ERR_FORMAT, "%s: tensor '%s' repeats the field '%s'", label, name, f->string);
        *slot = f;
    }
    if (!dtype || !shape || !offsets)
        return lc_error(LC_ERR_FORMAT, "%s: tensor '%s' lacks '%s'", label, name,
                        !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
    if (!cJSON_IsString(dtype))
        return lc_error(LC_ERR_FORMAT, "%s: tensor '%s': dtype is not a string", label, name);
    e->dtype = st_dtype_find(dtype->valuestring);
    if (!e->dtype)
        return lc_error(LC_ERR_UNSUPPORTED, "%s: tensor '%s' has unknown dtype '%s'", label, name,
                        st_show(dtype->valuestring, shown2));

    if (!cJSON_IsArray(shape))
        return lc_error(LC_ERR_FORMAT, "%s: tensor '%s': shape is not an array", label, name);
    int ndim = cJSON_GetArraySize(shape);
    e->ndim = ndim;
    e->shape = ndim ? malloc((size_t)ndim * sizeof(int64_t)) : NULL;
    if (ndim && !e->shape) return lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
    size_t numel = 1;
    bool overflow = false;
    int k = 0;
    for (const cJSON *d = shape->child; d; d = d->next, k++) {
        uint64_t v;
        if (!st_get_u53(d, &v))
            return lc_error(LC_ERR_FORMAT, "%s: tensor '%s': shape[%d] is not an integer in [0, 2^53]", label, name, k);
        e->shape[k] = (int64_t)v;
        if (!overflow && !lc_mul_size(numel, (size_t)v, &numel)) overflow = true;
    }
    /* A zero dimension makes the size 0 whatever the others are; otherwise overflow is fatal. */
    size_t nbytes = 0;
    bool has_zero = false;
    for (int i = 0; i < ndim; i++) has_zero |= e->shape[i] == 0;
    size_t nbits = 0;
    if (!has_zero && (overflow || !lc_mul_size(numel, e->dtype->bits, &nbits)))
        return lc_error(LC_ERR_FORMAT, "%s: tensor '%s': shape overflows the size of memory", label, name);
    if (nbits % 8)
        return lc_error(LC_ERR_FORMAT, "%s: tensor '%s': %zu elements of %s do not fill whole bytes", label, name,
                        numel, e->dtype->name);
    nbytes = nbits / 8;

    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2)
        return lc_error(LC_ERR_FORMAT, "%s: tensor '%s': data_offsets is not an array of two integers", label, name);
    if (!st_get_u53(offsets->child, &e->begin) || !st_get_u53(offsets->child->next, &e->end))
        return lc_error(LC_ERR_FORMAT, "%s: tensor '%s': data_offsets are not integers in [0, 2^53]", label, name);
    if (e->end < e->begin)
        return lc_error(LC_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] are reversed", label, name,
                        (unsigned long long)e->begin, (unsigned long long)e->end);
    if (e->end > data_size)
        return lc_error(LC_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] run past the data section (%zu bytes)",
                        label, name, (unsigned long long)e->begin, (unsigned long long)e->end, data_size);
    if (e->end - e->begin != nbytes)
        return lc_error(LC_ERR_FORMAT, "%s: tensor '%s': %llu bytes in data_offsets but shape and %s need %zu", label,
                        name, (unsigned long long)(e->end - e->begin), e->dtype->name, nbytes);
    e->name = st_strdup(item->string);
    if (!e->name) return lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
    e->file = file;
    return LC_OK;
}

static lc_status st_parse_metadata(const char *label, lc_safetensors *st, const cJSON *meta) {
    if (!cJSON_IsObject(meta)) return lc_error(LC_ERR_FORMAT, "%s: __metadata__ is not a JSON object", label);
    for (const cJSON *m = meta->child; m; m = m->next) {
        char shown[ST_SHOW];
        if (!cJSON_IsString(m))
            return lc_error(LC_ERR_FORMAT, "%s: __metadata__ value of '%s' is not a string", label,
                            st_show(m->string, shown));
        if (st->nmeta == st->meta_cap) {
            size_t cap = st->meta_cap ? st->meta_cap * 2 : 8;
            st_meta *nm = realloc(st->meta, cap * sizeof *nm);
            if (!nm) return lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
            st->meta = nm;
            st->meta_cap = cap;
        }
        st_meta *e = &st->meta[st->nmeta];
        e->key = st_strdup(m->string);
        e->value = st_strdup(m->valuestring);
        e->file = st->nfiles - 1;
        e->order = st->nmeta;
        if (!e->key || !e->value) {
            free(e->key);
            free(e->value);
            return lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
        }
        st->nmeta++;
    }
    return LC_OK;
}

static int st_cmp_offsets(const void *a, const void *b, void *ctx) {
    const st_entry *e = ctx;
    const st_entry *x = &e[*(const size_t *)a], *y = &e[*(const size_t *)b];
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static int st_cmp_names(const void *a, const void *b, void *ctx) {
    const st_entry *e = ctx;
    return strcmp(e[*(const size_t *)a].name, e[*(const size_t *)b].name);
}

/* Parse and validate the header of one mapped file; its entries are appended to st. */
static lc_status st_parse_file(lc_safetensors *st, size_t file) {
    const char *label = st->files[file].path;
    const unsigned char *base = st->files[file].map->base;
    size_t size = st->files[file].map->size;
    if (size < 8)
        return lc_error(LC_ERR_FORMAT, "%s: %zu bytes is too short for a safetensors header", label, size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | base[i];
    if (n == 0) return lc_error(LC_ERR_FORMAT, "%s: safetensors header length is 0", label);
    if (n > LC_SAFETENSORS_MAX_HEADER)
        return lc_error(LC_ERR_FORMAT, "%s: safetensors header length %llu exceeds the limit of %u bytes", label,
                        (unsigned long long)n, LC_SAFETENSORS_MAX_HEADER);
    if (n > size - 8)
        return lc_error(LC_ERR_FORMAT, "%s: safetensors header length %llu runs past the end of the file (%zu bytes)",
                        label, (unsigned long long)n, size);
    const char *header = (const char *)base + 8;
    size_t bad = st_text_check((const unsigned char *)header, (size_t)n);
    if (bad != n)
        return lc_error(LC_ERR_FORMAT,
                        "%s: safetensors header is not valid UTF-8 JSON text (bad byte 0x%02x at %zu)", label,
                        (unsigned char)header[bad], bad);
    if (header[0] != '{') return lc_error(LC_ERR_FORMAT, "%s: safetensors header does not start with '{'", label);

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(header, (size_t)n, &end, 0);
    if (!root) {
        size_t at = end && end >= header && end <= header + n ? (size_t)(end - header) : 0;
        return lc_error(LC_ERR_FORMAT, "%s: safetensors header is not valid JSON (near byte %zu)", label, at);
    }
    for (const char *p = end; p < header + n; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(root);
            return lc_error(LC_ERR_FORMAT, "%s: safetensors header has bytes after the JSON object", label);
        }
    }
    lc_status s = LC_OK;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return lc_error(LC_ERR_FORMAT, "%s: safetensors header is not a JSON object", label);
    }
    size_t data_start = 8 + (size_t)n;
    size_t data_size = size - data_start;
    st->files[file].data_start = data_start;
    size_t first = st->count;
    bool seen_meta = false;
    for (const cJSON *item = root->child; item && s == LC_OK; item = item->next) {
        if (strcmp(item->string, "__metadata__") == 0) {
            if (seen_meta) s = lc_error(LC_ERR_FORMAT, "%s: __metadata__ appears twice", label);
            seen_meta = true;
            if (s == LC_OK) s = st_parse_metadata(label, st, item);
            continue;
        }
        st_entry e = {0};
        s = st_parse_tensor(label, item, data_size, file, &e);
        if (s == LC_OK) s = st_push_entry(st, &e);
        if (s != LC_OK) {
            free(e.name);
            free(e.shape);
        }
    }
    cJSON_Delete(root);
    if (s != LC_OK) return s;

    /* The tensors must tile the data section: sorted by offset, each starts where the last ended. */
    size_t nt = st->count - first;
    size_t *order = malloc((nt ? nt : 1) * sizeof *order);
    if (!order) return lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
    for (size_t i = 0; i < nt; i++) order[i] = first + i;
    qsort_r(order, nt, sizeof *order, st_cmp_offsets, st->entries);
    uint64_t at = 0;
    const char *prev = NULL;
    char shown[ST_SHOW], shown2[ST_SHOW];
    for (size_t i = 0; i < nt && s == LC_OK; i++) {
        const st_entry *e = &st->entries[order[i]];
        if (e->begin < at)
            s = lc_error(LC_ERR_FORMAT, "%s: tensor '%s' (bytes %llu..%llu) overlaps tensor '%s'", label,
                         st_show(e->name, shown), (unsigned long long)e->begin, (unsigned long long)e->end,
                         st_show(prev, shown2));
        else if (e->begin > at)
            s = lc_error(LC_ERR_FORMAT, "%s: %llu unused bytes before tensor '%s' (data_offsets leave a gap)", label,
                         (unsigned long long)(e->begin - at), st_show(e->name, shown));
        at = e->end;
        prev = e->name;
    }
    free(order);
    if (s == LC_OK && at != data_size)
        s = lc_error(LC_ERR_FORMAT, "%s: tensors cover %llu of the %zu bytes of the data section", label,
                     (unsigned long long)at, data_size);
    return s;
}

/* Sort names for lookup and refuse duplicates (within a file or across shards). */
static lc_status st_index_names(lc_safetensors *st) {
    st->by_name = malloc((st->count ? st->count : 1) * sizeof *st->by_name);
    if (!st->by_name) return lc_error(LC_ERR_NOMEM, "out of memory indexing safetensors names");
    for (size_t i = 0; i < st->count; i++) st->by_name[i] = i;
    qsort_r(st->by_name, st->count, sizeof *st->by_name, st_cmp_names, st->entries);
    for (size_t i = 1; i < st->count; i++) {
        const st_entry *a = &st->entries[st->by_name[i - 1]], *b = &st->entries[st->by_name[i]];
        if (strcmp(a->name, b->name) == 0) {
            char shown[ST_SHOW];
            if (a->file == b->file)
                return lc_error(LC_ERR_FORMAT, "%s: tensor name '%s' appears twice in the header",
                                st->files[a->file].path, st_show(a->name, shown));
            return lc_error(LC_ERR_FORMAT, "%s: tensor '%s' is also in %s", st->files[b->file].path, st_show(a->name, shown),
                            st->files[a->file].path);
        }
    }
    return LC_OK;
}

static int st_cmp_meta(const void *a, const void *b) {
    const st_meta *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Sort metadata for lookup; a key twice in one file is an error, across shards the first wins. */
static lc_status st_index_meta(lc_safetensors *st) {
    if (st->nmeta > 1) qsort(st->meta, st->nmeta, sizeof *st->meta, st_cmp_meta);
    size_t kept = 0;
    for (size_t i = 0; i < st->nmeta; i++) {
        if (kept && strcmp(st->meta[kept - 1].key, st->meta[i].key) == 0) {
            if (st->meta[kept - 1].file == st->meta[i].file) {
                char shown[ST_SHOW];
                return lc_error(LC_ERR_FORMAT, "%s: __metadata__ key '%s' appears twice",
                                st->files[st->meta[i].file].path, st_show(st->meta[i].key, shown));
            }
            free(st->meta[i].key);
            free(st->meta[i].value);
            continue;
        }
        st->meta[kept++] = st->meta[i];
    }
    st->nmeta = kept;
    return LC_OK;
}

static const st_entry *st_find(const lc_safetensors *st, const char *name) {
    if (!st || !name || !st->by_name) return NULL;
    size_t lo = 0, hi = st->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const st_entry *e = &st->entries[st->by_name[mid]];
        int c = strcmp(name, e->name);
        if (c == 0) return e;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

/* ---- opening --------------------------------------------------------------------------------- */
static lc_status st_map_file(const char *path, st_mapping **out) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lc_error(LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return lc_error(LC_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return lc_error(LC_ERR_IO, "%s: not a regular file", path);
    }
    if (sb.st_size < 8) {
        close(fd);
        return lc_error(LC_ERR_FORMAT, "%s: %lld bytes is too short for a safetensors header", path,
                        (long long)sb.st_size);
    }
    if ((uintmax_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return lc_error(LC_ERR_NOMEM, "%s: file too large to map", path);
    }
    size_t size = (size_t)sb.st_size;
    void *base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (base == MAP_FAILED) return lc_error(LC_ERR_IO, "%s: cannot map: %s", path, strerror(e));
    st_mapping *m = malloc(sizeof *m);
    if (!m) {
        munmap(base, size);
        return lc_error(LC_ERR_NOMEM, "%s: out of memory", path);
    }
    atomic_init(&m->refs, 1);
    m->base = base;
    m->size = size;
    m->is_mmap = true;
    *out = m;
    return LC_OK;
}

static lc_status st_add_file(lc_safetensors *st, const char *label, st_mapping *m) {
    st_file *f = realloc(st->files, (st->nfiles + 1) * sizeof *f);
    if (!f) {
        st_mapping_release(m);
        return lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
    }
    st->files = f;
    f[st->nfiles].path = st_strdup(label);
    f[st->nfiles].map = m;
    f[st->nfiles].data_start = 0;
    st->nfiles++;
    if (!f[st->nfiles - 1].path) return lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
    return st_parse_file(st, st->nfiles - 1);
}

lc_status lc_safetensors_open(const char *path, lc_safetensors **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_safetensors_open: out is NULL");
    *out = NULL;
    if (!path) return lc_error(LC_ERR_ARG, "lc_safetensors_open: path is NULL");
    lc_safetensors *st = calloc(1, sizeof *st);
    if (!st) return lc_error(LC_ERR_NOMEM, "%s: out of memory", path);
    st_mapping *m = NULL;
    lc_status s = st_map_file(path, &m);
    if (s == LC_OK) s = st_add_file(st, path, m);
    if (s == LC_OK) s = st_index_names(st);
    if (s == LC_OK) s = st_index_meta(st);
    if (s != LC_OK) {
        st_free(st);
        return s;
    }
    *out = st;
    return LC_OK;
}

lc_status lc_safetensors_open_memory(const void *data, size_t size, const char *name, lc_safetensors **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_safetensors_open_memory: out is NULL");
    *out = NULL;
    const char *label = name ? name : "<memory>";
    if (!data && size) return lc_error(LC_ERR_ARG, "%s: data is NULL", label);
    lc_safetensors *st = calloc(1, sizeof *st);
    st_mapping *m = calloc(1, sizeof *m);
    /* malloc'd memory is aligned for every dtype, like a page-aligned mapping. */
    unsigned char *copy = malloc(size ? size : 1);
    if (!st || !m || !copy) {
        free(st);
        free(m);
        free(copy);
        return lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
    }
    if (size) memcpy(copy, data, size);
    atomic_init(&m->refs, 1);
    m->base = copy;
    m->size = size;
    m->is_mmap = false;
    lc_status s = st_add_file(st, label, m);
    if (s == LC_OK) s = st_index_names(st);
    if (s == LC_OK) s = st_index_meta(st);
    if (s != LC_OK) {
        st_free(st);
        return s;
    }
    *out = st;
    return LC_OK;
}

/* ---- sharded checkpoints --------------------------------------------------------------------- */
static const char *st_basename(const char *p) {
    const char *slash = strrchr(p, '/');
    return slash ? slash + 1 : p;
}

static bool st_ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static char *st_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

/* A shard's name must be a plain file name next to the index. */
static bool st_shard_name_ok(const char *s) {
    return s[0] && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static lc_status st_open_index(const char *index_path, lc_safetensors **out) {
    char *text = NULL;
    size_t len = 0;
    lc_status s = lc_read_file(index_path, LC_SAFETENSORS_MAX_HEADER, &text, &len);
    if (s != LC_OK) return s;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root) return lc_error(LC_ERR_FORMAT, "%s: not valid JSON", index_path);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(root) || !cJSON_IsObject(map)) {
        cJSON_Delete(root);
        return lc_error(LC_ERR_FORMAT, "%s: no \"weight_map\" object", index_path);
    }
    /* Directory of the index. */
    char *dir = st_strdup(index_path);
    lc_safetensors *st = calloc(1, sizeof *st);
    if (!dir || !st) {
        free(dir);
        free(st);
        cJSON_Delete(root);
        return lc_error(LC_ERR_NOMEM, "%s: out of memory", index_path);
    }
    char *slash = strrchr(dir, '/');
    if (slash) slash[1] = '\0';
    else strcpy(dir, ".");

    char shown[ST_SHOW];
    /* Open every distinct shard, in order of first mention. */
    size_t nmap = 0;
    for (const cJSON *m = map->child; m && s == LC_OK; m = m->next) {
        nmap++;
        if (!cJSON_IsString(m) || !st_shard_name_ok(m->valuestring)) {
            s = lc_error(LC_ERR_FORMAT, "%s: weight_map entry '%s' is not a plain shard file name", index_path,
                         st_show(m->string, shown));
            break;
        }
        bool seen = false;
        for (size_t i = 0; i < st->nfiles && !seen; i++)
            seen = strcmp(st_basename(st->files[i].path), m->valuestring) == 0;
        if (seen) continue;
        char *path = st_join(dir, m->valuestring);
        if (!path) {
            s = lc_error(LC_ERR_NOMEM, "%s: out of memory", index_path);
            break;
        }
        st_mapping *mp = NULL;
        s = st_map_file(path, &mp);
        if (s == LC_OK) s = st_add_file(st, path, mp);
        free(path);
    }
    if (s == LC_OK) s = st_index_names(st);
    if (s == LC_OK) s = st_index_meta(st);
    /* Index and shards must agree both ways. */
    for (const cJSON *m = map->child; m && s == LC_OK; m = m->next) {
        const st_entry *e = st_find(st, m->string);
        if (!e) {
            s = lc_error(LC_ERR_FORMAT, "%s: weight_map names '%s', which no shard holds", index_path,
                         st_show(m->string, shown));
            break;
        }
        const char *p = st->files[e->file].path;
        if (strcmp(st_basename(p), m->valuestring) != 0)
            s = lc_error(LC_ERR_FORMAT, "%s: weight_map puts '%s' in %s but it is in %s", index_path, st_show(m->string, shown),
                         m->valuestring, p);
    }
    if (s == LC_OK && nmap != st->count) {
        for (size_t i = 0; i < st->count; i++) {
            if (!cJSON_GetObjectItemCaseSensitive(map, st->entries[i].name)) {
                s = lc_error(LC_ERR_FORMAT, "%s: tensor '%s' is not listed in the weight_map of %s",
                             st->files[st->entries[i].file].path, st_show(st->entries[i].name, shown), index_path);
                break;
            }
        }
        if (s == LC_OK)
            s = lc_error(LC_ERR_FORMAT, "%s: weight_map lists a tensor name twice", index_path);
    }
    free(dir);
    cJSON_Delete(root);
    if (s != LC_OK) {
        st_free(st);
        return s;
    }
    *out = st;
    return LC_OK;
}

lc_status lc_safetensors_open_dir(const char *path, lc_safetensors **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_safetensors_open_dir: out is NULL");
    *out = NULL;
    if (!path) return lc_error(LC_ERR_ARG, "lc_safetensors_open_dir: path is NULL");
    struct stat sb;
    if (stat(path, &sb) != 0) return lc_error(LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) {
        if (st_ends_with(path, ".json")) return st_open_index(path, out);
        return lc_safetensors_open(path, out);
    }
    char *index = st_join(path, "model.safetensors.index.json");
    char *single = st_join(path, "model.safetensors");
    if (!index || !single) {
        free(index);
        free(single);
        return lc_error(LC_ERR_NOMEM, "%s: out of memory", path);
    }
    lc_status s;
    if (stat(single, &sb) == 0) s = lc_safetensors_open(single, out);
    else if (stat(index, &sb) == 0) s = st_open_index(index, out);
    else s = lc_error(LC_ERR_IO, "%s: no model.safetensors or model.safetensors.index.json", path);
    free(index);
    free(single);
    return s;
}

/* ---- queries ---------------------------------------------------------------------------------- */
size_t lc_safetensors_count(const lc_safetensors *st) { return st ? st->count : 0; }

const char *lc_safetensors_name(const lc_safetensors *st, size_t i) {
    return st && i < st->count ? st->entries[i].name : NULL;
}

bool lc_safetensors_has(const lc_safetensors *st, const char *name) { return st_find(st, name) != NULL; }

const char *lc_safetensors_metadata(const lc_safetensors *st, const char *key) {
    if (!st || !key) return NULL;
    size_t lo = 0, hi = st->nmeta;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, st->meta[mid].key);
        if (c == 0) return st->meta[mid].value;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

lc_status lc_safetensors_info(const lc_safetensors *st, const char *name, const char **dtype, int *ndim,
                              const int64_t **shape) {
    if (!st || !name) return lc_error(LC_ERR_ARG, "lc_safetensors_info: NULL argument");
    const st_entry *e = st_find(st, name);
    char shown[ST_SHOW];
    if (!e)
        return lc_error(LC_ERR_ARG, "%s: no tensor named '%s'", st->nfiles ? st->files[0].path : "safetensors",
                        st_show(name, shown));
    if (dtype) *dtype = e->dtype->name;
    if (ndim) *ndim = e->ndim;
    if (shape) *shape = e->shape;
    return LC_OK;
}

lc_status lc_safetensors_get(lc_safetensors *st, const char *name, lc_array **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_safetensors_get: out is NULL");
    *out = NULL;
    if (!st || !name) return lc_error(LC_ERR_ARG, "lc_safetensors_get: NULL argument");
    const st_entry *e = st_find(st, name);
    char shown[ST_SHOW];
    if (!e)
        return lc_error(LC_ERR_ARG, "%s: no tensor named '%s'", st->nfiles ? st->files[0].path : "safetensors",
                        st_show(name, shown));
    const st_file *f = &st->files[e->file];
    if (e->dtype->lc < 0)
        return lc_error(LC_ERR_UNSUPPORTED, "%s: tensor '%s' has dtype %s; locus loads F32, F16, BF16, I32 and I64",
                        f->path, st_show(name, shown), e->dtype->name);
    if (e->ndim > LC_MAX_DIMS)
        return lc_error(LC_ERR_UNSUPPORTED, "%s: tensor '%s' has %d dimensions; locus arrays have at most %d", f->path,
                        name, e->ndim, LC_MAX_DIMS);
    int64_t shape[LC_MAX_DIMS > 0 ? LC_MAX_DIMS : 1];
    for (int i = 0; i < e->ndim; i++) shape[i] = e->shape[i];
    unsigned char *ptr = f->map->base + f->data_start + e->begin;
    lc_dtype t = (lc_dtype)e->dtype->lc;
    lc_status s;
    if ((uintptr_t)ptr % (e->dtype->bits / 8) == 0) {
        atomic_fetch_add(&f->map->refs, 1);
        s = lc_array_wrap(t, e->ndim, shape, ptr, st_mapping_release, f->map, out);
        if (s != LC_OK) {
            st_mapping_release(f->map);
            *out = NULL;
        }
    } else {
        /* Misaligned elements cannot be read in place portably: copy them (rare; the writers of
         * the format align the data section). */
        s = lc_array_from_data(t, e->ndim, shape, ptr, out);
    }
    return s;
}
