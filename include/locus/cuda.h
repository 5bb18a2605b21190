/* CUDA-specific controls: math mode, device timing, CUDA graphs and the fused embedding.
 *
 * These functions exist only when the library was built with the CUDA backend; code that calls
 * them guards the calls with `#ifdef LOCUS_WITH_CUDA` (a public compile definition of the
 * library target) and checks lc_cuda_device_count() at run time. Everything else about CUDA
 * goes through the ordinary API with an lc_device of kind LC_DEVICE_CUDA ("--device cuda").
 *
 * Memory: plain device allocations from a stream-ordered pool (cudaMallocAsync on one stream
 * per device; the pool keeps freed memory for reuse), never managed memory. All work of a device
 * is ordered on that one stream, so a host thread sees results after lc_synchronize() or after
 * reading an array back (lc_array_read_f32 and friends synchronise).
 *
 * Environment (read by the CUDA backend):
 *   LOCUS_CUDA_MATH=tf32         f32 GEMMs in TF32 (same as lc_cuda_set_math_mode below)
 *   LOCUS_CUDA_GRAPHS=0          run forwards directly instead of capturing CUDA graphs
 *   LOCUS_CUDA_AUTOTUNE=0        take cuBLASLt's first algorithm instead of timing its candidates
 *   LOCUS_CUDA_EXACT_GELU=1      f16/bf16 linear+GELU with the exact erf GELU in a separate pass
 *                                (default: cuBLASLt's fused GELU epilogue; f32 always uses erf)
 *   LOCUS_CUDA_ATTENTION=wmma|plain  an older or the CUDA-core attention kernel, for comparisons
 *   LOCUS_CUDA_ROW_THREADS=N     threads per row of the LayerNorm/softmax kernels (default 256)
 *   LOCUS_CUDA_CONV=im2col|cudnn convolutions by im2col + one cuBLASLt GEMM only, or by cuDNN only
 *                                (default: whichever timed faster for the shape on its first call)
 *   LOCUS_CUDA_CONV_TUNE=0       cuDNN's heuristic convolution algorithm instead of timing candidates
 *   LOCUS_CUDA_CONV_LOG=1        print each convolution shape's timed candidates
 * Every op of the API has a CUDA kernel for float data; an op with none for its dtypes runs on the
 * host through the CPU backend, its bytes counted in lc_transfer_stats. */
#ifndef LOCUS_CUDA_H
#define LOCUS_CUDA_H
#include "../locus.h"
#ifdef __cplusplus
extern "C" {
#endif

/* ---- math mode ------------------------------------------------------------------------------ */
typedef enum lc_cuda_math {
    LC_CUDA_MATH_DEFAULT = 0, /* f32 GEMMs at f32 accuracy: cuBLASLt's f32 kernels, or for few rows locus's
                                 3xTF32 tensor-core kernel where it times faster (parity 1e-4 with the CPU) */
    LC_CUDA_MATH_TF32 = 1     /* f32 GEMMs on the tensor cores in TF32 (parity about 1e-3) */
} lc_cuda_math;
/* Process-wide; also set at start-up by the environment: LOCUS_CUDA_MATH=tf32.
 * f16 and bf16 GEMMs always accumulate in f32. */
void lc_cuda_set_math_mode(lc_cuda_math mode);
lc_cuda_math lc_cuda_get_math_mode(void);
/* f32 linear layers run by locus's 3xTF32 tensor-core kernel (few rows, default math mode) instead
 * of cuBLASLt since the process started: a diagnostic of which path the GEMM timing chose. */
int64_t lc_cuda_f32_gemm_count(void);
/* GEMM plans whose algorithm came from the on-disk cache of searched choices (see README,
 * LOCUS_CUDA_GEMM_CACHE) since the process started, and a way to forget every plan (the next GEMM
 * of each shape plans again and re-reads the cache file): diagnostics and test hooks. */
int64_t lc_cuda_gemm_cache_hits(void);
void lc_cuda_gemm_forget_plans(void);
/* How many convolutions ran through cuDNN since the process started (the others took im2col +
 * GEMM); lc_cudnn_version() in locus.h says whether it is compiled in. */
int64_t lc_cuda_cudnn_conv_count(void);

/* ---- device timing -------------------------------------------------------------------------- */
/* An event recorded on the device's stream; elapsed time between two events is device time. */
typedef struct lc_cuda_event lc_cuda_event;
lc_status lc_cuda_event_record(lc_device d, lc_cuda_event **out);
/* Milliseconds between two recorded events (waits for `end`). */
lc_status lc_cuda_event_elapsed_ms(lc_cuda_event *start, lc_cuda_event *end, double *ms);
void lc_cuda_event_free(lc_cuda_event *e);

/* Device facts for reports: multiprocessors, memory, clocks, compute capability. */
typedef struct lc_cuda_device_info {
    char name[128];
    int major, minor, multiprocessors;
    size_t total_memory, l2_bytes;
    double memory_bus_gbps; /* theoretical DRAM bandwidth from the clock and the bus width */
} lc_cuda_device_info;
lc_status lc_cuda_device_info_get(int index, lc_cuda_device_info *out);

/* ---- CUDA graphs ---------------------------------------------------------------------------- */
/* A forward function of a model: reads `in[0..nin)` (arrays on the device; entries may be NULL)
 * and writes new arrays into `out[0..nout)` (entries may be left NULL). */
typedef lc_status (*lc_cuda_forward_fn)(void *ctx, lc_array *const *in, lc_array **out);

/* A cache of captured graphs, one per bucket (the shapes and dtypes of the inputs and which of
 * them are NULL: for a text encoder, one per (batch, sequence) pair).
 *
 * lc_cuda_graph_run(cache, fn, ctx, in, out):
 *   - first call for a bucket: runs fn directly (a shape met once costs one ordinary forward);
 *   - second call: copies the inputs into arrays owned by the bucket, runs fn once normally
 *     (uploads weights, plans GEMMs), then captures fn into a CUDA graph on the device's stream
 *     and instantiates it; at most 64 buckets are captured, further shapes run directly;
 *   - every call: copies the inputs into the bucket's arrays (bytes counted in the transfer
 *     stats when they come from the host), replays the graph, and returns fresh arrays holding
 *     copies of the outputs (the caller owns them; a later replay does not change them).
 * fn must be deterministic in the ops it issues for a bucket and must not read device results
 * back to the host (during capture that fails with LC_ERR_DEVICE and the bucket falls back to
 * running fn directly). Host arrays fn creates (position ids, say) are captured as constants.
 * Set LOCUS_CUDA_GRAPHS=0 in the environment to run fn directly every time.
 *
 * lc_cuda_graph_cache_batch_major(cache) declares that every input and output of fn leads with
 * the batch and that batch items are computed independently (an encoder's sequences, a
 * classifier's images). Such a cache may capture a batch as several forwards of consecutive
 * sub-batches on parallel branches of one graph, which the GPU runs concurrently; the outputs
 * are concatenated. By default a batch of 128 or more is split in two; LOCUS_CUDA_GRAPH_SPLIT=N
 * (1 to 4) sets the number of sub-batches. */
typedef struct lc_cuda_graph_cache lc_cuda_graph_cache;
lc_status lc_cuda_graph_cache_new(lc_device d, int nin, int nout, lc_cuda_graph_cache **out);
void lc_cuda_graph_cache_free(lc_cuda_graph_cache *c); /* NULL is fine */
void lc_cuda_graph_cache_batch_major(lc_cuda_graph_cache *c);
lc_status lc_cuda_graph_run(lc_cuda_graph_cache *c, lc_cuda_forward_fn fn, void *ctx, lc_array *const *in,
                            lc_array **out);
/* Number of graphs captured so far, and replays done (for tests and the bench). */
int lc_cuda_graph_cache_size(const lc_cuda_graph_cache *c);
int64_t lc_cuda_graph_cache_replays(const lc_cuda_graph_cache *c);

/* ---- fused embeddings ----------------------------------------------------------------------- */
/* out (B, T, D) = layer_norm(word[ids] + pos[pos_ids] + type[type_ids]) * ln_w + ln_b in one
 * kernel (BERT, RoBERTa, XLM-R, DistilBERT embeddings). ids (B, T) i32/i64 on any device;
 * pos_ids NULL means position t + pos_offset; pos, type, type_ids, ln_w, ln_b may be NULL
 * (a NULL type table adds nothing; type_ids NULL with a table means type 0). Tables and the
 * LayerNorm parameters share one float dtype; the result has that dtype and lives on the device
 * of `word`, which must be a CUDA device. Ids outside a table are reported at the next
 * lc_synchronize() as LC_ERR_ARG (their rows are zero). */
lc_status lc_cuda_embed_layer_norm(lc_array *word, lc_array *ids, lc_array *pos, lc_array *pos_ids, int64_t pos_offset,
                                   lc_array *type, lc_array *type_ids, lc_array *ln_w, lc_array *ln_b, float eps,
                                   lc_array **out);

#ifdef __cplusplus
}
#endif
#endif
