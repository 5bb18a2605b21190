/* Elementwise CUDA kernels: strided copy with dtype conversion, broadcast binary ops, unary
 * activations, bias + exact GELU, PReLU, fill, reductions, embedding gathers. Memory-bound: the
 * contiguous paths move 16 bytes per thread access where the alignment allows. */
#include "cuda/attention_common.cuh"
#include "cuda/common.cuh"

#include <math.h>

/* ---- copy ------------------------------------------------------------------------------------ */
__device__ __forceinline__ float load_any(const void *p, int t, int64_t i) {
    switch (t) {
    case LC_CU_F32: return ((const float *)p)[i];
    case LC_CU_F16: return __half2float(((const __half *)p)[i]);
    case LC_CU_BF16: return __bfloat162float(((const __nv_bfloat16 *)p)[i]);
    case LC_CU_I32: return (float)((const int32_t *)p)[i];
    default: return (float)((const int64_t *)p)[i];
    }
}

__device__ __forceinline__ void store_any(void *p, int t, int64_t i, float v) {
    switch (t) {
    case LC_CU_F32: ((float *)p)[i] = v; break;
    case LC_CU_F16: ((__half *)p)[i] = __float2half_rn(v); break;
    case LC_CU_BF16: ((__nv_bfloat16 *)p)[i] = __float2bfloat16_rn(v); break;
    case LC_CU_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    default: ((int64_t *)p)[i] = (int64_t)v; break;
    }
}

__device__ __forceinline__ int esize_of(int t) { return t == LC_CU_F32 || t == LC_CU_I32 ? 4 : t == LC_CU_I64 ? 8 : 2; }

__global__ void copy_kernel(void *dst, int dt, lc_cu_view dv, const void *src, int st, lc_cu_view sv, int64_t n,
                            int dst_contig, int src_contig) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t so = src_contig ? i : view_offset(sv, i), d = dst_contig ? i : view_offset(dv, i);
        if (st == dt) {
            switch (esize_of(st)) {
            case 2: ((uint16_t *)dst)[d] = ((const uint16_t *)src)[so]; break;
            case 4: ((uint32_t *)dst)[d] = ((const uint32_t *)src)[so]; break;
            default: ((uint64_t *)dst)[d] = ((const uint64_t *)src)[so]; break;
            }
        } else if (dt == LC_CU_I64 && st == LC_CU_I32) {
            ((int64_t *)dst)[d] = ((const int32_t *)src)[so];
        } else if (dt == LC_CU_I32 && st == LC_CU_I64) {
            ((int32_t *)dst)[d] = (int32_t)((const int64_t *)src)[so];
        } else {
            store_any(dst, dt, d, load_any(src, st, so));
        }
    }
}

static int view_contiguous(const lc_cu_view *v) {
    int64_t s = 1;
    for (int i = v->ndim - 1; i >= 0; i--) {
        if (v->shape[i] != 1 && v->strides[i] != s) return 0;
        s *= v->shape[i];
    }
    return 1;
}

static int64_t view_numel(const lc_cu_view *v) {
    int64_t n = 1;
    for (int i = 0; i < v->ndim; i++) n *= v->shape[i];
    return n;
}

/* Rows of `wv` vectors of type V (rows with contiguous elements, any pitch): the copies into
 * and out of slices (concat, narrow views), in vectors of up to 16 bytes. */
template <typename V>
__global__ void copy_rows_kernel(char *dst, int64_t dpitch, const char *src, int64_t spitch, int64_t rows, int64_t wv) {
    const int64_t n = rows * wv;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i / wv, c = i - r * wv;
        ((V *)(dst + r * dpitch))[c] = ((const V *)(src + r * spitch))[c];
    }
}

static int copy_rows(cudaStream_t s, void *dst, int64_t dpitch, const void *src, int64_t spitch, int64_t rows, int64_t row_bytes) {
    uint64_t m = (uint64_t)(uintptr_t)dst | (uint64_t)(uintptr_t)src | (uint64_t)dpitch | (uint64_t)spitch | (uint64_t)row_bytes;
    int vb = (m & 15) == 0 ? 16 : (m & 7) == 0 ? 8 : (m & 3) == 0 ? 4 : (m & 1) == 0 ? 2 : 1;
    int64_t wv = row_bytes / vb;
    int blocks = lc_cu_blocks(rows * wv, 256);
    char *d = (char *)dst;
    const char *sp = (const char *)src;
    switch (vb) {
    case 16: copy_rows_kernel<uint4><<<blocks, 256, 0, s>>>(d, dpitch, sp, spitch, rows, wv); break;
    case 8: copy_rows_kernel<uint2><<<blocks, 256, 0, s>>>(d, dpitch, sp, spitch, rows, wv); break;
    case 4: copy_rows_kernel<uint32_t><<<blocks, 256, 0, s>>>(d, dpitch, sp, spitch, rows, wv); break;
    case 2: copy_rows_kernel<uint16_t><<<blocks, 256, 0, s>>>(d, dpitch, sp, spitch, rows, wv); break;
    default: copy_rows_kernel<uint8_t><<<blocks, 256, 0, s>>>(d, dpitch, sp, spitch, rows, wv); break;
    }
    return lc_cu_last_error();
}

extern "C" int lc_cu_copy(lc_cu_stream s, void *dst, int dt, const lc_cu_view *dv, const void *src, int st,
                          const lc_cu_view *sv) {
    int64_t n = view_numel(sv);
    if (n == 0) return 0;
    int dc = view_contiguous(dv), sc = view_contiguous(sv);
    size_t es = st == LC_CU_F32 || st == LC_CU_I32 ? 4 : st == LC_CU_I64 ? 8 : 2;
    if (dc && sc && st == dt) return (int)cudaMemcpyAsync(dst, src, (size_t)n * es, cudaMemcpyDeviceToDevice, s);
    if (st == dt && dv->ndim == 2 && sv->ndim == 2 && dv->shape[0] == sv->shape[0] && dv->shape[1] == sv->shape[1] &&
        dv->strides[1] == 1 && sv->strides[1] == 1 && dv->strides[0] >= dv->shape[1] && sv->strides[0] >= 0)
        return copy_rows(s, dst, dv->strides[0] * (int64_t)es, src, sv->strides[0] * (int64_t)es, dv->shape[0], dv->shape[1] * (int64_t)es);
    copy_kernel<<<lc_cu_blocks(n, 256), 256, 0, s>>>(dst, dt, *dv, src, st, *sv, n, dc, sc);
    return lc_cu_last_error();
}

/* ---- binary ---------------------------------------------------------------------------------- */
template <int OP> __device__ __forceinline__ float binop(float a, float b) {
    return OP == 0 ? a + b : OP == 1 ? a - b : OP == 2 ? a * b : a / b;
}

template <typename T, int OP>
__global__ void binary_contig_kernel(T *out, const T *a, const T *b, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = from_f<T>(binop<OP>(to_f(a[i]), to_f(b[i])));
}

/* (rows, n) op (n): the bias / row-broadcast case, the most common one in the models. */
template <typename T, int OP>
__global__ void binary_rowbcast_kernel(T *out, const T *a, const T *b, int64_t rows, int64_t n, int b_is_row) {
    int64_t total = rows * n;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        float x = to_f(a[i]), y = to_f(b[i % n]);
        out[i] = from_f<T>(b_is_row ? binop<OP>(x, y) : binop<OP>(y, x));
    }
}

template <typename T, int OP>
__global__ void binary_strided_kernel(T *out, const T *a, lc_cu_view av, const T *b, lc_cu_view bv, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = from_f<T>(binop<OP>(to_f(a[view_offset(av, i)]), to_f(b[view_offset(bv, i)])));
}

template <typename T, int OP>
static int binary_typed(cudaStream_t s, T *out, const lc_cu_view *ov, const T *a, const lc_cu_view *av, const T *b,
                        const lc_cu_view *bv) {
    int64_t n = view_numel(ov);
    if (n == 0) return 0;
    int blocks = lc_cu_blocks(n, 256);
    if (view_contiguous(av) && view_contiguous(bv)) {
        binary_contig_kernel<T, OP><<<blocks, 256, 0, s>>>(out, a, b, n);
    } else if (ov->ndim == 2 && view_contiguous(av) && bv->strides[0] == 0 && bv->strides[1] == 1) {
        binary_rowbcast_kernel<T, OP><<<blocks, 256, 0, s>>>(out, a, b, ov->shape[0], ov->shape[1], 1);
    } else if (ov->ndim == 2 && view_contiguous(bv) && av->strides[0] == 0 && av->strides[1] == 1) {
        binary_rowbcast_kernel<T, OP><<<blocks, 256, 0, s>>>(out, b, a, ov->shape[0], ov->shape[1], 0);
    } else {
        binary_strided_kernel<T, OP><<<blocks, 256, 0, s>>>(out, a, *av, b, *bv, n);
    }
    return lc_cu_last_error();
}

extern "C" int lc_cu_binary(lc_cu_stream s, int op, int dtype, void *out, const lc_cu_view *ov, const void *a,
                            const lc_cu_view *av, const void *b, const lc_cu_view *bv) {
    LC_CU_DISPATCH_FLOAT(dtype, T, {
        T *o = (T *)out;
        const T *pa = (const T *)a, *pb = (const T *)b;
        switch (op) {
        case 0: return binary_typed<T, 0>(s, o, ov, pa, av, pb, bv);
        case 1: return binary_typed<T, 1>(s, o, ov, pa, av, pb, bv);
        case 2: return binary_typed<T, 2>(s, o, ov, pa, av, pb, bv);
        default: return binary_typed<T, 3>(s, o, ov, pa, av, pb, bv);
        }
    });
    return 0;
}

/* ---- unary ----------------------------------------------------------------------------------- */
/* lc_unary_kind order: GELU, GELU_TANH, RELU, LEAKY_RELU, SELU, SIGMOID, SOFTPLUS, TANH, EXP, SCALE */
__device__ __forceinline__ float gelu_erf(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }

__device__ __forceinline__ float unary_f(int kind, float x, float p0, float p1) {
    switch (kind) {
    case 0: return gelu_erf(x);
    case 1: {
        float u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
        return 0.5f * x * (1.0f + tanhf(u));
    }
    case 2: return x > 0 ? x : 0.0f;
    case 3: return x >= 0 ? x : p0 * x;
    case 4: return 1.0507009873554805f * (x > 0 ? x : 1.6732632423543772f * (expf(x) - 1.0f));
    case 5: return 1.0f / (1.0f + expf(-x));
    case 6: {
        float bx = p0 * x;
        return bx > p1 ? x : log1pf(expf(bx)) / p0;
    }
    case 7: return tanhf(x);
    case 8: return expf(x);
    default: return x * p0;
    }
}

/* Vectorised: each thread handles VEC consecutive elements (16 bytes) when n and the pointers allow. */
template <typename T, int KIND>
__global__ void unary_kernel(T *out, const T *in, int64_t n, float p0, float p1) {
    constexpr int VEC = 16 / sizeof(T);
    lc_cu_wait_prior_grid();
    lc_cu_launch_dependents();
    int64_t nv = n / VEC;
    const uint4 *iv = (const uint4 *)in;
    uint4 *ov = (uint4 *)out;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < nv; i += (int64_t)gridDim.x * blockDim.x) {
        uint4 raw = iv[i];
        T *e = (T *)&raw;
#pragma unroll
        for (int j = 0; j < VEC; j++) e[j] = from_f<T>(unary_f(KIND, to_f(e[j]), p0, p1));
        ov[i] = raw;
    }
    for (int64_t i = nv * VEC + blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = from_f<T>(unary_f(KIND, to_f(in[i]), p0, p1));
}

template <typename T>
__global__ void unary_scalar_kernel(int kind, T *out, const T *in, int64_t n, float p0, float p1) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = from_f<T>(unary_f(kind, to_f(in[i]), p0, p1));
}

static int aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }

extern "C" int lc_cu_unary(lc_cu_stream s, int kind, int dtype, void *out, const void *in, int64_t n, float p0, float p1) {
    if (n == 0) return 0;
    int sms_blocks = lc_cu_blocks(n / 8 + 1, 256);
    LC_CU_DISPATCH_FLOAT(dtype, T, {
        T *o = (T *)out;
        const T *x = (const T *)in;
        if (aligned16(out) && aligned16(in)) {
            switch (kind) {
            case 0: return lc_cu_launch(unary_kernel<T, 0>, dim3(sms_blocks), dim3(256), 0, s, o, x, n, p0, p1);
            case 2: return lc_cu_launch(unary_kernel<T, 2>, dim3(sms_blocks), dim3(256), 0, s, o, x, n, p0, p1);
            case 7: return lc_cu_launch(unary_kernel<T, 7>, dim3(sms_blocks), dim3(256), 0, s, o, x, n, p0, p1);
            case 9: return lc_cu_launch(unary_kernel<T, 9>, dim3(sms_blocks), dim3(256), 0, s, o, x, n, p0, p1);
            default: unary_scalar_kernel<T><<<lc_cu_blocks(n, 256), 256, 0, s>>>(kind, o, x, n, p0, p1); break;
            }
        } else {
            unary_scalar_kernel<T><<<lc_cu_blocks(n, 256), 256, 0, s>>>(kind, o, x, n, p0, p1);
        }
    });
    return lc_cu_last_error();
}

template <typename T>
__global__ void bias_gelu_kernel(T *x, const T *bias, int64_t rows, int64_t n, int gelu) {
    int64_t total = rows * n;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        float v = to_f(x[i]);
        if (bias) v += to_f(bias[i % n]);
        x[i] = from_f<T>(gelu ? gelu_erf(v) : v);
    }
}

extern "C" int lc_cu_bias_gelu(lc_cu_stream s, int dtype, void *x, const void *bias, int64_t rows, int64_t n, int gelu) {
    if (rows * n == 0) return 0;
    if (!bias && gelu) return lc_cu_unary(s, 0, dtype, x, x, rows * n, 0, 0);
    LC_CU_DISPATCH_FLOAT(dtype, T, {
        bias_gelu_kernel<T><<<lc_cu_blocks(rows * n, 256), 256, 0, s>>>((T *)x, (const T *)bias, rows, n, gelu);
    });
    return lc_cu_last_error();
}

template <typename T>
__global__ void prelu_kernel(T *out, const T *x, const T *w, int64_t n, int64_t c, int64_t inner, int64_t wn) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float v = to_f(x[i]);
        float a = to_f(w[wn == 1 ? 0 : (i / inner) % c]);
        out[i] = from_f<T>(v >= 0 ? v : a * v);
    }
}

extern "C" int lc_cu_prelu(lc_cu_stream s, int dtype, void *out, const void *x, const void *w, int64_t n, int64_t c,
                           int64_t inner, int64_t wn) {
    if (n == 0) return 0;
    LC_CU_DISPATCH_FLOAT(dtype, T, {
        prelu_kernel<T><<<lc_cu_blocks(n, 256), 256, 0, s>>>((T *)out, (const T *)x, (const T *)w, n, c, inner ? inner : 1, wn);
    });
    return lc_cu_last_error();
}

template <typename T> __global__ void fill_kernel(T *out, int64_t n, float v) {
    T t = from_f<T>(v);
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) out[i] = t;
}

extern "C" int lc_cu_fill(lc_cu_stream s, int dtype, void *out, int64_t n, float value) {
    if (n == 0) return 0;
    LC_CU_DISPATCH_FLOAT(dtype, T, { fill_kernel<T><<<lc_cu_blocks(n, 256), 256, 0, s>>>((T *)out, n, value); });
    return lc_cu_last_error();
}

/* ---- reductions over the middle axis of (outer, n, inner) ------------------------------------ */
/* A partial result: the sum or maximum in v, or argmax's (v, i) with i = -1 for "none yet". */
struct red_part {
    float v;
    long long i;
};
__device__ __forceinline__ red_part red_identity(int kind) { return red_part{kind == 2 || kind == 3 ? -INFINITY : 0.0f, -1}; }
/* Argmax: larger wins, NaN beats numbers, ties go to the lower index. */
__device__ __forceinline__ bool arg_better(float ov, long long oi, float best, long long arg) {
    return oi >= 0 && (arg < 0 || (isnan(ov) && !isnan(best)) || (!isnan(best) && ov > best) || (ov == best && oi < arg) ||
                       (isnan(ov) && isnan(best) && oi < arg));
}
__device__ __forceinline__ void red_combine(int kind, red_part &a, float ov, long long oi) {
    if (kind == 3) {
        if (arg_better(ov, oi, a.v, a.i)) a.v = ov, a.i = oi;
    } else if (kind == 2) {
        a.v = fmaxf(a.v, ov);
    } else {
        a.v += ov;
    }
}
/* Combine the warp's parts; the result is in lane 0. */
__device__ __forceinline__ red_part red_warp(int kind, red_part p) {
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_down_sync(0xffffffffu, p.v, o);
        long long oi = __shfl_down_sync(0xffffffffu, p.i, o);
        red_combine(kind, p, ov, oi);
    }
    return p;
}
/* Combine every thread's part; the block's result is in thread 0. */
__device__ __forceinline__ red_part red_block(int kind, red_part p) {
    __shared__ float sval[32];
    __shared__ long long sidx[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    p = red_warp(kind, p);
    __syncthreads(); /* a previous call's readers are done */
    if (lane == 0) sval[warp] = p.v, sidx[warp] = p.i;
    __syncthreads();
    if (threadIdx.x == 0)
        for (int w = 1; w < (int)(blockDim.x >> 5); w++) red_combine(kind, p, sval[w], sidx[w]);
    return p;
}
/* This thread's part of elements [j0, j1) of a row. */
template <typename T> __device__ __forceinline__ red_part red_range(int kind, const T *row, int64_t j0, int64_t j1) {
    red_part p = red_identity(kind);
    for (int64_t j = j0 + threadIdx.x; j < j1; j += blockDim.x) red_combine(kind, p, to_f(row[j]), j);
    return p;
}
/* The sum of 16 bytes of T. */
__device__ __forceinline__ float vec_sum(uint4 u, float) {
    return (__uint_as_float(u.x) + __uint_as_float(u.y)) + (__uint_as_float(u.z) + __uint_as_float(u.w));
}
template <typename H2> __device__ __forceinline__ float vec_sum_h2(uint4 u) {
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
    float a = 0, b = 0;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        H2 h = *reinterpret_cast<const H2 *>(&w[i]);
        a += to_f(h.x), b += to_f(h.y);
    }
    return a + b;
}
__device__ __forceinline__ float vec_sum(uint4 u, __half) { return vec_sum_h2<__half2>(u); }
__device__ __forceinline__ float vec_sum(uint4 u, __nv_bfloat16) { return vec_sum_h2<__nv_bfloat162>(u); }

/* This thread's (tid of nt) part of the sum of elements [j0, j1) of a row: scalar up to the first
 * 16-byte boundary, then 16-byte loads four at a time (four independent loads in flight per
 * thread), then a scalar tail. */
template <typename T> __device__ __forceinline__ float sum_range(const T *row, int64_t j0, int64_t j1, int tid, int nt) {
    constexpr int V = 16 / sizeof(T);
    int64_t head = (int64_t)((16 - ((uintptr_t)(row + j0) & 15)) & 15) / (int64_t)sizeof(T);
    if (head > j1 - j0) head = j1 - j0;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    if (tid < head) s0 = to_f(row[j0 + tid]);
    const int64_t a0 = j0 + head, nv = (j1 - a0) / V;
    const uint4 *vp = reinterpret_cast<const uint4 *>(row + a0);
    int64_t v = tid;
    for (; v + 3 * (int64_t)nt < nv; v += 4 * (int64_t)nt) {
        uint4 u0 = __ldg(vp + v), u1 = __ldg(vp + v + nt), u2 = __ldg(vp + v + 2 * nt), u3 = __ldg(vp + v + 3 * nt);
        s0 += vec_sum(u0, T()), s1 += vec_sum(u1, T()), s2 += vec_sum(u2, T()), s3 += vec_sum(u3, T());
    }
    for (; v < nv; v += nt) s0 += vec_sum(__ldg(vp + v), T());
    for (int64_t j = a0 + nv * V + tid; j < j1; j += nt) s1 += to_f(row[j]);
    return (s0 + s1) + (s2 + s3);
}
/* red_range for any kind: sums (kind 0, 1) take the vector loads. (16-byte loads for max and
 * argmax were measured on an H100 and not kept: rows of 1024 level, rows of 128 slower.) */
template <typename T> __device__ __forceinline__ red_part red_part_of(int kind, const T *row, int64_t j0, int64_t j1) {
    if (kind <= 1) return red_part{sum_range(row, j0, j1, (int)threadIdx.x, (int)blockDim.x), -1};
    return red_range(kind, row, j0, j1);
}

template <typename T> __device__ __forceinline__ void red_store(int kind, void *out, int64_t r, red_part p, int64_t n) {
    if (kind == 3) ((int64_t *)out)[r] = p.i < 0 ? 0 : p.i;
    else ((T *)out)[r] = from_f<T>(kind == 1 ? p.v / (float)(n ? n : 1) : p.v);
}

/* inner == 1: one block per row. */
template <typename T>
__global__ void reduce_rows_kernel(int kind, void *out, const T *x, int64_t outer, int64_t n) {
    for (int64_t r = blockIdx.x; r < outer; r += gridDim.x) {
        red_part p = red_block(kind, red_part_of(kind, x + r * n, 0, n));
        if (threadIdx.x == 0) red_store<T>(kind, out, r, p, n);
    }
}

/* A lane's max / argmax part of a row of n elements (lane, lane + 32, ...): U loads issued together,
 * then combined in order. The lane visits its elements in increasing order, so its argmax needs no
 * tie test: a later element replaces the best only when larger, or NaN over a number (the first
 * NaN stays), which is red_combine's rule for increasing indices. */
template <int U, typename T> __device__ __forceinline__ red_part lane_max_part(int kind, const T *row, int64_t n, int lane) {
    float best = -INFINITY;
    int arg = -1;
    for (int j0 = lane; j0 < (int)n; j0 += 32 * U) {
        float v[U];
#pragma unroll
        for (int u = 0; u < U; u++) v[u] = j0 + 32 * u < (int)n ? to_f(row[j0 + 32 * u]) : -INFINITY;
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int j = j0 + 32 * u;
            if (kind == 3) {
                if (j < (int)n && (arg < 0 || v[u] > best || (isnan(v[u]) && !isnan(best)))) best = v[u], arg = j;
            } else {
                best = fmaxf(best, v[u]);
            }
        }
    }
    return red_part{best, kind == 3 ? (long long)arg : -1};
}

/* Short rows (inner == 1, n <= 1024): one warp per row, eight rows per block; shuffles only. */
template <typename T>
__global__ void reduce_rows_warp_kernel(int kind, void *out, const T *x, int64_t outer, int64_t n) {
    const int lane = threadIdx.x & 31;
    const int64_t first = (int64_t)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), step = (int64_t)gridDim.x * (blockDim.x >> 5);
    for (int64_t r = first; r < outer; r += step) { /* warp-uniform */
        const T *row = x + r * n;
        red_part p = red_identity(kind);
        if (kind <= 1) p.v = sum_range(row, 0, n, lane, 32);
        else if (n > 256) p = lane_max_part<16>(kind, row, n, lane);
        else p = lane_max_part<4>(kind, row, n, lane);
        p = red_warp(kind, p);
        if (lane == 0) red_store<T>(kind, out, r, p, n);
    }
}

/* Few long rows (inner == 1): blockIdx.y is the row, blockIdx.x one of its chunks of `len`
 * elements; each block's part goes to parts[row * chunks + chunk] and a second kernel combines a
 * row's parts in order. */
template <typename T>
__global__ void reduce_chunks_kernel(int kind, red_part *parts, const T *x, int64_t n, int64_t len) {
    int64_t r = blockIdx.y, c = blockIdx.x, j0 = c * len, j1 = j0 + len < n ? j0 + len : n;
    red_part p = red_block(kind, red_part_of(kind, x + r * n, j0, j1));
    if (threadIdx.x == 0) parts[r * gridDim.x + c] = p;
}
template <typename T>
__global__ void reduce_parts_kernel(int kind, void *out, const red_part *parts, int chunks, int64_t n) {
    const red_part *row = parts + (int64_t)blockIdx.x * chunks;
    red_part p = red_identity(kind);
    for (int c = threadIdx.x; c < chunks; c += blockDim.x) red_combine(kind, p, row[c].v, row[c].i);
    p = red_block(kind, p);
    if (threadIdx.x == 0) red_store<T>(kind, out, blockIdx.x, p, n);
}

/* Chunks per row for the two-pass path (0: one block per row). Rows of at least 64K elements
 * when one block per row leaves most multiprocessors idle: at most eight 256-thread blocks per
 * multiprocessor in all (one full wave), chunks of at least 8K elements. */
static int reduce_chunks(int64_t outer, int64_t n, int64_t inner, int64_t *len) {
    int64_t sms = lc_cu_sm_count();
    if (inner != 1 || n < 65536 || outer >= sms || outer > 65535) return 0;
    return lc_cu_row_chunks(outer, n, 8 * sms, 8192, len);
}

extern "C" size_t lc_cu_reduce_scratch(int64_t outer, int64_t n, int64_t inner) {
    int64_t len;
    int chunks = reduce_chunks(outer, n, inner, &len);
    return chunks ? (size_t)(outer * chunks) * sizeof(red_part) : 0;
}

/* inner > 1: one thread per output, walking n (coalesced across inner). */
template <typename T>
__global__ void reduce_cols_kernel(int kind, void *out, const T *x, int64_t outer, int64_t n, int64_t inner) {
    int64_t total = outer * inner;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t o = i / inner, in = i % inner;
        const T *base = x + o * n * inner + in;
        if (kind == 3) {
            float best = to_f(base[0]);
            int64_t arg = 0;
            for (int64_t j = 1; j < n; j++) {
                float v = to_f(base[j * inner]);
                if (v > best || (isnan(v) && !isnan(best))) { best = v; arg = j; }
            }
            ((int64_t *)out)[i] = arg;
        } else if (kind == 2) {
            float m = to_f(base[0]);
            for (int64_t j = 1; j < n; j++) {
                float v = to_f(base[j * inner]);
                m = v > m ? v : m;
            }
            ((T *)out)[i] = from_f<T>(m);
        } else {
            float acc = 0;
            for (int64_t j = 0; j < n; j++) acc += to_f(base[j * inner]);
            if (kind == 1) acc /= (float)(n ? n : 1);
            ((T *)out)[i] = from_f<T>(acc);
        }
    }
}

/* inner > 1 with few outputs (outer * inner below a wave of threads) and a long axis: a block of
 * 32 x COLS_SLICES threads per 32 outputs of one outer index; threadIdx.y walks every
 * COLS_SLICES-th position of the axis (reads coalesced across inner), then the slices are combined
 * in shared memory (red_combine's argmax keeps the lowest index of equal values, in any order). */
#define COLS_SLICES 16
template <typename T>
__global__ void __launch_bounds__(32 * COLS_SLICES) reduce_cols_split_kernel(int kind, void *out, const T *x, int64_t n, int64_t inner) {
    __shared__ float sv[COLS_SLICES][32];
    __shared__ long long si[COLS_SLICES][32];
    const int64_t o = blockIdx.y, in = (int64_t)blockIdx.x * 32 + threadIdx.x;
    red_part p = red_identity(kind);
    if (in < inner) {
        const T *base = x + o * n * inner + in;
        for (int64_t j = threadIdx.y; j < n; j += COLS_SLICES) red_combine(kind, p, to_f(base[j * inner]), j);
    }
    sv[threadIdx.y][threadIdx.x] = p.v, si[threadIdx.y][threadIdx.x] = p.i;
    __syncthreads();
    if (threadIdx.y == 0 && in < inner) {
        for (int y = 1; y < COLS_SLICES; y++) red_combine(kind, p, sv[y][threadIdx.x], si[y][threadIdx.x]);
        red_store<T>(kind, out, o * inner + in, p, n);
    }
}

extern "C" int lc_cu_reduce(lc_cu_stream s, int kind, int dtype, void *out, const void *x, int64_t outer, int64_t n,
                            int64_t inner, void *scratch) {
    if (outer * inner == 0) return 0;
    if (n == 0) { /* empty sums: zeros (max/argmax are refused by the front end) */
        if (kind == 3) return (int)cudaMemsetAsync(out, 0, (size_t)(outer * inner) * 8, s);
        return lc_cu_fill(s, dtype, out, outer * inner, 0.0f);
    }
    int64_t len = 0;
    int chunks = reduce_chunks(outer, n, inner, &len);
    if (chunks && !scratch) return (int)cudaErrorInvalidValue;
    LC_CU_DISPATCH_FLOAT(dtype, T, {
        if (chunks) {
            reduce_chunks_kernel<T><<<dim3((unsigned)chunks, (unsigned)outer), 256, 0, s>>>(kind, (red_part *)scratch, (const T *)x, n, len);
            reduce_parts_kernel<T><<<(unsigned)outer, 256, 0, s>>>(kind, out, (const red_part *)scratch, chunks, n);
        } else if (inner == 1 && n <= 1024)
            reduce_rows_warp_kernel<T><<<lc_cu_blocks(outer, 8, 65535 * 8), 256, 0, s>>>(kind, out, (const T *)x, outer, n);
        else if (inner == 1)
            reduce_rows_kernel<T><<<lc_cu_blocks(outer, 1, 65535), 256, 0, s>>>(kind, out, (const T *)x, outer, n);
        else if (outer * inner < 64 * 1024 && n >= 4 * COLS_SLICES && outer <= 65535)
            reduce_cols_split_kernel<T><<<dim3((unsigned)((inner + 31) / 32), (unsigned)outer), dim3(32, COLS_SLICES), 0, s>>>(
                kind, out, (const T *)x, n, inner);
        else
            reduce_cols_kernel<T><<<lc_cu_blocks(outer * inner, 256), 256, 0, s>>>(kind, out, (const T *)x, outer, n, inner);
    });
    return lc_cu_last_error();
}

/* ---- embedding --------------------------------------------------------------------------------- */
__device__ __forceinline__ int64_t load_id(const void *ids, int t, int64_t i) {
    return t == LC_CU_I64 ? ((const int64_t *)ids)[i] : (int64_t)((const int32_t *)ids)[i];
}

/* One block per token; rows copied in 4-byte words when the row size allows. */
__global__ void embedding_kernel(char *out, const char *table, size_t row_bytes, int64_t v, const void *ids, int id_t,
                                 int64_t n, int *bad) {
    for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
        int64_t id = load_id(ids, id_t, i);
        char *dst = out + (size_t)i * row_bytes;
        bool ok = id >= 0 && id < v;
        if (!ok && threadIdx.x == 0 && bad) *bad = LC_CU_BAD_EMBEDDING;
        if ((row_bytes & 3) == 0) {
            uint32_t *d4 = (uint32_t *)dst;
            const uint32_t *s4 = (const uint32_t *)(table + (size_t)(ok ? id : 0) * row_bytes);
            for (size_t j = threadIdx.x; j < row_bytes / 4; j += blockDim.x) d4[j] = ok ? s4[j] : 0u;
        } else {
            const char *src = table + (size_t)(ok ? id : 0) * row_bytes;
            for (size_t j = threadIdx.x; j < row_bytes; j += blockDim.x) dst[j] = ok ? src[j] : 0;
        }
    }
}

extern "C" int lc_cu_embedding(lc_cu_stream s, void *out, const void *table, size_t esize, int64_t v, int64_t d,
                               const void *ids, int id_dtype, int64_t n, int *bad_flag) {
    if (n == 0 || d == 0) return 0;
    embedding_kernel<<<lc_cu_blocks(n, 1, 65535), 128, 0, s>>>((char *)out, (const char *)table, (size_t)d * esize, v, ids,
                                                               id_dtype, n, bad_flag);
    return lc_cu_last_error();
}

/* The table rows of token `tok`: word, position and type ids, checked against the tables; an id
 * outside its table sets *bad (from the thread with `reporter` true) and reads row 0 instead. */
__device__ __forceinline__ void embed_rows(const lc_cu_embed_args &a, int64_t tok, bool reporter, int *bad, int64_t &wid,
                                           int64_t &pid, int64_t &tid) {
    wid = load_id(a.word_ids, a.ids_dtype, tok);
    pid = a.pos_ids ? load_id(a.pos_ids, a.ids_dtype, tok) : tok % a.seq + a.pos_offset;
    tid = a.type_ids ? load_id(a.type_ids, a.ids_dtype, tok) : 0;
    const bool ok = wid >= 0 && wid < a.word_rows && (!a.pos || (pid >= 0 && pid < a.pos_rows)) &&
                    (!a.type || (tid >= 0 && tid < a.type_rows));
    if (!ok) {
        if (reporter && bad) *bad = LC_CU_BAD_EMBEDDING;
        wid = 0, pid = 0, tid = 0;
    }
}

/* Fused embeddings + LayerNorm: one block per token, the row kept in shared memory (any row length
 * and alignment). */
template <typename T>
__global__ void embed_ln_kernel(T *out, lc_cu_embed_args a, int *bad) {
    lc_cu_launch_dependents();
    extern __shared__ float row[];
    __shared__ float scratch[32];
    const T *word = (const T *)a.word, *pos = (const T *)a.pos, *type = (const T *)a.type;
    const T *w = (const T *)a.ln_w, *b = (const T *)a.ln_b;
    int64_t ntok = a.batch * a.seq, d = a.d;
    for (int64_t tok = blockIdx.x; tok < ntok; tok += gridDim.x) {
        int64_t wid, pid, tid;
        embed_rows(a, tok, threadIdx.x == 0, bad, wid, pid, tid);
        float sum = 0;
        for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
            float x = to_f(word[wid * d + j]);
            if (pos) x += to_f(pos[pid * d + j]);
            if (type) x += to_f(type[tid * d + j]);
            row[j] = x;
            sum += x;
        }
        float mean = block_sum(sum, scratch) / (float)d;
        float var = 0;
        for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
            float c = row[j] - mean;
            var += c * c;
        }
        var = block_sum(var, scratch) / (float)d;
        float inv = rsqrtf(var + a.eps);
        T *o = out + tok * d;
        for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
            float v = (row[j] - mean) * inv;
            if (w) v *= to_f(w[j]);
            if (b) v += to_f(b[j]);
            o[j] = from_f<T>(v);
        }
        __syncthreads();
    }
}

/* The same with one warp per token for rows of at most 128 16-byte vectors (1024 f16/bf16 or 512
 * f32 elements: BERT's and MiniLM's 768 and 384): 16-byte loads of the three table rows, the row
 * in registers, warp reductions, no block barriers; four tokens per block. */
#define EMB_WARPS 4
template <typename T, int VPT>
__global__ void __launch_bounds__(EMB_WARPS * 32) embed_ln_warp_kernel(T *out, lc_cu_embed_args a, int *bad) {
    lc_cu_launch_dependents();
    constexpr int V = 16 / sizeof(T);
    const T *word = (const T *)a.word, *pos = (const T *)a.pos, *type = (const T *)a.type;
    const T *w = (const T *)a.ln_w, *b = (const T *)a.ln_b;
    const int lane = threadIdx.x & 31;
    const int64_t ntok = a.batch * a.seq, d = a.d, nv = d / V;
    for (int64_t tok = (int64_t)blockIdx.x * EMB_WARPS + (threadIdx.x >> 5); tok < ntok; tok += (int64_t)gridDim.x * EMB_WARPS) {
        int64_t wid, pid, tid;
        embed_rows(a, tok, lane == 0, bad, wid, pid, tid);
        float x[VPT][V];
        float sum = 0;
#pragma unroll
        for (int u = 0; u < VPT; u++) {
            const int64_t i = lane + u * 32;
            if (i < nv) {
                uint4 wv = ((const uint4 *)(word + wid * d))[i], pv = {0, 0, 0, 0}, tv = {0, 0, 0, 0};
                if (pos) pv = ((const uint4 *)(pos + pid * d))[i];
                if (type) tv = ((const uint4 *)(type + tid * d))[i];
                const T *we = (const T *)&wv, *pe = (const T *)&pv, *te = (const T *)&tv;
#pragma unroll
                for (int e = 0; e < V; e++) {
                    float v = to_f(we[e]);
                    if (pos) v += to_f(pe[e]);
                    if (type) v += to_f(te[e]);
                    x[u][e] = v;
                    sum += v;
                }
            }
        }
        const float mean = warp_sum(sum) / (float)d;
        float var = 0;
#pragma unroll
        for (int u = 0; u < VPT; u++)
            if (lane + u * 32 < nv) {
#pragma unroll
                for (int e = 0; e < V; e++) {
                    const float c = x[u][e] - mean;
                    var += c * c;
                }
            }
        const float inv = rsqrtf(warp_sum(var) / (float)d + a.eps);
#pragma unroll
        for (int u = 0; u < VPT; u++) {
            const int64_t i = lane + u * 32;
            if (i < nv) {
                uint4 wv = {0, 0, 0, 0}, bv = {0, 0, 0, 0}, ov;
                if (w) wv = ((const uint4 *)w)[i];
                if (b) bv = ((const uint4 *)b)[i];
                const T *we = (const T *)&wv, *be = (const T *)&bv;
                T *oe = (T *)&ov;
#pragma unroll
                for (int e = 0; e < V; e++) {
                    float v = (x[u][e] - mean) * inv;
                    if (w) v *= to_f(we[e]);
                    if (b) v += to_f(be[e]);
                    oe[e] = from_f<T>(v);
                }
                ((uint4 *)(out + tok * d))[i] = ov;
            }
        }
    }
}

template <typename T> static int launch_embed_ln_warp(cudaStream_t s, T *out, const lc_cu_embed_args *a, int *bad_flag) {
    constexpr int V = 16 / sizeof(T);
    const void *p[6] = {out, a->word, a->pos, a->type, a->ln_w, a->ln_b};
    for (int i = 0; i < 6; i++)
        if ((uintptr_t)p[i] & 15) return -1;
    if (a->d % V || a->d / V > 128) return -1;
    const int64_t nv = a->d / V, ntok = a->batch * a->seq;
    const int grid = lc_cu_blocks(ntok, EMB_WARPS, 65535LL * 32);
    if (nv <= 32) embed_ln_warp_kernel<T, 1><<<grid, EMB_WARPS * 32, 0, s>>>(out, *a, bad_flag);
    else if (nv <= 64) embed_ln_warp_kernel<T, 2><<<grid, EMB_WARPS * 32, 0, s>>>(out, *a, bad_flag);
    else embed_ln_warp_kernel<T, 4><<<grid, EMB_WARPS * 32, 0, s>>>(out, *a, bad_flag);
    return lc_cu_last_error();
}

extern "C" int lc_cu_embed_layer_norm(lc_cu_stream s, int dtype, void *out, const lc_cu_embed_args *a, int *bad_flag) {
    int64_t ntok = a->batch * a->seq;
    if (ntok == 0 || a->d == 0) return 0;
    LC_CU_DISPATCH_FLOAT(dtype, T, {
        int r = launch_embed_ln_warp<T>(s, (T *)out, a, bad_flag);
        if (r >= 0) return r;
    });
    size_t smem = (size_t)a->d * sizeof(float);
    if (smem > 48 * 1024) return (int)cudaErrorInvalidValue;
    int threads = a->d >= 1024 ? 256 : a->d >= 256 ? 128 : 64;
    LC_CU_DISPATCH_FLOAT(dtype, T, {
        embed_ln_kernel<T><<<lc_cu_blocks(ntok, 1, 65535), threads, smem, s>>>((T *)out, *a, bad_flag);
    });
    return lc_cu_last_error();
}
