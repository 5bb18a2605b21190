/* Fused scaled-dot-product attention with a key padding mask, flash-style: one pass over the
 * keys with an online softmax (running max m and sum l per query), so the (Tq, Tk) score
 * matrix never reaches device memory.
 *
 *   plain kernel   any float dtype, head size up to 256: CUDA cores, f32 arithmetic. Each warp
 *                  owns 4 queries; a tile of 32 keys sits in shared memory and lane j scores key
 *                  j, then the lanes accumulate P·V over their slice of the head dimension.
 *   ldmatrix       f16 / bf16, head size 32, 64 or 128 (the default): mma.sync m16n8k16 with the
 *                  scores, probabilities and output accumulator in registers, K/V tiles of 32
 *                  or 64 keys double-buffered by cp.async, operand fragments loaded with ldmatrix;
 *                  optionally persistent blocks that stream their work items back to back.
 *   f32            attention_f32.cu: mma.sync m16n8k8 in TF32 (math mode TF32) or the 3xTF32 split
 *                  (about f32 accuracy); LOCUS_CUDA_ATTENTION_F32=plain keeps the CUDA-core kernel.
 *   mma1, wmma     earlier tensor-core kernels kept for comparison (LOCUS_CUDA_ATTENTION): the
 *                  same register-resident scheme with scalar fragment loads, and a WMMA kernel
 *                  whose accumulator lives in shared memory.
 * P is rounded to the input dtype before P·V, as in FlashAttention; statistics stay in f32.
 */
#include "cuda/common.cuh"
#include "cuda/attention_common.cuh"
#include "locus/cuda.h"

#include <mma.h>
#include <stdlib.h>
#include <string.h>

using namespace nvcuda;

/* ---- plain kernel ------------------------------------------------------------------------------ */
#define PL_QPW 4    /* queries per warp */
#define PL_WARPS 4  /* warps per block */
#define PL_KT 32    /* keys per tile */

template <typename T, int DL>
__global__ void __launch_bounds__(PL_WARPS * 32) attention_plain_kernel(lc_cu_attn_args a) {
    extern __shared__ float sm[];
    const int D = (int)a.D;
    float *Ks = sm;                              /* [PL_KT][D + 1] */
    float *Vs = Ks + PL_KT * (D + 1);            /* [PL_KT][D] */
    float *Ms = Vs + PL_KT * D;                  /* [PL_KT] key usable: 1 / 0 */
    float *Qs = Ms + PL_KT;                      /* [PL_WARPS][PL_QPW][D] */
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int64_t nqb = (a.Tq + PL_WARPS * PL_QPW - 1) / (PL_WARPS * PL_QPW);
    const int64_t bh = blockIdx.x / nqb, qb = blockIdx.x % nqb;
    const int64_t b = bh / a.H, h = bh % a.H;
    const T *q = (const T *)a.q + b * a.qs[0] + h * a.qs[1];
    const T *k = (const T *)a.k + b * a.ks[0] + h * a.ks[1];
    const T *v = (const T *)a.v + b * a.vs[0] + h * a.vs[1];
    const int64_t q0 = qb * PL_WARPS * PL_QPW + warp * PL_QPW;
    float *qw = Qs + warp * PL_QPW * D;
    for (int i = 0; i < PL_QPW; i++)
        for (int d = lane; d < D; d += 32) qw[i * D + d] = q0 + i < a.Tq ? to_f(q[(q0 + i) * a.qs[2] + d]) * a.scale : 0.0f;
    float m[PL_QPW], l[PL_QPW], acc[PL_QPW][DL];
#pragma unroll
    for (int i = 0; i < PL_QPW; i++) {
        m[i] = -INFINITY;
        l[i] = 0;
#pragma unroll
        for (int j = 0; j < DL; j++) acc[i][j] = 0;
    }
    for (int64_t k0 = 0; k0 < a.Tk; k0 += PL_KT) {
        __syncthreads();
        for (int idx = threadIdx.x; idx < PL_KT * D; idx += blockDim.x) {
            int j = idx / D, d = idx % D;
            int64_t key = k0 + j;
            bool ok = key < a.Tk;
            Ks[j * (D + 1) + d] = ok ? to_f(k[key * a.ks[2] + d]) : 0.0f;
            Vs[j * D + d] = ok ? to_f(v[key * a.vs[2] + d]) : 0.0f;
        }
        if (threadIdx.x < PL_KT) {
            int64_t key = k0 + threadIdx.x;
            Ms[threadIdx.x] = key < a.Tk && (!a.mask || a.mask[b * a.Tk + key] != 0.0f) ? 1.0f : 0.0f;
        }
        __syncthreads();
        const bool usable = Ms[lane] != 0.0f;
#pragma unroll
        for (int i = 0; i < PL_QPW; i++) {
            if (q0 + i >= a.Tq) break; /* warp-uniform */
            float s = 0;
            for (int d = 0; d < D; d++) s += qw[i * D + d] * Ks[lane * (D + 1) + d];
            s = usable ? s : -INFINITY;
            float mt = warp_max(s), mn = fmaxf(m[i], mt);
            float p = mn == -INFINITY ? 0.0f : __expf(s - mn);
            float alpha = m[i] == -INFINITY ? 0.0f : __expf(m[i] - mn);
            l[i] = l[i] * alpha + warp_sum(p);
            m[i] = mn;
#pragma unroll
            for (int j = 0; j < DL; j++) acc[i][j] *= alpha;
            for (int jj = 0; jj < PL_KT; jj++) {
                float pj = __shfl_sync(0xffffffffu, p, jj);
#pragma unroll
                for (int j = 0; j < DL; j++) {
                    int d = lane + 32 * j;
                    if (d < D) acc[i][j] += pj * Vs[jj * D + d];
                }
            }
        }
    }
    T *o = (T *)a.out + b * a.os[0] + h * a.os[1];
#pragma unroll
    for (int i = 0; i < PL_QPW; i++) {
        if (q0 + i >= a.Tq) break;
        float inv = l[i] > 0 ? 1.0f / l[i] : 0.0f;
#pragma unroll
        for (int j = 0; j < DL; j++) {
            int d = lane + 32 * j;
            if (d < D) o[(q0 + i) * a.os[2] + d] = from_f<T>(acc[i][j] * inv);
        }
    }
}

template <typename T, int DL> static int launch_plain(cudaStream_t s, const lc_cu_attn_args *a) {
    int64_t nqb = (a->Tq + PL_WARPS * PL_QPW - 1) / (PL_WARPS * PL_QPW);
    int64_t blocks = a->B * a->H * nqb;
    if (blocks > 0x7fffffff) return (int)cudaErrorInvalidValue;
    size_t smem = sizeof(float) * (size_t)(PL_KT * (a->D + 1) + PL_KT * a->D + PL_KT + PL_WARPS * PL_QPW * a->D);
    if (smem > 48 * 1024) {
        int e = (int)cudaFuncSetAttribute(attention_plain_kernel<T, DL>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        if (e) return e;
    }
    attention_plain_kernel<T, DL><<<(unsigned)blocks, PL_WARPS * 32, smem, s>>>(*a);
    return lc_cu_last_error();
}

extern "C" int lc_cu_attention_reference(lc_cu_stream s, int dtype, const lc_cu_attn_args *a) {
    if (a->B * a->H * a->Tq == 0 || a->D == 0) return 0;
    if (a->D > 256) return (int)cudaErrorInvalidValue;
    LC_CU_DISPATCH_FLOAT(dtype, T, {
        if (a->D <= 32) return launch_plain<T, 1>(s, a);
        if (a->D <= 64) return launch_plain<T, 2>(s, a);
        if (a->D <= 128) return launch_plain<T, 4>(s, a);
        return launch_plain<T, 8>(s, a);
    });
    return 0;
}

/* ---- tensor-core kernel (f16, bf16) ------------------------------------------------------------ */
#define TC_BQ 64    /* queries per block (16 per warp) */
#define TC_BK 64    /* keys per tile */
#define TC_WARPS 4
#define TC_PAD 8    /* half-precision row padding: keeps rows 16-byte aligned, spreads banks */

static __host__ __device__ constexpr size_t tc_align(size_t n) { return (n + 127) & ~(size_t)127; }

template <int D> struct tc_layout {
    static constexpr int LDH = D + TC_PAD;                                   /* Q, K, V rows (elements) */
    static constexpr int LDS = (D > TC_BK ? D : TC_BK) + 4;                  /* scores / P·V rows (floats) */
    static constexpr int LDP = TC_BK + TC_PAD;                               /* P rows (elements) */
    static constexpr int LDO = D + 4;                                        /* accumulator rows (floats) */
    static constexpr size_t q_off = 0;
    static constexpr size_t k_off = q_off + tc_align((size_t)TC_BQ * LDH * 2);
    static constexpr size_t v_off = k_off + tc_align((size_t)TC_BK * LDH * 2);
    static constexpr size_t s_off = v_off + tc_align((size_t)TC_BK * LDH * 2);
    static constexpr size_t p_off = s_off + tc_align((size_t)TC_WARPS * 16 * LDS * 4);
    static constexpr size_t o_off = p_off + tc_align((size_t)TC_WARPS * 16 * LDP * 2);
    static constexpr size_t m_off = o_off + tc_align((size_t)TC_WARPS * 16 * LDO * 4);
    static constexpr size_t bytes = m_off + tc_align(TC_BK * 4);
};

/* Copy rows [r0, r0 + n) of a (rows, D) strided matrix into shared memory, 16 bytes at a time;
 * rows past `limit` are zero. */
template <typename T, int D>
__device__ __forceinline__ void tc_load_tile(T *dst, int ld, const T *src, int64_t row_stride, int64_t r0, int n, int64_t limit) {
    constexpr int V = 8; /* elements per 16 bytes */
    constexpr int per_row = D / V;
    for (int idx = threadIdx.x; idx < n * per_row; idx += blockDim.x) {
        int r = idx / per_row, c = (idx % per_row) * V;
        uint4 val = make_uint4(0, 0, 0, 0);
        if (r0 + r < limit) val = *(const uint4 *)(src + (r0 + r) * row_stride + c);
        *(uint4 *)(dst + r * ld + c) = val;
    }
}

template <typename T, int D>
__global__ void __launch_bounds__(TC_WARPS * 32) attention_tc_kernel(lc_cu_attn_args a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
    __trap(); /* the host picks this kernel only on sm_80 and newer */
#else
    using L = tc_layout<D>;
    extern __shared__ __align__(128) unsigned char smem[];
    T *Qs = (T *)(smem + L::q_off), *Ks = (T *)(smem + L::k_off), *Vs = (T *)(smem + L::v_off);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float *Ss = (float *)(smem + L::s_off) + warp * 16 * L::LDS;
    T *Ps = (T *)(smem + L::p_off) + warp * 16 * L::LDP;
    float *Os = (float *)(smem + L::o_off) + warp * 16 * L::LDO;
    float *Ms = (float *)(smem + L::m_off);

    const int64_t nqb = (a.Tq + TC_BQ - 1) / TC_BQ;
    const int64_t bh = blockIdx.x / nqb, qb = blockIdx.x % nqb;
    const int64_t b = bh / a.H, h = bh % a.H;
    const T *q = (const T *)a.q + b * a.qs[0] + h * a.qs[1];
    const T *k = (const T *)a.k + b * a.ks[0] + h * a.ks[1];
    const T *v = (const T *)a.v + b * a.vs[0] + h * a.vs[1];
    const int64_t q0 = qb * TC_BQ;

    tc_load_tile<T, D>(Qs, L::LDH, q, a.qs[2], q0, TC_BQ, a.Tq);
    for (int i = lane; i < 16 * L::LDO; i += 32) Os[i] = 0;
    /* lanes 2r and 2r+1 own query row r of this warp: columns [half * BK/2, ...) of the scores
     * and [half * D/2, ...) of the accumulator */
    const int r = lane >> 1, half = lane & 1;
    float m = -INFINITY, l = 0;

    for (int64_t k0 = 0; k0 < a.Tk; k0 += TC_BK) {
        __syncthreads(); /* previous tile fully consumed */
        tc_load_tile<T, D>(Ks, L::LDH, k, a.ks[2], k0, TC_BK, a.Tk);
        tc_load_tile<T, D>(Vs, L::LDH, v, a.vs[2], k0, TC_BK, a.Tk);
        for (int j = threadIdx.x; j < TC_BK; j += blockDim.x) {
            int64_t key = k0 + j;
            Ms[j] = key < a.Tk && (!a.mask || a.mask[b * a.Tk + key] != 0.0f) ? 1.0f : 0.0f;
        }
        __syncthreads();

        /* S (16 x BK) = Q_w (16 x D) K^T */
#pragma unroll
        for (int kt = 0; kt < TC_BK / 16; kt++) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::fill_fragment(acc, 0.0f);
#pragma unroll
            for (int dk = 0; dk < D / 16; dk++) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb;
                wmma::load_matrix_sync(fa, Qs + (warp * 16) * L::LDH + dk * 16, L::LDH);
                wmma::load_matrix_sync(fb, Ks + (kt * 16) * L::LDH + dk * 16, L::LDH);
                wmma::mma_sync(acc, fa, fb, acc);
            }
            wmma::store_matrix_sync(Ss + kt * 16, acc, L::LDS, wmma::mem_row_major);
        }
        __syncwarp();

        /* online softmax on row r, columns [c0, c0 + BK/2) */
        const int c0 = half * (TC_BK / 2);
        float tmax = -INFINITY;
#pragma unroll 8
        for (int c = 0; c < TC_BK / 2; c++) {
            float sv = Ms[c0 + c] != 0.0f ? Ss[r * L::LDS + c0 + c] * a.scale : -INFINITY;
            Ss[r * L::LDS + c0 + c] = sv;
            tmax = fmaxf(tmax, sv);
        }
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
        const float mn = fmaxf(m, tmax);
        const float alpha = m == -INFINITY ? 0.0f : __expf(m - mn);
        float rs = 0;
#pragma unroll 8
        for (int c = 0; c < TC_BK / 2; c++) {
            float p = mn == -INFINITY ? 0.0f : __expf(Ss[r * L::LDS + c0 + c] - mn);
            rs += p;
            Ps[r * L::LDP + c0 + c] = from_f<T>(p);
        }
        rs += __shfl_xor_sync(0xffffffffu, rs, 1);
        l = l * alpha + rs;
        m = mn;
        for (int c = half * (D / 2); c < (half + 1) * (D / 2); c++) Os[r * L::LDO + c] *= alpha;
        __syncwarp();

        /* P·V (16 x D) into Ss, then added to the accumulator */
#pragma unroll
        for (int dt = 0; dt < D / 16; dt++) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::fill_fragment(acc, 0.0f);
#pragma unroll
            for (int kk = 0; kk < TC_BK / 16; kk++) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> fb;
                wmma::load_matrix_sync(fa, Ps + kk * 16, L::LDP);
                wmma::load_matrix_sync(fb, Vs + (kk * 16) * L::LDH + dt * 16, L::LDH);
                wmma::mma_sync(acc, fa, fb, acc);
            }
            wmma::store_matrix_sync(Ss + dt * 16, acc, L::LDS, wmma::mem_row_major);
        }
        __syncwarp();
        for (int c = half * (D / 2); c < (half + 1) * (D / 2); c++) Os[r * L::LDO + c] += Ss[r * L::LDS + c];
        __syncwarp();
    }

    const int64_t qi = q0 + warp * 16 + r;
    if (qi < a.Tq) {
        T *o = (T *)a.out + b * a.os[0] + h * a.os[1] + qi * a.os[2];
        float inv = l > 0 ? 1.0f / l : 0.0f;
        for (int c = half * (D / 2); c < (half + 1) * (D / 2); c++) o[c] = from_f<T>(Os[r * L::LDO + c] * inv);
    }
#endif
}

template <typename T, int D> static int launch_tc(cudaStream_t s, const lc_cu_attn_args *a) {
    using L = tc_layout<D>;
    int64_t blocks = a->B * a->H * ((a->Tq + TC_BQ - 1) / TC_BQ);
    if (blocks > 0x7fffffff) return (int)cudaErrorInvalidValue;
    static bool attr_set = false; /* per instantiation; setting it twice is harmless */
    if (!attr_set) {
        int e = (int)cudaFuncSetAttribute(attention_tc_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)L::bytes);
        if (e) return e;
        attr_set = true;
    }
    attention_tc_kernel<T, D><<<(unsigned)blocks, TC_WARPS * 32, L::bytes, s>>>(*a);
    return lc_cu_last_error();
}

/* ---- register-resident tensor-core kernel (mma.sync m16n8k16, FlashAttention-2 style) ------------
 * Each warp owns 16 query rows; scores, probabilities and the output accumulator stay in
 * registers in the documented m16n8k16 fragment layouts (PTX ISA, "Matrix fragments for
 * mma.m16n8k16"): lane = 4 * group + t holds rows group and group + 8, columns 2t and 2t + 1 of
 * each 8-column block. The score accumulators of two adjacent 8-key blocks are exactly the A
 * fragment of the next product, so P never goes through shared memory. */
template <typename T> __device__ __forceinline__ uint32_t pack2(float lo, float hi);
template <> __device__ __forceinline__ uint32_t pack2<__half>(float lo, float hi) {
    __half2 h = __floats2half2_rn(lo, hi);
    return *(uint32_t *)&h;
}
template <> __device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float lo, float hi) {
    __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *(uint32_t *)&h;
}
__device__ __forceinline__ uint32_t pack_raw(uint16_t lo, uint16_t hi) { return (uint32_t)lo | ((uint32_t)hi << 16); }

template <typename T> __device__ __forceinline__ void mma16816(float c[4], const uint32_t a[4], const uint32_t b[2]);
template <> __device__ __forceinline__ void mma16816<__half>(float c[4], const uint32_t a[4], const uint32_t b[2]) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}
template <> __device__ __forceinline__ void mma16816<__nv_bfloat16>(float c[4], const uint32_t a[4], const uint32_t b[2]) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}

/* Rows [r0, r0 + n) of a (rows, D) strided matrix into shared memory, asynchronously. */
template <typename T, int D>
__device__ __forceinline__ void tile_async(T *dst, int ld, const T *src, int64_t row_stride, int64_t r0, int n, int64_t limit) {
    constexpr int per_row = D / 8;
    for (int idx = threadIdx.x; idx < n * per_row; idx += blockDim.x) {
        int r = idx / per_row, c = (idx % per_row) * 8;
        bool ok = r0 + r < limit;
        cp_async16(dst + r * ld + c, ok ? (const void *)(src + (r0 + r) * row_stride + c) : (const void *)src, ok);
    }
}

template <int D, int WARPS, int BK = TC_BK> struct mma_layout {
    static constexpr int BQ = 16 * WARPS;
    static constexpr int LDH = D + TC_PAD; /* 8 halves of padding: conflict-free fragment reads */
    static constexpr size_t tile = tc_align((size_t)BK * LDH * 2);
    static constexpr size_t q_off = 0;
    static constexpr size_t k_off = tc_align((size_t)BQ * LDH * 2); /* two stages of K, then of V */
    static constexpr size_t v_off = k_off + 2 * tile;
    static constexpr size_t m_off = v_off + 2 * tile;
    static constexpr size_t mtile = tc_align(BK * 4);
    static constexpr size_t bytes = m_off + 2 * mtile;
};

/* K/V tiles are double-buffered: the copy of tile i + 1 runs while tile i is computed. */
template <typename T, int D, int WARPS>
__global__ void __launch_bounds__(WARPS * 32) attention_mma_kernel(lc_cu_attn_args a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
    __trap();
#else
    using L = mma_layout<D, WARPS>;
    extern __shared__ __align__(128) unsigned char smem[];
    T *Qs = (T *)(smem + L::q_off);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, tq = lane & 3;
    const int64_t nqb = (a.Tq + L::BQ - 1) / L::BQ;
    const int64_t bh = blockIdx.x / nqb, qb = blockIdx.x % nqb;
    const int64_t b = bh / a.H, h = bh % a.H;
    const T *q = (const T *)a.q + b * a.qs[0] + h * a.qs[1];
    const T *k = (const T *)a.k + b * a.ks[0] + h * a.ks[1];
    const T *v = (const T *)a.v + b * a.vs[0] + h * a.vs[1];
    const int64_t q0 = qb * L::BQ;
    const int ntiles = (int)((a.Tk + TC_BK - 1) / TC_BK);

    auto stage_k = [&](int st) { return (T *)(smem + L::k_off + st * L::tile); };
    auto stage_v = [&](int st) { return (T *)(smem + L::v_off + st * L::tile); };
    auto stage_m = [&](int st) { return (float *)(smem + L::m_off + st * tc_align(TC_BK * 4)); };
    auto issue = [&](int i) {
        int st = i & 1;
        int64_t k0 = (int64_t)i * TC_BK;
        tile_async<T, D>(stage_k(st), L::LDH, k, a.ks[2], k0, TC_BK, a.Tk);
        tile_async<T, D>(stage_v(st), L::LDH, v, a.vs[2], k0, TC_BK, a.Tk);
        mask_tile_async(stage_m(st), a.mask ? a.mask + b * a.Tk : nullptr, k0, TC_BK, a.Tk);
    };
    tile_async<T, D>(Qs, L::LDH, q, a.qs[2], q0, L::BQ, a.Tq);
    issue(0);
    cp_async_commit();

    uint32_t qf[D / 16][4];
    const int r0 = warp * 16 + g;
    float o[D / 8][4];
#pragma unroll
    for (int i = 0; i < D / 8; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f; /* rows g and g + 8 */

    for (int it = 0; it < ntiles; it++) {
        if (it + 1 < ntiles) {
            issue(it + 1);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        if (it == 0) {
#pragma unroll
            for (int ks = 0; ks < D / 16; ks++) {
                qf[ks][0] = *(const uint32_t *)&Qs[r0 * L::LDH + ks * 16 + tq * 2];
                qf[ks][1] = *(const uint32_t *)&Qs[(r0 + 8) * L::LDH + ks * 16 + tq * 2];
                qf[ks][2] = *(const uint32_t *)&Qs[r0 * L::LDH + ks * 16 + 8 + tq * 2];
                qf[ks][3] = *(const uint32_t *)&Qs[(r0 + 8) * L::LDH + ks * 16 + 8 + tq * 2];
            }
        }
        const T *Ks = stage_k(it & 1);
        const uint16_t *Vh = (const uint16_t *)stage_v(it & 1);
        const float *Ms = stage_m(it & 1);

        float s[TC_BK / 8][4];
#pragma unroll
        for (int nb = 0; nb < TC_BK / 8; nb++) {
            s[nb][0] = s[nb][1] = s[nb][2] = s[nb][3] = 0.0f;
#pragma unroll
            for (int ks = 0; ks < D / 16; ks++) {
                uint32_t bf[2];
                bf[0] = *(const uint32_t *)&Ks[(nb * 8 + g) * L::LDH + ks * 16 + tq * 2];
                bf[1] = *(const uint32_t *)&Ks[(nb * 8 + g) * L::LDH + ks * 16 + 8 + tq * 2];
                mma16816<T>(s[nb], qf[ks], bf);
            }
        }
        online_softmax_tile(s, o, m0, m1, l0, l1, a.scale * 1.4426950408889634f,
                            [&](int nb) { return make_float2(Ms[nb * 8 + tq * 2], Ms[nb * 8 + tq * 2 + 1]); });
        /* O += P V: the scores of key blocks 2kk and 2kk+1 are the A fragment of keys [16kk, 16kk+16) */
#pragma unroll
        for (int kk = 0; kk < TC_BK / 16; kk++) {
            uint32_t af[4] = {pack2<T>(s[2 * kk][0], s[2 * kk][1]), pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                              pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
            const int kr = kk * 16 + tq * 2;
#pragma unroll
            for (int db = 0; db < D / 8; db++) {
                const int c = db * 8 + g;
                uint32_t bf[2] = {pack_raw(Vh[kr * L::LDH + c], Vh[(kr + 1) * L::LDH + c]),
                                  pack_raw(Vh[(kr + 8) * L::LDH + c], Vh[(kr + 9) * L::LDH + c])};
                mma16816<T>(o[db], af, bf);
            }
        }
        __syncthreads(); /* this stage is refilled two iterations on */
    }

    const float inv0 = l0 > 0 ? 1.0f / l0 : 0.0f, inv1 = l1 > 0 ? 1.0f / l1 : 0.0f;
    const int64_t qa = q0 + r0, qb8 = qa + 8;
    T *ob = (T *)a.out + b * a.os[0] + h * a.os[1];
#pragma unroll
    for (int db = 0; db < D / 8; db++) {
        const int c = db * 8 + tq * 2;
        if (qa < a.Tq) {
            ob[qa * a.os[2] + c] = from_f<T>(o[db][0] * inv0);
            ob[qa * a.os[2] + c + 1] = from_f<T>(o[db][1] * inv0);
        }
        if (qb8 < a.Tq) {
            ob[qb8 * a.os[2] + c] = from_f<T>(o[db][2] * inv1);
            ob[qb8 * a.os[2] + c + 1] = from_f<T>(o[db][3] * inv1);
        }
    }
#endif
}

/* ---- ldmatrix kernel (the default for f16 / bf16) ----------------------------------------------
 * The same algorithm as attention_mma_kernel with the operand fragments loaded by ldmatrix: one
 * ldmatrix.x4 gives the B fragments of two 16-wide slices of K (for S = Q K^T) or, transposed, of
 * two 8-wide column blocks of V (for O += P V), where the kernel above issues 2-4 shared loads per
 * mma. Per 64-key tile and warp that is 32 ldmatrix instead of ~190 scalar loads, and the mask is
 * read as float2. Softmax runs in base 2 (scale * log2 e folded into one multiply). Warps whose 16
 * query rows all lie past Tq skip the arithmetic (they still help load tiles). Launch bounds cap
 * the registers at 128 so that two 8-warp blocks share a multiprocessor.
 *
 * ldmatrix (PTX ISA, "Warp-level matrix load instruction: ldmatrix"): lanes 8i..8i+7 give the row
 * addresses of matrix i; lane l receives row l/4, columns 2(l%4), 2(l%4)+1 of each matrix (with
 * .trans: rows 2(l%4), 2(l%4)+1 of column l/4) — the m16n8k16 A/B fragment layouts. */
__device__ __forceinline__ void ldsm_x4(uint32_t r[4], const void *p) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    unsigned a = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
#endif
}
__device__ __forceinline__ void ldsm_x4_trans(uint32_t r[4], const void *p) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    unsigned a = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
#endif
}


/* Shared memory of the ldmatrix kernel: Q in two stages (the next work item's queries load while
 * the current item's are still being read), K, V and the key mask in two stages each. */
template <int D, int WARPS, int BK> struct ldsm_layout {
    static constexpr int BQ = 16 * WARPS;
    static constexpr int LDH = D + TC_PAD;
    static constexpr size_t qtile = tc_align((size_t)BQ * LDH * 2);
    static constexpr size_t tile = tc_align((size_t)BK * LDH * 2);
    static constexpr size_t mtile = tc_align(BK * 4);
    static constexpr size_t q_off = 0;
    static constexpr size_t k_off = 2 * qtile;
    static constexpr size_t v_off = k_off + 2 * tile;
    static constexpr size_t m_off = v_off + 2 * tile;
    static constexpr size_t bytes = m_off + 2 * mtile;
};

/* Persistent: block i takes work items (b, h, query block) i, i + gridDim.x, ... and walks one
 * flat sequence of steps (item, key tile), so the copy of the next step — the next item's first
 * tile and queries included — always overlaps the arithmetic of the current one. With one item
 * per block (grid = items) it is the plain one-pass kernel. */
template <typename T, int D, int WARPS, int MINB, int BK>
__global__ void __launch_bounds__(WARPS * 32, MINB) attention_ldsm_kernel(lc_cu_attn_args a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
    __trap();
#else
    static_assert(D % 32 == 0, "head size: a multiple of 32");
    using L = ldsm_layout<D, WARPS, BK>;
    extern __shared__ __align__(128) unsigned char smem[];
    lc_cu_wait_prior_grid();
    lc_cu_launch_dependents();
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, tq = lane & 3;
    /* 32-bit work-item arithmetic (the host checks that items fit); item and tile positions are
     * advanced by counting, so the loop carries no divisions except at an item's first step */
    const int nqb = (int)((a.Tq + L::BQ - 1) / L::BQ), H = (int)a.H, items = (int)(a.B * a.H) * nqb;
    const int ntiles = (int)((a.Tk + BK - 1) / BK);
    const int my_items = (int)blockIdx.x < items ? (items - 1 - (int)blockIdx.x) / (int)gridDim.x + 1 : 0;
    const int steps = my_items * ntiles;
    const float sl2 = a.scale * 1.4426950408889634f;
    /* 16-byte output stores when the output rows allow them */
    const bool vec_out = (((uintptr_t)a.out | (uintptr_t)(a.os[0] * 2) | (uintptr_t)(a.os[1] * 2) | (uintptr_t)(a.os[2] * 2)) & 15) == 0;

    /* the copies of the next step (K, V, mask of its key tile; the queries at an item's first tile) */
    int is_t = 0, is_j = 0; /* tile and local item of the next step to issue */
    const T *iq = nullptr, *ik = nullptr, *iv = nullptr;
    const float *imask = nullptr;
    int64_t iq0 = 0;
    auto issue_next = [&](int st) {
        if (is_t == 0) {
            const int w = (int)blockIdx.x + is_j * (int)gridDim.x, bh = w / nqb, b = bh / H, h = bh - b * H;
            iq0 = (int64_t)(w - bh * nqb) * L::BQ;
            iq = (const T *)a.q + b * a.qs[0] + h * a.qs[1];
            ik = (const T *)a.k + b * a.ks[0] + h * a.ks[1];
            iv = (const T *)a.v + b * a.vs[0] + h * a.vs[1];
            imask = a.mask ? a.mask + (int64_t)b * a.Tk : nullptr;
            tile_async<T, D>((T *)(smem + L::q_off + (is_j & 1) * L::qtile), L::LDH, iq, a.qs[2], iq0, L::BQ, a.Tq);
        }
        const int stage = st & 1;
        const int64_t k0 = (int64_t)is_t * BK;
        tile_async<T, D>((T *)(smem + L::k_off + stage * L::tile), L::LDH, ik, a.ks[2], k0, BK, a.Tk);
        tile_async<T, D>((T *)(smem + L::v_off + stage * L::tile), L::LDH, iv, a.vs[2], k0, BK, a.Tk);
        mask_tile_async((float *)(smem + L::m_off + stage * L::mtile), imask, k0, BK, a.Tk);
        if (++is_t == ntiles) is_t = 0, is_j++;
    };
    if (steps > 0) issue_next(0);
    cp_async_commit();

    /* the row (within 16) and column offset this lane addresses in an ldmatrix.x4 */
    const int lrow = (lane & 7) + ((lane >> 3) & 1) * 8, lcol = (lane >> 4) * 8;
    uint32_t qf[D / 16][4];
    float o[D / 8][4];
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f; /* rows g and g + 8 */
    int t = 0, j = 0; /* tile and local item of the step being computed */
    int64_t q0 = 0;
    T *ob = nullptr;

    for (int st = 0; st < steps; st++) {
        if (st + 1 < steps) {
            issue_next(st + 1);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        const int stage = st & 1;
        if (t == 0) {
            const int w = (int)blockIdx.x + j * (int)gridDim.x, bh = w / nqb, b = bh / H, h = bh - b * H;
            q0 = (int64_t)(w - bh * nqb) * L::BQ;
            ob = (T *)a.out + b * a.os[0] + h * a.os[1];
        }
        const bool active = q0 + warp * 16 < a.Tq; /* warp-uniform */
        if (active) {
            if (t == 0) {
                const T *Qs = (const T *)(smem + L::q_off + (j & 1) * L::qtile);
#pragma unroll
                for (int ks = 0; ks < D / 16; ks++) ldsm_x4(qf[ks], Qs + (warp * 16 + lrow) * L::LDH + ks * 16 + lcol);
#pragma unroll
                for (int i = 0; i < D / 8; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
                m0 = m1 = -INFINITY;
                l0 = l1 = 0.0f;
            }
            const T *Ks = (const T *)(smem + L::k_off + stage * L::tile), *Vs = (const T *)(smem + L::v_off + stage * L::tile);
            const float2 *Mv = (const float2 *)(smem + L::m_off + stage * L::mtile);

            /* S (16 x BK) = Q K^T: matrices at d = 16ks, 16ks + 8, 16ks + 16, 16ks + 24 of keys 8nb.. */
            float s[BK / 8][4];
#pragma unroll
            for (int nb = 0; nb < BK / 8; nb++) {
                s[nb][0] = s[nb][1] = s[nb][2] = s[nb][3] = 0.0f;
#pragma unroll
                for (int ks = 0; ks < D / 16; ks += 2) {
                    uint32_t kb[4];
                    ldsm_x4(kb, Ks + (nb * 8 + (lane & 7)) * L::LDH + ks * 16 + (lane >> 3) * 8);
                    const uint32_t b0[2] = {kb[0], kb[1]}, b1[2] = {kb[2], kb[3]};
                    mma16816<T>(s[nb], qf[ks], b0);
                    mma16816<T>(s[nb], qf[ks + 1], b1);
                }
            }
            online_softmax_tile(s, o, m0, m1, l0, l1, sl2, [&](int nb) { return Mv[nb * 4 + tq]; }); /* keys 8nb + 2tq, +1 */
            /* O += P V: P of keys [16kk, 16kk + 16) is the A fragment; V matrices (keys 16kk, 16kk + 8)
             * x (columns 8db, 8db + 8), transposed */
#pragma unroll
            for (int kk = 0; kk < BK / 16; kk++) {
                uint32_t af[4] = {pack2<T>(s[2 * kk][0], s[2 * kk][1]), pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                                  pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
                for (int db = 0; db < D / 8; db += 2) {
                    uint32_t vb[4];
                    ldsm_x4_trans(vb, Vs + (kk * 16 + lrow) * L::LDH + db * 8 + lcol);
                    const uint32_t b0[2] = {vb[0], vb[1]}, b1[2] = {vb[2], vb[3]};
                    mma16816<T>(o[db], af, b0);
                    mma16816<T>(o[db + 1], af, b1);
                }
            }
            if (t == ntiles - 1) { /* the item's last tile: normalise and store */
                const int g = lane >> 2;
                const float inv0 = l0 > 0 ? 1.0f / l0 : 0.0f, inv1 = l1 > 0 ? 1.0f / l1 : 0.0f;
                const int64_t qa = q0 + warp * 16 + g, qb8 = qa + 8;
                if (vec_out) {
                    /* through this warp's 16 query rows in shared memory (only this warp reads them, and
                     * its fragments are in registers), then whole 16-byte chunks per lane: full 32-byte
                     * sectors instead of 4-byte pieces of eight rows per store */
                    T *Qw = (T *)(smem + L::q_off + (j & 1) * L::qtile) + warp * 16 * L::LDH;
#pragma unroll
                    for (int db = 0; db < D / 8; db++) {
                        const int c = db * 8 + tq * 2;
                        *(uint32_t *)&Qw[g * L::LDH + c] = pack2<T>(o[db][0] * inv0, o[db][1] * inv0);
                        *(uint32_t *)&Qw[(g + 8) * L::LDH + c] = pack2<T>(o[db][2] * inv1, o[db][3] * inv1);
                    }
                    __syncwarp();
#pragma unroll
                    for (int i = lane; i < 16 * (D / 8); i += 32) {
                        const int r = i / (D / 8), c = (i % (D / 8)) * 8;
                        const int64_t q = q0 + warp * 16 + r;
                        if (q < a.Tq) *(uint4 *)&ob[q * a.os[2] + c] = *(const uint4 *)&Qw[r * L::LDH + c];
                    }
                } else {
#pragma unroll
                    for (int db = 0; db < D / 8; db++) {
                        const int c = db * 8 + tq * 2;
                        if (qa < a.Tq) *(uint32_t *)&ob[qa * a.os[2] + c] = pack2<T>(o[db][0] * inv0, o[db][1] * inv0);
                        if (qb8 < a.Tq) *(uint32_t *)&ob[qb8 * a.os[2] + c] = pack2<T>(o[db][2] * inv1, o[db][3] * inv1);
                    }
                }
            }
        }
        __syncthreads(); /* this stage is refilled two steps on */
        if (++t == ntiles) t = 0, j++;
    }
#endif
}

/* Blocks of the ldmatrix kernel: one per work item, or with `persist` as many as are resident at
 * once (at most one per item). Persistent blocks measured no faster on an H100 (BERT-base and
 * ViT-B/16 shapes, BENCHMARKS.md): the default is one per item. */
template <typename T, int D, int WARPS, int MINB, int BK>
static int launch_ldsm_w(cudaStream_t s, const lc_cu_attn_args *a, bool persist) {
    using L = ldsm_layout<D, WARPS, BK>;
    auto kernel = attention_ldsm_kernel<T, D, WARPS, MINB, BK>;
    int64_t items = a->B * a->H * ((a->Tq + L::BQ - 1) / L::BQ);
    if (items * ((a->Tk + BK - 1) / BK) > 0x7fffffff) return (int)cudaErrorNotSupported; /* 32-bit step counts */
    static int resident = -1; /* blocks per multiprocessor, per instantiation */
    if (resident < 0) {
        if (L::bytes > 48 * 1024) {
            int e = (int)cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)L::bytes);
            if (e) return e;
        }
        int n = 0;
        if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, WARPS * 32, L::bytes) != cudaSuccess || n < 1) n = 1;
        resident = n;
    }
    int64_t blocks = persist ? (int64_t)resident * lc_cu_sm_count() : items;
    if (blocks > items) blocks = items;
    if (blocks > 0x7fffffff) return (int)cudaErrorInvalidValue;
    return lc_cu_launch(kernel, dim3((unsigned)blocks), dim3(WARPS * 32), L::bytes, s, *a);
}

template <typename T, int D, int WARPS> static int launch_mma_w(cudaStream_t s, const lc_cu_attn_args *a) {
    using L = mma_layout<D, WARPS>;
    int64_t blocks = a->B * a->H * ((a->Tq + L::BQ - 1) / L::BQ);
    if (blocks > 0x7fffffff) return (int)cudaErrorInvalidValue;
    if (L::bytes > 48 * 1024) {
        static bool attr_set = false;
        if (!attr_set) {
            int e = (int)cudaFuncSetAttribute(attention_mma_kernel<T, D, WARPS>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)L::bytes);
            if (e) return e;
            attr_set = true;
        }
    }
    attention_mma_kernel<T, D, WARPS><<<(unsigned)blocks, WARPS * 32, L::bytes, s>>>(*a);
    return lc_cu_last_error();
}


/* 8 warps (128 queries) per block when that still gives two blocks per multiprocessor: K and V
 * are read once per 128 queries; else 2 warps (32 queries), so that a batch of one fills the GPU. */
template <typename T, int D> static int launch_mma(cudaStream_t s, const lc_cu_attn_args *a) {
    int64_t big = a->B * a->H * ((a->Tq + 127) / 128);
    if (big >= 2 * lc_cu_sm_count()) return launch_mma_w<T, D, 8>(s, a);
    return launch_mma_w<T, D, 2>(s, a);
}

/* The ldmatrix kernel: 8 warps (128 queries) per block when that gives two blocks per
 * multiprocessor, 4 warps when 64-query blocks still fill every multiprocessor once, else 2. */
template <typename T, int D, int BK> static int launch_ldsm(cudaStream_t s, const lc_cu_attn_args *a, bool persist, bool three) {
    constexpr int R = D >= 128 ? 2 : 1; /* head size 128: half the blocks per SM */
    int64_t bh = a->B * a->H, sms = lc_cu_sm_count();
    const char *e = getenv("LOCUS_CUDA_ATTENTION_WARPS"); /* 2, 4 or 8 warps per block, for measurement */
    int w = e ? atoi(e) : 0;
    if (w != 2 && w != 4 && w != 8) w = bh * ((a->Tq + 127) / 128) >= 2 * sms ? 8 : bh * ((a->Tq + 63) / 64) >= sms ? 4 : 2;
    /* head size 32 (MiniLM): registers capped at 80 for three 8-warp blocks per multiprocessor, so that
     * 32 x 12 heads of 128 queries run in one wave (two per multiprocessor took 1.45 waves) */
    if (w == 8) {
        if constexpr (D == 32) return launch_ldsm_w<T, D, 8, 3, BK>(s, a, persist);
        /* head size 64: 32-key tiles and three blocks per multiprocessor (80 registers, 8 bytes of
         * spills; 55 KB of shared memory) unless a tile size was forced: BERT-base's 32 x 12 heads
         * run in 0.97 waves instead of 1.45. Attention alone on an H100 (BENCHMARKS.md): BERT-base
         * batch 32 15.0 -> 14.0 us, batch 128 52.1 -> 51.3, ViT-B/16 batch 64 76.0 -> 70.4. */
        else if constexpr (D == 64) {
            if (three) return launch_ldsm_w<T, D, 8, 3, 32>(s, a, persist);
        }
        return launch_ldsm_w<T, D, 8, 2 / R, BK>(s, a, persist);
    }
    if (w == 4) return launch_ldsm_w<T, D, 4, 4 / R, BK>(s, a, persist);
    return launch_ldsm_w<T, D, 2, 8 / R, BK>(s, a, persist);
}

/* Key tile: 64 keys (fewer barriers and steps; faster at BERT's 128 tokens, MiniLM's head size 32
 * and batch 1) unless 32-key tiles pad the keys by at least 16 fewer (ViT's 197 tokens: 27 padded
 * keys instead of 59); bk forces 32 or 64. Blocks of 8 warps at head size 64 take 32-key tiles
 * regardless unless bk is forced (three blocks per multiprocessor, launch_ldsm). */
template <typename T> static int launch_ldsm_any(cudaStream_t s, const lc_cu_attn_args *a, int bk, bool persist, bool three) {
    if (!bk) {
        int64_t pad64 = (a->Tk + 63) / 64 * 64 - a->Tk, pad32 = (a->Tk + 31) / 32 * 32 - a->Tk;
        bk = pad64 >= pad32 + 16 ? 32 : 64;
    }
    if (bk == 32)
        return a->D == 32 ? launch_ldsm<T, 32, 32>(s, a, persist, three) : a->D == 64 ? launch_ldsm<T, 64, 32>(s, a, persist, three)
                                                                                     : launch_ldsm<T, 128, 32>(s, a, persist, three);
    return a->D == 32 ? launch_ldsm<T, 32, 64>(s, a, persist, three) : a->D == 64 ? launch_ldsm<T, 64, 64>(s, a, persist, three)
                                                                                 : launch_ldsm<T, 128, 64>(s, a, persist, three);
}

/* LOCUS_CUDA_ATTENTION selects another kernel, for comparisons: ldsm32 / ldsm64 the ldmatrix
 * kernel with 32- or 64-key tiles, persist the same with persistent blocks, mma1 the earlier
 * register-resident kernel (scalar fragment loads), wmma the WMMA kernel (shared-memory
 * accumulator), plain the CUDA-core kernel (for f32 too), three the ldmatrix kernel with 32-key
 * tiles everywhere (by default only 8-warp blocks of head size 64 take them, at three blocks per
 * multiprocessor; ldsm32 / ldsm64 keep two). Read on every call (a getenv per attention op), so
 * that one process can time each. */
enum { ATT_DEFAULT, ATT_WMMA, ATT_PLAIN, ATT_MMA1, ATT_LDSM64, ATT_LDSM32, ATT_PERSIST, ATT_THREE };
static int attention_variant(void) {
    const char *e = getenv("LOCUS_CUDA_ATTENTION");
    if (!e || !*e) return ATT_DEFAULT;
    static const char *names[] = {"", "wmma", "plain", "mma1", "ldsm64", "ldsm32", "persist", "three"};
    for (int i = 1; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(e, names[i]) == 0) return i;
    return ATT_DEFAULT;
}

static bool tc_fits(const lc_cu_attn_args *a, size_t esize) {
    /* 16-byte row loads: base pointers and row strides must keep 8-element alignment */
    const void *p[3] = {a->q, a->k, a->v};
    for (int i = 0; i < 3; i++)
        if ((uintptr_t)p[i] & 15) return false;
    const int64_t *st[3] = {a->qs, a->ks, a->vs};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if ((st[i][j] * (int64_t)esize) & 15) return false;
    return a->D == 32 || a->D == 64 || a->D == 128;
}


extern "C" int lc_cu_attention(lc_cu_stream s, int dtype, const lc_cu_attn_args *a) {
    if (a->B * a->H * a->Tq == 0 || a->D == 0) return 0;
    int variant = attention_variant();
    const bool tc = lc_cu_device_major() >= 8 && a->Tk > 0;
    if (variant != ATT_PLAIN && dtype == LC_CU_F32 && tc) { /* tensor cores: 3xTF32 split, or TF32 */
        int e = lc_cu_attention_f32tc(s, a, lc_cuda_get_math_mode() == LC_CUDA_MATH_TF32);
        if (e != (int)cudaErrorNotSupported) return e;
        (void)cudaGetLastError();
    }
    const bool half = (dtype == LC_CU_F16 || dtype == LC_CU_BF16) && tc && tc_fits(a, 2);
    if (half && (variant == ATT_DEFAULT || variant == ATT_LDSM32 || variant == ATT_LDSM64 || variant == ATT_PERSIST || variant == ATT_THREE)) {
        const bool three = variant == ATT_THREE || variant == ATT_DEFAULT || variant == ATT_PERSIST;
        int bk = variant == ATT_LDSM32 || variant == ATT_THREE ? 32 : variant == ATT_LDSM64 ? 64 : 0;
        bool persist = variant == ATT_PERSIST;
        int e = dtype == LC_CU_F16 ? launch_ldsm_any<__half>(s, a, bk, persist, three)
                                   : launch_ldsm_any<__nv_bfloat16>(s, a, bk, persist, three);
        if (e != (int)cudaErrorNotSupported) return e;
    }
    if (half && variant == ATT_MMA1) {
        if (dtype == LC_CU_F16) {
            if (a->D == 32) return launch_mma<__half, 32>(s, a);
            if (a->D == 64) return launch_mma<__half, 64>(s, a);
            return launch_mma<__half, 128>(s, a);
        }
        if (a->D == 32) return launch_mma<__nv_bfloat16, 32>(s, a);
        if (a->D == 64) return launch_mma<__nv_bfloat16, 64>(s, a);
        return launch_mma<__nv_bfloat16, 128>(s, a);
    }
    if (half && variant == ATT_WMMA) {
        if (dtype == LC_CU_F16) {
            if (a->D == 32) return launch_tc<__half, 32>(s, a);
            if (a->D == 64) return launch_tc<__half, 64>(s, a);
            return launch_tc<__half, 128>(s, a);
        }
        if (a->D == 32) return launch_tc<__nv_bfloat16, 32>(s, a);
        if (a->D == 64) return launch_tc<__nv_bfloat16, 64>(s, a);
        return launch_tc<__nv_bfloat16, 128>(s, a);
    }
    return lc_cu_attention_reference(s, dtype, a);
}
