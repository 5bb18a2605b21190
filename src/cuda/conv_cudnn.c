/* Convolutions through cuDNN, when the build found it (LOCUS_HAVE_CUDNN; CMakeLists.txt).
 *
 * locus's convolutions are NCHW / OIHW cross-correlations with one stride and one padding for
 * both axes, no dilation, no groups (conv1d is the H = KH = 1 case). cuDNN's legacy convolution
 * API takes exactly these; what it adds over im2col + one GEMM (gemm.c) is that it never writes the
 * columns (9-11x the input for a 3x3 kernel) and has implicit-GEMM, Winograd and FFT kernels chosen
 * per shape. The bias is added afterwards by the caller, as on the im2col path.
 *
 * Arithmetic: the accumulator is f32 for every dtype (f16 / bf16 operands: cuDNN's "pseudo half"
 * configuration). f32 convolutions use CUDNN_FMA_MATH, plain f32 arithmetic, unless the process
 * asked for TF32 (LOCUS_CUDA_MATH=tf32), which lets cuDNN use TF32 tensor cores as PyTorch does by
 * default (torch.backends.cudnn.allow_tf32). f16 / bf16 use the tensor cores.
 *
 * Algorithm: the first time a shape is met outside a graph capture, cuDNN times its algorithms on
 * the real operands (cudnnFindConvolutionForwardAlgorithmEx, which synchronises) and the fastest whose
 * workspace is at most CONV_WS_MAX is kept per shape; inside a capture, or with
 * LOCUS_CUDA_CONV_TUNE=0, cuDNN's heuristic's first choice is taken instead. The workspace comes
 * from the device's stream-ordered pool, so the call can be captured into a graph.
 *
 * LOCUS_CUDA_CONV=im2col turns this path off (read on every call, for comparisons). */
#include "cuda/cuda_internal.h"

#ifdef LOCUS_HAVE_CUDNN
#include <cudnn.h>

#include <limits.h>
#include <stdatomic.h>

#define CONV_SLOTS 64
#define CONV_WS_MAX ((size_t)256 << 20)

typedef struct conv_key {
    int dtype, tf32, tuned;
    int n, c, h, w, o, kh, kw, stride, pad_h, pad_w;
} conv_key;

typedef struct conv_plan {
    conv_key key;
    bool used;
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t f;
    cudnnConvolutionDescriptor_t conv;
    cudnnConvolutionFwdAlgo_t algo;
    size_t ws;
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
const char *lc_cuda_cudnn_version(void) {
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
    memset(p, 0, sizeof *p);
}

static bool tune_enabled(void) { return !lc_cuda_env_zero("LOCUS_CUDA_CONV_TUNE"); }

/* Whether a result's math type keeps the asked-for arithmetic: plain f32 must not run in TF32. */
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

/* A plan for key k: descriptors, and the algorithm (timed on the operands when allowed). Returns
 * NULL with *st == LC_OK when cuDNN cannot take the problem (the caller falls back to im2col). */
static conv_plan *plan_make(lc_cuda_dev *dev, cudnnHandle_t h, const conv_key *k, const lc_op *op, lc_status *st) {
    *st = LC_OK;
    int di = dev->index;
    conv_plan *p = &plans[di][plan_next[di]];
    plan_next[di] = (plan_next[di] + 1) % CONV_SLOTS;
    plan_destroy(p);
    p->used = true;
    p->key = *k;
    const cudnnDataType_t dt = k->dtype == LC_F16 ? CUDNN_DATA_HALF : k->dtype == LC_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
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
    if (e || on != k->n || oc != k->o || oh != ho || ow != wo) goto unsupported;

    /* the heuristic's ranking: the answer inside a capture, and the workspace the timing needs */
    cudnnConvolutionFwdAlgoPerf_t r[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    e = cudnnGetConvolutionForwardAlgorithm_v7(h, p->x, p->f, p->conv, p->y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, r);
    if (e) goto unsupported;
    int best = pick(k, r, n, CONV_WS_MAX);
    if (best < 0) goto unsupported;
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
    if (e) goto unsupported;
    return p;
unsupported:
    plan_destroy(p);
    return NULL;
fail:
    plan_destroy(p);
    return NULL;
}

bool lc_cuda_conv_cudnn(lc_cuda_dev *dev, const lc_op *op, const lc_cu_conv_args *c, lc_status *st) {
    *st = LC_OK;
    const char *env = getenv("LOCUS_CUDA_CONV");
    if (env && strcmp(env, "im2col") == 0) return false;
    const lc_array *x = op->in[0], *w = op->in[1], *o = op->out;
    const int64_t N = x->shape[0], O = w->shape[0];
    /* cuDNN's 4-d descriptors count elements in 32-bit integers */
    const int64_t dims[] = {N, c->C, c->H, c->W, O, c->KH, c->KW, c->stride, c->pad_h, c->pad_w,
                            N * c->C * c->H * c->W, N * O * c->Hout * c->Wout, O * c->C * c->KH * c->KW};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if (dims[i] > INT_MAX) return false;
    conv_key k = {.dtype = (int)o->dtype,
                  .tf32 = o->dtype == LC_F32 && lc_cuda_get_math_mode() == LC_CUDA_MATH_TF32,
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
        if (memcmp(&q->key, &want, sizeof want) == 0) p = q;
    }
    if (!p) {
        k.tuned = !dev->capturing && tune_enabled();
        p = plan_make(dev, h, &k, op, st);
        if (!p) {
            handled = *st != LC_OK;
            goto out;
        }
    }
    lc_array *ws = NULL;
    *st = workspace_alloc(o->device, p->ws, &ws);
    handled = true;
    if (*st) goto out;
    const float one = 1.0f, zero = 0.0f;
    e = cudnnConvolutionForward(h, &one, p->x, lc_array_ptr(x), p->f, lc_array_ptr(w), p->conv, p->algo, ws ? lc_array_ptr(ws) : NULL,
                                p->ws, &zero, p->y, lc_array_ptr(o));
    lc_array_release(ws);
    if (e) *st = dnn_fail(e, "cudnnConvolutionForward");
    else atomic_fetch_add(&cudnn_calls, 1);
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
const char *lc_cuda_cudnn_version(void) { return NULL; }

#endif
