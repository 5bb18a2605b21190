/* Fused scaled-dot-product attention with a key padding mask, flash-style: one pass over the
 * keys with an online softmax (running max m and sum l per query), so the (Tq, Tk) score
 * matrix never reaches device memory.
 *
 *   plain kernel   any float dtype, head size up to 256: CUDA cores, f32 arithmetic. Each warp
 *                  owns 4 queries; a tile of 32 keys sits in shared memory and lane j scores key
 *                  j, then the lanes accumulate P·V over their slice of the head dimension.
 *   tensor cores   f16 / bf16, head size 32, 64 or 128: a block of 4 warps owns 64 queries; per
 *                  tile of 64 keys each warp computes its 16x64 scores with WMMA (f32
 *                  accumulation), updates the running softmax in f32, and adds P·V (P rounded to
 *                  the input dtype, as in FlashAttention) into an f32 accumulator in shared memory.
 */
#include "cuda/common.cuh"

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

/* Asynchronous 16-byte copies global -> shared (sm_80+), zero-filled when `valid` is false. */
__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, bool valid) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    int n = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(n));
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

template <int D, int WARPS> struct mma_layout {
    static constexpr int BQ = 16 * WARPS;
    static constexpr int LDH = D + TC_PAD; /* 8 halves of padding: conflict-free fragment reads */
    static constexpr size_t tile = tc_align((size_t)TC_BK * LDH * 2);
    static constexpr size_t q_off = 0;
    static constexpr size_t k_off = tc_align((size_t)BQ * LDH * 2); /* two stages of K, then of V */
    static constexpr size_t v_off = k_off + 2 * tile;
    static constexpr size_t m_off = v_off + 2 * tile;
    static constexpr size_t bytes = m_off + 2 * tc_align(TC_BK * 4);
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
        float *ms = stage_m(st);
        for (int j = threadIdx.x; j < TC_BK; j += blockDim.x) {
            int64_t key = k0 + j;
            ms[j] = key < a.Tk && (!a.mask || a.mask[b * a.Tk + key] != 0.0f) ? 1.0f : 0.0f;
        }
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
        float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
        for (int nb = 0; nb < TC_BK / 8; nb++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                bool keep = Ms[nb * 8 + tq * 2 + (e & 1)] != 0.0f;
                s[nb][e] = keep ? s[nb][e] * a.scale : -INFINITY;
            }
            mx0 = fmaxf(mx0, fmaxf(s[nb][0], s[nb][1]));
            mx1 = fmaxf(mx1, fmaxf(s[nb][2], s[nb][3]));
        }
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
        const float mn0 = fmaxf(m0, mx0), mn1 = fmaxf(m1, mx1);
        const float al0 = m0 == -INFINITY ? 0.0f : __expf(m0 - mn0), al1 = m1 == -INFINITY ? 0.0f : __expf(m1 - mn1);
        float rs0 = 0, rs1 = 0;
#pragma unroll
        for (int nb = 0; nb < TC_BK / 8; nb++) {
            s[nb][0] = mn0 == -INFINITY ? 0.0f : __expf(s[nb][0] - mn0);
            s[nb][1] = mn0 == -INFINITY ? 0.0f : __expf(s[nb][1] - mn0);
            s[nb][2] = mn1 == -INFINITY ? 0.0f : __expf(s[nb][2] - mn1);
            s[nb][3] = mn1 == -INFINITY ? 0.0f : __expf(s[nb][3] - mn1);
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
        for (int i = 0; i < D / 8; i++) {
            o[i][0] *= al0, o[i][1] *= al0;
            o[i][2] *= al1, o[i][3] *= al1;
        }
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

static int sm_count(void) {
    static int n[64];
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return 132;
    if (!n[dev]) cudaDeviceGetAttribute(&n[dev], cudaDevAttrMultiProcessorCount, dev);
    return n[dev] ? n[dev] : 132;
}

/* 8 warps (128 queries) per block when that still gives two blocks per multiprocessor: K and V
 * are read once per 128 queries; else 2 warps (32 queries), so that a batch of one fills the GPU. */
template <typename T, int D> static int launch_mma(cudaStream_t s, const lc_cu_attn_args *a) {
    int64_t big = a->B * a->H * ((a->Tq + 127) / 128);
    if (big >= 2 * sm_count()) return launch_mma_w<T, D, 8>(s, a);
    return launch_mma_w<T, D, 2>(s, a);
}

/* LOCUS_CUDA_ATTENTION=wmma selects the earlier WMMA kernel (shared-memory accumulator), =plain
 * the CUDA-core kernel: for comparisons. */
static int attention_variant(void) {
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("LOCUS_CUDA_ATTENTION");
        v = e && strcmp(e, "wmma") == 0 ? 1 : e && strcmp(e, "plain") == 0 ? 2 : 0;
    }
    return v;
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

static int device_major(void) {
    static int major[64];
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return 0;
    if (!major[dev]) cudaDeviceGetAttribute(&major[dev], cudaDevAttrComputeCapabilityMajor, dev);
    return major[dev];
}

extern "C" int lc_cu_attention(lc_cu_stream s, int dtype, const lc_cu_attn_args *a) {
    if (a->B * a->H * a->Tq == 0 || a->D == 0) return 0;
    int variant = attention_variant();
    if (variant == 0 && device_major() >= 8 && (dtype == LC_CU_F16 || dtype == LC_CU_BF16) && tc_fits(a, 2) && a->Tk > 0) {
        if (dtype == LC_CU_F16) {
            if (a->D == 32) return launch_mma<__half, 32>(s, a);
            if (a->D == 64) return launch_mma<__half, 64>(s, a);
            return launch_mma<__half, 128>(s, a);
        }
        if (a->D == 32) return launch_mma<__nv_bfloat16, 32>(s, a);
        if (a->D == 64) return launch_mma<__nv_bfloat16, 64>(s, a);
        return launch_mma<__nv_bfloat16, 128>(s, a);
    }
    if (variant == 1 && device_major() >= 8 && (dtype == LC_CU_F16 || dtype == LC_CU_BF16) && tc_fits(a, 2) && a->Tk > 0) {
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
