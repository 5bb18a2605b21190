/* Fused attention for f32 inputs on tensor cores (sm_80+): mma.sync m16n8k8 with TF32 operands,
 * FlashAttention-2 style (one pass over the keys, online softmax, scores and output accumulator
 * in registers). The semantics are those of lc_cu_attention (kernels.h): key padding mask
 * (mask[b * Tk + key] == 0 drops the key), a row with no usable key gives zeros.
 *
 * Two precisions:
 *   TF32   one product per MMA, operands rounded to TF32 (cvt.rna): about 1e-3 relative.
 *   f32    the 3xTF32 split: x = big + small with big = tf32(x), small = tf32(x - big), and
 *          A B ~= Abig Bbig + Abig Bsmall + Asmall Bbig with f32 accumulation, for both Q K^T
 *          and P V: close to f32 accuracy (the dropped Asmall Bsmall term is ~2^-22 relative).
 *
 * Fragment layouts (PTX ISA, "Matrix fragments for mma.m16n8k8", .tf32), lane = 4 g + t:
 *   A (16x8, row):  a0 (row g, k t), a1 (row g+8, k t), a2 (row g, k t+4), a3 (row g+8, k t+4)
 *   B (8x8, col):   b0 (k t, col g), b1 (k t+4, col g)
 *   C (16x8):       c0, c1 (row g, cols 2t, 2t+1), c2, c3 (row g+8, cols 2t, 2t+1)
 *
 * The contraction index k of one MMA may be any permutation of the 8 summed positions, as long
 * as A and B use the same one. Both products use k = t <-> position 2t, k = t+4 <-> position
 * 2t+1:
 *   Q K^T   positions are head-dimension columns: a lane reads Q[row][2t], Q[row][2t+1] and
 *           K[key][2t], K[key][2t+1] as float2 pairs.
 *   P V     positions are keys: the score accumulator of an 8-key block (c0..c3, keys 2t and
 *           2t+1) is directly the A fragment {c0, c2, c1, c3}, so P never leaves registers; the
 *           B fragment is V[key 2t][d], V[key 2t+1][d].
 *
 * Shared memory row strides (floats), chosen so that every fragment read is bank-conflict free:
 *   Q, K   D + 8 (= 8 mod 32): float2 reads at word 8g + 2t (+ const); a half-warp (g in 4
 *          consecutive values, t in 0..3) covers the 32 banks once.
 *   V      D + 4 (= 4 mod 32): scalar reads at rows 2t and 2t+1, column g: banks 8t + g and
 *          8t + 4 + g (+ const), 32 distinct values each.
 */
#include "cuda/common.cuh"
#include "cuda/attention_common.cuh"

#include <stdlib.h>
#include <string.h>

#define F32A_PAD_QK 8
#define F32A_PAD_V 4

static __host__ __device__ constexpr size_t f32a_align(size_t n) { return (n + 127) & ~(size_t)127; }

/* ---- device helpers ---------------------------------------------------------------------------- */
/* One operand element: `big` always; `small` (the TF32 rounding of the remainder, exact in f32)
 * only in split mode. */
template <bool SPLIT> __device__ __forceinline__ void f32a_split(float x, uint32_t &big, uint32_t &small) {
    if (SPLIT) tf32_split(x, big, small);
    else big = tf32_bits(x);
}

/* c += A B in the chosen precision; the small cross terms go in first. */
template <bool SPLIT>
__device__ __forceinline__ void f32a_mma3(float c[4], const uint32_t ab[4], const uint32_t as[4], const uint32_t bb[2],
                                          const uint32_t bs[2]) {
    if (SPLIT) {
        mma_tf32_m16n8k8(c, as, bb[0], bb[1]);
        mma_tf32_m16n8k8(c, ab, bs[0], bs[1]);
    }
    mma_tf32_m16n8k8(c, ab, bb[0], bb[1]);
}

/* Rows [r0, r0 + n) of a (rows, D) f32 matrix with row stride `rs` (elements) into shared memory
 * with row stride `ld`, 4 floats per copy; rows at or past `limit` are zero-filled. */
template <int D>
__device__ __forceinline__ void f32a_tile(float *dst, int ld, const float *src, int64_t rs, int64_t r0, int n, int64_t limit) {
    constexpr int per_row = D / 4;
    for (int idx = threadIdx.x; idx < n * per_row; idx += blockDim.x) {
        int r = idx / per_row, c = (idx % per_row) * 4;
        bool ok = r0 + r < limit;
        cp_async16(dst + r * ld + c, ok ? (const void *)(src + (r0 + r) * rs + c) : (const void *)src, ok);
    }
}

/* The A fragment of Q columns [8 ks, 8 ks + 8) for this warp's 16 rows (Qw: its first row). */
template <int LDQ, bool SPLIT>
__device__ __forceinline__ void f32a_q_frag(const float *Qw, int ks, int g, int t, uint32_t ab[4], uint32_t as[4]) {
    const float2 x = *(const float2 *)&Qw[g * LDQ + ks * 8 + 2 * t];       /* a0 (k t), a2 (k t+4) of row g */
    const float2 y = *(const float2 *)&Qw[(g + 8) * LDQ + ks * 8 + 2 * t]; /* a1, a3 of row g + 8 */
    f32a_split<SPLIT>(x.x, ab[0], as[0]);
    f32a_split<SPLIT>(y.x, ab[1], as[1]);
    f32a_split<SPLIT>(x.y, ab[2], as[2]);
    f32a_split<SPLIT>(y.y, ab[3], as[3]);
}

/* ---- kernel ------------------------------------------------------------------------------------ */
template <int D, int BK, int WARPS, int KS> struct f32a_layout {
    static constexpr int WQ = WARPS / KS;      /* warps per key share; each owns 16 queries */
    static constexpr int BQ = 16 * WQ;         /* queries per block */
    static constexpr int BKW = BK / KS;        /* keys of a tile that one warp scores */
    static constexpr int LDQ = D + F32A_PAD_QK; /* floats; = 8 mod 32 for D in {32, 64, 128} */
    static constexpr int LDK = D + F32A_PAD_QK;
    static constexpr int LDV = D + F32A_PAD_V; /* = 4 mod 32 */
    static constexpr size_t k_tile = f32a_align((size_t)BK * LDK * 4);
    static constexpr size_t v_tile = f32a_align((size_t)BK * LDV * 4);
    static constexpr size_t m_tile = f32a_align((size_t)BK * 4);
    static constexpr size_t q_off = 0;
    static constexpr size_t k_off = f32a_align((size_t)BQ * LDQ * 4); /* two stages each of K, V, mask */
    static constexpr size_t v_off = k_off + 2 * k_tile;
    static constexpr size_t m_off = v_off + 2 * v_tile;
    static constexpr size_t bytes = m_off + 2 * m_tile;
    /* key-split partial results (per warp: D/2 accumulator values and m0, m1, l0, l1 per lane)
     * reuse the K/V stages once the last tile is consumed */
    static constexpr size_t part = (size_t)(D / 2 + 4) * 32;
    static_assert(LDQ % 32 == 8 && LDV % 32 == 4, "padding breaks the conflict-free fragment reads");
    static_assert(BKW % 8 == 0 && D % 8 == 0 && WARPS % KS == 0 && (KS == 1 || KS == 2), "tile sizes");
    static_assert(KS == 1 || (m_off - k_off) >= WQ * part * 4, "no room for the key-split partials");
};

/* One block: WARPS warps of one (batch, head), 16 queries per warp. K/V tiles of BK keys are
 * double-buffered: the copy of tile i + 1 runs while tile i is computed.
 * KS = 2 (key split, for small grids): warps w and w + WARPS/2 own the same 16 queries and
 * score halves [kh BK/2, kh BK/2 + BK/2) of every tile (kh = w / (WARPS/2)); their softmax
 * states are merged at the end. KS = 1: each warp scores whole tiles.
 * SPLIT: 3xTF32 (f32 accuracy), else TF32. QREG: Q fragments converted once and kept in
 * registers, else re-read from shared memory for every key tile (fewer registers). */
template <int D, int BK, int WARPS, int KS, bool SPLIT, bool QREG>
__global__ void __launch_bounds__(WARPS * 32) attention_f32tc_kernel(lc_cu_attn_args a) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
    __trap(); /* the host picks this kernel only on sm_80 and newer */
#else
    using L = f32a_layout<D, BK, WARPS, KS>;
    constexpr int BKW = L::BKW;
    extern __shared__ __align__(128) unsigned char smem[];
    lc_cu_wait_prior_grid();
    lc_cu_launch_dependents();
    float *Qs = (float *)(smem + L::q_off);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int wq = warp % L::WQ, kh = warp / L::WQ; /* query group, key half */
    const int kb = kh * BKW;                        /* first key of this warp's share of a tile */
    const int64_t nqb = (a.Tq + L::BQ - 1) / L::BQ;
    const int64_t bh = blockIdx.x / nqb, qb = blockIdx.x % nqb;
    const int64_t b = bh / a.H, h = bh % a.H;
    const float *q = (const float *)a.q + b * a.qs[0] + h * a.qs[1];
    const float *k = (const float *)a.k + b * a.ks[0] + h * a.ks[1];
    const float *v = (const float *)a.v + b * a.vs[0] + h * a.vs[1];
    const int64_t q0 = qb * L::BQ;
    const int ntiles = (int)((a.Tk + BK - 1) / BK); /* >= 1: the host requires Tk >= 1 */

    auto stage_k = [&](int st) { return (float *)(smem + L::k_off + st * L::k_tile); };
    auto stage_v = [&](int st) { return (float *)(smem + L::v_off + st * L::v_tile); };
    auto stage_m = [&](int st) { return (float *)(smem + L::m_off + st * L::m_tile); };
    /* tile i: keys [i BK, i BK + BK) into stage i & 1; keys past Tk are zero rows with mask 0 */
    auto issue = [&](int i) {
        const int st = i & 1;
        const int64_t k0 = (int64_t)i * BK;
        f32a_tile<D>(stage_k(st), L::LDK, k, a.ks[2], k0, BK, a.Tk);
        f32a_tile<D>(stage_v(st), L::LDV, v, a.vs[2], k0, BK, a.Tk);
        mask_tile_async(stage_m(st), a.mask ? a.mask + b * a.Tk : nullptr, k0, BK, a.Tk);
    };
    /* group 0: Q (rows past Tq zero) and tile 0 */
    f32a_tile<D>(Qs, L::LDQ, q, a.qs[2], q0, L::BQ, a.Tq);
    issue(0);
    cp_async_commit();

    const float *Qw = Qs + wq * 16 * L::LDQ; /* this warp's 16 query rows */
    uint32_t qfb[QREG ? D / 8 : 1][4], qfs[QREG && SPLIT ? D / 8 : 1][4];
    float o[D / 8][4]; /* output accumulator, C layout: o[db] = rows g, g+8 x cols 8 db + 2t, +1 */
#pragma unroll
    for (int i = 0; i < D / 8; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f; /* running max / sum of rows g, g+8 */

    for (int it = 0; it < ntiles; it++) {
        /* invariant: groups committed so far are 0..it; waiting for all but the newest after
         * committing it + 1 leaves tile it (and Q) complete */
        if (it + 1 < ntiles) {
            issue(it + 1); /* stage (it+1)&1 was last read in iteration it-1, closed by a barrier */
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads(); /* every thread's copies of tile it (and Q) are visible */
        if (QREG && it == 0) {
#pragma unroll
            for (int ks = 0; ks < D / 8; ks++) f32a_q_frag<L::LDQ, SPLIT>(Qw, ks, g, t, qfb[ks], qfs[QREG && SPLIT ? ks : 0]);
        }
        const float *Ks = stage_k(it & 1), *Vs = stage_v(it & 1), *Ms = stage_m(it & 1);

        /* S (16 x BKW) = Q_w K^T: s[nb] holds tile keys [kb + 8 nb, kb + 8 nb + 8) in the C layout */
        float s[BKW / 8][4];
#pragma unroll
        for (int nb = 0; nb < BKW / 8; nb++) s[nb][0] = s[nb][1] = s[nb][2] = s[nb][3] = 0.0f;
#pragma unroll
        for (int ks = 0; ks < D / 8; ks++) {
            uint32_t ab[4], as[4] = {0, 0, 0, 0};
            if (QREG) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    ab[e] = qfb[QREG ? ks : 0][e];
                    as[e] = SPLIT ? qfs[QREG && SPLIT ? ks : 0][e] : 0u;
                }
            } else {
                f32a_q_frag<L::LDQ, SPLIT>(Qw, ks, g, t, ab, as);
            }
#pragma unroll
            for (int nb = 0; nb < BKW / 8; nb++) {
                /* b0 = B[k t][key g] = K[kb + 8 nb + g][8 ks + 2t], b1 = K[kb + 8 nb + g][8 ks + 2t + 1] */
                const float2 kv = *(const float2 *)&Ks[(kb + nb * 8 + g) * L::LDK + ks * 8 + 2 * t];
                uint32_t bb[2], bs[2] = {0, 0};
                f32a_split<SPLIT>(kv.x, bb[0], bs[0]);
                f32a_split<SPLIT>(kv.y, bb[1], bs[1]);
                f32a_mma3<SPLIT>(s[nb], ab, as, bb, bs);
            }
        }

        /* online softmax: element e of s[nb] is row g (e < 2) or g + 8, key kb + 8 nb + 2t + (e & 1);
         * the four lanes of a group (t = 0..3) hold the row's keys of this share together */
        online_softmax_tile(s, o, m0, m1, l0, l1, a.scale * 1.4426950408889634f,
                            [&](int nb) { return *(const float2 *)&Ms[kb + nb * 8 + 2 * t]; });

        /* O += P V over 8-key blocks kk, with k = t <-> key 8 kk + 2t and k = t+4 <-> key 8 kk + 2t + 1
         * (relative to kb): A = {a0 P[g][2t], a1 P[g+8][2t], a2 P[g][2t+1], a3 P[g+8][2t+1]} =
         * {c0, c2, c1, c3} of s[kk]; B for output columns [8 db, 8 db + 8):
         * b0 = V[kb + 8 kk + 2t][8 db + g], b1 = V[kb + 8 kk + 2t + 1][8 db + g] */
#pragma unroll
        for (int kk = 0; kk < BKW / 8; kk++) {
            uint32_t ab[4], as[4] = {0, 0, 0, 0};
            f32a_split<SPLIT>(s[kk][0], ab[0], as[0]);
            f32a_split<SPLIT>(s[kk][2], ab[1], as[1]);
            f32a_split<SPLIT>(s[kk][1], ab[2], as[2]);
            f32a_split<SPLIT>(s[kk][3], ab[3], as[3]);
            const float *v0 = Vs + (kb + kk * 8 + 2 * t) * L::LDV + g, *v1 = v0 + L::LDV;
#pragma unroll
            for (int db = 0; db < D / 8; db++) {
                uint32_t bb[2], bs[2] = {0, 0};
                f32a_split<SPLIT>(v0[db * 8], bb[0], bs[0]);
                f32a_split<SPLIT>(v1[db * 8], bb[1], bs[1]);
                f32a_mma3<SPLIT>(o[db], ab, as, bb, bs);
            }
        }
        __syncthreads(); /* this stage is refilled by the issue of iteration it + 1 */
    }

    if (KS == 2) {
        /* the second key half hands (o, m, l) to the first through shared memory (the K/V
         * stages, free after the loop's final barrier); lane-major, so conflict-free */
        float *pt = (float *)(smem + L::k_off) + wq * L::part + lane;
        if (kh == 1) {
#pragma unroll
            for (int i = 0; i < D / 8; i++)
#pragma unroll
                for (int e = 0; e < 4; e++) pt[(i * 4 + e) * 32] = o[i][e];
            pt[(D / 2 + 0) * 32] = m0, pt[(D / 2 + 1) * 32] = m1;
            pt[(D / 2 + 2) * 32] = l0, pt[(D / 2 + 3) * 32] = l1;
        }
        __syncthreads();
        if (kh == 1) return; /* no barrier follows */
        const float pm0 = pt[(D / 2 + 0) * 32], pm1 = pt[(D / 2 + 1) * 32];
        const float pl0 = pt[(D / 2 + 2) * 32], pl1 = pt[(D / 2 + 3) * 32];
        const float M0 = fmaxf(m0, pm0), M1 = fmaxf(m1, pm1);
        /* m is in log2 units (online_softmax_tile) */
        const float fa0 = m0 == -INFINITY ? 0.0f : fast_exp2(m0 - M0), fb0 = pm0 == -INFINITY ? 0.0f : fast_exp2(pm0 - M0);
        const float fa1 = m1 == -INFINITY ? 0.0f : fast_exp2(m1 - M1), fb1 = pm1 == -INFINITY ? 0.0f : fast_exp2(pm1 - M1);
        l0 = l0 * fa0 + pl0 * fb0, l1 = l1 * fa1 + pl1 * fb1;
#pragma unroll
        for (int i = 0; i < D / 8; i++) {
            o[i][0] = o[i][0] * fa0 + pt[(i * 4 + 0) * 32] * fb0;
            o[i][1] = o[i][1] * fa0 + pt[(i * 4 + 1) * 32] * fb0;
            o[i][2] = o[i][2] * fa1 + pt[(i * 4 + 2) * 32] * fb1;
            o[i][3] = o[i][3] * fa1 + pt[(i * 4 + 3) * 32] * fb1;
        }
    }

    /* o[db]: rows g (e 0, 1) and g + 8 (e 2, 3), columns 8 db + 2t and 8 db + 2t + 1 */
    const float inv0 = l0 > 0 ? 1.0f / l0 : 0.0f, inv1 = l1 > 0 ? 1.0f / l1 : 0.0f;
    const int64_t qa = q0 + wq * 16 + g, qc = qa + 8;
    float *ob = (float *)a.out + b * a.os[0] + h * a.os[1];
    const bool pair = ((uintptr_t)a.out & 7) == 0 && ((a.os[0] | a.os[1] | a.os[2]) & 1) == 0; /* 8-byte stores */
#pragma unroll
    for (int db = 0; db < D / 8; db++) {
        const int c = db * 8 + 2 * t;
        if (qa < a.Tq) {
            float *p = ob + qa * a.os[2] + c;
            if (pair) *(float2 *)p = make_float2(o[db][0] * inv0, o[db][1] * inv0);
            else p[0] = o[db][0] * inv0, p[1] = o[db][1] * inv0;
        }
        if (qc < a.Tq) {
            float *p = ob + qc * a.os[2] + c;
            if (pair) *(float2 *)p = make_float2(o[db][2] * inv1, o[db][3] * inv1);
            else p[0] = o[db][2] * inv1, p[1] = o[db][3] * inv1;
        }
    }
#endif
}

/* ---- host -------------------------------------------------------------------------------------- */
template <int D, int BK, int WARPS, int KS, bool SPLIT, bool QREG> static int f32a_launch(cudaStream_t s, const lc_cu_attn_args *a) {
    using L = f32a_layout<D, BK, WARPS, KS>;
    const int64_t blocks = a->B * a->H * ((a->Tq + L::BQ - 1) / L::BQ);
    if (blocks > 0x7fffffff) return (int)cudaErrorInvalidValue;
    if (L::bytes > 48 * 1024) {
        static bool attr_set = false; /* per instantiation; setting it twice is harmless */
        if (!attr_set) {
            int e = (int)cudaFuncSetAttribute(attention_f32tc_kernel<D, BK, WARPS, KS, SPLIT, QREG>,
                                              cudaFuncAttributeMaxDynamicSharedMemorySize, (int)L::bytes);
            if (e) return e;
            attr_set = true;
        }
    }
    return lc_cu_launch(attention_f32tc_kernel<D, BK, WARPS, KS, SPLIT, QREG>, dim3((unsigned)blocks), dim3(WARPS * 32), L::bytes, s, *a);
}

/* Tile shapes per head size: Q fragments held in registers, except with the split at head size
 * 128, where they would spill (then re-read from shared memory for every tile). Grids, counted
 * in 64-query blocks n against the multiprocessor count P:
 *   n >= P       4 warps of 16 queries per block, 32-key tiles;
 *   P/2 <= n < P 8 warps per block, two per 16 queries (key split), 64-key tiles;
 *   n < P/2      (BERT-sized batch of one) 4 warps per block, key split, 64-key tiles: 32
 *                queries per block, so twice as many blocks (head size 32 and 64 only: at 128
 *                the shared memory per 32 queries makes it slower than 8 warps). */
template <int D, bool SPLIT> static int f32a_run(cudaStream_t s, const lc_cu_attn_args *a) {
    constexpr bool QREG = !(SPLIT && D == 128);
    const int64_t n = a->B * a->H * ((a->Tq + 63) / 64), P = lc_cu_sm_count();
    if (n >= P) return f32a_launch<D, 32, 4, 1, SPLIT, QREG>(s, a);
    if (2 * n >= P) return f32a_launch<D, 64, 8, 2, SPLIT, QREG>(s, a);
    return f32a_launch<D, 64, D == 128 ? 8 : 4, 2, SPLIT, QREG>(s, a);
}

/* LOCUS_CUDA_ATTENTION_F32=plain turns this path off (the CUDA-core kernel is used): for comparisons. */
static bool f32a_disabled(void) {
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("LOCUS_CUDA_ATTENTION_F32");
        v = e && strcmp(e, "plain") == 0 ? 1 : 0;
    }
    return v == 1;
}

/* 16-byte copies: base pointers 16-byte aligned, every B/H/T stride of q, k, v a multiple of 4 elements. */
static bool f32a_fits(const lc_cu_attn_args *a) {
    const void *p[3] = {a->q, a->k, a->v};
    for (int i = 0; i < 3; i++)
        if ((uintptr_t)p[i] & 15) return false;
    const int64_t *st[3] = {a->qs, a->ks, a->vs};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if ((st[i][j] * 4) & 15) return false;
    return a->D == 32 || a->D == 64 || a->D == 128;
}

extern "C" int lc_cu_attention_f32tc(lc_cu_stream s, const lc_cu_attn_args *a, int tf32) {
    if (f32a_disabled() || a->Tk < 1 || !f32a_fits(a) || lc_cu_device_major() < 8) return (int)cudaErrorNotSupported;
    if (a->B * a->H * a->Tq == 0) return 0;
    if (tf32) {
        if (a->D == 32) return f32a_run<32, false>(s, a);
        if (a->D == 64) return f32a_run<64, false>(s, a);
        return f32a_run<128, false>(s, a);
    }
    if (a->D == 32) return f32a_run<32, true>(s, a);
    if (a->D == 64) return f32a_run<64, true>(s, a);
    return f32a_run<128, true>(s, a);
}
