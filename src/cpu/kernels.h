/* CPU kernels, one per op record (see core/internal.h). Inputs arrive resident and f32 for float
 * ops (the backend converts f16/bf16 around them); outputs are allocated by the front end. */
#ifndef LOCUS_CPU_KERNELS_H
#define LOCUS_CPU_KERNELS_H
#include "core/internal.h"

lc_status lc_cpu_copy(const lc_op *op);
lc_status lc_cpu_matmul(const lc_op *op);
lc_status lc_cpu_linear(const lc_op *op);
lc_status lc_cpu_binary(const lc_op *op);
lc_status lc_cpu_unary(const lc_op *op);
lc_status lc_cpu_softmax(const lc_op *op);
lc_status lc_cpu_layer_norm(const lc_op *op);
lc_status lc_cpu_reduce(const lc_op *op);
lc_status lc_cpu_embedding(const lc_op *op);
lc_status lc_cpu_attention(const lc_op *op);
lc_status lc_cpu_fill_random(const lc_op *op);

/* Reference (plain, scalar, libm) versions used by the tests to check the fast kernels. */
float lc_ref_gelu(float x);

#endif
