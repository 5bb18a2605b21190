/* Row kernels: softmax and (residual +) LayerNorm over the last axis.
 *
 * One block per row; the row is read once from device memory (16-byte loads when the row length
 * and the pointers allow), kept in shared memory as f32 for the statistics, and written once:
 * the minimum traffic, read n + write n elements (plus n for the residual). Rows too long for
 * shared memory take a second read. Block size follows the row length so that short rows
 * (BERT's 768) do not leave most threads idle. */
#include "cuda/attention_common.cuh"
#include "cuda/common.cuh"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ROW_SMEM_MAX_FLOATS (40 * 1024) /* 160 KB of the 227 KB a block may ask for on sm_90 */

template <typename T> struct vec_of;
template <> struct vec_of<float> { static constexpr int n = 4; };
template <> struct vec_of<__half> { static constexpr int n = 8; };
template <> struct vec_of<__nv_bfloat16> { static constexpr int n = 8; };

/* Load x[0..n) (+ r[0..n)) into buf as f32; returns this thread's partial sum. */
template <typename T>
__device__ __forceinline__ float load_row(float *buf, const T *x, const T *r, int64_t n, bool vec) {
    constexpr int V = vec_of<T>::n;
    float sum = 0;
    if (vec) {
        /* four 16-byte loads (eight with the residual) in flight per thread before any use */
        const uint4 *xv = (const uint4 *)x, *rv = (const uint4 *)r;
        const int64_t nv = n / V;
        for (int64_t base = threadIdx.x; base < nv; base += 4 * (int64_t)blockDim.x) {
            uint4 a[4], b[4];
#pragma unroll
            for (int u = 0; u < 4; u++) {
                int64_t i = base + u * (int64_t)blockDim.x;
                if (i < nv) {
                    a[u] = xv[i];
                    if (r) b[u] = rv[i];
                }
            }
#pragma unroll
            for (int u = 0; u < 4; u++) {
                int64_t i = base + u * (int64_t)blockDim.x;
                if (i >= nv) break;
                const T *ea = (const T *)&a[u], *eb = (const T *)&b[u];
#pragma unroll
                for (int j = 0; j < V; j++) {
                    float v = to_f(ea[j]) + (r ? to_f(eb[j]) : 0.0f);
                    buf[i * V + j] = v;
                    sum += v;
                }
            }
        }
    } else {
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            float v = to_f(x[i]);
            if (r) v += to_f(r[i]);
            buf[i] = v;
            sum += v;
        }
    }
    return sum;
}

/* ---- LayerNorm ------------------------------------------------------------------------------- */
template <typename T>
__global__ void layer_norm_kernel(T *out, const T *x, const T *res, const T *w, const T *b, int64_t rows, int64_t n,
                                  float eps, bool vec) {
    extern __shared__ float buf[];
    __shared__ float scratch[32];
    constexpr int V = vec_of<T>::n;
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T *xr = x + r * n, *rr = res ? res + r * n : nullptr;
        float mean = block_sum(load_row(buf, xr, rr, n, vec), scratch) / (float)n;
        float var = 0;
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            float c = buf[i] - mean;
            var += c * c;
        }
        var = block_sum(var, scratch) / (float)n;
        float inv = rsqrtf(var + eps);
        T *o = out + r * n;
        if (vec) {
            for (int64_t i = threadIdx.x; i < n / V; i += blockDim.x) {
                uint4 packed;
                T *e = (T *)&packed;
                uint4 wv, bv;
                if (w) wv = ((const uint4 *)w)[i];
                if (b) bv = ((const uint4 *)b)[i];
#pragma unroll
                for (int j = 0; j < V; j++) {
                    float v = (buf[i * V + j] - mean) * inv;
                    if (w) v *= to_f(((const T *)&wv)[j]);
                    if (b) v += to_f(((const T *)&bv)[j]);
                    e[j] = from_f<T>(v);
                }
                ((uint4 *)o)[i] = packed;
            }
        } else {
            for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
                float v = (buf[i] - mean) * inv;
                if (w) v *= to_f(w[i]);
                if (b) v += to_f(b[i]);
                o[i] = from_f<T>(v);
            }
        }
        __syncthreads();
    }
}

/* Long rows: statistics in two reads of device memory, then the write. */
template <typename T>
__global__ void layer_norm_long_kernel(T *out, const T *x, const T *res, const T *w, const T *b, int64_t rows, int64_t n,
                                       float eps) {
    __shared__ float scratch[32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T *xr = x + r * n, *rr = res ? res + r * n : nullptr;
        float s = 0;
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += to_f(xr[i]) + (rr ? to_f(rr[i]) : 0.0f);
        float mean = block_sum(s, scratch) / (float)n;
        float var = 0;
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            float c = to_f(xr[i]) + (rr ? to_f(rr[i]) : 0.0f) - mean;
            var += c * c;
        }
        float inv = rsqrtf(block_sum(var, scratch) / (float)n + eps);
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            float v = (to_f(xr[i]) + (rr ? to_f(rr[i]) : 0.0f) - mean) * inv;
            if (w) v *= to_f(w[i]);
            if (b) v += to_f(b[i]);
            out[r * n + i] = from_f<T>(v);
        }
    }
}

/* One vector per thread (up to 512 threads): measured better than fewer threads with more loads. */
static int threads_for(int64_t n, int vecw) {
    int64_t work = (n + vecw - 1) / vecw;
    int t = (int)((work + 31) / 32 * 32);
    if (t < 32) t = 32;
    if (t > 512) t = 512;
    return t;
}

static bool al16(const void *p) { return p == nullptr || ((uintptr_t)p & 15) == 0; }

static int row_grid(int64_t rows) {
    int64_t g = rows < (int64_t)1 << 20 ? rows : (int64_t)1 << 20;
    return (int)(g < 1 ? 1 : g);
}

template <typename K> static int allow_smem(K kernel, size_t bytes) {
    if (bytes <= 48 * 1024) return 0;
    return (int)cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
}

/* ---- register-resident rows ---------------------------------------------------------------------
 * Rows of at most 512 * VPT vectors: each thread keeps its VPT vectors in registers from the load
 * to the store, so the row crosses device memory once each way and never touches shared memory
 * (only the block reductions do). KIND 0: LayerNorm (+ residual), 1: softmax.
 *
 * One row is handled by `nt` threads with index `tid` (a block, or one warp: then the
 * reductions are shuffles only, no barrier, which short rows such as BERT's 768 at small batches
 * are latency-bound on).
 *
 * G is the number of lanes per row: 0 a whole block, 32 a warp, 1..16 a group of lanes within a
 * warp (rows of at most 16 vectors, such as 8-element softmax rows: 32 / G rows per warp). The
 * shuffles over offsets below G stay inside a group. */
template <int G> __device__ __forceinline__ float group_sum(float v) {
#pragma unroll
    for (int o = G / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
template <int G> __device__ __forceinline__ float group_max(float v) {
#pragma unroll
    for (int o = G / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
template <int G> __device__ __forceinline__ float row_sum(float v, float *scratch) { return G ? group_sum<G>(v) : block_sum(v, scratch); }
template <int G> __device__ __forceinline__ float row_max(float v, float *scratch) { return G ? group_max<G>(v) : block_max(v, scratch); }

/* `active` false: the row is read and reduced (its group's shuffles need every lane) but not stored. */
template <typename T, int VPT, int KIND, int G>
__device__ __forceinline__ void row_body(T *out, const T *x, const T *res, const T *w, const T *b, int64_t row, int64_t n, float eps,
                                         int tid, int nt, float *scratch, bool active = true) {
    constexpr int V = vec_of<T>::n;
    const int64_t nv = n / V;
    const uint4 *xv = (const uint4 *)(x + row * n);
    const uint4 *rv = res ? (const uint4 *)(res + row * n) : nullptr;
    uint4 ra[VPT], rb[VPT];
#pragma unroll
    for (int u = 0; u < VPT; u++) {
        int64_t i = tid + (int64_t)u * nt;
        if (i < nv) {
            ra[u] = xv[i];
            if (rv) rb[u] = rv[i];
        }
    }
    float v[VPT][V];
    float acc = KIND == 0 ? 0.0f : -INFINITY;
#pragma unroll
    for (int u = 0; u < VPT; u++) {
        int64_t i = tid + (int64_t)u * nt;
        const T *ea = (const T *)&ra[u], *eb = (const T *)&rb[u];
#pragma unroll
        for (int j = 0; j < V; j++) {
            float t = i < nv ? to_f(ea[j]) + (rv ? to_f(eb[j]) : 0.0f) : 0.0f;
            v[u][j] = t;
            if (i < nv) acc = KIND == 0 ? acc + t : fmaxf(acc, t);
        }
    }
    float scale, shift;
    if (KIND == 0) {
        const float mean = row_sum<G>(acc, scratch) / (float)n;
        float var = 0;
#pragma unroll
        for (int u = 0; u < VPT; u++) {
            int64_t i = tid + (int64_t)u * nt;
#pragma unroll
            for (int j = 0; j < V; j++) {
                float c = v[u][j] - mean;
                var += i < nv ? c * c : 0.0f;
            }
        }
        scale = rsqrtf(row_sum<G>(var, scratch) / (float)n + eps);
        shift = mean;
    } else {
        const float m = row_max<G>(acc, scratch);
        float sum = 0;
#pragma unroll
        for (int u = 0; u < VPT; u++) {
            int64_t i = tid + (int64_t)u * nt;
#pragma unroll
            for (int j = 0; j < V; j++) {
                float e = (i < nv && m != -INFINITY) ? __expf(v[u][j] - m) : 0.0f;
                v[u][j] = e;
                sum += e;
            }
        }
        sum = row_sum<G>(sum, scratch);
        scale = m == -INFINITY ? 0.0f : 1.0f / sum; /* every entry -inf: a zero row, like the CPU */
        shift = 0.0f;
    }
    if (!active) return;
    uint4 *ov = (uint4 *)(out + row * n);
#pragma unroll
    for (int u = 0; u < VPT; u++) {
        int64_t i = tid + (int64_t)u * nt;
        if (i >= nv) continue;
        uint4 packed, wv, bv;
        if (KIND == 0 && w) wv = ((const uint4 *)w)[i];
        if (KIND == 0 && b) bv = ((const uint4 *)b)[i];
        T *e = (T *)&packed;
#pragma unroll
        for (int j = 0; j < V; j++) {
            float t = (v[u][j] - shift) * scale;
            if (KIND == 0 && w) t *= to_f(((const T *)&wv)[j]);
            if (KIND == 0 && b) t += to_f(((const T *)&bv)[j]);
            e[j] = from_f<T>(t);
        }
        ov[i] = packed;
    }
}

template <typename T, int VPT, int KIND>
__global__ void row_reg_kernel(T *out, const T *x, const T *res, const T *w, const T *b, int64_t rows, int64_t n, float eps) {
    __shared__ float scratch[32];
    lc_cu_wait_prior_grid();
    lc_cu_launch_dependents();
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x)
        row_body<T, VPT, KIND, 0>(out, x, res, w, b, row, n, eps, threadIdx.x, blockDim.x, scratch);
}

/* One warp per row, ROW_WARPS rows per block. */
#define ROW_WARPS 4
template <typename T, int VPT, int KIND>
__global__ void __launch_bounds__(ROW_WARPS * 32) row_warp_kernel(T *out, const T *x, const T *res, const T *w, const T *b,
                                                                  int64_t rows, int64_t n, float eps) {
    lc_cu_wait_prior_grid();
    lc_cu_launch_dependents();
    const int64_t first = (int64_t)blockIdx.x * ROW_WARPS + (threadIdx.x >> 5), step = (int64_t)gridDim.x * ROW_WARPS;
    for (int64_t row = first; row < rows; row += step) /* warp-uniform */
        row_body<T, VPT, KIND, 32>(out, x, res, w, b, row, n, eps, threadIdx.x & 31, 32, nullptr);
}

/* Rows of at most 16 vectors: G lanes per row, 32 / G rows per warp, one vector per lane. */
template <typename T, int KIND, int G>
__global__ void __launch_bounds__(ROW_WARPS * 32) row_group_kernel(T *out, const T *x, const T *res, const T *w, const T *b,
                                                                   int64_t rows, int64_t n, float eps) {
    lc_cu_wait_prior_grid();
    lc_cu_launch_dependents();
    constexpr int PER_WARP = 32 / G;
    const int lane = threadIdx.x & 31;
    const int64_t first = ((int64_t)blockIdx.x * ROW_WARPS + (threadIdx.x >> 5)) * PER_WARP, step = (int64_t)gridDim.x * ROW_WARPS * PER_WARP;
    for (int64_t base = first; base < rows; base += step) { /* warp-uniform */
        const int64_t row = base + lane / G;
        const bool active = row < rows;
        row_body<T, 1, KIND, G>(out, x, res, w, b, active ? row : rows - 1, n, eps, lane % G, G, nullptr, active);
    }
}

template <typename T, int KIND>
static int launch_row_group(cudaStream_t s, T *out, const T *x, const T *res, const T *w, const T *b, int64_t rows, int64_t n, float eps,
                            int64_t nv) {
    int g = 1;
    while (g < nv) g *= 2;
    const int64_t per_block = ROW_WARPS * (32 / g);
    const int grid = row_grid((rows + per_block - 1) / per_block);
    const dim3 blk(ROW_WARPS * 32);
    switch (g) {
    case 1: return lc_cu_launch(row_group_kernel<T, KIND, 1>, dim3(grid), blk, 0, s, out, x, res, w, b, rows, n, eps);
    case 2: return lc_cu_launch(row_group_kernel<T, KIND, 2>, dim3(grid), blk, 0, s, out, x, res, w, b, rows, n, eps);
    case 4: return lc_cu_launch(row_group_kernel<T, KIND, 4>, dim3(grid), blk, 0, s, out, x, res, w, b, rows, n, eps);
    case 8: return lc_cu_launch(row_group_kernel<T, KIND, 8>, dim3(grid), blk, 0, s, out, x, res, w, b, rows, n, eps);
    default: return lc_cu_launch(row_group_kernel<T, KIND, 16>, dim3(grid), blk, 0, s, out, x, res, w, b, rows, n, eps);
    }
}

/* Short rows go one warp per row: by default rows of at most 64 vectors (512 f16/bf16 or 256 f32
 * elements: MiniLM's 384, where one warp per row measured 4% faster on the whole forward);
 * LOCUS_CUDA_ROW_WARP=1 extends it to 128 vectors (BERT-base's and ViT-B/16's 768: level with the
 * block-per-row kernel or a few % slower on an H100, BENCHMARKS.md), =0 turns it off. */
template <typename T, int KIND>
static int launch_row_warp(cudaStream_t s, T *out, const T *x, const T *res, const T *w, const T *b, int64_t rows, int64_t n, float eps) {
    constexpr int V = vec_of<T>::n;
    const int64_t nv = n / V;
    const char *env = getenv("LOCUS_CUDA_ROW_WARP");
    const int64_t limit = !env || !*env ? 64 : strcmp(env, "1") == 0 ? 32 * 4 : 0;
    if (nv > limit) return -1;
    if (nv <= 16) return launch_row_group<T, KIND>(s, out, x, res, w, b, rows, n, eps, nv);
    int64_t blocks = (rows + ROW_WARPS - 1) / ROW_WARPS;
    int grid = row_grid(blocks);
    if (nv <= 32) return lc_cu_launch(row_warp_kernel<T, 1, KIND>, dim3(grid), dim3(ROW_WARPS * 32), 0, s, out, x, res, w, b, rows, n, eps);
    if (nv <= 64) return lc_cu_launch(row_warp_kernel<T, 2, KIND>, dim3(grid), dim3(ROW_WARPS * 32), 0, s, out, x, res, w, b, rows, n, eps);
    return lc_cu_launch(row_warp_kernel<T, 4, KIND>, dim3(grid), dim3(ROW_WARPS * 32), 0, s, out, x, res, w, b, rows, n, eps);
}

/* Launch the register kernel when the row fits (n a multiple of the vector width, 16-byte aligned
 * pointers, at most 512 * 8 vectors); returns -1 when it does not apply. */
template <typename T, int KIND>
static int launch_row_reg(cudaStream_t s, T *out, const T *x, const T *res, const T *w, const T *b, int64_t rows, int64_t n, float eps) {
    constexpr int V = vec_of<T>::n;
    if (n % V || !al16(out) || !al16(x) || !al16(res) || !al16(w) || !al16(b)) return -1;
    int64_t nv = n / V;
    if (nv > 4096) return -1;
    int rw = launch_row_warp<T, KIND>(s, out, x, res, w, b, rows, n, eps);
    if (rw >= 0) return rw;
    /* At most 256 threads per row: long rows give each thread two or more vectors and twice the
     * rows per multiprocessor, measured on an H100 at 91-97% of the copy bandwidth against 78-82%
     * with 512 (BENCHMARKS.md). LOCUS_CUDA_ROW_THREADS=32..512 overrides it, for measurement. */
    const char *env = getenv("LOCUS_CUDA_ROW_THREADS");
    int64_t cap = env && atoi(env) >= 32 && atoi(env) <= 512 ? atoi(env) : 256;
    int vpt = 1;
    while (vpt < 8 && (nv + vpt - 1) / vpt > cap) vpt *= 2;
    int threads = (int)(((nv + vpt - 1) / vpt + 31) / 32 * 32);
    if (threads < 32) threads = 32;
    int grid = row_grid(rows);
    switch (vpt) {
    case 1: return lc_cu_launch(row_reg_kernel<T, 1, KIND>, dim3(grid), dim3(threads), 0, s, out, x, res, w, b, rows, n, eps);
    case 2: return lc_cu_launch(row_reg_kernel<T, 2, KIND>, dim3(grid), dim3(threads), 0, s, out, x, res, w, b, rows, n, eps);
    case 4: return lc_cu_launch(row_reg_kernel<T, 4, KIND>, dim3(grid), dim3(threads), 0, s, out, x, res, w, b, rows, n, eps);
    default: return lc_cu_launch(row_reg_kernel<T, 8, KIND>, dim3(grid), dim3(threads), 0, s, out, x, res, w, b, rows, n, eps);
    }
}

extern "C" int lc_cu_layer_norm(lc_cu_stream s, int dtype, void *out, const void *x, const void *res, const void *w,
                                const void *b, int64_t rows, int64_t n, float eps) {
    if (rows == 0 || n == 0) return 0;
    LC_CU_DISPATCH_FLOAT(dtype, T, {
        constexpr int V = vec_of<T>::n;
        int r = launch_row_reg<T, 0>(s, (T *)out, (const T *)x, (const T *)res, (const T *)w, (const T *)b, rows, n, eps);
        if (r >= 0) return r;
        if (n <= ROW_SMEM_MAX_FLOATS) {
            bool vec = n % V == 0 && al16(out) && al16(x) && al16(res) && al16(w) && al16(b);
            size_t smem = (size_t)n * sizeof(float);
            int e = allow_smem(layer_norm_kernel<T>, smem);
            if (e) return e;
            layer_norm_kernel<T><<<row_grid(rows), threads_for(n, vec ? V : 1), smem, s>>>(
                (T *)out, (const T *)x, (const T *)res, (const T *)w, (const T *)b, rows, n, eps, vec);
        } else {
            layer_norm_long_kernel<T><<<row_grid(rows), 512, 0, s>>>((T *)out, (const T *)x, (const T *)res, (const T *)w,
                                                                    (const T *)b, rows, n, eps);
        }
    });
    return lc_cu_last_error();
}

/* ---- softmax --------------------------------------------------------------------------------- */
/* Online softmax statistics: m the running maximum, l the sum of exp(x - m). online_merge folds
 * in a part with maximum pm and sum pl (a part of -inf adds nothing); online_add one value. */
__device__ __forceinline__ void online_merge(float &m, float &l, float pm, float pl) {
    if (pm > m) {
        l = (m == -INFINITY ? 0.0f : l * __expf(m - pm)) + pl;
        m = pm;
    } else if (pm != -INFINITY) {
        l += pl * __expf(pm - m);
    }
}
__device__ __forceinline__ void online_add(float &m, float &l, float v) { online_merge(m, l, v, 1.0f); }
/* (m, l) of the whole block, in every thread. */
__device__ __forceinline__ void online_block(float &m, float &l, float *scratch) {
    float gm = block_max(m, scratch);
    l = block_sum(m == -INFINITY ? 0.0f : l * __expf(m - gm), scratch);
    m = gm;
}
template <typename T>
__global__ void softmax_kernel(T *out, const T *x, int64_t rows, int64_t n, bool vec) {
    extern __shared__ float buf[];
    __shared__ float scratch[32];
    constexpr int V = vec_of<T>::n;
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T *xr = x + r * n;
        load_row(buf, xr, (const T *)nullptr, n, vec);
        __syncthreads(); /* the max reads elements other threads loaded */
        float m = -INFINITY;
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, buf[i]);
        m = block_max(m, scratch);
        float sum = 0;
        if (m != -INFINITY)
            for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
                float e = __expf(buf[i] - m);
                buf[i] = e;
                sum += e;
            }
        sum = block_sum(sum, scratch);
        float inv = m == -INFINITY ? 0.0f : 1.0f / sum; /* every entry -inf: a zero row, like the CPU */
        T *o = out + r * n;
        if (vec) {
            for (int64_t i = threadIdx.x; i < n / V; i += blockDim.x) {
                uint4 packed;
                T *e = (T *)&packed;
#pragma unroll
                for (int j = 0; j < V; j++) e[j] = from_f<T>(m == -INFINITY ? 0.0f : buf[i * V + j] * inv);
                ((uint4 *)o)[i] = packed;
            }
        } else {
            for (int64_t i = threadIdx.x; i < n; i += blockDim.x) o[i] = from_f<T>(m == -INFINITY ? 0.0f : buf[i] * inv);
        }
        __syncthreads();
    }
}

/* Long rows: online max/sum in one read, then a second read to write. */
template <typename T>
__global__ void softmax_long_kernel(T *out, const T *x, int64_t rows, int64_t n) {
    __shared__ float scratch[32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T *xr = x + r * n;
        float m = -INFINITY, l = 0;
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) online_add(m, l, to_f(xr[i]));
        online_block(m, l, scratch);
        float inv = m == -INFINITY ? 0.0f : 1.0f / l;
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
            out[r * n + i] = from_f<T>(m == -INFINITY ? 0.0f : __expf(to_f(xr[i]) - m) * inv);
    }
}

/* Few long rows: blockIdx.y is the row, blockIdx.x one of its chunks of `len` elements. The first
 * kernel leaves each chunk's online (max, sum) in parts; the second combines the row's parts (in
 * the same order in every block, so all chunks use the same max and sum) and writes its chunk. */
template <typename T> __global__ void softmax_parts_kernel(float2 *parts, const T *x, int64_t n, int64_t len) {
    __shared__ float scratch[32];
    const int64_t r = blockIdx.y, j0 = (int64_t)blockIdx.x * len, j1 = j0 + len < n ? j0 + len : n;
    const T *xr = x + r * n;
    float m = -INFINITY, l = 0;
    for (int64_t i = j0 + threadIdx.x; i < j1; i += blockDim.x) online_add(m, l, to_f(xr[i]));
    online_block(m, l, scratch);
    if (threadIdx.x == 0) parts[r * gridDim.x + blockIdx.x] = make_float2(m, l);
}
template <typename T> __global__ void softmax_write_kernel(T *out, const T *x, const float2 *parts, int64_t n, int64_t len) {
    __shared__ float scratch[32];
    const int64_t r = blockIdx.y, j0 = (int64_t)blockIdx.x * len, j1 = j0 + len < n ? j0 + len : n;
    const float2 *pr = parts + r * gridDim.x;
    float m = -INFINITY, l = 0;
    for (int c = threadIdx.x; c < (int)gridDim.x; c += blockDim.x) online_merge(m, l, pr[c].x, pr[c].y);
    online_block(m, l, scratch);
    const float inv = m == -INFINITY ? 0.0f : 1.0f / l;
    const T *xr = x + r * n;
    T *o = out + r * n;
    for (int64_t i = j0 + threadIdx.x; i < j1; i += blockDim.x) o[i] = from_f<T>(m == -INFINITY ? 0.0f : __expf(to_f(xr[i]) - m) * inv);
}

/* Chunks per row for the split path (0: one block per row): rows too long for shared memory and
 * too few to fill the multiprocessors; at most four 512-thread blocks per multiprocessor in all
 * (one wave), chunks of at least 16K elements. */
static int softmax_chunks(int64_t rows, int64_t n, int64_t *len) {
    int64_t sms = lc_cu_sm_count();
    if (n <= ROW_SMEM_MAX_FLOATS || rows >= 2 * sms || rows > 65535) return 0;
    return lc_cu_row_chunks(rows, n, 4 * sms, 16384, len);
}

extern "C" size_t lc_cu_softmax_scratch(int64_t rows, int64_t n) {
    int64_t len;
    int chunks = softmax_chunks(rows, n, &len);
    return chunks ? (size_t)(rows * chunks) * sizeof(float2) : 0;
}

extern "C" int lc_cu_softmax(lc_cu_stream s, int dtype, void *out, const void *x, int64_t rows, int64_t n, void *scratch) {
    if (rows == 0 || n == 0) return 0;
    int64_t len = 0;
    int chunks = softmax_chunks(rows, n, &len);
    if (chunks) {
        if (!scratch) return (int)cudaErrorInvalidValue;
        dim3 grid((unsigned)chunks, (unsigned)rows);
        LC_CU_DISPATCH_FLOAT(dtype, T, {
            softmax_parts_kernel<T><<<grid, 512, 0, s>>>((float2 *)scratch, (const T *)x, n, len);
            softmax_write_kernel<T><<<grid, 512, 0, s>>>((T *)out, (const T *)x, (const float2 *)scratch, n, len);
        });
        return lc_cu_last_error();
    }
    LC_CU_DISPATCH_FLOAT(dtype, T, {
        constexpr int V = vec_of<T>::n;
        int r = launch_row_reg<T, 1>(s, (T *)out, (const T *)x, (const T *)nullptr, (const T *)nullptr, (const T *)nullptr, rows, n, 0.0f);
        if (r >= 0) return r;
        if (n <= ROW_SMEM_MAX_FLOATS) {
            bool vec = n % V == 0 && al16(out) && al16(x);
            size_t smem = (size_t)n * sizeof(float);
            int e = allow_smem(softmax_kernel<T>, smem);
            if (e) return e;
            softmax_kernel<T><<<row_grid(rows), threads_for(n, vec ? V : 1), smem, s>>>((T *)out, (const T *)x, rows, n, vec);
        } else {
            softmax_long_kernel<T><<<row_grid(rows), 512, 0, s>>>((T *)out, (const T *)x, rows, n);
        }
    });
    return lc_cu_last_error();
}
