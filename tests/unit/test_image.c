/*
 * Images: decoders on hostile input (truncated, corrupt, zero-sized, decompression bombs, random
 * damage: clear errors naming the file, never a crash), EXIF parsing, resize invariants and the
 * preprocessor's configuration errors. Comparisons with PIL and Hugging Face are in
 * tests/py/test_image_decode.py and tests/py/test_image_preprocess.py, which drive the helper
 * modes of this binary:
 *
 *   test_image --decode IMAGE OUT.rgb [--exif-transpose]       prints "W H", writes RGB bytes
 *   test_image --resize IMAGE W H FILTER OUT.rgb               PIL filter number
 *   test_image --preprocess CONFIG IMAGE OUT.f32 [--exif-transpose]
 *                                                              prints "3 H W", writes float32
 *   test_image --bench CONFIG IMAGE N                          decode + preprocess N times on one
 *                                                              thread, prints per-image CPU times
 *                                                              and images per second per core
 */
#include "locus.h"
#include "media/image_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(sz > 0 ? (size_t)sz : 1);
    *n = b ? fread(b, 1, (size_t)sz, f) : 0;
    fclose(f);
    return b;
}

static int write_all(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        perror(path);
        if (f) fclose(f);
        return 1;
    }
    fclose(f);
    return 0;
}

/* ---- helper modes ---------------------------------------------------------------------------- */
static int mode_decode(int argc, char **argv) {
    lc_image_options o = {.exif_transpose = argc > 4 && strcmp(argv[4], "--exif-transpose") == 0};
    lc_image *img = NULL;
    if (lc_image_decode_file(argv[2], &o, &img) != LC_OK) {
        fprintf(stderr, "%s\n", lc_last_error());
        return 1;
    }
    printf("%d %d\n", img->width, img->height);
    int r = write_all(argv[3], img->data, (size_t)img->width * img->height * 3);
    lc_image_free(img);
    return r;
}

static int mode_resize(char **argv) {
    lc_image *img = NULL, *out = NULL;
    if (lc_image_decode_file(argv[2], NULL, &img) != LC_OK ||
        lc_image_resize(img, atoi(argv[3]), atoi(argv[4]), (lc_resample)atoi(argv[5]), &out) != LC_OK) {
        fprintf(stderr, "%s\n", lc_last_error());
        lc_image_free(img);
        return 1;
    }
    printf("%d %d\n", out->width, out->height);
    int r = write_all(argv[6], out->data, (size_t)out->width * out->height * 3);
    lc_image_free(img);
    lc_image_free(out);
    return r;
}

static int mode_preprocess(int argc, char **argv) {
    lc_image_options o = {.exif_transpose = argc > 5 && strcmp(argv[5], "--exif-transpose") == 0};
    lc_image_preprocessor *p = NULL;
    lc_image *img = NULL;
    lc_array *a = NULL;
    if (lc_image_preprocessor_load(argv[2], &p) != LC_OK || lc_image_decode_file(argv[3], &o, &img) != LC_OK ||
        lc_image_preprocess(p, img, &a) != LC_OK) {
        fprintf(stderr, "%s\n", lc_last_error());
        lc_image_preprocessor_free(p);
        lc_image_free(img);
        return 1;
    }
    size_t n = (size_t)lc_array_numel(a);
    float *buf = malloc(n * sizeof *buf);
    int r = lc_array_read_f32(a, buf, n) == LC_OK ? 0 : 1;
    printf("%lld %lld %lld\n", (long long)lc_array_dim(a, 0), (long long)lc_array_dim(a, 1),
           (long long)lc_array_dim(a, 2));
    if (!r) r = write_all(argv[4], buf, n * sizeof *buf);
    free(buf);
    lc_array_release(a);
    lc_image_free(img);
    lc_image_preprocessor_free(p);
    return r;
}

/* CPU time of this process: what "per core" means, and steady on a shared machine. */
static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int mode_bench(char **argv) {
    lc_set_num_threads(1); /* one core: the figure is images per second per core */
    lc_image_preprocessor *p = NULL;
    size_t n = 0;
    unsigned char *bytes = read_all(argv[3], &n);
    int iters = atoi(argv[4]);
    if (!bytes || iters <= 0 || lc_image_preprocessor_load(argv[2], &p) != LC_OK) {
        fprintf(stderr, "bench: %s\n", lc_last_error());
        free(bytes);
        return 1;
    }
    int oh = 0, ow = 0;
    float *buf = NULL;
    double t_decode = 0, t_pre = 0;
    for (int i = 0; i < iters; i++) {
        lc_image *img = NULL;
        double t0 = now_s();
        if (lc_image_decode_memory(bytes, n, argv[3], NULL, &img) != LC_OK) {
            fprintf(stderr, "bench: %s\n", lc_last_error());
            return 1;
        }
        double t1 = now_s();
        if (!buf) {
            lc_image_preprocessor_output_size(p, img->width, img->height, &oh, &ow);
            buf = malloc((size_t)3 * oh * ow * sizeof *buf);
        }
        if (lc_image_preprocess_into(p, img, buf, (size_t)3 * oh * ow) != LC_OK) {
            fprintf(stderr, "bench: %s\n", lc_last_error());
            return 1;
        }
        t_pre += now_s() - t1;
        t_decode += t1 - t0;
        lc_image_free(img);
    }
    printf("{\"images\": %d, \"decode_cpu_ms\": %.3f, \"preprocess_cpu_ms\": %.3f, \"images_per_s_per_core\": %.1f}\n",
           iters,
           1e3 * t_decode / iters, 1e3 * t_pre / iters, iters / (t_decode + t_pre));
    free(buf);
    free(bytes);
    lc_image_preprocessor_free(p);
    return 0;
}

/* ---- self tests ------------------------------------------------------------------------------ */
static void expect_decode_error(const char *what, const void *data, size_t n, lc_status want) {
    lc_image *img = NULL;
    lc_status s = lc_image_decode_memory(data, n, "input.bin", NULL, &img);
    CHECK(s == want && img == NULL, "%s: status %d (%s), wanted %d", what, s, lc_last_error(), want);
    const char *m = lc_last_error();
    CHECK(strncmp(m, "input.bin: ", 11) == 0 && strchr(m, '\n') == NULL, "%s: message: %s", what, m);
    lc_image_free(img);
}

static uint32_t crc32_of(const unsigned char *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8),
    p[3] = (unsigned char)v;
}

/* A PNG signature + IHDR with the given size, then nothing. */
static size_t png_header(unsigned char *b, uint32_t w, uint32_t h) {
    memcpy(b, "\x89PNG\r\n\x1a\n", 8);
    put_be32(b + 8, 13);
    memcpy(b + 12, "IHDR", 4);
    put_be32(b + 16, w);
    put_be32(b + 20, h);
    b[24] = 8, b[25] = 2, b[26] = 0, b[27] = 0, b[28] = 0;
    put_be32(b + 29, crc32_of(b + 12, 17));
    return 33;
}

static void test_hostile(void) {
    expect_decode_error("empty", "", 0, LC_ERR_FORMAT);
    expect_decode_error("text", "hello world", 11, LC_ERR_FORMAT);
    expect_decode_error("gif", "GIF89a\x01\x00\x01\x00", 10, LC_ERR_UNSUPPORTED);
    {
        /* A WebP header cut short: a format error with libwebp, unsupported without it. */
        lc_image *img = NULL;
        lc_status s = lc_image_decode_memory("RIFF\x10\x00\x00\x00WEBPVP8 ", 16, "input.bin", NULL, &img);
        CHECK((s == LC_ERR_FORMAT || s == LC_ERR_UNSUPPORTED) && !img, "truncated WebP header: %d %s", s, lc_last_error());
        CHECK(strncmp(lc_last_error(), "input.bin: ", 11) == 0, "webp message: %s", lc_last_error());
    }
    expect_decode_error("jpeg signature only", "\xff\xd8\xff", 3, LC_ERR_FORMAT);
    expect_decode_error("png signature only", "\x89PNG\r\n\x1a\n", 8, LC_ERR_FORMAT);
    unsigned char b[64];
    size_t n = png_header(b, 100000, 100000);
    expect_decode_error("png bomb", b, n, LC_ERR_FORMAT);
    CHECK(strstr(lc_last_error(), "limit") != NULL, "bomb message: %s", lc_last_error());
    n = png_header(b, 0, 10);
    expect_decode_error("png zero width", b, n, LC_ERR_FORMAT);
    n = png_header(b, 10, 10);
    expect_decode_error("png without data", b, n, LC_ERR_FORMAT);
    /* A lower pixel limit refuses what the default accepts. */
    n = png_header(b, 3000, 3000);
    lc_image *img = NULL;
    lc_image_options o = {.max_pixels = 1000000};
    lc_status s = lc_image_decode_memory(b, n, "limit.png", &o, &img);
    CHECK(s == LC_ERR_FORMAT && strstr(lc_last_error(), "limit"), "max_pixels: %d %s", s, lc_last_error());
    s = lc_image_decode_file("/nonexistent/locus/image.jpg", NULL, &img);
    CHECK(s == LC_ERR_IO && strstr(lc_last_error(), "/nonexistent/locus/image.jpg"), "missing file: %s",
          lc_last_error());

    /* Damage real files in many ways: every outcome is a clean status. */
    const char *src = getenv("LOCUS_SOURCE_DIR");
    const char *names[] = {"tests/data/images/photo.jpg", "tests/data/images/progressive.jpg",
                           "tests/data/images/rgb.png", "tests/data/images/interlaced.png",
                           "tests/data/images/gray16.png", "tests/data/images/palette.png"};
    for (size_t f = 0; src && f < sizeof names / sizeof names[0]; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", src, names[f]);
        size_t len = 0;
        unsigned char *data = read_all(path, &len);
        if (!data) {
            fprintf(stderr, "note: %s missing, damage tests skipped for it\n", path);
            continue;
        }
        s = lc_image_decode_memory(data, len, path, NULL, &img);
        CHECK(s == LC_OK, "%s: %s", path, lc_last_error());
        lc_image_free(img);
        img = NULL;
        /* Truncations. */
        for (size_t cut = 0; cut < len; cut += len / 37 + 1) {
            s = lc_image_decode_memory(data, cut, path, NULL, &img);
            if (cut + 2 < len / 2) CHECK(s != LC_OK, "%s cut at %zu accepted", path, cut);
            lc_image_free(img);
            img = NULL;
        }
        /* Random byte damage. */
        unsigned seed = 12345u + (unsigned)f;
        unsigned char *copy = malloc(len);
        for (int round = 0; round < 60; round++) {
            memcpy(copy, data, len);
            for (int k = 0; k < 1 + round % 5; k++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % len;
                seed = seed * 1103515245u + 12345u;
                copy[at] = (unsigned char)(seed >> 16);
            }
            s = lc_image_decode_memory(copy, len, path, NULL, &img);
            CHECK(s == LC_OK || s == LC_ERR_FORMAT || s == LC_ERR_UNSUPPORTED, "%s damaged: status %d", path, s);
            if (s == LC_OK) CHECK(img && img->width > 0 && img->height > 0, "bad image");
            else CHECK(strchr(lc_last_error(), '\n') == NULL, "message not one line: %s", lc_last_error());
            lc_image_free(img);
            img = NULL;
        }
        free(copy);
        free(data);
    }
}

static void test_resize_invariants(void) {
    /* A constant image stays constant under every filter, shrinking or growing. */
    uint8_t px[7 * 5 * 3];
    for (size_t i = 0; i < sizeof px; i += 3) px[i] = 200, px[i + 1] = 17, px[i + 2] = 0;
    lc_image *img = NULL;
    CHECK(lc_image_from_rgb(7, 5, px, &img) == LC_OK, "from_rgb");
    int sizes[][2] = {{3, 2}, {14, 11}, {1, 1}, {7, 9}, {20, 5}};
    for (int f = 0; f <= 5; f++) {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            lc_image *o = NULL;
            lc_status s = lc_image_resize(img, sizes[k][0], sizes[k][1], (lc_resample)f, &o);
            CHECK(s == LC_OK, "resize: %s", lc_last_error());
            if (s) continue;
            bool same = true;
            for (int i = 0; i < o->width * o->height; i++)
                same &= o->data[3 * i] == 200 && o->data[3 * i + 1] == 17 && o->data[3 * i + 2] == 0;
            CHECK(same, "filter %d to %dx%d changed a constant image", f, sizes[k][0], sizes[k][1]);
            lc_image_free(o);
        }
    }
    /* Same size is a copy. */
    lc_image *o = NULL;
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 37);
    lc_image_free(img);
    lc_image_from_rgb(7, 5, px, &img);
    CHECK(lc_image_resize(img, 7, 5, LC_RESAMPLE_LANCZOS, &o) == LC_OK && memcmp(o->data, px, sizeof px) == 0,
          "identity resize");
    lc_image_free(o);
    CHECK(lc_image_resize(img, 0, 5, LC_RESAMPLE_BILINEAR, &o) == LC_ERR_ARG, "zero width");
    CHECK(lc_image_resize(img, 5, 5, (lc_resample)9, &o) == LC_ERR_ARG, "bad filter");
    lc_image_free(img);
}

static void test_exif_parsing(void) {
    /* Little- and big-endian IFD0 with one SHORT orientation entry. */
    const uint8_t le[] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', '*', 0, 8, 0, 0, 0, 1, 0,
                          0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0};
    const uint8_t be[] = {'M', 'M', 0, '*', 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 3, 0, 0};
    CHECK(lc_exif_orientation(le, sizeof le) == 6, "little-endian");
    CHECK(lc_exif_orientation(be, sizeof be) == 3, "big-endian");
    /* Every truncation is handled (bounds), answering "absent". */
    for (size_t n = 0; n < sizeof le - 8; n++) CHECK(lc_exif_orientation(le, n) == -1, "cut at %zu", n);
    /* IFD offset pointing outside; entry count larger than the data. */
    uint8_t bad[sizeof le];
    memcpy(bad, le, sizeof le);
    bad[10] = 0xff;
    CHECK(lc_exif_orientation(bad, sizeof bad) == -1, "ifd outside");
    memcpy(bad, le, sizeof le);
    bad[14] = 0xff, bad[15] = 0xff, bad[16] = 0; /* 65535 entries, first not 0x0112 */
    CHECK(lc_exif_orientation(bad, sizeof bad) == -1, "count too large");
    const char *x1 = "<rdf tiff:Orientation=\"7\"/>", *x2 = "<tiff:Orientation>4</tiff:Orientation>",
               *x3 = "tiff:Orientation", *x4 = "tiff:Orientation=\"", *x5 = "tiff:OrientationX tiff:Orientation>2";
    CHECK(lc_xmp_orientation((const uint8_t *)x1, strlen(x1)) == 7, "xmp attribute");
    CHECK(lc_xmp_orientation((const uint8_t *)x2, strlen(x2)) == 4, "xmp element");
    CHECK(lc_xmp_orientation((const uint8_t *)x3, strlen(x3)) == -1, "xmp key only");
    CHECK(lc_xmp_orientation((const uint8_t *)x4, strlen(x4)) == -1, "xmp cut");
    CHECK(lc_xmp_orientation((const uint8_t *)x5, strlen(x5)) == 2, "xmp second match");
}

/* The vectorised resize equals the scalar reference on random images, sizes and filters. */
static void test_resize_fast_matches_reference(void) {
    unsigned seed = 777;
    for (int round = 0; round < 120; round++) {
        seed = seed * 1103515245u + 12345u;
        int w = 1 + (int)(seed >> 16) % 300;
        seed = seed * 1103515245u + 12345u;
        int h = 1 + (int)(seed >> 16) % 200;
        seed = seed * 1103515245u + 12345u;
        int ow = 1 + (int)(seed >> 16) % 320;
        seed = seed * 1103515245u + 12345u;
        int oh = 1 + (int)(seed >> 16) % 220;
        lc_resample f = (lc_resample)(round % 6);
        uint8_t *px = malloc((size_t)w * h * 3);
        for (size_t i = 0; i < (size_t)w * h * 3; i++) {
            seed = seed * 1103515245u + 12345u;
            px[i] = (round % 3 == 0) ? (uint8_t)((seed >> 16) & 1 ? 255 : 0) : (uint8_t)(seed >> 16);
        }
        lc_image *img = NULL, *a = NULL, *b = NULL;
        lc_image_from_rgb(w, h, px, &img);
        lc_status s1 = lc_image_resize(img, ow, oh, f, &a), s2 = lc_image_resize_reference(img, ow, oh, f, &b);
        CHECK(s1 == LC_OK && s2 == LC_OK, "resize %dx%d -> %dx%d: %s", w, h, ow, oh, lc_last_error());
        if (a && b)
            CHECK(memcmp(a->data, b->data, (size_t)ow * oh * 3) == 0, "fast != reference: %dx%d -> %dx%d filter %d", w,
                  h, ow, oh, (int)f);
        lc_image_free(a);
        lc_image_free(b);
        lc_image_free(img);
        free(px);
    }
}

static void test_preprocessor_config(void) {
    const char *bad[] = {
        "", "[]", "{\"image_processor_type\": \"LevitImageProcessor\"}",
        "{\"size\": {\"height\": 0, \"width\": 3}}", "{\"size\": {\"max_height\": 3}}", "{\"size\": \"big\"}",
        "{\"resample\": 7}", "{\"image_mean\": [1, 2]}", "{\"image_std\": [0, 1, 1]}", "{\"do_resize\": 1}",
        "{\"do_center_crop\": true, \"crop_size\": null, \"image_processor_type\": \"ViTImageProcessor\"}",
        "{\"image_processor_type\": \"ConvNextImageProcessor\", \"size\": {\"height\": 3, \"width\": 3}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lc_image_preprocessor *p = NULL;
        lc_status s = lc_image_preprocessor_from_json(bad[i], strlen(bad[i]), "cfg.json", &p);
        CHECK(s != LC_OK && p == NULL, "bad config %zu accepted: %s", i, bad[i]);
        CHECK(strncmp(lc_last_error(), "cfg.json: ", 10) == 0, "config %zu message: %s", i, lc_last_error());
    }
    const char *vit = "{\"image_processor_type\": \"ViTImageProcessor\", \"do_resize\": true, \"size\": "
                      "{\"height\": 8, \"width\": 6}, \"resample\": 2, \"do_rescale\": true, \"rescale_factor\": "
                      "0.00392156862745098, \"do_normalize\": true, \"image_mean\": [0.5, 0.5, 0.5], \"image_std\": "
                      "[0.5, 0.5, 0.5]}";
    lc_image_preprocessor *p = NULL;
    CHECK(lc_image_preprocessor_from_json(vit, strlen(vit), "vit.json", &p) == LC_OK, "vit: %s", lc_last_error());
    if (!p) return;
    int h = 0, w = 0;
    CHECK(lc_image_preprocessor_output_size(p, 100, 50, &h, &w) == LC_OK && h == 8 && w == 6, "output size %dx%d", w,
          h);
    uint8_t px[5 * 4 * 3];
    memset(px, 255, sizeof px);
    lc_image *a = NULL, *b = NULL;
    lc_image_from_rgb(4, 4, px, &a);
    lc_image_from_rgb(5, 4, px, &b);
    lc_array *out = NULL;
    CHECK(lc_image_preprocess(p, a, &out) == LC_OK && lc_array_ndim(out) == 3 && lc_array_dim(out, 0) == 3 &&
              lc_array_dim(out, 1) == 8 && lc_array_dim(out, 2) == 6,
          "preprocess shape: %s", lc_last_error());
    float v[3 * 8 * 6];
    CHECK(out && lc_array_read_f32(out, v, 3 * 8 * 6) == LC_OK && v[0] == 1.0f && v[3 * 8 * 6 - 1] == 1.0f,
          "white -> 1.0");
    lc_array_release(out);
    const lc_image *both[2] = {a, b};
    CHECK(lc_image_preprocess_batch(p, 2, both, &out) == LC_OK && lc_array_dim(out, 0) == 2, "batch: %s",
          lc_last_error());
    lc_array_release(out);
    /* A larger batch (run on the thread pool) equals the images one by one. */
    enum { N = 9 };
    lc_image *many[N];
    for (int i = 0; i < N; i++) {
        uint8_t q[7 * 6 * 3];
        for (size_t k = 0; k < sizeof q; k++) q[k] = (uint8_t)(k * 31 + i * 17);
        lc_image_from_rgb(7 - i % 3, 5 + i % 2, q, &many[i]);
    }
    out = NULL;
    CHECK(lc_image_preprocess_batch(p, N, (const lc_image *const *)many, &out) == LC_OK, "batch of %d: %s", N,
          lc_last_error());
    if (out) {
        static float all[N * 3 * 8 * 6], one[3 * 8 * 6];
        CHECK(lc_array_read_f32(out, all, sizeof all / sizeof all[0]) == LC_OK, "read batch");
        for (int i = 0; i < N; i++) {
            CHECK(lc_image_preprocess_into(p, many[i], one, 3 * 8 * 6) == LC_OK, "one");
            CHECK(memcmp(one, all + i * 3 * 8 * 6, sizeof one) == 0, "batch image %d differs", i);
        }
    }
    lc_array_release(out);
    for (int i = 0; i < N; i++) lc_image_free(many[i]);
    lc_image_preprocessor_free(p);
    /* Shortest-edge sizing gives different shapes: batching them is a shape error. */
    const char *clip = "{\"image_processor_type\": \"CLIPImageProcessor\", \"size\": {\"shortest_edge\": 4}, "
                       "\"do_center_crop\": false}";
    p = NULL;
    CHECK(lc_image_preprocessor_from_json(clip, strlen(clip), "clip.json", &p) == LC_OK, "clip: %s", lc_last_error());
    out = NULL;
    CHECK(p && lc_image_preprocess_batch(p, 2, both, &out) == LC_ERR_SHAPE && out == NULL, "ragged batch");
    lc_image_preprocessor_free(p);
    lc_image_free(a);
    lc_image_free(b);
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "--decode") == 0) return mode_decode(argc, argv);
    if (argc == 7 && strcmp(argv[1], "--resize") == 0) return mode_resize(argv);
    if (argc >= 5 && strcmp(argv[1], "--preprocess") == 0) return mode_preprocess(argc, argv);
    if (argc == 5 && strcmp(argv[1], "--bench") == 0) return mode_bench(argv);
    test_hostile();
    test_exif_parsing();
    test_resize_invariants();
    test_resize_fast_matches_reference();
    test_preprocessor_config();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("image: all checks passed\n");
    return 0;
}
