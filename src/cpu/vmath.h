/* Vectorisable float math for CPU kernels. libm's expf/erff are scalar calls the compiler cannot
 * vectorise without -ffast-math, so hot loops use these branch-free versions instead.
 *   lc_vexpf: |relative error| < 2e-7 over [-87, 88] (tested against libm in test_cpu_kernels).
 *   lc_verff: |absolute error| < 5e-7 (Abramowitz & Stegun 7.1.26 refined with the exp above). */
#ifndef LOCUS_CPU_VMATH_H
#define LOCUS_CPU_VMATH_H

#include <stdint.h>

static inline float lc_vexpf(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
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

/* Hugging Face's "gelu": 0.5 x (1 + erf(x / sqrt 2)). */
static inline float lc_vgeluf(float x) { return 0.5f * x * (1.0f + lc_verff(x * 0.70710678118654752f)); }

#endif
