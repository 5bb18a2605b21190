/* BERT-family encoders: BERT (and MiniLM), RoBERTa, XLM-RoBERTa, DistilBERT.
 *
 *   embeddings: word + position + token type, LayerNorm            (B, T) -> (B, T, C)
 *   each layer: x = LN(x + O(attention(Q x, K x, V x, mask)))      (B, T, C)
 *               x = LN(x + W2 act(W1 x))
 *   pooler:     tanh(P x[:, 0])                                     (B, C), only when asked for
 *
 * RoBERTa/XLM-R position ids count non-padding tokens from padding_idx + 1 (padding tokens keep
 * padding_idx); DistilBERT has no token types and its own key names. */
#include "models/model_internal.h"
#ifdef LOCUS_WITH_CUDA
#include "locus/cuda.h"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


lc_status ops_activation(activation act, lc_array *x, lc_array *w, lc_array *b, lc_array **out) {
    if (act == ACT_GELU) return lc_linear_gelu(x, w, b, out);
    lc_array *t = NULL;
    lc_status s = lc_linear(x, w, b, &t);
    if (s) return s;
    s = act == ACT_RELU ? lc_relu(t, out) : lc_gelu_tanh(t, out);
    lc_array_release(t);
    return s;
}

/* (B, T, H*D) -> strided view (B, H, T, D) */
static lc_status heads_view(lc_array *x, int64_t heads, lc_array **out) {
    int64_t B = x->shape[0], T = x->shape[1], C = x->shape[2];
    int64_t shape[4] = {B, T, heads, C / heads};
    lc_array *r = NULL;
    lc_status s = lc_reshape(x, 4, shape, &r);
    if (s) return s;
    s = lc_permute(r, (const int[]){0, 2, 1, 3}, out);
    lc_array_release(r);
    return s;
}

lc_status transformer_attention_res(lc_model *m, const encoder_layer *L, lc_array *x, lc_array *mask, lc_array *residual,
                                   lc_array **out) {
    lc_status status = LC_OK;
    lc_array *q = NULL, *k = NULL, *v = NULL, *qh = NULL, *kh = NULL, *vh = NULL, *ctx = NULL, *ctxh = NULL, *qkv = NULL;
    int64_t H = m->cfg.heads, C = m->cfg.hidden, B = x->shape[0], T = x->shape[1], D = C / H;
    if (L->qkv_w) { /* (B, T, 3C) -> three strided (B, H, T, D) views, no copies */
        TRY(lc_linear(x, L->qkv_w, L->qkv_b, &qkv));
        int64_t shape[4] = {B, H, T, D}, strides[4] = {T * 3 * C, D, 3 * C, 1};
        TRY(lc_strided_view(qkv, 4, shape, strides, 0, &qh));
        TRY(lc_strided_view(qkv, 4, shape, strides, C, &kh));
        TRY(lc_strided_view(qkv, 4, shape, strides, 2 * C, &vh));
        int64_t cs[3] = {B, T, C};
        TRY(lc_array_alloc(qkv->dtype, 3, cs, qkv->device, &ctx));
    } else {
        TRY(lc_linear(x, L->q_w, L->q_b, &q));
        TRY(lc_linear(x, L->k_w, L->k_b, &k));
        TRY(lc_linear(x, L->v_w, L->v_b, &v));
        TRY(heads_view(q, H, &qh));
        TRY(heads_view(k, H, &kh));
        TRY(heads_view(v, H, &vh));
        TRY(lc_array_alloc(q->dtype, 3, q->shape, q->device, &ctx));
    }
    TRY(heads_view(ctx, H, &ctxh));
    TRY(lc_attention_into(qh, kh, vh, mask, 1.0f / sqrtf((float)(C / H)), ctxh));
    TRY(residual ? lc_linear_add(ctx, L->o_w, L->o_b, residual, out) : lc_linear(ctx, L->o_w, L->o_b, out));
done:
    lc_array_release(q), lc_array_release(k), lc_array_release(v);
    lc_array_release(qh), lc_array_release(kh), lc_array_release(vh);
    lc_array_release(ctx), lc_array_release(ctxh), lc_array_release(qkv);
    return status;
}

lc_status transformer_attention(lc_model *m, const encoder_layer *L, lc_array *x, lc_array *mask, lc_array **out) {
    return transformer_attention_res(m, L, x, mask, NULL, out);
}

lc_status fuse_qkv(lc_model *m) {
    const char *env = getenv("LOCUS_FUSE_QKV");
    bool fuse = env ? strcmp(env, "0") != 0 : m->opt.device.kind != LC_DEVICE_CPU;
    for (int64_t l = 0; fuse && l < m->cfg.layers; l++) {
        encoder_layer *L = &m->layer[l];
        lc_array *w[3] = {L->q_w, L->k_w, L->v_w}, *b[3] = {L->q_b, L->k_b, L->v_b};
        lc_status s = lc_concat(3, w, 0, &L->qkv_w);
        if (!s) s = lc_concat(3, b, 0, &L->qkv_b);
        if (s) return s;
        for (int i = 0; i < 3; i++) lc_array_release(w[i]), lc_array_release(b[i]);
        L->q_w = L->k_w = L->v_w = L->q_b = L->k_b = L->v_b = NULL;
    }
    return LC_OK;
}

/* Residual adds inside the output projections' GEMMs (cuBLASLt's C input). The default is on for
 * pre-LayerNorm blocks (ViT) on GPUs, where it replaces two separate add kernels (ViT-B/16 batch 64
 * on an H100: 5.8 ms against 6.3); off for BERT's post-LayerNorm blocks, whose fused add+LayerNorm
 * already reads the residual and where cuBLASLt's beta = 1 kernels for 768 x 768 run at half the
 * speed of the plain ones (BENCHMARKS.md). LOCUS_RESIDUAL_GEMM=0|1 overrides. */
bool residual_in_gemm(const lc_model *m) {
    const char *e = getenv("LOCUS_RESIDUAL_GEMM");
    if (e && *e) return strcmp(e, "0") != 0;
    return m->opt.device.kind != LC_DEVICE_CPU && m->family == FAMILY_VIT;
}

/* Host-side ids for the embeddings: position ids (and zero type ids when absent). */
static lc_status make_positions(lc_model *m, lc_array *ids, lc_array **pos_out) {
    int64_t B = ids->shape[0], T = ids->shape[1];
    int64_t *ids_h = malloc(sizeof(int64_t) * (size_t)(B * T));
    int64_t *pos = malloc(sizeof(int64_t) * (size_t)(B * T));
    lc_status s = (!ids_h || !pos) ? lc_error(LC_ERR_NOMEM, "out of memory") : LC_OK;
    if (!s && m->family == FAMILY_ROBERTA) s = lc_array_read_i64(ids, ids_h, (size_t)(B * T)); /* only RoBERTa needs them */
    if (!s) {
        for (int64_t b = 0; b < B; b++) {
            int64_t count = 0;
            for (int64_t t = 0; t < T; t++) {
                if (m->family == FAMILY_ROBERTA) {
                    bool real = ids_h[b * T + t] != m->cfg.pad_id;
                    count += real;
                    pos[b * T + t] = real ? m->cfg.pad_id + count : m->cfg.pad_id;
                } else {
                    pos[b * T + t] = t;
                }
                if (pos[b * T + t] >= m->cfg.max_pos)
                    s = lc_error(LC_ERR_SHAPE, "%s: sequence of %lld tokens exceeds the model's %lld positions", m->name,
                                 (long long)T, (long long)m->cfg.max_pos);
            }
        }
    }
    if (!s) s = lc_array_from_data(LC_I64, 2, ids->shape, pos, pos_out);
    free(ids_h);
    free(pos);
    return s;
}

/* What one forward computes: the model, and whether the pooled output was asked for. */
typedef struct bert_call {
    lc_model *m;
    bool pooled;
} bert_call;

/* The device part of the forward (ctx: a bert_call): in = {ids, position ids, type ids or NULL,
 * mask (f32) or NULL}, out = {hidden, pooled or NULL (no pooler, or not asked for)}. It issues the
 * same ops for a given input shape and never reads device results back, so a CUDA backend can
 * capture it into a graph. */
static lc_status bert_core(void *ctx, lc_array *const *in, lc_array **out) {
    const bert_call *call = ctx;
    lc_model *m = call->m;
    lc_status status = LC_OK;
    lc_array *ids = in[0], *pos = in[1], *type_ids = in[2], *maskf = NULL;
    lc_array *we = NULL, *pe = NULL, *te = NULL, *sum = NULL, *sum2 = NULL, *x = NULL, *cls = NULL, *pl = NULL, *flat = NULL;
    int64_t B = ids->shape[0];
    out[0] = out[1] = NULL;
    if (in[3]) TRY(lc_astype(in[3], LC_F32, &maskf)); /* a view when it is f32 already */
#ifdef LOCUS_WITH_CUDA
    if (m->opt.device.kind == LC_DEVICE_CUDA) { /* one fused gather + sum + LayerNorm kernel */
        TRY(lc_cuda_embed_layer_norm(m->word_emb, ids, m->pos_emb, pos, 0, m->type_emb, type_ids, m->emb_ln_w, m->emb_ln_b,
                                     m->cfg.eps, &x));
    } else
#endif
    {
        TRY(lc_embedding(m->word_emb, ids, &we));
        TRY(lc_embedding(m->pos_emb, pos, &pe));
        TRY(lc_add(we, pe, &sum));
        if (m->type_emb) {
            TRY(lc_embedding(m->type_emb, type_ids, &te));
            TRY(lc_add(sum, te, &sum2));
        } else {
            sum2 = sum, sum = NULL;
        }
        TRY(lc_layer_norm(sum2, m->emb_ln_w, m->emb_ln_b, m->cfg.eps, &x));
    }
    for (int64_t l = 0; l < m->cfg.layers; l++) {
        const encoder_layer *L = &m->layer[l];
        lc_array *a = NULL, *h1 = NULL, *inter = NULL, *o = NULL, *h2 = NULL;
        lc_status s;
        if (residual_in_gemm(m)) { /* the residual enters the GEMM's epilogue; LayerNorm reads one tensor */
            s = transformer_attention_res(m, L, x, maskf, x, &a);
            if (!s) s = lc_layer_norm(a, L->ln1_w, L->ln1_b, m->cfg.eps, &h1);
            if (!s) s = ops_activation(m->cfg.act, h1, L->i_w, L->i_b, &inter);
            if (!s) s = lc_linear_add(inter, L->out_w, L->out_b, h1, &o);
            if (!s) s = lc_layer_norm(o, L->ln2_w, L->ln2_b, m->cfg.eps, &h2);
        } else {
            s = transformer_attention(m, L, x, maskf, &a);
            if (!s) s = lc_add_layer_norm(a, x, L->ln1_w, L->ln1_b, m->cfg.eps, &h1);
            if (!s) s = ops_activation(m->cfg.act, h1, L->i_w, L->i_b, &inter);
            if (!s) s = lc_linear(inter, L->out_w, L->out_b, &o);
            if (!s) s = lc_add_layer_norm(o, h1, L->ln2_w, L->ln2_b, m->cfg.eps, &h2);
        }
        lc_array_release(a), lc_array_release(h1), lc_array_release(inter), lc_array_release(o);
        if (s) {
            status = s;
            goto done;
        }
        lc_array_release(x);
        x = h2;
    }
    if (m->pooler_w && call->pooled) { /* tanh(P x[:, 0]) */
        int64_t shape[2] = {B, m->cfg.hidden};
        TRY(lc_slice(x, 1, 0, 1, &cls));
        TRY(lc_reshape(cls, 2, shape, &flat));
        TRY(lc_linear(flat, m->pooler_w, m->pooler_b, &pl));
        TRY(lc_tanh(pl, &out[1]));
    }
    out[0] = x;
    x = NULL;
done:
    lc_array_release(we), lc_array_release(pe), lc_array_release(te), lc_array_release(sum), lc_array_release(sum2);
    lc_array_release(x), lc_array_release(cls), lc_array_release(pl), lc_array_release(flat), lc_array_release(maskf);
    return status;
}

lc_status bert_forward(lc_model *m, lc_array *ids, lc_array *type_ids, lc_array *mask, lc_array **hidden, lc_array **pooled) {
    lc_status status = LC_OK;
    lc_array *pos = NULL, *zeros_t = NULL, *maskf = NULL, *out[2] = {NULL, NULL};
    if (!ids || ids->ndim != 2 || !lc_is_int(ids->dtype))
        return lc_error(LC_ERR_SHAPE, "%s: input ids must be an integer (batch, sequence) array", m->name);
    int64_t B = ids->shape[0], T = ids->shape[1];
    if (B < 1 || T < 1) return lc_error(LC_ERR_SHAPE, "%s: empty batch", m->name);
    if (type_ids && (type_ids->ndim != 2 || type_ids->shape[0] != B || type_ids->shape[1] != T))
        return lc_error(LC_ERR_SHAPE, "%s: token_type_ids must match the ids' shape", m->name);
    if (mask && (mask->ndim != 2 || mask->shape[0] != B || mask->shape[1] != T))
        return lc_error(LC_ERR_SHAPE, "%s: attention mask must match the ids' shape", m->name);
    if (!m->type_emb) type_ids = NULL;
#ifdef LOCUS_WITH_CUDA
    if (m->opt.device.kind == LC_DEVICE_CUDA) {
        /* The fused embedding kernel takes position t and type 0 for absent ids, and the mask is
         * converted inside the captured graph: a replay uploads only what the caller gave. */
        if (m->family == FAMILY_ROBERTA) TRY(make_positions(m, ids, &pos));
        else if (T > m->cfg.max_pos)
            TRY(lc_error(LC_ERR_SHAPE, "%s: sequence of %lld tokens exceeds the model's %lld positions", m->name, (long long)T,
                         (long long)m->cfg.max_pos));
        lc_array *in[4] = {ids, pos, type_ids, mask};
        /* a forward without the pooler is another graph */
        struct lc_cuda_graph_cache **gc = pooled ? &m->graphs : &m->graphs_nopool;
        if (!*gc) {
            TRY(lc_cuda_graph_cache_new(m->opt.device, 4, 2, gc));
            lc_cuda_graph_cache_batch_major(*gc); /* the sequences are independent */
        }
        bert_call call = {m, pooled != NULL};
        TRY(lc_cuda_graph_run(*gc, bert_core, &call, in, out));
    } else
#endif
    {
        TRY(make_positions(m, ids, &pos));
        if (m->type_emb && !type_ids) {
            TRY(lc_array_zeros(LC_I64, 2, ids->shape, LC_CPU, &zeros_t));
            type_ids = zeros_t;
        }
        if (mask) TRY(lc_astype(mask, LC_F32, &maskf));
        lc_array *in[4] = {ids, pos, type_ids, maskf};
        bert_call call = {m, pooled != NULL};
        TRY(bert_core(&call, in, out));
    }
    if (hidden) *hidden = out[0], out[0] = NULL;
    if (pooled) *pooled = out[1], out[1] = NULL;
done:
    lc_array_release(pos), lc_array_release(zeros_t), lc_array_release(maskf);
    lc_array_release(out[0]), lc_array_release(out[1]);
    return status;
}

/* ---- weights --------------------------------------------------------------------------------- */
static lc_status load_layer(lc_model *m, const char *prefix, int64_t l) {
    encoder_layer *L = &m->layer[l];
    int64_t C = m->cfg.hidden, I = m->cfg.intermediate;
    int64_t cc[2] = {C, C}, ic[2] = {I, C}, ci[2] = {C, I}, c1[1] = {C}, i1[1] = {I};
    char p[256];
    struct { const char *name; lc_array **dst; int ndim; const int64_t *shape; int fill; } w_bert[] = {
        {"attention.self.query.weight", &L->q_w, 2, cc, -1}, {"attention.self.query.bias", &L->q_b, 1, c1, 0},
        {"attention.self.key.weight", &L->k_w, 2, cc, -1},   {"attention.self.key.bias", &L->k_b, 1, c1, 0},
        {"attention.self.value.weight", &L->v_w, 2, cc, -1}, {"attention.self.value.bias", &L->v_b, 1, c1, 0},
        {"attention.output.dense.weight", &L->o_w, 2, cc, -1}, {"attention.output.dense.bias", &L->o_b, 1, c1, 0},
        {"attention.output.LayerNorm.weight", &L->ln1_w, 1, c1, 1}, {"attention.output.LayerNorm.bias", &L->ln1_b, 1, c1, 0},
        {"intermediate.dense.weight", &L->i_w, 2, ic, -1}, {"intermediate.dense.bias", &L->i_b, 1, i1, 0},
        {"output.dense.weight", &L->out_w, 2, ci, -1},       {"output.dense.bias", &L->out_b, 1, c1, 0},
        {"output.LayerNorm.weight", &L->ln2_w, 1, c1, 1},    {"output.LayerNorm.bias", &L->ln2_b, 1, c1, 0},
    }, w_distil[] = {
        {"attention.q_lin.weight", &L->q_w, 2, cc, -1}, {"attention.q_lin.bias", &L->q_b, 1, c1, 0},
        {"attention.k_lin.weight", &L->k_w, 2, cc, -1}, {"attention.k_lin.bias", &L->k_b, 1, c1, 0},
        {"attention.v_lin.weight", &L->v_w, 2, cc, -1}, {"attention.v_lin.bias", &L->v_b, 1, c1, 0},
        {"attention.out_lin.weight", &L->o_w, 2, cc, -1}, {"attention.out_lin.bias", &L->o_b, 1, c1, 0},
        {"sa_layer_norm.weight", &L->ln1_w, 1, c1, 1},   {"sa_layer_norm.bias", &L->ln1_b, 1, c1, 0},
        {"ffn.lin1.weight", &L->i_w, 2, ic, -1},          {"ffn.lin1.bias", &L->i_b, 1, i1, 0},
        {"ffn.lin2.weight", &L->out_w, 2, ci, -1},        {"ffn.lin2.bias", &L->out_b, 1, c1, 0},
        {"output_layer_norm.weight", &L->ln2_w, 1, c1, 1}, {"output_layer_norm.bias", &L->ln2_b, 1, c1, 0},
    };
    bool distil = m->family == FAMILY_DISTILBERT;
    size_t n = distil ? sizeof w_distil / sizeof w_distil[0] : sizeof w_bert / sizeof w_bert[0];
    snprintf(p, sizeof p, "%s%s.%lld.", prefix, distil ? "transformer.layer" : "encoder.layer", (long long)l);
    for (size_t i = 0; i < n; i++) {
        const char *name = distil ? w_distil[i].name : w_bert[i].name;
        lc_status s = model_weight(m, p, name, distil ? w_distil[i].ndim : w_bert[i].ndim,
                                   distil ? w_distil[i].shape : w_bert[i].shape, distil ? w_distil[i].fill : w_bert[i].fill,
                                   false, distil ? w_distil[i].dst : w_bert[i].dst);
        if (s) return s;
    }
    return LC_OK;
}

lc_status bert_load_weights(lc_model *m, const char *prefix) {
    const model_config *c = &m->cfg;
    int64_t we[2] = {c->vocab, c->hidden}, pe[2] = {c->max_pos, c->hidden}, te[2] = {c->type_vocab, c->hidden};
    int64_t c1[1] = {c->hidden}, cc[2] = {c->hidden, c->hidden};
    lc_status s = model_weight(m, prefix, "embeddings.word_embeddings.weight", 2, we, -1, false, &m->word_emb);
    if (!s) s = model_weight(m, prefix, "embeddings.position_embeddings.weight", 2, pe, -1, false, &m->pos_emb);
    if (!s && m->family != FAMILY_DISTILBERT && c->type_vocab > 0)
        s = model_weight(m, prefix, "embeddings.token_type_embeddings.weight", 2, te, -1, false, &m->type_emb);
    if (!s) s = model_weight(m, prefix, "embeddings.LayerNorm.weight", 1, c1, 1, false, &m->emb_ln_w);
    if (!s) s = model_weight(m, prefix, "embeddings.LayerNorm.bias", 1, c1, 0, false, &m->emb_ln_b);
    if (s) return s;
    m->layer = calloc((size_t)c->layers, sizeof *m->layer);
    if (!m->layer) return lc_error(LC_ERR_NOMEM, "out of memory");
    for (int64_t l = 0; l < c->layers && !s; l++) s = load_layer(m, prefix, l);
    if (s) return s;
    if (m->family != FAMILY_DISTILBERT) { /* the pooler is optional (add_pooling_layer=False drops it) */
        s = model_weight(m, prefix, "pooler.dense.weight", 2, cc, m->st ? -1 : -2, true, &m->pooler_w);
        if (!s && m->pooler_w) s = model_weight(m, prefix, "pooler.dense.bias", 1, c1, 0, false, &m->pooler_b);
    }
    return s;
}
