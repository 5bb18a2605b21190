/* The CPU backend: host allocations (64-byte aligned, recycled through a small cache so that
 * a forward pass reuses the buffers of the previous one), and op dispatch. Float ops run in f32;
 * f16/bf16 operands are widened around the kernel and the result narrowed back. */
#include "core/internal.h"
#include "cpu/kernels.h"
#include "cpu/kernels_extra.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- allocation cache ---------------------------------------------------------------------- */
#define CACHE_SLOTS 256
#define CACHE_MAX_BYTES ((size_t)2 << 30)
static struct {
    pthread_mutex_t lock;
    void *ptr[CACHE_SLOTS];
    size_t size[CACHE_SLOTS];
    int count;
    size_t bytes;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t round_size(size_t n) { return (n + 4095) & ~(size_t)4095; }

static lc_status cpu_alloc(int index, size_t bytes, void **ptr) {
    size_t n = round_size(bytes);
    if (n < bytes) return lc_error(LC_ERR_NOMEM, "allocation of %zu bytes overflows", bytes);
    pthread_mutex_lock(&cache.lock);
    for (int i = cache.count - 1; i >= 0; i--) {
        if (cache.size[i] == n) {
            *ptr = cache.ptr[i];
            cache.bytes -= n;
            cache.ptr[i] = cache.ptr[cache.count - 1];
            cache.size[i] = cache.size[cache.count - 1];
            cache.count--;
            pthread_mutex_unlock(&cache.lock);
            return LC_OK;
        }
    }
    pthread_mutex_unlock(&cache.lock);
    void *p = NULL;
    if (posix_memalign(&p, 64, n) != 0 || !p) return lc_error(LC_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    *ptr = p;
    return LC_OK;
}

static void cpu_free(int index, void *ptr, size_t bytes) {
    size_t n = round_size(bytes ? bytes : 1);
    pthread_mutex_lock(&cache.lock);
    if (cache.count < CACHE_SLOTS && cache.bytes + n <= CACHE_MAX_BYTES) {
        cache.ptr[cache.count] = ptr;
        cache.size[cache.count] = n;
        cache.count++;
        cache.bytes += n;
        ptr = NULL;
    }
    pthread_mutex_unlock(&cache.lock);
    free(ptr);
}

static lc_status cpu_copy_bytes(int index, void *dst, const void *src, size_t bytes) {
    memcpy(dst, src, bytes);
    return LC_OK;
}

static int cpu_device_count(void) { return 1; }

static lc_status cpu_describe(int index, char *buf, size_t len) {
    char model[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    c++;
                    while (*c == ' ') c++;
                    snprintf(model, sizeof model, "%s", c);
                    model[strcspn(model, "\n")] = 0;
                }
                break;
            }
        }
        fclose(f);
    }
    snprintf(buf, len, "%s", model);
    return LC_OK;
}

/* ---- dispatch ------------------------------------------------------------------------------ */
typedef lc_status (*kernel_fn)(const lc_op *op);

static kernel_fn kernel_for(lc_op_kind k) {
    switch (k) {
    case LC_OP_COPY: return lc_cpu_copy;
    case LC_OP_MATMUL: return lc_cpu_matmul;
    case LC_OP_LINEAR: return lc_cpu_linear;
    case LC_OP_ADD: case LC_OP_SUB: case LC_OP_MUL: case LC_OP_DIV: return lc_cpu_binary;
    case LC_OP_UNARY: return lc_cpu_unary;
    case LC_OP_SOFTMAX: return lc_cpu_softmax;
    case LC_OP_LAYER_NORM: return lc_cpu_layer_norm;
    case LC_OP_REDUCE: return lc_cpu_reduce;
    case LC_OP_EMBEDDING: return lc_cpu_embedding;
    case LC_OP_ATTENTION: return lc_cpu_attention;
    case LC_OP_FILL_RANDOM: return lc_cpu_fill_random;
    case LC_OP_PRELU: return lc_cpu_prelu;
    case LC_OP_SORT: return lc_cpu_sort;
    case LC_OP_GATHER: return lc_cpu_gather;
    case LC_OP_SCATTER: return lc_cpu_scatter;
    case LC_OP_BCE: return lc_cpu_bce;
    case LC_OP_CONV1D: return lc_cpu_conv1d;
    case LC_OP_CONV2D: return lc_cpu_conv2d;
    default: return NULL;
    }
}

/* Ops whose kernels handle any dtype themselves. */
static bool dtype_agnostic(lc_op_kind k) { return k == LC_OP_COPY || k == LC_OP_EMBEDDING; }

static lc_status cpu_run(int index, const lc_op *op) {
    kernel_fn fn = kernel_for(op->kind);
    if (!fn) return lc_error(LC_ERR_UNSUPPORTED, "op %s is not available on the CPU in this build", lc_op_name(op->kind));
    bool narrow = false;
    for (int i = 0; i < 4; i++)
        if (op->in[i] && (op->in[i]->dtype == LC_F16 || op->in[i]->dtype == LC_BF16)) narrow = true;
    if (op->out->dtype == LC_F16 || op->out->dtype == LC_BF16) narrow = true;
    if (!narrow || dtype_agnostic(op->kind)) return fn(op);

    /* Widen f16/bf16 inputs, run in f32, narrow the result into the real output. */
    lc_op wide = *op;
    lc_array *tmp[4] = {0}, *out32 = NULL;
    lc_status s = LC_OK;
    for (int i = 0; i < 4 && !s; i++) {
        lc_array *a = op->in[i];
        if (a && (a->dtype == LC_F16 || a->dtype == LC_BF16)) {
            s = lc_array_alloc(LC_F32, a->ndim, a->shape, LC_CPU, &tmp[i]);
            if (!s) {
                lc_op c = {.kind = LC_OP_COPY, .in = {a}, .out = tmp[i]};
                s = lc_cpu_copy(&c);
            }
            wide.in[i] = tmp[i];
        }
    }
    lc_dtype od = op->out->dtype;
    if (!s && (od == LC_F16 || od == LC_BF16)) {
        s = lc_array_alloc(LC_F32, op->out->ndim, op->out->shape, LC_CPU, &out32);
        wide.out = out32;
    }
    if (!s) s = fn(&wide);
    if (!s && out32) {
        lc_op c = {.kind = LC_OP_COPY, .in = {out32}, .out = op->out};
        s = lc_cpu_copy(&c);
    }
    for (int i = 0; i < 4; i++) lc_array_release(tmp[i]);
    lc_array_release(out32);
    return s;
}

static lc_status cpu_sync(int index) { return LC_OK; }

const lc_backend lc_cpu_backend = {
    .name = "cpu",
    .device_count = cpu_device_count,
    .describe = cpu_describe,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_copy_bytes,
    .download = cpu_copy_bytes,
    .synchronize = cpu_sync,
    .run = cpu_run,
};
