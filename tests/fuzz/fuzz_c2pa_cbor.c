/* libFuzzer target: the guarded CBOR loader (structural pre-check, then libcbor) and the look-ups
 * the claim reader uses on whatever it returns. */
#include "media/c2pa/c2pa_internal.h"

#include <stdlib.h>

static void walk(const cbor_item_t *it, int depth) {
    if (!it || depth > C2PA_MAX_CBOR_DEPTH + 2) return;
    char *s = cbor_text_dup(it);
    free(s);
    size_t n;
    (void)cbor_bytes(it, &n);
    int64_t v;
    (void)cbor_int_value(it, &v);
    if (cbor_isa_array((cbor_item_t *)it)) {
        cbor_item_t **items = cbor_array_handle((cbor_item_t *)it);
        for (size_t i = 0; i < cbor_array_size((cbor_item_t *)it); i++) walk(items[i], depth + 1);
    } else if (cbor_isa_map((cbor_item_t *)it)) {
        (void)cbor_map_get(it, "url");
        (void)cbor_map_get_int(it, 33);
        struct cbor_pair *p = cbor_map_handle((cbor_item_t *)it);
        for (size_t i = 0; i < cbor_map_size((cbor_item_t *)it); i++) {
            walk(p[i].key, depth + 1);
            walk(p[i].value, depth + 1);
        }
    } else if (cbor_isa_tag((cbor_item_t *)it)) {
        walk(cbor_untag((cbor_item_t *)it), depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cbor_item_t *it = NULL;
    if (cbor_safe_load(data, size, "fuzz", &it) == LC_OK) {
        walk(it, 0);
        cbor_decref(&it);
    }
    return 0;
}
