/* CBLAS wrapper: one place that knows which BLAS is linked.
 *
 * The BLAS runs single-threaded and locus splits each GEMM across its own thread pool (by
 * column or row blocks of C). With two thread pools (the BLAS's and locus's) on the same cores,
 * the BLAS's idle workers spin in sched_yield while locus kernels run and steal their cores;
 * one pool for everything measured 10-20% faster on BERT-base (see BENCHMARKS.md). */
#include "cpu/blas.h"
#include "cpu/threadpool.h"

#include <pthread.h>
#include <stdio.h>

#if defined(LOCUS_BLAS_BLIS)
#include <blis.h>
#else
#include <cblas.h>
#endif

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static void blas_single_thread(void) {
#if defined(LOCUS_BLAS_BLIS)
    bli_thread_set_num_threads(1);
#else
    openblas_set_num_threads(1);
#endif
}

typedef struct {
    bool ta, tb, split_n;
    int64_t m, n, k, lda, ldb, ldc, block;
    float alpha, beta;
    const float *a, *b;
    float *c;
} gemm_job;

static void gemm_blocks(void *vctx, int64_t first, int64_t last) {
    const gemm_job *j = vctx;
    int64_t total = j->split_n ? j->n : j->m;
    int64_t lo = first * j->block, hi = last * j->block < total ? last * j->block : total;
    if (lo >= hi) return;
    const float *a = j->a, *b = j->b;
    float *c = j->c;
    int64_t m = j->m, n = j->n;
    if (j->split_n) { /* columns [lo, hi) of C and of op(B) */
        b += j->tb ? lo * j->ldb : lo;
        c += lo;
        n = hi - lo;
    } else { /* rows [lo, hi) of C and of op(A) */
        a += j->ta ? lo : lo * j->lda;
        c += lo * j->ldc;
        m = hi - lo;
    }
    cblas_sgemm(CblasRowMajor, j->ta ? CblasTrans : CblasNoTrans, j->tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)j->k,
                j->alpha, a, (int)j->lda, b, (int)j->ldb, j->beta, c, (int)j->ldc);
}

void lc_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    pthread_once(&blas_once, blas_single_thread);
    int threads = lc_pool_threads();
    double flops = 2.0 * (double)m * (double)n * (double)k;
    gemm_job j = {trans_a, trans_b, n >= m, m, n, k, lda, ldb, ldc, 0, alpha, beta, a, b, c};
    if (threads <= 1 || flops < 4e6) {
        j.block = j.split_n ? n : m;
        gemm_blocks(&j, 0, 1);
        return;
    }
    /* Blocks of 64 columns (or 16 rows), dealt out evenly so each thread gets one contiguous run. */
    int64_t total = j.split_n ? n : m, unit = j.split_n ? 64 : 16;
    int64_t units = (total + unit - 1) / unit;
    int64_t per = (units + threads - 1) / threads;
    j.block = per * unit;
    lc_parallel_for((total + j.block - 1) / j.block, 1, gemm_blocks, &j);
}

void lc_blas_set_threads(int n) {
    (void)n; /* locus parallelises GEMMs itself; the BLAS stays single-threaded */
    pthread_once(&blas_once, blas_single_thread);
}

const char *lc_blas_describe(void) {
    static char desc[160];
#if defined(LOCUS_BLAS_BLIS)
    snprintf(desc, sizeof desc, "BLIS %s (%s)", bli_info_get_version_str(), bli_arch_string(bli_arch_query_id()));
#else
    snprintf(desc, sizeof desc, "%s (core %s)", openblas_get_config(), openblas_get_corename());
#endif
    return desc;
}
