/* CUDA graphs: a forward captured once per bucket (input shapes) and replayed.
 *
 * Capture runs the model's ordinary forward function with the device in capture mode
 * (backend.c): allocations become graph memory nodes (cudaMallocAsync on the capturing stream),
 * frees of those allocations become free nodes, frees of older memory are deferred to the
 * graph's destruction (the graph reads that memory on every replay), and host data uploaded
 * during the capture is kept in pinned memory owned by the graph and copied by a memcpy node.
 * The graph is instantiated with auto-free-on-launch, so the output allocations, which the
 * graph does not free, are recycled at the next launch at the same addresses; each replay copies
 * the outputs into fresh arrays for the caller.
 *
 * Batch split: for a model whose inputs and outputs all lead with the batch and whose batch
 * items are independent (lc_cuda_graph_cache_batch_major), a batch can be captured as up to
 * LC_CUDA_LANES forwards of consecutive sub-batches on parallel branches of one graph (each
 * branch captured from its own stream, with its own cuBLASLt workspace). The branches' kernels
 * run concurrently: one branch's kernels fill the multiprocessors that another's leave idle
 * between dependent kernels and in the tails of partial waves. The outputs are concatenated
 * in the copy-out that every replay does anyway. */
#include "cuda/cuda_internal.h"

#include <stdlib.h>
#include <string.h>

#define GRAPH_MAX_IO 8

typedef struct in_key {
    bool present;
    lc_dtype dtype;
    int ndim;
    int64_t shape[LC_MAX_DIMS];
} in_key;

typedef struct bucket {
    in_key key[GRAPH_MAX_IO];
    int parts;                     /* sub-batches captured as parallel branches (1: no split) */
    int64_t rows[LC_CUDA_LANES];   /* batch rows of each part */
    lc_array *in_static[GRAPH_MAX_IO];              /* the graph's inputs (whole batch) */
    lc_array *in_part[LC_CUDA_LANES][GRAPH_MAX_IO]; /* views of each part's rows of them */
    lc_array *out_captured[LC_CUDA_LANES][GRAPH_MAX_IO];
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    lc_cuda_keep keep;
    int64_t uses;
    bool direct; /* capture failed: run the forward directly */
} bucket;

/* A bucket is captured on its second use: shapes met once (the last, ragged batch of a job) cost
 * one ordinary forward instead of a warm-up plus a capture. At most GRAPH_MAX_BUCKETS graphs are
 * kept; further shapes run directly. */
#define GRAPH_MAX_BUCKETS 64

struct lc_cuda_graph_cache {
    lc_device dev;
    int nin, nout;
    bucket **b;
    int nb, cap;
    int64_t replays;
    bool disabled;
    bool explicit_free; /* LOCUS_CUDA_GRAPH_AUTOFREE=0: outputs freed after each copy-out */
    bool batch_major; /* inputs and outputs lead with independent batch items: may be split */
};

lc_status lc_cuda_graph_cache_new(lc_device d, int nin, int nout, lc_cuda_graph_cache **out) {
    if (!out || nin < 0 || nout < 1 || nin > GRAPH_MAX_IO || nout > GRAPH_MAX_IO)
        return lc_error(LC_ERR_ARG, "lc_cuda_graph_cache_new: 0..%d inputs and 1..%d outputs", GRAPH_MAX_IO, GRAPH_MAX_IO);
    if (d.kind != LC_DEVICE_CUDA || !lc_device_available(d)) return lc_error(LC_ERR_DEVICE, "lc_cuda_graph_cache_new: not a CUDA device");
    lc_cuda_graph_cache *c = calloc(1, sizeof *c);
    if (!c) return lc_error(LC_ERR_NOMEM, "out of memory");
    c->dev = d;
    c->nin = nin;
    c->nout = nout;
    c->disabled = lc_cuda_env_zero("LOCUS_CUDA_GRAPHS");
    c->explicit_free = lc_cuda_env_zero("LOCUS_CUDA_GRAPH_AUTOFREE");
    *out = c;
    return LC_OK;
}

static void keep_free(lc_cuda_dev *d, lc_cuda_keep *k) {
    for (int i = 0; i < k->ndev; i++) (void)cudaFreeAsync(k->dev[i], d->stream);
    for (int i = 0; i < k->nhost; i++) (void)cudaFreeHost(k->host_pinned[i]);
    free(k->dev);
    free(k->host_pinned);
    memset(k, 0, sizeof *k);
}

static void bucket_free(lc_cuda_dev *d, const lc_cuda_graph_cache *c, bucket *b) {
    if (!b) return;
    (void)cudaStreamSynchronize(d->stream); /* replays in flight still use the graph's memory */
    if (b->exec) cudaGraphExecDestroy(b->exec);
    if (b->graph) cudaGraphDestroy(b->graph);
    for (int i = 0; i < GRAPH_MAX_IO; i++) lc_array_release(b->in_static[i]);
    for (int p = 0; p < LC_CUDA_LANES; p++)
        for (int i = 0; i < GRAPH_MAX_IO; i++) {
            lc_array_release(b->in_part[p][i]);
            if (c->explicit_free && b->out_captured[p][i]) b->out_captured[p][i]->buf->data[LC_DEVICE_CUDA] = NULL; /* freed */
            lc_array_release(b->out_captured[p][i]);
        }
    keep_free(d, &b->keep);
    (void)cudaStreamSynchronize(d->stream);
    (void)cudaGetLastError();
    free(b);
}

void lc_cuda_graph_cache_free(lc_cuda_graph_cache *c) {
    if (!c) return;
    lc_cuda_dev *d = NULL;
    if (lc_cuda_dev_get(c->dev.index, &d) == LC_OK)
        for (int i = 0; i < c->nb; i++) bucket_free(d, c, c->b[i]);
    free(c->b);
    free(c);
}

int lc_cuda_graph_cache_size(const lc_cuda_graph_cache *c) {
    int n = 0;
    for (int i = 0; c && i < c->nb; i++) n += c->b[i]->exec != NULL;
    return n;
}
int64_t lc_cuda_graph_cache_replays(const lc_cuda_graph_cache *c) { return c ? c->replays : 0; }

static void key_of(lc_array *const *in, int n, in_key *k) {
    memset(k, 0, sizeof(in_key) * GRAPH_MAX_IO);
    for (int i = 0; i < n; i++) {
        if (!in[i]) continue;
        k[i].present = true;
        k[i].dtype = in[i]->dtype;
        k[i].ndim = in[i]->ndim;
        memcpy(k[i].shape, in[i]->shape, sizeof(int64_t) * (size_t)in[i]->ndim);
    }
}

/* dst (contiguous, on the device) = src (any device, any strides, same dtype and shape). */
static lc_status copy_into(lc_cuda_dev *d, lc_array *dst, lc_array *src) {
    lc_array *on = NULL;
    lc_status s = lc_array_to(src, dst->device, &on); /* counted when it comes from the host */
    if (s) return s;
    void *p;
    s = lc_buffer_ptr(on->buf, dst->device, &p);
    if (!s) {
        lc_cu_view dv = {0}, sv = {0};
        dv.ndim = sv.ndim = on->ndim ? on->ndim : 1;
        for (int i = 0; i < on->ndim; i++) {
            dv.shape[i] = sv.shape[i] = on->shape[i];
            dv.strides[i] = dst->strides[i];
            sv.strides[i] = on->strides[i];
        }
        if (!on->ndim) dv.shape[0] = sv.shape[0] = 1, dv.strides[0] = sv.strides[0] = 1;
        int e = lc_cu_copy(d->stream, lc_array_ptr(dst), dst->dtype, &dv, lc_array_ptr(on), on->dtype, &sv);
        if (e) s = lc_cuda_fail(e, "graph input copy");
    }
    lc_array_release(on);
    return s;
}

/* A fresh array holding a copy of a captured output: the parts' outputs (each leading with its
 * rows of the batch) concatenated along the first dimension. */
static lc_status copy_out(lc_cuda_dev *d, lc_array *const *captured, int parts, lc_array **out) {
    int64_t shape[LC_MAX_DIMS];
    memcpy(shape, captured[0]->shape, sizeof(int64_t) * (size_t)captured[0]->ndim);
    for (int p = 1; p < parts; p++) shape[0] += captured[p]->shape[0];
    lc_array *o = NULL;
    lc_status s = lc_array_alloc(captured[0]->dtype, captured[0]->ndim, shape, captured[0]->device, &o);
    if (s) return s;
    char *dst = lc_array_ptr(o);
    for (int p = 0; p < parts && !s; p++) {
        size_t bytes = lc_array_nbytes(captured[p]);
        if (bytes && !lc_array_is_contiguous(captured[p])) {
            s = lc_error(LC_ERR_INTERNAL, "graph output is not contiguous");
            break;
        }
        cudaError_t e = bytes ? cudaMemcpyAsync(dst, lc_array_ptr(captured[p]), bytes, cudaMemcpyDeviceToDevice, d->stream) : cudaSuccess;
        if (e) s = lc_cuda_fail(e, "graph output copy");
        dst += bytes;
    }
    if (s) {
        lc_array_release(o);
        return s;
    }
    *out = o;
    return LC_OK;
}

/* The streams and cuBLASLt workspaces of lanes 1 .. parts-1, made on first use. */
static lc_status lanes_ready(lc_cuda_dev *d, int parts) {
    for (int p = 1; p < parts; p++) {
        cudaError_t e = cudaSuccess;
        if (!d->lane_stream[p]) e = cudaStreamCreateWithFlags(&d->lane_stream[p], cudaStreamNonBlocking);
        if (!e && !d->lane_workspace[p]) e = cudaMalloc(&d->lane_workspace[p], d->workspace_bytes);
        if (e) return lc_cuda_fail(e, "graph branch stream");
    }
    return LC_OK;
}

/* The parts' outputs can be concatenated: each output present in all parts or in none, with one
 * dtype, the part's rows first and the same other dimensions. */
static lc_status check_outputs(const lc_cuda_graph_cache *c, const bucket *b, lc_array *(*outs)[GRAPH_MAX_IO]) {
    if (b->parts == 1) return LC_OK;
    for (int i = 0; i < c->nout; i++)
        for (int p = 0; p < b->parts; p++) {
            const lc_array *x = outs[p][i], *x0 = outs[0][i];
            if (!x != !x0) return lc_error(LC_ERR_INTERNAL, "graph split: output %d present in some parts only", i);
            if (!x) continue;
            bool ok = x->dtype == x0->dtype && x->ndim == x0->ndim && x->ndim >= 1 && x->shape[0] == b->rows[p];
            for (int k = 1; ok && k < x->ndim; k++) ok = x->shape[k] == x0->shape[k];
            if (!ok) return lc_error(LC_ERR_INTERNAL, "graph split: output %d does not lead with the batch", i);
        }
    return LC_OK;
}

static lc_status capture(lc_cuda_graph_cache *c, lc_cuda_dev *d, bucket *b, lc_cuda_forward_fn fn, void *ctx) {
    /* A first run outside the graph (of every part's shape) uploads the weights and plans the
     * GEMMs. */
    lc_status s = lanes_ready(d, b->parts);
    for (int p = 0; p < b->parts && !s; p++) {
        if (p && b->rows[p] == b->rows[p - 1]) continue; /* same shape as the part before */
        lc_array *warm[GRAPH_MAX_IO] = {0};
        s = fn(ctx, b->in_part[p], warm);
        for (int i = 0; i < c->nout; i++) lc_array_release(warm[i]);
    }
    if (s) return s;
    cudaError_t e = cudaStreamSynchronize(d->stream);
    if (e) return lc_cuda_fail(e, "synchronize before capture");

    cudaEvent_t fork = NULL, join[LC_CUDA_LANES] = {0};
    e = cudaEventCreateWithFlags(&fork, cudaEventDisableTiming);
    for (int p = 1; p < b->parts && !e; p++) e = cudaEventCreateWithFlags(&join[p], cudaEventDisableTiming);
    if (e) {
        s = lc_cuda_fail(e, "graph branch events");
        goto events;
    }
    cudaStream_t main_stream = d->stream;
    void *main_workspace = d->workspace;
    d->capturing = true;
    d->ncap = 0;
    d->nlate = 0;
    memset(&d->keep, 0, sizeof d->keep);
    e = cudaStreamBeginCapture(main_stream, cudaStreamCaptureModeRelaxed);
    if (e) {
        d->capturing = false;
        s = lc_cuda_fail(e, "cudaStreamBeginCapture");
        goto events;
    }
    /* parts 1.. branch off the main stream at the start and join it at the end */
    if (b->parts > 1) e = cudaEventRecord(fork, main_stream);
    for (int p = 1; p < b->parts && !e; p++) e = cudaStreamWaitEvent(d->lane_stream[p], fork, 0);
    if (e) s = lc_cuda_fail(e, "graph branch fork");
    lc_array *outs[LC_CUDA_LANES][GRAPH_MAX_IO] = {{0}};
    for (int p = 0; p < b->parts && !s; p++) {
        d->stream = p ? d->lane_stream[p] : main_stream;
        d->workspace = p ? d->lane_workspace[p] : main_workspace;
        s = fn(ctx, b->in_part[p], outs[p]);
    }
    d->stream = main_stream;
    d->workspace = main_workspace;
    for (int p = 1; p < b->parts; p++) { /* joined even after a failure: the capture must end */
        cudaError_t j = cudaEventRecord(join[p], d->lane_stream[p]);
        if (!j) j = cudaStreamWaitEvent(main_stream, join[p], 0);
        if (j && !s) s = lc_cuda_fail(j, "graph branch join");
    }
    /* frees held back by LOCUS_CUDA_GRAPH_REUSE=0 (backend.c): the graph's last nodes, after the join */
    for (int i = 0; i < d->nlate; i++) {
        cudaError_t f = cudaFreeAsync(d->cap_late[i], main_stream);
        if (f && !s) s = lc_cuda_fail(f, "graph: deferred free");
    }
    d->nlate = 0;
    cudaGraph_t graph = NULL;
    e = cudaStreamEndCapture(main_stream, &graph);
    d->capturing = false;
    d->ncap = 0;
    b->keep = d->keep;
    memset(&d->keep, 0, sizeof d->keep);
    if (!s && e) s = lc_cuda_fail(e, "cudaStreamEndCapture");
    if (!s) s = check_outputs(c, b, outs);
    if (!s) {
        e = cudaGraphInstantiateWithFlags(&b->exec, graph, c->explicit_free ? 0 : cudaGraphInstantiateFlagAutoFreeOnLaunch);
        if (e) s = lc_cuda_fail(e, "cudaGraphInstantiate");
    }
    if (s) {
        /* The memory of a failed capture never existed: drop the outputs without freeing. */
        for (int p = 0; p < b->parts; p++)
            for (int i = 0; i < c->nout; i++)
                if (outs[p][i]) {
                    outs[p][i]->buf->data[LC_DEVICE_CUDA] = NULL;
                    lc_array_release(outs[p][i]);
                }
        if (graph) cudaGraphDestroy(graph);
        (void)cudaGetLastError();
        goto events;
    }
    b->graph = graph;
    for (int p = 0; p < b->parts; p++)
        for (int i = 0; i < c->nout; i++) b->out_captured[p][i] = outs[p][i];
events:
    if (fork) cudaEventDestroy(fork);
    for (int p = 1; p < LC_CUDA_LANES; p++)
        if (join[p]) cudaEventDestroy(join[p]);
    return s;
}

void lc_cuda_graph_cache_batch_major(lc_cuda_graph_cache *c) {
    if (c) c->batch_major = true;
}

/* Parts a batch is split into (their rows, consecutive and as even as can be, into rows[] when
 * more than one): LOCUS_CUDA_GRAPH_SPLIT (1 .. LC_CUDA_LANES) if set, else two for
 * batches of at least 2 x GRAPH_SPLIT_MIN_ROWS items; never more than the batch's rows, and 1
 * unless the cache is batch-major and every input leads with the same batch. Measured on H100s
 * (BENCHMARKS.md, graph replays, settings in separate processes): two halves made BERT-base f16
 * at batch 128 0.7-3.6% faster in three comparisons on three machines (the LayerNorms and attention
 * of one half run beside the other half's GEMMs); at batch 32 they were slower (BERT-base 1.64 ->
 * 1.78 ms, MiniLM-L6 0.361 -> 0.435: GEMMs of 2048 rows lose more than the overlap gains), and
 * ViT-B/16 at batch 64 was level; MiniLM-L6 at 128 and 256, ViT at 128, BERT at 256 and bf16 at
 * 128 were 0.3-2.8% faster split. */
#define GRAPH_SPLIT_MIN_ROWS 64
static int split_parts(const lc_cuda_graph_cache *c, lc_array *const *in, int64_t rows[LC_CUDA_LANES]) {
    if (!c->batch_major) return 1;
    int64_t B = -1;
    for (int i = 0; i < c->nin; i++) {
        if (!in[i]) continue;
        if (in[i]->ndim < 1 || (B >= 0 && in[i]->shape[0] != B)) return 1;
        B = in[i]->shape[0];
    }
    const char *e = getenv("LOCUS_CUDA_GRAPH_SPLIT");
    int P = e && *e ? atoi(e) : B >= 2 * GRAPH_SPLIT_MIN_ROWS ? 2 : 1;
    P = P < 1 ? 1 : P > LC_CUDA_LANES ? LC_CUDA_LANES : P;
    P = B < P ? (B < 1 ? 1 : (int)B) : P;
    if (P > 1) /* rows[] is used only by split buckets */
        for (int p = 0; p < P; p++) rows[p] = B / P + (p < B % P);
    return P;
}

lc_status lc_cuda_graph_run(lc_cuda_graph_cache *c, lc_cuda_forward_fn fn, void *ctx, lc_array *const *in, lc_array **out) {
    if (!c || !fn || (c->nin && !in) || !out) return lc_error(LC_ERR_ARG, "lc_cuda_graph_run: NULL argument");
    for (int i = 0; i < c->nout; i++) out[i] = NULL;
    if (c->disabled) return fn(ctx, in, out);
    lc_cuda_dev *d = NULL;
    lc_status s = lc_cuda_dev_get(c->dev.index, &d);
    if (s) return s;
    if (d->capturing) return fn(ctx, in, out); /* nested: part of an outer capture */
    in_key key[GRAPH_MAX_IO];
    key_of(in, c->nin, key);
    int64_t rows[LC_CUDA_LANES] = {0};
    const int parts = split_parts(c, in, rows);
    bucket *b = NULL;
    for (int i = 0; i < c->nb && !b; i++)
        if (c->b[i]->parts == parts && memcmp(c->b[i]->key, key, sizeof key) == 0) b = c->b[i];
    bool fresh = false;
    if (!b && c->nb >= GRAPH_MAX_BUCKETS) return fn(ctx, in, out);
    if (!b) {
        if (c->nb == c->cap) {
            int nc = c->cap ? c->cap * 2 : 8;
            bucket **nbk = realloc(c->b, sizeof(bucket *) * (size_t)nc);
            if (!nbk) return lc_error(LC_ERR_NOMEM, "out of memory");
            c->b = nbk;
            c->cap = nc;
        }
        b = calloc(1, sizeof *b);
        if (!b) return lc_error(LC_ERR_NOMEM, "out of memory");
        memcpy(b->key, key, sizeof key);
        b->parts = parts;
        memcpy(b->rows, rows, sizeof rows); /* unused when unsplit: the outputs are taken as they are */
        c->b[c->nb++] = b;
    }
    if (b->direct) return fn(ctx, in, out);
    if (++b->uses == 1) return fn(ctx, in, out); /* first use: no capture yet */
    if (!b->exec) {
        for (int i = 0; i < c->nin && !s; i++)
            if (in[i] && !b->in_static[i]) s = lc_array_alloc(in[i]->dtype, in[i]->ndim, in[i]->shape, c->dev, &b->in_static[i]);
        for (int i = 0; i < c->nin && !s; i++) /* each part's rows: views of the whole inputs */
            for (int64_t p = 0, start = 0; p < b->parts && !s && b->in_static[i]; start += b->rows[p], p++) {
                lc_array_release(b->in_part[p][i]);
                b->in_part[p][i] = NULL;
                if (b->parts == 1) {
                    lc_array_retain(b->in_static[i]);
                    b->in_part[p][i] = b->in_static[i];
                } else s = lc_slice(b->in_static[i], 0, start, start + b->rows[p], &b->in_part[p][i]);
            }
        if (s) return s;
        fresh = true;
    }
    for (int i = 0; i < c->nin && !s; i++)
        if (in[i]) s = copy_into(d, b->in_static[i], in[i]);
    if (s) return s;
    if (fresh) {
        s = capture(c, d, b, fn, ctx);
        if (s) {
            /* Not capturable (an op without a CUDA kernel, a read-back): run it directly from now on. */
            b->direct = true;
            lc_clear_error();
            return fn(ctx, in, out);
        }
    }
    cudaError_t e = cudaGraphLaunch(b->exec, d->stream);
    if (e) return lc_cuda_fail(e, "cudaGraphLaunch");
    c->replays++;
    for (int i = 0; i < c->nout && !s; i++)
        if (b->out_captured[0][i]) {
            lc_array *parts_out[LC_CUDA_LANES] = {0};
            for (int p = 0; p < b->parts; p++) parts_out[p] = b->out_captured[p][i];
            s = copy_out(d, parts_out, b->parts, &out[i]);
        }
    if (c->explicit_free) /* without auto-free the graph cannot be launched while they are allocated */
        for (int p = 0; p < b->parts; p++)
            for (int i = 0; i < c->nout; i++)
                if (b->out_captured[p][i]) (void)cudaFreeAsync(b->out_captured[p][i]->buf->data[LC_DEVICE_CUDA], d->stream);
    if (s)
        for (int i = 0; i < c->nout; i++) {
            lc_array_release(out[i]);
            out[i] = NULL;
        }
    return s;
}
