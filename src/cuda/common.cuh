/* Shared device helpers of the CUDA kernels: dtype conversion, dispatch, block reductions. */
#ifndef LOCUS_CUDA_COMMON_CUH
#define LOCUS_CUDA_COMMON_CUH

#include "cuda/kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdlib.h>

#define LC_CU_F32 0
#define LC_CU_F16 1
#define LC_CU_BF16 2
#define LC_CU_I32 3
#define LC_CU_I64 4

__device__ __forceinline__ float to_f(float x) { return x; }
__device__ __forceinline__ float to_f(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T from_f(float x);
template <> __device__ __forceinline__ float from_f<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_f<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

/* Run `body` with T bound to the C++ type of a float dtype code; other codes return an error. */
#define LC_CU_DISPATCH_FLOAT(dtype, T, ...)                                                     \
    switch (dtype) {                                                                            \
    case LC_CU_F32: { typedef float T; __VA_ARGS__; } break;                                    \
    case LC_CU_F16: { typedef __half T; __VA_ARGS__; } break;                                   \
    case LC_CU_BF16: { typedef __nv_bfloat16 T; __VA_ARGS__; } break;                           \
    default: return (int)cudaErrorInvalidValue;                                                 \
    }

static inline int lc_cu_blocks(int64_t n, int threads, int64_t cap = 65535LL * 32) {
    int64_t b = (n + threads - 1) / threads;
    if (b < 1) b = 1;
    if (b > cap) b = cap;
    return (int)b;
}

static inline int lc_cu_last_error(void) { return (int)cudaGetLastError(); }
/* Chunks to split a row of n elements into so that the whole problem makes about `want` blocks in
 * all (`rows` rows), each chunk at least min_len long; *len gets the chunk length. 0 when fewer
 * than two chunks would do (one block per row then). */
static inline int lc_cu_row_chunks(int64_t rows, int64_t n, int64_t want, int64_t min_len, int64_t *len) {
    int64_t per_row = want / rows, most = n / min_len;
    int64_t chunks = per_row < most ? per_row : most;
    if (chunks < 2) return 0;
    *len = (n + chunks - 1) / chunks;
    return (int)((n + *len - 1) / *len);
}

/* Programmatic dependent launch (sm_90), LOCUS_CUDA_PDL=1: locus's own kernels (attention,
 * LayerNorm / softmax rows, the elementwise pass after a GEMM) are launched so that their blocks are
 * scheduled while the previous kernel drains; each such kernel begins with lc_cu_wait_prior_grid(),
 * which returns once that kernel has finished and its writes are visible (and at once when the
 * launch was an ordinary one), so no access overlaps it. Off by default: in captured forwards on an
 * H100 and an H200 it measured level with ordinary launches (BENCHMARKS.md). */
static inline bool lc_cu_pdl_enabled(void) {
    const char *e = getenv("LOCUS_CUDA_PDL");
    return e && e[0] == '1' && !e[1];
}
template <typename Kern, typename... Args>
static inline int lc_cu_launch(Kern kernel, dim3 grid, dim3 block, size_t smem, cudaStream_t s, Args... args) {
    if (lc_cu_pdl_enabled()) {
        cudaLaunchConfig_t cfg = {};
        cfg.gridDim = grid, cfg.blockDim = block, cfg.dynamicSmemBytes = smem, cfg.stream = s;
        cudaLaunchAttribute at[1];
        at[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
        at[0].val.programmaticStreamSerializationAllowed = 1;
        cfg.attrs = at, cfg.numAttrs = 1;
        if (cudaLaunchKernelEx(&cfg, kernel, args...) == cudaSuccess) return 0;
        (void)cudaGetLastError(); /* not supported here: an ordinary launch */
    }
    kernel<<<grid, block, smem, s>>>(args...);
    return lc_cu_last_error();
}
__device__ __forceinline__ void lc_cu_wait_prior_grid(void) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

/* Lets the next kernel in the stream (when launched as a programmatic dependent) be scheduled
 * now: its blocks are scheduled and wait in lc_cu_wait_prior_grid() for this whole grid to finish
 * and its writes to be visible, so calling it early is safe. */
__device__ __forceinline__ void lc_cu_launch_dependents(void) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Sum / max over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the
 * result. `scratch` holds 32 floats; the call begins and ends with a barrier so that it can be
 * used back to back. */
__device__ __forceinline__ float block_sum(float v, float *scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float r = lane < nw ? scratch[lane] : 0.0f;
    return warp_sum(r);
}
__device__ __forceinline__ float block_max(float v, float *scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float r = lane < nw ? scratch[lane] : -INFINITY;
    return warp_max(r);
}

/* Offset (elements) of logical index i of a strided view. */
__device__ __forceinline__ int64_t view_offset(const lc_cu_view &v, int64_t i) {
    int64_t off = 0;
    for (int d = v.ndim - 1; d >= 0; d--) {
        int64_t n = v.shape[d];
        off += (i % n) * v.strides[d];
        i /= n;
    }
    return off;
}

#endif
