/* A small fork-join thread pool for CPU kernels: lc_parallel_for splits [0, n) into contiguous
 * chunks, one per thread (the calling thread takes the first). */
#ifndef LOCUS_CPU_THREADPOOL_H
#define LOCUS_CPU_THREADPOOL_H
#include <stdint.h>

/* fn(ctx, begin, end) runs on a sub-range; calls from inside a running fn run serially. */
typedef void (*lc_range_fn)(void *ctx, int64_t begin, int64_t end);
void lc_parallel_for(int64_t n, int64_t min_chunk, lc_range_fn fn, void *ctx);
int lc_pool_threads(void);
void lc_pool_set_threads(int n);

#endif
