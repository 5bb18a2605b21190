/* GEMMs through cuBLASLt, with the bias and bias+GELU epilogues fused where that keeps the
 * function exact enough:
 *
 *   f16 / bf16   cuBLASLt's GELU_BIAS epilogue. Its documentation does not say which GELU form it
 *                computes; if it is the tanh approximation, that differs from the exact erf form by
 *                at most 4.7e-4 in absolute value, under the rounding of a 16-bit result, and the
 *                f16/bf16 parity tests against Hugging Face (1e-2) pass with it on an H100.
 *                LOCUS_CUDA_EXACT_GELU=1 forces the exact form in a separate pass.
 *   f32 / tf32   BIAS epilogue, then the exact erf GELU in one elementwise pass.
 *
 * Compute types: f32 (CUBLAS_COMPUTE_32F), TF32 when lc_cuda_set_math_mode(LC_CUDA_MATH_TF32)
 * or LOCUS_CUDA_MATH=tf32, and f32 accumulation for f16 / bf16 operands. f32 linear layers of few
 * rows may instead run on locus's 3xTF32 kernel (gemm_f32.cu), chosen per shape by timing (below).
 *
 * A residual (lc_linear_add) is cuBLASLt's C with beta = 1, read from its own buffer while D is
 * the output, so the add costs no separate pass.
 *
 * Row-major problems are given to cuBLASLt (column-major) transposed: C^T = B^T A^T. Plans
 * (descriptors, layouts and the heuristic's algorithm) are cached per shape, so repeated
 * forwards make no heuristic queries. */
#include "cuda/cuda_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static atomic_int math_mode = -1;

void lc_cuda_set_math_mode(lc_cuda_math mode) { atomic_store(&math_mode, (int)mode); }

lc_cuda_math lc_cuda_get_math_mode(void) {
    int m = atomic_load(&math_mode);
    if (m < 0) {
        const char *e = getenv("LOCUS_CUDA_MATH");
        m = e && (strcmp(e, "tf32") == 0 || strcmp(e, "TF32") == 0) ? LC_CUDA_MATH_TF32 : LC_CUDA_MATH_DEFAULT;
        int expected = -1;
        atomic_compare_exchange_strong(&math_mode, &expected, m);
        m = atomic_load(&math_mode);
    }
    return (lc_cuda_math)m;
}

static bool exact_gelu_forced(void) {
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("LOCUS_CUDA_EXACT_GELU");
        v = e && *e && strcmp(e, "0") != 0;
    }
    return v;
}

/* One column-major problem: D (m x n) = op(A) op(B) [+ bias (m)] [+ C] [GELU], batched with strides.
 * beta1: C (same layout as D, its own buffer) is added with beta = 1; otherwise beta = 0 and C is D. */
typedef struct gemm_key {
    int dtype, math, ta, tb, epilogue, beta1, cold, rounds, search;
    int64_t m, n, k, lda, ldb, ldc, batch, sa, sb, sc;
    int align_a, align_b, align_c, align_d;
} gemm_key;

/* where a candidate came from, for the log */
enum { SRC_HEURISTIC, SRC_BY_ALGO, SRC_SPLITK, SRC_SWIZZLE, SRC_CLUSTER, SRC_TILE, SRC_KEPT };
static const char *const src_names[] = {"heuristic", "by-algorithm heuristic", "split-K variant", "swizzle variant",
                                        "cluster variant", "tile variant", "finalist kept on disk"};

typedef struct gemm_plan {
    gemm_key key;
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatmulAlgo_t algo;
    bool used;
} gemm_plan;

#define PLAN_SLOTS 128
static gemm_plan plans[LC_CUDA_MAX_DEVICES][PLAN_SLOTS];
static int plan_next[LC_CUDA_MAX_DEVICES];
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;

static int align_of(const void *p) {
    uintptr_t a = (uintptr_t)p;
    int al = 256;
    while (al > 1 && (a % (uintptr_t)al)) al >>= 1;
    return al;
}

static cudaDataType_t cuda_type(int dtype) {
    return dtype == LC_F16 ? CUDA_R_16F : dtype == LC_BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

static void plan_destroy(gemm_plan *p) {
    if (!p->used) return;
    cublasLtMatmulDescDestroy(p->desc);
    cublasLtMatrixLayoutDestroy(p->la);
    cublasLtMatrixLayoutDestroy(p->lb);
    cublasLtMatrixLayoutDestroy(p->lc);
    p->used = false;
}

static lc_status layout(cublasLtMatrixLayout_t *l, int dtype, int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride) {
    if (cublasLtMatrixLayoutCreate(l, cuda_type(dtype), (uint64_t)rows, (uint64_t)cols, ld) != CUBLAS_STATUS_SUCCESS)
        return lc_error(LC_ERR_DEVICE, "cublasLt: cannot describe a %lld x %lld matrix", (long long)rows, (long long)cols);
    if (batch > 1) {
        int32_t b = (int32_t)batch;
        cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &b, sizeof b);
        cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride);
    }
    return LC_OK;
}

typedef struct gemm_args {
    const void *A, *B, *bias, *C; /* C: the addend (beta 1), or D itself (beta 0) */
    void *D;
    float beta;
} gemm_args;

/* Evicts L2 by writing a buffer of twice its size (allocated on first use; nothing when that fails). */
static void *l2_flush_buf[LC_CUDA_MAX_DEVICES];
static size_t l2_flush_bytes[LC_CUDA_MAX_DEVICES];

static void l2_flush(lc_cuda_dev *dev, int value) {
    int di = dev->index;
    if (!l2_flush_buf[di]) {
        int l2 = 0;
        cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, di);
        size_t bytes = (size_t)(l2 > 0 ? l2 : 64 << 20) * 2;
        if (cudaMalloc(&l2_flush_buf[di], bytes) == cudaSuccess) l2_flush_bytes[di] = bytes;
        else l2_flush_buf[di] = NULL;
    }
    if (l2_flush_buf[di]) cudaMemsetAsync(l2_flush_buf[di], value, l2_flush_bytes[di], dev->stream);
}

/* How the autotune times a candidate: as single calls after evicting L2 (cold) or as back-to-back
 * calls with the operands in L2 (warm). By default (auto) by the problem's shape: cold when the
 * smaller side m or n is at most TUNE_COLD_MAX (a linear layer of that many rows streams its
 * weight from device memory in a forward, being below the GPU's compute-to-bandwidth ratio),
 * warm otherwise (compute-bound, with the operands of small models resident in L2 between
 * layers). Measured on an H100 over three processes each: cold everywhere picked algorithms that
 * made MiniLM batch 32 8-12% slower (0.385-0.399 against 0.355-0.361 ms), warm everywhere once
 * made BERT batch 1 10% slower (BENCHMARKS.md). LOCUS_CUDA_GEMM_TUNE=cold|warm forces one; the
 * mode is part of the plan key, so both can be compared in one process. */
#define TUNE_COLD_MAX 256
static int gemm_tune_cold(int64_t m, int64_t n) {
    const char *e = getenv("LOCUS_CUDA_GEMM_TUNE");
    if (e && strcmp(e, "warm") == 0) return 0;
    if (e && strcmp(e, "cold") == 0) return 1;
    return (m < n ? m : n) <= TUNE_COLD_MAX;
}

static bool autotune_enabled(void) {
    static int v = -1;
    if (v < 0) v = !lc_cuda_env_zero("LOCUS_CUDA_AUTOTUNE");
    return v;
}

static float median_of(float *t, int n) {
    for (int i = 1; i < n; i++) /* insertion sort */
        for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
            float x = t[j];
            t[j] = t[j - 1], t[j - 1] = x;
        }
    return n ? t[n / 2] : INFINITY;
}

/* One call of the plan's GEMM with algorithm `a` on the operands being tuned (the real call's beta and
 * C: with beta 1, C is a separate buffer, so rewriting D is harmless). */
static bool tune_call(lc_cuda_dev *dev, const gemm_plan *p, const gemm_args *g, const cublasLtMatmulAlgo_t *a) {
    const float one = 1.0f;
    return cublasLtMatmul(dev->lt, p->desc, &one, g->A, p->la, g->B, p->lb, &g->beta, g->C, p->lc, g->D, p->lc, a, dev->workspace,
                          dev->workspace_bytes, dev->stream) == CUBLAS_STATUS_SUCCESS;
}

/* Time the candidates (the heuristic's, or the search's finalists) on the real operands (outside graph capture) and keep the
 * fastest: for small problems (batch 1) the first suggestion is often a tile shape that leaves
 * most multiprocessors idle, where a split-K variant further down the list is several times faster.
 * Each candidate is timed in `rounds` samples, interleaved across candidates (a clock or neighbour
 * change during the tuning then touches all of them alike), and the lowest median wins, so that
 * one delayed sample cannot decide; it costs about a millisecond per shape. (Over three processes
 * the choices were not measurably steadier with 7 samples than with 1: BENCHMARKS.md.) A sample is
 * one call after an L2 eviction (cold) or three back-to-back calls (warm). */
#define TUNE_ROUNDS_MAX 15
#define GEMM_CANDIDATES_MAX 32
static void autotune(lc_cuda_dev *dev, gemm_plan *p, const gemm_args *g, const cublasLtMatmulHeuristicResult_t *res, int found,
                     const unsigned char *src) {
    cudaEvent_t e0 = NULL, e1 = NULL;
    if (cudaEventCreate(&e0) || cudaEventCreate(&e1)) goto done;
    if (g->bias) cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g->bias, sizeof g->bias);
    const int rounds = p->key.rounds, calls = p->key.cold ? 1 : 3;
    float t[GEMM_CANDIDATES_MAX][TUNE_ROUNDS_MAX];
    bool ok[GEMM_CANDIDATES_MAX];
    for (int i = 0; i < found; i++) ok[i] = res[i].state == CUBLAS_STATUS_SUCCESS && tune_call(dev, p, g, &res[i].algo); /* warm-up, and a check */
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < found; i++) {
            if (!ok[i]) continue;
            if (p->key.cold) l2_flush(dev, r);
            cudaEventRecord(e0, dev->stream);
            for (int c = 0; c < calls && ok[i]; c++) ok[i] = tune_call(dev, p, g, &res[i].algo);
            float x = INFINITY;
            if (cudaEventRecord(e1, dev->stream) || cudaEventSynchronize(e1) || cudaEventElapsedTime(&x, e0, e1)) ok[i] = false;
            t[i][r] = x;
        }
    float best = INFINITY;
    int won = -1;
    for (int i = 0; i < found; i++) {
        float ms = ok[i] ? median_of(t[i], rounds) : INFINITY;
        if (ms < best) {
            best = ms;
            p->algo = res[i].algo;
            won = i;
        }
    }
    if (getenv("LOCUS_CUDA_GEMM_LOG") && won >= 0) {
        int32_t id = 0, sk = 1;
        uint32_t tile = 0, stages = 0, swz = 0;
        uint16_t cluster = 0;
        size_t w = 0;
        const cublasLtMatmulAlgo_t *a = &res[won].algo;
        cublasLtMatmulAlgoConfigGetAttribute(a, CUBLASLT_ALGO_CONFIG_ID, &id, sizeof id, &w);
        cublasLtMatmulAlgoConfigGetAttribute(a, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &sk, sizeof sk, &w);
        cublasLtMatmulAlgoConfigGetAttribute(a, CUBLASLT_ALGO_CONFIG_TILE_ID, &tile, sizeof tile, &w);
        cublasLtMatmulAlgoConfigGetAttribute(a, CUBLASLT_ALGO_CONFIG_STAGES_ID, &stages, sizeof stages, &w);
        cublasLtMatmulAlgoConfigGetAttribute(a, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING, &swz, sizeof swz, &w);
        cublasLtMatmulAlgoConfigGetAttribute(a, CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID, &cluster, sizeof cluster, &w);
        float first = ok[0] ? median_of(t[0], rounds) : INFINITY;
        fprintf(stderr,
                "gemm m=%lld n=%lld k=%lld epilogue %d %s: candidate %d of %d (algo %d tile %u stages %u split-K %d swizzle %u "
                "cluster %u; %s) %.2f us, heuristic's first %.2f us\n",
                (long long)p->key.m, (long long)p->key.n, (long long)p->key.k, p->key.epilogue, p->key.cold ? "cold" : "warm", won,
                found, (int)id, tile, stages, (int)sk, swz, (unsigned)cluster, src ? src_names[src[won]] : "heuristic", best * 1e3 / calls,
                first * 1e3 / calls);
    }
done:
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    (void)cudaGetLastError();
}

/* LOCUS_CUDA_GEMM_TUNE_ROUNDS: samples per candidate (1..15, default 7). Part of the plan key. */
static int gemm_tune_rounds(void) {
    const char *e = getenv("LOCUS_CUDA_GEMM_TUNE_ROUNDS");
    int v = e && *e ? atoi(e) : 7;
    return v < 1 ? 1 : v > TUNE_ROUNDS_MAX ? TUNE_ROUNDS_MAX : v;
}

/* How many of the heuristic's candidates the autotune times: LOCUS_CUDA_GEMM_CANDIDATES (1..32,
 * default 8). */
static int gemm_candidates(void) {
    static int n = 0;
    if (!n) {
        const char *e = getenv("LOCUS_CUDA_GEMM_CANDIDATES");
        int v = e ? atoi(e) : 8;
        n = v < 1 ? 1 : v > GEMM_CANDIDATES_MAX ? GEMM_CANDIDATES_MAX : v;
    }
    return n;
}

/* The search before the autotune (default; LOCUS_CUDA_GEMM_SEARCH=0 leaves the heuristic's
 * suggestions alone). cuBLASLt's heuristic proposes a few configurations, mostly of one algorithm;
 * the search (search_candidates) adds every algorithm's own suggestions (the heuristic limited to
 * that algorithm id), split-K and CTA-swizzle variants of all of them, and for the first
 * SEARCH_VARY thread-block-cluster variants and every tile of their algorithm, each validated by
 * cublasLtMatmulAlgoCheck: a few hundred to SEARCH_MAX candidates. All are screened
 * (search_screen) and the SEARCH_KEEP fastest, with the heuristic's first, go on to the autotune's
 * interleaved samples; the finalists are kept on disk (below). Measured on an H100 (BENCHMARKS.md,
 * sixth round): 0.15-5 s per shape; MiniLM-L6 f16 batch 32 5-6% faster, BERT-base batch 1 1-2%,
 * batch 32 about 1%; every winner was a tile or cluster variant of the Hopper algorithm or one of
 * the heuristic's own. A narrower search (only tiles crossed with cluster shapes of each
 * algorithm's first suggestion) took as long and chose worse. Part of the plan key.
 * 16-bit inputs only (LOCUS_CUDA_GEMM_SEARCH=all: f32 too): for f32 it gained nothing on BERT-base
 * batch 1 (within 0.1%), and in TF32 its choices lost accuracy: a ViT fixture's logits (vit-tiny,
 * bicubic, one image) came out 1.25e-3 from Hugging Face's, over the 1e-3 the TF32 parity allows,
 * against 4.4e-4 with the heuristic's candidates (H100, repeatable). */
static int gemm_search(int dtype) {
    const char *e = getenv("LOCUS_CUDA_GEMM_SEARCH");
    if (e && strcmp(e, "0") == 0) return 0;
    return dtype != LC_F32 || (e && strcmp(e, "all") == 0);
}

#define SEARCH_MAX 1024
#define SEARCH_IDS 128
#define SEARCH_VARY 16 /* candidates whose cluster and tile variants are tried */
#define SEARCH_KEEP 8

static bool algo_seen(const cublasLtMatmulHeuristicResult_t *r, int n, const cublasLtMatmulAlgo_t *a) {
    for (int i = 0; i < n; i++)
        if (memcmp(&r[i].algo, a, sizeof *a) == 0) return true;
    return false;
}

/* Appends `v` when cuBLASLt accepts it for the plan and the workspace suffices. */
static int add_checked(lc_cuda_dev *dev, const gemm_plan *p, cublasLtMatmulHeuristicResult_t *r, unsigned char *src, int n,
                       int cap, cublasLtMatmulAlgo_t v, int from) {
    if (n >= cap || algo_seen(r, n, &v)) return n;
    cublasLtMatmulHeuristicResult_t h;
    memset(&h, 0, sizeof h);
    if (cublasLtMatmulAlgoCheck(dev->lt, p->desc, p->la, p->lb, p->lc, p->lc, &v, &h) != CUBLAS_STATUS_SUCCESS ||
        h.workspaceSize > dev->workspace_bytes)
        return n;
    h.algo = v;
    h.state = CUBLAS_STATUS_SUCCESS;
    r[n] = h;
    src[n] = (unsigned char)from;
    return n + 1;
}

static int search_candidates(lc_cuda_dev *dev, const gemm_plan *p, cublasComputeType_t ct, cublasLtMatmulPreference_t pref,
                             const cublasLtMatmulHeuristicResult_t *heur, int nheur, cublasLtMatmulHeuristicResult_t *r,
                             unsigned char *src, int cap) {
    int n = 0;
    for (int i = 0; i < nheur && n < cap; i++)
        if (heur[i].state == CUBLAS_STATUS_SUCCESS && !algo_seen(r, n, &heur[i].algo)) src[n] = SRC_HEURISTIC, r[n++] = heur[i];
    /* every algorithm, with the configurations the heuristic proposes when limited to it */
    cudaDataType_t t = cuda_type(p->key.dtype);
    int ids[SEARCH_IDS], nids = 0;
    if (cublasLtMatmulAlgoGetIds(dev->lt, ct, CUDA_R_32F, t, t, t, t, SEARCH_IDS, ids, &nids) != CUBLAS_STATUS_SUCCESS) nids = 0;
    uint32_t mode = CUBLASLT_SEARCH_LIMITED_BY_ALGO_ID;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_SEARCH_MODE, &mode, sizeof mode);
    for (int a = 0; a < nids && n < cap; a++) {
        cublasLtMatmulHeuristicResult_t lim[16];
        memset(lim, 0, sizeof lim);
        bool init = true;
        for (int i = 0; i < 16 && init; i++)
            init = cublasLtMatmulAlgoInit(dev->lt, ct, CUDA_R_32F, t, t, t, t, ids[a], &lim[i].algo) == CUBLAS_STATUS_SUCCESS;
        int got = 0;
        if (!init || cublasLtMatmulAlgoGetHeuristic(dev->lt, p->desc, p->la, p->lb, p->lc, p->lc, pref, 16, lim, &got) != CUBLAS_STATUS_SUCCESS)
            got = 0;
        for (int i = 0; i < got && n < cap; i++)
            if (lim[i].state == CUBLAS_STATUS_SUCCESS && lim[i].workspaceSize <= dev->workspace_bytes && !algo_seen(r, n, &lim[i].algo))
                src[n] = SRC_BY_ALGO, r[n++] = lim[i];
    }
    mode = CUBLASLT_SEARCH_BEST_FIT;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_SEARCH_MODE, &mode, sizeof mode);
    /* variants of the candidates found so far: split-K and swizzle of all, cluster and tile of the first */
    static const int32_t splits[] = {2, 3, 4, 6, 8};
    const int base = n;
    for (int i = 0; i < base && n < cap; i++) {
        const cublasLtMatmulAlgo_t a0 = r[i].algo;
        size_t w = 0;
        int32_t sk_support = 0;
        uint32_t rmask = 0, swz_support = 0, swz = 0;
        cublasLtMatmulAlgoCapGetAttribute(&a0, CUBLASLT_ALGO_CAP_SPLITK_SUPPORT, &sk_support, sizeof sk_support, &w);
        cublasLtMatmulAlgoCapGetAttribute(&a0, CUBLASLT_ALGO_CAP_REDUCTION_SCHEME_MASK, &rmask, sizeof rmask, &w);
        cublasLtMatmulAlgoCapGetAttribute(&a0, CUBLASLT_ALGO_CAP_CTA_SWIZZLING_SUPPORT, &swz_support, sizeof swz_support, &w);
        cublasLtMatmulAlgoConfigGetAttribute(&a0, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING, &swz, sizeof swz, &w);
        uint32_t scheme = rmask & CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE ? CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE
                          : rmask & CUBLASLT_REDUCTION_SCHEME_INPLACE    ? CUBLASLT_REDUCTION_SCHEME_INPLACE
                                                                         : 0;
        for (size_t j = 0; sk_support && scheme && j < sizeof splits / sizeof splits[0] && n < cap; j++) {
            if (p->key.k / splits[j] < 64) break;
            cublasLtMatmulAlgo_t v = a0;
            cublasLtMatmulAlgoConfigSetAttribute(&v, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &splits[j], sizeof splits[j]);
            cublasLtMatmulAlgoConfigSetAttribute(&v, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME, &scheme, sizeof scheme);
            n = add_checked(dev, p, r, src, n, cap, v, SRC_SPLITK);
        }
        if (swz_support) {
            cublasLtMatmulAlgo_t v = a0;
            uint32_t other = !swz;
            cublasLtMatmulAlgoConfigSetAttribute(&v, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING, &other, sizeof other);
            n = add_checked(dev, p, r, src, n, cap, v, SRC_SWIZZLE);
        }
        if (i >= SEARCH_VARY) continue;
        /* thread-block clusters of up to four blocks (1x1, 2x1, 4x1, 1x2, 2x2, 1x4) */
        static const uint16_t clusters[] = {2, 3, 4, 5, 6, 8};
        for (size_t j = 0; j < sizeof clusters / sizeof clusters[0] && n < cap; j++) {
            cublasLtMatmulAlgo_t v = a0;
            cublasLtMatmulAlgoConfigSetAttribute(&v, CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID, &clusters[j], sizeof clusters[j]);
            n = add_checked(dev, p, r, src, n, cap, v, SRC_CLUSTER);
        }
        /* every tile the algorithm has, with the candidate's stages or the library's choice */
        uint32_t tiles[CUBLASLT_MATMUL_TILE_END];
        size_t tw = 0;
        if (cublasLtMatmulAlgoCapGetAttribute(&a0, CUBLASLT_ALGO_CAP_TILE_IDS, tiles, sizeof tiles, &tw) != CUBLAS_STATUS_SUCCESS) tw = 0;
        for (size_t j = 0; j < tw / sizeof tiles[0] && n < cap; j++)
            for (uint32_t st = 0; st < 2 && n < cap; st++) {
                cublasLtMatmulAlgo_t v = a0;
                cublasLtMatmulAlgoConfigSetAttribute(&v, CUBLASLT_ALGO_CONFIG_TILE_ID, &tiles[j], sizeof tiles[j]);
                if (st) {
                    uint32_t undef = CUBLASLT_MATMUL_STAGES_UNDEFINED;
                    cublasLtMatmulAlgoConfigSetAttribute(&v, CUBLASLT_ALGO_CONFIG_STAGES_ID, &undef, sizeof undef);
                }
                n = add_checked(dev, p, r, src, n, cap, v, SRC_TILE);
            }
    }
    return n;
}

/* The candidates are screened in SCREEN_PASSES passes; a pass launches every candidate once as the
 * autotune takes a sample (after an L2 eviction, or three back-to-back calls), each between its
 * own pair of events, and synchronises once at its end; a first pass without timing loads each
 * kernel and drops the candidates whose call fails. Each candidate's best sample ranks it; the
 * SEARCH_KEEP fastest, the first candidate (the heuristic's first) always among them, are moved to
 * the front. Returns how many are kept. */
#define SCREEN_PASSES 2
static int search_screen(lc_cuda_dev *dev, gemm_plan *p, const gemm_args *g, cublasLtMatmulHeuristicResult_t *r, unsigned char *src,
                         int n) {
    float *t = malloc(sizeof(float) * (size_t)n);
    bool *ok = malloc(sizeof(bool) * (size_t)n);
    cudaEvent_t *ev = calloc((size_t)n * 2, sizeof(cudaEvent_t));
    int made = 0, keep = n < SEARCH_KEEP ? n : SEARCH_KEEP;
    if (!t || !ok || !ev) goto done;
    for (; made < 2 * n; made++)
        if (cudaEventCreate(&ev[made])) goto done;
    if (g->bias) cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g->bias, sizeof g->bias);
    const int calls = p->key.cold ? 1 : 3;
    for (int i = 0; i < n; i++) {
        ok[i] = tune_call(dev, p, g, &r[i].algo);
        t[i] = INFINITY;
    }
    if (cudaStreamSynchronize(dev->stream)) goto done;
    for (int pass = 0; pass < SCREEN_PASSES; pass++) {
        for (int i = 0; i < n; i++) {
            if (!ok[i]) continue;
            if (p->key.cold) l2_flush(dev, pass * n + i);
            cudaEventRecord(ev[2 * i], dev->stream);
            for (int c = 0; c < calls && ok[i]; c++) ok[i] = tune_call(dev, p, g, &r[i].algo);
            cudaEventRecord(ev[2 * i + 1], dev->stream);
        }
        if (cudaStreamSynchronize(dev->stream)) goto done;
        for (int i = 0; i < n; i++) {
            float x = INFINITY;
            if (ok[i] && cudaEventElapsedTime(&x, ev[2 * i], ev[2 * i + 1]) == cudaSuccess && x < t[i]) t[i] = x;
        }
    }
    for (int i = 0; i < n; i++)
        if (!ok[i]) t[i] = INFINITY;
    /* selection: the heuristic's first stays at 0; the fastest others follow */
    keep = 1;
    for (; keep < SEARCH_KEEP && keep < n; keep++) {
        int best = -1;
        for (int i = keep; i < n; i++)
            if (isfinite(t[i]) && (best < 0 || t[i] < t[best])) best = i;
        if (best < 0) break;
        cublasLtMatmulHeuristicResult_t x = r[keep];
        r[keep] = r[best], r[best] = x;
        float y = t[keep];
        t[keep] = t[best], t[best] = y;
        unsigned char z = src[keep];
        src[keep] = src[best], src[best] = z;
    }
    if (getenv("LOCUS_CUDA_GEMM_LOG"))
        fprintf(stderr, "gemm m=%lld n=%lld k=%lld epilogue %d: wide search over %d candidates, screen %.2f us (%s; first %.2f us)\n",
                (long long)p->key.m, (long long)p->key.n, (long long)p->key.k, p->key.epilogue, n, keep > 1 ? t[1] * 1e3 / calls : NAN,
                keep > 1 ? src_names[src[1]] : "-", t[0] * 1e3 / calls);
done:
    for (int i = 0; i < made; i++) cudaEventDestroy(ev[i]);
    (void)cudaGetLastError();
    free(t);
    free(ok);
    free(ev);
    return keep;
}

/* ---- searched choices kept on disk --------------------------------------------------------------
 * The search costs seconds per shape (a few hundred kernels validated, loaded and timed), so its
 * result is appended to a file per device and cuBLASLt version, and later processes take it from
 * there instead of searching again: $LOCUS_CACHE_DIR, else $XDG_CACHE_HOME/locus, else
 * $HOME/.cache/locus, file gemm-<cuBLASLt version>-<device name>-sm<cc>.bin. A record keeps the
 * search's finalists (the autotune's winner first), and a later process times those again with the
 * autotune (a few milliseconds): measured on an H100, MiniLM-L6 at batch 32 ran 3-4% slower with the
 * kept winner alone than in the processes that had searched (BENCHMARKS.md). Records have a fixed
 * size (magic, size, plan key, algorithms); reading stops at the first record that is foreign or
 * torn (the next store rewrites the file), and every algorithm read is validated by
 * cublasLtMatmulAlgoCheck against the plan before use (stale or forged ones are dropped; with none
 * left the shape is searched again). LOCUS_CUDA_GEMM_CACHE=0 neither reads nor writes. */
#define DISK_MAGIC 0x324d474cu /* "LGM2" */
#define DISK_MAX 65536
typedef struct disk_rec {
    uint32_t magic, size;
    gemm_key key;
    int32_t count, reserved;                  /* algorithms kept: the autotune's winner first */
    cublasLtMatmulAlgo_t algo[SEARCH_KEEP];   /* the search's finalists */
} disk_rec;
typedef struct disk_cache {
    bool loaded;
    bool rewrite; /* the file holds a foreign or torn record: the next store rewrites it */
    char path[1024];
    disk_rec *rec;
    int n, cap;
} disk_cache;
static disk_cache disk[LC_CUDA_MAX_DEVICES];
static atomic_llong disk_hits;
int64_t lc_cuda_gemm_cache_hits(void) { return (int64_t)atomic_load(&disk_hits); }

static bool disk_enabled(void) { return !lc_cuda_env_zero("LOCUS_CUDA_GEMM_CACHE"); }

static void disk_add(disk_cache *c, const disk_rec *r) {
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 64;
        if (nc > DISK_MAX) return;
        disk_rec *x = realloc(c->rec, sizeof *x * (size_t)nc);
        if (!x) return;
        c->rec = x, c->cap = nc;
    }
    c->rec[c->n++] = *r;
}

static void disk_load(lc_cuda_dev *dev) {
    disk_cache *c = &disk[dev->index];
    if (c->loaded) return;
    c->loaded = true;
    c->path[0] = 0;
    if (!disk_enabled()) return;
    char base[768];
    const char *d = getenv("LOCUS_CACHE_DIR"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (d && *d) snprintf(base, sizeof base, "%s", d);
    else if (x && *x) snprintf(base, sizeof base, "%s/locus", x);
    else if (h && *h) snprintf(base, sizeof base, "%s/.cache/locus", h);
    else return;
    struct cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, dev->index) != cudaSuccess) {
        (void)cudaGetLastError();
        return;
    }
    char name[64];
    size_t i = 0;
    for (; prop.name[i] && i + 1 < sizeof name; i++) {
        char ch = prop.name[i];
        name[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ? ch : '_';
    }
    name[i] = 0;
    snprintf(c->path, sizeof c->path, "%s/gemm-%zu-%s-sm%d%d.bin", base, cublasLtGetVersion(), name, prop.major, prop.minor);
    FILE *f = fopen(c->path, "rb");
    if (!f) return;
    disk_rec r;
    size_t got;
    while ((got = fread(&r, 1, sizeof r, f)) == sizeof r && r.magic == DISK_MAGIC && r.size == (uint32_t)sizeof r) disk_add(c, &r);
    c->rewrite = got != 0; /* stopped inside the file */
    fclose(f);
}

/* the latest record for the key */
static const disk_rec *disk_find(lc_cuda_dev *dev, const gemm_key *k) {
    disk_load(dev);
    const disk_cache *c = &disk[dev->index];
    for (int i = c->n - 1; i >= 0; i--)
        if (memcmp(&c->rec[i].key, k, sizeof *k) == 0) return &c->rec[i];
    return NULL;
}

static void make_dirs(const char *path) { /* every directory above the file */
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *q = tmp + 1; *q; q++)
        if (*q == '/') {
            *q = 0;
            (void)mkdir(tmp, 0755);
            *q = '/';
        }
}

static void disk_store(lc_cuda_dev *dev, const gemm_key *k, const cublasLtMatmulAlgo_t *won, const cublasLtMatmulHeuristicResult_t *res,
                       int n) {
    disk_load(dev);
    disk_cache *c = &disk[dev->index];
    if (!c->path[0]) return;
    disk_rec r;
    memset(&r, 0, sizeof r);
    r.magic = DISK_MAGIC, r.size = (uint32_t)sizeof r, r.key = *k;
    r.algo[r.count++] = *won;
    for (int i = 0; i < n && r.count < SEARCH_KEEP; i++)
        if (memcmp(&res[i].algo, won, sizeof *won) != 0) r.algo[r.count++] = res[i].algo;
    make_dirs(c->path);
    disk_add(c, &r);
    /* append; or, after a bad record, write the good ones and this one afresh */
    FILE *f = fopen(c->path, c->rewrite ? "wb" : "ab");
    bool ok = f != NULL;
    if (ok && c->rewrite) ok = fwrite(c->rec, sizeof *c->rec, (size_t)c->n, f) == (size_t)c->n;
    else if (ok) ok = fwrite(&r, sizeof r, 1, f) == 1;
    if (f && fclose(f)) ok = false;
    if (ok) c->rewrite = false;
    if (getenv("LOCUS_CUDA_GEMM_LOG")) fprintf(stderr, "gemm: %s %s\n", ok ? "choice kept in" : "cannot write", c->path);
}

/* Forgets every plan and the cache file's contents read so far (for the tests: the next GEMM of each
 * shape plans again, reading the file anew). */
void lc_cuda_gemm_forget_plans(void) {
    pthread_mutex_lock(&plan_lock);
    for (int d = 0; d < LC_CUDA_MAX_DEVICES; d++) {
        for (int i = 0; i < PLAN_SLOTS; i++) plan_destroy(&plans[d][i]);
        free(disk[d].rec);
        memset(&disk[d], 0, sizeof disk[d]);
    }
    pthread_mutex_unlock(&plan_lock);
}

/* Finalists of an earlier search of this plan's key, from the cache file: those cuBLASLt still
 * accepts are timed again by the autotune (milliseconds) and the fastest taken. False when none is
 * kept or valid. */
static bool plan_from_disk(lc_cuda_dev *dev, const gemm_key *k, const gemm_args *g, gemm_plan *p) {
    const disk_rec *kept = disk_find(dev, k);
    cublasLtMatmulHeuristicResult_t fin[SEARCH_KEEP];
    int nf = 0;
    for (int i = 0; kept && i < kept->count && i < SEARCH_KEEP; i++) {
        cublasLtMatmulHeuristicResult_t chk;
        memset(&chk, 0, sizeof chk);
        if (cublasLtMatmulAlgoCheck(dev->lt, p->desc, p->la, p->lb, p->lc, p->lc, &kept->algo[i], &chk) == CUBLAS_STATUS_SUCCESS &&
            chk.workspaceSize <= dev->workspace_bytes) {
            chk.algo = kept->algo[i];
            chk.state = CUBLAS_STATUS_SUCCESS;
            fin[nf++] = chk;
        }
    }
    if (nf == 0) return false;
    p->algo = fin[0].algo;
    p->used = true;
    atomic_fetch_add(&disk_hits, 1);
    if (getenv("LOCUS_CUDA_GEMM_LOG"))
        fprintf(stderr, "gemm m=%lld n=%lld k=%lld epilogue %d: %d searched finalists from %s\n", (long long)k->m, (long long)k->n,
                (long long)k->k, k->epilogue, nf, disk[dev->index].path);
    unsigned char kept_src[SEARCH_KEEP];
    memset(kept_src, SRC_KEPT, sizeof kept_src);
    if (nf > 1 && !dev->capturing) autotune(dev, p, g, fin, nf, kept_src);
    return true;
}

/* The search (above) from the heuristic's res[0..*found): on success res[0..*found) and src[] hold
 * the finalists and where each came from. */
static bool run_search(lc_cuda_dev *dev, gemm_plan *p, cublasComputeType_t ct, cublasLtMatmulPreference_t pref, const gemm_args *g,
                       cublasLtMatmulHeuristicResult_t *res, int *found, unsigned char *src) {
    cublasLtMatmulHeuristicResult_t *wide = malloc(sizeof *wide * SEARCH_MAX);
    unsigned char *wsrc = malloc(SEARCH_MAX);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool done = false;
    if (wide && wsrc) {
        int n = search_candidates(dev, p, ct, pref, res, *found, wide, wsrc, SEARCH_MAX);
        n = search_screen(dev, p, g, wide, wsrc, n);
        if (n > 0) {
            memcpy(res, wide, sizeof *wide * (size_t)n);
            memcpy(src, wsrc, (size_t)n);
            *found = n;
            done = true;
        }
    }
    free(wide);
    free(wsrc);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (getenv("LOCUS_CUDA_GEMM_LOG"))
        fprintf(stderr, "gemm m=%lld n=%lld k=%lld: wide search took %.1f ms\n", (long long)p->key.m, (long long)p->key.n,
                (long long)p->key.k, (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6);
    return done;
}

static lc_status plan_create(lc_cuda_dev *dev, const gemm_key *k, const gemm_args *g, gemm_plan *p) {
    memset(p, 0, sizeof *p);
    p->key = *k;
    cublasComputeType_t ct = k->dtype == LC_F32 && k->math == LC_CUDA_MATH_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    if (cublasLtMatmulDescCreate(&p->desc, ct, CUDA_R_32F) != CUBLAS_STATUS_SUCCESS)
        return lc_error(LC_ERR_DEVICE, "cublasLt: cannot create a matmul descriptor");
    cublasOperation_t ta = k->ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb = k->tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta);
    cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb);
    cublasLtEpilogue_t epi = (cublasLtEpilogue_t)k->epilogue;
    cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi);
    lc_status s = layout(&p->la, k->dtype, k->ta ? k->k : k->m, k->ta ? k->m : k->k, k->lda, k->batch, k->sa);
    if (!s) s = layout(&p->lb, k->dtype, k->tb ? k->n : k->k, k->tb ? k->k : k->n, k->ldb, k->batch, k->sb);
    if (!s) s = layout(&p->lc, k->dtype, k->m, k->n, k->ldc, k->batch, k->sc);
    if (s) {
        p->used = true;
        plan_destroy(p);
        return s;
    }
    if (k->search && autotune_enabled() && disk_enabled() && plan_from_disk(dev, k, g, p)) return LC_OK;
    cublasLtMatmulPreference_t pref;
    cublasLtMatmulPreferenceCreate(&pref);
    uint64_t ws = dev->workspace_bytes;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    uint32_t aa = (uint32_t)k->align_a, ab = (uint32_t)k->align_b, ac = (uint32_t)k->align_c, ad = (uint32_t)k->align_d;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &aa, sizeof aa);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &ab, sizeof ab);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &ac, sizeof ac);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &ad, sizeof ad);
    cublasLtMatmulHeuristicResult_t res[GEMM_CANDIDATES_MAX];
    int found = 0;
    cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(dev->lt, p->desc, p->la, p->lb, p->lc, p->lc, pref,
                                                       autotune_enabled() && !dev->capturing ? gemm_candidates() : 1, res, &found);
    p->used = true;
    if (st != CUBLAS_STATUS_SUCCESS || found == 0) {
        cublasLtMatmulPreferenceDestroy(pref);
        plan_destroy(p);
        return lc_error(LC_ERR_UNSUPPORTED, "cublasLt: no algorithm for %s GEMM m=%lld n=%lld k=%lld (status %d)", lc_dtype_name(k->dtype),
                        (long long)k->m, (long long)k->n, (long long)k->k, (int)st);
    }
    p->algo = res[0].algo;
    unsigned char src[GEMM_CANDIDATES_MAX];
    const bool searched = k->search && autotune_enabled() && !dev->capturing && run_search(dev, p, ct, pref, g, res, &found, src);
    cublasLtMatmulPreferenceDestroy(pref);
    if (found > 1) autotune(dev, p, g, res, found, searched ? src : NULL);
    if (searched && disk_enabled()) disk_store(dev, k, &p->algo, res, found);
    return LC_OK;
}

static lc_status find_plan(lc_cuda_dev *dev, const gemm_key *k, const gemm_args *g, gemm_plan **out) {
    int di = dev->index;
    pthread_mutex_lock(&plan_lock);
    for (int i = 0; i < PLAN_SLOTS; i++) {
        gemm_plan *p = &plans[di][i];
        if (p->used && memcmp(&p->key, k, sizeof *k) == 0) {
            pthread_mutex_unlock(&plan_lock);
            *out = p;
            return LC_OK;
        }
    }
    gemm_plan *slot = &plans[di][plan_next[di]];
    plan_next[di] = (plan_next[di] + 1) % PLAN_SLOTS;
    plan_destroy(slot);
    lc_status s = plan_create(dev, k, g, slot);
    pthread_mutex_unlock(&plan_lock);
    if (s) return s;
    *out = slot;
    return LC_OK;
}

/* D = op(A) op(B) (+ bias) (+ addend, laid out like D) with the epilogue; column-major. */
static lc_status gemm(lc_cuda_dev *dev, int dtype, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void *A, int64_t lda,
                      int64_t sa, const void *B, int64_t ldb, int64_t sb, void *D, int64_t ldc, int64_t sc, int64_t batch,
                      const void *bias, const void *addend, int epilogue) {
    gemm_key key;
    memset(&key, 0, sizeof key); /* padding too: keys are compared with memcmp */
    key.dtype = dtype;
    key.math = dtype == LC_F32 ? (int)lc_cuda_get_math_mode() : 0;
    key.ta = ta, key.tb = tb, key.epilogue = epilogue, key.beta1 = addend != NULL, key.cold = gemm_tune_cold(m, n);
    key.rounds = gemm_tune_rounds();
    key.search = gemm_search(dtype);
    key.m = m, key.n = n, key.k = k, key.lda = lda, key.ldb = ldb, key.ldc = ldc;
    key.batch = batch, key.sa = sa, key.sb = sb, key.sc = sc;
    const void *C = addend ? addend : D;
    key.align_a = align_of(A), key.align_b = align_of(B), key.align_c = align_of(C), key.align_d = align_of(D);
    gemm_plan *p;
    gemm_args g = {A, B, bias, C, D, addend ? 1.0f : 0.0f};
    lc_status s = find_plan(dev, &key, &g, &p);
    if (s) return s;
    if (bias) cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias);
    const float one = 1.0f;
    cublasStatus_t st = cublasLtMatmul(dev->lt, p->desc, &one, A, p->la, B, p->lb, &g.beta, C, p->lc, D, p->lc, &p->algo,
                                       dev->workspace, dev->workspace_bytes, dev->stream);
    if (st != CUBLAS_STATUS_SUCCESS)
        return lc_error(LC_ERR_DEVICE, "cublasLtMatmul failed (status %d) for m=%lld n=%lld k=%lld", (int)st, (long long)m, (long long)n, (long long)k);
    return LC_OK;
}

static lc_status kerr(int e, const char *what) {
    return e ? lc_error(LC_ERR_DEVICE, "cuda: %s: %s", what, cudaGetErrorString((cudaError_t)e)) : LC_OK;
}

/* ---- few-row f32 linear layers: locus's 3xTF32 kernel (gemm_f32.cu) or cuBLASLt, timed -------------
 * For f32 problems (default math mode, not TF32) of at most SMALL_MAX_ROWS rows, each configuration
 * of the 3xTF32 kernel that fits and the cuBLASLt plan are timed once on the real operands with a
 * cold L2 (outside graph capture) and the fastest is kept per shape. LOCUS_CUDA_F32_GEMM=0 never
 * uses the kernel; =cN forces configuration N where it fits (for the tests); otherwise the timing
 * decides (LOCUS_CUDA_F32_GEMM_LOG=1 prints the timings). During a capture an untimed shape takes
 * cuBLASLt. */
#define SMALL_MAX_ROWS 512
#define SMALL_SLOTS 64
#define SMALL_CONFIGS 16

typedef struct small_key {
    int gelu, bias, residual;
    int64_t R, N, K;
} small_key;
typedef struct small_plan {
    small_key key;
    int config; /* -1: cuBLASLt */
    bool used;
} small_plan;
static small_plan small_plans[LC_CUDA_MAX_DEVICES][SMALL_SLOTS];
static int small_next[LC_CUDA_MAX_DEVICES];

/* -1 never, -2 timed, else the forced configuration */
static int small_gemm_mode(void) {
    const char *e = getenv("LOCUS_CUDA_F32_GEMM");
    if (!e || !*e || strcmp(e, "1") == 0) return -2;
    if (e[0] == 'c' && e[1] >= '0' && e[1] <= '9') return atoi(e + 1);
    return -1;
}

typedef lc_status (*linear_fn)(lc_cuda_dev *dev, const lc_op *op, int config);

/* Median time of one call with a cold L2 (l2_flush first, outside the timed span): in a forward
 * the weights arrive from device memory, and a loop over the same operands would time them from
 * L2, which favours kernels that are latency-bound on device memory. */
static float time_linear(lc_cuda_dev *dev, const lc_op *op, int config, linear_fn fn) {
    cudaEvent_t e0 = NULL, e1 = NULL;
    float t[5], ms = INFINITY;
    int n = 0;
    if (cudaEventCreate(&e0) || cudaEventCreate(&e1)) goto done;
    if (fn(dev, op, config) != LC_OK) goto done; /* warm-up: code, plans, attributes */
    for (int r = 0; r < 5; r++) {
        l2_flush(dev, r);
        cudaEventRecord(e0, dev->stream);
        if (fn(dev, op, config) != LC_OK) goto done;
        float x = INFINITY;
        if (cudaEventRecord(e1, dev->stream) || cudaEventSynchronize(e1) || cudaEventElapsedTime(&x, e0, e1)) goto done;
        int i = n++;
        while (i > 0 && t[i - 1] > x) t[i] = t[i - 1], i--; /* insertion sort */
        t[i] = x;
    }
    ms = t[n / 2];
done:
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    (void)cudaGetLastError();
    return ms;
}

static atomic_llong small_calls;
int64_t lc_cuda_f32_gemm_count(void) { return (int64_t)atomic_load(&small_calls); }

static lc_status linear_small(lc_cuda_dev *dev, const lc_op *op, int config) {
    atomic_fetch_add(&small_calls, 1);
    const lc_array *x = op->in[0], *w = op->in[1], *bias = op->in[2], *residual = op->in[3], *o = op->out;
    lc_cu_gemm_f32x3_args a = {lc_array_ptr(x), lc_array_ptr(w), bias ? lc_array_ptr(bias) : NULL, residual ? lc_array_ptr(residual) : NULL,
                               lc_array_ptr(o), lc_rows(x), w->shape[0], x->shape[x->ndim - 1], op->i[0] != 0};
    return kerr(lc_cu_gemm_f32x3(dev->stream, &a, config), "linear (3xTF32 kernel)");
}

static lc_status linear_lt(lc_cuda_dev *dev, const lc_op *op, int config);

/* The configuration to run (>= 0) or -1 for cuBLASLt. */
static int small_choice(lc_cuda_dev *dev, const lc_op *op) {
    const lc_array *x = op->in[0], *w = op->in[1], *bias = op->in[2], *residual = op->in[3], *o = op->out;
    int mode = small_gemm_mode();
    int64_t R = lc_rows(x), N = w->shape[0], K = x->shape[x->ndim - 1];
    if (mode == -1 || o->dtype != LC_F32 || lc_cuda_get_math_mode() != LC_CUDA_MATH_DEFAULT || R > SMALL_MAX_ROWS || R < 1) return -1;
    int cfg[SMALL_CONFIGS];
    int n = lc_cu_gemm_f32x3_configs(R, N, K, cfg, SMALL_CONFIGS);
    if (n == 0 || align_of(lc_array_ptr(x)) < 16 || align_of(lc_array_ptr(w)) < 16 || align_of(lc_array_ptr(o)) < 16 ||
        (bias && align_of(lc_array_ptr(bias)) < 16) || (residual && align_of(lc_array_ptr(residual)) < 16))
        return -1;
    if (mode >= 0) {
        for (int i = 0; i < n; i++)
            if (cfg[i] == mode) return mode;
        return -1;
    }
    small_key k;
    memset(&k, 0, sizeof k);
    k.gelu = op->i[0] != 0, k.bias = bias != NULL, k.residual = residual != NULL;
    k.R = R, k.N = N, k.K = K;
    int di = dev->index;
    pthread_mutex_lock(&plan_lock);
    for (int i = 0; i < SMALL_SLOTS; i++) {
        small_plan *p = &small_plans[di][i];
        if (p->used && memcmp(&p->key, &k, sizeof k) == 0) {
            int c = p->config;
            pthread_mutex_unlock(&plan_lock);
            return c;
        }
    }
    pthread_mutex_unlock(&plan_lock);
    if (dev->capturing || !autotune_enabled()) return -1;
    /* time cuBLASLt (its own plan tuned by the first call) and every configuration */
    float lt_ms = time_linear(dev, op, -1, linear_lt), best = lt_ms, cfg_ms[SMALL_CONFIGS];
    int choice = -1;
    for (int i = 0; i < n; i++) {
        float ms = cfg_ms[i] = time_linear(dev, op, cfg[i], linear_small);
        if (ms < best) best = ms, choice = cfg[i];
    }
    if (getenv("LOCUS_CUDA_F32_GEMM_LOG")) { /* the timing's decision, for measurement */
        fprintf(stderr, "f32 gemm R=%lld N=%lld K=%lld%s%s: cuBLASLt %.2f us", (long long)R, (long long)N, (long long)K, k.gelu ? " gelu" : "",
                k.residual ? " residual" : "", lt_ms * 1e3);
        for (int i = 0; i < n; i++) fprintf(stderr, ", c%d %.2f", cfg[i], cfg_ms[i] * 1e3);
        fprintf(stderr, " -> %s%d\n", choice < 0 ? "cuBLASLt " : "c", choice);
    }
    pthread_mutex_lock(&plan_lock);
    small_plan *slot = &small_plans[di][small_next[di]];
    small_next[di] = (small_next[di] + 1) % SMALL_SLOTS;
    slot->key = k, slot->config = choice, slot->used = true;
    pthread_mutex_unlock(&plan_lock);
    return choice;
}

/* ---- LINEAR: out (R, N) = x (R, K) w (N, K)^T + bias [+ residual (R, N)], optionally GELU -------- */
lc_status lc_cuda_linear(lc_cuda_dev *dev, const lc_op *op) {
    const lc_array *x = op->in[0], *w = op->in[1];
    if (lc_rows(x) > 0 && w->shape[0] > 0 && x->shape[x->ndim - 1] > 0) {
        int c = small_choice(dev, op);
        if (c >= 0) return linear_small(dev, op, c);
    }
    return linear_lt(dev, op, -1);
}

static lc_status linear_lt(lc_cuda_dev *dev, const lc_op *op, int config) {
    (void)config;
    const lc_array *x = op->in[0], *w = op->in[1], *bias = op->in[2], *residual = op->in[3], *o = op->out;
    int64_t K = x->shape[x->ndim - 1], N = w->shape[0], R = lc_rows(x);
    int dt = o->dtype;
    bool gelu = op->i[0] != 0;
    if (gelu && residual) return lc_error(LC_ERR_INTERNAL, "linear: GELU with a residual is not supported");
    void *out = lc_array_ptr(o);
    const void *bp = bias ? lc_array_ptr(bias) : NULL, *rp = residual ? lc_array_ptr(residual) : NULL;
    if (R == 0 || N == 0) return LC_OK;
    if (K == 0) {
        lc_status s = rp ? kerr(cudaMemcpyAsync(out, rp, (size_t)(R * N) * lc_dtype_size(o->dtype), cudaMemcpyDeviceToDevice, dev->stream),
                                "linear residual")
                         : kerr(lc_cu_fill(dev->stream, dt, out, R * N, 0.0f), "linear");
        if (!s && (bp || gelu)) s = kerr(lc_cu_bias_gelu(dev->stream, dt, out, bp, R, N, gelu), "linear epilogue");
        return s;
    }
    bool fused_gelu = gelu && dt != LC_F32 && !exact_gelu_forced();
    bool fused_bias = bp && (align_of(bp) >= 16);
    int epi = CUBLASLT_EPILOGUE_DEFAULT;
    if (fused_gelu) epi = fused_bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
    else if (fused_bias) epi = CUBLASLT_EPILOGUE_BIAS;
    if (fused_gelu && bp && !fused_bias) { /* unaligned bias: add it first, without the fused GELU */
        fused_gelu = false;
        epi = CUBLASLT_EPILOGUE_DEFAULT;
    }
    /* Column-major: out^T (N x R, ldc N) = w (N x K) x^T (K x R); a contiguous residual (R, N) has
     * the layout of out^T, so it is C with beta 1. With an unaligned bias, the bias is added after
     * the residual (one more rounding in f16/bf16; only for biases at odd addresses). */
    lc_status s = gemm(dev, dt, true, false, N, R, K, lc_array_ptr(w), K, 0, lc_array_ptr(x), K, 0, out, N, 0, 1,
                       fused_bias ? bp : NULL, rp, epi);
    if (s) return s;
    const void *late_bias = fused_bias ? NULL : bp;
    bool late_gelu = gelu && !fused_gelu;
    if (late_bias || late_gelu) s = kerr(lc_cu_bias_gelu(dev->stream, dt, out, late_bias, R, N, late_gelu), "linear epilogue");
    return s;
}

/* ---- MATMUL: (..., M, K) x (..., K, N) with broadcast batch views ------------------------------ */
/* How a 2-D block (rows x cols) at the end of a view is laid out: row-major with leading
 * dimension ld, or column-major; false when neither (then it is copied). */
static bool mat_layout(const lc_array *a, int64_t rows, int64_t cols, bool *row_major, int64_t *ld) {
    int nd = a->ndim;
    int64_t sr = a->strides[nd - 2], sc = a->strides[nd - 1];
    if ((cols == 1 || sc == 1) && (rows == 1 || sr >= cols)) {
        *row_major = true;
        *ld = rows == 1 ? (cols > 0 ? cols : 1) : sr;
        if (*ld < cols) *ld = cols;
        return *ld >= 1;
    }
    if ((rows == 1 || sr == 1) && (cols == 1 || sc >= rows)) {
        *row_major = false;
        *ld = cols == 1 ? (rows > 0 ? rows : 1) : sc;
        if (*ld < rows) *ld = rows;
        return *ld >= 1;
    }
    return false;
}

/* A single stride for the batch dimensions (0..nd-3) of a view, when they are evenly spaced. */
static bool batch_stride(const lc_array *a, int64_t *stride) {
    int nd = a->ndim;
    int64_t s = 0, span = 1;
    bool have = false;
    for (int d = nd - 3; d >= 0; d--) {
        if (a->shape[d] == 1) continue;
        if (!have) {
            s = a->strides[d];
            have = true;
        } else if (a->strides[d] != s * span) {
            return false;
        }
        span *= a->shape[d];
    }
    *stride = s;
    return true;
}

lc_status lc_cuda_matmul(lc_cuda_dev *dev, const lc_op *op) {
    lc_array *a = op->in[0], *b = op->in[1];
    const lc_array *o = op->out;
    int nd = o->ndim, dt = o->dtype;
    int64_t M = o->shape[nd - 2], N = o->shape[nd - 1], K = a->shape[nd - 1];
    int64_t batches = M && N ? lc_rows(o) / M : 0;
    void *out = lc_array_ptr(o);
    if (batches == 0) return LC_OK;
    if (K == 0) return kerr(lc_cu_fill(dev->stream, dt, out, batches * M * N, 0.0f), "matmul");
    lc_array *ac = NULL, *bc = NULL;
    bool arow, brow;
    int64_t lda, ldb, sa = 0, sb = 0;
    lc_status s = LC_OK;
    if (!mat_layout(a, M, K, &arow, &lda) || !batch_stride(a, &sa)) {
        s = lc_contiguous(a, &ac);
        if (s) return s;
        a = ac;
        mat_layout(a, M, K, &arow, &lda);
        batch_stride(a, &sa);
    }
    if (!mat_layout(b, K, N, &brow, &ldb) || !batch_stride(b, &sb)) {
        s = lc_contiguous(b, &bc);
        if (s) {
            lc_array_release(ac);
            return s;
        }
        b = bc;
        mat_layout(b, K, N, &brow, &ldb);
        batch_stride(b, &sb);
    }
    /* column-major: C^T (N x M) = B^T (N x K) A^T (K x M).
     * B row-major (K, N) is column-major (N x K) with ld: no transpose; column-major B needs one.
     * A row-major (M, K) is column-major (K x M): no transpose; column-major A needs one. */
    s = gemm(dev, dt, !brow, !arow, N, M, K, lc_array_ptr(b), ldb, sb, lc_array_ptr(a), lda, sa, out, N, M * N, batches, NULL, NULL,
             CUBLASLT_EPILOGUE_DEFAULT);
    lc_array_release(ac);
    lc_array_release(bc);
    return s;
}

/* ---- CONV1D / CONV2D: through cuDNN where the build has it and it timed faster for the shape
 * (conv_cudnn.c), else out (N, O, P) = W (O, C KH KW) x cols (C KH KW, P) per image.
 * The columns of a group of images (im2col, ops_extra.cu) go to device scratch of at most
 * CONV_COLS_BYTES (one image at least; LOCUS_CUDA_CONV_COLS sets another size), then one strided
 * batched GEMM takes the group: column-major,
 * out_n^T (P x O, ld P) = cols_n^T (P x CK, ld P) W^T (CK x O, ld CK), the weight shared (stride 0).
 * The bias is added afterwards, broadcast over images and positions. */
#define CONV_COLS_BYTES ((size_t)256 << 20)
static size_t conv_cols_bytes(void) { /* LOCUS_CUDA_CONV_COLS=bytes: smaller groups, for the tests */
    const char *e = getenv("LOCUS_CUDA_CONV_COLS");
    long long v = e ? atoll(e) : 0;
    return v > 0 ? (size_t)v : CONV_COLS_BYTES;
}

/* The convolution of op without its bias, by im2col and one batched GEMM per group of images. */
lc_status lc_cuda_conv_im2col(lc_cuda_dev *dev, const lc_op *op, const lc_cu_conv_args *c) {
    const lc_array *x = op->in[0], *w = op->in[1], *o = op->out;
    const int dt = o->dtype;
    const int64_t N = x->shape[0], O = w->shape[0], P = c->Hout * c->Wout, CK = c->C * c->KH * c->KW;
    const size_t es = lc_dtype_size(dt);
    char *out = lc_array_ptr(o);
    int64_t group = (int64_t)(conv_cols_bytes() / ((size_t)(CK * P) * es));
    if (group < 1) group = 1;
    if (group > N) group = N;
    int64_t cshape[3] = {group, CK, P};
    lc_array *cols = NULL;
    lc_status s = lc_array_alloc(o->dtype, 3, cshape, o->device, &cols);
    const char *xp = lc_array_ptr(x);
    for (int64_t n0 = 0; n0 < N && !s; n0 += group) {
        int64_t g = N - n0 < group ? N - n0 : group;
        s = kerr(lc_cu_im2col(dev->stream, es, lc_array_ptr(cols), xp + (size_t)(n0 * c->C * c->H * c->W) * es, c, g), "conv im2col");
        if (!s)
            s = gemm(dev, dt, false, false, P, O, CK, lc_array_ptr(cols), P, CK * P, lc_array_ptr(w), CK, 0, out + (size_t)(n0 * O * P) * es, P,
                     O * P, g, NULL, NULL, CUBLASLT_EPILOGUE_DEFAULT);
    }
    lc_array_release(cols);
    return s;
}

lc_status lc_cuda_conv(lc_cuda_dev *dev, const lc_op *op) {
    const lc_array *x = op->in[0], *w = op->in[1], *bias = op->in[2], *o = op->out;
    const bool two = op->kind == LC_OP_CONV2D;
    const int dt = o->dtype;
    const int64_t pad = op->i[1];
    lc_cu_conv_args c = {.C = x->shape[1], .H = two ? x->shape[2] : 1, .W = x->shape[two ? 3 : 2], .KH = two ? w->shape[2] : 1,
                         .KW = w->shape[two ? 3 : 2], .Hout = two ? o->shape[2] : 1, .Wout = o->shape[two ? 3 : 2], .stride = op->i[0],
                         .pad_h = two ? pad : 0, .pad_w = pad};
    const int64_t N = x->shape[0], O = w->shape[0], P = c.Hout * c.Wout, CK = c.C * c.KH * c.KW;
    char *out = lc_array_ptr(o);
    if (N * O * P == 0) return LC_OK;
    if (CK == 0) return kerr(lc_cu_fill(dev->stream, dt, out, N * O * P, 0.0f), "conv");
    lc_status s;
    if (!lc_cuda_conv_cudnn(dev, op, &c, &s)) s = lc_cuda_conv_im2col(dev, op, &c);
    if (!s && bias) {
        lc_cu_view ov = {.ndim = 3, .shape = {N, O, P}, .strides = {O * P, P, 1}};
        lc_cu_view bv = {.ndim = 3, .shape = {N, O, P}, .strides = {0, 1, 0}};
        s = kerr(lc_cu_binary(dev->stream, 0, dt, out, &ov, out, &ov, lc_array_ptr(bias), &bv), "conv bias");
    }
    return s;
}
