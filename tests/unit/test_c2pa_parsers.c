/*
 * Hostile input to the C2PA parsers gets clear errors, never a crash or an attempt to allocate
 * what a header claims: absurd box lengths, deep nesting, CBOR counts larger than the data,
 * out-of-order JPEG packets, oversized PNG chunks. Built against liblocus_c2pa only.
 */
#include "locus/c2pa.h"
#include "media/c2pa/c2pa_internal.h"
#include "test_harness.h"

#include <string.h>

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A superbox with a description box of 4-character type `t` and `label`, around `content`. */
static size_t superbox(uint8_t *out, const char *t, const char *label, const uint8_t *content, size_t n) {
    static const uint8_t suffix[12] = {0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    size_t ll = strlen(label) + 1, dl = 8 + 16 + 1 + ll, total = 8 + dl + n;
    put32(out, (uint32_t)total);
    memcpy(out + 4, "jumb", 4);
    put32(out + 8, (uint32_t)dl);
    memcpy(out + 12, "jumd", 4);
    memcpy(out + 16, t, 4);
    memcpy(out + 20, suffix, 12);
    out[32] = 0x03;
    memcpy(out + 33, label, ll);
    if (n) memmove(out + 8 + dl, content, n);
    return total;
}

static void test_jumbf(void) {
    uint8_t buf[4096], inner[8] = {0, 0, 0, 8, 'f', 'r', 'e', 'e'};
    jumbf_tree t;
    size_t n = superbox(buf, "c2pa", "c2pa", inner, sizeof inner);
    CHECK_OK(jumbf_parse(buf, n, "ok", &t));
    CHECK(t.n == 2 && t.nodes[0].super && strcmp(t.nodes[0].label, "c2pa") == 0);
    CHECK(jumbf_resolve(&t, -1, "/c2pa") == 0 && jumbf_resolve(&t, -1, "/c2pa/x") < 0);
    jumbf_free(&t);
    /* Absurd length: a box claiming 4 GB inside 50 bytes. */
    put32(buf + n - 8, 0xfffffff0u);
    CHECK(jumbf_parse(buf, n, "absurd", &t) == LC_ERR_FORMAT);
    CHECK(strstr(lc_last_error(), "absurd") && strstr(lc_last_error(), "declares length"));
    /* XLBox of 2^63. */
    uint8_t xl[16] = {0, 0, 0, 1, 'j', 'u', 'm', 'b', 0x80, 0, 0, 0, 0, 0, 0, 0};
    CHECK(jumbf_parse(xl, sizeof xl, "xl", &t) == LC_ERR_FORMAT);
    /* A superbox without its description box. */
    uint8_t nod[16] = {0, 0, 0, 16, 'j', 'u', 'm', 'b', 0, 0, 0, 8, 'f', 'r', 'e', 'e'};
    CHECK(jumbf_parse(nod, sizeof nod, "nod", &t) == LC_ERR_FORMAT);
    /* Unterminated label. */
    n = superbox(buf, "c2pa", "c2pa", NULL, 0);
    buf[n - 1] = 'x';
    CHECK(jumbf_parse(buf, n, "label", &t) == LC_ERR_FORMAT);
    /* Nesting 40 deep: refused with a clear message. */
    static uint8_t deep[8192];
    size_t len = 0;
    for (int d = 0; d < 40; d++) {
        uint8_t tmp[8192];
        memcpy(tmp, deep, len);
        len = superbox(deep, "cbor", "x", tmp, len);
    }
    CHECK(jumbf_parse(deep, len, "deep", &t) == LC_ERR_FORMAT);
    CHECK(strstr(lc_last_error(), "nested deeper"));
}

static void test_cbor(void) {
    cbor_item_t *it = NULL;
    static uint8_t deep[100000];
    memset(deep, 0x81, sizeof deep - 1); /* [[[[...0]]]] */
    deep[sizeof deep - 1] = 0x00;
    CHECK(cbor_safe_load(deep, sizeof deep, "deep", &it) == LC_ERR_FORMAT && !it);
    CHECK(strstr(lc_last_error(), "nested too deeply"));
    const uint8_t huge_array[] = {0x9b, 0, 0, 0, 1, 0, 0, 0, 0, 0x00};   /* array of 2^32 items */
    CHECK(cbor_safe_load(huge_array, sizeof huge_array, "huge", &it) == LC_ERR_FORMAT && !it);
    const uint8_t huge_map[] = {0xbb, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x00};  /* map of 2^62 pairs */
    CHECK(cbor_safe_load(huge_map, sizeof huge_map, "huge map", &it) == LC_ERR_FORMAT && !it);
    const uint8_t long_str[] = {0x5a, 0xff, 0xff, 0xff, 0xff, 1, 2, 3}; /* bstr of 4 GB */
    CHECK(cbor_safe_load(long_str, sizeof long_str, "long", &it) == LC_ERR_FORMAT && !it);
    const uint8_t trailing[] = {0x01, 0x02};
    CHECK(cbor_safe_load(trailing, sizeof trailing, "trailing", &it) == LC_ERR_FORMAT && !it);
    const uint8_t reserved[] = {0x1c};
    CHECK(cbor_safe_load(reserved, sizeof reserved, "reserved", &it) == LC_ERR_FORMAT && !it);
    const uint8_t lone_break[] = {0xff};
    CHECK(cbor_safe_load(lone_break, sizeof lone_break, "break", &it) == LC_ERR_FORMAT && !it);
    /* Well-formed: {"a": [1, -2, h'00'], "t": "x"} with an indefinite-length text. */
    const uint8_t ok[] = {0xa2, 0x61, 'a', 0x83, 0x01, 0x21, 0x41, 0x00, 0x61, 't', 0x7f, 0x61, 'x', 0xff};
    CHECK_OK(cbor_safe_load(ok, sizeof ok, "ok", &it));
    if (it) {
        cbor_item_t *a = cbor_map_get(it, "a");
        int64_t v;
        CHECK(a && cbor_isa_array(a) && cbor_int_value(cbor_array_handle(a)[1], &v) && v == -2);
        char *s = cbor_text_dup(cbor_map_get(it, "t"));
        CHECK(s && strcmp(s, "x") == 0);
        free(s);
        cbor_decref(&it);
    }
}

static void test_cose(void) {
    c2pa_cose c;
    const uint8_t not_array[] = {0xd2, 0x01};
    CHECK(c2pa_cose_parse(not_array, sizeof not_array, &c) == LC_ERR_FORMAT);
    /* [h'', {}, nil, h''] : parses, has no algorithm, no certificates; verification refuses it. */
    const uint8_t empty[] = {0xd2, 0x84, 0x40, 0xa0, 0xf6, 0x40};
    CHECK_OK(c2pa_cose_parse(empty, sizeof empty, &c));
    CHECK(!c.has_alg && c.chain == NULL);
    CHECK(c2pa_cose_verify(&c, (const uint8_t *)"x", 1) < 0);
    c2pa_cose_free(&c);
    /* x5chain with garbage instead of a certificate: read, but marked unreadable and not verifiable. */
    const uint8_t bad_cert[] = {0x84, 0x43, 0xa1, 0x01, 0x26, 0xa1, 0x18, 0x21, 0x42, 0x30, 0x00, 0xf6, 0x40};
    CHECK_OK(c2pa_cose_parse(bad_cert, sizeof bad_cert, &c));
    CHECK(c.chain_unreadable && c.chain == NULL && c2pa_cose_verify(&c, (const uint8_t *)"x", 1) < 0);
    c2pa_cose_free(&c);
}

static void test_containers(void) {
    lc_c2pa_report *r = NULL;
    /* JPEG whose APP11 C2PA box declares 3 GB. */
    uint8_t j[64] = {0xFF, 0xD8, 0xFF, 0xEB, 0x00, 0x2c, 'J', 'P', 0x00, 0x01, 0, 0, 0, 1};
    put32(j + 14, 0xC0000000u);
    memcpy(j + 18, "jumb", 4);
    put32(j + 22, 30);
    memcpy(j + 26, "jumd", 4);
    memcpy(j + 30, "c2pa", 4);
    j[46] = 0xFF;
    j[47] = 0xD9;
    CHECK(lc_c2pa_verify_memory(j, 48, "big.jpg", NULL, &r) == LC_ERR_FORMAT && !r);
    CHECK(strstr(lc_last_error(), "big.jpg") && strstr(lc_last_error(), "absurd"));
    /* A JPEG segment length running past the end. */
    const uint8_t cut[] = {0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00, 1, 2, 3};
    CHECK(lc_c2pa_verify_memory(cut, sizeof cut, "cut.jpg", NULL, &r) == LC_ERR_FORMAT && !r);
    CHECK(strstr(lc_last_error(), "truncated"));
    /* A plain JPEG without APP11: Absent. */
    const uint8_t plain[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0, 0, 0xFF, 0xD9};
    CHECK_OK(lc_c2pa_verify_memory(plain, sizeof plain, "plain.jpg", NULL, &r));
    CHECK(r && lc_c2pa_report_state(r) == LC_C2PA_ABSENT);
    lc_c2pa_report_free(r);
    r = NULL;
    /* PNG chunk of 0xFFFFFFFF bytes. */
    uint8_t p[33] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0xff, 0xff, 0xff, 0xff, 'c', 'a', 'B', 'X'};
    CHECK(lc_c2pa_verify_memory(p, sizeof p, "big.png", NULL, &r) == LC_ERR_FORMAT && !r);
    CHECK(strstr(lc_last_error(), "absurd"));
    /* PNG without IEND. */
    uint8_t p2[8 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0, 't', 'E', 'X', 't'};
    CHECK(lc_c2pa_verify_memory(p2, sizeof p2, "noend.png", NULL, &r) == LC_ERR_FORMAT && !r);
}

int main(void) {
    test_jumbf();
    test_cbor();
    test_cose();
    test_containers();
    return TEST_RESULT();
}
