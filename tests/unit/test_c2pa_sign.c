/*
 * C2PA signing through the C API, linked with liblocus_c2pa only (no inference engine):
 *   - every algorithm on a JPEG and a PNG: the result validates as Trusted with the test trust
 *     anchors, and removing the embedded store gives back the input byte for byte;
 *   - a signed input: its manifests stay and its active manifest becomes the parent ingredient;
 *   - manifest stores whose size falls on and around the end of the first APP11 segment;
 *   - bad keys, certificates, inputs and manifest definitions: the right status and a message.
 * The c2pa-python cross-checks are in tests/py/test_c2pa_sign.py and test_c2pa_tamper.py.
 * Fixtures: $LOCUS_SOURCE_DIR/../shared/fixtures/c2pa (skipped, exit 77, when absent).
 */
#include "locus/c2pa.h"
#include "locus/c2pa_sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static char fixtures[512];

static char *path_of(const char *name) {
    static char buf[4][1024];
    static int k = 0;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", fixtures, name);
    return buf[k];
}

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return b;
}

static lc_c2pa_sign_options options(const char *alg) {
    static char cert[4][1024], key[4][1024];
    static int k = 0;
    k = (k + 1) % 4;
    snprintf(cert[k], sizeof cert[k], "%s/certs/%s.pub", fixtures, alg);
    snprintf(key[k], sizeof key[k], "%s/certs/%s.pem", fixtures, alg);
    lc_c2pa_sign_options o = {.cert_pem_path = cert[k], .key_pem_path = key[k]};
    lc_c2pa_alg_parse(alg, &o.alg);
    return o;
}

/* The file without its C2PA data: JPEG APP11 "JP" segments, or PNG caBX chunks, removed. */
static size_t without_store(const uint8_t *d, size_t n, uint8_t *out) {
    size_t w = 0, i;
    if (n >= 8 && d[0] == 0x89) {
        memcpy(out, d, 8);
        w = 8;
        for (i = 8; i + 12 <= n;) {
            size_t len = 12 + ((size_t)d[i] << 24 | (size_t)d[i + 1] << 16 | (size_t)d[i + 2] << 8 | d[i + 3]);
            if (memcmp(d + i + 4, "caBX", 4) != 0) {
                memcpy(out + w, d + i, len);
                w += len;
            }
            i += len;
        }
        memcpy(out + w, d + i, n - i);
        return w + (n - i);
    }
    memcpy(out, d, 2);
    w = 2;
    for (i = 2; i + 4 <= n && d[i] == 0xFF && d[i + 1] != 0xDA;) {
        size_t len = 2 + ((size_t)d[i + 2] << 8 | d[i + 3]);
        if (!(d[i + 1] == 0xEB && d[i + 4] == 'J' && d[i + 5] == 'P')) {
            memcpy(out + w, d + i, len);
            w += len;
        }
        i += len;
    }
    memcpy(out + w, d + i, n - i);
    return w + (n - i);
}

static lc_c2pa_report *verify(const uint8_t *d, size_t n, const char *what) {
    lc_c2pa_options vo = {.trust_pem_path = path_of("certs/test_cert_root_bundle.pem")};
    lc_c2pa_report *r = NULL;
    lc_status st = lc_c2pa_verify_memory(d, n, what, &vo, &r);
    CHECK(st == LC_OK, "%s: verify failed: %s", what, lc_last_error());
    return r;
}

static void expect_trusted(lc_c2pa_report *r, const char *what) {
    if (!r) return;
    CHECK(lc_c2pa_report_state(r) == LC_C2PA_TRUSTED, "%s: state %s", what,
          lc_c2pa_state_name(lc_c2pa_report_state(r)));
    for (size_t i = 0; i < lc_c2pa_report_status_count(r); i++)
        CHECK(0, "%s: status %s (%s)", what, lc_c2pa_report_status(r, i)->code, lc_c2pa_report_status(r, i)->url);
}

static const lc_c2pa_manifest *active_manifest(lc_c2pa_report *r) {
    const char *label = lc_c2pa_report_active_manifest(r);
    for (size_t i = 0; label && i < lc_c2pa_report_manifest_count(r); i++)
        if (strcmp(lc_c2pa_report_manifest(r, i)->label, label) == 0) return lc_c2pa_report_manifest(r, i);
    return NULL;
}

static void test_sign_unsigned(void) {
    const char *algs[] = {"es256", "es384", "ps256", "ed25519"};
    const char *inputs[] = {"no_manifest.jpg", "sample1.png"};
    for (size_t f = 0; f < 2; f++) {
        size_t n;
        uint8_t *in = slurp(path_of(inputs[f]), &n);
        CHECK(in, "cannot read %s", inputs[f]);
        if (!in) continue;
        for (size_t a = 0; a < 4; a++) {
            char what[128];
            snprintf(what, sizeof what, "%s/%s", inputs[f], algs[a]);
            lc_c2pa_sign_options o = options(algs[a]);
            o.title = what;
            uint8_t *out = NULL;
            size_t out_n = 0;
            lc_status st = lc_c2pa_sign_memory(in, n, inputs[f], &o, &out, &out_n);
            CHECK(st == LC_OK, "%s: %s", what, lc_last_error());
            if (st != LC_OK) continue;
            uint8_t *plain = malloc(out_n);
            size_t plain_n = without_store(out, out_n, plain);
            CHECK(plain_n == n && memcmp(plain, in, n) == 0, "%s: the file without its store differs from the input",
                  what);
            free(plain);
            lc_c2pa_report *r = verify(out, out_n, what);
            expect_trusted(r, what);
            const lc_c2pa_manifest *m = r ? active_manifest(r) : NULL;
            CHECK(m && m->claim_version == 2, "%s: no v2 active manifest", what);
            if (m) {
                CHECK(m->title && strcmp(m->title, what) == 0, "%s: title %s", what, m->title ? m->title : "(null)");
                CHECK(m->n_actions >= 1 && strcmp(m->actions[0], "c2pa.created") == 0, "%s: first action %s", what,
                      m->n_actions ? m->actions[0] : "(none)");
                CHECK(m->n_ingredients == 0, "%s: %zu ingredients", what, m->n_ingredients);
            }
            lc_c2pa_report_free(r);
            free(out);
        }
        free(in);
    }
}

static void test_parent(void) {
    size_t n;
    uint8_t *in = slurp(path_of("CA.jpg"), &n);
    CHECK(in, "cannot read CA.jpg");
    if (!in) return;
    lc_c2pa_report *before = verify(in, n, "CA.jpg");
    const char *parent_label = before ? lc_c2pa_report_active_manifest(before) : NULL;
    lc_c2pa_sign_options o = options("ps256");
    o.trust_pem_path = path_of("certs/test_cert_root_bundle.pem");
    uint8_t *out = NULL;
    size_t out_n = 0;
    lc_status st = lc_c2pa_sign_memory(in, n, "CA.jpg", &o, &out, &out_n);
    CHECK(st == LC_OK, "CA.jpg: %s", lc_last_error());
    if (st == LC_OK && before) {
        lc_c2pa_report *r = verify(out, out_n, "signed CA.jpg");
        expect_trusted(r, "signed CA.jpg");
        if (r) {
            CHECK(lc_c2pa_report_manifest_count(r) == lc_c2pa_report_manifest_count(before) + 1, "%zu manifests",
                  lc_c2pa_report_manifest_count(r));
            const lc_c2pa_manifest *m = active_manifest(r);
            CHECK(m && m->n_actions >= 1 && strcmp(m->actions[0], "c2pa.opened") == 0, "first action not opened");
            CHECK(m && m->n_ingredients == 1, "no parent ingredient");
            if (m && m->n_ingredients == 1) {
                const lc_c2pa_ingredient *g = &m->ingredients[0];
                CHECK(g->relationship && strcmp(g->relationship, "parentOf") == 0, "relationship %s",
                      g->relationship ? g->relationship : "(null)");
                CHECK(g->active_manifest && parent_label && strcmp(g->active_manifest, parent_label) == 0,
                      "ingredient manifest %s, parent %s", g->active_manifest ? g->active_manifest : "(null)",
                      parent_label ? parent_label : "(null)");
            }
        }
        lc_c2pa_report_free(r);
    }
    lc_c2pa_report_free(before);
    free(out);
    free(in);
}

/* A parent whose own claim signature is broken (E-sig-CA.jpg): its failure is recorded in the new
 * ingredient, stays with it, and the signed file is Trusted (c2pa-python agrees: pytest). Signed
 * again on top, the recorded failure still does not count. */
static void test_broken_parent(void) {
    size_t n;
    uint8_t *in = slurp(path_of("E-sig-CA.jpg"), &n);
    CHECK(in, "cannot read E-sig-CA.jpg");
    if (!in) return;
    lc_c2pa_report *before = verify(in, n, "E-sig-CA.jpg");
    CHECK(before && lc_c2pa_report_state(before) == LC_C2PA_INVALID &&
              lc_c2pa_report_has_status(before, "claimSignature.mismatch"),
          "E-sig-CA.jpg should be Invalid with claimSignature.mismatch");
    const char *parent_sig_url =
        before && lc_c2pa_report_status_count(before) ? lc_c2pa_report_status(before, 0)->url : "";
    lc_c2pa_sign_options o = options("es256");
    o.trust_pem_path = path_of("certs/test_cert_root_bundle.pem");
    uint8_t *once = NULL, *twice = NULL;
    size_t once_n = 0, twice_n = 0;
    lc_status st = lc_c2pa_sign_memory(in, n, "E-sig-CA.jpg", &o, &once, &once_n);
    CHECK(st == LC_OK, "E-sig-CA.jpg: %s", lc_last_error());
    if (st == LC_OK) st = lc_c2pa_sign_memory(once, once_n, "signed E-sig-CA.jpg", &o, &twice, &twice_n);
    CHECK(st == LC_OK, "signed E-sig-CA.jpg: %s", lc_last_error());
    for (int k = 0; st == LC_OK && k < 2; k++) {
        const char *what = k ? "E-sig-CA.jpg signed twice" : "E-sig-CA.jpg signed once";
        lc_c2pa_report *r = k ? verify(twice, twice_n, what) : verify(once, once_n, what);
        expect_trusted(r, what);
        /* the manifest whose ingredient is E-sig-CA's manifest records its failure */
        bool recorded = false;
        for (size_t i = 0; r && i < lc_c2pa_report_manifest_count(r); i++) {
            const lc_c2pa_manifest *m = lc_c2pa_report_manifest(r, i);
            for (size_t j = 0; j < m->n_ingredients; j++)
                for (size_t f = 0; f < m->ingredients[j].n_failures; f++) {
                    const lc_c2pa_status *s = &m->ingredients[j].failures[f];
                    recorded |= strcmp(s->code, "claimSignature.mismatch") == 0 && !s->ingredient &&
                                strcmp(s->url, parent_sig_url) == 0;
                }
        }
        CHECK(recorded, "%s: the parent's claimSignature.mismatch is not recorded in an ingredient", what);
        lc_c2pa_report_free(r);
    }
    lc_c2pa_report_free(before);
    free(once);
    free(twice);
    free(in);
}

/* Stores of about one APP11 segment: grow a custom assertion byte by byte across the boundary. */
static void test_segment_boundary(void) {
    size_t n;
    uint8_t *in = slurp(path_of("IMG_0003.jpg"), &n);
    CHECK(in, "cannot read IMG_0003.jpg");
    if (!in) return;
    const size_t first_payload = 65535 - 2 - 8;
    /* measure the store with a 60000-byte text, then aim at the boundary: the CBOR text header
     * keeps its 3-byte width in this range, so the store grows one byte per byte of text */
    size_t blob = 60000;
    {
        char *json = malloc(blob + 64);
        snprintf(json, blob + 64, "{\"assertions\":[{\"label\":\"org.locus.blob\",\"data\":{\"b\":\"%*s\"}}]}",
                 (int)blob, "");
        lc_c2pa_sign_options o = options("ed25519");
        o.manifest_json = json;
        uint8_t *out = NULL;
        size_t out_n = 0;
        lc_status st = lc_c2pa_sign_memory(in, n, "IMG_0003.jpg", &o, &out, &out_n);
        CHECK(st == LC_OK, "blob %zu: %s", blob, lc_last_error());
        free(json);
        free(out);
        if (st != LC_OK) {
            free(in);
            return;
        }
        size_t store_len = out_n - n - 12; /* one APP11 segment: 12 bytes of headers */
        blob = blob + (first_payload - store_len) - 3;
    }
    for (int d = 0; d < 7; d++, blob++) {
        char *json = malloc(blob + 64);
        snprintf(json, blob + 64, "{\"assertions\":[{\"label\":\"org.locus.blob\",\"data\":{\"b\":\"%*s\"}}]}",
                 (int)blob, "");
        lc_c2pa_sign_options o = options("ed25519");
        o.manifest_json = json;
        uint8_t *out = NULL;
        size_t out_n = 0;
        lc_status st = lc_c2pa_sign_memory(in, n, "IMG_0003.jpg", &o, &out, &out_n);
        CHECK(st == LC_OK, "blob %zu: %s", blob, lc_last_error());
        if (st == LC_OK) {
            char what[64];
            snprintf(what, sizeof what, "store of %zu bytes", out_n - n);
            lc_c2pa_report *r = verify(out, out_n, what);
            expect_trusted(r, what);
            lc_c2pa_report_free(r);
        }
        free(out);
        free(json);
    }
    free(in);
}

static void expect_error(const char *what, lc_status want, const char *in_name, lc_c2pa_sign_options o,
                         const char *needle) {
    size_t n;
    uint8_t *in = slurp(path_of(in_name), &n);
    if (!in) {
        CHECK(0, "cannot read %s", in_name);
        return;
    }
    uint8_t *out = NULL;
    size_t out_n = 0;
    lc_status st = lc_c2pa_sign_memory(in, n, in_name, &o, &out, &out_n);
    CHECK(st == want, "%s: status %d (want %d): %s", what, st, want, lc_last_error());
    CHECK(out == NULL, "%s: output on failure", what);
    CHECK(strstr(lc_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", what, lc_last_error(), needle);
    free(out);
    free(in);
}

static void test_errors(void) {
    lc_c2pa_sign_options o = options("es256");
    o.cert_pem_path = path_of("certs/ps256.pub");
    expect_error("key of another certificate", LC_ERR_ARG, "no_manifest.jpg", o, "ps256.pub");
    o = options("es256");
    o.alg = LC_C2PA_ED25519;
    expect_error("algorithm not of the key", LC_ERR_ARG, "no_manifest.jpg", o, "es256");
    o = options("es256");
    o.key_pem_path = path_of("certs/test_cert_root_bundle.pem");
    expect_error("certificate as key", LC_ERR_FORMAT, "no_manifest.jpg", o, "test_cert_root_bundle.pem");
    o = options("es256");
    o.cert_pem_path = path_of("certs/es256.pem");
    expect_error("key as certificate", LC_ERR_FORMAT, "no_manifest.jpg", o, "no PEM certificate");
    o = options("es256");
    o.key_pem_path = NULL;
    expect_error("no key", LC_ERR_ARG, "no_manifest.jpg", o, "private key");
    expect_error("not an image", LC_ERR_UNSUPPORTED, "README.md", options("es256"), "README.md");
    o = options("es256");
    o.manifest_json = "{\"title\": 3}";
    expect_error("title not a string", LC_ERR_FORMAT, "no_manifest.jpg", o, "title");
    o.manifest_json = "[1, 2";
    expect_error("bad JSON", LC_ERR_FORMAT, "no_manifest.jpg", o, "invalid JSON");
    o.manifest_json = "{\"assertions\": [{\"label\": \"c2pa.ingredient.v3\", \"data\": {}}]}";
    expect_error("reserved label", LC_ERR_ARG, "no_manifest.jpg", o, "c2pa.ingredient.v3");
    o.manifest_json = "{\"assertions\": [{\"label\": \"a\", \"data\": 1}, {\"label\": \"a\", \"data\": 2}]}";
    expect_error("duplicate label", LC_ERR_ARG, "no_manifest.jpg", o, "twice");
    o.manifest_json = "{\"assertions\": [{\"label\": \"c2pa.actions\", \"data\": {\"actions\": "
                      "[{\"action\": \"c2pa.opened\"}]}}]}";
    expect_error("opened without a parent", LC_ERR_ARG, "no_manifest.jpg", o, "c2pa.created");
    o.manifest_json = NULL;
    o.digital_source_type = "not a term!";
    expect_error("bad source type", LC_ERR_ARG, "no_manifest.jpg", o, "not a term!");

    /* truncated inputs */
    size_t n;
    uint8_t *jpg = slurp(path_of("no_manifest.jpg"), &n), *out = NULL;
    size_t out_n;
    if (jpg) {
        o.digital_source_type = NULL;
        lc_status st = lc_c2pa_sign_memory(jpg, 3000, "cut.jpg", &o, &out, &out_n);
        CHECK(st == LC_ERR_FORMAT && strstr(lc_last_error(), "cut.jpg") && strstr(lc_last_error(), "truncated"),
              "cut JPEG: %d %s", st, lc_last_error());
        free(jpg);
    }
    uint8_t *png = slurp(path_of("libpng-test.png"), &n);
    if (png) {
        lc_status st = lc_c2pa_sign_memory(png, n - 5, "cut.png", &o, &out, &out_n);
        CHECK(st == LC_ERR_FORMAT && strstr(lc_last_error(), "cut.png"), "cut PNG: %d %s", st, lc_last_error());
        free(png);
    }

    /* key and chain from memory */
    size_t kn, cn;
    uint8_t *key = slurp(path_of("certs/ed25519.pem"), &kn), *cert = slurp(path_of("certs/ed25519.pub"), &cn);
    png = slurp(path_of("libpng-test.png"), &n);
    if (key && cert && png) {
        lc_c2pa_sign_options m = {.key_pem = (const char *)key, .key_pem_len = kn, .cert_pem = (const char *)cert,
                                  .cert_pem_len = cn};
        lc_status st = lc_c2pa_sign_memory(png, n, "libpng-test.png", &m, &out, &out_n);
        CHECK(st == LC_OK, "PEM from memory: %s", lc_last_error());
        if (st == LC_OK) {
            lc_c2pa_report *r = verify(out, out_n, "PEM from memory");
            expect_trusted(r, "PEM from memory");
            lc_c2pa_report_free(r);
            free(out);
        }
    }
    free(key);
    free(cert);
    free(png);
    lc_c2pa_alg alg;
    CHECK(lc_c2pa_alg_parse("md5", &alg) == LC_ERR_ARG, "md5 accepted");
    CHECK(lc_c2pa_alg_parse("PS256", &alg) == LC_OK && alg == LC_C2PA_PS256, "PS256 not parsed");
}

/* Hostile inputs: truncations and byte corruptions of plain and signed files, concentrated on the
 * headers and the manifest store. Signing must either fail with a message naming the file, or
 * produce a file that reads back with credentials; never crash (this runs under ASan in CI). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void sign_hostile(const uint8_t *d, size_t n, const char *what) {
    lc_c2pa_sign_options o = options("es256");
    uint8_t *out = NULL;
    size_t out_n = 0;
    lc_clear_error();
    lc_status st = lc_c2pa_sign_memory(d, n, "hostile.bin", &o, &out, &out_n);
    if (st == LC_OK) {
        lc_c2pa_options vo = {0};
        lc_c2pa_report *r = NULL;
        lc_status vs = lc_c2pa_verify_memory(out, out_n, what, &vo, &r);
        CHECK(vs == LC_OK && lc_c2pa_report_state(r) != LC_C2PA_ABSENT, "%s: signed output unreadable: %s", what,
              lc_last_error());
        lc_c2pa_report_free(r);
    } else {
        CHECK(out == NULL, "%s: output on failure", what);
        CHECK(strstr(lc_last_error(), "hostile.bin") != NULL, "%s: message '%s' does not name the file", what,
              lc_last_error());
    }
    free(out);
}

static void test_hostile_inputs(void) {
    const char *names[] = {"CA.jpg", "C.jpg", "sample1.png", "libpng-test.png"};
    for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
        size_t n;
        uint8_t *in = slurp(path_of(names[f]), &n);
        CHECK(in, "cannot read %s", names[f]);
        if (!in) continue;
        size_t span = n < 120000 ? n : 120000; /* headers and store */
        uint8_t *buf = malloc(n);
        char what[96];
        for (int t = 0; t < 24; t++) {
            size_t cut = (size_t)(rng() % span);
            snprintf(what, sizeof what, "%s cut at %zu", names[f], cut);
            sign_hostile(in, cut, what);
        }
        for (int t = 0; t < 40; t++) {
            memcpy(buf, in, n);
            int k = 1 + (int)(rng() % 4);
            size_t at = 0;
            for (int j = 0; j < k; j++) {
                at = (size_t)(rng() % span);
                buf[at] = (uint8_t)rng();
            }
            snprintf(what, sizeof what, "%s with %d bytes changed (last at %zu)", names[f], k, at);
            sign_hostile(buf, n, what);
        }
        free(buf);
        free(in);
    }
}

int main(void) {
    const char *src = getenv("LOCUS_SOURCE_DIR");
    snprintf(fixtures, sizeof fixtures, "%s/../shared/fixtures/c2pa", src ? src : ".");
    FILE *probe = fopen(path_of("certs/es256.pem"), "rb");
    if (!probe) {
        printf("SKIP: fixtures not found at %s\n", fixtures);
        return 77;
    }
    fclose(probe);
    test_sign_unsigned();
    test_parent();
    test_broken_parent();
    test_segment_boundary();
    test_errors();
    test_hostile_inputs();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
