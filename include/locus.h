/*
 * locus: on-device inference, measurement and media authenticity in C.
 *
 * Public API. Conventions:
 *   - every function that can fail returns an lc_status; LC_OK is 0;
 *   - lc_last_error() returns a readable message for the last failure on the calling thread
 *     (it names the file and the cause where there is one);
 *   - handles are opaque; objects returned through an out-pointer belong to the caller and are
 *     released with the matching _release/_free call;
 *   - arrays are logical values: where their bytes live (host memory, a GPU) is the runtime's
 *     business. An op runs on the device of its inputs and makes them resident there; callers
 *     never copy by hand.
 */
#ifndef LOCUS_H
#define LOCUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LOCUS_VERSION "0.1.0"

/* ------------------------------------------------------------------------------------------ */
/* Status and errors                                                                          */
/* ------------------------------------------------------------------------------------------ */
typedef enum lc_status {
    LC_OK = 0,
    LC_ERR_ARG = 1,         /* invalid argument (NULL, out of range, wrong combination) */
    LC_ERR_IO = 2,          /* a file could not be opened, read, mapped or written */
    LC_ERR_FORMAT = 3,      /* malformed input: JSON, safetensors, tokenizer, image, C2PA ... */
    LC_ERR_NOMEM = 4,       /* allocation failed or a size overflowed */
    LC_ERR_UNSUPPORTED = 5, /* valid input that locus does not handle (unknown component, dtype) */
    LC_ERR_SHAPE = 6,       /* shapes or dtypes of operands do not fit the op */
    LC_ERR_DEVICE = 7,      /* a device (GPU) call failed or no such device */
    LC_ERR_INTERNAL = 8
} lc_status;

/* Message of the last error on this thread ("" if none). */
const char *lc_last_error(void);
/* Short name of a status ("format error", ...). */
const char *lc_status_string(lc_status s);
/* Record an error message (printf-style) and return `s`; used by locus and by extensions. */
lc_status lc_error(lc_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void lc_clear_error(void);
/* Is s[0..len) well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)? */
bool lc_utf8_valid(const char *s, size_t len);

/* ------------------------------------------------------------------------------------------ */
/* Runtime                                                                                    */
/* ------------------------------------------------------------------------------------------ */
typedef enum lc_dtype { LC_F32 = 0, LC_F16 = 1, LC_BF16 = 2, LC_I32 = 3, LC_I64 = 4, LC_DTYPE_COUNT } lc_dtype;
size_t lc_dtype_size(lc_dtype t);
const char *lc_dtype_name(lc_dtype t);
/* Parse "f32", "float32", "f16", "float16", "bf16", "bfloat16", "i32", "int32", "i64", "int64". */
lc_status lc_dtype_parse(const char *name, lc_dtype *out);

typedef enum lc_device_kind { LC_DEVICE_CPU = 0, LC_DEVICE_CUDA = 1, LC_DEVICE_KIND_COUNT } lc_device_kind;
typedef struct lc_device {
    lc_device_kind kind;
    int index;
} lc_device;
#define LC_CPU ((lc_device){LC_DEVICE_CPU, 0})
#define LC_CUDA0 ((lc_device){LC_DEVICE_CUDA, 0})

/* Parse "cpu", "cuda", "cuda:1". */
lc_status lc_device_parse(const char *name, lc_device *out);
/* Is this device compiled in and present? */
bool lc_device_available(lc_device d);
/* Number of CUDA devices visible (0 when CUDA is not compiled in or no GPU). */
int lc_cuda_device_count(void);
/* Name of a device ("cpu", "NVIDIA H100 80GB HBM3"...) into buf. */
lc_status lc_device_describe(lc_device d, char *buf, size_t len);

/* CPU threads used by locus kernels and by the BLAS (default: online cores). */
void lc_set_num_threads(int n);
int lc_get_num_threads(void);
/* BLAS in use ("openblas 0.3.21 pthread", "blis ..."). */
const char *lc_blas_name(void);
/* Build facts for `locus info`. */
bool lc_cuda_compiled(void);
/* cuDNN's version ("9.19.0") when the CUDA backend was built with it (GPU convolutions), else NULL. */
const char *lc_cudnn_version(void);
const char *lc_version(void);
const char *lc_git_commit(void);

/* Bytes copied between host and devices since start (for the bench). */
typedef struct lc_transfer_stats {
    uint64_t host_to_device_bytes, device_to_host_bytes;
    uint64_t host_to_device_copies, device_to_host_copies;
} lc_transfer_stats;
void lc_transfer_stats_get(lc_transfer_stats *out);
/* Wait for every queued device operation to finish. */
lc_status lc_synchronize(lc_device d);

/* ------------------------------------------------------------------------------------------ */
/* Arrays                                                                                     */
/* ------------------------------------------------------------------------------------------ */
#define LC_MAX_DIMS 8
typedef struct lc_array lc_array;

/* New uninitialised / zeroed contiguous array on a device. */
lc_status lc_array_empty(lc_dtype t, int ndim, const int64_t *shape, lc_device d, lc_array **out);
lc_status lc_array_zeros(lc_dtype t, int ndim, const int64_t *shape, lc_device d, lc_array **out);
/* Copy host data (contiguous, row-major, of dtype t) into a new array on the CPU. */
lc_status lc_array_from_data(lc_dtype t, int ndim, const int64_t *shape, const void *data, lc_array **out);
/* Wrap host memory without copying; `release(ctx)` is called when the last reference goes
 * (release may be NULL when the memory outlives the array, e.g. an mmap owned elsewhere). */
lc_status lc_array_wrap(lc_dtype t, int ndim, const int64_t *shape, void *data,
                        void (*release)(void *ctx), void *ctx, lc_array **out);
/* Fill with uniform random values in [lo, hi) from a seeded generator (synthetic weights). */
lc_status lc_array_rand(lc_dtype t, int ndim, const int64_t *shape, float lo, float hi, uint64_t seed,
                        lc_device d, lc_array **out);

void lc_array_retain(lc_array *a);
void lc_array_release(lc_array *a); /* NULL is fine */

int lc_array_ndim(const lc_array *a);
int64_t lc_array_dim(const lc_array *a, int axis); /* negative axis counts from the end */
const int64_t *lc_array_shape(const lc_array *a);
const int64_t *lc_array_strides(const lc_array *a); /* in elements */
int64_t lc_array_numel(const lc_array *a);
size_t lc_array_nbytes(const lc_array *a);
lc_dtype lc_array_dtype(const lc_array *a);
lc_device lc_array_device(const lc_array *a);
bool lc_array_is_contiguous(const lc_array *a);

/* Host pointer to the first element, after making the array resident on the host.
 * The array must be contiguous (use lc_contiguous first otherwise). */
lc_status lc_array_host_data(lc_array *a, void **data);
/* Convert to f32 and copy the (logically ordered) elements into dst[n], n == numel. */
lc_status lc_array_read_f32(lc_array *a, float *dst, size_t n);
/* Same for integer arrays into int64. */
lc_status lc_array_read_i64(lc_array *a, int64_t *dst, size_t n);

/* Copy to another device (returns a new reference to `a` itself when already there). */
lc_status lc_array_to(lc_array *a, lc_device d, lc_array **out);
lc_status lc_astype(lc_array *a, lc_dtype t, lc_array **out);
lc_status lc_contiguous(lc_array *a, lc_array **out);

/* Views: share the buffer, no copy. */
lc_status lc_reshape(lc_array *a, int ndim, const int64_t *shape, lc_array **out); /* one -1 allowed */
lc_status lc_transpose(lc_array *a, int axis0, int axis1, lc_array **out);
lc_status lc_permute(lc_array *a, const int *axes, lc_array **out);
lc_status lc_slice(lc_array *a, int axis, int64_t start, int64_t stop, lc_array **out);

/* ------------------------------------------------------------------------------------------ */
/* Ops. Each returns a new contiguous array on the device of its inputs.                      */
/* Float ops accept f32, f16 and bf16 (computed in f32, stored in the input dtype).           */
/* ------------------------------------------------------------------------------------------ */
/* (..., M, K) x (..., K, N) -> (..., M, N); batch dimensions broadcast. */
lc_status lc_matmul(lc_array *a, lc_array *b, lc_array **out);
/* x (..., K), weight (N, K) as stored by PyTorch, bias (N) or NULL -> (..., N). */
lc_status lc_linear(lc_array *x, lc_array *weight, lc_array *bias, lc_array **out);
/* Same with GELU (erf) applied to the result, fused where the backend can. */
lc_status lc_linear_gelu(lc_array *x, lc_array *weight, lc_array *bias, lc_array **out);
/* x W^T + bias + residual (residual: the output's shape and dtype, or NULL), the add fused where the backend can. */
lc_status lc_linear_add(lc_array *x, lc_array *weight, lc_array *bias, lc_array *residual, lc_array **out);

/* Elementwise with NumPy broadcasting. */
lc_status lc_add(lc_array *a, lc_array *b, lc_array **out);
lc_status lc_sub(lc_array *a, lc_array *b, lc_array **out);
lc_status lc_mul(lc_array *a, lc_array *b, lc_array **out);
lc_status lc_div(lc_array *a, lc_array *b, lc_array **out);
lc_status lc_scale(lc_array *a, float s, lc_array **out); /* a * s */

/* Unary activations. */
lc_status lc_gelu(lc_array *a, lc_array **out);      /* exact: 0.5 x (1 + erf(x / sqrt 2)) */
lc_status lc_gelu_tanh(lc_array *a, lc_array **out); /* tanh approximation */
lc_status lc_relu(lc_array *a, lc_array **out);
lc_status lc_leaky_relu(lc_array *a, float negative_slope, lc_array **out);
lc_status lc_prelu(lc_array *a, lc_array *weight, lc_array **out); /* weight: (1) or (C), C = dim 1 */
lc_status lc_selu(lc_array *a, lc_array **out);
lc_status lc_sigmoid(lc_array *a, lc_array **out);
lc_status lc_softplus(lc_array *a, float beta, float threshold, lc_array **out);
lc_status lc_tanh(lc_array *a, lc_array **out);
lc_status lc_exp(lc_array *a, lc_array **out);

/* Normalisation. */
lc_status lc_softmax(lc_array *a, int axis, lc_array **out);
lc_status lc_layer_norm(lc_array *x, lc_array *weight, lc_array *bias, float eps, lc_array **out); /* last axis */
/* layer_norm(x + residual): the fused form every transformer block uses. */
lc_status lc_add_layer_norm(lc_array *x, lc_array *residual, lc_array *weight, lc_array *bias, float eps,
                            lc_array **out);

/* Reductions. */
lc_status lc_sum(lc_array *a, int axis, bool keepdim, lc_array **out);
lc_status lc_sum_all(lc_array *a, lc_array **out); /* -> shape () */
lc_status lc_mean(lc_array *a, int axis, bool keepdim, lc_array **out);
lc_status lc_max(lc_array *a, int axis, bool keepdim, lc_array **out);
lc_status lc_argmax(lc_array *a, int axis, bool keepdim, lc_array **out); /* -> i64 */
lc_status lc_sort(lc_array *a, int axis, lc_array **out);                 /* ascending */

/* Indexing. */
lc_status lc_concat(int n, lc_array *const *arrays, int axis, lc_array **out);
/* table (V, D), ids (...) i32/i64 -> (..., D); out-of-range ids are an error. On a GPU the error
 * comes from the next call that waits for the device (lc_synchronize, reading a result), as it
 * does for out-of-range gather and scatter indices there. */
lc_status lc_embedding(lc_array *table, lc_array *ids, lc_array **out);
/* torch.gather: out[i][j] = a[i][index[i][j]] along axis. */
lc_status lc_gather(lc_array *a, int axis, lc_array *index, lc_array **out);
/* torch.Tensor.scatter (non-inplace): copy of a with out[index[i][j]] = src[i][j] along axis;
 * where several positions aim at one element, the last in index order wins. */
lc_status lc_scatter(lc_array *a, int axis, lc_array *index, lc_array *src, lc_array **out);

/* Loss: mean binary cross-entropy of probabilities p against targets y (same shape). */
lc_status lc_bce(lc_array *p, lc_array *y, lc_array **out);

/* Convolutions (PyTorch layouts, no dilation/groups): x (N, C, L) w (O, C, K); x (N, C, H, W) w (O, C, KH, KW). */
lc_status lc_conv1d(lc_array *x, lc_array *w, lc_array *bias, int stride, int padding, lc_array **out);
lc_status lc_conv2d(lc_array *x, lc_array *w, lc_array *bias, int stride, int padding, lc_array **out);

/* Scaled dot-product attention. q (B, H, Tq, D), k and v (B, H, Tk, D); mask NULL or (B, Tk)
 * with 1 for tokens to attend and 0 for padding (any int or float dtype); scale <= 0 means
 * 1/sqrt(D). -> (B, H, Tq, D). */
lc_status lc_attention(lc_array *q, lc_array *k, lc_array *v, lc_array *mask, float scale, lc_array **out);

#ifdef __cplusplus
}
#endif

#include "locus/io.h"
#include "locus/tokenizer.h"
#include "locus/model.h"
#include "locus/image.h"
#include "locus/c2pa.h"
#include "locus/c2pa_sign.h"
#include "locus/bench.h"

#endif /* LOCUS_H */
