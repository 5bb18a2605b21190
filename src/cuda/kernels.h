/* CUDA kernels of the locus backend: a plain C interface between the backend (backend.c, which
 * reads the op records) and the .cu files. Everything here is stream-ordered on the stream given;
 * each launcher returns a cudaError_t (cast to int) so that the caller can name the op that failed.
 *
 * Dtype codes are lc_dtype's (0 f32, 1 f16, 2 bf16, 3 i32, 4 i64). Float kernels load f16/bf16,
 * compute in f32 and store in the output dtype, like the CPU backend. */
#ifndef LOCUS_CUDA_KERNELS_H
#define LOCUS_CUDA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CUstream_st *lc_cu_stream;

#define LC_CU_MAX_DIMS 8
/* A strided view: shape and element strides (0 for broadcast dimensions). */
typedef struct lc_cu_view {
    int ndim;
    int64_t shape[LC_CU_MAX_DIMS];
    int64_t strides[LC_CU_MAX_DIMS];
} lc_cu_view;

/* dst (view, dtype dt) = src (view, dtype st), element by element in logical order; any pair of
 * dtypes (f32, f16, bf16, i32, i64). Shapes have the same element count and rank. */
int lc_cu_copy(lc_cu_stream s, void *dst, int dt, const lc_cu_view *dv, const void *src, int st, const lc_cu_view *sv);

/* out (contiguous, shape of ov) = a op b, a and b broadcast views of that shape. op: 0 add, 1 sub,
 * 2 mul, 3 div. */
int lc_cu_binary(lc_cu_stream s, int op, int dtype, void *out, const lc_cu_view *ov, const void *a, const lc_cu_view *av,
                 const void *b, const lc_cu_view *bv);

/* Unary on n contiguous elements; kind is lc_unary_kind, p0 and p1 its parameters. */
int lc_cu_unary(lc_cu_stream s, int kind, int dtype, void *out, const void *in, int64_t n, float p0, float p1);
/* Exact (erf) GELU in place on (rows, n) with an optional bias (n) added first. */
int lc_cu_bias_gelu(lc_cu_stream s, int dtype, void *x, const void *bias, int64_t rows, int64_t n, int gelu);

/* PReLU: x contiguous with channel dimension of size c and inner size `inner` (elements after it);
 * weight (c) or (1) when wn == 1. */
int lc_cu_prelu(lc_cu_stream s, int dtype, void *out, const void *x, const void *w, int64_t n, int64_t c, int64_t inner,
                int64_t wn);

/* Softmax over the last axis of (rows, n). */
int lc_cu_softmax(lc_cu_stream s, int dtype, void *out, const void *x, int64_t rows, int64_t n);
/* LayerNorm over the last axis of (rows, n) of x (+ residual when res != NULL), optional w and b. */
int lc_cu_layer_norm(lc_cu_stream s, int dtype, void *out, const void *x, const void *res, const void *w, const void *b,
                     int64_t rows, int64_t n, float eps);

/* Reduce a contiguous (outer, n, inner) array over n. kind: 0 sum, 1 mean, 2 max, 3 argmax (i64 out). */
int lc_cu_reduce(lc_cu_stream s, int kind, int dtype, void *out, const void *x, int64_t outer, int64_t n, int64_t inner);

/* out (n, d) = table[ids[i]] (rows of d elements of esize bytes); ids i32 or i64 (id_dtype).
 * An id outside [0, v) writes zeros and sets *bad_flag (device-visible host memory) to 1. */
int lc_cu_embedding(lc_cu_stream s, void *out, const void *table, size_t esize, int64_t v, int64_t d, const void *ids,
                    int id_dtype, int64_t n, int *bad_flag);

/* Fused embedding sum and LayerNorm: for token (b, t):
 *   x = word[wid] + pos[pid] + type[tid], out = layer_norm(x) * w + b.
 * pos_ids NULL means pid = t + pos_offset; type table or ids NULL means type row 0 or none. */
typedef struct lc_cu_embed_args {
    const void *word, *pos, *type; /* tables (rows, d) of the compute dtype; pos/type may be NULL */
    int64_t word_rows, pos_rows, type_rows;
    const void *word_ids, *pos_ids, *type_ids; /* (B, T) of ids_dtype; pos_ids/type_ids may be NULL */
    int ids_dtype;
    int64_t pos_offset;
    const void *ln_w, *ln_b; /* (d) or NULL */
    float eps;
    int64_t batch, seq, d;
} lc_cu_embed_args;
int lc_cu_embed_layer_norm(lc_cu_stream s, int dtype, void *out, const lc_cu_embed_args *a, int *bad_flag);

/* Attention: q (B, H, Tq, D), k, v (B, H, Tk, D), out (B, H, Tq, D), each with element strides
 * for B, H, T (D contiguous); mask (B, Tk) f32 (1 keep, 0 drop) or NULL. One pass, online
 * softmax: no (Tq, Tk) score matrix in memory. A row with every key masked gives zeros. */
typedef struct lc_cu_attn_args {
    const void *q, *k, *v;
    void *out;
    const float *mask;
    int64_t B, H, Tq, Tk, D;
    int64_t qs[3], ks[3], vs[3], os[3]; /* strides of B, H, T in elements */
    float scale;
} lc_cu_attn_args;
int lc_cu_attention(lc_cu_stream s, int dtype, const lc_cu_attn_args *a);
/* The same through the plain (CUDA-core) kernel only: the reference the tests hold the
 * tensor-core kernel to. */
int lc_cu_attention_reference(lc_cu_stream s, int dtype, const lc_cu_attn_args *a);
/* f32 inputs on tensor cores (sm_80+, head size 32, 64 or 128, 16-byte aligned q/k/v and strides):
 * tf32 != 0 one TF32 product per MMA, else the 3xTF32 split (about f32 accuracy). Returns
 * cudaErrorNotSupported when it cannot take the case (or LOCUS_CUDA_ATTENTION_F32=plain). */
int lc_cu_attention_f32tc(lc_cu_stream s, const lc_cu_attn_args *a, int tf32);

/* f32 linear layers with few rows on the tensor cores at f32 accuracy (3xTF32 split, gemm_f32.cu):
 * out (M, N) = x (M, K) w (N, K)^T + bias [GELU (exact erf) when gelu] [+ residual (M, N)], all
 * contiguous f32, 16-byte aligned; bias and residual may be NULL. */
typedef struct lc_cu_gemm_f32x3_args {
    const void *x, *w, *bias, *residual;
    void *out;
    int64_t M, N, K;
    int gelu;
} lc_cu_gemm_f32x3_args;
/* The configurations (tile shape and split-K factor) that can run an (M, N, K) problem on the
 * current device, at most max of them. */
int lc_cu_gemm_f32x3_configs(int64_t M, int64_t N, int64_t K, int *configs, int max);
/* Runs one configuration; cudaErrorNotSupported when it cannot take the problem. */
int lc_cu_gemm_f32x3(lc_cu_stream s, const lc_cu_gemm_f32x3_args *a, int config);

/* Fill n elements with a constant. */
int lc_cu_fill(lc_cu_stream s, int dtype, void *out, int64_t n, float value);

#ifdef __cplusplus
}
#endif
#endif
