/* Arrays: views of reference-counted buffers with per-device copies (see internal.h). */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

static atomic_ullong stat_h2d_bytes, stat_d2h_bytes, stat_h2d_count, stat_d2h_count;

void lc_transfer_stats_get(lc_transfer_stats *out) {
    out->host_to_device_bytes = atomic_load(&stat_h2d_bytes);
    out->device_to_host_bytes = atomic_load(&stat_d2h_bytes);
    out->host_to_device_copies = atomic_load(&stat_h2d_count);
    out->device_to_host_copies = atomic_load(&stat_d2h_count);
}

static lc_status check_shape(int ndim, const int64_t *shape, lc_dtype t, size_t *nbytes) {
    if (ndim < 0 || ndim > LC_MAX_DIMS) return lc_error(LC_ERR_SHAPE, "array rank %d outside 0..%d", ndim, LC_MAX_DIMS);
    if ((unsigned)t >= LC_DTYPE_COUNT) return lc_error(LC_ERR_ARG, "unknown dtype %d", (int)t);
    size_t n = lc_dtype_size(t);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return lc_error(LC_ERR_SHAPE, "negative dimension %lld", (long long)shape[i]);
        if (!lc_mul_size(n, (size_t)shape[i], &n)) return lc_error(LC_ERR_NOMEM, "array size overflows");
    }
    *nbytes = n;
    return LC_OK;
}

static void set_contiguous_strides(lc_array *a) {
    int64_t s = 1;
    for (int i = a->ndim - 1; i >= 0; i--) {
        a->strides[i] = s;
        s *= a->shape[i];
    }
}

static lc_array *array_struct(lc_dtype t, int ndim, const int64_t *shape, lc_device d, lc_buffer *buf) {
    lc_array *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    atomic_init(&a->refcount, 1);
    a->dtype = t;
    a->ndim = ndim;
    for (int i = 0; i < ndim; i++) a->shape[i] = shape[i];
    set_contiguous_strides(a);
    a->device = d;
    a->buf = buf;
    return a;
}

static void buffer_release(lc_buffer *b) {
    if (!b || atomic_fetch_sub(&b->refcount, 1) != 1) return;
    for (int k = 0; k < LC_DEVICE_KIND_COUNT; k++) {
        if (!b->data[k] || !b->owned[k]) continue;
        const lc_backend *be = lc_backend_for((lc_device_kind)k);
        if (be) be->free(b->device_index[k], b->data[k], b->nbytes);
    }
    if (b->release) b->release(b->release_ctx);
    free(b);
}

lc_status lc_array_alloc(lc_dtype t, int ndim, const int64_t *shape, lc_device d, lc_array **out) {
    size_t nbytes;
    lc_status s = check_shape(ndim, shape, t, &nbytes);
    if (s) return s;
    const lc_backend *be = lc_backend_for(d.kind);
    if (!be) return lc_error(LC_ERR_DEVICE, "device kind %d is not compiled into this build", (int)d.kind);
    lc_buffer *b = calloc(1, sizeof *b);
    if (!b) return lc_error(LC_ERR_NOMEM, "out of memory");
    atomic_init(&b->refcount, 1);
    b->nbytes = nbytes;
    void *p = NULL;
    s = be->alloc(d.index, nbytes ? nbytes : 1, &p);
    if (s) {
        free(b);
        return s;
    }
    b->data[d.kind] = p;
    b->device_index[d.kind] = d.index;
    b->owned[d.kind] = true;
    lc_array *a = array_struct(t, ndim, shape, d, b);
    if (!a) {
        buffer_release(b);
        return lc_error(LC_ERR_NOMEM, "out of memory");
    }
    *out = a;
    return LC_OK;
}

lc_status lc_array_empty(lc_dtype t, int ndim, const int64_t *shape, lc_device d, lc_array **out) {
    if (!out || (ndim > 0 && !shape)) return lc_error(LC_ERR_ARG, "lc_array_empty: NULL argument");
    if (!lc_device_available(d)) return lc_error(LC_ERR_DEVICE, "device is not available");
    return lc_array_alloc(t, ndim, shape, d, out);
}

lc_status lc_array_zeros(lc_dtype t, int ndim, const int64_t *shape, lc_device d, lc_array **out) {
    lc_array *host = NULL;
    lc_status s = lc_array_empty(t, ndim, shape, LC_CPU, &host);
    if (s) return s;
    memset(host->buf->data[LC_DEVICE_CPU], 0, host->buf->nbytes);
    if (d.kind == LC_DEVICE_CPU) {
        *out = host;
        return LC_OK;
    }
    s = lc_array_to(host, d, out);
    lc_array_release(host);
    return s;
}

lc_status lc_array_from_data(lc_dtype t, int ndim, const int64_t *shape, const void *data, lc_array **out) {
    if (!out || (!data && ndim > 0) || (ndim > 0 && !shape)) return lc_error(LC_ERR_ARG, "lc_array_from_data: NULL argument");
    lc_array *a = NULL;
    lc_status s = lc_array_alloc(t, ndim, shape, LC_CPU, &a);
    if (s) return s;
    if (a->buf->nbytes) memcpy(a->buf->data[LC_DEVICE_CPU], data, a->buf->nbytes);
    *out = a;
    return LC_OK;
}

lc_status lc_array_wrap(lc_dtype t, int ndim, const int64_t *shape, void *data, void (*release)(void *ctx),
                        void *ctx, lc_array **out) {
    if (!out || (ndim > 0 && !shape)) return lc_error(LC_ERR_ARG, "lc_array_wrap: NULL argument");
    size_t nbytes;
    lc_status s = check_shape(ndim, shape, t, &nbytes);
    if (s) return s;
    if (!data && nbytes) return lc_error(LC_ERR_ARG, "lc_array_wrap: NULL data");
    lc_buffer *b = calloc(1, sizeof *b);
    if (!b) return lc_error(LC_ERR_NOMEM, "out of memory");
    atomic_init(&b->refcount, 1);
    b->nbytes = nbytes;
    b->data[LC_DEVICE_CPU] = data;
    b->release = release;
    b->release_ctx = ctx;
    lc_array *a = array_struct(t, ndim, shape, LC_CPU, b);
    if (!a) {
        free(b);
        return lc_error(LC_ERR_NOMEM, "out of memory");
    }
    *out = a;
    return LC_OK;
}

void lc_array_retain(lc_array *a) {
    if (a) atomic_fetch_add(&a->refcount, 1);
}

void lc_array_release(lc_array *a) {
    if (!a || atomic_fetch_sub(&a->refcount, 1) != 1) return;
    buffer_release(a->buf);
    free(a);
}

int lc_array_ndim(const lc_array *a) { return a->ndim; }
int64_t lc_array_dim(const lc_array *a, int axis) {
    if (axis < 0) axis += a->ndim;
    return (axis >= 0 && axis < a->ndim) ? a->shape[axis] : 0;
}
const int64_t *lc_array_shape(const lc_array *a) { return a->shape; }
const int64_t *lc_array_strides(const lc_array *a) { return a->strides; }
int64_t lc_array_numel(const lc_array *a) {
    int64_t n = 1;
    for (int i = 0; i < a->ndim; i++) n *= a->shape[i];
    return n;
}
size_t lc_array_nbytes(const lc_array *a) { return (size_t)lc_array_numel(a) * lc_dtype_size(a->dtype); }
lc_dtype lc_array_dtype(const lc_array *a) { return a->dtype; }
lc_device lc_array_device(const lc_array *a) { return a->device; }

bool lc_array_is_contiguous(const lc_array *a) {
    int64_t s = 1;
    for (int i = a->ndim - 1; i >= 0; i--) {
        if (a->shape[i] != 1 && a->strides[i] != s) return false;
        s *= a->shape[i];
    }
    return true;
}

lc_status lc_buffer_ptr(lc_buffer *b, lc_device d, void **ptr) {
    if (b->data[d.kind]) {
        *ptr = b->data[d.kind];
        return LC_OK;
    }
    const lc_backend *dst_be = lc_backend_for(d.kind);
    if (!dst_be) return lc_error(LC_ERR_DEVICE, "device kind %d is not compiled into this build", (int)d.kind);
    /* Find a source copy: prefer the host. */
    int src = b->data[LC_DEVICE_CPU] ? LC_DEVICE_CPU : -1;
    for (int k = 0; src < 0 && k < LC_DEVICE_KIND_COUNT; k++)
        if (b->data[k]) src = k;
    if (src < 0) return lc_error(LC_ERR_INTERNAL, "buffer has no copy on any device");
    void *p = NULL;
    lc_status s = dst_be->alloc(d.index, b->nbytes ? b->nbytes : 1, &p);
    if (s) return s;
    if (d.kind == LC_DEVICE_CPU) {
        const lc_backend *src_be = lc_backend_for((lc_device_kind)src);
        s = src_be->download(b->device_index[src], p, b->data[src], b->nbytes);
        atomic_fetch_add(&stat_d2h_bytes, b->nbytes);
        atomic_fetch_add(&stat_d2h_count, 1);
    } else if (src == LC_DEVICE_CPU) {
        s = dst_be->upload(d.index, p, b->data[LC_DEVICE_CPU], b->nbytes);
        atomic_fetch_add(&stat_h2d_bytes, b->nbytes);
        atomic_fetch_add(&stat_h2d_count, 1);
    } else {
        s = lc_error(LC_ERR_UNSUPPORTED, "device-to-device copies between kinds are not supported");
    }
    if (s) {
        dst_be->free(d.index, p, b->nbytes);
        return s;
    }
    b->data[d.kind] = p;
    b->device_index[d.kind] = d.index;
    b->owned[d.kind] = true;
    *ptr = p;
    return LC_OK;
}

void *lc_array_ptr(const lc_array *a) {
    char *base = a->buf->data[a->device.kind];
    return base ? base + a->offset * (int64_t)lc_dtype_size(a->dtype) : NULL;
}

lc_status lc_array_host_data(lc_array *a, void **data) {
    if (!a || !data) return lc_error(LC_ERR_ARG, "lc_array_host_data: NULL argument");
    if (!lc_array_is_contiguous(a)) return lc_error(LC_ERR_ARG, "lc_array_host_data: array is not contiguous");
    if (a->device.kind != LC_DEVICE_CPU) {
        lc_status s = lc_synchronize(a->device);
        if (s) return s;
    }
    void *p;
    lc_status s = lc_buffer_ptr(a->buf, LC_CPU, &p);
    if (s) return s;
    *data = (char *)p + a->offset * (int64_t)lc_dtype_size(a->dtype);
    return LC_OK;
}

/* A view with the same buffer. */
static lc_status make_view(lc_array *a, lc_array **out) {
    lc_array *v = malloc(sizeof *v);
    if (!v) return lc_error(LC_ERR_NOMEM, "out of memory");
    memcpy(v, a, sizeof *v);
    atomic_init(&v->refcount, 1);
    atomic_fetch_add(&a->buf->refcount, 1);
    *out = v;
    return LC_OK;
}

lc_status lc_array_to(lc_array *a, lc_device d, lc_array **out) {
    if (!a || !out) return lc_error(LC_ERR_ARG, "lc_array_to: NULL argument");
    if (!lc_device_available(d)) return lc_error(LC_ERR_DEVICE, "device is not available");
    if (a->device.kind == d.kind && a->device.index == d.index) {
        lc_array_retain(a);
        *out = a;
        return LC_OK;
    }
    if (a->device.kind != LC_DEVICE_CPU) {
        lc_status s = lc_synchronize(a->device);
        if (s) return s;
    }
    void *p;
    lc_status s = lc_buffer_ptr(a->buf, d, &p); /* counted copy, kept on the buffer */
    if (s) return s;
    s = make_view(a, out);
    if (s) return s;
    (*out)->device = d;
    return LC_OK;
}

lc_status lc_array_read_f32(lc_array *a, float *dst, size_t n) {
    if (!a || !dst) return lc_error(LC_ERR_ARG, "lc_array_read_f32: NULL argument");
    if ((int64_t)n != lc_array_numel(a)) return lc_error(LC_ERR_SHAPE, "lc_array_read_f32: %zu elements asked, array has %lld", n, (long long)lc_array_numel(a));
    lc_array *c = NULL;
    lc_status s = lc_astype(a, LC_F32, &c);
    if (s) return s;
    void *p;
    s = lc_array_host_data(c, &p);
    if (!s) memcpy(dst, p, n * sizeof(float));
    lc_array_release(c);
    return s;
}

lc_status lc_array_read_i64(lc_array *a, int64_t *dst, size_t n) {
    if (!a || !dst) return lc_error(LC_ERR_ARG, "lc_array_read_i64: NULL argument");
    if ((int64_t)n != lc_array_numel(a)) return lc_error(LC_ERR_SHAPE, "lc_array_read_i64: size mismatch");
    lc_array *c = NULL;
    lc_status s = lc_astype(a, LC_I64, &c);
    if (s) return s;
    void *p;
    s = lc_array_host_data(c, &p);
    if (!s) memcpy(dst, p, n * sizeof(int64_t));
    lc_array_release(c);
    return s;
}

lc_status lc_contiguous(lc_array *a, lc_array **out) {
    if (!a || !out) return lc_error(LC_ERR_ARG, "lc_contiguous: NULL argument");
    if (lc_array_is_contiguous(a)) {
        lc_array_retain(a);
        *out = a;
        return LC_OK;
    }
    return lc_astype(a, a->dtype, out);
}

lc_status lc_astype(lc_array *a, lc_dtype t, lc_array **out) {
    if (!a || !out) return lc_error(LC_ERR_ARG, "lc_astype: NULL argument");
    if (a->dtype == t && lc_array_is_contiguous(a)) {
        lc_array_retain(a);
        *out = a;
        return LC_OK;
    }
    lc_array *o = NULL;
    lc_status s = lc_array_alloc(t, a->ndim, a->shape, a->device, &o);
    if (s) return s;
    lc_op op = {.kind = LC_OP_COPY, .in = {a}, .out = o};
    s = lc_op_run(&op);
    if (s) {
        lc_array_release(o);
        return s;
    }
    *out = o;
    return LC_OK;
}

lc_status lc_reshape(lc_array *a, int ndim, const int64_t *shape, lc_array **out) {
    if (!a || !out || (ndim > 0 && !shape)) return lc_error(LC_ERR_ARG, "lc_reshape: NULL argument");
    if (ndim < 0 || ndim > LC_MAX_DIMS) return lc_error(LC_ERR_SHAPE, "lc_reshape: rank %d", ndim);
    int64_t dims[LC_MAX_DIMS], known = 1, n = lc_array_numel(a);
    int infer = -1;
    for (int i = 0; i < ndim; i++) {
        dims[i] = shape[i];
        if (dims[i] == -1) {
            if (infer >= 0) return lc_error(LC_ERR_SHAPE, "lc_reshape: more than one -1");
            infer = i;
        } else if (dims[i] < 0) {
            return lc_error(LC_ERR_SHAPE, "lc_reshape: negative dimension");
        } else {
            known *= dims[i];
        }
    }
    if (infer >= 0) {
        if (known == 0 || n % known) return lc_error(LC_ERR_SHAPE, "lc_reshape: cannot infer dimension");
        dims[infer] = n / known;
        known = n;
    }
    if (known != n) return lc_error(LC_ERR_SHAPE, "lc_reshape: %lld elements cannot take the new shape", (long long)n);
    lc_array *src = NULL;
    lc_status s = lc_contiguous(a, &src);
    if (s) return s;
    lc_array *v = NULL;
    s = make_view(src, &v);
    lc_array_release(src);
    if (s) return s;
    v->ndim = ndim;
    for (int i = 0; i < ndim; i++) v->shape[i] = dims[i];
    set_contiguous_strides(v);
    *out = v;
    return LC_OK;
}

lc_status lc_permute(lc_array *a, const int *axes, lc_array **out) {
    if (!a || !out || (!axes && a->ndim)) return lc_error(LC_ERR_ARG, "lc_permute: NULL argument");
    bool seen[LC_MAX_DIMS] = {0};
    for (int i = 0; i < a->ndim; i++) {
        if (axes[i] < 0 || axes[i] >= a->ndim || seen[axes[i]]) return lc_error(LC_ERR_SHAPE, "lc_permute: axes are not a permutation");
        seen[axes[i]] = true;
    }
    lc_array *v = NULL;
    lc_status s = make_view(a, &v);
    if (s) return s;
    for (int i = 0; i < a->ndim; i++) {
        v->shape[i] = a->shape[axes[i]];
        v->strides[i] = a->strides[axes[i]];
    }
    *out = v;
    return LC_OK;
}

lc_status lc_transpose(lc_array *a, int axis0, int axis1, lc_array **out) {
    if (!a) return lc_error(LC_ERR_ARG, "lc_transpose: NULL argument");
    if (axis0 < 0) axis0 += a->ndim;
    if (axis1 < 0) axis1 += a->ndim;
    if (axis0 < 0 || axis1 < 0 || axis0 >= a->ndim || axis1 >= a->ndim) return lc_error(LC_ERR_SHAPE, "lc_transpose: axis out of range");
    int axes[LC_MAX_DIMS];
    for (int i = 0; i < a->ndim; i++) axes[i] = i;
    axes[axis0] = axis1;
    axes[axis1] = axis0;
    return lc_permute(a, axes, out);
}

lc_status lc_slice(lc_array *a, int axis, int64_t start, int64_t stop, lc_array **out) {
    if (!a || !out) return lc_error(LC_ERR_ARG, "lc_slice: NULL argument");
    if (axis < 0) axis += a->ndim;
    if (axis < 0 || axis >= a->ndim) return lc_error(LC_ERR_SHAPE, "lc_slice: axis out of range");
    int64_t n = a->shape[axis];
    if (start < 0) start += n;
    if (stop < 0) stop += n;
    if (start < 0 || stop > n || start > stop) return lc_error(LC_ERR_SHAPE, "lc_slice: [%lld, %lld) outside [0, %lld)", (long long)start, (long long)stop, (long long)n);
    lc_array *v = NULL;
    lc_status s = make_view(a, &v);
    if (s) return s;
    v->offset += start * a->strides[axis];
    v->shape[axis] = stop - start;
    *out = v;
    return LC_OK;
}

/* Broadcast view used by binary ops: `a` seen with `shape` (right-aligned, stride 0 where 1). */
lc_status lc_broadcast_view(lc_array *a, int ndim, const int64_t *shape, lc_array **out) {
    lc_array *v = NULL;
    lc_status s = make_view(a, &v);
    if (s) return s;
    int off = ndim - a->ndim;
    for (int i = ndim - 1; i >= 0; i--) {
        int j = i - off;
        int64_t dim = j >= 0 ? a->shape[j] : 1, st = j >= 0 ? a->strides[j] : 0;
        if (dim == shape[i]) {
            v->strides[i] = dim == 1 ? 0 : st;
        } else if (dim == 1) {
            v->strides[i] = 0;
        } else {
            lc_array_release(v);
            return lc_error(LC_ERR_SHAPE, "shapes do not broadcast");
        }
        v->shape[i] = shape[i];
    }
    v->ndim = ndim;
    *out = v;
    return LC_OK;
}

lc_status lc_strided_view(lc_array *a, int ndim, const int64_t *shape, const int64_t *strides, int64_t offset, lc_array **out) {
    /* The caller guarantees the view stays inside the buffer; checked here all the same. */
    int64_t lo = a->offset + offset, hi = lo;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 0) hi = lo - 1;
        else if (strides[i] >= 0) hi += (shape[i] - 1) * strides[i];
        else lo += (shape[i] - 1) * strides[i];
    }
    if (ndim < 0 || ndim > LC_MAX_DIMS || lo < 0 || (hi >= lo && (size_t)(hi + 1) * lc_dtype_size(a->dtype) > a->buf->nbytes))
        return lc_error(LC_ERR_SHAPE, "strided view outside its buffer");
    lc_array *v = NULL;
    lc_status s = make_view(a, &v);
    if (s) return s;
    v->ndim = ndim;
    for (int i = 0; i < ndim; i++) v->shape[i] = shape[i], v->strides[i] = strides[i];
    v->offset = a->offset + offset;
    *out = v;
    return LC_OK;
}

