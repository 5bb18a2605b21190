/* Fork-join thread pool. A job is one range split into equal chunks, one per thread (the caller
 * runs the first). Between jobs, workers spin on the job counter for a short while before sleeping
 * on a condition variable: a transformer forward issues hundreds of small parallel ops, and waking
 * a sleeping thread costs tens of microseconds each time, which at batch 1 adds up to a large share
 * of the forward. The caller likewise spins briefly for the workers to finish. Nested calls (a
 * kernel calling lc_parallel_for from inside a job) run inline, so the pool never deadlocks. */
#include "cpu/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#define LC_POOL_MAX 256
/* Polling before sleeping: 20000 pause instructions, about 0.44 ms on this Zen 4 class core. */
#define LC_POOL_SPINS 20000

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    pthread_t threads[LC_POOL_MAX];
    int n_workers; /* threads besides the caller */
    int wanted;    /* total threads requested (workers + caller) */
    atomic_uint_fast64_t generation;
    atomic_int pending;
    /* the current job, written before `generation` is bumped */
    lc_range_fn fn;
    void *ctx;
    int64_t n, chunk;
    int parts;
} lc_pool;

static lc_pool pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};
static pthread_mutex_t pool_job_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local bool in_pool_job;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void run_part(int part) {
    int64_t b = (int64_t)part * pool.chunk, e = b + pool.chunk;
    if (e > pool.n) e = pool.n;
    if (b < e) pool.fn(pool.ctx, b, e);
}

typedef struct {
    int id;             /* 1..n_workers */
    uint_fast64_t seen; /* the job counter when the thread was made: only later jobs are its own */
} worker_start;

static void *worker_main(void *arg) {
    worker_start start = *(worker_start *)arg;
    free(arg);
    int id = start.id;
    uint_fast64_t seen = start.seen;
    in_pool_job = true;
    for (;;) {
        uint_fast64_t g = atomic_load_explicit(&pool.generation, memory_order_acquire);
        for (int i = 0; g == seen && i < LC_POOL_SPINS; i++) {
            cpu_relax();
            g = atomic_load_explicit(&pool.generation, memory_order_acquire);
        }
        if (g == seen) {
            pthread_mutex_lock(&pool.lock);
            while ((g = atomic_load(&pool.generation)) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
        }
        seen = g;
        if (id < pool.parts) run_part(id);
        if (atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.lock);
        }
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

/* Called with pool_job_lock held and no job in flight. */
static void ensure_workers(int want) {
    while (pool.n_workers < want - 1) {
        worker_start *start = malloc(sizeof *start);
        if (!start) break;
        start->id = pool.n_workers + 1;
        start->seen = atomic_load(&pool.generation);
        if (pthread_create(&pool.threads[pool.n_workers], NULL, worker_main, start) != 0) {
            free(start);
            break;
        }
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
    ensure_workers(parts);
    if (parts > pool.n_workers + 1) parts = pool.n_workers + 1;
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n = n;
    pool.parts = parts;
    pool.chunk = (n + parts - 1) / parts;
    atomic_store(&pool.pending, pool.n_workers);
    /* publish the job, then wake sleepers (under the lock, so none can miss it) */
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    in_pool_job = true;
    run_part(0);
    in_pool_job = false;

    for (int i = 0; atomic_load_explicit(&pool.pending, memory_order_acquire) > 0 && i < LC_POOL_SPINS; i++) cpu_relax();
    if (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) {
        pthread_mutex_lock(&pool.lock);
        while (atomic_load(&pool.pending) > 0) pthread_cond_wait(&pool.done, &pool.lock);
        pthread_mutex_unlock(&pool.lock);
    }
    pthread_mutex_unlock(&pool_job_lock);
}
