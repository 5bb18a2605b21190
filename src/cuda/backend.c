/* The CUDA backend: device state (one stream, one cuBLASLt handle per device), stream-ordered
 * allocations, host <-> device copies, and the dispatch of op records to the kernels.
 *
 * Allocation: cudaMallocAsync / cudaFreeAsync on the device's stream, from the device's default
 * memory pool with its release threshold raised so that freed memory stays in the pool: a
 * forward pass reuses the previous one's memory without going to the driver, and the same calls
 * become graph memory nodes while a CUDA graph is being captured (see graph.c).
 *
 * Every op the front end issues has a CUDA kernel for float data. What has none (random fill,
 * which lc_array_rand runs on the host by design; gather and scatter of integer data, which the
 * CPU backend refuses too) runs on the host through the CPU backend; its inputs and result cross
 * the bus once and are counted in the transfer statistics like every other copy. */
#include "cuda/cuda_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(LC_F32 == 0 && LC_F16 == 1 && LC_BF16 == 2 && LC_I32 == 3 && LC_I64 == 4, "dtype codes shared with kernels.h");

static lc_cuda_dev devices[LC_CUDA_MAX_DEVICES];
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t count_once = PTHREAD_ONCE_INIT;
static int device_total;

lc_status lc_cuda_fail(int err, const char *what) {
    return lc_error(LC_ERR_DEVICE, "cuda: %s: %s (%s)", what, cudaGetErrorString((cudaError_t)err),
                    cudaGetErrorName((cudaError_t)err));
}

static void count_devices(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) n = 0;
    (void)cudaGetLastError(); /* no driver / no device is not an error of a later call */
    device_total = n < LC_CUDA_MAX_DEVICES ? n : LC_CUDA_MAX_DEVICES;
}

static int cuda_device_count(void) {
    pthread_once(&count_once, count_devices);
    return device_total;
}

static _Thread_local int current_device = -1;

static lc_status set_device(int index) {
    if (current_device == index) return LC_OK;
    cudaError_t e = cudaSetDevice(index);
    if (e != cudaSuccess) return lc_cuda_fail(e, "cudaSetDevice");
    current_device = index;
    return LC_OK;
}

lc_status lc_cuda_dev_get(int index, lc_cuda_dev **out) {
    if (index < 0 || index >= cuda_device_count()) return lc_error(LC_ERR_DEVICE, "cuda:%d: no such device (%d visible)", index, cuda_device_count());
    lc_status s = set_device(index);
    if (s) return s;
    lc_cuda_dev *d = &devices[index];
    if (d->ready) {
        *out = d;
        return LC_OK;
    }
    pthread_mutex_lock(&init_lock);
    if (!d->ready) {
        cudaError_t e = cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking);
        if (e) goto fail;
        cudaMemPool_t pool;
        e = cudaDeviceGetDefaultMemPool(&pool, index);
        if (e) goto fail;
        uint64_t threshold = UINT64_MAX;
        e = cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold);
        if (e) goto fail;
        if (cublasLtCreate(&d->lt) != CUBLAS_STATUS_SUCCESS) {
            pthread_mutex_unlock(&init_lock);
            return lc_error(LC_ERR_DEVICE, "cuda:%d: cublasLtCreate failed", index);
        }
        d->workspace_bytes = (size_t)32 << 20;
        e = cudaMalloc(&d->workspace, d->workspace_bytes);
        if (e) goto fail;
        int *flag = NULL;
        e = cudaHostAlloc((void **)&flag, sizeof(int), cudaHostAllocMapped);
        if (e) goto fail;
        *flag = 0;
        d->bad_host = flag;
        e = cudaHostGetDevicePointer((void **)&d->bad_dev, flag, 0);
        if (e) goto fail;
        pthread_mutex_init(&d->lock, NULL);
        d->index = index;
        d->ready = true;
        pthread_mutex_unlock(&init_lock);
        *out = d;
        return LC_OK;
    fail:
        pthread_mutex_unlock(&init_lock);
        return lc_cuda_fail(e, "device initialisation");
    }
    pthread_mutex_unlock(&init_lock);
    *out = d;
    return LC_OK;
}

void *lc_cuda_ptr(const lc_array *a) { return a ? lc_array_ptr(a) : NULL; }

static lc_status cuda_describe(int index, char *buf, size_t len) {
    struct cudaDeviceProp p;
    cudaError_t e = cudaGetDeviceProperties(&p, index);
    if (e) return lc_cuda_fail(e, "cudaGetDeviceProperties");
    snprintf(buf, len, "%s", p.name);
    return LC_OK;
}

/* ---- memory ------------------------------------------------------------------------------- */
static bool ptr_list_remove(void **list, int *n, void *p) {
    for (int i = *n - 1; i >= 0; i--)
        if (list[i] == p) {
            list[i] = list[--*n];
            return true;
        }
    return false;
}

static bool ptr_list_push(void ***list, int *n, int *cap, void *p) {
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        void **nl = realloc(*list, sizeof(void *) * (size_t)nc);
        if (!nl) return false;
        *list = nl;
        *cap = nc;
    }
    (*list)[(*n)++] = p;
    return true;
}

/* LOCUS_CUDA_ALLOC_LOG=1: every device allocation and free on stderr (for memory checkers' reports). */
static bool alloc_log(void) {
    static int on = -1;
    if (on < 0) on = getenv("LOCUS_CUDA_ALLOC_LOG") != NULL;
    return on;
}

static lc_status cuda_alloc(int index, size_t bytes, void **ptr) {
    lc_cuda_dev *d = NULL;
    lc_status s = lc_cuda_dev_get(index, &d);
    if (s) return s;
    cudaError_t e = cudaMallocAsync(ptr, bytes, d->stream);
    if (e) {
        (void)cudaGetLastError();
        return lc_error(LC_ERR_NOMEM, "cuda:%d: cannot allocate %zu bytes: %s", index, bytes, cudaGetErrorString(e));
    }
    if (alloc_log()) fprintf(stderr, "cuda alloc %p %zu%s\n", *ptr, bytes, d->capturing ? " (graph)" : "");
    if (d->capturing && !ptr_list_push(&d->cap_allocs, &d->ncap, &d->capcap, *ptr))
        return lc_error(LC_ERR_NOMEM, "out of memory");
    return LC_OK;
}

/* LOCUS_CUDA_GRAPH_REUSE=0: a graph allocation freed during its capture is freed at the capture's
 * end instead, so that no address serves two allocations inside one graph. compute-sanitizer's
 * memcheck judges a graph's accesses against the last allocation made at each address in the
 * graph, so a kernel that writes a buffer which the graph frees later and whose address a smaller
 * allocation then takes is reported as writing out of bounds (BENCHMARKS.md: the allocation log
 * of those reports). The sanitizer runs use this; graphs need more memory with it. */
static bool graph_reuse(void) {
    static int on = -1;
    if (on < 0) on = !lc_cuda_env_zero("LOCUS_CUDA_GRAPH_REUSE");
    return on;
}

static void cuda_free(int index, void *ptr, size_t bytes) {
    lc_cuda_dev *d = NULL;
    if (!ptr || lc_cuda_dev_get(index, &d)) return;
    if (d->capturing) {
        if (!ptr_list_remove(d->cap_allocs, &d->ncap, ptr)) {
            /* Allocated before the capture: the graph may read it on every replay, so it lives as
             * long as the graph (graph.c frees it with the graph). */
            if (ptr_list_push(&d->keep.dev, &d->keep.ndev, &d->keep.capdev, ptr)) {
                if (alloc_log()) fprintf(stderr, "cuda free %p deferred to the graph's end\n", ptr);
                return;
            }
        } else if (!graph_reuse() && ptr_list_push(&d->cap_late, &d->nlate, &d->caplate, ptr)) {
            if (alloc_log()) fprintf(stderr, "cuda free %p deferred to the capture's end\n", ptr);
            return;
        }
    }
    if (alloc_log()) fprintf(stderr, "cuda free %p%s\n", ptr, d->capturing ? " (graph)" : "");
    (void)cudaFreeAsync(ptr, d->stream);
}

static lc_status cuda_upload(int index, void *dst, const void *src, size_t bytes) {
    lc_cuda_dev *d = NULL;
    lc_status s = lc_cuda_dev_get(index, &d);
    if (s) return s;
    if (!bytes) return LC_OK;
    if (d->capturing) {
        /* Host data met during a capture (position ids, a mask made on the host): keep a pinned
         * copy with the graph and capture the copy from it, so every replay sees these bytes. */
        void *pinned = NULL;
        cudaError_t e = cudaMallocHost(&pinned, bytes);
        if (e) return lc_cuda_fail(e, "cudaMallocHost during graph capture");
        memcpy(pinned, src, bytes);
        if (!ptr_list_push(&d->keep.host_pinned, &d->keep.nhost, &d->keep.caphost, pinned)) {
            cudaFreeHost(pinned);
            return lc_error(LC_ERR_NOMEM, "out of memory");
        }
        e = cudaMemcpyAsync(dst, pinned, bytes, cudaMemcpyHostToDevice, d->stream);
        return e ? lc_cuda_fail(e, "host-to-device copy in a graph") : LC_OK;
    }
    cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, d->stream);
    return e ? lc_cuda_fail(e, "host-to-device copy") : LC_OK;
}

/* The bad-input flag a kernel set since the last check (kernels.h's LC_CU_BAD_* codes): reported
 * by the next call that waits for the device, naming the op. */
static lc_status check_bad_ids(lc_cuda_dev *d) {
    int code = d->bad_host ? *d->bad_host : 0;
    if (!code) return LC_OK;
    *d->bad_host = 0;
    switch (code) {
    case LC_CU_BAD_GATHER:
        return lc_error(LC_ERR_ARG, "gather: an index was outside the input's size on its axis (those elements were written as zeros)");
    case LC_CU_BAD_SCATTER:
        return lc_error(LC_ERR_ARG, "scatter: an index was outside the input's size on its axis (those writes were skipped)");
    default: return lc_error(LC_ERR_ARG, "embedding: an id was outside the table (its rows were written as zeros)");
    }
}

static lc_status cuda_download(int index, void *dst, const void *src, size_t bytes) {
    lc_cuda_dev *d = NULL;
    lc_status s = lc_cuda_dev_get(index, &d);
    if (s) return s;
    if (d->capturing)
        return lc_error(LC_ERR_DEVICE, "cuda: a device array was read back to the host while a CUDA graph was being captured");
    if (!bytes) return LC_OK;
    cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, d->stream);
    if (!e) e = cudaStreamSynchronize(d->stream);
    if (e) return lc_cuda_fail(e, "device-to-host copy");
    return check_bad_ids(d);
}

static lc_status cuda_synchronize(int index) {
    lc_cuda_dev *d = NULL;
    lc_status s = lc_cuda_dev_get(index, &d);
    if (s) return s;
    if (d->capturing) return LC_OK; /* nothing runs while capturing */
    cudaError_t e = cudaStreamSynchronize(d->stream);
    if (e) return lc_cuda_fail(e, "synchronize");
    return check_bad_ids(d);
}

/* ---- helpers for op dispatch ------------------------------------------------------------------ */
static void view_of(const lc_array *a, lc_cu_view *v) {
    v->ndim = a->ndim;
    for (int i = 0; i < a->ndim; i++) {
        v->shape[i] = a->shape[i];
        v->strides[i] = a->strides[i];
    }
    if (a->ndim == 0) { /* a scalar: one element */
        v->ndim = 1;
        v->shape[0] = 1;
        v->strides[0] = 1;
    }
}

/* Merge adjacent dimensions that are contiguous with each other in every view and drop size-1
 * dimensions (same shape in all views). */
static void collapse_views(lc_cu_view *v, int n) {
    lc_cu_view r[4];
    int nd = 0;
    for (int k = 0; k < n; k++) r[k].ndim = 0;
    for (int i = 0; i < v[0].ndim; i++) {
        if (v[0].shape[i] == 1) continue;
        bool merge = nd > 0;
        for (int k = 0; k < n && merge; k++)
            if (r[k].strides[nd - 1] != v[k].strides[i] * v[k].shape[i]) merge = false;
        for (int k = 0; k < n; k++) {
            if (merge) {
                r[k].shape[nd - 1] *= v[k].shape[i];
                r[k].strides[nd - 1] = v[k].strides[i];
            } else {
                r[k].shape[nd] = v[k].shape[i];
                r[k].strides[nd] = v[k].strides[i];
            }
        }
        if (!merge) nd++;
    }
    if (nd == 0) {
        for (int k = 0; k < n; k++) {
            r[k].shape[0] = 1;
            r[k].strides[0] = 1;
        }
        nd = 1;
    }
    for (int k = 0; k < n; k++) {
        r[k].ndim = nd;
        v[k] = r[k];
    }
}

static lc_status kcheck(int err, const lc_op *op) {
    if (err) return lc_error(LC_ERR_DEVICE, "cuda: %s: %s", lc_op_name(op->kind), cudaGetErrorString((cudaError_t)err));
    return LC_OK;
}

/* A contiguous copy of `a` in dtype t on the same device (a new reference when already so). */
static lc_status converted(lc_array *a, lc_dtype t, lc_array **out) {
    if (!a) {
        *out = NULL;
        return LC_OK;
    }
    return lc_astype(a, t, out);
}

/* Run an op whose float inputs do not share the output's dtype: convert them first. */
static lc_status run_converted(int index, const lc_op *op, lc_status (*fn)(int, const lc_op *)) {
    lc_op c = *op;
    lc_array *tmp[4] = {0};
    lc_status s = LC_OK;
    for (int i = 0; i < 4 && !s; i++)
        if (op->in[i] && lc_is_float(op->in[i]->dtype) && op->in[i]->dtype != op->out->dtype) {
            s = converted(op->in[i], op->out->dtype, &tmp[i]);
            c.in[i] = tmp[i];
        }
    if (!s) s = fn(index, &c);
    for (int i = 0; i < 4; i++) lc_array_release(tmp[i]);
    return s;
}

static bool floats_match_out(const lc_op *op) {
    for (int i = 0; i < 4; i++)
        if (op->in[i] && lc_is_float(op->in[i]->dtype) && op->in[i]->dtype != op->out->dtype) return false;
    return true;
}

/* ---- host fallback ----------------------------------------------------------------------------- */
static lc_status run_on_host(int index, const lc_op *op) {
    lc_cuda_dev *d = NULL;
    lc_status s = lc_cuda_dev_get(index, &d);
    if (s) return s;
    if (d->capturing)
        return lc_error(LC_ERR_UNSUPPORTED, "cuda: op %s has no CUDA kernel and cannot be captured into a graph", lc_op_name(op->kind));
    lc_op h = *op;
    lc_array *host_in[4] = {0}, *host_out = NULL, *dev_out = NULL;
    for (int i = 0; i < 4 && !s; i++)
        if (op->in[i]) {
            s = lc_array_to(op->in[i], LC_CPU, &host_in[i]);
            h.in[i] = host_in[i];
        }
    if (!s) s = lc_array_alloc(op->out->dtype, op->out->ndim, op->out->shape, LC_CPU, &host_out);
    if (!s) {
        h.out = host_out;
        s = lc_cpu_backend.run(0, &h);
    }
    if (!s) s = lc_array_to(host_out, op->out->device, &dev_out); /* counted upload */
    if (!s) {
        lc_cu_view dv, sv;
        view_of(op->out, &dv);
        view_of(dev_out, &sv);
        s = kcheck(lc_cu_copy(d->stream, lc_array_ptr(op->out), op->out->dtype, &dv, lc_array_ptr(dev_out), dev_out->dtype, &sv), op);
    }
    for (int i = 0; i < 4; i++) lc_array_release(host_in[i]);
    lc_array_release(host_out);
    lc_array_release(dev_out);
    return s;
}

/* ---- op kernels ------------------------------------------------------------------------------- */
static lc_status run_copy(lc_cuda_dev *d, const lc_op *op) {
    const lc_array *in = op->in[0], *out = op->out;
    if (lc_array_numel(in) != lc_array_numel(out)) return lc_error(LC_ERR_SHAPE, "copy: element counts differ");
    lc_cu_view dv, sv;
    view_of(out, &dv);
    view_of(in, &sv);
    if (in->ndim == out->ndim) {
        bool same = true;
        for (int i = 0; i < in->ndim; i++) same = same && in->shape[i] == out->shape[i];
        if (same) {
            lc_cu_view v[2] = {dv, sv};
            collapse_views(v, 2);
            dv = v[0], sv = v[1];
        }
    }
    return kcheck(lc_cu_copy(d->stream, lc_array_ptr(out), out->dtype, &dv, lc_array_ptr(in), in->dtype, &sv), op);
}

static lc_status run_binary(lc_cuda_dev *d, const lc_op *op) {
    lc_cu_view v[3];
    view_of(op->out, &v[0]);
    view_of(op->in[0], &v[1]);
    view_of(op->in[1], &v[2]);
    collapse_views(v, 3);
    int kind = op->kind == LC_OP_ADD ? 0 : op->kind == LC_OP_SUB ? 1 : op->kind == LC_OP_MUL ? 2 : 3;
    return kcheck(lc_cu_binary(d->stream, kind, op->out->dtype, lc_array_ptr(op->out), &v[0], lc_array_ptr(op->in[0]), &v[1],
                               lc_array_ptr(op->in[1]), &v[2]),
                  op);
}

static lc_status run_attention(lc_cuda_dev *d, const lc_op *op) {
    const lc_array *q = op->in[0], *k = op->in[1], *v = op->in[2], *mask = op->in[3], *o = op->out;
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4 || o->ndim != 4)
        return lc_error(LC_ERR_SHAPE, "attention: q, k, v and out must be (B, H, T, D)");
    if (q->strides[3] != 1 || k->strides[3] != 1 || v->strides[3] != 1 || o->strides[3] != 1)
        return lc_error(LC_ERR_INTERNAL, "attention: head dimension must be contiguous");
    if (mask && (mask->dtype != LC_F32 || !lc_array_is_contiguous(mask)))
        return lc_error(LC_ERR_INTERNAL, "attention: mask must be contiguous f32");
    if (q->dtype != k->dtype || q->dtype != v->dtype || q->dtype != o->dtype)
        return lc_error(LC_ERR_SHAPE, "attention: q, k, v and out must share a dtype");
    lc_cu_attn_args a = {
        .q = lc_array_ptr(q), .k = lc_array_ptr(k), .v = lc_array_ptr(v), .out = lc_array_ptr(o),
        .mask = mask ? lc_array_ptr(mask) : NULL,
        .B = q->shape[0], .H = q->shape[1], .Tq = q->shape[2], .Tk = k->shape[2], .D = q->shape[3], .scale = op->f[0]};
    for (int i = 0; i < 3; i++) {
        a.qs[i] = q->strides[i];
        a.ks[i] = k->strides[i];
        a.vs[i] = v->strides[i];
        a.os[i] = o->strides[i];
    }
    if (a.D > 256) return lc_error(LC_ERR_UNSUPPORTED, "attention: head size %lld above 256 on CUDA", (long long)a.D);
    return kcheck(lc_cu_attention(d->stream, q->dtype, &a), op);
}

/* Device memory for a kernel's scratch, freed (stream-ordered) by the caller's release; none
 * (*out NULL) for 0 bytes. */
static lc_status scratch_alloc(const lc_op *op, size_t bytes, lc_array **out) {
    *out = NULL;
    if (!bytes) return LC_OK;
    int64_t n = (int64_t)((bytes + 7) / 8);
    return lc_array_alloc(LC_I64, 1, &n, op->out->device, out);
}
static void *scratch_ptr(lc_array *scratch) { return scratch ? lc_array_ptr(scratch) : NULL; }

static lc_status run_reduce(lc_cuda_dev *d, const lc_op *op) {
    const lc_array *x = op->in[0];
    int axis = (int)op->i[1];
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; i++) outer *= x->shape[i];
    for (int i = axis + 1; i < x->ndim; i++) inner *= x->shape[i];
    int64_t n = x->ndim ? x->shape[axis] : 1;
    int kind = (int)op->i[0];
    size_t bytes = lc_cu_reduce_scratch(outer, n, inner);
    lc_array *tmp = NULL;
    lc_status s = scratch_alloc(op, bytes, &tmp);
    if (!s) s = kcheck(lc_cu_reduce(d->stream, kind, x->dtype, lc_array_ptr(op->out), lc_array_ptr(x), outer, n, inner, scratch_ptr(tmp)), op);
    lc_array_release(tmp);
    return s;
}

/* ---- sort, gather, scatter, bce, convolutions (ops_extra.cu; convolutions in gemm.c) ---------- */
static lc_status run_sort(lc_cuda_dev *d, const lc_op *op) {
    const lc_array *x = op->in[0];
    int64_t total = lc_array_numel(x), n = x->ndim ? x->shape[x->ndim - 1] : 1;
    if (total == 0 || n == 0) return LC_OK;
    int64_t rows = total / n;
    size_t bytes = 0;
    lc_status s = kcheck(lc_cu_sort_scratch(rows, n, &bytes), op);
    lc_array *tmp = NULL;
    if (!s) s = scratch_alloc(op, bytes, &tmp);
    if (!s) s = kcheck(lc_cu_sort(d->stream, x->dtype, lc_array_ptr(op->out), lc_array_ptr(x), rows, n, scratch_ptr(tmp), bytes), op);
    lc_array_release(tmp);
    return s;
}

/* The index geometry of gather (src NULL) or scatter; every array contiguous. */
static lc_status index_geometry(const lc_op *op, const lc_array *a, const lc_array *idx, const lc_array *src, lc_cu_index_args *g) {
    int nd = idx->ndim, axis = (int)op->i[0];
    if (a->ndim != nd || (src && src->ndim != nd) || nd > LC_CU_MAX_DIMS || axis < 0 || axis >= nd)
        return lc_error(LC_ERR_SHAPE, "%s: index rank %d, data rank %d, axis %d do not fit", lc_op_name(op->kind), nd, a->ndim, axis);
    memset(g, 0, sizeof *g);
    g->ndim = nd, g->axis = axis;
    int64_t as = 1, ss = 1;
    for (int i = nd - 1; i >= 0; i--) {
        if ((i != axis && idx->shape[i] > a->shape[i]) || (src && idx->shape[i] > src->shape[i]))
            return lc_error(LC_ERR_SHAPE, "%s: index size %lld exceeds the input's or src's in dimension %d", lc_op_name(op->kind),
                            (long long)idx->shape[i], i);
        g->ishape[i] = idx->shape[i];
        g->astride[i] = as;
        as *= a->shape[i];
        if (src) {
            g->sstride[i] = ss;
            ss *= src->shape[i];
        }
    }
    g->alen = a->shape[axis];
    g->n = lc_array_numel(idx);
    g->an = lc_array_numel(a);
    g->sn = src ? lc_array_numel(src) : 0;
    return LC_OK;
}

static lc_status run_gather(lc_cuda_dev *d, const lc_op *op) {
    const lc_array *a = op->in[0], *idx = op->in[1];
    lc_cu_index_args g;
    lc_status s = index_geometry(op, a, idx, NULL, &g);
    if (s) return s;
    return kcheck(lc_cu_gather(d->stream, lc_dtype_size(a->dtype), lc_array_ptr(op->out), lc_array_ptr(a), lc_array_ptr(idx), &g, d->bad_dev),
                  op);
}

static lc_status run_scatter(lc_cuda_dev *d, const lc_op *op) {
    const lc_array *a = op->in[0], *idx = op->in[1], *src = op->in[2];
    lc_cu_index_args g;
    lc_status s = index_geometry(op, a, idx, src, &g);
    if (s) return s;
    size_t esize = lc_dtype_size(a->dtype);
    if (g.an) s = kcheck(cudaMemcpyAsync(lc_array_ptr(op->out), lc_array_ptr(a), (size_t)g.an * esize, cudaMemcpyDeviceToDevice, d->stream), op);
    if (s || g.n == 0 || g.an == 0) return s;
    lc_array *tmp = NULL;
    s = scratch_alloc(op, lc_cu_scatter_scratch(&g), &tmp);
    if (!s) s = kcheck(lc_cu_scatter(d->stream, esize, lc_array_ptr(op->out), lc_array_ptr(src), lc_array_ptr(idx), &g, lc_array_ptr(tmp), d->bad_dev), op);
    lc_array_release(tmp);
    return s;
}

static lc_status run_bce(lc_cuda_dev *d, const lc_op *op) {
    const lc_array *p = op->in[0], *y = op->in[1];
    int64_t n = lc_array_numel(p);
    if (lc_array_numel(y) != n) return lc_error(LC_ERR_SHAPE, "bce: p and y differ in size");
    lc_array *tmp = NULL;
    lc_status s = scratch_alloc(op, lc_cu_bce_scratch(n), &tmp);
    if (!s) s = kcheck(lc_cu_bce(d->stream, p->dtype, lc_array_ptr(op->out), lc_array_ptr(p), lc_array_ptr(y), n, lc_array_ptr(tmp)), op);
    lc_array_release(tmp);
    return s;
}

static lc_status run_embedding(lc_cuda_dev *d, const lc_op *op) {
    const lc_array *table = op->in[0], *ids = op->in[1];
    return kcheck(lc_cu_embedding(d->stream, lc_array_ptr(op->out), lc_array_ptr(table), lc_dtype_size(table->dtype),
                                  table->shape[0], table->shape[1], lc_array_ptr(ids), ids->dtype, lc_array_numel(ids),
                                  d->bad_dev),
                  op);
}

static lc_status cuda_run(int index, const lc_op *op);

static lc_status run_float_op(int index, const lc_op *op) {
    lc_cuda_dev *d = NULL;
    lc_status s = lc_cuda_dev_get(index, &d);
    if (s) return s;
    const lc_array *o = op->out;
    lc_dtype t = o->dtype;
    switch (op->kind) {
    case LC_OP_LINEAR: return lc_cuda_linear(d, op);
    case LC_OP_MATMUL: return lc_cuda_matmul(d, op);
    case LC_OP_ADD: case LC_OP_SUB: case LC_OP_MUL: case LC_OP_DIV: return run_binary(d, op);
    case LC_OP_UNARY:
        return kcheck(lc_cu_unary(d->stream, (int)op->i[0], t, lc_array_ptr(o), lc_array_ptr(op->in[0]), lc_array_numel(o), op->f[0], op->f[1]), op);
    case LC_OP_PRELU: {
        int64_t c = o->ndim >= 2 ? o->shape[1] : 1, inner = 1;
        for (int i = 2; i < o->ndim; i++) inner *= o->shape[i];
        return kcheck(lc_cu_prelu(d->stream, t, lc_array_ptr(o), lc_array_ptr(op->in[0]), lc_array_ptr(op->in[1]), lc_array_numel(o), c,
                                  inner, op->in[1]->shape[0]),
                      op);
    }
    case LC_OP_SOFTMAX: {
        int64_t n = o->ndim ? o->shape[o->ndim - 1] : 1;
        size_t bytes = lc_cu_softmax_scratch(lc_rows(o), n);
        lc_array *tmp = NULL;
        lc_status s = scratch_alloc(op, bytes, &tmp);
        if (!s) s = kcheck(lc_cu_softmax(d->stream, t, lc_array_ptr(o), lc_array_ptr(op->in[0]), lc_rows(o), n, scratch_ptr(tmp)), op);
        lc_array_release(tmp);
        return s;
    }
    case LC_OP_LAYER_NORM: {
        int64_t n = o->shape[o->ndim - 1];
        return kcheck(lc_cu_layer_norm(d->stream, t, lc_array_ptr(o), lc_array_ptr(op->in[0]), lc_cuda_ptr(op->in[1]),
                                       lc_cuda_ptr(op->in[2]), lc_cuda_ptr(op->in[3]), lc_rows(o), n, op->f[0]),
                      op);
    }
    case LC_OP_REDUCE: return run_reduce(d, op);
    case LC_OP_ATTENTION: return run_attention(d, op);
    case LC_OP_SORT: return run_sort(d, op);
    case LC_OP_GATHER: return run_gather(d, op);
    case LC_OP_SCATTER: return run_scatter(d, op);
    case LC_OP_BCE: return run_bce(d, op);
    case LC_OP_CONV1D: case LC_OP_CONV2D: return lc_cuda_conv(d, op);
    default: return run_on_host(index, op);
    }
}

static lc_status cuda_run(int index, const lc_op *op) {
    lc_cuda_dev *d = NULL;
    lc_status s = lc_cuda_dev_get(index, &d);
    if (s) return s;
    switch (op->kind) {
    case LC_OP_COPY: return run_copy(d, op);
    case LC_OP_EMBEDDING: return run_embedding(d, op);
    case LC_OP_LINEAR: case LC_OP_MATMUL: case LC_OP_ADD: case LC_OP_SUB: case LC_OP_MUL: case LC_OP_DIV:
    case LC_OP_UNARY: case LC_OP_PRELU: case LC_OP_SOFTMAX: case LC_OP_LAYER_NORM: case LC_OP_ATTENTION:
        if (!lc_is_float(op->out->dtype)) return lc_error(LC_ERR_SHAPE, "%s: float dtypes only on CUDA", lc_op_name(op->kind));
        if (op->kind == LC_OP_ATTENTION) return run_float_op(index, op); /* mask stays f32 */
        return floats_match_out(op) ? run_float_op(index, op) : run_converted(index, op, run_float_op);
    case LC_OP_REDUCE:
    case LC_OP_SORT:
        if (!lc_is_float(op->in[0]->dtype)) return run_on_host(index, op);
        return run_float_op(index, op);
    case LC_OP_GATHER: case LC_OP_SCATTER: /* the data's own dtype; an integer one goes to the CPU backend */
        if (!lc_is_float(op->out->dtype) || !floats_match_out(op)) return run_on_host(index, op);
        return run_float_op(index, op);
    case LC_OP_BCE: case LC_OP_CONV1D: case LC_OP_CONV2D:
        if (!lc_is_float(op->out->dtype)) return run_on_host(index, op);
        return floats_match_out(op) ? run_float_op(index, op) : run_converted(index, op, run_float_op);
    default: return run_on_host(index, op);
    }
}

const lc_backend lc_cuda_backend = {
    .name = "cuda",
    .device_count = cuda_device_count,
    .describe = cuda_describe,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .upload = cuda_upload,
    .download = cuda_download,
    .synchronize = cuda_synchronize,
    .run = cuda_run,
};

/* ---- public extras (locus/cuda.h) ------------------------------------------------------------- */
struct lc_cuda_event {
    cudaEvent_t ev;
    int device;
};

lc_status lc_cuda_event_record(lc_device dv, lc_cuda_event **out) {
    if (!out || dv.kind != LC_DEVICE_CUDA) return lc_error(LC_ERR_ARG, "lc_cuda_event_record: a CUDA device is needed");
    lc_cuda_dev *d = NULL;
    lc_status s = lc_cuda_dev_get(dv.index, &d);
    if (s) return s;
    lc_cuda_event *e = calloc(1, sizeof *e);
    if (!e) return lc_error(LC_ERR_NOMEM, "out of memory");
    cudaError_t err = cudaEventCreate(&e->ev);
    if (!err) err = cudaEventRecord(e->ev, d->stream);
    if (err) {
        if (e->ev) cudaEventDestroy(e->ev);
        free(e);
        return lc_cuda_fail(err, "cudaEventRecord");
    }
    e->device = dv.index;
    *out = e;
    return LC_OK;
}

lc_status lc_cuda_event_elapsed_ms(lc_cuda_event *start, lc_cuda_event *end, double *ms) {
    if (!start || !end || !ms) return lc_error(LC_ERR_ARG, "lc_cuda_event_elapsed_ms: NULL argument");
    cudaError_t e = cudaEventSynchronize(end->ev);
    float f = 0;
    if (!e) e = cudaEventElapsedTime(&f, start->ev, end->ev);
    if (e) return lc_cuda_fail(e, "cudaEventElapsedTime");
    *ms = f;
    return LC_OK;
}

void lc_cuda_event_free(lc_cuda_event *e) {
    if (!e) return;
    cudaEventDestroy(e->ev);
    free(e);
}

lc_status lc_cuda_device_info_get(int index, lc_cuda_device_info *out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_cuda_device_info_get: NULL argument");
    if (index < 0 || index >= cuda_device_count()) return lc_error(LC_ERR_DEVICE, "cuda:%d: no such device", index);
    struct cudaDeviceProp p;
    cudaError_t e = cudaGetDeviceProperties(&p, index);
    if (e) return lc_cuda_fail(e, "cudaGetDeviceProperties");
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%.127s", p.name);
    out->major = p.major;
    out->minor = p.minor;
    out->multiprocessors = p.multiProcessorCount;
    out->total_memory = p.totalGlobalMem;
    out->l2_bytes = (size_t)p.l2CacheSize;
    int clock_khz = 0, bus_bits = 0;
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, index) == cudaSuccess &&
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, index) == cudaSuccess)
        out->memory_bus_gbps = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
    (void)cudaGetLastError();
    return LC_OK;
}

lc_status lc_cuda_embed_layer_norm(lc_array *word, lc_array *ids, lc_array *pos, lc_array *pos_ids, int64_t pos_offset,
                                   lc_array *type, lc_array *type_ids, lc_array *ln_w, lc_array *ln_b, float eps,
                                   lc_array **out) {
    if (!word || !ids || !out) return lc_error(LC_ERR_ARG, "lc_cuda_embed_layer_norm: NULL argument");
    if (word->device.kind != LC_DEVICE_CUDA) return lc_error(LC_ERR_DEVICE, "lc_cuda_embed_layer_norm: the word table must be on a CUDA device");
    if (word->ndim != 2 || ids->ndim != 2 || !lc_is_int(ids->dtype))
        return lc_error(LC_ERR_SHAPE, "lc_cuda_embed_layer_norm: word table (V, D) and ids (B, T) of i32/i64 expected");
    lc_dtype t = word->dtype;
    int64_t D = word->shape[1], B = ids->shape[0], T = ids->shape[1];
    lc_array *tables[5] = {word, pos, type, ln_w, ln_b};
    for (int i = 0; i < 5; i++) {
        if (!tables[i]) continue;
        if (tables[i]->dtype != t) return lc_error(LC_ERR_SHAPE, "lc_cuda_embed_layer_norm: tables and LayerNorm parameters must share a dtype");
        int64_t last = tables[i]->shape[tables[i]->ndim - 1];
        if (last != D || (i < 3 && tables[i]->ndim != 2) || (i >= 3 && tables[i]->ndim != 1))
            return lc_error(LC_ERR_SHAPE, "lc_cuda_embed_layer_norm: every table must be (rows, %lld) and LayerNorm parameters (%lld)", (long long)D, (long long)D);
    }
    lc_array *id_arrays[3] = {ids, pos_ids, type_ids};
    for (int i = 1; i < 3; i++)
        if (id_arrays[i] && (id_arrays[i]->ndim != 2 || id_arrays[i]->shape[0] != B || id_arrays[i]->shape[1] != T || !lc_is_int(id_arrays[i]->dtype)))
            return lc_error(LC_ERR_SHAPE, "lc_cuda_embed_layer_norm: position and type ids must be (%lld, %lld) integers", (long long)B, (long long)T);
    lc_device dev = word->device;
    lc_cuda_dev *d = NULL;
    lc_status s = lc_cuda_dev_get(dev.index, &d);
    if (s) return s;
    /* everything resident and contiguous on the device; ids as i64 */
    lc_array *held[8] = {0};
    int nheld = 0;
    lc_array *res[8] = {0};
    lc_array *srcs[8] = {word, pos, type, ln_w, ln_b, ids, pos_ids, type_ids};
    for (int i = 0; i < 8 && !s; i++) {
        if (!srcs[i]) continue;
        lc_array *on = NULL, *c = NULL;
        s = lc_array_to(srcs[i], dev, &on);
        if (!s) s = i >= 5 ? lc_astype(on, LC_I64, &c) : lc_contiguous(on, &c);
        lc_array_release(on);
        if (!s) {
            void *p;
            s = lc_buffer_ptr(c->buf, dev, &p);
            held[nheld++] = c;
            res[i] = c;
        }
    }
    lc_array *o = NULL;
    if (!s) {
        int64_t shape[3] = {B, T, D};
        s = lc_array_alloc(t, 3, shape, dev, &o);
    }
    if (!s) {
        lc_cu_embed_args a = {
            .word = lc_array_ptr(res[0]), .pos = lc_cuda_ptr(res[1]), .type = lc_cuda_ptr(res[2]),
            .word_rows = word->shape[0], .pos_rows = pos ? pos->shape[0] : 0, .type_rows = type ? type->shape[0] : 0,
            .word_ids = lc_array_ptr(res[5]), .pos_ids = lc_cuda_ptr(res[6]), .type_ids = lc_cuda_ptr(res[7]),
            .ids_dtype = LC_I64, .pos_offset = pos_offset, .ln_w = lc_cuda_ptr(res[3]), .ln_b = lc_cuda_ptr(res[4]),
            .eps = eps, .batch = B, .seq = T, .d = D};
        if (!pos) a.pos_ids = NULL;
        if (!type) a.type_ids = NULL;
        int e = lc_cu_embed_layer_norm(d->stream, t, lc_array_ptr(o), &a, d->bad_dev);
        if (e) s = lc_error(LC_ERR_DEVICE, "cuda: embedding + layer_norm: %s", cudaGetErrorString((cudaError_t)e));
    }
    for (int i = 0; i < nheld; i++) lc_array_release(held[i]);
    if (s) {
        lc_array_release(o);
        return s;
    }
    *out = o;
    return LC_OK;
}
