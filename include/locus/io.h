/* Loaders: safetensors (mmap, validated), JSON files, Hugging Face model directories. */
#ifndef LOCUS_IO_H
#define LOCUS_IO_H
#include "../locus.h"
#ifdef __cplusplus
extern "C" {
#endif

/* A safetensors file mapped read-only. Every header is validated strictly on open: header length
 * bounds, JSON shape, known dtypes, byte sizes with checked arithmetic, offsets inside the data
 * section, no overlaps, no duplicate names. */
typedef struct lc_safetensors lc_safetensors;

lc_status lc_safetensors_open(const char *path, lc_safetensors **out);
void lc_safetensors_close(lc_safetensors *st); /* arrays obtained from it stay valid */
size_t lc_safetensors_count(const lc_safetensors *st);
const char *lc_safetensors_name(const lc_safetensors *st, size_t i);
bool lc_safetensors_has(const lc_safetensors *st, const char *name);
/* Tensor as an array. F32/F16/BF16/I32/I64 map without a copy (the mapping is kept alive by the
 * array); other dtypes are LC_ERR_UNSUPPORTED naming the tensor. */
lc_status lc_safetensors_get(lc_safetensors *st, const char *name, lc_array **out);
/* Header metadata value ("__metadata__" entries) or NULL. */
const char *lc_safetensors_metadata(const lc_safetensors *st, const char *key);

#ifdef __cplusplus
}
#endif
#endif
