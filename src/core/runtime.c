/* Runtime facts: dtypes, devices, threads, build information, backend lookup. */
#include "core/internal.h"
#include "cpu/blas.h"
#include "cpu/threadpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LOCUS_GIT_COMMIT
#define LOCUS_GIT_COMMIT "unknown"
#endif

size_t lc_dtype_size(lc_dtype t) {
    switch (t) {
    case LC_F32: case LC_I32: return 4;
    case LC_F16: case LC_BF16: return 2;
    case LC_I64: return 8;
    default: return 0;
    }
}

const char *lc_dtype_name(lc_dtype t) {
    static const char *names[] = {"f32", "f16", "bf16", "i32", "i64"};
    return (unsigned)t < LC_DTYPE_COUNT ? names[t] : "unknown";
}

lc_status lc_dtype_parse(const char *name, lc_dtype *out) {
    static const struct { const char *name; lc_dtype t; } table[] = {
        {"f32", LC_F32}, {"float32", LC_F32}, {"fp32", LC_F32}, {"f16", LC_F16}, {"float16", LC_F16},
        {"fp16", LC_F16}, {"half", LC_F16}, {"bf16", LC_BF16}, {"bfloat16", LC_BF16}, {"i32", LC_I32},
        {"int32", LC_I32}, {"i64", LC_I64}, {"int64", LC_I64}};
    for (size_t i = 0; name && i < sizeof table / sizeof table[0]; i++)
        if (strcmp(name, table[i].name) == 0) {
            *out = table[i].t;
            return LC_OK;
        }
    return lc_error(LC_ERR_ARG, "unknown dtype '%s' (f32, f16, bf16, i32, i64)", name ? name : "(null)");
}

const lc_backend *lc_backend_for(lc_device_kind kind) {
    switch (kind) {
    case LC_DEVICE_CPU: return &lc_cpu_backend;
#ifdef LOCUS_WITH_CUDA
    case LC_DEVICE_CUDA: return &lc_cuda_backend;
#endif
    default: return NULL;
    }
}

lc_status lc_device_parse(const char *name, lc_device *out) {
    if (name && strcmp(name, "cpu") == 0) {
        *out = LC_CPU;
        return LC_OK;
    }
    if (name && strncmp(name, "cuda", 4) == 0) {
        int index = 0;
        if (name[4] == ':') {
            char *end;
            long v = strtol(name + 5, &end, 10);
            if (*end || v < 0 || v > 64) return lc_error(LC_ERR_ARG, "bad device '%s'", name);
            index = (int)v;
        } else if (name[4]) {
            return lc_error(LC_ERR_ARG, "unknown device '%s' (cpu, cuda, cuda:N)", name);
        }
        *out = (lc_device){LC_DEVICE_CUDA, index};
        return LC_OK;
    }
    return lc_error(LC_ERR_ARG, "unknown device '%s' (cpu, cuda, cuda:N)", name ? name : "(null)");
}

int lc_cuda_device_count(void) {
    const lc_backend *be = lc_backend_for(LC_DEVICE_CUDA);
    return be ? be->device_count() : 0;
}

bool lc_device_available(lc_device d) {
    if (d.kind == LC_DEVICE_CPU) return d.index == 0;
    const lc_backend *be = lc_backend_for(d.kind);
    return be && d.index >= 0 && d.index < be->device_count();
}

lc_status lc_device_describe(lc_device d, char *buf, size_t len) {
    const lc_backend *be = lc_backend_for(d.kind);
    if (!be || !lc_device_available(d)) return lc_error(LC_ERR_DEVICE, "device not available");
    return be->describe(d.index, buf, len);
}

lc_status lc_synchronize(lc_device d) {
    const lc_backend *be = lc_backend_for(d.kind);
    if (!be) return lc_error(LC_ERR_DEVICE, "device not compiled in");
    return be->synchronize ? be->synchronize(d.index) : LC_OK;
}

void lc_set_num_threads(int n) {
    lc_pool_set_threads(n);
    lc_blas_set_threads(lc_pool_threads());
}
int lc_get_num_threads(void) { return lc_pool_threads(); }
const char *lc_blas_name(void) { return lc_blas_describe(); }

bool lc_cuda_compiled(void) {
#ifdef LOCUS_WITH_CUDA
    return true;
#else
    return false;
#endif
}
#ifndef LOCUS_WITH_CUDA
const char *lc_cudnn_version(void) { return NULL; } /* the CUDA backend defines it (conv_cudnn.c) */
#endif
const char *lc_version(void) { return LOCUS_VERSION; }
const char *lc_git_commit(void) { return LOCUS_GIT_COMMIT; }

float lc_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) {
                mant <<= 1;
                exp--;
            }
            mant &= 0x3ff;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    union { uint32_t u; float f; } v = {.u = bits};
    return v.f;
}

uint16_t lc_f32_to_f16(float f) {
    union { uint32_t u; float f; } v = {.f = f};
    uint32_t x = v.u, sign = (x >> 16) & 0x8000;
    uint32_t absx = x & 0x7fffffffu;
    if (absx > 0x7f800000u) return (uint16_t)(sign | 0x7e00); /* NaN */
    if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* overflow to inf (incl. rounding) */
    if (absx < 0x38800000u) {                                  /* subnormal or zero in f16 */
        if (absx < 0x33000000u) return (uint16_t)sign;
        uint32_t e = absx >> 23, m = (absx & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e; /* 14 + (113 - e) */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = absx - 0x38000000u; /* rebias exponent */
    uint32_t m = r >> 13, rem = r & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (m & 1))) m++;
    return (uint16_t)(sign | m);
}
