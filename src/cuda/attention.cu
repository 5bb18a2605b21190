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
    if (device_major() >= 8 && (dtype == LC_CU_F16 || dtype == LC_CU_BF16) && tc_fits(a, 2) && a->Tk > 0) {
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
