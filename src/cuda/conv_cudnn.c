/* Convolutions through cuDNN, when the build found it (LOCUS_HAVE_CUDNN; CMakeLists.txt).
 *
 * locus's convolutions are NCHW / OIHW cross-correlations with one stride and one padding for
 * both axes, no dilation, no groups (conv1d is the H = KH = 1 case). What cuDNN adds over im2col +
 * one GEMM (gemm.c) is that it never writes the columns (9-11x the input for a 3x3 kernel) and has
 * implicit-GEMM, Winograd and FFT kernels. The bias is added afterwards by the caller, as on the
 * im2col path.
 *
 * Candidates, per shape: the legacy API's algorithm (cudnnFindConvolutionForwardAlgorithmEx times
 * them on the real operands), up to GRAPH_CANDIDATES engine configurations of the graph API (an
 * operation graph of one convolution; heuristic mode A's first suggestions, the engines PyTorch's
 * cuDNN path draws on, several of which the legacy API does not reach) and im2col + GEMM. The first
 * time a shape is met outside a graph capture each is timed on the real operands (a warm-up, then
 * TIME_ROUNDS interleaved calls) and the lowest median is kept; inside a capture, or with
 * LOCUS_CUDA_CONV_TUNE=0, the legacy heuristic's first algorithm is taken. Workspaces come from the
 * device's stream-ordered pool, so every path can be captured into a graph.
 *
 * Arithmetic: the accumulator is f32 for every dtype (f16 / bf16 operands: cuDNN's "pseudo half"
 * configuration). f32 convolutions stay plain f32 (legacy CUDNN_FMA_MATH; graph engines with the
 * tensor-core note are refused) unless the process asked for TF32 (LOCUS_CUDA_MATH=tf32), which
 * PyTorch allows its cuDNN convolutions by default. Engines that down-convert inputs or reduce in
 * reduced precision are refused for every dtype.
 *
 * LOCUS_CUDA_CONV=im2col turns cuDNN off, =cudnn keeps to cuDNN's candidates wherever cuDNN takes
 * the problem (read on every call, for comparisons and tests); LOCUS_CUDA_CONV_LOG=1 prints each
 * shape's timings. */
#include "cuda/cuda_internal.h"

#ifdef LOCUS_HAVE_CUDNN
#include <cudnn.h>

#include <limits.h>
#include <stdatomic.h>

#define CONV_SLOTS 64
#define CONV_WS_MAX ((size_t)256 << 20)
#define GRAPH_CANDIDATES 6
#define TIME_ROUNDS 5
enum { UID_X = 1, UID_W = 2, UID_Y = 3 };
enum { PATH_LEGACY, PATH_GRAPH, PATH_IM2COL };
static const char *const path_names[] = {"cuDNN legacy", "cuDNN graph", "im2col"};

typedef struct conv_key {
    int dtype, tf32, align16, tuned;
    int n, c, h, w, o, kh, kw, stride, pad_h, pad_w;
} conv_key;

typedef struct conv_plan {
    conv_key key;
    bool used;
    int path;
    /* legacy API */
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t f;
    cudnnConvolutionDescriptor_t conv;
    cudnnConvolutionFwdAlgo_t algo;
    size_t ws;
    /* graph API: the execution plan, its engine configuration and the graph's descriptors, kept
     * alive as long as the plan */
    cudnnBackendDescriptor_t eplan, ecfg;
    size_t eplan_ws;
    cudnnBackendDescriptor_t gdesc[6];
    int ngdesc;
} conv_plan;

static cudnnHandle_t handles[LC_CUDA_MAX_DEVICES];
static bool handle_failed[LC_CUDA_MAX_DEVICES];
static conv_plan plans[LC_CUDA_MAX_DEVICES][CONV_SLOTS];
static int plan_next[LC_CUDA_MAX_DEVICES];
static pthread_mutex_t conv_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_llong cudnn_calls;

int64_t lc_cuda_cudnn_conv_count(void) { return (int64_t)atomic_load(&cudnn_calls); }

static char version_buf[32];
static void version_fill(void) {
    size_t v = cudnnGetVersion(); /* major * 10000 + minor * 100 + patch since cuDNN 9 */
    snprintf(version_buf, sizeof version_buf, "%zu.%zu.%zu", v / 10000, v / 100 % 100, v % 100);
}
const char *lc_cudnn_version(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, version_fill);
    return version_buf;
}

static lc_status dnn_fail(cudnnStatus_t st, const char *what) {
    return lc_error(LC_ERR_DEVICE, "cuda: conv (cuDNN): %s: %s", what, cudnnGetErrorString(st));
}

static void plan_destroy(conv_plan *p) {
    if (!p->used) return;
    if (p->x) cudnnDestroyTensorDescriptor(p->x);
    if (p->y) cudnnDestroyTensorDescriptor(p->y);
    if (p->f) cudnnDestroyFilterDescriptor(p->f);
    if (p->conv) cudnnDestroyConvolutionDescriptor(p->conv);
    if (p->eplan) cudnnBackendDestroyDescriptor(p->eplan);
    if (p->ecfg) cudnnBackendDestroyDescriptor(p->ecfg);
    for (int i = 0; i < p->ngdesc; i++) cudnnBackendDestroyDescriptor(p->gdesc[i]);
    memset(p, 0, sizeof *p);
}

static bool tune_enabled(void) { return !lc_cuda_env_zero("LOCUS_CUDA_CONV_TUNE"); }

static cudnnDataType_t dnn_type(int dtype) {
    return dtype == LC_F16 ? CUDNN_DATA_HALF : dtype == LC_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
}

/* Whether a legacy result's math type keeps the asked-for arithmetic: plain f32 must not run in TF32. */
static bool math_ok(const conv_key *k, cudnnMathType_t m) {
    return k->dtype != LC_F32 || k->tf32 || m == CUDNN_FMA_MATH;
}

/* The fastest (Find: measured; else the heuristic's order) algorithm whose workspace fits `ws_max`. */
static int pick(const conv_key *k, const cudnnConvolutionFwdAlgoPerf_t *r, int n, size_t ws_max) {
    for (int i = 0; i < n; i++)
        if (r[i].status == CUDNN_STATUS_SUCCESS && r[i].memory <= ws_max && math_ok(k, r[i].mathType)) return i;
    return -1;
}

static lc_status workspace_alloc(lc_device d, size_t bytes, lc_array **out) {
    *out = NULL;
    if (!bytes) return LC_OK;
    int64_t n = (int64_t)((bytes + 3) / 4);
    return lc_array_alloc(LC_F32, 1, &n, d, out);
}

static lc_status run_legacy(cudnnHandle_t h, const conv_plan *p, const lc_op *op) {
    lc_array *ws = NULL;
    lc_status st = workspace_alloc(op->out->device, p->ws, &ws);
    if (st) return st;
    const float one = 1.0f, zero = 0.0f;
    cudnnStatus_t e = cudnnConvolutionForward(h, &one, p->x, lc_array_ptr(op->in[0]), p->f, lc_array_ptr(op->in[1]), p->conv, p->algo,
                                              ws ? lc_array_ptr(ws) : NULL, p->ws, &zero, p->y, lc_array_ptr(op->out));
    lc_array_release(ws);
    return e ? dnn_fail(e, "cudnnConvolutionForward") : LC_OK;
}

static lc_status run_graph(cudnnHandle_t h, cudnnBackendDescriptor_t eplan, size_t wsbytes, const lc_op *op) {
    lc_array *ws = NULL;
    lc_status st = workspace_alloc(op->out->device, wsbytes, &ws);
    if (st) return st;
    void *ptrs[3] = {lc_array_ptr(op->in[0]), lc_array_ptr(op->in[1]), lc_array_ptr(op->out)};
    void *wsp = ws ? lc_array_ptr(ws) : NULL;
    int64_t uids[3] = {UID_X, UID_W, UID_Y};
    cudnnBackendDescriptor_t vp = NULL;
    cudnnStatus_t e = cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &vp);
    if (!e) e = cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, 3, uids);
    if (!e) e = cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, 3, ptrs);
    if (!e) e = cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &wsp);
    if (!e) e = cudnnBackendFinalize(vp);
    if (!e) e = cudnnBackendExecute(h, eplan, vp);
    if (vp) cudnnBackendDestroyDescriptor(vp);
    lc_array_release(ws);
    return e ? dnn_fail(e, "cudnnBackendExecute") : LC_OK;
}

/* ---- graph API: one convolution's operation graph and its engines' execution plans ------------- */
static cudnnStatus_t backend_tensor(int64_t uid, cudnnDataType_t dt, const int64_t dims[4], int64_t align, cudnnBackendDescriptor_t *out) {
    const int64_t strides[4] = {dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1};
    cudnnStatus_t e = cudnnBackendCreateDescriptor(CUDNN_BACKEND_TENSOR_DESCRIPTOR, out);
    if (!e) e = cudnnBackendSetAttribute(*out, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt);
    if (!e) e = cudnnBackendSetAttribute(*out, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims);
    if (!e) e = cudnnBackendSetAttribute(*out, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides);
    if (!e) e = cudnnBackendSetAttribute(*out, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid);
    if (!e) e = cudnnBackendSetAttribute(*out, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align);
    if (!e) e = cudnnBackendFinalize(*out);
    return e;
}

/* The operation graph of p's convolution (its descriptors kept in p->gdesc), or NULL. */
static cudnnBackendDescriptor_t op_graph(cudnnHandle_t h, conv_plan *p) {
    const conv_key *k = &p->key;
    const cudnnDataType_t dt = dnn_type(k->dtype), ct = CUDNN_DATA_FLOAT;
    const int64_t align = k->align16 ? 16 : (int64_t)lc_dtype_size((lc_dtype)k->dtype);
    const int64_t ho = (k->h + 2 * k->pad_h - k->kh) / k->stride + 1, wo = (k->w + 2 * k->pad_w - k->kw) / k->stride + 1;
    const int64_t xd[4] = {k->n, k->c, k->h, k->w}, wd[4] = {k->o, k->c, k->kh, k->kw}, yd[4] = {k->n, k->o, ho, wo};
    const int64_t sdims = 2, dil[2] = {1, 1}, str[2] = {k->stride, k->stride}, pad[2] = {k->pad_h, k->pad_w};
    const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
    const float alpha = 1.0f, beta = 0.0f;
    cudnnBackendDescriptor_t *d = p->gdesc; /* x, w, y, conv, op, graph */
    cudnnStatus_t e = backend_tensor(UID_X, dt, xd, align, &d[0]);
    p->ngdesc = 1;
    if (!e) e = backend_tensor(UID_W, dt, wd, align, &d[1]), p->ngdesc = 2;
    if (!e) e = backend_tensor(UID_Y, dt, yd, align, &d[2]), p->ngdesc = 3;
    if (!e) e = cudnnBackendCreateDescriptor(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, &d[3]), p->ngdesc = 4;
    if (!e) e = cudnnBackendSetAttribute(d[3], CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &ct);
    if (!e) e = cudnnBackendSetAttribute(d[3], CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode);
    if (!e) e = cudnnBackendSetAttribute(d[3], CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &sdims);
    if (!e) e = cudnnBackendSetAttribute(d[3], CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dil);
    if (!e) e = cudnnBackendSetAttribute(d[3], CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, str);
    if (!e) e = cudnnBackendSetAttribute(d[3], CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pad);
    if (!e) e = cudnnBackendSetAttribute(d[3], CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, pad);
    if (!e) e = cudnnBackendFinalize(d[3]);
    if (!e) e = cudnnBackendCreateDescriptor(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, &d[4]), p->ngdesc = 5;
    if (!e) e = cudnnBackendSetAttribute(d[4], CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &d[0]);
    if (!e) e = cudnnBackendSetAttribute(d[4], CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &d[1]);
    if (!e) e = cudnnBackendSetAttribute(d[4], CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &d[2]);
    if (!e) e = cudnnBackendSetAttribute(d[4], CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &d[3]);
    if (!e) e = cudnnBackendSetAttribute(d[4], CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha);
    if (!e) e = cudnnBackendSetAttribute(d[4], CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta);
    if (!e) e = cudnnBackendFinalize(d[4]);
    if (!e) e = cudnnBackendCreateDescriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, &d[5]), p->ngdesc = 6;
    if (!e) e = cudnnBackendSetAttribute(d[5], CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &d[4]);
    if (!e) e = cudnnBackendSetAttribute(d[5], CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h);
    if (!e) e = cudnnBackendFinalize(d[5]);
    return e ? NULL : d[5];
}

/* Whether an engine configuration keeps the asked-for arithmetic (its engine's numerical notes). */
static bool engine_ok(const conv_key *k, cudnnBackendDescriptor_t cfg) {
    cudnnBackendDescriptor_t eng = NULL;
    int64_t n = 0;
    cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
    bool ok = !cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &eng) &&
              !cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n, &eng) && n == 1 &&
              !cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE, CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &n, notes);
    for (int64_t i = 0; ok && i < n; i++)
        if (notes[i] == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS || notes[i] == CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION ||
            (notes[i] == CUDNN_NUMERICAL_NOTE_TENSOR_CORE && k->dtype == LC_F32 && !k->tf32))
            ok = false;
    if (eng) cudnnBackendDestroyDescriptor(eng);
    return ok;
}

/* Up to GRAPH_CANDIDATES finalized execution plans for p's graph (heuristic mode A's order), each
 * with the engine configuration it was made from (the caller owns both). */
static int graph_plans(cudnnHandle_t h, conv_plan *p, cudnnBackendDescriptor_t *out, cudnnBackendDescriptor_t *out_cfg, size_t *ws) {
    cudnnBackendDescriptor_t g = op_graph(h, p), heur = NULL, cfg[2 * GRAPH_CANDIDATES] = {0};
    if (!g) return 0;
    const cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
    int64_t n = 0;
    int found = 0;
    cudnnStatus_t e = cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, &heur);
    if (!e) e = cudnnBackendSetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &g);
    if (!e) e = cudnnBackendSetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode);
    if (!e) e = cudnnBackendFinalize(heur);
    for (int i = 0; !e && i < 2 * GRAPH_CANDIDATES; i++) e = cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &cfg[i]);
    if (!e) e = cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 2 * GRAPH_CANDIDATES, &n, cfg);
    for (int64_t i = 0; !e && i < n && i < 2 * GRAPH_CANDIDATES && found < GRAPH_CANDIDATES; i++) {
        if (!engine_ok(&p->key, cfg[i])) continue;
        cudnnBackendDescriptor_t plan = NULL;
        int64_t bytes = 0;
        cudnnStatus_t pe = cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &plan);
        if (!pe) pe = cudnnBackendSetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h);
        if (!pe) pe = cudnnBackendSetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfg[i]);
        if (!pe) pe = cudnnBackendFinalize(plan);
        int64_t got = 0;
        if (!pe) pe = cudnnBackendGetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &got, &bytes);
        if (pe || bytes < 0 || (size_t)bytes > CONV_WS_MAX) {
            if (plan) cudnnBackendDestroyDescriptor(plan);
            continue;
        }
        out[found] = plan;
        out_cfg[found] = cfg[i];
        cfg[i] = NULL;
        ws[found++] = (size_t)bytes;
    }
    for (int i = 0; i < 2 * GRAPH_CANDIDATES; i++)
        if (cfg[i]) cudnnBackendDestroyDescriptor(cfg[i]);
    if (heur) cudnnBackendDestroyDescriptor(heur);
    return found;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* One candidate of the timing: the legacy algorithm, a graph plan, or im2col + GEMM. */
typedef struct conv_cand {
    int path;
    cudnnBackendDescriptor_t eplan, ecfg;
    size_t ws;
    float t[TIME_ROUNDS], median;
} conv_cand;

static lc_status run_cand(lc_cuda_dev *dev, cudnnHandle_t h, const conv_plan *p, const conv_cand *c, const lc_op *op,
                          const lc_cu_conv_args *a) {
    if (c->path == PATH_LEGACY) return run_legacy(h, p, op);
    if (c->path == PATH_GRAPH) return run_graph(h, c->eplan, c->ws, op);
    return lc_cuda_conv_im2col(dev, op, a);
}

/* Times the candidates on the real operands (a warm-up call each, then TIME_ROUNDS rounds, the
 * candidates interleaved within a round) and keeps the lowest median in p; candidates that fail
 * are dropped. The graph plans not kept are destroyed. */
static lc_status choose(lc_cuda_dev *dev, cudnnHandle_t h, conv_plan *p, conv_cand *cand, int nc, const lc_op *op,
                        const lc_cu_conv_args *a) {
    cudaEvent_t ev0 = NULL, ev1 = NULL;
    lc_status st = LC_OK;
    bool ok[2 + GRAPH_CANDIDATES];
    if (cudaEventCreate(&ev0) || cudaEventCreate(&ev1)) {
        st = lc_cuda_fail(cudaGetLastError(), "conv timing events");
        goto out;
    }
    for (int i = 0; i < nc; i++) ok[i] = true;
    for (int r = -1; r < TIME_ROUNDS && !st; r++)
        for (int i = 0; i < nc && !st; i++) {
            if (!ok[i]) continue;
            cudaEventRecord(ev0, dev->stream);
            lc_status cs = run_cand(dev, h, p, &cand[i], op, a);
            cudaEventRecord(ev1, dev->stream);
            float ms = 0;
            cudaError_t ce = cudaEventSynchronize(ev1);
            if (!ce) ce = cudaEventElapsedTime(&ms, ev0, ev1);
            if (ce) st = lc_cuda_fail(ce, "conv timing");
            else if (cs) { /* a cuDNN candidate that cannot run: left out (im2col's failure is an error) */
                if (cand[i].path == PATH_IM2COL) st = cs;
                ok[i] = false;
                lc_clear_error();
            } else if (r >= 0) cand[i].t[r] = ms;
        }
    int best = -1;
    for (int i = 0; i < nc && !st; i++) {
        if (!ok[i]) continue;
        qsort(cand[i].t, TIME_ROUNDS, sizeof(float), cmp_float);
        cand[i].median = cand[i].t[TIME_ROUNDS / 2];
        if (best < 0 || cand[i].median < cand[best].median) best = i;
    }
    if (!st && best >= 0) {
        p->path = cand[best].path;
        if (p->path == PATH_GRAPH) p->eplan = cand[best].eplan, p->ecfg = cand[best].ecfg, p->eplan_ws = cand[best].ws;
        if (getenv("LOCUS_CUDA_CONV_LOG")) {
            fprintf(stderr, "locus: conv %s N%d C%d %dx%d O%d k%dx%d s%d p%d:", lc_dtype_name((lc_dtype)p->key.dtype), p->key.n, p->key.c,
                    p->key.h, p->key.w, p->key.o, p->key.kh, p->key.kw, p->key.stride, p->key.pad_h);
            for (int i = 0; i < nc; i++)
                if (ok[i]) fprintf(stderr, " %s%s %.4f ms;", path_names[cand[i].path], i == best ? " (kept)" : "", cand[i].median);
            fprintf(stderr, "\n");
        }
    } else if (!st) {
        p->path = PATH_IM2COL;
    }
out:
    for (int i = 0; i < nc; i++)
        if (cand[i].eplan && cand[i].eplan != p->eplan) {
            cudnnBackendDestroyDescriptor(cand[i].eplan);
            if (cand[i].ecfg) cudnnBackendDestroyDescriptor(cand[i].ecfg);
        }
    if (ev0) cudaEventDestroy(ev0);
    if (ev1) cudaEventDestroy(ev1);
    return st;
}

/* A plan for key k: the legacy descriptors and algorithm, and when tuning, the timed choice among
 * the candidates. Returns NULL with *st == LC_OK when cuDNN cannot take the problem (the caller
 * falls back to im2col). */
static conv_plan *plan_make(lc_cuda_dev *dev, cudnnHandle_t h, const conv_key *k, const lc_op *op, const lc_cu_conv_args *a,
                            bool forced, lc_status *st) {
    *st = LC_OK;
    int di = dev->index;
    conv_plan *p = &plans[di][plan_next[di]];
    plan_next[di] = (plan_next[di] + 1) % CONV_SLOTS;
    plan_destroy(p);
    p->used = true;
    p->key = *k;
    p->path = PATH_LEGACY;
    const cudnnDataType_t dt = dnn_type(k->dtype);
    const int ho = (k->h + 2 * k->pad_h - k->kh) / k->stride + 1, wo = (k->w + 2 * k->pad_w - k->kw) / k->stride + 1;
    cudnnStatus_t e = cudnnCreateTensorDescriptor(&p->x);
    if (!e) e = cudnnCreateTensorDescriptor(&p->y);
    if (!e) e = cudnnCreateFilterDescriptor(&p->f);
    if (!e) e = cudnnCreateConvolutionDescriptor(&p->conv);
    if (!e) e = cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, dt, k->n, k->c, k->h, k->w);
    if (!e) e = cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, dt, k->n, k->o, ho, wo);
    if (!e) e = cudnnSetFilter4dDescriptor(p->f, dt, CUDNN_TENSOR_NCHW, k->o, k->c, k->kh, k->kw);
    if (!e) e = cudnnSetConvolution2dDescriptor(p->conv, k->pad_h, k->pad_w, k->stride, k->stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                                CUDNN_DATA_FLOAT);
    if (!e) e = cudnnSetConvolutionMathType(p->conv, dt != CUDNN_DATA_FLOAT ? CUDNN_TENSOR_OP_MATH : k->tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH);
    int on, oc, oh, ow;
    if (!e) e = cudnnGetConvolution2dForwardOutputDim(p->conv, p->x, p->f, &on, &oc, &oh, &ow);
    if (e || on != k->n || oc != k->o || oh != ho || ow != wo) goto fail;

    /* the legacy heuristic's ranking: the answer inside a capture, and the workspace Find needs */
    cudnnConvolutionFwdAlgoPerf_t r[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    e = cudnnGetConvolutionForwardAlgorithm_v7(h, p->x, p->f, p->conv, p->y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, r);
    if (e) goto fail;
    int best = pick(k, r, n, CONV_WS_MAX);
    if (best < 0) goto fail;
    p->algo = r[best].algo;
    p->ws = r[best].memory;
    cudnnMathType_t math = r[best].mathType;
    if (k->tuned) {
        size_t need = 0;
        for (int i = 0; i < n; i++)
            if (r[i].status == CUDNN_STATUS_SUCCESS && r[i].memory <= CONV_WS_MAX && r[i].memory > need) need = r[i].memory;
        lc_array *ws = NULL;
        *st = workspace_alloc(op->out->device, need, &ws);
        if (*st) goto fail;
        cudnnConvolutionFwdAlgoPerf_t t[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        int nt = 0;
        e = cudnnFindConvolutionForwardAlgorithmEx(h, p->x, lc_array_ptr(op->in[0]), p->f, lc_array_ptr(op->in[1]), p->conv, p->y,
                                                   lc_array_ptr(op->out), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &nt, t,
                                                   ws ? lc_array_ptr(ws) : NULL, need);
        lc_array_release(ws);
        if (e) {
            *st = dnn_fail(e, "timing the algorithms");
            goto fail;
        }
        int tb = pick(k, t, nt, need);
        if (tb >= 0) p->algo = t[tb].algo, p->ws = t[tb].memory, math = t[tb].mathType;
    }
    /* the math type the chosen algorithm was measured or ranked with */
    e = cudnnSetConvolutionMathType(p->conv, math);
    if (e) goto fail;
    if (k->tuned) {
        conv_cand cand[2 + GRAPH_CANDIDATES] = {{.path = PATH_LEGACY}};
        cudnnBackendDescriptor_t ep[GRAPH_CANDIDATES], ec[GRAPH_CANDIDATES];
        size_t ews[GRAPH_CANDIDATES];
        int ng = graph_plans(h, p, ep, ec, ews), nc = 1;
        for (int i = 0; i < ng; i++) cand[nc++] = (conv_cand){.path = PATH_GRAPH, .eplan = ep[i], .ecfg = ec[i], .ws = ews[i]};
        if (!forced) cand[nc++] = (conv_cand){.path = PATH_IM2COL};
        if ((*st = choose(dev, h, p, cand, nc, op, a))) goto fail;
    }
    return p;
fail: /* *st says whether it was an error or a problem cuDNN does not take */
    plan_destroy(p);
    return NULL;
}

bool lc_cuda_conv_cudnn(lc_cuda_dev *dev, const lc_op *op, const lc_cu_conv_args *c, lc_status *st) {
    *st = LC_OK;
    const char *env = getenv("LOCUS_CUDA_CONV");
    if (env && strcmp(env, "im2col") == 0) return false;
    const bool forced = env && strcmp(env, "cudnn") == 0;
    const lc_array *x = op->in[0], *w = op->in[1], *o = op->out;
    const int64_t N = x->shape[0], O = w->shape[0];
    /* cuDNN's 4-d descriptors count elements in 32-bit integers */
    const int64_t dims[] = {N, c->C, c->H, c->W, O, c->KH, c->KW, c->stride, c->pad_h, c->pad_w,
                            N * c->C * c->H * c->W, N * O * c->Hout * c->Wout, O * c->C * c->KH * c->KW};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if (dims[i] > INT_MAX) return false;
    const uintptr_t addr = (uintptr_t)lc_array_ptr(x) | (uintptr_t)lc_array_ptr(w) | (uintptr_t)lc_array_ptr(o);
    conv_key k = {.dtype = (int)o->dtype,
                  .tf32 = o->dtype == LC_F32 && lc_cuda_get_math_mode() == LC_CUDA_MATH_TF32,
                  .align16 = (addr & 15) == 0,
                  .n = (int)N, .c = (int)c->C, .h = (int)c->H, .w = (int)c->W, .o = (int)O, .kh = (int)c->KH, .kw = (int)c->KW,
                  .stride = (int)c->stride, .pad_h = (int)c->pad_h, .pad_w = (int)c->pad_w};
    const int di = dev->index;
    pthread_mutex_lock(&conv_lock);
    if (!handles[di]) {
        /* made outside a capture only (creation may allocate and synchronise) */
        if (handle_failed[di] || dev->capturing || cudnnCreate(&handles[di]) != CUDNN_STATUS_SUCCESS) {
            handles[di] = NULL;
            handle_failed[di] = !dev->capturing;
            pthread_mutex_unlock(&conv_lock);
            return false;
        }
    }
    cudnnHandle_t h = handles[di];
    bool handled = false;
    cudnnStatus_t e = cudnnSetStream(h, dev->stream);
    if (e) {
        *st = dnn_fail(e, "cudnnSetStream");
        handled = true;
        goto out;
    }
    conv_plan *p = NULL;
    for (int i = 0; i < CONV_SLOTS && !p; i++) {
        conv_plan *q = &plans[di][i];
        if (!q->used) continue;
        conv_key want = k;
        want.tuned = q->key.tuned; /* a tuned or an untuned plan serves */
        if (memcmp(&q->key, &want, sizeof want) == 0 && (!forced || q->path != PATH_IM2COL)) p = q;
    }
    if (!p) {
        k.tuned = !dev->capturing && tune_enabled();
        p = plan_make(dev, h, &k, op, c, forced, st);
        if (!p) {
            handled = *st != LC_OK;
            goto out;
        }
    }
    if (p->path == PATH_IM2COL) goto out;
    handled = true;
    *st = p->path == PATH_GRAPH ? run_graph(h, p->eplan, p->eplan_ws, op) : run_legacy(h, p, op);
    if (!*st) atomic_fetch_add(&cudnn_calls, 1);
out:
    pthread_mutex_unlock(&conv_lock);
    return handled;
}

#else /* no cuDNN in this build: convolutions take im2col + GEMM */

bool lc_cuda_conv_cudnn(lc_cuda_dev *dev, const lc_op *op, const lc_cu_conv_args *c, lc_status *st) {
    (void)dev, (void)op, (void)c;
    *st = LC_OK;
    return false;
}
int64_t lc_cuda_cudnn_conv_count(void) { return 0; }
const char *lc_cudnn_version(void) { return NULL; }

#endif
