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

/* Softmax over the last axis of (rows, n). Few rows too long for shared memory are split across blocks; they need
 * lc_cu_softmax_scratch(rows, n) bytes of scratch (0: none, scratch may be NULL). */
size_t lc_cu_softmax_scratch(int64_t rows, int64_t n);
int lc_cu_softmax(lc_cu_stream s, int dtype, void *out, const void *x, int64_t rows, int64_t n, void *scratch);
/* LayerNorm over the last axis of (rows, n) of x (+ residual when res != NULL), optional w and b. */
int lc_cu_layer_norm(lc_cu_stream s, int dtype, void *out, const void *x, const void *res, const void *w, const void *b,
                     int64_t rows, int64_t n, float eps);

/* Reduce a contiguous (outer, n, inner) array over n. kind: 0 sum, 1 mean, 2 max, 3 argmax (i64 out).
 * scratch holds lc_cu_reduce_scratch(...) bytes (few long rows are reduced in two passes). */
int lc_cu_reduce(lc_cu_stream s, int kind, int dtype, void *out, const void *x, int64_t outer, int64_t n, int64_t inner, void *scratch);

/* out (n, d) = table[ids[i]] (rows of d elements of esize bytes); ids i32 or i64 (id_dtype).
 * An id outside [0, v) writes zeros and sets *bad_flag (device-visible host memory) to
 * LC_CU_BAD_EMBEDDING. */
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

/* Codes the kernels write into the device's bad-input flag (lc_cuda_dev.bad_dev). */
#define LC_CU_BAD_EMBEDDING 1
#define LC_CU_BAD_GATHER 2
#define LC_CU_BAD_SCATTER 3

/* Gather / scatter (torch semantics, ops_extra.cu). The index (i64, contiguous, shape ishape) has
 * the data array's rank; position i's element in the data array is at its coordinates times
 * astride (the data's contiguous strides) with the index value on `axis`; scatter reads src at
 * the coordinates times sstride. An index outside [0, alen) sets *bad_flag. */
typedef struct lc_cu_index_args {
    int ndim, axis;
    int64_t ishape[LC_CU_MAX_DIMS], astride[LC_CU_MAX_DIMS], sstride[LC_CU_MAX_DIMS];
    int64_t alen, n, an, sn; /* data size on the axis, index elements, data elements, src elements (0: none) */
} lc_cu_index_args;
/* out (ishape) = a[...]; elements of esize bytes; out-of-range positions get zeros. */
int lc_cu_gather(lc_cu_stream s, size_t esize, void *out, const void *a, const int64_t *idx, const lc_cu_index_args *g, int *bad_flag);
/* out holds a copy of the data array; writes src into it. scratch: lc_cu_scatter_scratch bytes. */
size_t lc_cu_scatter_scratch(const lc_cu_index_args *g);
int lc_cu_scatter(lc_cu_stream s, size_t esize, void *out, const void *src, const int64_t *idx, const lc_cu_index_args *g, void *scratch,
                  int *bad_flag);

/* Binary cross-entropy, mean over n elements, into the scalar out. scratch: lc_cu_bce_scratch bytes. */
size_t lc_cu_bce_scratch(int64_t n);
int lc_cu_bce(lc_cu_stream s, int dtype, void *out, const void *p, const void *y, int64_t n, void *scratch);

/* Sort each of `rows` contiguous rows of n elements ascending (NaN last) into out. The scratch
 * size comes from lc_cu_sort_scratch (which returns a CUDA error code; 0 bytes for rows of at most
 * 2048 elements, which are sorted in shared memory). */
int lc_cu_sort_scratch(int64_t rows, int64_t n, size_t *bytes);
int lc_cu_sort(lc_cu_stream s, int dtype, void *out, const void *x, int64_t rows, int64_t n, void *scratch, size_t bytes);

/* Convolution geometry (x (N, C, H, W), weight (O, C, KH, KW); conv1d is H = KH = 1, pad_h = 0). */
typedef struct lc_cu_conv_args {
    int64_t C, H, W, KH, KW, Hout, Wout, stride, pad_h, pad_w;
} lc_cu_conv_args;
/* cols (nimg, C KH KW, Hout Wout) from nimg contiguous images of x; zeros outside the image. */
int lc_cu_im2col(lc_cu_stream s, size_t esize, void *cols, const void *x, const lc_cu_conv_args *c, int64_t nimg);

/* Scratch bytes lc_cu_reduce needs for this problem (0: none). */
size_t lc_cu_reduce_scratch(int64_t outer, int64_t n, int64_t inner);

/* Fill n elements with a constant. */
int lc_cu_fill(lc_cu_stream s, int dtype, void *out, int64_t n, float value);

#ifdef __cplusplus
}
#endif
#endif
