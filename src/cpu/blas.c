/* CBLAS wrapper: one place that knows which BLAS is linked. */
#include "cpu/blas.h"

#include <stdio.h>

#if defined(LOCUS_BLAS_BLIS)
#include <blis.h>
#else
#include <cblas.h>
#endif

void lc_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

void lc_blas_set_threads(int n) {
#if defined(LOCUS_BLAS_BLIS)
    bli_thread_set_num_threads(n);
#else
    openblas_set_num_threads(n);
#endif
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
