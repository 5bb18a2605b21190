/*
 * Internals of C2PA signing: a growable byte buffer, the JUMBF box writer, the containers (JPEG
 * APP11, PNG caBX) and the COSE_Sign1 signer. Reading and validation live in the other c2pa files.
 */
#ifndef LOCUS_C2PA_SIGN_INTERNAL_H
#define LOCUS_C2PA_SIGN_INTERNAL_H

#include "locus/c2pa_sign.h"

#include <cbor.h>
#include <openssl/evp.h>

/* ---- byte buffer ------------------------------------------------------------------------- */
typedef struct lc_sbuf {
    uint8_t *data;
    size_t len, cap;
    bool failed; /* an allocation failed: every later append is a no-op */
} lc_sbuf;

void lc_sbuf_free(lc_sbuf *b);
void lc_sbuf_append(lc_sbuf *b, const void *data, size_t n);
void lc_sbuf_byte(lc_sbuf *b, uint8_t v);
void lc_sbuf_be16(lc_sbuf *b, uint16_t v);
void lc_sbuf_be32(lc_sbuf *b, uint32_t v);
/* Overwrite 4 bytes at `at` (big-endian). */
void lc_sbuf_patch_be32(lc_sbuf *b, size_t at, uint32_t v);

/* ---- JUMBF (ISO/IEC 19566-5) ------------------------------------------------------------- */
/* Type UUIDs of the boxes C2PA uses: "c2pa" store, "c2ma" manifest, "c2as" assertion store,
 * "c2cl" claim, "c2cs" claim signature, "cbor" and "json" content. */
extern const uint8_t LC_JUMBF_UUID_STORE[16], LC_JUMBF_UUID_MANIFEST[16], LC_JUMBF_UUID_ASSERTIONS[16],
    LC_JUMBF_UUID_CLAIM[16], LC_JUMBF_UUID_SIGNATURE[16], LC_JUMBF_UUID_CBOR[16], LC_JUMBF_UUID_JSON[16];

/* Open a superbox ("jumb") with its description box (requestable, labelled); returns the offset to
 * pass to lc_jumbf_end once its content boxes are written. */
size_t lc_jumbf_begin(lc_sbuf *b, const uint8_t uuid[16], const char *label);
void lc_jumbf_end(lc_sbuf *b, size_t begin);
/* A content box: type (4 characters, e.g. "cbor", "json") and payload. */
void lc_jumbf_content(lc_sbuf *b, const char type[4], const void *data, size_t n);
/* A whole superbox holding one content box. */
void lc_jumbf_single(lc_sbuf *b, const uint8_t uuid[16], const char *label, const char type[4],
                     const void *data, size_t n);

/* ---- containers -------------------------------------------------------------------------- */
typedef enum lc_asset_kind { LC_ASSET_JPEG = 1, LC_ASSET_PNG = 2 } lc_asset_kind;

/* A file prepared for signing: its bytes without any C2PA store, where the new one goes, and the
 * old store (JUMBF) when there was one. */
typedef struct lc_asset {
    lc_asset_kind kind;
    const char *mime;
    uint8_t *stripped;
    size_t stripped_len;
    size_t insert_at;
    uint8_t *old_store; /* NULL when none */
    size_t old_store_len;
    uint16_t jpeg_box_instance; /* JPEG: an APP11 En value no kept JUMBF segment uses */
} lc_asset;

void lc_asset_free(lc_asset *a);
/* Parse a JPEG or PNG (by its signature bytes); LC_ERR_FORMAT naming `name` when neither or broken. */
lc_status lc_asset_prepare(const uint8_t *data, size_t len, const char *name, lc_asset *out);
lc_status lc_jpeg_prepare(const uint8_t *data, size_t len, const char *name, lc_asset *out);
lc_status lc_png_prepare(const uint8_t *data, size_t len, const char *name, lc_asset *out);
/* Bytes the store takes once wrapped for the container (APP11 segments, caBX chunk). */
size_t lc_jpeg_wrapped_size(size_t store_len);
size_t lc_png_wrapped_size(size_t store_len);
/* Append the wrapped store. */
lc_status lc_jpeg_wrap(const uint8_t *store, size_t len, uint16_t box_instance, lc_sbuf *out);
lc_status lc_png_wrap(const uint8_t *store, size_t len, lc_sbuf *out);
/* CRC-32 of PNG chunks (ISO 3309, as in the PNG specification). */
uint32_t lc_png_crc(const uint8_t *data, size_t n, uint32_t crc);

/* ---- signer (COSE_Sign1, RFC 9052) ------------------------------------------------------- */
typedef struct lc_signer {
    lc_c2pa_alg alg;
    EVP_PKEY *key;
    size_t n_certs;
    uint8_t **cert_der; /* signer first */
    size_t *cert_len;
    size_t sig_len; /* bytes of the raw signature (64 for ES256, the modulus for PS256...) */
} lc_signer;

lc_status lc_signer_load(const lc_c2pa_sign_options *opt, lc_signer *out);
void lc_signer_free(lc_signer *s);
/* COSE_Sign1 (tag 18) over `payload` (detached: the payload slot is nil) -> *out (malloc'd). */
lc_status lc_cose_sign1(const lc_signer *s, const uint8_t *payload, size_t payload_len, uint8_t **out,
                        size_t *out_len);

/* ---- CBOR helpers (libcbor) ---------------------------------------------------------------- */
/* Integers in their shortest encoding, text from a C string (NULL on failure). */
cbor_item_t *lc_cb_uint(uint64_t v);
cbor_item_t *lc_cb_int(int64_t v);
cbor_item_t *lc_cb_text(const char *s);
cbor_item_t *lc_cb_bytes(const void *data, size_t n);
/* Add key -> val to a map / val to an array, taking over the reference to val (also on failure). */
bool lc_cb_put(cbor_item_t *map, const char *key, cbor_item_t *val);
bool lc_cb_push(cbor_item_t *array, cbor_item_t *val);
/* {"url": url, "hash": sha256(data)} */
cbor_item_t *lc_cb_hashed_uri(const char *url, const uint8_t hash[32], bool with_alg);
/* Serialize into a malloc'd buffer; false on failure. */
bool lc_cb_serialize(const cbor_item_t *item, uint8_t **out, size_t *out_len);
/* JSON (cJSON) -> CBOR: objects, arrays, strings, integers, floats, booleans, null. */
struct cJSON;
cbor_item_t *lc_cb_from_json(const struct cJSON *j);

#endif
