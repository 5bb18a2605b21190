/* libFuzzer target: a manifest store (JUMBF) of arbitrary bytes. The box tree is parsed and walked
 * (every label path resolves back to its box), the store API is exercised, then the store is
 * wrapped in a minimal PNG (caBX chunk) and validated in full: claims, assertions, COSE, ingredients. */
#include "locus/c2pa.h"
#include "media/c2pa/c2pa_internal.h"

#include <stdlib.h>
#include <string.h>

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 24)) return 0;
    jumbf_tree t;
    if (jumbf_parse(data, size, "fuzz", &t) == LC_OK) {
        for (int i = 0; i < t.n; i++) {
            const jumbf_node *n = &t.nodes[i];
            if (n->off > size || n->len > size - n->off || n->hdr > n->len) abort();
            if (n->super && n->parent < 0 && n->label[0] && !strchr(n->label, '/')) {
                char path[600];
                snprintf(path, sizeof path, "/%s", n->label);
                if (strlen(n->label) < 500 && jumbf_resolve(&t, -1, path) < 0) abort();
            }
        }
        jumbf_free(&t);
    }
    char label[256];
    (void)lc_c2pa_store_active_label(data, size, label, sizeof label);
    size_t off, len;
    (void)lc_c2pa_store_locate(data, size, "/c2pa", &off, &len);
    /* PNG signature, caBX chunk, IEND. */
    uint8_t *png = malloc(size + 8 + 12 + 12);
    if (!png) return 0;
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(png, sig, 8);
    put32(png + 8, (uint32_t)size);
    memcpy(png + 12, "caBX", 4);
    if (size) memcpy(png + 16, data, size);
    memset(png + 16 + size, 0, 4);
    put32(png + 20 + size, 0);
    memcpy(png + 24 + size, "IEND", 4);
    memset(png + 28 + size, 0, 4);
    lc_c2pa_report *r = NULL;
    if (lc_c2pa_verify_memory(png, size + 32, "fuzz.png", NULL, &r) == LC_OK) {
        /* Nothing in a store without a valid signature by a real key can validate. */
        char *json = lc_c2pa_report_json(r, "fuzz.png");
        if (!json) abort();
        free(json);
        lc_c2pa_report_free(r);
    }
    free(png);
    return 0;
}
