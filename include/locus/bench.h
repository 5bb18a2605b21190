/* Benchmark suite: statistics, ceilings probe, op and model suites, reports. */
#ifndef LOCUS_BENCH_H
#define LOCUS_BENCH_H
#include "../locus.h"
#endif
