/*
 * Hard bindings of the active manifest to the file: c2pa.hash.data (SHA over every byte but the
 * exclusions, streamed) and c2pa.hash.boxes (SHA over runs of named JPEG segments / PNG chunks,
 * named as c2pa-rs names them; the C2PA box itself is not hashed).
 */
#include "c2pa_internal.h"

#include <stdlib.h>
#include <string.h>

/* c2pa.hash.data: SHA over the file minus the exclusions. */
static void check_data_hash(vctx *v, manifest_ctx *m, int node) {
    char *url = c2pa_manifest_url(m, NULL);
    char *aurl = c2pa_printf("%s/c2pa.assertions/%s", url, v->tree.nodes[node].label);
    cbor_item_t *a = c2pa_load_assertion_cbor(v, node);
    size_t hlen = 0;
    const uint8_t *want = a ? cbor_bytes(cbor_map_get(a, "hash"), &hlen) : NULL;
    cbor_item_t *ex = a ? cbor_map_get(a, "exclusions") : NULL;
    char *alg = a ? cbor_text_dup(cbor_map_get(a, "alg")) : NULL;
    const EVP_MD *md = c2pa_hash_md(alg ? alg : m->claim_alg);
    c2pa_range *ranges = NULL;
    size_t n = 0;
    if (!a || !want) {
        c2pa_fail(v, "assertion.dataHash.malformed", aurl, "c2pa.hash.data is malformed");
        goto done;
    }
    if (!md) {
        c2pa_fail(v, "algorithm.unsupported", aurl, "unknown or missing hash algorithm for the data hash");
        goto done;
    }
    if (ex && cbor_isa_array(ex)) {
        n = cbor_array_size(ex);
        ranges = calloc(n ? n : 1, sizeof *ranges);
        if (!ranges) {
            v->oom = true;
            goto done;
        }
        cbor_item_t **items = cbor_array_handle(ex);
        for (size_t i = 0; i < n; i++) {
            int64_t s, l;
            if (!cbor_int_value(cbor_map_get(items[i], "start"), &s) ||
                !cbor_int_value(cbor_map_get(items[i], "length"), &l) || s < 0 || l < 0) {
                c2pa_fail(v, "assertion.dataHash.malformed", aurl, "exclusion %zu is malformed", i);
                goto done;
            }
            if ((uint64_t)s > v->src->size || (uint64_t)l > v->src->size - (uint64_t)s) {
                c2pa_fail(v, "assertion.dataHash.mismatch", aurl, "exclusion %zu lies outside the file", i);
                goto done;
            }
            ranges[i].off = (uint64_t)s;
            ranges[i].len = (uint64_t)l;
        }
    }
    uint8_t got[EVP_MAX_MD_SIZE];
    unsigned got_len = 0;
    if (c2pa_hash_file_excluding(v->src, md, ranges, n, got, &got_len) != LC_OK) {
        c2pa_fail(v, "assertion.dataHash.mismatch", aurl, "asset could not be hashed: %s", lc_last_error());
        goto done;
    }
    if (got_len != hlen || memcmp(got, want, hlen) != 0)
        c2pa_fail(v, "assertion.dataHash.mismatch", aurl, "asset hash does not match the data hash assertion");
done:
    free(ranges);
    free(alg);
    if (a) cbor_decref(&a);
    free(aurl);
    free(url);
}

/* c2pa.hash.boxes: each entry hashes a run of named boxes; the "C2PA" box is not hashed. */
static void check_box_hash(vctx *v, manifest_ctx *m, int node) {
    char *url = c2pa_manifest_url(m, NULL);
    char *aurl = c2pa_printf("%s/c2pa.assertions/%s", url, v->tree.nodes[node].label);
    cbor_item_t *a = c2pa_load_assertion_cbor(v, node);
    c2pa_named_box *boxes = NULL;
    size_t n_boxes = 0;
    c2pa_range *ranges = NULL;
    char *top_alg = a ? cbor_text_dup(cbor_map_get(a, "alg")) : NULL;
    cbor_item_t *list = a ? cbor_map_get(a, "boxes") : NULL;
    if (!list || !cbor_isa_array(list)) {
        c2pa_fail(v, "assertion.boxesHash.mismatch", aurl, "c2pa.hash.boxes is malformed");
        goto done;
    }
    lc_status st = v->container.format == C2PA_FMT_PNG ? c2pa_png_box_map(v->src, &boxes, &n_boxes)
                                                        : c2pa_jpeg_box_map(v->src, &boxes, &n_boxes);
    if (st) {
        c2pa_fail(v, "assertion.boxesHash.mismatch", aurl, "file boxes could not be mapped: %s", lc_last_error());
        goto done;
    }
    ranges = calloc(n_boxes ? n_boxes : 1, sizeof *ranges);
    if (!ranges) {
        v->oom = true;
        goto done;
    }
    size_t cursor = 0;
    cbor_item_t **entries = cbor_array_handle(list);
    for (size_t e = 0; e < cbor_array_size(list); e++) {
        cbor_item_t *names = cbor_map_get(entries[e], "names");
        size_t hlen = 0;
        const uint8_t *want = cbor_bytes(cbor_map_get(entries[e], "hash"), &hlen);
        if (!names || !cbor_isa_array(names) || !want) {
            c2pa_fail(v, "assertion.boxesHash.mismatch", aurl, "box hash entry %zu is malformed", e);
            goto done;
        }
        size_t nn = cbor_array_size(names), nr = 0;
        bool is_c2pa = false;
        for (size_t k = 0; k < nn; k++) {
            char *name = cbor_text_dup(cbor_array_handle(names)[k]);
            if (!name || cursor >= n_boxes || strcmp(name, boxes[cursor].name) != 0) {
                /* c2pa-rs: a box of another name where one is expected is a mismatch; running out of
                 * boxes is an unknown box. */
                const char *code =
                    cursor >= n_boxes ? "assertion.boxesHash.unknownBox" : "assertion.boxesHash.mismatch";
                c2pa_fail(v, code, aurl, "box '%s' not found where the box hash expects it", name ? name : "?");
                free(name);
                goto done;
            }
            is_c2pa = is_c2pa || strcmp(name, "C2PA") == 0;
            free(name);
            ranges[nr].off = boxes[cursor].off;
            ranges[nr].len = boxes[cursor].len;
            nr++;
            cursor++;
        }
        if (is_c2pa) continue; /* the manifest store itself is not hashed */
        char *alg = cbor_text_dup(cbor_map_get(entries[e], "alg"));
        const EVP_MD *md = c2pa_hash_md(alg ? alg : top_alg ? top_alg : m->claim_alg);
        free(alg);
        if (!md) {
            c2pa_fail(v, "algorithm.unsupported", aurl, "unknown or missing hash algorithm in the box hash");
            goto done;
        }
        uint8_t got[EVP_MAX_MD_SIZE];
        unsigned got_len = 0;
        if (c2pa_hash_file_ranges(v->src, md, ranges, nr, got, &got_len) != LC_OK || got_len != hlen ||
            memcmp(got, want, hlen) != 0) {
            c2pa_fail(v, "assertion.boxesHash.mismatch", aurl, "hash of boxes in entry %zu does not match", e);
            goto done;
        }
    }
    if (cursor < n_boxes)
        c2pa_fail(v, "assertion.boxesHash.mismatch", aurl, "%zu boxes of the file are not covered by the box hash",
                  n_boxes - cursor);
done:
    free(top_alg);
    free(ranges);
    free(boxes);
    if (a) cbor_decref(&a);
    free(aurl);
    free(url);
}

typedef struct binding_scan {
    int data_node, boxes_node, other_node;
} binding_scan;

static void find_binding(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, const cbor_item_t *huri, void *ctx) {
    binding_scan *b = ctx;
    int node = c2pa_assertion_node(v, m, huri);
    if (node < 0) return;
    const char *label = v->tree.nodes[node].label;
    if (c2pa_label_is(label, "c2pa.hash.data") && b->data_node < 0) b->data_node = node;
    else if (c2pa_label_is(label, "c2pa.hash.boxes") && b->boxes_node < 0) b->boxes_node = node;
    else if (strncmp(label, "c2pa.hash.bmff", 14) == 0 || strncmp(label, "c2pa.hash.collection", 20) == 0)
        b->other_node = node;
}

/* The hard binding of the active manifest: c2pa.hash.data, else c2pa.hash.boxes. */
void c2pa_check_hard_binding(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info) {
    binding_scan b = {-1, -1, -1};
    c2pa_for_each_assertion(v, m, info, find_binding, &b);
    if (b.data_node >= 0) check_data_hash(v, m, b.data_node);
    else if (b.boxes_node >= 0) check_box_hash(v, m, b.boxes_node);
    else if (b.other_node >= 0) {
        char *url = c2pa_manifest_url(m, NULL);
        c2pa_fail(v, "algorithm.unsupported", url, "hard binding %s is not supported for JPEG or PNG",
                  v->tree.nodes[b.other_node].label);
        free(url);
    } else {
        char *url = c2pa_manifest_url(m, NULL);
        c2pa_fail(v, "claim.hardBindings.missing", url, "active manifest has no hard binding assertion");
        free(url);
    }
}
