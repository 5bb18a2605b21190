/* Fork-join thread pool. Workers sleep on a condition variable between jobs; a job is one
 * range split into equal chunks. Nested calls (a kernel calling lc_parallel_for from a worker)
 * run inline so the pool never deadlocks. */
#include "cpu/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#define LC_POOL_MAX 256

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    pthread_t threads[LC_POOL_MAX];
    int n_workers;   /* threads besides the caller */
    int wanted;      /* total threads requested (workers + caller) */
    uint64_t generation;
    int pending;
    lc_range_fn fn;
    void *ctx;
    int64_t n, chunk;
    int parts;
    bool started;
} lc_pool;

static lc_pool pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};
static pthread_mutex_t pool_job_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local bool in_pool_job;

static void run_part(int part) {
    int64_t b = (int64_t)part * pool.chunk, e = b + pool.chunk;
    if (e > pool.n) e = pool.n;
    if (b < e) pool.fn(pool.ctx, b, e);
}

static void *worker_main(void *arg) {
    int id = (int)(intptr_t)arg; /* 1..n_workers */
    uint64_t seen = 0;
    in_pool_job = true;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.generation == seen) pthread_cond_wait(&pool.wake, &pool.lock);
        seen = pool.generation;
        int parts = pool.parts;
        pthread_mutex_unlock(&pool.lock);
        if (id < parts) run_part(id);
        pthread_mutex_lock(&pool.lock);
        if (--pool.pending == 0) pthread_cond_signal(&pool.done);
    }
    return NULL;
}

static int default_threads(void) {
    const char *env = getenv("LOCUS_NUM_THREADS");
    if (env && atoi(env) > 0) return atoi(env);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int lc_pool_threads(void) {
    if (pool.wanted == 0) pool.wanted = default_threads();
    return pool.wanted;
}

void lc_pool_set_threads(int n) {
    if (n < 1) n = 1;
    if (n > LC_POOL_MAX) n = LC_POOL_MAX;
    pool.wanted = n; /* extra workers start lazily; surplus ones stay idle */
}

static void ensure_workers(int want) {
    while (pool.n_workers < want - 1) {
        int id = pool.n_workers + 1;
        if (pthread_create(&pool.threads[pool.n_workers], NULL, worker_main, (void *)(intptr_t)id) != 0) break;
        pthread_detach(pool.threads[pool.n_workers]);
        pool.n_workers++;
    }
}

void lc_parallel_for(int64_t n, int64_t min_chunk, lc_range_fn fn, void *ctx) {
    if (n <= 0) return;
    int threads = lc_pool_threads();
    if (min_chunk < 1) min_chunk = 1;
    int64_t max_parts = (n + min_chunk - 1) / min_chunk;
    int parts = threads < max_parts ? threads : (int)max_parts;
    if (parts <= 1 || in_pool_job) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&pool_job_lock);
    pthread_mutex_lock(&pool.lock);
    ensure_workers(parts);
    if (parts > pool.n_workers + 1) parts = pool.n_workers + 1;
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n = n;
    pool.parts = parts;
    pool.chunk = (n + parts - 1) / parts;
    pool.pending = pool.n_workers;
    pool.generation++;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    in_pool_job = true;
    run_part(0);
    in_pool_job = false;

    pthread_mutex_lock(&pool.lock);
    while (pool.pending > 0) pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool_job_lock);
}
