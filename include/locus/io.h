/* Loaders: safetensors (mmap, validated), JSON files, Hugging Face model directories. */
#ifndef LOCUS_IO_H
#define LOCUS_IO_H
#include "../locus.h"
#ifdef __cplusplus
extern "C" {
#endif

/* A safetensors file mapped read-only. Every header is validated strictly on open: header length
 * bounds, JSON shape, known dtypes, byte sizes with checked arithmetic, offsets inside the data
 * section, no overlaps, no gaps, no duplicate names, valid UTF-8.
 *
 * Limits: the JSON header is at most LC_SAFETENSORS_MAX_HEADER bytes (the format's own limit);
 * every dimension and every offset must be below 2^53 (JSON numbers are read exactly up to
 * there). Errors are one line: "<file>: <problem>".
 * As with any memory-mapped loader (the safetensors library's own included), the file must not
 * be truncated or rewritten in place while arrays from it are in use: reading a page that is
 * gone raises SIGBUS. Write a new file and rename it over the old one instead. */
#define LC_SAFETENSORS_MAX_HEADER (100u * 1024u * 1024u)

typedef struct lc_safetensors lc_safetensors;

lc_status lc_safetensors_open(const char *path, lc_safetensors **out);
/* Same from bytes in memory (copied; `name` labels error messages, NULL gives "<memory>"). */
lc_status lc_safetensors_open_memory(const void *data, size_t size, const char *name, lc_safetensors **out);
/* A sharded checkpoint: `path` is a model directory holding model.safetensors or
 * model.safetensors.index.json (its "weight_map" names the shard of every tensor), or the path of
 * a .safetensors file or of an index file. Every shard is opened and validated; a name present in
 * two shards, or a weight_map entry naming a tensor its shard lacks, is an error. The result
 * behaves as one file (lc_safetensors_name counts over all shards). */
lc_status lc_safetensors_open_dir(const char *path, lc_safetensors **out);
void lc_safetensors_close(lc_safetensors *st); /* arrays obtained from it stay valid */
size_t lc_safetensors_count(const lc_safetensors *st);
const char *lc_safetensors_name(const lc_safetensors *st, size_t i);
bool lc_safetensors_has(const lc_safetensors *st, const char *name);
/* Tensor as an array. F32/F16/BF16/I32/I64 map without a copy (the mapping is kept alive by the
 * array; a tensor whose bytes are not aligned to its element size is copied instead); other
 * dtypes are LC_ERR_UNSUPPORTED naming the tensor. A missing name is LC_ERR_ARG. */
lc_status lc_safetensors_get(lc_safetensors *st, const char *name, lc_array **out);
/* Facts about a tensor without making an array: dtype as written in the file ("F32", "U8" ...),
 * rank and shape (pointer valid while `st` is open). Any out-pointer may be NULL. */
lc_status lc_safetensors_info(const lc_safetensors *st, const char *name, const char **dtype, int *ndim,
                              const int64_t **shape);
/* Header metadata value ("__metadata__" entries) or NULL. */
const char *lc_safetensors_metadata(const lc_safetensors *st, const char *key);

#ifdef __cplusplus
}
#endif
#endif
