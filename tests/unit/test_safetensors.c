/*
 * safetensors loader: valid files built byte by byte (values checked, zero copy checked, lifetime
 * of the mapping past close), and hostile ones (every header rule broken once): each must fail with
 * the right status and a one-line message naming the file.
 *
 * Also a helper mode for tests/py/test_safetensors.py, which writes files with the `safetensors`
 * Python package and torch and compares what locus reads:
 *   test_safetensors --dump FILE_OR_DIR OUTDIR
 * prints "index<TAB>name<TAB>dtype<TAB>dim,dim,..." per tensor and writes OUTDIR/<index>.bin with
 * the values (f32 for float dtypes, i64 for integer dtypes, nothing for unsupported dtypes); on
 * failure prints the error on stderr and exits 1.
 */
#include "locus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures = 0;
#define CHECK(cond, ...)                                                                            \
    do {                                                                                            \
        if (!(cond)) {                                                                              \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                           \
            fprintf(stderr, "\n");                                                                  \
            failures++;                                                                             \
        }                                                                                           \
    } while (0)

static char tmpdir[256];

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    if (n && fwrite(data, 1, n, f) != n) exit(1);
    fclose(f);
}

/* 8-byte little-endian length, header, data. */
static unsigned char *build(uint64_t hlen_field, const char *header, size_t hlen, const void *data, size_t dlen,
                            size_t *n) {
    unsigned char *b = malloc(8 + hlen + dlen + 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(hlen_field >> (8 * i));
    memcpy(b + 8, header, hlen);
    if (dlen) memcpy(b + 8 + hlen, data, dlen);
    *n = 8 + hlen + dlen;
    return b;
}

/* Write a file from a header and data, open it, return the status (and the handle on success). */
static lc_status open_built(const char *fname, const char *header, const void *data, size_t dlen,
                            lc_safetensors **out, char *path_out) {
    size_t n;
    unsigned char *b = build(strlen(header), header, strlen(header), data, dlen, &n);
    snprintf(path_out, 512, "%s/%s", tmpdir, fname);
    write_file(path_out, b, n);
    free(b);
    return lc_safetensors_open(path_out, out);
}

/* The error must be one line and start with the path. */
static void check_message(const char *path, const char *what) {
    const char *m = lc_last_error();
    CHECK(strncmp(m, path, strlen(path)) == 0, "%s: message does not name the file: %s", what, m);
    CHECK(strchr(m, '\n') == NULL, "%s: message is not one line: %s", what, m);
    CHECK(strlen(m) > strlen(path) + 4, "%s: message says nothing: %s", what, m);
}

static void expect_fail(const char *what, const char *header, const void *data, size_t dlen, lc_status want) {
    lc_safetensors *st = NULL;
    char path[512];
    lc_status s = open_built("bad.safetensors", header, data, dlen, &st, path);
    CHECK(s == want, "%s: status %d (%s), wanted %d; message: %s", what, s, lc_status_string(s), want,
          lc_last_error());
    CHECK(st == NULL, "%s: handle returned on failure", what);
    if (s != LC_OK) check_message(path, what);
    lc_safetensors_close(st);
    /* The memory variant must agree. */
    size_t n;
    unsigned char *b = build(strlen(header), header, strlen(header), data, dlen, &n);
    st = NULL;
    s = lc_safetensors_open_memory(b, n, "mem", &st);
    CHECK(s == want, "%s (memory): status %d, wanted %d: %s", what, s, want, lc_last_error());
    lc_safetensors_close(st);
    free(b);
}

static void expect_fail_raw(const char *what, const unsigned char *bytes, size_t n, lc_status want) {
    char path[512];
    snprintf(path, sizeof path, "%s/raw.safetensors", tmpdir);
    write_file(path, bytes, n);
    lc_safetensors *st = NULL;
    lc_status s = lc_safetensors_open(path, &st);
    CHECK(s == want, "%s: status %d, wanted %d: %s", what, s, want, lc_last_error());
    if (s != LC_OK) check_message(path, what);
    lc_safetensors_close(st);
    st = NULL;
    s = lc_safetensors_open_memory(bytes, n, "mem", &st);
    CHECK(s == want, "%s (memory): status %d, wanted %d: %s", what, s, want, lc_last_error());
    lc_safetensors_close(st);
}

static void test_valid(void) {
    /* Tensors: a f32 (2,3), b f16 (2), c bf16 (2), d i32 (3), e i64 (1), s f32 scalar, z f32 (0,4),
     * u u8 (3): laid out in that order. */
    float a[6] = {1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, -7.0f};
    uint16_t b[2] = {0x3c00, 0xc000};  /* f16 1.0, -2.0 */
    uint16_t c[2] = {0x3f80, 0x4040};  /* bf16 1.0, 3.0 */
    int32_t d[3] = {-1, 2, 2147483647};
    int64_t e[1] = {-((int64_t)1 << 40)};
    float sc = 42.0f;
    unsigned char u[3] = {1, 2, 3};
    unsigned char data[24 + 4 + 4 + 12 + 8 + 4 + 3];
    size_t o = 0;
    memcpy(data + o, a, 24), o += 24;
    memcpy(data + o, b, 4), o += 4;
    memcpy(data + o, c, 4), o += 4;
    memcpy(data + o, d, 12), o += 12;
    memcpy(data + o, e, 8), o += 8;
    memcpy(data + o, &sc, 4), o += 4;
    memcpy(data + o, u, 3), o += 3;
    /* Header padded so that the data section starts 8-aligned (as the Python writer does). */
    char header[1024];
    int hl = snprintf(header, sizeof header,
                      "{\"__metadata__\":{\"format\":\"pt\"},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                      "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[24,28]},"
                      "\"c\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[28,32]},"
                      "\"d\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[32,44]},"
                      "\"e\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[44,52]},"
                      "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[52,56]},"
                      "\"z\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[56,56]},"
                      "\"u\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[56,59]}}");
    while (hl % 8) header[hl++] = ' ';
    header[hl] = '\0';
    /* e (I64) sits at data offset 44, 4 mod 8: it must be copied, not mapped misaligned. */
    lc_safetensors *st = NULL;
    char path[512];
    lc_status s = open_built("ok.safetensors", header, data, o, &st, path);
    CHECK(s == LC_OK, "valid file rejected: %s", lc_last_error());
    if (s != LC_OK) return;
    CHECK(lc_safetensors_count(st) == 8, "count %zu", lc_safetensors_count(st));
    CHECK(strcmp(lc_safetensors_name(st, 0), "a") == 0 && strcmp(lc_safetensors_name(st, 7), "u") == 0,
          "header order not kept");
    CHECK(lc_safetensors_name(st, 8) == NULL, "name past the end");
    CHECK(lc_safetensors_has(st, "d") && !lc_safetensors_has(st, "x"), "has");
    CHECK(lc_safetensors_metadata(st, "format") && strcmp(lc_safetensors_metadata(st, "format"), "pt") == 0,
          "metadata");
    CHECK(lc_safetensors_metadata(st, "nope") == NULL, "missing metadata");
    const char *dt;
    int nd;
    const int64_t *sh;
    CHECK(lc_safetensors_info(st, "a", &dt, &nd, &sh) == LC_OK && strcmp(dt, "F32") == 0 && nd == 2 && sh[0] == 2 &&
              sh[1] == 3,
          "info a");
    CHECK(lc_safetensors_info(st, "u", &dt, NULL, NULL) == LC_OK && strcmp(dt, "U8") == 0, "info u");

    lc_array *A = NULL, *A2 = NULL, *B = NULL, *C = NULL, *D = NULL, *E = NULL, *S = NULL, *Z = NULL, *U = NULL;
    CHECK(lc_safetensors_get(st, "a", &A) == LC_OK, "get a: %s", lc_last_error());
    CHECK(lc_safetensors_get(st, "a", &A2) == LC_OK, "get a again");
    CHECK(lc_safetensors_get(st, "b", &B) == LC_OK, "get b: %s", lc_last_error());
    CHECK(lc_safetensors_get(st, "c", &C) == LC_OK, "get c: %s", lc_last_error());
    CHECK(lc_safetensors_get(st, "d", &D) == LC_OK, "get d: %s", lc_last_error());
    CHECK(lc_safetensors_get(st, "e", &E) == LC_OK, "get e: %s", lc_last_error());
    CHECK(lc_safetensors_get(st, "s", &S) == LC_OK, "get s: %s", lc_last_error());
    CHECK(lc_safetensors_get(st, "z", &Z) == LC_OK, "get z: %s", lc_last_error());
    s = lc_safetensors_get(st, "u", &U);
    CHECK(s == LC_ERR_UNSUPPORTED && U == NULL, "u8 should be unsupported, got %d", s);
    CHECK(strstr(lc_last_error(), "'u'") && strstr(lc_last_error(), "U8"), "message names tensor and dtype: %s",
          lc_last_error());
    check_message(path, "unsupported dtype");
    s = lc_safetensors_get(st, "missing", &U);
    CHECK(s == LC_ERR_ARG && strstr(lc_last_error(), "missing"), "missing name: %d %s", s, lc_last_error());
    if (!A || !A2 || !B || !C || !D || !E || !S || !Z) {
        lc_safetensors_close(st);
        return;
    }
    /* Zero copy: both arrays for 'a' point at the same mapped bytes. */
    void *pa = NULL, *pa2 = NULL;
    CHECK(lc_array_host_data(A, &pa) == LC_OK && lc_array_host_data(A2, &pa2) == LC_OK && pa == pa2,
          "f32 tensor was copied (%p vs %p)", pa, pa2);
    CHECK(pa && memcmp(pa, a, 24) == 0, "mapped bytes of a differ");

    /* The mapping outlives the handle. */
    lc_safetensors_close(st);
    float fa[6];
    CHECK(lc_array_ndim(A) == 2 && lc_array_dim(A, 0) == 2 && lc_array_dim(A, 1) == 3, "shape of a");
    CHECK(lc_array_dtype(A) == LC_F32, "dtype of a");
    CHECK(lc_array_read_f32(A, fa, 6) == LC_OK && memcmp(fa, a, sizeof a) == 0, "values of a");
    float fb[2], fc[2], fs;
    CHECK(lc_array_dtype(B) == LC_F16 && lc_array_read_f32(B, fb, 2) == LC_OK && fb[0] == 1.0f && fb[1] == -2.0f,
          "values of b");
    CHECK(lc_array_dtype(C) == LC_BF16 && lc_array_read_f32(C, fc, 2) == LC_OK && fc[0] == 1.0f && fc[1] == 3.0f,
          "values of c");
    int64_t id[3], ie[1];
    CHECK(lc_array_dtype(D) == LC_I32 && lc_array_read_i64(D, id, 3) == LC_OK && id[0] == -1 && id[2] == 2147483647,
          "values of d");
    CHECK(lc_array_dtype(E) == LC_I64 && lc_array_read_i64(E, ie, 1) == LC_OK && ie[0] == e[0], "values of e");
    CHECK(lc_array_ndim(S) == 0 && lc_array_numel(S) == 1 && lc_array_read_f32(S, &fs, 1) == LC_OK && fs == 42.0f,
          "scalar s");
    CHECK(lc_array_ndim(Z) == 2 && lc_array_numel(Z) == 0 && lc_array_dim(Z, 1) == 4, "empty z");
    lc_array_release(A);
    lc_array_release(A2);
    lc_array_release(B);
    lc_array_release(C);
    lc_array_release(D);
    lc_array_release(E);
    lc_array_release(S);
    lc_array_release(Z);

    /* Whitespace padding after the object is allowed; an empty header object is a valid file. */
    st = NULL;
    s = open_built("empty.safetensors", "{}      ", NULL, 0, &st, path);
    CHECK(s == LC_OK && lc_safetensors_count(st) == 0, "empty object: %s", lc_last_error());
    lc_safetensors_close(st);
}

static void test_hostile(void) {
    char path[512];
    /* Missing file, directory. */
    snprintf(path, sizeof path, "%s/does-not-exist.safetensors", tmpdir);
    lc_safetensors *st = NULL;
    lc_status s = lc_safetensors_open(path, &st);
    CHECK(s == LC_ERR_IO && st == NULL, "missing file: %d", s);
    check_message(path, "missing file");
    s = lc_safetensors_open(tmpdir, &st);
    CHECK(s == LC_ERR_IO, "directory: %d", s);
    check_message(tmpdir, "directory");

    /* Truncated: shorter than the length field, length past the end, data cut short. */
    unsigned char tiny[5] = {1, 0, 0, 0, 0};
    expect_fail_raw("5-byte file", tiny, 5, LC_ERR_FORMAT);
    expect_fail_raw("empty file", tiny, 0, LC_ERR_FORMAT);
    size_t n;
    const char *h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    float two[2] = {1, 2};
    unsigned char *b = build(strlen(h), h, strlen(h), two, 8, &n);
    expect_fail_raw("truncated data", b, n - 3, LC_ERR_FORMAT);
    expect_fail_raw("truncated header", b, 8 + strlen(h) / 2, LC_ERR_FORMAT);
    free(b);
    /* Header length fields: 0, larger than the file, over the 100 MiB limit, 2^64-1. */
    uint64_t lens[] = {0, 1000, (uint64_t)LC_SAFETENSORS_MAX_HEADER + 1, UINT64_MAX, (uint64_t)1 << 63};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        b = build(lens[i], "{}", 2, NULL, 0, &n);
        expect_fail_raw("bad header length", b, n, LC_ERR_FORMAT);
        free(b);
    }
    /* Header length shorter than the JSON: the cut JSON is invalid. */
    b = build(5, h, strlen(h), two, 8, &n);
    expect_fail_raw("header length too short", b, n, LC_ERR_FORMAT);
    free(b);

    /* JSON shape. */
    expect_fail("not an object (array)", "[]", NULL, 0, LC_ERR_FORMAT);
    expect_fail("not an object (string)", "\"abc\"", NULL, 0, LC_ERR_FORMAT);
    expect_fail("not an object (number)", "12", NULL, 0, LC_ERR_FORMAT);
    expect_fail("leading space", " {}", NULL, 0, LC_ERR_FORMAT);
    expect_fail("invalid JSON", "{\"a\":", NULL, 0, LC_ERR_FORMAT);
    expect_fail("invalid JSON 2", "{\"a\" 1}", NULL, 0, LC_ERR_FORMAT);
    expect_fail("garbage after object", "{} x", NULL, 0, LC_ERR_FORMAT);
    expect_fail("second object", "{}{}", NULL, 0, LC_ERR_FORMAT);
    expect_fail("deep nesting", "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
                                "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
                NULL, 0, LC_ERR_FORMAT);
    expect_fail("tensor not an object", "{\"a\":[1,2]}", NULL, 0, LC_ERR_FORMAT);
    expect_fail("metadata not an object", "{\"__metadata__\":[]}", NULL, 0, LC_ERR_FORMAT);
    expect_fail("metadata value not a string", "{\"__metadata__\":{\"k\":1}}", NULL, 0, LC_ERR_FORMAT);
    expect_fail("metadata key twice", "{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", NULL, 0, LC_ERR_FORMAT);
    expect_fail("metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", NULL, 0, LC_ERR_FORMAT);

    /* Fields. */
    expect_fail("missing dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", two, 8, LC_ERR_FORMAT);
    expect_fail("missing shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", two, 8, LC_ERR_FORMAT);
    expect_fail("missing offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", two, 8, LC_ERR_FORMAT);
    expect_fail("unknown field", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("repeated field", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                two, 8, LC_ERR_FORMAT);
    expect_fail("dtype not a string", "{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("unknown dtype", "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_UNSUPPORTED);
    expect_fail("lower-case dtype", "{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_UNSUPPORTED);
    expect_fail("shape not an array", "{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("negative dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("fractional dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("string dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("huge dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("shape overflow",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("shape overflow by dtype size",
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[4503599627370496,4096],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("size mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("size mismatch (dtype)", "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("size mismatch (unsupported dtype)", "{\"a\":{\"dtype\":\"U16\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                two, 8, LC_ERR_FORMAT);
    expect_fail("size mismatch (F8)", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);

    /* Sub-byte dtypes pack: 3 x F4 is 12 bits, not a whole number of bytes. */
    expect_fail("F4 not filling bytes", "{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", two, 2,
                LC_ERR_FORMAT);
    expect_fail("F6 size mismatch", "{\"a\":{\"dtype\":\"F6_E2M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", two, 4,
                LC_ERR_FORMAT);
    {
        lc_safetensors *sp = NULL;
        char pp[512];
        s = open_built("packed.safetensors",
                       "{\"a\":{\"dtype\":\"F4\",\"shape\":[2,2],\"data_offsets\":[0,2]},"
                       "\"b\":{\"dtype\":\"F6_E3M2\",\"shape\":[4],\"data_offsets\":[2,5]},"
                       "\"c\":{\"dtype\":\"F8_E5M2FNUZ\",\"shape\":[3],\"data_offsets\":[5,8]}}",
                       two, 8, &sp, pp);
        CHECK(s == LC_OK, "packed dtypes: %s", lc_last_error());
        lc_array *x = NULL;
        if (s == LC_OK) CHECK(lc_safetensors_get(sp, "a", &x) == LC_ERR_UNSUPPORTED && !x, "F4 get");
        lc_safetensors_close(sp);
    }

    /* Offsets. */
    expect_fail("offsets not an array", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":8}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("three offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("negative offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[-8,-8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("reversed offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("offsets out of range", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("offsets far out of range",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[9007199254740984,9007199254740992]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("offsets beyond 2^53",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[18446744073709551608,18446744073709551616]}}",
                two, 8, LC_ERR_FORMAT);
    expect_fail("overlap",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                two, 8, LC_ERR_FORMAT);
    expect_fail("same bytes twice",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                two, 8, LC_ERR_FORMAT);
    expect_fail("gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", two, 8, LC_ERR_FORMAT);
    expect_fail("not covering (trailing bytes)", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                two, 8, LC_ERR_FORMAT);
    expect_fail("no tensors but data", "{}", two, 8, LC_ERR_FORMAT);

    /* Names. */
    expect_fail("duplicate names",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                two, 8, LC_ERR_FORMAT);
    expect_fail("duplicate names through an escape",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"\\u0061\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                two, 8, LC_ERR_FORMAT);
    expect_fail("name not UTF-8", "{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("overlong UTF-8", "{\"\xc0\xaf\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    expect_fail("surrogate in UTF-8", "{\"\xed\xa0\x80\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                two, 8, LC_ERR_FORMAT);
    expect_fail("truncated UTF-8", "{\"\xe2\x82\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", two, 8,
                LC_ERR_FORMAT);
    {
        /* A NUL byte inside the header. */
        const char hn[] = "{\"a\0\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        b = build(sizeof hn - 1, hn, sizeof hn - 1, two, 8, &n);
        expect_fail_raw("NUL in header", b, n, LC_ERR_FORMAT);
        free(b);
    }

    expect_fail("raw control character in a name",
                "{\"a\x1c\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", two, 8, LC_ERR_FORMAT);
    {
        /* An escaped control character is a valid name; messages about it stay on one line. */
        lc_safetensors *sx = NULL;
        char px[512];
        s = open_built("ctl.safetensors", "{\"a\\n\\u001c\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}",
                       two, 8, &sx, px);
        CHECK(s == LC_OK, "escaped control character in a name: %s", lc_last_error());
        lc_array *a = NULL;
        if (s == LC_OK) {
            s = lc_safetensors_get(sx, "a\n\x1c", &a);
            CHECK(s == LC_ERR_UNSUPPORTED, "u8 get: %d", s);
            check_message(px, "escaped control name");
            s = lc_safetensors_get(sx, "b\nc", &a);
            check_message(px, "missing control name");
        }
        lc_safetensors_close(sx);
    }

    /* Valid but beyond what locus arrays hold: 9 dimensions open, get is unsupported. */
    char path9[512];
    s = open_built("nine.safetensors",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", two, 8, &st,
                   path9);
    CHECK(s == LC_OK, "9-d tensor rejected on open: %s", lc_last_error());
    if (s == LC_OK) {
        lc_array *a = NULL;
        s = lc_safetensors_get(st, "a", &a);
        CHECK(s == LC_ERR_UNSUPPORTED && a == NULL, "9-d get: %d", s);
        lc_safetensors_close(st);
    }
    /* A valid non-ASCII name. */
    s = open_built("utf8.safetensors",
                   "{\"\xc3\xa9t\xc3\xa9\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", two, 8, &st,
                   path9);
    CHECK(s == LC_OK && lc_safetensors_has(st, "\xc3\xa9t\xc3\xa9"), "UTF-8 name: %s", lc_last_error());
    lc_safetensors_close(st);
}

static void write_built(const char *path, const char *header, const void *data, size_t dlen) {
    size_t n;
    unsigned char *b = build(strlen(header), header, strlen(header), data, dlen, &n);
    write_file(path, b, n);
    free(b);
}

static void test_sharded(void) {
    char dir[400], p[512];
    snprintf(dir, sizeof dir, "%s/sharded", tmpdir);
    mkdir(dir, 0700);
    float one[1] = {5.0f}, two[2] = {1, 2};
    snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", dir);
    write_built(p, "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", one, 4);
    snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", dir);
    write_built(p, "{\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", two, 8);
    snprintf(p, sizeof p, "%s/pq.safetensors", dir);
    write_built(p,
                "{\"p\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                two, 8);
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    const char *idx = "{\"metadata\":{\"total_size\":12},\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\","
                      "\"y\":\"model-00002-of-00002.safetensors\"}}";
    write_file(p, idx, strlen(idx));
    lc_safetensors *st = NULL;
    lc_status s = lc_safetensors_open_dir(dir, &st);
    CHECK(s == LC_OK, "sharded: %s", lc_last_error());
    if (s == LC_OK) {
        CHECK(lc_safetensors_count(st) == 2 && lc_safetensors_has(st, "x") && lc_safetensors_has(st, "y"),
              "sharded names");
        lc_array *y = NULL;
        float v[2];
        CHECK(lc_safetensors_get(st, "y", &y) == LC_OK && lc_array_read_f32(y, v, 2) == LC_OK && v[1] == 2.0f,
              "sharded value");
        lc_safetensors_close(st);
        lc_array_release(y);
    }
    /* The index path itself works too. */
    st = NULL;
    s = lc_safetensors_open_dir(p, &st);
    CHECK(s == LC_OK && lc_safetensors_count(st) == 2, "index path: %s", lc_last_error());
    lc_safetensors_close(st);

    /* Index naming a tensor no shard has; a tensor not in the index; a shard outside the dir;
     * a name in two shards. */
    const char *bad[] = {
        ("{\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\",\"y\":\"model-00002-of-00002.safetensors\","
         "\"z\":\"model-00002-of-00002.safetensors\"}}"),
        "{\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\",\"y\":\"model-00001-of-00002.safetensors\"}}",
        "{\"weight_map\":{\"p\":\"pq.safetensors\"}}",
        "{\"weight_map\":{\"x\":\"../model-00001-of-00002.safetensors\"}}",
        "{\"weight_map\":{\"x\":\"model-00002-of-00002.safetensors\",\"y\":\"model-00002-of-00002.safetensors\"}}",
        "{\"weight_map\":{\"x\":\"missing.safetensors\"}}",
        "{\"weight_map\":[]}",
        "{\"weight_map\":",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(p, bad[i], strlen(bad[i]));
        st = NULL;
        s = lc_safetensors_open_dir(dir, &st);
        CHECK(s != LC_OK && st == NULL, "bad index %zu accepted", i);
        lc_safetensors_close(st);
        CHECK(strchr(lc_last_error(), '\n') == NULL && strstr(lc_last_error(), dir), "bad index %zu message: %s", i,
              lc_last_error());
    }
    /* Same tensor in two shards. */
    char p2[512];
    snprintf(p2, sizeof p2, "%s/model-00002-of-00002.safetensors", dir);
    write_built(p2, "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", two, 8);
    write_file(p, idx, strlen(idx));
    st = NULL;
    s = lc_safetensors_open_dir(dir, &st);
    CHECK(s == LC_ERR_FORMAT && strstr(lc_last_error(), "'x'"), "duplicate across shards: %d %s", s, lc_last_error());
    /* Empty directory. */
    char empty[512];
    snprintf(empty, sizeof empty, "%s/emptydir", tmpdir);
    mkdir(empty, 0700);
    s = lc_safetensors_open_dir(empty, &st);
    CHECK(s == LC_ERR_IO && strstr(lc_last_error(), empty), "empty dir: %d %s", s, lc_last_error());
}

static int dump(const char *path, const char *outdir) {
    lc_safetensors *st = NULL;
    if (lc_safetensors_open_dir(path, &st) != LC_OK) {
        fprintf(stderr, "%s\n", lc_last_error());
        return 1;
    }
    for (size_t i = 0; i < lc_safetensors_count(st); i++) {
        const char *name = lc_safetensors_name(st, i);
        const char *dt;
        int nd;
        const int64_t *sh;
        lc_safetensors_info(st, name, &dt, &nd, &sh);
        printf("%zu\t%s\t%s\t", i, name, dt);
        for (int k = 0; k < nd; k++) printf("%s%lld", k ? "," : "", (long long)sh[k]);
        printf("\n");
        lc_array *a = NULL;
        lc_status s = lc_safetensors_get(st, name, &a);
        if (s == LC_ERR_UNSUPPORTED) continue;
        if (s != LC_OK) {
            fprintf(stderr, "%s\n", lc_last_error());
            lc_safetensors_close(st);
            return 1;
        }
        size_t numel = (size_t)lc_array_numel(a);
        bool is_float = lc_array_dtype(a) == LC_F32 || lc_array_dtype(a) == LC_F16 || lc_array_dtype(a) == LC_BF16;
        size_t esz = is_float ? 4 : 8;
        void *buf = malloc(numel * esz + 1);
        s = is_float ? lc_array_read_f32(a, buf, numel) : lc_array_read_i64(a, buf, numel);
        if (s != LC_OK) {
            fprintf(stderr, "%s\n", lc_last_error());
            free(buf);
            lc_array_release(a);
            lc_safetensors_close(st);
            return 1;
        }
        char out[4096];
        snprintf(out, sizeof out, "%s/%zu.bin", outdir, i);
        write_file(out, buf, numel * esz);
        free(buf);
        lc_array_release(a);
    }
    lc_safetensors_close(st);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--dump") == 0) return dump(argv[2], argv[3]);
    snprintf(tmpdir, sizeof tmpdir, "%s/locus-st-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_valid();
    test_hostile();
    test_sharded();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("safetensors: all checks passed\n");
    return 0;
}
