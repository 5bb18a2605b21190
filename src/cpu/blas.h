/* The BLAS behind CPU GEMM (OpenBLAS or BLIS, chosen at build time). */
#ifndef LOCUS_CPU_BLAS_H
#define LOCUS_CPU_BLAS_H
#include <stdbool.h>
#include <stdint.h>

/* C (M, N) = alpha * op(A) op(B) + beta * C, row-major; lda/ldb/ldc in elements. */
void lc_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
void lc_blas_set_threads(int n);
const char *lc_blas_describe(void);

#endif
