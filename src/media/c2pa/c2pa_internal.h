/*
 * Internal pieces of the C2PA reader and validator, one idea per file:
 *   source.c     reading a file (pread) or a memory buffer by offset, with clear truncation errors
 *   jpeg.c       JPEG segments: APP11 JUMBF reassembly (En, Z), segment map for box hashes
 *   png.c        PNG chunks: the caBX chunk, chunk map for box hashes
 *   jumbf.c      JUMBF superboxes, description boxes, label paths
 *   cbor_safe.c  structural pre-check before libcbor (depth, lengths) and map look-ups
 *   cose.c       COSE_Sign1 with detached payload: headers, x5chain, signature verification
 *   certs.c      certificate chain, validity and trust anchors; names; time-stamp time
 *   hash.c       streamed SHA over the file, with exclusions or over ranges
 *   claim.c      what a manifest says: claims v1 and v2, assertion labels, actions, ingredients
 *   bindings.c   hard bindings: c2pa.hash.data, c2pa.hash.boxes
 *   validate.c   the store walk: signatures, trust, hashed URIs, action rules, ingredients; the API
 *   report.c     the report's storage and getters
 *   report_json.c  the report as JSON
 *   util.c       string helpers
 */
#ifndef LOCUS_C2PA_INTERNAL_H
#define LOCUS_C2PA_INTERNAL_H

#include "locus/c2pa.h"

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* Limits against hostile input: each gives a clear error rather than an attempt. */
#define C2PA_MAX_STORE_BYTES (256u << 20) /* a manifest store larger than this is refused */
#define C2PA_MAX_JUMBF_DEPTH 32
#define C2PA_MAX_CBOR_DEPTH 64
#define C2PA_MAX_MANIFESTS 1024
#define C2PA_MAX_INGREDIENT_DEPTH 64

/* ---- source: a file or a buffer, read by offset --------------------------------------------- */
typedef struct c2pa_src {
    const char *name; /* for messages */
    int fd;           /* -1 for memory */
    const uint8_t *mem;
    uint64_t size;
} c2pa_src;

lc_status c2pa_src_open(c2pa_src *s, const char *path);
void c2pa_src_memory(c2pa_src *s, const void *data, size_t len, const char *name);
void c2pa_src_close(c2pa_src *s);
/* Read exactly n bytes at off; LC_ERR_FORMAT "truncated" when the source ends before. */
lc_status c2pa_src_read(const c2pa_src *s, uint64_t off, void *buf, size_t n, const char *what);

/* ---- containers ------------------------------------------------------------------------------ */
typedef enum c2pa_format { C2PA_FMT_UNKNOWN = 0, C2PA_FMT_JPEG, C2PA_FMT_PNG } c2pa_format;

typedef struct c2pa_range {
    uint64_t off, len;
} c2pa_range;

/* A named region of the file for c2pa.hash.boxes ("SOI", "APP0", "C2PA", "IHDR", "IDAT" ...). */
typedef struct c2pa_named_box {
    char name[8];
    uint64_t off, len;
} c2pa_named_box;

typedef struct c2pa_container {
    c2pa_format format;
    uint8_t *store; /* reassembled manifest store, NULL when absent */
    size_t store_len;
    c2pa_range store_span; /* bytes of the file holding the store (segments/chunk, headers included) */
} c2pa_container;

c2pa_format c2pa_sniff(const c2pa_src *s);
lc_status c2pa_jpeg_read_store(const c2pa_src *s, c2pa_container *c);
lc_status c2pa_png_read_store(const c2pa_src *s, c2pa_container *c);
lc_status c2pa_container_read(const c2pa_src *s, c2pa_container *c);
void c2pa_container_free(c2pa_container *c);
/* Box maps for c2pa.hash.boxes (malloc'd array). */
lc_status c2pa_jpeg_box_map(const c2pa_src *s, c2pa_named_box **boxes, size_t *n);
lc_status c2pa_png_box_map(const c2pa_src *s, c2pa_named_box **boxes, size_t *n);

/* ---- JUMBF ----------------------------------------------------------------------------------- */
typedef struct jumbf_node {
    char type[5];         /* box type, NUL-terminated */
    size_t off, len;      /* the whole box within the store */
    size_t hdr;           /* 8, or 16 with an XLBox */
    /* superboxes (type "jumb") only: */
    bool super;
    uint8_t uuid[16];     /* description box content type */
    uint8_t toggles;
    const char *label;    /* points into the store (NUL-terminated there), "" when none */
    int parent, first_child, next_sibling; /* indices, -1 for none; children exclude the jumd box */
} jumbf_node;

typedef struct jumbf_tree {
    const uint8_t *data;
    size_t len;
    jumbf_node *nodes;
    int n, cap;
} jumbf_tree;

/* Parse a whole buffer of boxes (the store); node 0 is the first top-level box. */
lc_status jumbf_parse(const uint8_t *data, size_t len, const char *name, jumbf_tree *t);
void jumbf_free(jumbf_tree *t);
/* Child superbox of `parent` with this label (-1 if none); parent -1 means the top level. */
int jumbf_child(const jumbf_tree *t, int parent, const char *label);
/* Resolve a label path "/c2pa/<m>/c2pa.assertions/x" (absolute) or "c2pa.assertions/x" relative to
 * superbox `base`; -1 if not found. */
int jumbf_resolve(const jumbf_tree *t, int base, const char *path);
/* First content (non-superbox) child of a superbox with the given type ("cbor", "json", ...), or -1. */
int jumbf_content(const jumbf_tree *t, int node, const char *type);
/* Payload (after header) of a node. */
static inline const uint8_t *jumbf_payload(const jumbf_tree *t, int i, size_t *len) {
    *len = t->nodes[i].len - t->nodes[i].hdr;
    return t->data + t->nodes[i].off + t->nodes[i].hdr;
}
/* Is the superbox's description type this 4-character C2PA type ("c2pa","c2ma","c2um","c2as",
 * "c2cl","c2cs","cbor","json")? Compares the first 4 bytes and the ISO suffix. */
bool jumbf_is_type(const jumbf_node *n, const char *fourcc);

/* ---- CBOR ------------------------------------------------------------------------------------ */
/* Check well-formedness, nesting depth and that every declared length fits in the buffer, then
 * load with libcbor. *out NULL on failure with an error message naming `what`. */
lc_status cbor_safe_load(const uint8_t *data, size_t len, const char *what, cbor_item_t **out);
/* Map look-ups by text key or integer key; NULL when absent. */
cbor_item_t *cbor_map_get(const cbor_item_t *map, const char *key);
cbor_item_t *cbor_map_get_int(const cbor_item_t *map, int64_t key);
/* Definite text string copied into a new NUL-terminated string; NULL when not a text string. */
char *cbor_text_dup(const cbor_item_t *item);
/* Definite byte string contents (NULL when not one). */
const uint8_t *cbor_bytes(const cbor_item_t *item, size_t *len);
/* Integer value (positive or negative) into *v; false when not an integer in int64 range. */
bool cbor_int_value(const cbor_item_t *item, int64_t *v);
/* Strip tags. */
cbor_item_t *cbor_untag(cbor_item_t *item);

/* ---- hashing --------------------------------------------------------------------------------- */
/* "sha256", "sha384", "sha512" -> EVP_MD, or NULL. */
const EVP_MD *c2pa_hash_md(const char *alg);
/* SHA of the file with exclusions (sorted, merged), streamed. */
lc_status c2pa_hash_file_excluding(const c2pa_src *s, const EVP_MD *md, const c2pa_range *excl, size_t n_excl,
                                   uint8_t *digest, unsigned *digest_len);
/* SHA of byte ranges of the file, concatenated. */
lc_status c2pa_hash_file_ranges(const c2pa_src *s, const EVP_MD *md, const c2pa_range *ranges, size_t n,
                                uint8_t *digest, unsigned *digest_len);

/* ---- COSE and certificates ------------------------------------------------------------------- */
typedef struct c2pa_cose {
    int64_t alg;              /* COSE algorithm id; 0 when absent */
    bool has_alg;
    STACK_OF(X509) *chain;    /* x5chain, signer first; NULL when absent or unreadable */
    bool chain_unreadable;    /* an x5chain is there but is not DER certificates */
    const uint8_t *protected_bytes;
    size_t protected_len;
    const uint8_t *signature;
    size_t signature_len;
    const uint8_t *tst;       /* first RFC 3161 time-stamp token (DER), or NULL */
    size_t tst_len;
    bool tst_v2;              /* sigTst2 (over the signature) rather than sigTst (over the claim) */
    cbor_item_t *root;        /* owns the above pointers */
    cbor_item_t *protected_map;
} c2pa_cose;

/* Parse a COSE_Sign1 (tagged or not). LC_ERR_FORMAT when it is not one. */
lc_status c2pa_cose_parse(const uint8_t *data, size_t len, c2pa_cose *c);
void c2pa_cose_free(c2pa_cose *c);
/* c2pa-rs name of a COSE algorithm ("Es256", "Ps256", "Ed25519", ...) or NULL when unsupported. */
const char *c2pa_cose_alg_name(int64_t alg);
/* genTime (RFC 3339, malloc'd) of the time-stamp when it is intact and belongs to this signature
 * and claim; NULL otherwise. */
char *c2pa_cose_timestamp(const c2pa_cose *c, const uint8_t *claim, size_t claim_len);
/* Verify the signature over the detached payload; 1 valid, 0 mismatch, <0 unsupported/bad key. */
int c2pa_cose_verify(const c2pa_cose *c, const uint8_t *payload, size_t payload_len);

typedef enum c2pa_trust_result {
    C2PA_CERT_TRUSTED,
    C2PA_CERT_UNTRUSTED,  /* no trust anchor reached (none given, or the chain does not verify) */
    C2PA_CERT_EXPIRED,    /* the signer's certificate is outside its validity period */
    C2PA_CERT_INVALID     /* no certificate at all */
} c2pa_trust_result;

typedef struct c2pa_trust {
    X509_STORE *store; /* NULL when no anchors */
    int n_anchors;
} c2pa_trust;

lc_status c2pa_trust_load(c2pa_trust *t, const lc_c2pa_options *opt);
void c2pa_trust_free(c2pa_trust *t);
c2pa_trust_result c2pa_trust_check(const c2pa_trust *t, STACK_OF(X509) *chain, int64_t at_time, char *why,
                                   size_t why_len);
typedef enum c2pa_profile_result {
    C2PA_PROFILE_OK,
    C2PA_PROFILE_INVALID, /* breaks the C2PA signer certificate profile */
    C2PA_PROFILE_NO_EKU,  /* invalid, and lacks an EKU a trust list accepts (so also untrusted) */
    C2PA_PROFILE_BROKEN   /* the certificate contradicts itself: invalid, and no trust verdict */
} c2pa_profile_result;
/* Check the signer certificate against the C2PA profile; why gets the reason. */
c2pa_profile_result c2pa_cert_profile(X509 *cert, char *why, size_t why_len);
/* Subject O (or "") and CN (or "") of a certificate, malloc'd. */
char *c2pa_cert_subject_field(X509 *cert, int nid);

/* ---- report building --------------------------------------------------------------------------- */
typedef struct c2pa_strlist {
    char **items;
    size_t n, cap;
} c2pa_strlist;
bool c2pa_strlist_push(c2pa_strlist *l, const char *s);
void c2pa_strlist_free(c2pa_strlist *l);

char *c2pa_strdup(const char *s);
char *c2pa_strndup(const char *s, size_t n);
char *c2pa_printf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* The report (opaque in the public header). */
struct lc_c2pa_report {
    lc_c2pa_state state;
    char *active_manifest;
    lc_c2pa_manifest *manifests;
    size_t n_manifests;
    lc_c2pa_status *status;
    size_t n_status, cap_status;
    c2pa_strlist strings; /* owns every string the report points to */
    void **blocks;        /* owns arrays (assertion lists, ingredients) */
    size_t n_blocks, cap_blocks;
};

/* Copy a string into the report's arena (NULL stays NULL); NULL on allocation failure. */
const char *c2pa_report_str(lc_c2pa_report *r, const char *s);
/* Keep a malloc'd block to be freed with the report; false (and the block freed) on failure. */
bool c2pa_report_keep(lc_c2pa_report *r, void *block);

/* One entry per code and URL; `ingredient` (may be NULL) as in lc_c2pa_status. */
bool c2pa_report_add_status(lc_c2pa_report *r, const char *code, const char *url, const char *explanation,
                            const char *ingredient);
/* Is this a failure code (not one c2pa-rs counts as success or informational)? */
bool c2pa_code_is_failure(const char *code);
/* The manifest label in a JUMBF URI ("self#jumbf=/c2pa/<label>/..."), malloc'd; NULL when the URI
 * names no manifest (a relative URI, a bare label). */
char *c2pa_uri_manifest_label(const char *uri);

/* ---- validation context (validate.c, claim.c, bindings.c) ------------------------------------ */
typedef struct manifest_ctx {
    int node;              /* manifest superbox */
    const char *label;
    cbor_item_t *claim;    /* NULL when missing or malformed */
    int claim_version;
    char *claim_alg;       /* claim-level hash algorithm, or NULL */
    bool visited;          /* validated already (ingredient cycles) */
} manifest_ctx;

typedef struct vctx {
    const c2pa_src *src;
    c2pa_container container;
    jumbf_tree tree;
    c2pa_trust trust;
    int64_t verify_time;
    lc_c2pa_report *r;
    manifest_ctx *m;
    size_t n_m;
    bool oom;
    bool active_trusted;
    const char *ingredient_uri; /* ingredient assertion being followed (NULL: the active manifest) */
    c2pa_strlist redacted; /* absolute URLs every claim lists in redacted_assertions */
} vctx;

typedef enum { HURI_OK, HURI_MISSING, HURI_MISMATCH, HURI_BADALG, HURI_MALFORMED } huri_result;
/* Called for each hashed URI of a claim's assertion lists (assertions, created_, gathered_). */
typedef void (*huri_fn)(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, const cbor_item_t *huri, void *ctx);

/* Record a failure code about `url` (printf-style explanation). */
void c2pa_fail(vctx *v, const char *code, const char *url, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* "self#jumbf=/c2pa/<manifest>[/<rest>]", malloc'd. */
char *c2pa_manifest_url(const manifest_ctx *m, const char *rest);
/* The path of a JUMBF URI without "self#jumbf=", or NULL when it is not one. */
const char *c2pa_jumbf_path(const char *url);
/* Is `label` this assertion label, with or without an instance suffix ("__1")? */
bool c2pa_label_is(const char *label, const char *base);
void c2pa_for_each_assertion(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info, huri_fn fn, void *ctx);
/* The JUMBF node a hashed URI of manifest m names (its "url" resolved against m), or -1. */
int c2pa_assertion_node(const vctx *v, const manifest_ctx *m, const cbor_item_t *huri);
/* c2pa.ingredient (v1, v2, v3) and c2pa.actions (v1, v2) labels, instance suffixes allowed. */
bool c2pa_label_is_ingredient(const char *label);
bool c2pa_label_is_actions(const char *label);
/* The CBOR content of an assertion superbox (NULL when it has none or it is malformed). */
cbor_item_t *c2pa_load_assertion_cbor(vctx *v, int node);
/* The hashed URI of an ingredient's manifest (v3 activeManifest, v1/v2 c2pa_manifest), or NULL. */
cbor_item_t *c2pa_ingredient_manifest_ref(const cbor_item_t *ing);
/* claim.c: read the claim of m (failures recorded), then fill the report's view of it. */
void c2pa_load_claim(vctx *v, manifest_ctx *m);
void c2pa_fill_info(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info);
/* bindings.c: check the hard binding of the active manifest against the file. */
void c2pa_check_hard_binding(vctx *v, manifest_ctx *m, lc_c2pa_manifest *info);

#endif
