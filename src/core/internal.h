/*
 * Internal core: the array and buffer structs, the op record, and the backend table.
 *
 * Model of residency (MLX's unified memory, adapted to discrete GPUs):
 *   - an array is a view (dtype, shape, strides, offset) of a reference-counted buffer;
 *   - a buffer is immutable once an op has produced it (ops are functional: each returns a new
 *     array), so a buffer may hold one copy per device kind, all equal. An op on device D asks for
 *     lc_buffer_ptr(buf, D): the first request uploads (counted in the transfer stats), later ones
 *     reuse the copy. Weights are therefore uploaded once and stay.
 *   - writing through lc_array_host_data() is allowed only to fill an array the caller just made,
 *     before any op reads it.
 */
#ifndef LOCUS_CORE_INTERNAL_H
#define LOCUS_CORE_INTERNAL_H

#include "locus.h"

#include <stdatomic.h>

typedef struct lc_buffer {
    atomic_int refcount;
    size_t nbytes;
    /* One copy per device kind (index 0 of each kind only, for now); NULL where absent. */
    void *data[LC_DEVICE_KIND_COUNT];
    int device_index[LC_DEVICE_KIND_COUNT];
    bool owned[LC_DEVICE_KIND_COUNT]; /* allocated by that backend's allocator */
    /* For host memory wrapped from outside (an mmap'd safetensors file): */
    void (*release)(void *ctx);
    void *release_ctx;
} lc_buffer;

struct lc_array {
    atomic_int refcount;
    lc_dtype dtype;
    int ndim;
    int64_t shape[LC_MAX_DIMS];
    int64_t strides[LC_MAX_DIMS]; /* elements; 0 for broadcast dimensions */
    int64_t offset;               /* elements from the start of the buffer */
    lc_device device;             /* where ops on this array run */
    lc_buffer *buf;
};

/* ---- ops as records a backend runs ------------------------------------------------------- */
typedef enum lc_op_kind {
    LC_OP_COPY,        /* in[0] strided -> out contiguous, dtype conversion allowed */
    LC_OP_MATMUL,      /* in[0] (..., M, K) in[1] (..., K, N), batch dims already broadcast */
    LC_OP_LINEAR,      /* in[0] (R, K) in[1] (N, K) in[2] bias or NULL, in[3] residual (R, N) or NULL;
                        * i[0] = 1 fuse GELU (never with a residual) */
    LC_OP_ADD,         /* binary ops: in[0], in[1] are views broadcast to out's shape */
    LC_OP_SUB,
    LC_OP_MUL,
    LC_OP_DIV,
    LC_OP_UNARY,       /* i[0] = lc_unary_kind, f[0..1] parameters */
    LC_OP_PRELU,       /* in[0] x, in[1] weight (C) or (1) */
    LC_OP_SOFTMAX,     /* last axis, contiguous (front end moves the axis) */
    LC_OP_LAYER_NORM,  /* in[0] x, in[1] residual or NULL, in[2] w, in[3] b; f[0] eps; last axis */
    LC_OP_REDUCE,      /* i[0] lc_reduce_kind, i[1] axis of a contiguous input */
    LC_OP_SORT,        /* last axis */
    LC_OP_CONCAT,      /* handled in the front end through copies into slices */
    LC_OP_EMBEDDING,   /* in[0] table (V, D), in[1] ids */
    LC_OP_GATHER,      /* in[0] a, in[1] index; i[0] axis */
    LC_OP_SCATTER,     /* in[0] a, in[1] index, in[2] src; i[0] axis */
    LC_OP_BCE,         /* in[0] p, in[1] y */
    LC_OP_CONV1D,      /* in[0] x, in[1] w, in[2] bias; i[0] stride, i[1] padding */
    LC_OP_CONV2D,
    LC_OP_ATTENTION,   /* in[0] q, in[1] k, in[2] v, in[3] mask or NULL; f[0] scale */
    LC_OP_FILL_RANDOM, /* out; f[0] lo, f[1] hi, i[0] seed */
    LC_OP_COUNT
} lc_op_kind;

typedef enum lc_unary_kind {
    LC_UNARY_GELU,
    LC_UNARY_GELU_TANH,
    LC_UNARY_RELU,
    LC_UNARY_LEAKY_RELU, /* f[0] slope */
    LC_UNARY_SELU,
    LC_UNARY_SIGMOID,
    LC_UNARY_SOFTPLUS, /* f[0] beta, f[1] threshold */
    LC_UNARY_TANH,
    LC_UNARY_EXP,
    LC_UNARY_SCALE, /* f[0] factor */
    LC_UNARY_COUNT
} lc_unary_kind;

typedef enum lc_reduce_kind { LC_REDUCE_SUM, LC_REDUCE_MEAN, LC_REDUCE_MAX, LC_REDUCE_ARGMAX } lc_reduce_kind;

typedef struct lc_op {
    lc_op_kind kind;
    lc_array *in[4]; /* resident on the op's device; NULL where unused */
    lc_array *out;   /* freshly allocated, contiguous, on the op's device */
    float f[4];
    int64_t i[4];
} lc_op;

/* ---- backends ---------------------------------------------------------------------------- */
typedef struct lc_backend {
    const char *name;
    int (*device_count)(void);
    lc_status (*describe)(int index, char *buf, size_t len);
    lc_status (*alloc)(int index, size_t bytes, void **ptr);
    void (*free)(int index, void *ptr, size_t bytes);
    lc_status (*upload)(int index, void *dst, const void *src, size_t bytes);   /* host -> device */
    lc_status (*download)(int index, void *dst, const void *src, size_t bytes); /* device -> host */
    lc_status (*synchronize)(int index);
    /* Run one op; LC_ERR_UNSUPPORTED when the backend lacks it (the message names the op). */
    lc_status (*run)(int index, const lc_op *op);
} lc_backend;

/* The backend of a device kind, or NULL when not compiled in. */
const lc_backend *lc_backend_for(lc_device_kind kind);
extern const lc_backend lc_cpu_backend;
#ifdef LOCUS_WITH_CUDA
extern const lc_backend lc_cuda_backend;
#endif

/* ---- helpers shared by the core, the backends and the models ------------------------------ */
const char *lc_op_name(lc_op_kind k);
/* Device pointer of a buffer on device d, uploading once if needed. */
lc_status lc_buffer_ptr(lc_buffer *b, lc_device d, void **ptr);
/* Pointer to element 0 of an array on its own device (the array's buffer must be resident). */
void *lc_array_ptr(const lc_array *a);
/* Allocate a new contiguous array (alias of lc_array_empty without the public checks). */
lc_status lc_array_alloc(lc_dtype t, int ndim, const int64_t *shape, lc_device d, lc_array **out);
/* `a` seen with `shape` (NumPy broadcasting: right-aligned, stride 0 where a has 1 or nothing). */
lc_status lc_broadcast_view(lc_array *a, int ndim, const int64_t *shape, lc_array **out);
/* Scaled dot-product attention into a caller-made `out` (any B/H/T strides, head dim contiguous):
 * the models attend on strided views of their projections and write (B, T, H*D) directly. */
lc_status lc_attention_into(lc_array *q, lc_array *k, lc_array *v, lc_array *mask, float scale, lc_array *out);
/* A view of a's buffer with explicit shape and strides (elements), `offset` elements past a's. */
lc_status lc_strided_view(lc_array *a, int ndim, const int64_t *shape, const int64_t *strides, int64_t offset, lc_array **out);
/* Run an op on the device of its output, after making every input resident there. */
lc_status lc_op_run(lc_op *op);
/* Row count of an array viewed as (rows, last dim). */
static inline int64_t lc_rows(const lc_array *a) {
    int64_t r = 1;
    for (int i = 0; i + 1 < a->ndim; i++) r *= a->shape[i];
    return r;
}
static inline bool lc_is_float(lc_dtype t) { return t == LC_F32 || t == LC_F16 || t == LC_BF16; }
static inline bool lc_is_int(lc_dtype t) { return t == LC_I32 || t == LC_I64; }

/* f16 / bf16 conversions (round to nearest even). */
static inline float lc_bf16_to_f32(uint16_t h) {
    union { uint32_t u; float f; } v = {.u = (uint32_t)h << 16};
    return v.f;
}
static inline uint16_t lc_f32_to_bf16(float f) {
    union { uint32_t u; float f; } v = {.f = f};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40); /* quiet NaN */
    uint32_t rounding = 0x7fffu + ((v.u >> 16) & 1u);
    return (uint16_t)((v.u + rounding) >> 16);
}
float lc_f16_to_f32(uint16_t h);
uint16_t lc_f32_to_f16(float f);

/* Read a whole file into a NUL-terminated malloc'd buffer; files over `limit` bytes are
 * LC_ERR_FORMAT naming the file. */
lc_status lc_read_file(const char *path, size_t limit, char **out, size_t *len);

/* Checked size arithmetic: false on overflow. */
static inline bool lc_mul_size(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }
static inline bool lc_add_size(size_t a, size_t b, size_t *out) { return !__builtin_add_overflow(a, b, out); }

#endif
