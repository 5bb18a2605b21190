/* State shared by the CUDA backend's C files: one stream, one cuBLASLt handle and one capture
 * state per device. */
#ifndef LOCUS_CUDA_INTERNAL_H
#define LOCUS_CUDA_INTERNAL_H

#include "core/internal.h"
#include "cuda/kernels.h"
#include "locus/cuda.h"

#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LC_CUDA_MAX_DEVICES 16
/* Most parallel branches a captured forward is split into (graph.c). */
#define LC_CUDA_LANES 4

/* Memory a graph being captured keeps alive: pinned host copies of host data uploaded during the
 * capture, and device allocations freed during the capture that the graph may still read. */
typedef struct lc_cuda_keep {
    void **host_pinned;
    int nhost, caphost;
    void **dev;
    int ndev, capdev;
} lc_cuda_keep;

typedef struct lc_cuda_dev {
    bool ready;
    int index;
    cudaStream_t stream;
    cublasLtHandle_t lt;
    void *workspace;
    size_t workspace_bytes;
    volatile int *bad_host; /* mapped pinned flag: an embedding id was out of range */
    int *bad_dev;
    pthread_mutex_t lock;
    /* capture */
    bool capturing;
    void **cap_allocs; /* allocations made during the capture (graph allocations) */
    int ncap, capcap;
    void **cap_late; /* graph allocations freed during the capture, freed at its end instead */
    int nlate, caplate;
    lc_cuda_keep keep;
    /* Streams and cuBLASLt workspaces of a capture's parallel branches (graph.c), made on first
     * use; lane 0 is the device's own stream and workspace. While a branch is being captured,
     * `stream` and `workspace` above point at its lane's. */
    cudaStream_t lane_stream[LC_CUDA_LANES];
    void *lane_workspace[LC_CUDA_LANES];
} lc_cuda_dev;

/* Whether environment variable `name` is "0": the switches that turn a default behaviour off. */
static inline bool lc_cuda_env_zero(const char *name) {
    const char *e = getenv(name);
    return e && strcmp(e, "0") == 0;
}

/* The state of device `index`, initialised on first use (sets the calling thread's device). */
lc_status lc_cuda_dev_get(int index, lc_cuda_dev **out);
/* Message for a CUDA error, naming what failed. */
lc_status lc_cuda_fail(int err, const char *what);
/* Pointer of an array on its CUDA device (after lc_op_run has made it resident). */
void *lc_cuda_ptr(const lc_array *a);

/* GEMMs (gemm.c). */
lc_status lc_cuda_linear(lc_cuda_dev *dev, const lc_op *op);
lc_status lc_cuda_matmul(lc_cuda_dev *dev, const lc_op *op);
/* CONV1D / CONV2D (gemm.c): cuDNN or im2col + GEMM, whichever the shape's timing chose, then the bias. */
lc_status lc_cuda_conv(lc_cuda_dev *dev, const lc_op *op);
/* The convolution of op without its bias by im2col + GEMM (gemm.c), and through cuDNN
 * (conv_cudnn.c): the latter returns false, with nothing done, when cuDNN is not compiled in, is
 * turned off (LOCUS_CUDA_CONV=im2col), cannot take the problem or was timed slower than im2col for
 * its shape; else true, with the outcome in *st. */
lc_status lc_cuda_conv_im2col(lc_cuda_dev *dev, const lc_op *op, const lc_cu_conv_args *c);
bool lc_cuda_conv_cudnn(lc_cuda_dev *dev, const lc_op *op, const lc_cu_conv_args *c, lc_status *st);

#endif
