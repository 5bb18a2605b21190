/* Models loaded from Hugging Face checkpoint directories (config.json + model.safetensors +
 * tokenizer.json [+ sentence-transformers modules.json / 1_Pooling/config.json]). */
#ifndef LOCUS_MODEL_H
#define LOCUS_MODEL_H
#include "../locus.h"
#include "tokenizer.h"

typedef struct lc_tokenizer lc_tokenizer; /* (also in tokenizer.h; repeated for include order) */
#ifdef __cplusplus
extern "C" {
#endif

typedef struct lc_model lc_model;

typedef struct lc_model_options {
    lc_device device; /* default LC_CPU */
    lc_dtype dtype;   /* compute dtype for weights and activations; default LC_F32 */
} lc_model_options;

typedef enum lc_pooling {
    LC_POOL_DEFAULT = 0, /* from the sentence-transformers files, else mean */
    LC_POOL_CLS,
    LC_POOL_MEAN,
    LC_POOL_MAX,
    LC_POOL_NONE /* last hidden state */
} lc_pooling;

/* Load a checkpoint directory. Architecture comes from config.json (`architectures`,
 * `model_type`); unknown ones are LC_ERR_UNSUPPORTED naming them. opt may be NULL. */
lc_status lc_model_load(const char *dir, const lc_model_options *opt, lc_model **out);
/* A built-in shape with seeded random weights: "bert-base", "bert-large", "roberta-base",
 * "xlm-roberta-base", "minilm-l6", "distilbert-base", "vit-base". */
lc_status lc_model_synthetic(const char *name, const lc_model_options *opt, lc_model **out);
void lc_model_free(lc_model *m);
/* The tokenizer of a model directory, truncating where Hugging Face's AutoTokenizer does with
 * truncation=True (model_max_length, the position embeddings available), without the weights.
 * (lc_model_load's embedding pipeline also honours sentence_bert_config.json's max_seq_length.) */
lc_status lc_model_dir_tokenizer(const char *dir, lc_tokenizer **out);

const char *lc_model_name(const lc_model *m);        /* directory or built-in name */
const char *lc_model_type(const lc_model *m);        /* "bert", "roberta", "vit", ... */
const char *lc_model_architecture(const lc_model *m); /* "BertModel", "ViTForImageClassification", ... */
int64_t lc_model_hidden_size(const lc_model *m);
int64_t lc_model_num_layers(const lc_model *m);
int64_t lc_model_max_positions(const lc_model *m);
size_t lc_model_weight_bytes(const lc_model *m);
bool lc_model_is_vision(const lc_model *m);
/* FLOPs of one forward at batch b, sequence t (2 per multiply-add). */
double lc_model_flops(const lc_model *m, int64_t batch, int64_t seq);
/* The tokenizer loaded from the directory (NULL for synthetic or vision models). */
lc_tokenizer *lc_model_tokenizer(lc_model *m);

/* Encoder forward. ids (B, T) i64; type_ids (B, T) or NULL; mask (B, T) (1 keep, 0 pad) or NULL.
 * -> hidden (B, T, H); pooled (B, H) from the pooler when the checkpoint has one (else NULL).
 * Either out-pointer may be NULL. For vision models ids is pixel_values (B, 3, H, W) f32. */
lc_status lc_model_forward(lc_model *m, lc_array *ids, lc_array *type_ids, lc_array *mask, lc_array **hidden,
                           lc_array **pooled);

/* Tokenize, batch, run, pool and (optionally) normalise. normalize: -1 default, 0 no, 1 yes.
 * -> (N, H) for pooled outputs; for LC_POOL_NONE one (T_i, H) array per text in hidden_out[i]. */
lc_status lc_model_embed(lc_model *m, size_t n, const char *const *texts, lc_pooling pooling, int normalize,
                         size_t batch, lc_array **out, lc_array **hidden_out);

/* Sequence/image classification. -> logits (N, L). */
bool lc_model_is_classifier(const lc_model *m);
size_t lc_model_num_labels(const lc_model *m);
const char *lc_model_label(const lc_model *m, size_t i);
/* true when problem_type is multi_label_classification (sigmoid), else softmax. */
bool lc_model_multi_label(const lc_model *m);
lc_status lc_model_classify_texts(lc_model *m, size_t n, const char *const *texts, size_t batch, lc_array **logits);
/* Image classification from preprocessed pixel_values (N, C, H, W) -> logits (N, L). */
lc_status lc_model_classify_pixels(lc_model *m, lc_array *pixel_values, lc_array **logits);
/* Input resolution of an image model (config.json image_size). */
lc_status lc_model_image_size(const lc_model *m, int64_t *size);

#ifdef __cplusplus
}
#endif
#endif
