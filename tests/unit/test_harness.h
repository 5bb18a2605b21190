/* Tiny test harness: CHECK records a failure and continues; main returns the verdict. */
#ifndef LOCUS_TEST_HARNESS_H
#define LOCUS_TEST_HARNESS_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int test_failures;
#define CHECK(cond)                                                                             \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);            \
            test_failures++;                                                                    \
        }                                                                                       \
    } while (0)
#define CHECK_OK(expr)                                                                          \
    do {                                                                                        \
        lc_status _s = (expr);                                                                  \
        if (_s != LC_OK) {                                                                      \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, lc_last_error()); \
            test_failures++;                                                                    \
        }                                                                                       \
    } while (0)
#define TEST_RESULT() (test_failures ? (fprintf(stderr, "%d check(s) failed\n", test_failures), 1) : 0)

/* Deterministic pseudo-random floats in [-1, 1). */
static inline float test_rand(unsigned *state) {
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) & 0xffffff) / 8388608.0f - 1.0f;
}
#endif
