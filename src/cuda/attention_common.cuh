/* What the flash-style attention kernels (attention.cu, attention_f32.cu) share: the device's
 * multiprocessor count and compute capability, asynchronous 16-byte copies, and the online-softmax
 * step of one key tile over a warp's 16 query rows, with the scores in the mma.sync m16n8
 * accumulator layout (lane 4g + t holds rows g and g + 8, columns 2t and 2t + 1 of each 8-key
 * block nb: s[nb][0..1] row g, s[nb][2..3] row g + 8). */
#ifndef LOCUS_CUDA_ATTENTION_COMMON_CUH
#define LOCUS_CUDA_ATTENTION_COMMON_CUH

#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

/* Multiprocessors and compute capability (major) of the current device, cached per device. */
static inline int lc_cu_sm_count(void) {
    static int n[64];
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return 132;
    if (!n[dev]) cudaDeviceGetAttribute(&n[dev], cudaDevAttrMultiProcessorCount, dev);
    return n[dev] ? n[dev] : 132;
}
static inline int lc_cu_device_major(void) {
    static int major[64];
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return 0;
    if (!major[dev]) cudaDeviceGetAttribute(&major[dev], cudaDevAttrComputeCapabilityMajor, dev);
    return major[dev];
}

/* Asynchronous 16-byte copies global -> shared (sm_80+), zero-filled when `valid` is false. */
__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, bool valid) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    int n = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(n));
#endif
}
/* 4-byte asynchronous copy (cp.async.ca; zero-filled when `valid` is false). */
__device__ __forceinline__ void cp_async4(void *smem, const void *gmem, bool valid) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    int n = valid ? 4 : 0;
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(s), "l"(gmem), "r"(n));
#endif
}
__device__ __forceinline__ void cp_async_commit() {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    asm volatile("cp.async.commit_group;\n" ::);
#endif
}
template <int N> __device__ __forceinline__ void cp_async_wait() {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

/* The key flags of one tile, keys [k0, k0 + n), into shared memory as floats read as "keep when
 * nonzero": with a mask (its row for this batch item), the mask values themselves, copied
 * asynchronously with the tile's K and V (keys at or past Tk zero-filled); without one, 1 or 0
 * written directly. A synchronous load here would stall the issuing threads for a device-memory
 * round trip before every tile. */
__device__ __forceinline__ void mask_tile_async(float *ms, const float *mask_row, int64_t k0, int n, int64_t Tk) {
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        const int64_t key = k0 + j;
        if (mask_row) cp_async4(ms + j, key < Tk ? (const void *)(mask_row + key) : (const void *)mask_row, key < Tk);
        else ms[j] = key < Tk ? 1.0f : 0.0f;
    }
}

/* x rounded to TF32 (cvt.rna), as f32 bits. */
__device__ __forceinline__ uint32_t tf32_bits(float x) {
    uint32_t r;
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
#else
    r = __float_as_uint(x);
#endif
    return r;
}
/* The 3xTF32 split: x = big + small, big = tf32(x), small = tf32(x - big) (the remainder is exact
 * in f32), so that a b ~= asmall bbig + abig bsmall + abig bbig to about 2^-22 relative. */
__device__ __forceinline__ void tf32_split(float x, uint32_t &big, uint32_t &small) {
    big = tf32_bits(x);
    small = tf32_bits(x - __uint_as_float(big));
}
/* c (16x8, f32) += a (16x8) b (8x8), TF32 operands: mma.sync m16n8k8. */
__device__ __forceinline__ void mma_tf32_m16n8k8(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

__device__ __forceinline__ float fast_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

/* Masks and scales the tile's scores (keep(nb): this lane's two keys of block nb as a float2,
 * nonzero = usable; scale_log2 = scale * log2 e, so that the exponentials are powers of two),
 * updates the running max m and sum l of both rows, replaces s by the probabilities and rescales
 * the output accumulator o by exp(m_old - m_new). A row with no usable key so far keeps m = -inf:
 * its reference point is 0, so its probabilities and rescale factor are exp2(-inf) = 0. */
template <int NB, int DB, typename Keep>
__device__ __forceinline__ void online_softmax_tile(float (&s)[NB][4], float (&o)[DB][4], float &m0, float &m1, float &l0, float &l1,
                                                    float scale_log2, Keep keep) {
    float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
    for (int nb = 0; nb < NB; nb++) {
        const float2 mk = keep(nb);
        s[nb][0] = mk.x != 0.0f ? s[nb][0] * scale_log2 : -INFINITY;
        s[nb][1] = mk.y != 0.0f ? s[nb][1] * scale_log2 : -INFINITY;
        s[nb][2] = mk.x != 0.0f ? s[nb][2] * scale_log2 : -INFINITY;
        s[nb][3] = mk.y != 0.0f ? s[nb][3] * scale_log2 : -INFINITY;
        mx0 = fmaxf(mx0, fmaxf(s[nb][0], s[nb][1]));
        mx1 = fmaxf(mx1, fmaxf(s[nb][2], s[nb][3]));
    }
    mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
    mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
    mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
    mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
    const float mn0 = fmaxf(m0, mx0), mn1 = fmaxf(m1, mx1);
    const float r0 = mn0 == -INFINITY ? 0.0f : mn0, r1 = mn1 == -INFINITY ? 0.0f : mn1;
    const float al0 = fast_exp2(m0 - r0), al1 = fast_exp2(m1 - r1);
    float rs0 = 0.0f, rs1 = 0.0f;
#pragma unroll
    for (int nb = 0; nb < NB; nb++) {
        s[nb][0] = fast_exp2(s[nb][0] - r0);
        s[nb][1] = fast_exp2(s[nb][1] - r0);
        s[nb][2] = fast_exp2(s[nb][2] - r1);
        s[nb][3] = fast_exp2(s[nb][3] - r1);
        rs0 += s[nb][0] + s[nb][1];
        rs1 += s[nb][2] + s[nb][3];
    }
    rs0 += __shfl_xor_sync(0xffffffffu, rs0, 1);
    rs0 += __shfl_xor_sync(0xffffffffu, rs0, 2);
    rs1 += __shfl_xor_sync(0xffffffffu, rs1, 1);
    rs1 += __shfl_xor_sync(0xffffffffu, rs1, 2);
    l0 = l0 * al0 + rs0, l1 = l1 * al1 + rs1;
    m0 = mn0, m1 = mn1;
#pragma unroll
    for (int i = 0; i < DB; i++) {
        o[i][0] *= al0, o[i][1] *= al0;
        o[i][2] *= al1, o[i][3] *= al1;
    }
}

#endif
