/* CPU kernels for the ops the benchmark suite adds to the public API: PReLU, sort, gather,
 * scatter, binary cross-entropy and the two convolutions. Each takes an op record whose inputs
 * are contiguous (f32 for floats, i64 for indices) and whose output the front end allocated. */
#ifndef LOCUS_CPU_KERNELS_EXTRA_H
#define LOCUS_CPU_KERNELS_EXTRA_H
#include "core/internal.h"

lc_status lc_cpu_prelu(const lc_op *op);   /* in[0] x, in[1] weight (C) or (1); C = dim 1 */
lc_status lc_cpu_sort(const lc_op *op);    /* last axis, ascending, NaN last (like torch) */
lc_status lc_cpu_gather(const lc_op *op);  /* torch.gather; i[0] = axis */
lc_status lc_cpu_scatter(const lc_op *op); /* torch.scatter (copy of in[0]); i[0] = axis */
lc_status lc_cpu_bce(const lc_op *op);     /* mean BCE -> (); log clamped at -100 like torch */
lc_status lc_cpu_conv1d(const lc_op *op);  /* x (N,C,L) w (O,C,K) bias (O)|NULL; i[0] stride, i[1] padding */
lc_status lc_cpu_conv2d(const lc_op *op);  /* x (N,C,H,W) w (O,C,KH,KW) bias|NULL; i[0] stride, i[1] padding */

#endif
