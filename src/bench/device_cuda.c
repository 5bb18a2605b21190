/* The benchmark suite's device hooks (see bench_internal.h). With the CUDA backend: device-side
 * timing with CUDA events recorded on the device's compute stream, and the peak of the memory
 * locus allocates from the device's default memory pool (the backend allocates with
 * cudaMallocAsync from that pool). Without it, or for other devices, the hooks say unsupported
 * and the suite times with the host clock after a synchronise. */
#include "bench/bench_internal.h"

#ifdef LOCUS_WITH_CUDA
#include "cuda/cuda_internal.h"

#include <cuda_runtime_api.h>

/* One pair of events per device, made on first use; the suite times one workload at a time. */
static struct {
    bool ready;
    cudaEvent_t start, stop;
} timers[LC_CUDA_MAX_DEVICES];

static lc_status device_of(lc_device d, lc_cuda_dev **dev) {
    if (d.kind != LC_DEVICE_CUDA || d.index < 0 || d.index >= LC_CUDA_MAX_DEVICES)
        return lc_error(LC_ERR_UNSUPPORTED, "bench: no device timer for this device");
    return lc_cuda_dev_get(d.index, dev);
}

lc_status lc_bench_device_timer_start(lc_device d) {
    lc_cuda_dev *dev;
    lc_status s = device_of(d, &dev);
    if (s) return s;
    if (!timers[d.index].ready) {
        if (cudaEventCreate(&timers[d.index].start) != cudaSuccess) return lc_error(LC_ERR_DEVICE, "cudaEventCreate failed");
        if (cudaEventCreate(&timers[d.index].stop) != cudaSuccess) {
            cudaEventDestroy(timers[d.index].start);
            return lc_error(LC_ERR_DEVICE, "cudaEventCreate failed");
        }
        timers[d.index].ready = true;
    }
    cudaError_t e = cudaEventRecord(timers[d.index].start, dev->stream);
    return e == cudaSuccess ? LC_OK : lc_cuda_fail(e, "cudaEventRecord (bench timer start)");
}

lc_status lc_bench_device_timer_stop(lc_device d, double *ms) {
    lc_cuda_dev *dev;
    lc_status s = device_of(d, &dev);
    if (s) return s;
    if (!timers[d.index].ready) return lc_error(LC_ERR_ARG, "bench: device timer stopped before it started");
    cudaError_t e = cudaEventRecord(timers[d.index].stop, dev->stream);
    if (e == cudaSuccess) e = cudaEventSynchronize(timers[d.index].stop);
    float t = 0;
    if (e == cudaSuccess) e = cudaEventElapsedTime(&t, timers[d.index].start, timers[d.index].stop);
    if (e != cudaSuccess) return lc_cuda_fail(e, "bench timer (CUDA events)");
    *ms = (double)t;
    return LC_OK;
}

lc_status lc_bench_device_memory(lc_device d, bool reset_peak, double *peak_bytes) {
    lc_cuda_dev *dev;
    lc_status s = device_of(d, &dev);
    if (s) return s;
    cudaMemPool_t pool;
    cudaError_t e = cudaDeviceGetDefaultMemPool(&pool, d.index);
    if (e != cudaSuccess) return lc_cuda_fail(e, "cudaDeviceGetDefaultMemPool");
    if (reset_peak) {
        uint64_t zero = 0;
        e = cudaMemPoolSetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &zero);
        if (e != cudaSuccess) return lc_cuda_fail(e, "cudaMemPoolSetAttribute (reset the used-memory peak)");
    }
    uint64_t high = 0;
    e = cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &high);
    if (e != cudaSuccess) return lc_cuda_fail(e, "cudaMemPoolGetAttribute");
    if (peak_bytes) *peak_bytes = (double)high;
    return LC_OK;
}

#else /* no GPU backend compiled in */

lc_status lc_bench_device_timer_start(lc_device d) {
    (void)d;
    return LC_ERR_UNSUPPORTED;
}
lc_status lc_bench_device_timer_stop(lc_device d, double *ms) {
    (void)d;
    (void)ms;
    return LC_ERR_UNSUPPORTED;
}
lc_status lc_bench_device_memory(lc_device d, bool reset_peak, double *peak_bytes) {
    (void)d;
    (void)reset_peak;
    (void)peak_bytes;
    return LC_ERR_UNSUPPORTED;
}
#endif
