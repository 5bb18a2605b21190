/* Model internals shared by the encoder families (bert.c), ViT (vit.c) and the common code
 * (model.c: loading, pooling, embedding and classification entry points). */
#ifndef LOCUS_MODELS_INTERNAL_H
#define LOCUS_MODELS_INTERNAL_H

#include "core/internal.h"
#include "locus/io.h"
#include "locus/model.h"

#include <cjson/cJSON.h>

typedef enum { FAMILY_BERT, FAMILY_ROBERTA, FAMILY_DISTILBERT, FAMILY_VIT } model_family;
typedef enum { HEAD_NONE, HEAD_BERT, HEAD_ROBERTA, HEAD_DISTILBERT, HEAD_VIT } head_kind;
typedef enum { ACT_GELU, ACT_GELU_TANH, ACT_RELU } activation;

typedef struct {
    lc_array *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b; /* attention */
    lc_array *qkv_w, *qkv_b; /* Q, K, V stacked (3C, C), when fused (then q/k/v_w are NULL) */
    lc_array *ln1_w, *ln1_b;                                 /* after attention (BERT) / before (ViT) */
    lc_array *i_w, *i_b, *out_w, *out_b;                     /* feed-forward */
    lc_array *ln2_w, *ln2_b;
} encoder_layer;

typedef struct {
    int64_t vocab, hidden, layers, heads, intermediate, max_pos, type_vocab, pad_id;
    float eps;
    activation act;
    /* ViT */
    int64_t image_size, patch, channels;
} model_config;

struct lc_model {
    char *name, *dir;
    char model_type[64], architecture[96];
    model_family family;
    head_kind head;
    model_config cfg;
    lc_model_options opt;
    lc_safetensors *st;
    /* embeddings */
    lc_array *word_emb, *pos_emb, *type_emb, *emb_ln_w, *emb_ln_b;
    lc_array *patch_w, *patch_b, *cls_token; /* ViT: patch_w reshaped (hidden, C*P*P) */
    encoder_layer *layer;
    lc_array *final_ln_w, *final_ln_b; /* ViT */
    lc_array *pooler_w, *pooler_b;
    /* classification head */
    lc_array *cls_dense_w, *cls_dense_b, *cls_out_w, *cls_out_b;
    size_t num_labels;
    char **labels;
    bool multi_label;
    /* text side */
    lc_tokenizer *tokenizer;
    lc_pooling pooling;
    bool normalize;
    size_t max_seq; /* truncation, special tokens included */
    size_t weight_bytes;
    struct lc_cuda_graph_cache *graphs; /* CUDA: captured forwards per (batch, sequence) bucket (lc_cuda_graph_cache) */
    struct lc_cuda_graph_cache *graphs_nopool; /* the same, for callers that take no pooled output */
};

/* Encoder forward of the text families: hidden (B, T, H), pooled (B, H) or NULL. */
lc_status bert_forward(lc_model *m, lc_array *ids, lc_array *type_ids, lc_array *mask, lc_array **hidden, lc_array **pooled);
/* ViT: pixel_values (B, C, H, W) -> hidden (B, 1 + N, H) after the final LayerNorm, pooled or NULL. */
lc_status vit_forward(lc_model *m, lc_array *pixels, lc_array **hidden, lc_array **pooled);
/* Load the family's weights from m->st (prefix-aware); synthetic when m->st is NULL. */
lc_status bert_load_weights(lc_model *m, const char *prefix);
lc_status vit_load_weights(lc_model *m, const char *prefix);
/* Weight lookup: `prefix + name`, falling back to LayerNorm gamma/beta spellings; the array is
 * converted to the model's dtype and device. Synthetic models get seeded random values (or
 * ones/zeros for LayerNorm weights/biases when fill is 1 or 0). */
lc_status model_weight(lc_model *m, const char *prefix, const char *name, int ndim, const int64_t *shape, int fill,
                       bool optional, lc_array **out);
/* Classification head on the encoder outputs -> logits (B, labels). */
lc_status model_head(lc_model *m, lc_array *hidden, lc_array *pooled, lc_array **logits);
/* Shared transformer pieces. */
lc_status transformer_attention(lc_model *m, const encoder_layer *L, lc_array *x, lc_array *mask, lc_array **out);
/* The same with `residual` (the output's shape) added in the output projection (lc_linear_add); NULL: none. */
lc_status transformer_attention_res(lc_model *m, const encoder_layer *L, lc_array *x, lc_array *mask, lc_array *residual,
                                    lc_array **out);
lc_status ops_activation(activation act, lc_array *x, lc_array *w, lc_array *b, lc_array **out);
/* Whether residual adds go into the output projections' GEMMs (GPUs; LOCUS_RESIDUAL_GEMM overrides). */
bool residual_in_gemm(const lc_model *m);
/* Stack each layer's Q, K and V projections into one (3C, C) GEMM (on GPUs, or when
 * LOCUS_FUSE_QKV=1): one kernel instead of three. On the CPU the default keeps the separate
 * weights, which are used in place from the mapped file (stacking would copy them). */
lc_status fuse_qkv(lc_model *m);

#define TRY(expr)                                                                               \
    do {                                                                                        \
        lc_status _s = (expr);                                                                  \
        if (_s) {                                                                               \
            status = _s;                                                                        \
            goto done;                                                                          \
        }                                                                                       \
    } while (0)

#endif
