/*
 * C2PA reading and validation through the C API (liblocus_c2pa only, no inference engine):
 *   - the c2pa-rs fixtures give the states their README lists (the same c2pa-python reports;
 *     tests/py/test_c2pa_verify.py checks the codes live against c2pa-python);
 *   - file and in-memory validation agree; trust anchors from a file or from memory;
 *   - the raw store API (read, locate, active label);
 *   - property checks: every truncation of a signed file and every flipped byte of its claim,
 *     its assertions or its image data is rejected (error, Invalid), never Valid.
 * Skipped (77) when the fixtures are not there.
 */
#define _GNU_SOURCE /* memmem */
#include "locus/c2pa.h"
#include "media/c2pa/c2pa_internal.h"
#include "test_harness.h"

#include <cjson/cJSON.h>
#include <string.h>

static char fix_dir[4096];

static char *path_of(const char *name) {
    static char buf[8192];
    snprintf(buf, sizeof buf, "%s/%s", fix_dir, name);
    return buf;
}

static uint8_t *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Expected states, from the fixtures README (c2pa-rs's own results, confirmed with c2pa-python). */
static const struct {
    const char *file;
    lc_c2pa_state no_trust, trust;
    const char *code; /* a failure code that must be present, or NULL */
} expected[] = {
    {"C.jpg", LC_C2PA_VALID, LC_C2PA_TRUSTED, NULL},
    {"CA.jpg", LC_C2PA_VALID, LC_C2PA_TRUSTED, NULL},
    {"CACA.jpg", LC_C2PA_VALID, LC_C2PA_TRUSTED, NULL},
    {"boxhash.jpg", LC_C2PA_VALID, LC_C2PA_TRUSTED, NULL},
    {"XCA.jpg", LC_C2PA_INVALID, LC_C2PA_INVALID, "assertion.dataHash.mismatch"},
    {"E-sig-CA.jpg", LC_C2PA_INVALID, LC_C2PA_INVALID, "claimSignature.mismatch"},
    {"no_alg.jpg", LC_C2PA_INVALID, LC_C2PA_INVALID, "algorithm.unsupported"},
    {"no_manifest.jpg", LC_C2PA_ABSENT, LC_C2PA_ABSENT, NULL},
    {"IMG_0003.jpg", LC_C2PA_ABSENT, LC_C2PA_ABSENT, NULL},
    {"libpng-test.png", LC_C2PA_ABSENT, LC_C2PA_ABSENT, NULL},
    {"sample1.png", LC_C2PA_ABSENT, LC_C2PA_ABSENT, NULL},
};

static bool same_status(const lc_c2pa_report *a, const lc_c2pa_report *b) {
    if (lc_c2pa_report_state(a) != lc_c2pa_report_state(b)) return false;
    if (lc_c2pa_report_status_count(a) != lc_c2pa_report_status_count(b)) return false;
    for (size_t i = 0; i < lc_c2pa_report_status_count(a); i++)
        if (strcmp(lc_c2pa_report_status(a, i)->code, lc_c2pa_report_status(b, i)->code) != 0) return false;
    return true;
}

static void test_fixtures(void) {
    lc_c2pa_options trust = {.trust_pem_path = path_of("certs/test_cert_root_bundle.pem")};
    char trust_path[8192];
    snprintf(trust_path, sizeof trust_path, "%s", trust.trust_pem_path);
    trust.trust_pem_path = trust_path;
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        const char *p = path_of(expected[i].file);
        lc_c2pa_report *r = NULL, *rt = NULL, *rm = NULL;
        CHECK_OK(lc_c2pa_verify_file(p, NULL, &r));
        CHECK_OK(lc_c2pa_verify_file(p, &trust, &rt));
        if (!r || !rt) continue;
        if (lc_c2pa_report_state(r) != expected[i].no_trust || lc_c2pa_report_state(rt) != expected[i].trust) {
            fprintf(stderr, "%s: got %s / %s\n", expected[i].file, lc_c2pa_state_name(lc_c2pa_report_state(r)),
                    lc_c2pa_state_name(lc_c2pa_report_state(rt)));
            test_failures++;
        }
        if (expected[i].code) CHECK(lc_c2pa_report_has_status(r, expected[i].code));
        if (expected[i].no_trust == LC_C2PA_VALID) {
            /* Without anchors the only failure is the untrusted signer, as c2patool reports it. */
            CHECK(lc_c2pa_report_status_count(r) == 1 && lc_c2pa_report_has_status(r, "signingCredential.untrusted"));
            CHECK(lc_c2pa_report_status_count(rt) == 0);
            CHECK(lc_c2pa_report_active_manifest(r) != NULL);
        }
        size_t len;
        uint8_t *data = read_all(p, &len);
        CHECK(data != NULL);
        if (data) {
            CHECK_OK(lc_c2pa_verify_memory(data, len, expected[i].file, NULL, &rm));
            if (rm) CHECK(same_status(r, rm));
        }
        free(data);
        lc_c2pa_report_free(r);
        lc_c2pa_report_free(rt);
        lc_c2pa_report_free(rm);
    }
}

static void test_trust_from_memory_and_details(void) {
    size_t n;
    char *pem = (char *)read_all(path_of("certs/test_cert_root_bundle.pem"), &n);
    CHECK(pem != NULL);
    if (!pem) return;
    lc_c2pa_options opt = {.trust_pem = pem, .trust_pem_len = n};
    lc_c2pa_report *r = NULL;
    CHECK_OK(lc_c2pa_verify_file(path_of("CACA.jpg"), &opt, &r));
    if (r) {
        CHECK(lc_c2pa_report_state(r) == LC_C2PA_TRUSTED);
        CHECK(lc_c2pa_report_manifest_count(r) == 2);
        const lc_c2pa_manifest *active = NULL;
        for (size_t i = 0; i < lc_c2pa_report_manifest_count(r); i++)
            if (strcmp(lc_c2pa_report_manifest(r, i)->label, lc_c2pa_report_active_manifest(r)) == 0)
                active = lc_c2pa_report_manifest(r, i);
        CHECK(active != NULL);
        if (active) {
            CHECK(active->claim_version == 2);
            CHECK(active->sig_alg && strcmp(active->sig_alg, "Ps256") == 0);
            CHECK(active->sig_common_name && strcmp(active->sig_common_name, "C2PA Signer") == 0);
            CHECK(active->sig_time != NULL);
            CHECK(active->n_ingredients == 1 && active->ingredients[0].active_manifest != NULL);
            CHECK(active->n_actions >= 1 && strcmp(active->actions[0], "c2pa.opened") == 0);
        }
        char *json = lc_c2pa_report_json(r, "CACA.jpg");
        CHECK(json != NULL);
        cJSON *j = json ? cJSON_Parse(json) : NULL;
        CHECK(j != NULL);
        if (j) {
            CHECK(strcmp(cJSON_GetObjectItem(j, "validation_state")->valuestring, "Trusted") == 0);
            CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "validation_status")) == 0);
            CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "manifests")) == 2);
            cJSON_Delete(j);
        }
        free(json);
    }
    lc_c2pa_report_free(r);
    /* The test certificates are valid 2022-06-10 .. 2030-08-26: checked at 2031-01-01 they are expired. */
    lc_c2pa_options late = {.trust_pem = pem, .trust_pem_len = n, .verify_time = 1924992000};
    r = NULL;
    CHECK_OK(lc_c2pa_verify_file(path_of("C.jpg"), &late, &r));
    if (r) CHECK(lc_c2pa_report_state(r) == LC_C2PA_INVALID && lc_c2pa_report_has_status(r, "signingCredential.expired"));
    lc_c2pa_report_free(r);
    /* A trust file without certificates is an error, not an empty trust list. */
    lc_c2pa_options bad = {.trust_pem = "not a pem", .trust_pem_len = 9};
    r = NULL;
    CHECK(lc_c2pa_verify_file(path_of("C.jpg"), &bad, &r) == LC_ERR_FORMAT && r == NULL);
    free(pem);
}

static void test_errors(void) {
    lc_c2pa_report *r = NULL;
    CHECK(lc_c2pa_verify_file(path_of("does-not-exist.jpg"), NULL, &r) == LC_ERR_IO && r == NULL);
    CHECK(strstr(lc_last_error(), "does-not-exist.jpg") != NULL);
    CHECK(lc_c2pa_verify_memory("GIF89a", 6, "x.gif", NULL, &r) == LC_ERR_UNSUPPORTED);
    CHECK(lc_c2pa_verify_memory("", 0, "empty.jpg", NULL, &r) != LC_OK);
    size_t len;
    uint8_t *data = read_all(path_of("CA.jpg"), &len);
    if (!data) return;
    CHECK(lc_c2pa_verify_memory(data, 1000, "cut.jpg", NULL, &r) == LC_ERR_FORMAT);
    CHECK(strstr(lc_last_error(), "cut.jpg") && strstr(lc_last_error(), "truncated"));
    free(data);
}

static void test_store_api(void) {
    uint8_t *store = NULL;
    size_t len = 0;
    CHECK_OK(lc_c2pa_read_store(path_of("CACA.jpg"), &store, &len));
    CHECK(store && len > 1000);
    char label[256];
    CHECK_OK(lc_c2pa_store_active_label(store, len, label, sizeof label));
    lc_c2pa_report *r = NULL;
    CHECK_OK(lc_c2pa_verify_file(path_of("CACA.jpg"), NULL, &r));
    if (r) CHECK(strcmp(label, lc_c2pa_report_active_manifest(r)) == 0);
    lc_c2pa_report_free(r);
    char path[512];
    snprintf(path, sizeof path, "self#jumbf=/c2pa/%s/c2pa.signature", label);
    size_t off = 0, blen = 0;
    CHECK_OK(lc_c2pa_store_locate(store, len, path, &off, &blen));
    CHECK(off > 0 && blen > 100 && off + blen <= len && memcmp(store + off + 4, "jumb", 4) == 0);
    CHECK(lc_c2pa_store_locate(store, len, "/c2pa/nope", &off, &blen) == LC_ERR_ARG);
    free(store);
    CHECK_OK(lc_c2pa_read_store(path_of("no_manifest.jpg"), &store, &len));
    CHECK(store == NULL && len == 0);
}

/* Property checks on one signed file: truncations and byte flips never validate. */
static void test_tampering(const char *name) {
    size_t len;
    uint8_t *orig = read_all(path_of(name), &len);
    if (!orig) return;
    uint8_t *data = malloc(len);
    memcpy(data, orig, len);
    lc_c2pa_report *r = NULL;
    /* Truncations at 97 points spread over the file. */
    for (int k = 0; k < 97; k++) {
        size_t cut = (size_t)((double)len * k / 97.0);
        lc_status st = lc_c2pa_verify_memory(data, cut, name, NULL, &r);
        if (st == LC_OK) {
            lc_c2pa_state s = lc_c2pa_report_state(r);
            if (s == LC_C2PA_VALID || s == LC_C2PA_TRUSTED) {
                fprintf(stderr, "%s truncated at %zu still validates\n", name, cut);
                test_failures++;
            }
            lc_c2pa_report_free(r);
            r = NULL;
        }
    }
    /* Where are the claim, the assertions and the image data? */
    c2pa_src src;
    c2pa_src_memory(&src, orig, len, name);
    c2pa_container c;
    CHECK_OK(c2pa_container_read(&src, &c));
    jumbf_tree t;
    if (!c.store || jumbf_parse(c.store, c.store_len, name, &t) != LC_OK) {
        CHECK(false);
        free(data);
        free(orig);
        c2pa_container_free(&c);
        return;
    }
    /* Flip one byte in each content box of the active manifest's claim and assertions (mapped to the
     * file through a search for the box bytes), and bytes of the image data after the store. */
    size_t flips = 0, rejected = 0;
    int active = -1;
    for (int i = t.nodes[0].first_child; i >= 0; i = t.nodes[i].next_sibling) active = i;
    for (int i = 0; i < t.n; i++) {
        if (t.nodes[i].super) continue;
        int p = t.nodes[i].parent;
        bool in_active = false;
        for (int a = p; a >= 0; a = t.nodes[a].parent) in_active |= a == active;
        if (!in_active || p < 0) continue;
        const char *pl = t.nodes[p].label;
        if (strcmp(pl, "c2pa.signature") == 0) continue; /* unprotected header bytes are not signed */
        size_t plen;
        const uint8_t *payload = jumbf_payload(&t, i, &plen);
        if (plen < 16) continue;
        /* Locate 16 bytes from the middle of the payload in the file. */
        const uint8_t *needle = payload + plen / 2;
        uint8_t *hit = memmem(orig, len, needle, 16);
        if (!hit) continue;
        size_t pos = (size_t)(hit - orig);
        data[pos] ^= 0x01;
        flips++;
        lc_status st = lc_c2pa_verify_memory(data, len, name, NULL, &r);
        if (st != LC_OK || lc_c2pa_report_state(r) == LC_C2PA_INVALID) rejected++;
        else fprintf(stderr, "%s: flip in %s/%s at %zu not detected\n", name, pl, t.nodes[i].type, pos);
        lc_c2pa_report_free(r);
        r = NULL;
        data[pos] ^= 0x01;
    }
    uint64_t after = c.store_span.off + c.store_span.len;
    for (int k = 1; k < 16; k++) {
        size_t pos = (size_t)(after + (len - after) * (uint64_t)k / 16);
        if (pos >= len - 2) continue;
        data[pos] ^= 0x01;
        flips++;
        lc_status st = lc_c2pa_verify_memory(data, len, name, NULL, &r);
        if (st != LC_OK || (lc_c2pa_report_state(r) == LC_C2PA_INVALID &&
                            (lc_c2pa_report_has_status(r, "assertion.dataHash.mismatch") ||
                             lc_c2pa_report_has_status(r, "assertion.boxesHash.mismatch"))))
            rejected++;
        else fprintf(stderr, "%s: flip in image data at %zu not detected\n", name, pos);
        lc_c2pa_report_free(r);
        r = NULL;
        data[pos] ^= 0x01;
    }
    fprintf(stderr, "%s: %zu of %zu flipped bytes rejected\n", name, rejected, flips);
    CHECK(flips > 10);
    CHECK(rejected == flips);
    jumbf_free(&t);
    c2pa_container_free(&c);
    free(data);
    free(orig);
}

int main(void) {
    const char *src = getenv("LOCUS_SOURCE_DIR");
    snprintf(fix_dir, sizeof fix_dir, "%s/../shared/fixtures/c2pa", src ? src : ".");
    FILE *f = fopen(path_of("C.jpg"), "rb");
    if (!f) {
        fprintf(stderr, "skipped: C2PA fixtures not found in %s\n", fix_dir);
        return 77;
    }
    fclose(f);
    test_fixtures();
    test_trust_from_memory_and_details();
    test_errors();
    test_store_api();
    test_tampering("CA.jpg");
    test_tampering("CACA.jpg");
    return TEST_RESULT();
}
