/* f32 linear layers with few rows (a batch of one sequence: M = 128 tokens) on the tensor cores
 * at f32 accuracy: out (M, N) = x (M, K) W (N, K)^T + bias [GELU] [+ residual].
 *
 * Why locus has its own kernel here: cuBLAS runs f32 GEMMs (without TF32) on the CUDA cores, and
 * at M = 128 its kernels reach ~16 TFLOP/s on an H100: BERT-base's f32 forward at batch 1 spends
 * most of its time there. This kernel uses the 3xTF32 split that locus's f32 attention uses
 * (attention_f32.cu): x = big + small with big = tf32(x) and small = tf32(x - big), and
 * A B ~= Asmall Bbig + Abig Bsmall + Abig Bbig with f32 accumulation (the dropped Asmall Bsmall
 * term is ~2^-22 relative), with mma.sync m16n8k8 on TF32 operands. The weights are read once, as
 * f32, and split in registers.
 *
 * Block: 8 warps (4 along M x 2 along N), tile BM x BN, K in 32-float steps through a 3-stage
 * cp.async pipeline. Shared rows of 32 floats are eight 16-byte chunks, chunk c of row r stored at
 * chunk c ^ (r & 7). Fragment layout (PTX ISA, mma.m16n8k8 .tf32), lane = 4g + t: A a0 (row g,
 * k t), a1 (row g + 8, k t), a2 (row g, k t + 4), a3 (row g + 8, k t + 4); B b0 (k t, col g),
 * b1 (k t + 4, col g). The contraction index may be any permutation of the 8 summed positions as
 * long as A and B agree: k = t is position 2t and k = t + 4 position 2t + 1, so each lane reads
 * float2 pairs, and a half-warp's eight chunks (XOR-spread by the row) cover the 32 banks once.
 *
 * Split-K (sm_90): S blocks of a thread-block cluster (dims (1, S, 1)) take K slices; each writes
 * its f32 partial tile to its shared memory and, after a cluster barrier, block r sums rows
 * [r BM/S, (r+1) BM/S) of all S tiles through distributed shared memory, applies the epilogue
 * (bias, exact erf GELU, residual) and stores them: one kernel, no workspace. */
#include "cuda/attention_common.cuh"
#include "cuda/common.cuh"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#include <cooperative_groups.h>
#define GF_CLUSTERS 1
#else
#define GF_CLUSTERS 0
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

namespace {

constexpr int GF_BK = 32, GF_STAGES = 3, GF_THREADS = 256;

/* Float offset of 16-byte chunk c (0..7) of row r in a swizzled (rows x 32) tile. */
__device__ __forceinline__ int gf_swz(int r, int c) { return r * GF_BK + ((c ^ (r & 7)) << 2); }

template <int BM, int BN> struct gf_layout {
    static constexpr size_t a_stage = (size_t)BM * GF_BK * 4, b_stage = (size_t)BN * GF_BK * 4;
    static constexpr int LDP = BN + 4; /* f32 partial tile, padded rows */
    static constexpr size_t pipe = GF_STAGES * (a_stage + b_stage), part = (size_t)BM * LDP * 4;
    static constexpr size_t bytes = pipe > part ? pipe : part;
};

struct gf_args {
    const float *x, *w, *bias, *res;
    float *out;
    int M, N, K;
    int gelu;
};

template <int BM, int BN>
__global__ void __launch_bounds__(GF_THREADS) gemm_f32x3_kernel(gf_args a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
    __trap();
#else
    using L = gf_layout<BM, BN>;
    constexpr int WM = BM / 4, WN = BN / 2, MF = WM / 16, NF = WN / 8;
    static_assert(MF >= 1 && NF >= 1, "tile");
    extern __shared__ __align__(128) unsigned char smem[];
    float *As = (float *)smem, *Bs = (float *)(smem + GF_STAGES * L::a_stage);
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, wm = warp >> 1, wn = warp & 1;
    const int n0 = blockIdx.x * BN, m0 = blockIdx.z * BM;
    const int S = gridDim.y;
#if GF_CLUSTERS
    const int rank = S > 1 ? (int)cooperative_groups::this_cluster().block_rank() : 0;
#else
    if (S > 1) __trap();
    const int rank = 0;
#endif
    const int kslice = a.K / S, kbase = rank * kslice, nk = kslice / GF_BK;

    auto load_b = [&](int stage, int kt) {
        float *dst = Bs + stage * (BN * GF_BK);
        const float *src = a.w + (size_t)n0 * a.K + kbase + kt * GF_BK;
#pragma unroll
        for (int i = tid; i < BN * 8; i += GF_THREADS) {
            int r = i >> 3, c = i & 7;
            cp_async16(dst + gf_swz(r, c), src + (size_t)r * a.K + c * 4, true);
        }
    };
    auto load_a = [&](int stage, int kt) {
        float *dst = As + stage * (BM * GF_BK);
#pragma unroll
        for (int i = tid; i < BM * 8; i += GF_THREADS) {
            int r = i >> 3, c = i & 7;
            bool ok = m0 + r < a.M;
            const float *src = ok ? a.x + (size_t)(m0 + r) * a.K + kbase + kt * GF_BK + c * 4 : a.x;
            cp_async16(dst + gf_swz(r, c), src, ok);
        }
    };

    lc_cu_wait_prior_grid();
#pragma unroll
    for (int s = 0; s < GF_STAGES - 1; s++) {
        if (s < nk) {
            load_b(s, s);
            load_a(s, s);
        }
        cp_async_commit();
    }

    float acc[MF][NF][4];
#pragma unroll
    for (int i = 0; i < MF; i++)
#pragma unroll
        for (int j = 0; j < NF; j++) acc[i][j][0] = acc[i][j][1] = acc[i][j][2] = acc[i][j][3] = 0.0f;

    const int g = lane >> 2, t = lane & 3;
    for (int kt = 0; kt < nk; kt++) {
        cp_async_wait<GF_STAGES - 2>();
        __syncthreads(); /* stage kt landed for every thread; stage kt - 1 is free to refill */
        const int pf = kt + GF_STAGES - 1;
        if (pf < nk) {
            load_b(pf % GF_STAGES, pf);
            load_a(pf % GF_STAGES, pf);
        }
        cp_async_commit();
        const float *as = As + (kt % GF_STAGES) * (BM * GF_BK), *bs = Bs + (kt % GF_STAGES) * (BN * GF_BK);
#pragma unroll
        for (int kk = 0; kk < GF_BK / 8; kk++) {
            /* positions 8kk + 2t, 8kk + 2t + 1: chunk 2kk + t/2, floats 2(t%2), +1 */
            const int ch = 2 * kk + (t >> 1), off = (t & 1) * 2;
            uint32_t ab[MF][4], asm_[MF][4];
#pragma unroll
            for (int i = 0; i < MF; i++) {
                const int r = wm * WM + i * 16 + g;
                const float2 lo = *(const float2 *)&as[gf_swz(r, ch) + off], hi = *(const float2 *)&as[gf_swz(r + 8, ch) + off];
                tf32_split(lo.x, ab[i][0], asm_[i][0]);
                tf32_split(hi.x, ab[i][1], asm_[i][1]);
                tf32_split(lo.y, ab[i][2], asm_[i][2]);
                tf32_split(hi.y, ab[i][3], asm_[i][3]);
            }
#pragma unroll
            for (int j = 0; j < NF; j++) {
                const float2 wv = *(const float2 *)&bs[gf_swz(wn * WN + j * 8 + g, ch) + off];
                uint32_t b0, b1, s0, s1;
                tf32_split(wv.x, b0, s0);
                tf32_split(wv.y, b1, s1);
#pragma unroll
                for (int i = 0; i < MF; i++) {
                    mma_tf32_m16n8k8(acc[i][j], asm_[i], b0, b1);
                    mma_tf32_m16n8k8(acc[i][j], ab[i], s0, s1);
                    mma_tf32_m16n8k8(acc[i][j], ab[i], b0, b1);
                }
            }
        }
    }
    cp_async_wait<0>();
    __syncthreads(); /* the pipeline's shared memory becomes the partial tile */
    lc_cu_launch_dependents();

    float *P = (float *)smem;
#pragma unroll
    for (int i = 0; i < MF; i++)
#pragma unroll
        for (int j = 0; j < NF; j++) {
            int r = wm * WM + i * 16 + g, c = wn * WN + j * 8 + 2 * t;
            *(float2 *)&P[r * L::LDP + c] = make_float2(acc[i][j][0], acc[i][j][1]);
            *(float2 *)&P[(r + 8) * L::LDP + c] = make_float2(acc[i][j][2], acc[i][j][3]);
        }
#if GF_CLUSTERS
    if (S > 1) cooperative_groups::this_cluster().sync(); /* every partial tile written and visible */
    else
#endif
        __syncthreads();

    const int rows = BM / S, r0 = rank * rows;
    for (int i = tid; i < rows * (BN / 4); i += GF_THREADS) {
        const int r = r0 + i / (BN / 4), c = (i % (BN / 4)) * 4, gm = m0 + r, gn = n0 + c;
        float4 v = *(const float4 *)&P[r * L::LDP + c];
#if GF_CLUSTERS
        for (int q = 1; q < S; q++) {
            const float *rp = cooperative_groups::this_cluster().map_shared_rank(P, (rank + q) % S);
            const float4 u = *(const float4 *)&rp[r * L::LDP + c];
            v.x += u.x, v.y += u.y, v.z += u.z, v.w += u.w;
        }
#endif
        if (gm >= a.M) continue;
        float e[4] = {v.x, v.y, v.z, v.w};
        if (a.bias) {
            const float4 b = *(const float4 *)(a.bias + gn);
            e[0] += b.x, e[1] += b.y, e[2] += b.z, e[3] += b.w;
        }
        if (a.gelu) {
#pragma unroll
            for (int u = 0; u < 4; u++) e[u] = 0.5f * e[u] * (1.0f + erff(e[u] * 0.70710678118654752f));
        }
        if (a.res) {
            const float4 rr = *(const float4 *)(a.res + (size_t)gm * a.N + gn);
            e[0] += rr.x, e[1] += rr.y, e[2] += rr.z, e[3] += rr.w;
        }
        *(float4 *)(a.out + (size_t)gm * a.N + gn) = make_float4(e[0], e[1], e[2], e[3]);
    }
#if GF_CLUSTERS
    if (S > 1) cooperative_groups::this_cluster().sync(); /* no block leaves while others read its tile */
#endif
#endif
}

/* Configurations: index = (tile << 2) | log2(S); tiles (BM, BN): 0 (128, 64), 1 (64, 64),
 * 2 (128, 32), 3 (64, 32). */
constexpr int GF_TILES = 4;
constexpr int gf_bm(int tile) { return tile & 1 ? 64 : 128; }
constexpr int gf_bn(int tile) { return tile & 2 ? 32 : 64; }

template <int BM, int BN> static int gf_launch(cudaStream_t s, const gf_args &a, int S) {
    using L = gf_layout<BM, BN>;
    auto kernel = gemm_f32x3_kernel<BM, BN>;
    static bool attr = false;
    if (!attr) {
        if (L::bytes > 48 * 1024) {
            int e = (int)cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)L::bytes);
            if (e) return e;
        }
        attr = true;
    }
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3((unsigned)(a.N / BN), (unsigned)S, (unsigned)((a.M + BM - 1) / BM));
    cfg.blockDim = dim3(GF_THREADS);
    cfg.dynamicSmemBytes = L::bytes;
    cfg.stream = s;
    cudaLaunchAttribute at[2];
    int na = 0;
    if (S > 1) {
        at[na].id = cudaLaunchAttributeClusterDimension;
        at[na].val.clusterDim.x = 1, at[na].val.clusterDim.y = (unsigned)S, at[na].val.clusterDim.z = 1;
        na++;
    }
    if (lc_cu_pdl_enabled()) {
        at[na].id = cudaLaunchAttributeProgrammaticStreamSerialization;
        at[na].val.programmaticStreamSerializationAllowed = 1;
        na++;
    }
    cfg.attrs = at, cfg.numAttrs = (unsigned)na;
    return (int)cudaLaunchKernelEx(&cfg, kernel, a);
}

static int gf_dispatch(cudaStream_t s, const gf_args &a, int tile, int S) {
    switch (tile) {
    case 0: return gf_launch<128, 64>(s, a, S);
    case 1: return gf_launch<64, 64>(s, a, S);
    case 2: return gf_launch<128, 32>(s, a, S);
    default: return gf_launch<64, 32>(s, a, S);
    }
}

/* Split-K across a cluster needs the kernel's sm_90 code (clusters, distributed shared memory):
 * a build without it, or a device that runs the compute_80 fallback, only has S = 1. */
static bool gf_clusters_available(void) {
    static int ok[64];
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return false;
    if (!ok[dev]) {
        cudaFuncAttributes fa;
        bool yes = lc_cu_device_major() >= 9 && cudaFuncGetAttributes(&fa, gemm_f32x3_kernel<128, 64>) == cudaSuccess && fa.binaryVersion >= 90;
        (void)cudaGetLastError();
        ok[dev] = yes ? 1 : 2;
    }
    return ok[dev] == 1;
}

} // namespace

static bool gf_config_fits(int config, int64_t M, int64_t N, int64_t K) {
    int tile = config >> 2, S = 1 << (config & 3);
    if (config < 0 || tile >= GF_TILES || M <= 0 || M > 65535LL * gf_bm(tile) || N <= 0 || K <= 0) return false;
    if (N % gf_bn(tile) || N / gf_bn(tile) > 0x7fffffff || K % (GF_BK * S) || K > 0x3fffffff || M * N > 0x7fffffffLL * 4) return false;
    if (S > 1 && !gf_clusters_available()) return false;
    return lc_cu_device_major() >= 8;
}

extern "C" int lc_cu_gemm_f32x3_configs(int64_t M, int64_t N, int64_t K, int *configs, int max) {
    int n = 0;
    for (int c = 0; c < GF_TILES * 4 && n < max; c++)
        if (gf_config_fits(c, M, N, K)) configs[n++] = c;
    return n;
}

extern "C" int lc_cu_gemm_f32x3(lc_cu_stream s, const lc_cu_gemm_f32x3_args *g, int config) {
    if (!gf_config_fits(config, g->M, g->N, g->K)) return (int)cudaErrorNotSupported;
    if (((uintptr_t)g->x | (uintptr_t)g->w | (uintptr_t)g->out | (uintptr_t)g->bias | (uintptr_t)g->residual) & 15)
        return (int)cudaErrorNotSupported;
    gf_args a = {(const float *)g->x, (const float *)g->w, (const float *)g->bias, (const float *)g->residual, (float *)g->out,
                 (int)g->M, (int)g->N, (int)g->K, g->gelu};
    return gf_dispatch((cudaStream_t)s, a, config >> 2, 1 << (config & 3));
}
