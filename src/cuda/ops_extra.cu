/* CUDA kernels for the ops outside the models' hot path that the op API offers: sort, gather,
 * scatter, binary cross-entropy and the im2col step of convolutions. Each gives what the CPU
 * backend gives (the tests hold them to it):
 *
 * - sort: ascending along the last axis, NaN last, through the CPU backend's order-preserving
 *   32-bit keys (so -0 sorts before +0 and every NaN comes out as the same NaN), rows of up to
 *   2048 keys by a bitonic sort in shared memory, longer ones by CUB's segmented sort (part of
 *   the CUDA toolkit);
 * - gather / scatter: torch semantics; an index outside its axis sets the device's bad-input flag
 *   (reported, naming the op, by the next synchronizing call, like an embedding id outside the
 *   table); gather writes zeros there, scatter skips the write. Duplicate scatter targets resolve
 *   as the CPU's sequential loop does, "last write wins": each target keeps the highest index
 *   position aimed at it (an atomic maximum in a first pass), so the result does not depend on
 *   the order the threads run in;
 * - binary cross-entropy: the mean of -(y log p + (1 - y) log(1 - p)) with each log clamped at
 *   -100, summed in double in a fixed order (the same result on every run);
 * - im2col: the columns (C KH KW, Hout Wout) of each image, for a GEMM on cuBLASLt (gemm.c). */
#include "cuda/attention_common.cuh"
#include "cuda/common.cuh"

#include <cub/device/device_segmented_sort.cuh>

#include <math.h>

namespace {

constexpr int EX_THREADS = 256;

/* ---- gather / scatter ------------------------------------------------------------------------- */
/* Offset in the data array of index position i (whose value is v): the index's coordinates with
 * the data's strides, v on the axis; *src_off gets the position's offset in src (scatter). I is
 * uint32_t when every position and offset fits in 31 bits (the launchers decide): 64-bit division
 * costs several times as many instructions as 32-bit, and these kernels do one per dimension. */
template <typename I> __device__ __forceinline__ I index_offset(const lc_cu_index_args &g, I i, I v, I *src_off) {
    I off = 0, soff = 0;
    for (int d = g.ndim - 1; d >= 0; d--) {
        I n = (I)g.ishape[d], c = i % n;
        i /= n;
        off += (d == g.axis ? v : c) * (I)g.astride[d];
        if (src_off) soff += c * (I)g.sstride[d];
    }
    if (src_off) *src_off = soff;
    return off;
}

template <typename B, typename I> __global__ void gather_kernel(B *out, const B *a, const int64_t *idx, lc_cu_index_args g, int *bad) {
    const I n = (I)g.n, step = (I)gridDim.x * blockDim.x;
    for (I i = blockIdx.x * (I)blockDim.x + threadIdx.x; i < n; i += step) {
        int64_t v = __ldcs(idx + i); /* read once: streamed past the caches */
        if (v < 0 || v >= g.alen) {
            if (bad) *bad = LC_CU_BAD_GATHER;
            out[i] = B(0);
            continue;
        }
        __stcs(out + i, a[index_offset<I>(g, i, (I)v, NULL)]);
    }
}

/* Four consecutive positions of B per thread, when the index's last dimension is a multiple of 4
 * (so the four share every coordinate but the last) and idx and out are aligned for 16-byte
 * index loads and 4-element stores (the launcher checks): one offset computation instead of
 * four, two 16-byte index loads and one store. Out-of-range positions as in gather_kernel. */
template <typename B> struct alignas(4 * sizeof(B)) vec4 { B v[4]; };

template <typename B> __device__ __forceinline__ void store4_cs(B *p, const vec4<B> &r) { /* streamed past the caches */
    if constexpr (sizeof(B) == 2) {
        __stcs((uint2 *)p, *(const uint2 *)&r);
    } else if constexpr (sizeof(B) == 4) {
        __stcs((uint4 *)p, *(const uint4 *)&r);
    } else {
        __stcs((uint4 *)p, ((const uint4 *)&r)[0]);
        __stcs((uint4 *)p + 1, ((const uint4 *)&r)[1]);
    }
}

template <typename B, typename I> __global__ void gather4_kernel(B *out, const B *a, const int64_t *idx, lc_cu_index_args g, int *bad) {
    const I n4 = (I)(g.n / 4), step = (I)gridDim.x * blockDim.x;
    const int last = g.ndim - 1;
    const I lstride = g.axis == last ? (I)0 : (I)g.astride[last], axstride = (I)g.astride[g.axis];
    for (I q = blockIdx.x * (I)blockDim.x + threadIdx.x; q < n4; q += step) {
        const I i = 4 * q;
        const longlong2 p0 = __ldcs((const longlong2 *)(idx + i)), p1 = __ldcs((const longlong2 *)(idx + i) + 1);
        const int64_t v[4] = {p0.x, p0.y, p1.x, p1.y};
        const I base = index_offset<I>(g, i, (I)0, NULL); /* every coordinate of position i, 0 on the axis */
        vec4<B> r;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            if (v[j] < 0 || v[j] >= g.alen) {
                if (bad) *bad = LC_CU_BAD_GATHER;
                r.v[j] = B(0);
            } else {
                r.v[j] = a[base + (I)j * lstride + (I)v[j] * axstride];
            }
        }
        store4_cs(out + i, r);
    }
}

/* Pass 1: each target keeps 1 + the highest index position aimed at it. The positions are walked
 * from the last one down, and a target whose claim is already higher is left alone without an
 * atomic: with many positions aimed at few targets (a row scatter), most of the atomics, which
 * serialize on their target, are skipped. A stale read only costs an atomic that changes nothing. */
template <typename I> __global__ void scatter_claim_kernel(unsigned long long *win, const int64_t *idx, lc_cu_index_args g, int *bad) {
    const I n = (I)g.n, step = (I)gridDim.x * blockDim.x;
    for (I k = blockIdx.x * (I)blockDim.x + threadIdx.x; k < n; k += step) {
        const I i = n - 1 - k;
        int64_t v = idx[i];
        if (v < 0 || v >= g.alen) {
            if (bad) *bad = LC_CU_BAD_SCATTER;
            continue;
        }
        unsigned long long *t = win + index_offset<I>(g, i, (I)v, NULL), mine = (unsigned long long)i + 1ull;
        if (__ldcg(t) < mine) atomicMax(t, mine);
    }
}

/* Pass 2, over the targets (not the positions): a claimed target takes the src element of the
 * position that won it. It reads the claims (8 bytes a target) and one src element per claimed
 * target, instead of every index position again. */
template <typename B, typename I>
__global__ void scatter_write_kernel(B *out, const B *src, const unsigned long long *win, lc_cu_index_args g) {
    const I an = (I)g.an, step = (I)gridDim.x * blockDim.x;
    for (I t = blockIdx.x * (I)blockDim.x + threadIdx.x; t < an; t += step) {
        const unsigned long long w = win[t];
        if (!w) continue;
        I p = (I)(w - 1ull), soff = 0; /* the winning position's coordinates, with src's strides */
        for (int d = g.ndim - 1; d >= 0; d--) {
            const I n = (I)g.ishape[d];
            soff += (p % n) * (I)g.sstride[d];
            p /= n;
        }
        out[t] = src[soff];
    }
}

/* ---- binary cross-entropy --------------------------------------------------------------------- */
constexpr int BCE_MAX_BLOCKS = 1024;

__device__ __forceinline__ double warp_sum_d(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
/* Sum over the block, in thread 0 (fixed order: the same bits on every run). */
__device__ __forceinline__ double block_sum_d(double v) {
    __shared__ double part[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum_d(v);
    if (lane == 0) part[warp] = v;
    __syncthreads();
    double r = 0.0;
    if (warp == 0) {
        r = lane < nw ? part[lane] : 0.0;
        r = warp_sum_d(r);
    }
    return r;
}

template <typename T> __global__ void bce_partial_kernel(double *partial, const T *p, const T *y, int64_t n) {
    double acc = 0.0;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float pv = to_f(p[i]), yv = to_f(y[i]);
        float lp = logf(pv), lq = logf(1.0f - pv);
        if (!(lp >= -100.0f)) lp = isnan(lp) ? lp : -100.0f;
        if (!(lq >= -100.0f)) lq = isnan(lq) ? lq : -100.0f;
        acc -= (double)yv * lp + (1.0 - (double)yv) * lq;
    }
    double s = block_sum_d(acc);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

template <typename T> __global__ void bce_final_kernel(T *out, const double *partial, int blocks, int64_t n) {
    double acc = 0.0;
    for (int i = threadIdx.x; i < blocks; i += blockDim.x) acc += partial[i];
    double s = block_sum_d(acc);
    if (threadIdx.x == 0) out[0] = from_f<T>((float)(s / (double)n));
}

static int bce_blocks(int64_t n) {
    int64_t b = (n + EX_THREADS * 8 - 1) / (EX_THREADS * 8);
    return (int)(b < 1 ? 1 : b > BCE_MAX_BLOCKS ? BCE_MAX_BLOCKS : b);
}

/* ---- sort --------------------------------------------------------------------------------------- */
/* The CPU backend's keys (kernels_extra.c): order-preserving, every NaN after +inf. */
__device__ __forceinline__ uint32_t float_key(float f) {
    if (isnan(f)) return 0xffffffffu;
    uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float key_float(uint32_t k) { return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k); }

template <typename T> __global__ void sort_keys_kernel(uint32_t *keys, int64_t *offsets, const T *x, int64_t total, int64_t rows, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x)
        keys[i] = float_key(to_f(x[i]));
    for (int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; r <= rows; r += (int64_t)gridDim.x * blockDim.x) offsets[r] = r * n;
}

template <typename T> __global__ void sort_values_kernel(T *out, const uint32_t *keys, int64_t total) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = from_f<T>(key_float(keys[i]));
}

/* Rows of at most SORT_SHORT elements: a bitonic sort of the keys in shared memory, P/2 threads per
 * row of P (n rounded up to a power of two, at least 64) keys, padded with the NaN key (the
 * padding sorts last and is never written back), several rows per block when P is small. CUB's
 * segmented sort gives each such row a block of its own and runs far slower. */
#define SORT_SHORT 2048
static int sort_pow2(int64_t n) {
    int p = 64;
    while (p < n) p <<= 1;
    return p;
}
template <typename T> __global__ void sort_short_kernel(T *out, const T *x, int64_t rows, int n, int P, int rpb) {
    extern __shared__ uint32_t sk[];
    const int half = P >> 1, lr = (int)threadIdx.x / half, t = (int)threadIdx.x % half;
    const int64_t row = (int64_t)blockIdx.x * rpb + lr;
    const bool live = row < rows;
    uint32_t *k = sk + (size_t)lr * P;
    const T *xr = x + (live ? row : 0) * n;
    for (int j = t; j < P; j += half) k[j] = live && j < n ? float_key(to_f(xr[j])) : 0xffffffffu;
    __syncthreads();
    for (int size = 2; size <= P; size <<= 1)
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
            const int i = 2 * t - (t & (stride - 1)), j = i + stride;
            const bool up = (i & size) == 0;
            const uint32_t a = k[i], b = k[j];
            if ((a > b) == up) k[i] = b, k[j] = a;
            __syncthreads();
        }
    if (live)
        for (int j = t; j < n; j += half) out[row * n + j] = from_f<T>(key_float(k[j]));
}

struct sort_layout {
    size_t keys_in, keys_out, offsets, temp, temp_bytes;
};
static size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }

/* Where the keys, offsets and CUB's temporary storage sit in the scratch (temp_bytes and total
 * are set by lc_cu_sort_scratch's query, or from the scratch size given to lc_cu_sort). */
static void sort_offsets(int64_t rows, int64_t n, sort_layout *L) {
    size_t nk = align256((size_t)(rows * n) * 4);
    L->keys_in = 0;
    L->keys_out = nk;
    L->offsets = 2 * nk;
    L->temp = L->offsets + align256((size_t)(rows + 1) * 8);
}

/* ---- im2col ----------------------------------------------------------------------------------- */
/* One thread per column element. I is the index type: 32-bit when every offset fits (64-bit
 * division costs several times the 32-bit one, and the kernel is mostly index arithmetic), five
 * divisions per element either way. */
template <typename B, typename I>
__global__ void im2col_kernel(B *cols, const B *x, lc_cu_conv_args c64, I total) {
    const I C = (I)c64.C, H = (I)c64.H, W = (I)c64.W, KH = (I)c64.KH, KW = (I)c64.KW, Hout = (I)c64.Hout, Wout = (I)c64.Wout;
    const I P = Hout * Wout, KHW = KH * KW, CK = C * KHW, stride = (I)c64.stride, ph = (I)c64.pad_h, pw = (I)c64.pad_w;
    for (I i = (I)(blockIdx.x * blockDim.x + threadIdx.x); i < total; i += (I)(gridDim.x * blockDim.x)) {
        const I q = i / P, p = i - q * P;      /* q: (image, column row) */
        const I img = q / CK, r = q - img * CK;  /* r: (channel, kh, kw) */
        const I ch = r / KHW, rk = r - ch * KHW, kh = rk / KW, kw = rk - kh * KW;
        const I oh = p / Wout, ow = p - oh * Wout;
        /* unsigned wrap-around turns positions above the padding into values >= H or >= W */
        const I ih = oh * stride + kh - ph, iw = ow * stride + kw - pw;
        const bool in = ih < H && iw < W;
        cols[i] = in ? x[((img * C + ch) * H + ih) * W + iw] : B(0);
    }
}

template <typename B> static void im2col_launch(cudaStream_t s, B *cols, const B *x, const lc_cu_conv_args *c, int64_t nimg, int64_t total) {
    int blocks = lc_cu_blocks(total, EX_THREADS);
    int64_t in_total = nimg * c->C * c->H * c->W;
    /* 32-bit when every index and the grid-stride step stay below 2^32 */
    if (total < ((int64_t)1 << 31) && in_total < ((int64_t)1 << 31))
        im2col_kernel<B, uint32_t><<<blocks, EX_THREADS, 0, s>>>(cols, x, *c, (uint32_t)total);
    else
        im2col_kernel<B, uint64_t><<<blocks, EX_THREADS, 0, s>>>(cols, x, *c, (uint64_t)total);
}

/* 32-bit positions and offsets: every index position, data element and src element below 2^31
 * (the grid-stride step is below 2^31 too, so i + step cannot wrap). */
static bool index_fits32(const lc_cu_index_args *g) {
    const int64_t lim = (int64_t)1 << 31;
    return g->n < lim && g->an < lim && g->sn < lim;
}

template <typename B>
static void gather_launch(lc_cu_stream s, void *out, const void *a, const int64_t *idx, const lc_cu_index_args *g, int *bad) {
    const bool four = g->ishape[g->ndim - 1] % 4 == 0 && (uintptr_t)idx % 16 == 0 && (uintptr_t)out % (4 * sizeof(B)) == 0;
    const int blocks = lc_cu_blocks(four ? g->n / 4 : g->n, EX_THREADS);
    if (four && index_fits32(g)) gather4_kernel<B, uint32_t><<<blocks, EX_THREADS, 0, s>>>((B *)out, (const B *)a, idx, *g, bad);
    else if (four) gather4_kernel<B, uint64_t><<<blocks, EX_THREADS, 0, s>>>((B *)out, (const B *)a, idx, *g, bad);
    else if (index_fits32(g)) gather_kernel<B, uint32_t><<<blocks, EX_THREADS, 0, s>>>((B *)out, (const B *)a, idx, *g, bad);
    else gather_kernel<B, uint64_t><<<blocks, EX_THREADS, 0, s>>>((B *)out, (const B *)a, idx, *g, bad);
}

template <typename B>
static void scatter_write_launch(lc_cu_stream s, void *out, const void *src, const unsigned long long *win, const lc_cu_index_args *g) {
    const int blocks = lc_cu_blocks(g->an, EX_THREADS);
    if (index_fits32(g)) scatter_write_kernel<B, uint32_t><<<blocks, EX_THREADS, 0, s>>>((B *)out, (const B *)src, win, *g);
    else scatter_write_kernel<B, uint64_t><<<blocks, EX_THREADS, 0, s>>>((B *)out, (const B *)src, win, *g);
}

} // namespace

extern "C" int lc_cu_gather(lc_cu_stream s, size_t esize, void *out, const void *a, const int64_t *idx, const lc_cu_index_args *g,
                            int *bad_flag) {
    if (g->n == 0) return 0;
    switch (esize) {
    case 2: gather_launch<uint16_t>(s, out, a, idx, g, bad_flag); break;
    case 4: gather_launch<uint32_t>(s, out, a, idx, g, bad_flag); break;
    case 8: gather_launch<uint64_t>(s, out, a, idx, g, bad_flag); break;
    default: return (int)cudaErrorInvalidValue;
    }
    return lc_cu_last_error();
}

extern "C" size_t lc_cu_scatter_scratch(const lc_cu_index_args *g) { return (size_t)(g->an > 0 ? g->an : 1) * 8; }

extern "C" int lc_cu_scatter(lc_cu_stream s, size_t esize, void *out, const void *src, const int64_t *idx, const lc_cu_index_args *g,
                             void *scratch, int *bad_flag) {
    if (g->n == 0 || g->an == 0) return 0;
    unsigned long long *win = (unsigned long long *)scratch;
    int e = (int)cudaMemsetAsync(win, 0, (size_t)g->an * 8, s);
    if (e) return e;
    int blocks = lc_cu_blocks(g->n, EX_THREADS);
    if (index_fits32(g)) scatter_claim_kernel<uint32_t><<<blocks, EX_THREADS, 0, s>>>(win, idx, *g, bad_flag);
    else scatter_claim_kernel<uint64_t><<<blocks, EX_THREADS, 0, s>>>(win, idx, *g, bad_flag);
    switch (esize) {
    case 2: scatter_write_launch<uint16_t>(s, out, src, win, g); break;
    case 4: scatter_write_launch<uint32_t>(s, out, src, win, g); break;
    case 8: scatter_write_launch<uint64_t>(s, out, src, win, g); break;
    default: return (int)cudaErrorInvalidValue;
    }
    return lc_cu_last_error();
}

extern "C" size_t lc_cu_bce_scratch(int64_t n) { return (size_t)bce_blocks(n) * sizeof(double); }

extern "C" int lc_cu_bce(lc_cu_stream s, int dtype, void *out, const void *p, const void *y, int64_t n, void *scratch) {
    if (n == 0) return lc_cu_fill(s, dtype, out, 1, NAN); /* the mean of nothing, as on the CPU */
    int blocks = bce_blocks(n);
    LC_CU_DISPATCH_FLOAT(dtype, T, {
        bce_partial_kernel<T><<<blocks, EX_THREADS, 0, s>>>((double *)scratch, (const T *)p, (const T *)y, n);
        bce_final_kernel<T><<<1, EX_THREADS, 0, s>>>((T *)out, (const double *)scratch, blocks, n);
    });
    return lc_cu_last_error();
}

extern "C" int lc_cu_sort_scratch(int64_t rows, int64_t n, size_t *bytes) {
    *bytes = 0;
    if (rows * n == 0 || n <= SORT_SHORT) return 0;
    size_t tb = 0;
    cudaError_t e = cub::DeviceSegmentedSort::SortKeys((void *)NULL, tb, (const uint32_t *)NULL, (uint32_t *)NULL, rows * n, rows,
                                                       (const int64_t *)NULL, (const int64_t *)NULL, (cudaStream_t)0);
    if (e) return (int)e;
    sort_layout L;
    sort_offsets(rows, n, &L);
    *bytes = L.temp + align256(tb);
    return 0;
}

extern "C" int lc_cu_sort(lc_cu_stream s, int dtype, void *out, const void *x, int64_t rows, int64_t n, void *scratch, size_t bytes) {
    int64_t total = rows * n;
    if (total == 0) return 0;
    if (n <= SORT_SHORT) {
        const int P = sort_pow2(n), half = P / 2, rpb = half >= 256 ? 1 : 256 / half;
        const int64_t blocks = (rows + rpb - 1) / rpb;
        if (blocks > 0x7fffffff) return (int)cudaErrorInvalidValue;
        LC_CU_DISPATCH_FLOAT(dtype, T, {
            sort_short_kernel<T><<<(unsigned)blocks, (unsigned)(half * rpb), (size_t)P * rpb * 4, s>>>((T *)out, (const T *)x, rows, (int)n,
                                                                                                     P, rpb);
        });
        return lc_cu_last_error();
    }
    sort_layout L;
    sort_offsets(rows, n, &L);
    if (bytes <= L.temp) return (int)cudaErrorInvalidValue;
    L.temp_bytes = bytes - L.temp; /* at least what lc_cu_sort_scratch's query asked for */
    char *base = (char *)scratch;
    uint32_t *kin = (uint32_t *)(base + L.keys_in), *kout = (uint32_t *)(base + L.keys_out);
    int64_t *off = (int64_t *)(base + L.offsets);
    int blocks = lc_cu_blocks(total > rows + 1 ? total : rows + 1, EX_THREADS);
    LC_CU_DISPATCH_FLOAT(dtype, T, { sort_keys_kernel<T><<<blocks, EX_THREADS, 0, s>>>(kin, off, (const T *)x, total, rows, n); });
    int e = lc_cu_last_error();
    if (e) return e;
    size_t tb = L.temp_bytes;
    e = (int)cub::DeviceSegmentedSort::SortKeys((void *)(base + L.temp), tb, (const uint32_t *)kin, kout, total, rows, (const int64_t *)off,
                                                (const int64_t *)off + 1, (cudaStream_t)s);
    if (e) return e;
    blocks = lc_cu_blocks(total, EX_THREADS);
    LC_CU_DISPATCH_FLOAT(dtype, T, { sort_values_kernel<T><<<blocks, EX_THREADS, 0, s>>>((T *)out, kout, total); });
    return lc_cu_last_error();
}

extern "C" int lc_cu_im2col(lc_cu_stream s, size_t esize, void *cols, const void *x, const lc_cu_conv_args *c, int64_t nimg) {
    int64_t total = nimg * c->C * c->KH * c->KW * c->Hout * c->Wout;
    if (total == 0) return 0;
    switch (esize) {
    case 2: im2col_launch<uint16_t>(s, (uint16_t *)cols, (const uint16_t *)x, c, nimg, total); break;
    case 4: im2col_launch<uint32_t>(s, (uint32_t *)cols, (const uint32_t *)x, c, nimg, total); break;
    default: return (int)cudaErrorInvalidValue;
    }
    return lc_cu_last_error();
}
