/*
 * JUMBF (ISO/IEC 19566-5) boxes: a superbox "jumb" holds a description box "jumd" (content type
 * UUID, toggles, optional label, ID, signature and private box) then content boxes or further
 * superboxes. Parsed into a flat tree of nodes that point into the caller's buffer.
 */
#include "c2pa_internal.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t iso_suffix[12] = {0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void printable_type(const uint8_t *p, char out[5]) {
    for (int i = 0; i < 4; i++) out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    out[4] = '\0';
}

static int add_node(jumbf_tree *t) {
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 64;
        jumbf_node *nodes = realloc(t->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes) return -1;
        t->nodes = nodes;
        t->cap = cap;
    }
    jumbf_node *n = &t->nodes[t->n];
    memset(n, 0, sizeof *n);
    n->parent = n->first_child = n->next_sibling = -1;
    n->label = "";
    return t->n++;
}

static lc_status parse_boxes(jumbf_tree *t, const char *name, size_t start, size_t end, int parent, int depth) {
    if (depth > C2PA_MAX_JUMBF_DEPTH)
        return lc_error(LC_ERR_FORMAT, "%s: JUMBF boxes nested deeper than %d levels", name, C2PA_MAX_JUMBF_DEPTH);
    const uint8_t *d = t->data;
    size_t o = start;
    int last = -1;
    while (o < end) {
        if (end - o < 8)
            return lc_error(LC_ERR_FORMAT, "%s: JUMBF: %zu stray bytes at offset %zu (too short for a box header)",
                            name, end - o, o);
        uint64_t L = be32(d + o);
        size_t hdr = 8;
        char type[5];
        printable_type(d + o + 4, type);
        if (L == 1) {
            if (end - o < 16)
                return lc_error(LC_ERR_FORMAT, "%s: JUMBF: box '%s' at offset %zu truncated", name, type, o);
            L = (uint64_t)be32(d + o + 8) << 32 | be32(d + o + 12);
            hdr = 16;
        } else if (L == 0) {
            L = end - o;
        }
        if (L < hdr || L > end - o)
            return lc_error(LC_ERR_FORMAT,
                            "%s: JUMBF: box '%s' at offset %zu declares length %llu but %zu bytes remain in its parent",
                            name, type, o, (unsigned long long)L, end - o);
        int i = add_node(t);
        if (i < 0) return lc_error(LC_ERR_NOMEM, "%s: out of memory parsing JUMBF", name);
        jumbf_node *n = &t->nodes[i];
        memcpy(n->type, type, 5);
        n->off = o;
        n->len = (size_t)L;
        n->hdr = hdr;
        n->parent = parent;
        if (last >= 0) t->nodes[last].next_sibling = i;
        else if (parent >= 0) t->nodes[parent].first_child = i;
        last = i;
        if (memcmp(d + o + 4, "jumb", 4) == 0) {
            size_t c = o + hdr, cend = o + (size_t)L;
            /* Description box: LBox TBox("jumd") UUID(16) toggles(1) [label NUL] [ID 4] [sig 32] [private box] */
            if (cend - c < 8 + 17 || memcmp(d + c + 4, "jumd", 4) != 0)
                return lc_error(LC_ERR_FORMAT, "%s: JUMBF: superbox at offset %zu lacks its description box", name, o);
            uint64_t dl = be32(d + c);
            if (dl < 8 + 17 || dl > cend - c)
                return lc_error(LC_ERR_FORMAT, "%s: JUMBF: description box at offset %zu has bad length %llu", name, c,
                                (unsigned long long)dl);
            n->super = true;
            memcpy(n->uuid, d + c + 8, 16);
            n->toggles = d[c + 24];
            if (n->toggles & 0x02) {
                const uint8_t *lab = d + c + 25;
                const uint8_t *nul = memchr(lab, 0, (size_t)dl - 25);
                if (!nul)
                    return lc_error(LC_ERR_FORMAT,
                                    "%s: JUMBF: label of the description box at offset %zu is not terminated", name, c);
                n->label = (const char *)lab;
            }
            lc_status st = parse_boxes(t, name, c + (size_t)dl, cend, i, depth + 1);
            if (st) return st;
        }
        o += (size_t)L;
    }
    return LC_OK;
}

lc_status jumbf_parse(const uint8_t *data, size_t len, const char *name, jumbf_tree *t) {
    memset(t, 0, sizeof *t);
    t->data = data;
    t->len = len;
    lc_status st = parse_boxes(t, name ? name : "(memory)", 0, len, -1, 0);
    if (st) jumbf_free(t);
    return st;
}

void jumbf_free(jumbf_tree *t) {
    free(t->nodes);
    t->nodes = NULL;
    t->n = t->cap = 0;
}

int jumbf_child(const jumbf_tree *t, int parent, const char *label) {
    int i = parent < 0 ? (t->n > 0 ? 0 : -1) : t->nodes[parent].first_child;
    for (; i >= 0; i = t->nodes[i].next_sibling)
        if (t->nodes[i].super && strcmp(t->nodes[i].label, label) == 0) return i;
    return -1;
}

int jumbf_resolve(const jumbf_tree *t, int base, const char *path) {
    int cur = base;
    const char *p = path;
    if (*p == '/') {
        cur = -1;
        p++;
    }
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || n >= 512) return -1;
        char comp[512];
        memcpy(comp, p, n);
        comp[n] = '\0';
        cur = jumbf_child(t, cur, comp);
        if (cur < 0) return -1;
        p += n;
        if (*p == '/') p++;
    }
    return cur;
}

int jumbf_content(const jumbf_tree *t, int node, const char *type) {
    for (int i = t->nodes[node].first_child; i >= 0; i = t->nodes[i].next_sibling)
        if (!t->nodes[i].super && strcmp(t->nodes[i].type, type) == 0) return i;
    return -1;
}

bool jumbf_is_type(const jumbf_node *n, const char *fourcc) {
    return n->super && memcmp(n->uuid, fourcc, 4) == 0 && memcmp(n->uuid + 4, iso_suffix, 12) == 0;
}
