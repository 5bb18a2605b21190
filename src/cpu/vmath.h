/* Vectorisable float math for CPU kernels. libm's expf/erff are scalar calls the compiler cannot
 * vectorise without -ffast-math, so hot loops use these branch-free versions instead.
 *   lc_vexpf: |relative error| < 2e-7 over [-87, 88] (tested against libm in test_cpu_kernels).
 *   lc_vlog1pf: |relative error| < 3e-7 for x >= 0 (Cephes-style log on the reduced mantissa).
 *   lc_verff: |absolute error| < 5e-7 (Abramowitz & Stegun 7.1.26 refined with the exp above). */
#ifndef LOCUS_CPU_VMATH_H
#define LOCUS_CPU_VMATH_H

#include <stdbool.h>
#include <stdint.h>

/* Branch-free select of two floats through their bits (c ? a : b); a ?: on floats lets the compiler
 * move floating-point work into a branch it then cannot vectorise. */
static inline float lc_vselect(bool c, float a, float b) {
    union { float f; uint32_t u; } ua = {.f = a}, ub = {.f = b}, r;
    uint32_t mask = (uint32_t)0 - (uint32_t)c;
    r.u = (ua.u & mask) | (ub.u & ~mask);
    return r.f;
}

static inline float lc_vexpf(float x) {
    x = lc_vselect(x < -87.0f, -87.0f, lc_vselect(x > 88.0f, 88.0f, x));
    /* x = n ln2 + r, |r| <= ln2 / 2; n rounded to nearest by the 1.5 * 2^23 shifter */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r -= n * -2.12194440e-4f;
    /* exp(r) by its Taylor polynomial to degree 7 (Horner) */
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    union { int32_t i; float f; } scale = {.i = ((int32_t)n + 127) * (1 << 23)};
    return p * scale.f;
}

/* erf via erfc(|x|) = t P(t) exp(-x^2), t = 1 / (1 + p |x|) (A&S 7.1.26). */
static inline float lc_verff(float x) {
    float ax = x < 0 ? -x : x;
    float t = 1.0f / (1.0f + 0.3275911f * ax);
    float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float y = 1.0f - poly * lc_vexpf(-ax * ax);
    return x < 0 ? -y : y;
}

/* log(1 + x) for x >= 0: the mantissa of 1 + x reduced to [sqrt(1/2), sqrt(2)) and a degree-9
 * polynomial; below 1e-4 the series x - x^2/2 + x^3/3 is exact to float precision (1 + x would
 * lose x's low bits). */
static inline float lc_vlog1pf(float x) {
    float a = 1.0f + x;
    union { float f; int32_t i; } u = {.f = a};
    float e = (float)(((u.i >> 23) & 0xff) - 127);
    u.i = (u.i & 0x007fffff) | 0x3f800000; /* mantissa in [1, 2) */
    float m = u.f;
    bool big = m > 1.41421356f;
    m = lc_vselect(big, m * 0.5f, m);
    e = lc_vselect(big, e + 1.0f, e);
    float f = m - 1.0f, z = f * f;
    float y = 7.0376836292e-2f;
    y = y * f - 1.1514610310e-1f;
    y = y * f + 1.1676998740e-1f;
    y = y * f - 1.2420140846e-1f;
    y = y * f + 1.4249322787e-1f;
    y = y * f - 1.6668057665e-1f;
    y = y * f + 2.0000714765e-1f;
    y = y * f - 2.4999993993e-1f;
    y = y * f + 3.3333331174e-1f;
    y = y * f * z - 2.12194440e-4f * e - 0.5f * z;
    float r = f + y + 0.693359375f * e;
    /* log(a) misses the bits of x that 1 + x dropped: correct by (x - (a - 1)) / a */
    r += (x - (a - 1.0f)) / a;
    float small = x * (1.0f - x * (0.5f - x * (1.0f / 3.0f)));
    return lc_vselect(x < 1e-4f, small, r);
}

/* torch.nn.functional.softplus: x when beta x > threshold, else log(1 + exp(beta x)) / beta,
 * computed as max(bx, 0) + log1p(exp(-|bx|)) so that nothing overflows. */
static inline float lc_vsoftplusf(float x, float beta, float inv_beta, float threshold) {
    float bx = beta * x, ab = __builtin_fabsf(bx);
    float v = ((bx > 0.0f ? bx : 0.0f) + lc_vlog1pf(lc_vexpf(-ab))) * inv_beta;
    return lc_vselect(bx > threshold, x, v);
}

/* Hugging Face's "gelu": 0.5 x (1 + erf(x / sqrt 2)). */
static inline float lc_vgeluf(float x) { return 0.5f * x * (1.0f + lc_verff(x * 0.70710678118654752f)); }

#endif
