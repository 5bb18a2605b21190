/* Linear layers with few rows (a batch of one sequence or one image: M = 128 or 197 tokens), f16 /
 * bf16: out (M, N) = x (M, K) W (N, K)^T + bias [GELU] [+ residual].
 *
 * Why locus has its own kernel here: at M = 128 the problem is reading W (1-5 MB per layer
 * matrix), and a library GEMM tiles the 128 x N output into a few dozen blocks, so a few dozen
 * multiprocessors stream the weights while the rest idle; its split-K variants add a reduction
 * kernel. This kernel splits K across the blocks of a thread-block cluster (sm_90) and reduces
 * the partial tiles through distributed shared memory in the same kernel, so that 100-200 blocks
 * stream disjoint slices of W and the output is written once, with the epilogue (bias, exact erf
 * GELU, residual) applied in f32 before the single rounding.
 *
 * Block: 8 warps (4 along M x 2 along N), tile BM x BN. The block's whole K slice of both operands
 * is resident in shared memory: every weight load is issued at once at the start (HBM latency is
 * paid once, with up to ~100 KB in flight per multiprocessor, where a few-stage pipeline would keep
 * a quarter of that in flight), then the activations, in one cp.async group per 64-wide step, so
 * that the arithmetic of step k overlaps the arrival of the later ones. Operand fragments by
 * ldmatrix from XOR-swizzled rows (16-byte chunk c of row r stored at chunk c ^ (r & 7): the eight
 * rows an ldmatrix phase reads hit eight different bank groups), products by mma.sync m16n8k16
 * with f32 accumulators. W is row-major (N, K), which is the "col" operand layout of mma.sync, so
 * neither operand is transposed.
 *
 * Split-K (S blocks per cluster, cluster dims (1, S, 1)): block rank r computes K slice r, writes
 * its f32 partial tile to its shared memory, and after a cluster barrier sums rows
 * [r BM/S, (r+1) BM/S) of all S partial tiles, applies the epilogue and stores them.
 *
 * Programmatic dependent launch (LOCUS_CUDA_PDL=1): the weights are requested before
 * griddepcontrol.wait (they do not depend on the previous kernel), and the kernel lets its
 * dependents launch once its main loop is done. */
#include "cuda/attention_common.cuh"
#include "cuda/common.cuh"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#include <cooperative_groups.h>
#define SG_CLUSTERS 1
#else
#define SG_CLUSTERS 0
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

namespace {

constexpr int SG_BK = 64, SG_MAX_STEPS = 12, SG_THREADS = 256;

template <typename T> __device__ __forceinline__ void sg_mma(float c[4], const uint32_t a[4], const uint32_t b[2]);
template <> __device__ __forceinline__ void sg_mma<__half>(float c[4], const uint32_t a[4], const uint32_t b[2]) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}
template <> __device__ __forceinline__ void sg_mma<__nv_bfloat16>(float c[4], const uint32_t a[4], const uint32_t b[2]) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}

__device__ __forceinline__ void sg_ldsm_x4(uint32_t r[4], const void *p) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    unsigned a = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
#endif
}

/* Element offset of 16-byte chunk c (0..7) of row r in a swizzled (rows x 64) tile. */
__device__ __forceinline__ int sg_swz(int r, int c) { return r * SG_BK + ((c ^ (r & 7)) << 3); }

template <int BM, int BN> struct sg_layout {
    static constexpr int LDP = BN + 4; /* f32 partial tile, padded rows */
    static constexpr size_t part = (size_t)BM * LDP * 4;
    /* shared memory for a K slice of `kslice` elements: both operand slices, or the partial tile */
    static size_t bytes(int kslice) {
        size_t ops = (size_t)(BM + BN) * (size_t)kslice * 2;
        return ops > part ? ops : part;
    }
};

/* cp.async.wait_group with a run-time count (0..SG_MAX_STEPS - 1) */
__device__ __forceinline__ void sg_wait_groups(int n) {
    switch (n) {
    case 0: cp_async_wait<0>(); break;
    case 1: cp_async_wait<1>(); break;
    case 2: cp_async_wait<2>(); break;
    case 3: cp_async_wait<3>(); break;
    case 4: cp_async_wait<4>(); break;
    case 5: cp_async_wait<5>(); break;
    case 6: cp_async_wait<6>(); break;
    case 7: cp_async_wait<7>(); break;
    case 8: cp_async_wait<8>(); break;
    case 9: cp_async_wait<9>(); break;
    case 10: cp_async_wait<10>(); break;
    default: cp_async_wait<11>(); break;
    }
}

struct sg_args {
    const void *x, *w, *bias, *res;
    void *out;
    int M, N, K;
    int gelu;
};

template <typename T> __device__ __forceinline__ void sg_load4(float v[4], const T *p) {
    uint2 u = *(const uint2 *)p;
    const T *e = (const T *)&u;
#pragma unroll
    for (int i = 0; i < 4; i++) v[i] = to_f(e[i]);
}

template <typename T, int BM, int BN>
__global__ void __launch_bounds__(SG_THREADS) small_gemm_kernel(sg_args a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
    __trap();
#else
    using L = sg_layout<BM, BN>;
    constexpr int WM = BM / 4, WN = BN / 2, MF = WM / 16, NF = WN / 8;
    static_assert(MF >= 1 && NF >= 2 && NF % 2 == 0, "tile");
    extern __shared__ __align__(128) unsigned char smem[];
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, wm = warp >> 1, wn = warp & 1;
    const int n0 = blockIdx.x * BN, m0 = blockIdx.z * BM;
    const int S = gridDim.y;
#if SG_CLUSTERS
    const int rank = S > 1 ? (int)cooperative_groups::this_cluster().block_rank() : 0;
#else
    if (S > 1) __trap();
    const int rank = 0;
#endif
    const int kslice = a.K / S, kbase = rank * kslice, nk = kslice / SG_BK;
    const T *X = (const T *)a.x, *W = (const T *)a.w;
    /* step kt's tiles: A (BM x 64) at As + kt BM 64, B (BN x 64) at Bs + kt BN 64 */
    T *As = (T *)smem, *Bs = As + (size_t)nk * BM * SG_BK;

    /* the weights do not depend on the previous kernel: all of them are requested before waiting
     * for it */
    {
        const T *src = W + (size_t)n0 * a.K + kbase;
        for (int i = tid; i < nk * BN * 8; i += SG_THREADS) {
            int kt = i / (BN * 8), r = (i >> 3) % BN, c = i & 7;
            cp_async16(Bs + (size_t)kt * BN * SG_BK + sg_swz(r, c), src + (size_t)r * a.K + kt * SG_BK + c * 8, true);
        }
    }
    lc_cu_wait_prior_grid();
    for (int kt = 0; kt < nk; kt++) {
        T *dst = As + (size_t)kt * BM * SG_BK;
#pragma unroll
        for (int i = tid; i < BM * 8; i += SG_THREADS) {
            int r = i >> 3, c = i & 7;
            bool ok = m0 + r < a.M;
            const T *src = ok ? X + (size_t)(m0 + r) * a.K + kbase + kt * SG_BK + c * 8 : X;
            cp_async16(dst + sg_swz(r, c), src, ok);
        }
        cp_async_commit(); /* group kt: step kt's activations (group 0 also every weight) */
    }

    float acc[MF][NF][4];
#pragma unroll
    for (int i = 0; i < MF; i++)
#pragma unroll
        for (int j = 0; j < NF; j++) acc[i][j][0] = acc[i][j][1] = acc[i][j][2] = acc[i][j][3] = 0.0f;

    /* ldmatrix.x4 addressing: A (16 x 16): lanes 0-15 rows 0-15 of chunk 2kk, lanes 16-31 of chunk
     * 2kk + 1 -> a0..a3. B (two 8-row n blocks x 16 k): lanes 0-7 n 0-7 chunk 2kk, 8-15 n 0-7
     * chunk 2kk + 1, 16-23 n 8-15 chunk 2kk, 24-31 n 8-15 chunk 2kk + 1 -> b of n block 0 = r0, r1;
     * of n block 1 = r2, r3. */
    const int a_row = wm * WM + (lane & 15), a_chunk = lane >> 4;
    const int b_row = wn * WN + (lane & 7) + ((lane >> 4) << 3), b_chunk = (lane >> 3) & 1;

    for (int kt = 0; kt < nk; kt++) {
        sg_wait_groups(nk - 1 - kt);
        __syncthreads(); /* step kt's tiles landed for every thread */
        const T *as = As + (size_t)kt * BM * SG_BK, *bs = Bs + (size_t)kt * BN * SG_BK;
#pragma unroll
        for (int kk = 0; kk < SG_BK / 16; kk++) {
            uint32_t af[MF][4], bf[NF][2];
#pragma unroll
            for (int i = 0; i < MF; i++) sg_ldsm_x4(af[i], as + sg_swz(a_row + i * 16, 2 * kk + a_chunk));
#pragma unroll
            for (int j = 0; j < NF / 2; j++) {
                uint32_t r[4];
                sg_ldsm_x4(r, bs + sg_swz(b_row + j * 16, 2 * kk + b_chunk));
                bf[2 * j][0] = r[0], bf[2 * j][1] = r[1], bf[2 * j + 1][0] = r[2], bf[2 * j + 1][1] = r[3];
            }
#pragma unroll
            for (int i = 0; i < MF; i++)
#pragma unroll
                for (int j = 0; j < NF; j++) sg_mma<T>(acc[i][j], af[i], bf[j]);
        }
    }
    __syncthreads(); /* the operand tiles' shared memory becomes the partial tile */
    lc_cu_launch_dependents();

    float *P = (float *)smem;
    const int g = lane >> 2, t4 = lane & 3;
#pragma unroll
    for (int i = 0; i < MF; i++)
#pragma unroll
        for (int j = 0; j < NF; j++) {
            int r = wm * WM + i * 16 + g, c = wn * WN + j * 8 + 2 * t4;
            *(float2 *)&P[r * L::LDP + c] = make_float2(acc[i][j][0], acc[i][j][1]);
            *(float2 *)&P[(r + 8) * L::LDP + c] = make_float2(acc[i][j][2], acc[i][j][3]);
        }
#if SG_CLUSTERS
    if (S > 1) cooperative_groups::this_cluster().sync(); /* every partial tile written and visible */
    else
#endif
        __syncthreads();

    const int rows = BM / S, r0 = rank * rows;
    const T *bias = (const T *)a.bias, *res = (const T *)a.res;
    T *out = (T *)a.out;
    for (int i = tid; i < rows * (BN / 4); i += SG_THREADS) {
        const int r = r0 + i / (BN / 4), c = (i % (BN / 4)) * 4, gm = m0 + r, gn = n0 + c;
        float4 v = *(const float4 *)&P[r * L::LDP + c];
#if SG_CLUSTERS
        for (int q = 1; q < S; q++) {
            const float *rp = cooperative_groups::this_cluster().map_shared_rank(P, (rank + q) % S);
            float4 u = *(const float4 *)&rp[r * L::LDP + c];
            v.x += u.x, v.y += u.y, v.z += u.z, v.w += u.w;
        }
#endif
        if (gm >= a.M) continue;
        float e[4] = {v.x, v.y, v.z, v.w};
        if (bias) {
            float b[4];
            sg_load4(b, bias + gn);
#pragma unroll
            for (int u = 0; u < 4; u++) e[u] += b[u];
        }
        if (a.gelu) {
#pragma unroll
            for (int u = 0; u < 4; u++) e[u] = 0.5f * e[u] * (1.0f + erff(e[u] * 0.70710678118654752f));
        }
        if (res) {
            float rr[4];
            sg_load4(rr, res + (size_t)gm * a.N + gn);
#pragma unroll
            for (int u = 0; u < 4; u++) e[u] += rr[u];
        }
        uint2 o;
        T *oe = (T *)&o;
#pragma unroll
        for (int u = 0; u < 4; u++) oe[u] = from_f<T>(e[u]);
        *(uint2 *)(out + (size_t)gm * a.N + gn) = o;
    }
#if SG_CLUSTERS
    if (S > 1) cooperative_groups::this_cluster().sync(); /* no block leaves while others read its tile */
#endif
#endif
}

/* Configurations: index = (tile << 2) | log2(S); tiles (BM, BN): 0 (128, 64), 1 (64, 64),
 * 2 (128, 32), 3 (64, 32). */
constexpr int SG_TILES = 4;
constexpr int sg_bm(int tile) { return tile & 1 ? 64 : 128; }
constexpr int sg_bn(int tile) { return tile & 2 ? 32 : 64; }

/* Shared memory a block may ask for on the current device (opt-in maximum). */
static int sg_smem_optin(void) {
    static int v[64];
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return 48 * 1024;
    if (!v[dev]) {
        int n = 0;
        cudaDeviceGetAttribute(&n, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
        v[dev] = n > 48 * 1024 ? n : 48 * 1024;
    }
    return v[dev];
}

template <typename T, int BM, int BN> static int sg_launch(cudaStream_t s, const sg_args &a, int S) {
    using L = sg_layout<BM, BN>;
    auto kernel = small_gemm_kernel<T, BM, BN>;
    static bool attr = false;
    if (!attr) {
        int e = (int)cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, sg_smem_optin());
        if (e) return e;
        attr = true;
    }
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3((unsigned)(a.N / BN), (unsigned)S, (unsigned)((a.M + BM - 1) / BM));
    cfg.blockDim = dim3(SG_THREADS);
    cfg.dynamicSmemBytes = L::bytes(a.K / S);
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

template <typename T> static int sg_dispatch(cudaStream_t s, const sg_args &a, int tile, int S) {
    switch (tile) {
    case 0: return sg_launch<T, 128, 64>(s, a, S);
    case 1: return sg_launch<T, 64, 64>(s, a, S);
    case 2: return sg_launch<T, 128, 32>(s, a, S);
    default: return sg_launch<T, 64, 32>(s, a, S);
    }
}

} // namespace

/* Split-K across a cluster needs the kernel's sm_90 code (clusters, distributed shared memory):
 * a build without it (or a device that runs the compute_80 fallback) only has S = 1. */
static bool sg_clusters_available(void) {
    static int ok[64];
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) return false;
    if (!ok[dev]) {
        cudaFuncAttributes fa;
        bool yes = lc_cu_device_major() >= 9 && cudaFuncGetAttributes(&fa, small_gemm_kernel<__half, 128, 64>) == cudaSuccess &&
                   fa.binaryVersion >= 90;
        (void)cudaGetLastError();
        ok[dev] = yes ? 1 : 2;
    }
    return ok[dev] == 1;
}

/* Whether configuration `config` can run the problem on the current device. */
static bool sg_config_fits(int config, int64_t M, int64_t N, int64_t K) {
    int tile = config >> 2, S = 1 << (config & 3);
    if (tile < 0 || tile >= SG_TILES || M <= 0 || M > 65535LL * sg_bm(tile) || N <= 0 || K <= 0) return false;
    if (N % sg_bn(tile) || N / sg_bn(tile) > 0x7fffffff) return false;
    if (K % (SG_BK * S) || K / (SG_BK * S) > SG_MAX_STEPS) return false;
    size_t bytes = (size_t)(sg_bm(tile) + sg_bn(tile)) * (size_t)(K / S) * 2;
    if (bytes > (size_t)sg_smem_optin()) return false;
    if (S > 1 && !sg_clusters_available()) return false;
    return lc_cu_device_major() >= 8;
}

extern "C" int lc_cu_small_gemm_configs(int64_t M, int64_t N, int64_t K, int *configs, int max) {
    int n = 0;
    for (int c = 0; c < SG_TILES * 4 && n < max; c++)
        if (sg_config_fits(c, M, N, K)) configs[n++] = c;
    return n;
}

extern "C" int lc_cu_small_gemm(lc_cu_stream s, int dtype, const lc_cu_small_gemm_args *g, int config) {
    if ((dtype != LC_CU_F16 && dtype != LC_CU_BF16) || !sg_config_fits(config, g->M, g->N, g->K)) return (int)cudaErrorNotSupported;
    if (((uintptr_t)g->x | (uintptr_t)g->w) & 15 || ((uintptr_t)g->out | (uintptr_t)g->bias | (uintptr_t)g->residual) & 7)
        return (int)cudaErrorNotSupported;
    if (g->M * g->N > 0x7fffffffLL * 4) return (int)cudaErrorNotSupported;
    sg_args a = {g->x, g->w, g->bias, g->residual, g->out, (int)g->M, (int)g->N, (int)g->K, g->gelu};
    int tile = config >> 2, S = 1 << (config & 3);
    return dtype == LC_CU_F16 ? sg_dispatch<__half>((cudaStream_t)s, a, tile, S) : sg_dispatch<__nv_bfloat16>((cudaStream_t)s, a, tile, S);
}
