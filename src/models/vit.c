/* Vision Transformer (ViTModel, ViTForImageClassification).
 *
 *   patches:  (B, C, H, W) -> (B, N, C*P*P) -> linear -> (B, N, D)      (the conv as a GEMM)
 *   tokens:   [CLS; patches] + position embeddings                      (B, 1 + N, D)
 *   layers:   x = x + O(attention(LN1 x));  x = x + W2 gelu(W1 LN2 x)   (pre-LayerNorm)
 *   output:   LN(x); the classifier reads token 0.                                          */
#include "models/model_internal.h"
#ifdef LOCUS_WITH_CUDA
#include "locus/cuda.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The device part of the forward: in = {pixel_values (B, C, H, W), any float dtype, any device},
 * out = {hidden (B, 1 + N, D)}. It issues the same ops for a given input shape and dtype and never
 * reads device results back, so a CUDA backend can capture it into a graph: the patch view is made
 * contiguous, the CLS token broadcast and the token concat are device copies. */
static lc_status vit_core(void *ctx, lc_array *const *in, lc_array **outs) {
    lc_model *m = ctx;
    lc_status status = LC_OK;
    const model_config *c = &m->cfg;
    lc_array *px = in[0];
    lc_array *pxd = NULL, *pxc = NULL, *r6 = NULL, *p6 = NULL, *flat = NULL, *emb = NULL, *cls_b = NULL, *tok = NULL;
    lc_array *x = NULL, *px_dt = NULL;
    outs[0] = NULL;
    int64_t B = px->shape[0], P = c->patch, g = c->image_size / P, N = g * g, D = c->hidden;
    TRY(lc_array_to(px, m->opt.device, &pxd)); /* the cast and the patch gather run where the model lives */
    TRY(lc_astype(pxd, m->opt.dtype, &px_dt));
    TRY(lc_contiguous(px_dt, &pxc));
    int64_t s6[6] = {B, c->channels, g, P, g, P};
    TRY(lc_reshape(pxc, 6, s6, &r6));
    TRY(lc_permute(r6, (const int[]){0, 2, 4, 1, 3, 5}, &p6)); /* (B, gh, gw, C, P, P) */
    int64_t s3[3] = {B, N, c->channels * P * P};
    TRY(lc_reshape(p6, 3, s3, &flat)); /* a copy: the permuted view is not contiguous */
    TRY(lc_linear(flat, m->patch_w, m->patch_b, &emb)); /* (B, N, D) */
    int64_t sc[3] = {B, 1, D};
    TRY(lc_broadcast_view(m->cls_token, 3, sc, &cls_b));
    lc_array *parts[2] = {cls_b, emb};
    TRY(lc_concat(2, parts, 1, &tok)); /* the broadcast CLS view is copied straight into row 0 */
    TRY(lc_add(tok, m->pos_emb, &x)); /* pos_emb (1, 1 + N, D) broadcasts */
    for (int64_t l = 0; l < c->layers; l++) {
        const encoder_layer *L = &m->layer[l];
        lc_array *n1 = NULL, *a = NULL, *h = NULL, *n2 = NULL, *inter = NULL, *o = NULL, *h2 = NULL;
        const bool fused = residual_in_gemm(m); /* the residual adds inside the output projections' GEMMs */
        lc_status s = lc_layer_norm(x, L->ln1_w, L->ln1_b, c->eps, &n1);
        if (!s) s = fused ? transformer_attention_res(m, L, n1, NULL, x, &h) : transformer_attention(m, L, n1, NULL, &a);
        if (!s && !fused) s = lc_add(a, x, &h);
        if (!s) s = lc_layer_norm(h, L->ln2_w, L->ln2_b, c->eps, &n2);
        if (!s) s = ops_activation(c->act, n2, L->i_w, L->i_b, &inter);
        if (!s) s = fused ? lc_linear_add(inter, L->out_w, L->out_b, h, &h2) : lc_linear(inter, L->out_w, L->out_b, &o);
        if (!s && !fused) s = lc_add(o, h, &h2);
        lc_array_release(n1), lc_array_release(a), lc_array_release(h), lc_array_release(n2);
        lc_array_release(inter), lc_array_release(o);
        if (s) {
            status = s;
            goto done;
        }
        lc_array_release(x);
        x = h2;
    }
    TRY(lc_layer_norm(x, m->final_ln_w, m->final_ln_b, c->eps, &outs[0]));
done:
    lc_array_release(pxd), lc_array_release(px_dt), lc_array_release(pxc), lc_array_release(r6), lc_array_release(p6);
    lc_array_release(flat), lc_array_release(emb), lc_array_release(cls_b), lc_array_release(tok), lc_array_release(x);
    return status;
}

lc_status vit_forward(lc_model *m, lc_array *px, lc_array **hidden, lc_array **pooled) {
    const model_config *c = &m->cfg;
    (void)pooled; /* ViTModel's pooler is not loaded: the classifier reads token 0 of `hidden` */
    if (!px || px->ndim != 4 || px->shape[1] != c->channels || px->shape[2] != c->image_size || px->shape[3] != c->image_size)
        return lc_error(LC_ERR_SHAPE, "%s: pixel_values must be (batch, %lld, %lld, %lld)", m->name, (long long)c->channels,
                        (long long)c->image_size, (long long)c->image_size);
    if (!lc_is_float(px->dtype)) return lc_error(LC_ERR_SHAPE, "%s: pixel_values must be float", m->name);
    lc_status status = LC_OK;
    lc_array *in[1] = {px}, *out[1] = {NULL};
#ifdef LOCUS_WITH_CUDA
    if (m->opt.device.kind == LC_DEVICE_CUDA) {
        if (!m->graphs) {
            TRY(lc_cuda_graph_cache_new(m->opt.device, 1, 1, &m->graphs));
            lc_cuda_graph_cache_batch_major(m->graphs); /* the images are independent */
        }
        TRY(lc_cuda_graph_run(m->graphs, vit_core, m, in, out));
    } else
#endif
        TRY(vit_core(m, in, out));
    if (hidden) *hidden = out[0], out[0] = NULL;
done:
    lc_array_release(out[0]);
    return status;
}

lc_status vit_load_weights(lc_model *m, const char *prefix) {
    const model_config *c = &m->cfg;
    int64_t D = c->hidden, I = c->intermediate, P = c->patch, N1 = c->max_pos;
    int64_t pw[4] = {D, c->channels, P, P}, d1[1] = {D}, cls[3] = {1, 1, D}, pos[3] = {1, N1, D};
    lc_array *w4 = NULL;
    lc_status s = model_weight(m, prefix, "embeddings.patch_embeddings.projection.weight", 4, pw, -1, false, &w4);
    if (!s) {
        int64_t s2[2] = {D, c->channels * P * P};
        s = lc_reshape(w4, 2, s2, &m->patch_w);
        lc_array_release(w4);
    }
    if (!s) s = model_weight(m, prefix, "embeddings.patch_embeddings.projection.bias", 1, d1, 0, false, &m->patch_b);
    if (!s) s = model_weight(m, prefix, "embeddings.cls_token", 3, cls, -1, false, &m->cls_token);
    if (!s) s = model_weight(m, prefix, "embeddings.position_embeddings", 3, pos, -1, false, &m->pos_emb);
    if (!s) s = model_weight(m, prefix, "layernorm.weight", 1, d1, 1, false, &m->final_ln_w);
    if (!s) s = model_weight(m, prefix, "layernorm.bias", 1, d1, 0, false, &m->final_ln_b);
    if (s) return s;
    m->layer = calloc((size_t)c->layers, sizeof *m->layer);
    if (!m->layer) return lc_error(LC_ERR_NOMEM, "out of memory");
    int64_t dd[2] = {D, D}, id[2] = {I, D}, di[2] = {D, I}, i1[1] = {I};
    for (int64_t l = 0; l < c->layers && !s; l++) {
        encoder_layer *L = &m->layer[l];
        char p[256];
        snprintf(p, sizeof p, "%sencoder.layer.%lld.", prefix, (long long)l);
        struct { const char *name; lc_array **dst; int ndim; const int64_t *shape; int fill; } w[] = {
            {"attention.attention.query.weight", &L->q_w, 2, dd, -1}, {"attention.attention.query.bias", &L->q_b, 1, d1, 0},
            {"attention.attention.key.weight", &L->k_w, 2, dd, -1},   {"attention.attention.key.bias", &L->k_b, 1, d1, 0},
            {"attention.attention.value.weight", &L->v_w, 2, dd, -1}, {"attention.attention.value.bias", &L->v_b, 1, d1, 0},
            {"attention.output.dense.weight", &L->o_w, 2, dd, -1},    {"attention.output.dense.bias", &L->o_b, 1, d1, 0},
            {"layernorm_before.weight", &L->ln1_w, 1, d1, 1},        {"layernorm_before.bias", &L->ln1_b, 1, d1, 0},
            {"intermediate.dense.weight", &L->i_w, 2, id, -1},       {"intermediate.dense.bias", &L->i_b, 1, i1, 0},
            {"output.dense.weight", &L->out_w, 2, di, -1},           {"output.dense.bias", &L->out_b, 1, d1, 0},
            {"layernorm_after.weight", &L->ln2_w, 1, d1, 1},         {"layernorm_after.bias", &L->ln2_b, 1, d1, 0},
        };
        for (size_t i = 0; i < sizeof w / sizeof w[0] && !s; i++)
            s = model_weight(m, p, w[i].name, w[i].ndim, w[i].shape, w[i].fill, false, w[i].dst);
    }
    return s;
}

lc_status lc_model_classify_pixels(lc_model *m, lc_array *pixel_values, lc_array **logits) {
    if (!m || !pixel_values || !logits) return lc_error(LC_ERR_ARG, "lc_model_classify_pixels: NULL argument");
    if (m->family != FAMILY_VIT) return lc_error(LC_ERR_UNSUPPORTED, "%s: not an image model", m->dir);
    if (m->head == HEAD_NONE) return lc_error(LC_ERR_UNSUPPORTED, "%s: %s has no classification head", m->dir, m->architecture);
    lc_array *hidden = NULL;
    lc_status s = vit_forward(m, pixel_values, &hidden, NULL);
    if (!s) s = model_head(m, hidden, NULL, logits);
    lc_array_release(hidden);
    return s;
}

lc_status lc_model_image_size(const lc_model *m, int64_t *size) {
    if (m->family != FAMILY_VIT) return lc_error(LC_ERR_UNSUPPORTED, "%s: not an image model", m->dir);
    *size = m->cfg.image_size;
    return LC_OK;
}
