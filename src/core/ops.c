/* The op front end: argument and shape checks, output allocation, dispatch to the backend of the
 * device the op runs on (the first non-CPU device among its inputs, else the CPU). */
#include "core/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


const char *lc_op_name(lc_op_kind k) {
    static const char *names[LC_OP_COUNT] = {
        "copy", "matmul", "linear", "add", "sub", "mul", "div", "unary", "prelu", "softmax", "layer_norm",
        "reduce", "sort", "concat", "embedding", "gather", "scatter", "bce", "conv1d", "conv2d", "attention",
        "fill_random"};
    return (unsigned)k < LC_OP_COUNT ? names[k] : "unknown";
}

static lc_device op_device(lc_array *const *in, int n) {
    for (int i = 0; i < n; i++)
        if (in[i] && in[i]->device.kind != LC_DEVICE_CPU) return in[i]->device;
    return LC_CPU;
}

lc_status lc_op_run(lc_op *op) {
    lc_device d = op->out->device;
    const lc_backend *be = lc_backend_for(d.kind);
    if (!be) return lc_error(LC_ERR_DEVICE, "%s: device not compiled in", lc_op_name(op->kind));
    lc_op local = *op;
    lc_array *moved[4] = {0};
    lc_status s = LC_OK;
    for (int i = 0; i < 4 && !s; i++) {
        lc_array *a = op->in[i];
        if (!a) continue;
        if (a->device.kind != d.kind || a->device.index != d.index) {
            s = lc_array_to(a, d, &moved[i]);
            local.in[i] = moved[i];
        } else {
            void *p;
            s = lc_buffer_ptr(a->buf, d, &p);
        }
    }
    if (!s) s = be->run(d.index, &local);
    for (int i = 0; i < 4; i++) lc_array_release(moved[i]);
    return s;
}

/* Allocate `out` on device d and run; release it on failure. */
static lc_status run_new(lc_op *op, lc_dtype t, int ndim, const int64_t *shape, lc_device d, lc_array **out) {
    lc_array *o = NULL;
    lc_status s = lc_array_alloc(t, ndim, shape, d, &o);
    if (s) return s;
    op->out = o;
    s = lc_op_run(op);
    if (s) {
        lc_array_release(o);
        return s;
    }
    *out = o;
    return LC_OK;
}

#define CHECK_ARGS(name, cond)                                                                  \
    do {                                                                                        \
        if (!(cond)) return lc_error(LC_ERR_ARG, name ": NULL argument");                      \
    } while (0)

static lc_status need_float(const char *name, const lc_array *a) {
    if (!lc_is_float(a->dtype)) return lc_error(LC_ERR_SHAPE, "%s: expects a float array, got %s", name, lc_dtype_name(a->dtype));
    return LC_OK;
}

static int norm_axis(int axis, int ndim) { return axis < 0 ? axis + ndim : axis; }

/* ---- matmul / linear -------------------------------------------------------------------- */
lc_status lc_matmul(lc_array *a, lc_array *b, lc_array **out) {
    CHECK_ARGS("lc_matmul", a && b && out);
    if (a->ndim < 2 || b->ndim < 2) return lc_error(LC_ERR_SHAPE, "lc_matmul: operands need rank >= 2");
    if (a->dtype != b->dtype || need_float("lc_matmul", a)) return lc_error(LC_ERR_SHAPE, "lc_matmul: operands must share a float dtype");
    int64_t m = a->shape[a->ndim - 2], k = a->shape[a->ndim - 1], k2 = b->shape[b->ndim - 2], n = b->shape[b->ndim - 1];
    if (k != k2) return lc_error(LC_ERR_SHAPE, "lc_matmul: inner dimensions %lld and %lld differ", (long long)k, (long long)k2);
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t shape[LC_MAX_DIMS];
    for (int i = 0; i < nd - 2; i++) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        if (da != db && da != 1 && db != 1) return lc_error(LC_ERR_SHAPE, "lc_matmul: batch dimensions do not broadcast");
        shape[i] = da == 1 ? db : da;
    }
    int64_t sa[LC_MAX_DIMS], sb[LC_MAX_DIMS];
    memcpy(sa, shape, sizeof sa);
    memcpy(sb, shape, sizeof sb);
    sa[nd - 2] = m, sa[nd - 1] = k, sb[nd - 2] = k, sb[nd - 1] = n;
    shape[nd - 2] = m, shape[nd - 1] = n;
    lc_array *va = NULL, *vb = NULL;
    lc_status s = lc_broadcast_view(a, nd, sa, &va);
    if (!s) s = lc_broadcast_view(b, nd, sb, &vb);
    if (!s) {
        lc_op op = {.kind = LC_OP_MATMUL, .in = {va, vb}};
        s = run_new(&op, a->dtype, nd, shape, op_device(op.in, 2), out);
    }
    lc_array_release(va);
    lc_array_release(vb);
    return s;
}

/* "(2, 3, 4)" into buf, for shape errors. */
static const char *shape_text(int ndim, const int64_t *shape, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < ndim && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%lld", i ? ", " : "(", (long long)shape[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    if (used < len) snprintf(buf + used, len - used, "%s", ndim ? ")" : "()");
    return buf;
}

/* x W^T + bias [+ residual] [GELU]; residual and GELU are not combined. */
static lc_status linear_impl(const char *name, lc_array *x, lc_array *w, lc_array *bias, lc_array *residual, int fuse_gelu,
                             lc_array **out) {
    if (!(x && w && out)) return lc_error(LC_ERR_ARG, "%s: NULL argument", name);
    if (x->ndim < 1 || w->ndim != 2) return lc_error(LC_ERR_SHAPE, "%s: x needs rank >= 1 and weight rank 2", name);
    int64_t k = x->shape[x->ndim - 1], n = w->shape[0];
    if (w->shape[1] != k) return lc_error(LC_ERR_SHAPE, "%s: x has %lld features, weight expects %lld", name, (long long)k, (long long)w->shape[1]);
    if (bias && (bias->ndim != 1 || bias->shape[0] != n)) return lc_error(LC_ERR_SHAPE, "%s: bias must have shape (%lld)", name, (long long)n);
    if (need_float(name, x) || need_float(name, w)) return LC_ERR_SHAPE;
    int64_t shape[LC_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = n;
    if (residual) {
        bool same = residual->ndim == x->ndim;
        for (int i = 0; same && i < x->ndim; i++) same = residual->shape[i] == shape[i];
        if (!same) {
            char want[160], got[160];
            return lc_error(LC_ERR_SHAPE, "%s: residual has shape %s, the output has shape %s", name,
                            shape_text(residual->ndim, residual->shape, got, sizeof got), shape_text(x->ndim, shape, want, sizeof want));
        }
        if (residual->dtype != x->dtype)
            return lc_error(LC_ERR_SHAPE, "%s: residual is %s, the output is %s", name, lc_dtype_name(residual->dtype), lc_dtype_name(x->dtype));
    }
    lc_array *xc = NULL, *wc = NULL, *bc = NULL, *rc = NULL;
    lc_status s = lc_contiguous(x, &xc);
    if (!s) s = lc_contiguous(w, &wc);
    if (!s && bias) s = lc_contiguous(bias, &bc);
    if (!s && residual) s = lc_contiguous(residual, &rc);
    if (!s) {
        lc_op op = {.kind = LC_OP_LINEAR, .in = {xc, wc, bc, rc}, .i = {fuse_gelu}};
        s = run_new(&op, x->dtype, x->ndim, shape, op_device(op.in, 4), out);
    }
    lc_array_release(xc);
    lc_array_release(wc);
    lc_array_release(bc);
    lc_array_release(rc);
    return s;
}

lc_status lc_linear(lc_array *x, lc_array *w, lc_array *b, lc_array **out) { return linear_impl("lc_linear", x, w, b, NULL, 0, out); }
lc_status lc_linear_gelu(lc_array *x, lc_array *w, lc_array *b, lc_array **out) { return linear_impl("lc_linear_gelu", x, w, b, NULL, 1, out); }
lc_status lc_linear_add(lc_array *x, lc_array *w, lc_array *b, lc_array *residual, lc_array **out) {
    return linear_impl("lc_linear_add", x, w, b, residual, 0, out);
}

/* ---- elementwise ------------------------------------------------------------------------- */
static lc_status binary(lc_op_kind kind, const char *name, lc_array *a, lc_array *b, lc_array **out) {
    if (!a || !b || !out) return lc_error(LC_ERR_ARG, "%s: NULL argument", name);
    if (a->dtype != b->dtype) return lc_error(LC_ERR_SHAPE, "%s: dtypes %s and %s differ", name, lc_dtype_name(a->dtype), lc_dtype_name(b->dtype));
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t shape[LC_MAX_DIMS];
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return lc_error(LC_ERR_SHAPE, "%s: shapes do not broadcast (dimension %d: %lld vs %lld)", name, i, (long long)da, (long long)db);
        shape[i] = da == 1 ? db : da;
    }
    lc_array *va = NULL, *vb = NULL;
    lc_status s = lc_broadcast_view(a, nd, shape, &va);
    if (!s) s = lc_broadcast_view(b, nd, shape, &vb);
    if (!s) {
        lc_op op = {.kind = kind, .in = {va, vb}};
        s = run_new(&op, a->dtype, nd, shape, op_device(op.in, 2), out);
    }
    lc_array_release(va);
    lc_array_release(vb);
    return s;
}

lc_status lc_add(lc_array *a, lc_array *b, lc_array **out) { return binary(LC_OP_ADD, "lc_add", a, b, out); }
lc_status lc_sub(lc_array *a, lc_array *b, lc_array **out) { return binary(LC_OP_SUB, "lc_sub", a, b, out); }
lc_status lc_mul(lc_array *a, lc_array *b, lc_array **out) { return binary(LC_OP_MUL, "lc_mul", a, b, out); }
lc_status lc_div(lc_array *a, lc_array *b, lc_array **out) { return binary(LC_OP_DIV, "lc_div", a, b, out); }

static lc_status unary(lc_unary_kind kind, const char *name, lc_array *a, float p0, float p1, lc_array **out) {
    if (!a || !out) return lc_error(LC_ERR_ARG, "%s: NULL argument", name);
    if (need_float(name, a)) return LC_ERR_SHAPE;
    lc_array *c = NULL;
    lc_status s = lc_contiguous(a, &c);
    if (s) return s;
    lc_op op = {.kind = LC_OP_UNARY, .in = {c}, .i = {kind}, .f = {p0, p1}};
    s = run_new(&op, a->dtype, a->ndim, a->shape, a->device, out);
    lc_array_release(c);
    return s;
}

lc_status lc_scale(lc_array *a, float f, lc_array **out) { return unary(LC_UNARY_SCALE, "lc_scale", a, f, 0, out); }
lc_status lc_gelu(lc_array *a, lc_array **out) { return unary(LC_UNARY_GELU, "lc_gelu", a, 0, 0, out); }
lc_status lc_gelu_tanh(lc_array *a, lc_array **out) { return unary(LC_UNARY_GELU_TANH, "lc_gelu_tanh", a, 0, 0, out); }
lc_status lc_relu(lc_array *a, lc_array **out) { return unary(LC_UNARY_RELU, "lc_relu", a, 0, 0, out); }
lc_status lc_leaky_relu(lc_array *a, float slope, lc_array **out) { return unary(LC_UNARY_LEAKY_RELU, "lc_leaky_relu", a, slope, 0, out); }
lc_status lc_selu(lc_array *a, lc_array **out) { return unary(LC_UNARY_SELU, "lc_selu", a, 0, 0, out); }
lc_status lc_sigmoid(lc_array *a, lc_array **out) { return unary(LC_UNARY_SIGMOID, "lc_sigmoid", a, 0, 0, out); }
lc_status lc_softplus(lc_array *a, float beta, float threshold, lc_array **out) {
    if (beta == 0) return lc_error(LC_ERR_ARG, "lc_softplus: beta must be non-zero");
    return unary(LC_UNARY_SOFTPLUS, "lc_softplus", a, beta, threshold, out);
}
lc_status lc_tanh(lc_array *a, lc_array **out) { return unary(LC_UNARY_TANH, "lc_tanh", a, 0, 0, out); }
lc_status lc_exp(lc_array *a, lc_array **out) { return unary(LC_UNARY_EXP, "lc_exp", a, 0, 0, out); }

lc_status lc_prelu(lc_array *a, lc_array *w, lc_array **out) {
    CHECK_ARGS("lc_prelu", a && w && out);
    if (need_float("lc_prelu", a) || a->dtype != w->dtype) return lc_error(LC_ERR_SHAPE, "lc_prelu: x and weight must share a float dtype");
    int64_t c = a->ndim >= 2 ? a->shape[1] : 1;
    if (w->ndim != 1 || (w->shape[0] != 1 && w->shape[0] != c)) return lc_error(LC_ERR_SHAPE, "lc_prelu: weight must have shape (1) or (%lld)", (long long)c);
    lc_array *ac = NULL, *wc = NULL;
    lc_status s = lc_contiguous(a, &ac);
    if (!s) s = lc_contiguous(w, &wc);
    if (!s) {
        lc_op op = {.kind = LC_OP_PRELU, .in = {ac, wc}};
        s = run_new(&op, a->dtype, a->ndim, a->shape, op_device(op.in, 2), out);
    }
    lc_array_release(ac);
    lc_array_release(wc);
    return s;
}

/* ---- ops on the last axis, with the axis moved there when needed ------------------------- */
typedef lc_status (*last_axis_fn)(lc_array *a, lc_array **out, void *ctx);

static lc_status along_axis(lc_array *a, int axis, last_axis_fn fn, void *ctx, lc_array **out) {
    axis = norm_axis(axis, a->ndim);
    if (axis < 0 || axis >= a->ndim) return lc_error(LC_ERR_SHAPE, "axis out of range for rank %d", a->ndim);
    if (axis == a->ndim - 1) return fn(a, out, ctx);
    lc_array *t = NULL, *r = NULL, *back = NULL;
    lc_status s = lc_transpose(a, axis, -1, &t);
    if (!s) s = fn(t, &r, ctx);
    if (!s) s = lc_transpose(r, axis, -1, &back);
    if (!s) s = lc_contiguous(back, out);
    lc_array_release(t);
    lc_array_release(r);
    lc_array_release(back);
    return s;
}

static lc_status softmax_last(lc_array *a, lc_array **out, void *ctx) {
    lc_array *c = NULL;
    lc_status s = lc_contiguous(a, &c);
    if (s) return s;
    lc_op op = {.kind = LC_OP_SOFTMAX, .in = {c}};
    s = run_new(&op, a->dtype, a->ndim, a->shape, a->device, out);
    lc_array_release(c);
    return s;
}

lc_status lc_softmax(lc_array *a, int axis, lc_array **out) {
    CHECK_ARGS("lc_softmax", a && out);
    if (need_float("lc_softmax", a)) return LC_ERR_SHAPE;
    if (a->ndim == 0) return lc_error(LC_ERR_SHAPE, "lc_softmax: scalar input");
    return along_axis(a, axis, softmax_last, NULL, out);
}

static lc_status sort_last(lc_array *a, lc_array **out, void *ctx) {
    lc_array *c = NULL;
    lc_status s = lc_contiguous(a, &c);
    if (s) return s;
    lc_op op = {.kind = LC_OP_SORT, .in = {c}};
    s = run_new(&op, a->dtype, a->ndim, a->shape, a->device, out);
    lc_array_release(c);
    return s;
}

lc_status lc_sort(lc_array *a, int axis, lc_array **out) {
    CHECK_ARGS("lc_sort", a && out);
    if (a->ndim == 0) return lc_error(LC_ERR_SHAPE, "lc_sort: scalar input");
    if (need_float("lc_sort", a)) return LC_ERR_SHAPE;
    return along_axis(a, axis, sort_last, NULL, out);
}

static lc_status layer_norm_impl(lc_array *x, lc_array *res, lc_array *w, lc_array *b, float eps, lc_array **out) {
    CHECK_ARGS("lc_layer_norm", x && out);
    if (need_float("lc_layer_norm", x) || x->ndim < 1) return lc_error(LC_ERR_SHAPE, "lc_layer_norm: expects a float array of rank >= 1");
    int64_t c = x->shape[x->ndim - 1];
    if ((w && (w->ndim != 1 || w->shape[0] != c)) || (b && (b->ndim != 1 || b->shape[0] != c)))
        return lc_error(LC_ERR_SHAPE, "lc_layer_norm: weight and bias must have shape (%lld)", (long long)c);
    if (res && (res->ndim != x->ndim || memcmp(res->shape, x->shape, sizeof(int64_t) * x->ndim) || res->dtype != x->dtype))
        return lc_error(LC_ERR_SHAPE, "lc_add_layer_norm: residual shape differs from x");
    lc_array *in[4] = {x, res, w, b}, *c4[4] = {0};
    lc_status s = LC_OK;
    for (int i = 0; i < 4 && !s; i++)
        if (in[i]) s = lc_contiguous(in[i], &c4[i]);
    if (!s) {
        lc_op op = {.kind = LC_OP_LAYER_NORM, .in = {c4[0], c4[1], c4[2], c4[3]}, .f = {eps}};
        s = run_new(&op, x->dtype, x->ndim, x->shape, op_device(op.in, 4), out);
    }
    for (int i = 0; i < 4; i++) lc_array_release(c4[i]);
    return s;
}

lc_status lc_layer_norm(lc_array *x, lc_array *w, lc_array *b, float eps, lc_array **out) {
    return layer_norm_impl(x, NULL, w, b, eps, out);
}
lc_status lc_add_layer_norm(lc_array *x, lc_array *r, lc_array *w, lc_array *b, float eps, lc_array **out) {
    CHECK_ARGS("lc_add_layer_norm", r);
    return layer_norm_impl(x, r, w, b, eps, out);
}

/* ---- reductions -------------------------------------------------------------------------- */
static lc_status reduce(lc_reduce_kind kind, const char *name, lc_array *a, int axis, bool keepdim, lc_array **out) {
    if (!a || !out) return lc_error(LC_ERR_ARG, "%s: NULL argument", name);
    if (need_float(name, a)) return LC_ERR_SHAPE;
    axis = norm_axis(axis, a->ndim);
    if (axis < 0 || axis >= a->ndim) return lc_error(LC_ERR_SHAPE, "%s: axis out of range", name);
    if (a->shape[axis] == 0 && (kind == LC_REDUCE_MAX || kind == LC_REDUCE_ARGMAX))
        return lc_error(LC_ERR_SHAPE, "%s: reduction over an empty axis", name);
    int64_t shape[LC_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < a->ndim; i++) {
        if (i == axis) {
            if (keepdim) shape[nd++] = 1;
        } else {
            shape[nd++] = a->shape[i];
        }
    }
    lc_array *c = NULL;
    lc_status s = lc_contiguous(a, &c);
    if (s) return s;
    lc_op op = {.kind = LC_OP_REDUCE, .in = {c}, .i = {kind, axis}};
    s = run_new(&op, kind == LC_REDUCE_ARGMAX ? LC_I64 : a->dtype, nd, shape, a->device, out);
    lc_array_release(c);
    return s;
}

lc_status lc_sum(lc_array *a, int axis, bool keepdim, lc_array **out) { return reduce(LC_REDUCE_SUM, "lc_sum", a, axis, keepdim, out); }
lc_status lc_mean(lc_array *a, int axis, bool keepdim, lc_array **out) { return reduce(LC_REDUCE_MEAN, "lc_mean", a, axis, keepdim, out); }
lc_status lc_max(lc_array *a, int axis, bool keepdim, lc_array **out) { return reduce(LC_REDUCE_MAX, "lc_max", a, axis, keepdim, out); }
lc_status lc_argmax(lc_array *a, int axis, bool keepdim, lc_array **out) { return reduce(LC_REDUCE_ARGMAX, "lc_argmax", a, axis, keepdim, out); }

lc_status lc_sum_all(lc_array *a, lc_array **out) {
    CHECK_ARGS("lc_sum_all", a && out);
    int64_t n = lc_array_numel(a);
    lc_array *flat = NULL;
    lc_status s = lc_reshape(a, 1, &n, &flat);
    if (s) return s;
    s = reduce(LC_REDUCE_SUM, "lc_sum_all", flat, 0, false, out);
    lc_array_release(flat);
    return s;
}

/* ---- indexing ---------------------------------------------------------------------------- */
lc_status lc_concat(int n, lc_array *const *arrays, int axis, lc_array **out) {
    CHECK_ARGS("lc_concat", arrays && out && n > 0);
    lc_array *a0 = arrays[0];
    CHECK_ARGS("lc_concat", a0);
    axis = norm_axis(axis, a0->ndim);
    if (axis < 0 || axis >= a0->ndim) return lc_error(LC_ERR_SHAPE, "lc_concat: axis out of range");
    int64_t shape[LC_MAX_DIMS];
    memcpy(shape, a0->shape, sizeof shape);
    shape[axis] = 0;
    for (int i = 0; i < n; i++) {
        lc_array *a = arrays[i];
        if (!a) return lc_error(LC_ERR_ARG, "lc_concat: NULL array %d", i);
        if (a->ndim != a0->ndim || a->dtype != a0->dtype) return lc_error(LC_ERR_SHAPE, "lc_concat: array %d differs in rank or dtype", i);
        for (int d = 0; d < a->ndim; d++)
            if (d != axis && a->shape[d] != a0->shape[d]) return lc_error(LC_ERR_SHAPE, "lc_concat: array %d differs in dimension %d", i, d);
        shape[axis] += a->shape[axis];
    }
    lc_array *o = NULL;
    lc_status s = lc_array_alloc(a0->dtype, a0->ndim, shape, op_device(arrays, n), &o);
    if (s) return s;
    int64_t at = 0;
    for (int i = 0; i < n && !s; i++) {
        lc_array *dst = NULL;
        s = lc_slice(o, axis, at, at + arrays[i]->shape[axis], &dst);
        if (!s) {
            lc_op op = {.kind = LC_OP_COPY, .in = {arrays[i]}, .out = dst};
            s = lc_op_run(&op);
        }
        at += arrays[i]->shape[axis];
        lc_array_release(dst);
    }
    if (s) {
        lc_array_release(o);
        return s;
    }
    *out = o;
    return LC_OK;
}

lc_status lc_embedding(lc_array *table, lc_array *ids, lc_array **out) {
    CHECK_ARGS("lc_embedding", table && ids && out);
    if (table->ndim != 2) return lc_error(LC_ERR_SHAPE, "lc_embedding: table must have rank 2");
    if (!lc_is_int(ids->dtype)) return lc_error(LC_ERR_SHAPE, "lc_embedding: ids must be i32 or i64");
    if (ids->ndim + 1 > LC_MAX_DIMS) return lc_error(LC_ERR_SHAPE, "lc_embedding: ids rank too high");
    lc_array *tc = NULL, *ic = NULL;
    lc_status s = lc_contiguous(table, &tc);
    if (!s) s = lc_contiguous(ids, &ic);
    if (!s) {
        int64_t shape[LC_MAX_DIMS];
        memcpy(shape, ids->shape, sizeof(int64_t) * ids->ndim);
        shape[ids->ndim] = table->shape[1];
        lc_op op = {.kind = LC_OP_EMBEDDING, .in = {tc, ic}};
        s = run_new(&op, table->dtype, ids->ndim + 1, shape, op_device(op.in, 2), out);
    }
    lc_array_release(tc);
    lc_array_release(ic);
    return s;
}

static lc_status index_args(const char *name, lc_array *a, int *axis, lc_array *index) {
    if (index->dtype != LC_I64 && index->dtype != LC_I32) return lc_error(LC_ERR_SHAPE, "%s: index must be i32 or i64", name);
    if (index->ndim != a->ndim) return lc_error(LC_ERR_SHAPE, "%s: index rank %d differs from input rank %d", name, index->ndim, a->ndim);
    *axis = norm_axis(*axis, a->ndim);
    if (*axis < 0 || *axis >= a->ndim) return lc_error(LC_ERR_SHAPE, "%s: axis out of range", name);
    return LC_OK;
}

lc_status lc_gather(lc_array *a, int axis, lc_array *index, lc_array **out) {
    CHECK_ARGS("lc_gather", a && index && out);
    lc_status s = index_args("lc_gather", a, &axis, index);
    if (s) return s;
    for (int d = 0; d < a->ndim; d++)
        if (d != axis && index->shape[d] > a->shape[d]) return lc_error(LC_ERR_SHAPE, "lc_gather: index dimension %d exceeds input", d);
    lc_array *ac = NULL, *ic = NULL;
    s = lc_contiguous(a, &ac);
    if (!s) s = lc_astype(index, LC_I64, &ic);
    if (!s) {
        lc_op op = {.kind = LC_OP_GATHER, .in = {ac, ic}, .i = {axis}};
        s = run_new(&op, a->dtype, index->ndim, index->shape, op_device(op.in, 2), out);
    }
    lc_array_release(ac);
    lc_array_release(ic);
    return s;
}

lc_status lc_scatter(lc_array *a, int axis, lc_array *index, lc_array *src, lc_array **out) {
    CHECK_ARGS("lc_scatter", a && index && src && out);
    lc_status s = index_args("lc_scatter", a, &axis, index);
    if (s) return s;
    if (src->dtype != a->dtype || src->ndim != a->ndim) return lc_error(LC_ERR_SHAPE, "lc_scatter: src must match the input's dtype and rank");
    for (int d = 0; d < a->ndim; d++) {
        if (index->shape[d] > src->shape[d]) return lc_error(LC_ERR_SHAPE, "lc_scatter: index dimension %d exceeds src", d);
        if (d != axis && index->shape[d] > a->shape[d]) return lc_error(LC_ERR_SHAPE, "lc_scatter: index dimension %d exceeds input", d);
    }
    lc_array *ac = NULL, *ic = NULL, *sc = NULL;
    s = lc_contiguous(a, &ac);
    if (!s) s = lc_astype(index, LC_I64, &ic);
    if (!s) s = lc_contiguous(src, &sc);
    if (!s) {
        lc_op op = {.kind = LC_OP_SCATTER, .in = {ac, ic, sc}, .i = {axis}};
        s = run_new(&op, a->dtype, a->ndim, a->shape, op_device(op.in, 3), out);
    }
    lc_array_release(ac);
    lc_array_release(ic);
    lc_array_release(sc);
    return s;
}

lc_status lc_bce(lc_array *p, lc_array *y, lc_array **out) {
    CHECK_ARGS("lc_bce", p && y && out);
    if (need_float("lc_bce", p) || p->dtype != y->dtype || p->ndim != y->ndim ||
        memcmp(p->shape, y->shape, sizeof(int64_t) * p->ndim))
        return lc_error(LC_ERR_SHAPE, "lc_bce: predictions and targets must share shape and float dtype");
    lc_array *pc = NULL, *yc = NULL;
    lc_status s = lc_contiguous(p, &pc);
    if (!s) s = lc_contiguous(y, &yc);
    if (!s) {
        lc_op op = {.kind = LC_OP_BCE, .in = {pc, yc}};
        s = run_new(&op, p->dtype, 0, NULL, op_device(op.in, 2), out);
    }
    lc_array_release(pc);
    lc_array_release(yc);
    return s;
}

static lc_status conv_impl(lc_op_kind kind, int sp, lc_array *x, lc_array *w, lc_array *bias, int stride, int padding, lc_array **out) {
    const char *name = sp == 1 ? "lc_conv1d" : "lc_conv2d";
    if (!x || !w || !out) return lc_error(LC_ERR_ARG, "%s: NULL argument", name);
    if (x->ndim != 2 + sp || w->ndim != 2 + sp) return lc_error(LC_ERR_SHAPE, "%s: x and weight need rank %d", name, 2 + sp);
    if (need_float(name, x) || w->dtype != x->dtype) return lc_error(LC_ERR_SHAPE, "%s: x and weight must share a float dtype", name);
    if (stride < 1 || padding < 0) return lc_error(LC_ERR_ARG, "%s: stride must be >= 1 and padding >= 0", name);
    if (w->shape[1] != x->shape[1]) return lc_error(LC_ERR_SHAPE, "%s: weight has %lld input channels, x has %lld", name, (long long)w->shape[1], (long long)x->shape[1]);
    if (bias && (bias->ndim != 1 || bias->shape[0] != w->shape[0])) return lc_error(LC_ERR_SHAPE, "%s: bias must have shape (%lld)", name, (long long)w->shape[0]);
    int64_t shape[4] = {x->shape[0], w->shape[0]};
    for (int d = 0; d < sp; d++) {
        int64_t len = x->shape[2 + d] + 2 * (int64_t)padding - w->shape[2 + d];
        if (len < 0) return lc_error(LC_ERR_SHAPE, "%s: kernel larger than the padded input", name);
        shape[2 + d] = len / stride + 1;
    }
    lc_array *xc = NULL, *wc = NULL, *bc = NULL;
    lc_status s = lc_contiguous(x, &xc);
    if (!s) s = lc_contiguous(w, &wc);
    if (!s && bias) s = lc_contiguous(bias, &bc);
    if (!s) {
        lc_op op = {.kind = kind, .in = {xc, wc, bc}, .i = {stride, padding}};
        s = run_new(&op, x->dtype, 2 + sp, shape, op_device(op.in, 3), out);
    }
    lc_array_release(xc);
    lc_array_release(wc);
    lc_array_release(bc);
    return s;
}

lc_status lc_conv1d(lc_array *x, lc_array *w, lc_array *b, int stride, int padding, lc_array **out) {
    return conv_impl(LC_OP_CONV1D, 1, x, w, b, stride, padding, out);
}
lc_status lc_conv2d(lc_array *x, lc_array *w, lc_array *b, int stride, int padding, lc_array **out) {
    return conv_impl(LC_OP_CONV2D, 2, x, w, b, stride, padding, out);
}

/* ---- attention --------------------------------------------------------------------------- */
/* Shared by lc_attention (q, k, v as (B, H, T, D)) and the models (views of (B, T, H, D) linear
 * outputs): the kernel takes any B/H/T strides with D contiguous, and writes out through its strides. */
lc_status lc_attention_into(lc_array *q, lc_array *k, lc_array *v, lc_array *mask, float scale, lc_array *out) {
    lc_op op = {.kind = LC_OP_ATTENTION, .in = {q, k, v, mask}, .out = out, .f = {scale}};
    return lc_op_run(&op);
}

static lc_status unit_last_stride(lc_array *a, lc_array **out) {
    if (a->strides[a->ndim - 1] == 1) {
        lc_array_retain(a);
        *out = a;
        return LC_OK;
    }
    return lc_contiguous(a, out);
}

lc_status lc_attention(lc_array *q, lc_array *k, lc_array *v, lc_array *mask, float scale, lc_array **out) {
    CHECK_ARGS("lc_attention", q && k && v && out);
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4) return lc_error(LC_ERR_SHAPE, "lc_attention: q, k, v must be (B, H, T, D)");
    if (need_float("lc_attention", q) || k->dtype != q->dtype || v->dtype != q->dtype) return lc_error(LC_ERR_SHAPE, "lc_attention: q, k, v must share a float dtype");
    int64_t B = q->shape[0], H = q->shape[1], D = q->shape[3], Tk = k->shape[2];
    if (k->shape[0] != B || v->shape[0] != B || k->shape[1] != H || v->shape[1] != H || k->shape[3] != D || v->shape[3] != D || v->shape[2] != Tk)
        return lc_error(LC_ERR_SHAPE, "lc_attention: q, k, v shapes do not agree");
    if (mask && (mask->ndim != 2 || mask->shape[0] != B || mask->shape[1] != Tk))
        return lc_error(LC_ERR_SHAPE, "lc_attention: mask must be (B, Tk) = (%lld, %lld)", (long long)B, (long long)Tk);
    if (scale <= 0) scale = 1.0f / sqrtf((float)D);
    lc_array *qc = NULL, *kc = NULL, *vc = NULL, *mc = NULL, *o = NULL;
    lc_status s = unit_last_stride(q, &qc);
    if (!s) s = unit_last_stride(k, &kc);
    if (!s) s = unit_last_stride(v, &vc);
    if (!s && mask) s = lc_astype(mask, LC_F32, &mc);
    lc_array *ins[4] = {qc, kc, vc, mc};
    if (!s) s = lc_array_alloc(q->dtype, 4, q->shape, op_device(ins, 4), &o);
    if (!s) s = lc_attention_into(qc, kc, vc, mc, scale, o);
    lc_array_release(qc);
    lc_array_release(kc);
    lc_array_release(vc);
    lc_array_release(mc);
    if (s) {
        lc_array_release(o);
        return s;
    }
    *out = o;
    return LC_OK;
}

lc_status lc_array_rand(lc_dtype t, int ndim, const int64_t *shape, float lo, float hi, uint64_t seed, lc_device d,
                        lc_array **out) {
    CHECK_ARGS("lc_array_rand", out);
    if (!lc_is_float(t)) return lc_error(LC_ERR_ARG, "lc_array_rand: float dtypes only");
    if (!lc_device_available(d)) return lc_error(LC_ERR_DEVICE, "lc_array_rand: device not available");
    /* Generated on the host so every device sees the same values for a seed. */
    lc_array *host = NULL;
    lc_op op = {.kind = LC_OP_FILL_RANDOM, .f = {lo, hi}, .i = {(int64_t)seed}};
    lc_status s = run_new(&op, t, ndim, shape, LC_CPU, &host);
    if (s) return s;
    if (d.kind == LC_DEVICE_CPU) {
        *out = host;
        return LC_OK;
    }
    s = lc_array_to(host, d, out);
    lc_array_release(host);
    return s;
}
