/* Loading Hugging Face model directories, built-in synthetic shapes, and the entry points that
 * turn texts into embeddings or labels (tokenize, batch, run, pool, normalise). */
#define _GNU_SOURCE /* qsort_r */
#include "models/model_internal.h"
#ifdef LOCUS_WITH_CUDA
#include "locus/cuda.h"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- small file helpers ---------------------------------------------------------------------- */
#define MAX_JSON_BYTES (64u << 20)

static bool file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Parse a JSON file; *out NULL (and LC_OK) when missing and optional. */
static lc_status read_json(const char *path, bool optional, cJSON **out) {
    *out = NULL;
    if (optional && !file_exists(path)) return LC_OK;
    char *buf = NULL;
    size_t len = 0;
    lc_status s = lc_read_file(path, MAX_JSON_BYTES, &buf, &len);
    if (s) return s;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(buf, &end, true);
    if (!j) {
        size_t at = end ? (size_t)(end - buf) : 0;
        free(buf);
        return lc_error(LC_ERR_FORMAT, "%s: invalid JSON near byte %zu", path, at);
    }
    free(buf);
    *out = j;
    return LC_OK;
}

/* An integer setting. A number beyond +-2^53 (or infinite) comes back clamped to that bound, which
 * every size check refuses; converting it to an integer type would be undefined. */
static int64_t json_int(const cJSON *o, const char *key, int64_t dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return dflt;
    const double d = v->valuedouble, lim = 9007199254740992.0;
    return !(d > -lim) ? -(int64_t)lim : d > lim ? (int64_t)lim : (int64_t)d;
}
static double json_num(const cJSON *o, const char *key, double dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}
static const char *json_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
static bool json_true(const cJSON *o, const char *key) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key)); }

/* ---- weights ---------------------------------------------------------------------------------- */
static uint64_t synth_seed(const char *name) { /* FNV-1a: the same weights for the same name */
    uint64_t h = 1469598103934665603ull;
    for (const char *p = name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

static lc_status to_model_array(lc_model *m, lc_array *a, lc_array **out) {
    lc_array *t = NULL;
    lc_status s = lc_astype(a, lc_is_float(a->dtype) ? m->opt.dtype : a->dtype, &t);
    if (s) return s;
    s = lc_array_to(t, m->opt.device, out);
    lc_array_release(t);
    return s;
}

lc_status model_weight(lc_model *m, const char *prefix, const char *name, int ndim, const int64_t *shape, int fill,
                       bool optional, lc_array **out) {
    char full[512];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    *out = NULL;
    lc_array *raw = NULL;
    lc_status s;
    if (!m->st) { /* synthetic */
        if (fill == -2) return LC_OK;
        if (fill >= 0) {
            s = lc_array_zeros(LC_F32, ndim, shape, LC_CPU, &raw);
            if (!s && fill == 1) {
                float *p;
                s = lc_array_host_data(raw, (void **)&p);
                for (int64_t i = 0; !s && i < lc_array_numel(raw); i++) p[i] = 1.0f;
            }
        } else {
            s = lc_array_rand(LC_F32, ndim, shape, -0.04f, 0.04f, synth_seed(full), LC_CPU, &raw);
        }
    } else {
        const char *key = full;
        char alt[512];
        if (!lc_safetensors_has(m->st, full)) { /* older checkpoints: LayerNorm.gamma / .beta */
            size_t n = strlen(full);
            alt[0] = '\0';
            if (n > 7 && strcmp(full + n - 7, ".weight") == 0 && strstr(full, "LayerNorm"))
                snprintf(alt, sizeof alt, "%.*s.gamma", (int)(n - 7), full);
            else if (n > 5 && strcmp(full + n - 5, ".bias") == 0 && strstr(full, "LayerNorm"))
                snprintf(alt, sizeof alt, "%.*s.beta", (int)(n - 5), full);
            if (alt[0] && lc_safetensors_has(m->st, alt)) key = alt;
            else if (optional) return LC_OK;
            else return lc_error(LC_ERR_FORMAT, "%s: checkpoint has no tensor '%s'", m->dir, full);
        }
        s = lc_safetensors_get(m->st, key, &raw);
        if (!s) {
            bool ok = raw->ndim == ndim && lc_is_float(raw->dtype);
            for (int i = 0; ok && i < ndim; i++) ok = raw->shape[i] == shape[i];
            if (!ok) {
                char got[128] = "", want[128] = "";
                for (int i = 0; i < raw->ndim; i++) snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? "," : "", (long long)raw->shape[i]);
                for (int i = 0; i < ndim; i++) snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? "," : "", (long long)shape[i]);
                s = lc_error(LC_ERR_SHAPE, "%s: tensor '%s' has shape (%s) %s, config.json implies (%s) float", m->dir, key, got,
                             lc_dtype_name(raw->dtype), want);
            }
        }
    }
    if (!s) s = to_model_array(m, raw, out);
    if (!s) m->weight_bytes += lc_array_nbytes(*out);
    lc_array_release(raw);
    return s;
}

/* ---- configuration ---------------------------------------------------------------------------- */
static lc_status parse_activation(const char *path, const char *act, activation *out) {
    if (!act || strcmp(act, "gelu") == 0) *out = ACT_GELU;
    else if (strcmp(act, "gelu_new") == 0 || strcmp(act, "gelu_pytorch_tanh") == 0 || strcmp(act, "gelu_fast") == 0) *out = ACT_GELU_TANH;
    else if (strcmp(act, "relu") == 0) *out = ACT_RELU;
    else return lc_error(LC_ERR_UNSUPPORTED, "%s: hidden activation '%s' is not supported (gelu, gelu_new, relu)", path, act);
    return LC_OK;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static lc_status parse_config(lc_model *m, const char *path, const cJSON *cfg) {
    const char *type = json_str(cfg, "model_type");
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(cfg, "architectures");
    const char *arch = cJSON_IsArray(archs) && cJSON_IsString(cJSON_GetArrayItem(archs, 0)) ? cJSON_GetArrayItem(archs, 0)->valuestring : NULL;
    if (!type) return lc_error(LC_ERR_FORMAT, "%s: no \"model_type\"", path);
    snprintf(m->model_type, sizeof m->model_type, "%s", type);
    model_config *c = &m->cfg;
    if (strcmp(type, "bert") == 0) m->family = FAMILY_BERT;
    else if (strcmp(type, "roberta") == 0 || strcmp(type, "xlm-roberta") == 0 || strcmp(type, "camembert") == 0) m->family = FAMILY_ROBERTA;
    else if (strcmp(type, "distilbert") == 0) m->family = FAMILY_DISTILBERT;
    else if (strcmp(type, "vit") == 0) m->family = FAMILY_VIT;
    else return lc_error(LC_ERR_UNSUPPORTED, "%s: model_type '%s' is not supported (bert, roberta, xlm-roberta, distilbert, vit)", path, type);
    snprintf(m->architecture, sizeof m->architecture, "%s", arch ? arch : type);
    if (arch && !(ends_with(arch, "Model") || ends_with(arch, "ForMaskedLM") || ends_with(arch, "ForSequenceClassification") ||
                  ends_with(arch, "ForImageClassification") || ends_with(arch, "ForPreTraining")))
        return lc_error(LC_ERR_UNSUPPORTED, "%s: architecture '%s' is not supported (encoders, sequence and image classifiers)", path, arch);

    if (m->family == FAMILY_DISTILBERT) {
        c->hidden = json_int(cfg, "dim", 768);
        c->layers = json_int(cfg, "n_layers", 6);
        c->heads = json_int(cfg, "n_heads", 12);
        c->intermediate = json_int(cfg, "hidden_dim", 4 * c->hidden);
        c->eps = 1e-12f;
        c->type_vocab = 0;
        lc_status s = parse_activation(path, json_str(cfg, "activation"), &c->act);
        if (s) return s;
        if (json_true(cfg, "sinusoidal_pos_embds")) return lc_error(LC_ERR_UNSUPPORTED, "%s: sinusoidal position embeddings are not supported", path);
    } else {
        c->hidden = json_int(cfg, "hidden_size", 768);
        c->layers = json_int(cfg, "num_hidden_layers", 12);
        c->heads = json_int(cfg, "num_attention_heads", 12);
        c->intermediate = json_int(cfg, "intermediate_size", 4 * c->hidden);
        c->eps = (float)json_num(cfg, "layer_norm_eps", 1e-12);
        c->type_vocab = json_int(cfg, "type_vocab_size", 2);
        lc_status s = parse_activation(path, json_str(cfg, "hidden_act"), &c->act);
        if (s) return s;
        const char *pet = json_str(cfg, "position_embedding_type");
        if (pet && strcmp(pet, "absolute") != 0) return lc_error(LC_ERR_UNSUPPORTED, "%s: position_embedding_type '%s' is not supported", path, pet);
    }
    c->vocab = json_int(cfg, "vocab_size", 30522);
    c->max_pos = json_int(cfg, "max_position_embeddings", 512);
    c->pad_id = json_int(cfg, "pad_token_id", m->family == FAMILY_ROBERTA ? 1 : 0);
    if (m->family == FAMILY_VIT) {
        c->image_size = json_int(cfg, "image_size", 224);
        c->patch = json_int(cfg, "patch_size", 16);
        c->channels = json_int(cfg, "num_channels", 3);
        if (c->patch < 1 || c->image_size < c->patch || c->image_size % c->patch)
            return lc_error(LC_ERR_FORMAT, "%s: image_size %lld is not a multiple of patch_size %lld", path, (long long)c->image_size, (long long)c->patch);
        c->max_pos = (c->image_size / c->patch) * (c->image_size / c->patch) + 1;
    }
    if (c->hidden < 1 || c->layers < 0 || c->heads < 1 || c->hidden % c->heads || c->intermediate < 1 || c->vocab < 0 ||
        c->max_pos < 1 || c->hidden > (1 << 16) || c->layers > 1024 || c->vocab > (1 << 24) || c->max_pos > (1 << 20))
        return lc_error(LC_ERR_FORMAT, "%s: inconsistent sizes (hidden %lld, heads %lld, layers %lld, intermediate %lld, vocab %lld, positions %lld)",
                        path, (long long)c->hidden, (long long)c->heads, (long long)c->layers, (long long)c->intermediate,
                        (long long)c->vocab, (long long)c->max_pos);
    if (!isfinite(c->eps) || c->eps < 0.0f)
        return lc_error(LC_ERR_FORMAT, "%s: layer_norm_eps %g is not a finite number >= 0", path, (double)c->eps);

    /* classification head */
    if (arch && (ends_with(arch, "ForSequenceClassification") || ends_with(arch, "ForImageClassification"))) {
        m->head = m->family == FAMILY_BERT ? HEAD_BERT : m->family == FAMILY_ROBERTA ? HEAD_ROBERTA
                : m->family == FAMILY_DISTILBERT ? HEAD_DISTILBERT : HEAD_VIT;
        const cJSON *id2label = cJSON_GetObjectItemCaseSensitive(cfg, "id2label");
        size_t n = cJSON_IsObject(id2label) ? (size_t)cJSON_GetArraySize(id2label) : (size_t)json_int(cfg, "num_labels", 2);
        if (n < 1 || n > 100000) return lc_error(LC_ERR_FORMAT, "%s: bad number of labels", path);
        m->num_labels = n;
        m->labels = calloc(n, sizeof *m->labels);
        if (!m->labels) return lc_error(LC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            char key[32];
            snprintf(key, sizeof key, "%zu", i);
            const char *lab = cJSON_IsObject(id2label) ? json_str(id2label, key) : NULL;
            if (cJSON_IsObject(id2label) && !lab) return lc_error(LC_ERR_FORMAT, "%s: id2label has no entry \"%zu\"", path, i);
            char dflt[32];
            snprintf(dflt, sizeof dflt, "LABEL_%zu", i);
            m->labels[i] = strdup(lab ? lab : dflt);
            if (!m->labels[i]) return lc_error(LC_ERR_NOMEM, "out of memory");
        }
        const char *pt = json_str(cfg, "problem_type");
        m->multi_label = pt && strcmp(pt, "multi_label_classification") == 0;
    }
    return LC_OK;
}

static lc_status load_head(lc_model *m) {
    int64_t C = m->cfg.hidden, L = (int64_t)m->num_labels, cc[2] = {C, C}, lc[2] = {L, C}, c1[1] = {C}, l1[1] = {L};
    lc_status s = LC_OK;
    switch (m->head) {
    case HEAD_BERT:
        if (!m->pooler_w) return lc_error(LC_ERR_FORMAT, "%s: BERT classifier without a pooler", m->dir);
        /* fallthrough */
    case HEAD_VIT:
        s = model_weight(m, "", "classifier.weight", 2, lc, -1, false, &m->cls_out_w);
        if (!s) s = model_weight(m, "", "classifier.bias", 1, l1, 0, false, &m->cls_out_b);
        break;
    case HEAD_ROBERTA:
        s = model_weight(m, "", "classifier.dense.weight", 2, cc, -1, false, &m->cls_dense_w);
        if (!s) s = model_weight(m, "", "classifier.dense.bias", 1, c1, 0, false, &m->cls_dense_b);
        if (!s) s = model_weight(m, "", "classifier.out_proj.weight", 2, lc, -1, false, &m->cls_out_w);
        if (!s) s = model_weight(m, "", "classifier.out_proj.bias", 1, l1, 0, false, &m->cls_out_b);
        break;
    case HEAD_DISTILBERT:
        s = model_weight(m, "", "pre_classifier.weight", 2, cc, -1, false, &m->cls_dense_w);
        if (!s) s = model_weight(m, "", "pre_classifier.bias", 1, c1, 0, false, &m->cls_dense_b);
        if (!s) s = model_weight(m, "", "classifier.weight", 2, lc, -1, false, &m->cls_out_w);
        if (!s) s = model_weight(m, "", "classifier.bias", 1, l1, 0, false, &m->cls_out_b);
        break;
    case HEAD_NONE: break;
    }
    return s;
}

/* The key prefix ("", "bert.", "roberta.", ...) in front of a tensor name that must exist. */
static lc_status find_prefix(lc_model *m, const char *suffix, char *prefix, size_t len) {
    size_t n = lc_safetensors_count(m->st), sl = strlen(suffix);
    for (size_t i = 0; i < n; i++) {
        const char *name = lc_safetensors_name(m->st, i);
        size_t nl = strlen(name);
        if (nl >= sl && strcmp(name + nl - sl, suffix) == 0 && nl - sl < len) {
            snprintf(prefix, len, "%.*s", (int)(nl - sl), name);
            return LC_OK;
        }
    }
    return lc_error(LC_ERR_FORMAT, "%s: checkpoint has no tensor named '...%s'", m->dir, suffix);
}

static lc_status load_sentence_transformers(lc_model *m) {
    char path[4096];
    cJSON *modules = NULL, *pool = NULL;
    m->pooling = LC_POOL_MEAN;
    m->normalize = false;
    snprintf(path, sizeof path, "%s/modules.json", m->dir);
    lc_status s = read_json(path, true, &modules);
    if (s) return s;
    if (modules) {
        if (!cJSON_IsArray(modules)) {
            cJSON_Delete(modules);
            return lc_error(LC_ERR_FORMAT, "%s: expected an array of modules", path);
        }
        const cJSON *mod;
        cJSON_ArrayForEach(mod, modules) {
            const char *type = json_str(mod, "type"), *mpath = json_str(mod, "path");
            if (!type) continue;
            if (strstr(type, "Normalize")) m->normalize = true;
            if (strstr(type, "Pooling") && mpath) {
                char pp[4096];
                snprintf(pp, sizeof pp, "%s/%s/config.json", m->dir, mpath);
                if ((s = read_json(pp, false, &pool))) break;
                const char *mode = json_str(pool, "pooling_mode"); /* newer sentence-transformers */
                if (mode && strcmp(mode, "cls") == 0) m->pooling = LC_POOL_CLS;
                else if (mode && strcmp(mode, "max") == 0) m->pooling = LC_POOL_MAX;
                else if (mode && strcmp(mode, "mean") == 0) m->pooling = LC_POOL_MEAN;
                else if (mode) s = lc_error(LC_ERR_UNSUPPORTED, "%s: pooling mode '%s' not supported (cls, mean, max)", pp, mode);
                else if (json_true(pool, "pooling_mode_cls_token")) m->pooling = LC_POOL_CLS;
                else if (json_true(pool, "pooling_mode_max_tokens")) m->pooling = LC_POOL_MAX;
                else if (json_true(pool, "pooling_mode_mean_tokens")) m->pooling = LC_POOL_MEAN;
                else s = lc_error(LC_ERR_UNSUPPORTED, "%s: pooling mode not supported (cls, mean, max)", pp);
                cJSON_Delete(pool);
                pool = NULL;
                if (s) break;
            }
        }
        cJSON_Delete(modules);
        if (s) return s;
    }
    return LC_OK;
}

/* The longest input the model takes, special tokens included: the smallest of the position
 * embeddings available (RoBERTa reserves padding_idx + 1 of them), tokenizer_config.json's
 * model_max_length and (for the embedding pipeline) sentence_bert_config.json's max_seq_length. */
static lc_status text_max_length(const char *dir, const char *model_type, int64_t max_pos, int64_t pad_id, bool sentence_transformers,
                               size_t *out) {
    char path[4096];
    bool roberta = strcmp(model_type, "roberta") == 0 || strcmp(model_type, "xlm-roberta") == 0 || strcmp(model_type, "camembert") == 0;
    int64_t avail = max_pos - (roberta ? pad_id + 1 : 0);
    size_t max_seq = avail > 0 ? (size_t)avail : 0;
    cJSON *j = NULL;
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    lc_status s = read_json(path, true, &j);
    if (s) return s;
    if (j) {
        double mml = json_num(j, "model_max_length", 0);
        if (mml > 0 && mml < (double)max_seq) max_seq = (size_t)mml;
        cJSON_Delete(j);
        j = NULL;
    }
    snprintf(path, sizeof path, "%s/sentence_bert_config.json", dir);
    if (sentence_transformers && (s = read_json(path, true, &j))) return s;
    if (j) {
        int64_t msl = json_int(j, "max_seq_length", 0);
        if (msl > 0 && (size_t)msl < max_seq) max_seq = (size_t)msl;
        cJSON_Delete(j);
    }
    *out = max_seq;
    return LC_OK;
}

static lc_status load_tokenizer(const char *dir, size_t max_seq, bool required, lc_tokenizer **out) {
    char path[4096];
    *out = NULL;
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (!file_exists(path)) return required ? lc_error(LC_ERR_IO, "%s: cannot open", path) : LC_OK;
    lc_status s = lc_tokenizer_load(path, out);
    if (s) return s;
    /* Like transformers (and sentence-transformers), the model's limit replaces the truncation
     * block of tokenizer.json; a bare tokenizer.json keeps its own (max_seq 0). */
    if (max_seq) lc_tokenizer_set_max_length(*out, max_seq);
    return LC_OK;
}

lc_status lc_model_dir_tokenizer(const char *dir, lc_tokenizer **out) {
    if (!dir || !out) return lc_error(LC_ERR_ARG, "lc_model_dir_tokenizer: NULL argument");
    char path[4096];
    cJSON *cfg = NULL;
    snprintf(path, sizeof path, "%s/config.json", dir);
    lc_status s = read_json(path, true, &cfg);
    if (s) return s;
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    if (!cfg && !file_exists(path)) return load_tokenizer(dir, 0, true, out); /* a bare tokenizer.json */
    const char *type = cfg ? json_str(cfg, "model_type") : NULL;
    bool roberta = type && (strcmp(type, "roberta") == 0 || strcmp(type, "xlm-roberta") == 0 || strcmp(type, "camembert") == 0);
    size_t max_seq = 0;
    s = text_max_length(dir, type ? type : "", cfg ? json_int(cfg, "max_position_embeddings", 512) : (int64_t)1 << 40,
                        cfg ? json_int(cfg, "pad_token_id", roberta ? 1 : 0) : 0, false, &max_seq);
    cJSON_Delete(cfg);
    if (!s) s = load_tokenizer(dir, max_seq, true, out);
    return s;
}

static lc_status load_text_side(lc_model *m) {
    lc_status s = text_max_length(m->dir, m->model_type, m->cfg.max_pos, m->cfg.pad_id, true, &m->max_seq);
    if (!s) s = load_sentence_transformers(m);
    if (!s) s = load_tokenizer(m->dir, m->max_seq, false, &m->tokenizer);
    return s;
}

static lc_status model_new(const char *name, const lc_model_options *opt, lc_model **out) {
    lc_model *m = calloc(1, sizeof *m);
    if (!m) return lc_error(LC_ERR_NOMEM, "out of memory");
    m->opt = opt ? *opt : (lc_model_options){LC_CPU, LC_F32};
    m->name = strdup(name);
    m->dir = strdup(name);
    if (!m->name || !m->dir) {
        lc_model_free(m);
        return lc_error(LC_ERR_NOMEM, "out of memory");
    }
    if (!lc_is_float(m->opt.dtype)) {
        lc_model_free(m);
        return lc_error(LC_ERR_ARG, "model dtype must be f32, f16 or bf16");
    }
    if (!lc_device_available(m->opt.device)) {
        lc_model_free(m);
        return lc_error(LC_ERR_DEVICE, "device %s:%d is not available in this build or on this machine",
                        m->opt.device.kind == LC_DEVICE_CUDA ? "cuda" : "cpu", m->opt.device.index);
    }
    *out = m;
    return LC_OK;
}

lc_status lc_model_load(const char *dir, const lc_model_options *opt, lc_model **out) {
    if (!dir || !out) return lc_error(LC_ERR_ARG, "lc_model_load: NULL argument");
    *out = NULL;
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return lc_error(LC_ERR_IO, "%s: not a model directory", dir);
    lc_model *m = NULL;
    lc_status s = model_new(dir, opt, &m);
    if (s) return s;
    char path[4096], prefix[256];
    cJSON *cfg = NULL;
    snprintf(path, sizeof path, "%s/config.json", dir);
    s = read_json(path, false, &cfg);
    if (!s) s = parse_config(m, path, cfg);
    cJSON_Delete(cfg);
    if (!s) s = lc_safetensors_open_dir(dir, &m->st);
    if (!s && m->family == FAMILY_VIT) {
        s = find_prefix(m, "embeddings.patch_embeddings.projection.weight", prefix, sizeof prefix);
        if (!s) s = vit_load_weights(m, prefix);
    } else if (!s) {
        s = find_prefix(m, "embeddings.word_embeddings.weight", prefix, sizeof prefix);
        if (!s) s = bert_load_weights(m, prefix);
    }
    if (!s) s = load_head(m);
    if (!s) s = fuse_qkv(m);
    if (!s && m->family != FAMILY_VIT) s = load_text_side(m);
    if (s) {
        lc_model_free(m);
        return s;
    }
    *out = m;
    return LC_OK;
}

lc_status lc_model_synthetic(const char *name, const lc_model_options *opt, lc_model **out) {
    static const struct {
        const char *name, *type;
        model_family family;
        int64_t vocab, hidden, layers, heads, inter, max_pos, type_vocab, pad;
    } shapes[] = {
        {"bert-base", "bert", FAMILY_BERT, 30522, 768, 12, 12, 3072, 512, 2, 0},
        {"bert-large", "bert", FAMILY_BERT, 30522, 1024, 24, 16, 4096, 512, 2, 0},
        {"roberta-base", "roberta", FAMILY_ROBERTA, 50265, 768, 12, 12, 3072, 514, 1, 1},
        {"xlm-roberta-base", "xlm-roberta", FAMILY_ROBERTA, 250002, 768, 12, 12, 3072, 514, 1, 1},
        {"minilm-l6", "bert", FAMILY_BERT, 30522, 384, 6, 12, 1536, 512, 2, 0},
        {"distilbert-base", "distilbert", FAMILY_DISTILBERT, 30522, 768, 6, 12, 3072, 512, 0, 0},
        {"vit-base", "vit", FAMILY_VIT, 0, 768, 12, 12, 3072, 197, 0, 0},
    };
    if (!name || !out) return lc_error(LC_ERR_ARG, "lc_model_synthetic: NULL argument");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (strcmp(name, shapes[i].name) != 0) continue;
        lc_model *m = NULL;
        lc_status s = model_new(name, opt, &m);
        if (s) return s;
        snprintf(m->model_type, sizeof m->model_type, "%s", shapes[i].type);
        snprintf(m->architecture, sizeof m->architecture, "%s", shapes[i].family == FAMILY_VIT ? "ViTModel" : "synthetic encoder");
        m->family = shapes[i].family;
        model_config *c = &m->cfg;
        c->vocab = shapes[i].vocab, c->hidden = shapes[i].hidden, c->layers = shapes[i].layers, c->heads = shapes[i].heads;
        c->intermediate = shapes[i].inter, c->max_pos = shapes[i].max_pos, c->type_vocab = shapes[i].type_vocab;
        c->pad_id = shapes[i].pad, c->act = ACT_GELU;
        c->eps = m->family == FAMILY_VIT ? 1e-12f : 1e-12f;
        c->image_size = 224, c->patch = 16, c->channels = 3;
        s = m->family == FAMILY_VIT ? vit_load_weights(m, "") : bert_load_weights(m, "");
        if (!s) s = fuse_qkv(m);
        if (s) {
            lc_model_free(m);
            return s;
        }
        m->pooling = LC_POOL_MEAN;
        *out = m;
        return LC_OK;
    }
    return lc_error(LC_ERR_ARG, "unknown built-in model '%s' (bert-base, bert-large, roberta-base, xlm-roberta-base, minilm-l6, distilbert-base, vit-base)", name);
}

static void release_layer(encoder_layer *L) {
    lc_array *all[] = {L->q_w, L->q_b, L->k_w, L->k_b, L->v_w, L->v_b, L->qkv_w, L->qkv_b, L->o_w, L->o_b, L->ln1_w, L->ln1_b,
                       L->i_w, L->i_b, L->out_w, L->out_b, L->ln2_w, L->ln2_b};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) lc_array_release(all[i]);
}

void lc_model_free(lc_model *m) {
    if (!m) return;
#ifdef LOCUS_WITH_CUDA
    lc_cuda_graph_cache_free(m->graphs);
    lc_cuda_graph_cache_free(m->graphs_nopool);
#endif
    if (m->layer)
        for (int64_t l = 0; l < m->cfg.layers; l++) release_layer(&m->layer[l]);
    free(m->layer);
    lc_array *all[] = {m->word_emb, m->pos_emb, m->type_emb, m->emb_ln_w, m->emb_ln_b, m->patch_w, m->patch_b,
                       m->cls_token, m->final_ln_w, m->final_ln_b, m->pooler_w, m->pooler_b, m->cls_dense_w,
                       m->cls_dense_b, m->cls_out_w, m->cls_out_b};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) lc_array_release(all[i]);
    for (size_t i = 0; m->labels && i < m->num_labels; i++) free(m->labels[i]);
    free(m->labels);
    lc_tokenizer_free(m->tokenizer);
    lc_safetensors_close(m->st);
    free(m->name);
    free(m->dir);
    free(m);
}

const char *lc_model_name(const lc_model *m) { return m->name; }
const char *lc_model_type(const lc_model *m) { return m->model_type; }
const char *lc_model_architecture(const lc_model *m) { return m->architecture; }
int64_t lc_model_hidden_size(const lc_model *m) { return m->cfg.hidden; }
int64_t lc_model_num_layers(const lc_model *m) { return m->cfg.layers; }
int64_t lc_model_max_positions(const lc_model *m) { return m->cfg.max_pos; }
size_t lc_model_weight_bytes(const lc_model *m) { return m->weight_bytes; }
bool lc_model_is_vision(const lc_model *m) { return m->family == FAMILY_VIT; }
lc_tokenizer *lc_model_tokenizer(lc_model *m) { return m->tokenizer; }
bool lc_model_is_classifier(const lc_model *m) { return m->head != HEAD_NONE; }
size_t lc_model_num_labels(const lc_model *m) { return m->num_labels; }
const char *lc_model_label(const lc_model *m, size_t i) { return i < m->num_labels ? m->labels[i] : NULL; }
bool lc_model_multi_label(const lc_model *m) { return m->multi_label; }

double lc_model_flops(const lc_model *m, int64_t batch, int64_t seq) {
    const model_config *c = &m->cfg;
    double B = (double)batch, T = (double)seq, C = (double)c->hidden, I = (double)c->intermediate;
    if (m->family == FAMILY_VIT) { /* seq is ignored: the image fixes the token count */
        double n = (double)((c->image_size / c->patch) * (c->image_size / c->patch));
        T = n + 1;
        double patch = 2.0 * B * n * C * (double)(c->channels * c->patch * c->patch);
        return patch + (double)c->layers * (8.0 * B * T * C * C + 4.0 * B * T * C * I + 4.0 * B * T * T * C);
    }
    return (double)c->layers * (8.0 * B * T * C * C + 4.0 * B * T * C * I + 4.0 * B * T * T * C);
}

lc_status lc_model_forward(lc_model *m, lc_array *ids, lc_array *type_ids, lc_array *mask, lc_array **hidden, lc_array **pooled) {
    if (!m || !ids) return lc_error(LC_ERR_ARG, "lc_model_forward: NULL argument");
    if (pooled) *pooled = NULL;
    if (m->family == FAMILY_VIT) return vit_forward(m, ids, hidden, pooled);
    return bert_forward(m, ids, type_ids, mask, hidden, pooled);
}

/* ---- texts -> batches ------------------------------------------------------------------------- */
typedef struct {
    lc_encoding *enc;
    size_t n;
    size_t *order; /* indices sorted by length, longest first (less padding per batch) */
} encoded_texts;

static void encoded_free(encoded_texts *e) {
    for (size_t i = 0; e->enc && i < e->n; i++) lc_encoding_free(&e->enc[i]);
    free(e->enc);
    free(e->order);
}

static int by_length_desc(const void *a, const void *b, void *ctx) {
    const encoded_texts *e = ctx;
    size_t la = e->enc[*(const size_t *)a].len, lb = e->enc[*(const size_t *)b].len;
    if (la != lb) return la < lb ? 1 : -1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static lc_status encode_all(lc_model *m, size_t n, const char *const *texts, encoded_texts *e) {
    memset(e, 0, sizeof *e);
    if (!m->tokenizer) return lc_error(LC_ERR_IO, "%s: no tokenizer.json in the model directory", m->dir);
    e->enc = calloc(n ? n : 1, sizeof *e->enc);
    e->order = calloc(n ? n : 1, sizeof *e->order);
    if (!e->enc || !e->order) return lc_error(LC_ERR_NOMEM, "out of memory");
    e->n = n;
    for (size_t i = 0; i < n; i++) {
        if (!texts[i]) return lc_error(LC_ERR_ARG, "text %zu is NULL", i);
        lc_status s = lc_tokenizer_encode(m->tokenizer, texts[i], strlen(texts[i]), true, &e->enc[i]);
        if (s) return s;
        if (e->enc[i].len == 0) return lc_error(LC_ERR_ARG, "text %zu encodes to no tokens", i);
        e->order[i] = i;
    }
    qsort_r(e->order, n, sizeof *e->order, by_length_desc, e);
    return LC_OK;
}

/* ids, type ids and mask (B, T) for order[first .. first+count). */
static lc_status make_batch(lc_model *m, const encoded_texts *e, size_t first, size_t count, lc_array **ids, lc_array **types,
                            lc_array **mask) {
    size_t T = 0;
    for (size_t i = 0; i < count; i++)
        if (e->enc[e->order[first + i]].len > T) T = e->enc[e->order[first + i]].len;
    int64_t shape[2] = {(int64_t)count, (int64_t)T};
    lc_status s = lc_array_empty(LC_I64, 2, shape, LC_CPU, ids);
    if (!s) s = lc_array_empty(LC_I64, 2, shape, LC_CPU, types);
    if (!s) s = lc_array_empty(LC_I64, 2, shape, LC_CPU, mask);
    if (s) return s;
    int64_t *pi, *pt, *pm;
    lc_array_host_data(*ids, (void **)&pi);
    lc_array_host_data(*types, (void **)&pt);
    lc_array_host_data(*mask, (void **)&pm);
    int64_t pad = lc_tokenizer_pad_id(m->tokenizer);
    if (m->family == FAMILY_ROBERTA) pad = m->cfg.pad_id;
    for (size_t b = 0; b < count; b++) {
        const lc_encoding *enc = &e->enc[e->order[first + b]];
        for (size_t t = 0; t < T; t++) {
            bool real = t < enc->len;
            pi[b * T + t] = real ? enc->ids[t] : pad;
            pt[b * T + t] = real && enc->type_ids && m->type_emb ? enc->type_ids[t] : 0;
            pm[b * T + t] = real ? 1 : 0;
            if (real && (enc->ids[t] < 0 || enc->ids[t] >= m->cfg.vocab))
                return lc_error(LC_ERR_FORMAT, "%s: token id %lld is outside the model's vocabulary of %lld", m->dir,
                                (long long)enc->ids[t], (long long)m->cfg.vocab);
            if (real && pt[b * T + t] >= m->cfg.type_vocab && m->type_emb) pt[b * T + t] = 0;
        }
    }
    return LC_OK;
}

/* Pool hidden (B, T, C) with mask (B, T) -> (B, C) on the device of hidden. */
static lc_status pool(lc_pooling mode, lc_array *hidden, lc_array *mask, lc_array **out) {
    lc_status status = LC_OK;
    lc_array *m3 = NULL, *mf = NULL, *prod = NULL, *sum = NULL, *cnt = NULL, *cls = NULL, *bias = NULL, *shifted = NULL;
    int64_t B = hidden->shape[0], T = hidden->shape[1], C = hidden->shape[2];
    int64_t s3[3] = {B, T, 1}, s2[2] = {B, C};
    if (mode == LC_POOL_CLS) {
        TRY(lc_slice(hidden, 1, 0, 1, &cls));
        TRY(lc_reshape(cls, 2, s2, out));
        goto done;
    }
    TRY(lc_astype(mask, hidden->dtype, &mf));
    TRY(lc_reshape(mf, 3, s3, &m3));
    if (mode == LC_POOL_MAX) { /* padding pushed to -1e9 as sentence-transformers does */
        lc_array *one = NULL, *neg = NULL;
        float vone = 1.0f;
        TRY(lc_array_from_data(LC_F32, 0, NULL, &vone, &one));
        lc_array *onec = NULL;
        lc_status s = lc_astype(one, hidden->dtype, &onec);
        lc_array_release(one);
        TRY(s);
        s = lc_sub(m3, onec, &neg); /* 0 for tokens, -1 for padding */
        lc_array_release(onec);
        TRY(s);
        s = lc_scale(neg, 1e9f, &bias);
        lc_array_release(neg);
        TRY(s);
        TRY(lc_add(hidden, bias, &shifted));
        TRY(lc_max(shifted, 1, false, out));
        goto done;
    }
    TRY(lc_mul(hidden, m3, &prod));
    TRY(lc_sum(prod, 1, false, &sum));
    TRY(lc_sum(m3, 1, false, &cnt)); /* (B, 1) */
    TRY(lc_div(sum, cnt, out));
done:
    lc_array_release(m3), lc_array_release(mf), lc_array_release(prod), lc_array_release(sum), lc_array_release(cnt);
    lc_array_release(cls), lc_array_release(bias), lc_array_release(shifted);
    return status;
}

lc_status lc_model_embed(lc_model *m, size_t n, const char *const *texts, lc_pooling pooling, int normalize, size_t batch,
                         lc_array **out, lc_array **hidden_out) {
    if (!m || (n && !texts)) return lc_error(LC_ERR_ARG, "lc_model_embed: NULL argument");
    if (m->family == FAMILY_VIT) return lc_error(LC_ERR_UNSUPPORTED, "%s: embed takes text models", m->dir);
    if (pooling == LC_POOL_DEFAULT) pooling = m->pooling ? m->pooling : LC_POOL_MEAN;
    bool norm = normalize < 0 ? m->normalize : normalize > 0;
    if (pooling == LC_POOL_NONE && !hidden_out) return lc_error(LC_ERR_ARG, "lc_model_embed: pooling none needs hidden_out");
    if (pooling != LC_POOL_NONE && !out) return lc_error(LC_ERR_ARG, "lc_model_embed: NULL out");
    if (batch == 0) batch = 32;
    int64_t C = m->cfg.hidden;
    encoded_texts e;
    lc_status status = encode_all(m, n, texts, &e);
    float *result = NULL;
    if (status) goto done;
    if (pooling != LC_POOL_NONE) {
        result = calloc(n ? n * (size_t)C : 1, sizeof(float));
        if (!result) TRY(lc_error(LC_ERR_NOMEM, "out of memory"));
    }
    for (size_t first = 0; first < n; first += batch) {
        size_t count = n - first < batch ? n - first : batch;
        lc_array *ids = NULL, *types = NULL, *mask = NULL, *hidden = NULL, *pooled = NULL;
        lc_status s = make_batch(m, &e, first, count, &ids, &types, &mask);
        if (!s) s = lc_model_forward(m, ids, types, mask, &hidden, NULL);
        if (!s && pooling != LC_POOL_NONE) {
            s = pool(pooling, hidden, mask, &pooled);
            float *tmp = s ? NULL : malloc(sizeof(float) * count * (size_t)C);
            if (!s && !tmp) s = lc_error(LC_ERR_NOMEM, "out of memory");
            if (!s) s = lc_array_read_f32(pooled, tmp, count * (size_t)C);
            for (size_t b = 0; !s && b < count; b++)
                memcpy(result + e.order[first + b] * (size_t)C, tmp + b * (size_t)C, sizeof(float) * (size_t)C);
            free(tmp);
        } else if (!s) {
            int64_t T = hidden->shape[1];
            float *tmp = malloc(sizeof(float) * count * (size_t)(T * C));
            if (!tmp) s = lc_error(LC_ERR_NOMEM, "out of memory");
            if (!s) s = lc_array_read_f32(hidden, tmp, count * (size_t)(T * C));
            for (size_t b = 0; !s && b < count; b++) {
                size_t idx = e.order[first + b];
                int64_t shape[2] = {(int64_t)e.enc[idx].len, C};
                s = lc_array_from_data(LC_F32, 2, shape, tmp + b * (size_t)(T * C), &hidden_out[idx]);
            }
            free(tmp);
        }
        lc_array_release(ids), lc_array_release(types), lc_array_release(mask);
        lc_array_release(hidden), lc_array_release(pooled);
        TRY(s);
    }
    if (pooling != LC_POOL_NONE) {
        if (norm) /* as torch.nn.functional.normalize: x / max(||x||, 1e-12) */
            for (size_t i = 0; i < n; i++) {
                double ss = 0;
                for (int64_t j = 0; j < C; j++) ss += (double)result[i * C + j] * result[i * C + j];
                double nrm = sqrt(ss);
                float inv = (float)(1.0 / (nrm > 1e-12 ? nrm : 1e-12));
                for (int64_t j = 0; j < C; j++) result[i * C + j] *= inv;
            }
        int64_t shape[2] = {(int64_t)n, C};
        TRY(lc_array_from_data(LC_F32, 2, shape, result, out));
    }
done:
    free(result);
    encoded_free(&e);
    return status;
}

/* ---- classification ------------------------------------------------------------------------- */
lc_status model_head(lc_model *m, lc_array *hidden, lc_array *pooled, lc_array **logits) {
    lc_status status = LC_OK;
    lc_array *cls = NULL, *flat = NULL, *d = NULL, *act = NULL;
    int64_t s2[2] = {hidden->shape[0], m->cfg.hidden};
    if (m->head == HEAD_BERT) {
        if (!pooled) return lc_error(LC_ERR_INTERNAL, "classifier needs the pooled output");
        return lc_linear(pooled, m->cls_out_w, m->cls_out_b, logits);
    }
    TRY(lc_slice(hidden, 1, 0, 1, &cls));
    TRY(lc_reshape(cls, 2, s2, &flat));
    if (m->head == HEAD_VIT) {
        TRY(lc_linear(flat, m->cls_out_w, m->cls_out_b, logits));
        goto done;
    }
    TRY(lc_linear(flat, m->cls_dense_w, m->cls_dense_b, &d));
    if (m->head == HEAD_ROBERTA) TRY(lc_tanh(d, &act));
    else TRY(lc_relu(d, &act));
    TRY(lc_linear(act, m->cls_out_w, m->cls_out_b, logits));
done:
    lc_array_release(cls), lc_array_release(flat), lc_array_release(d), lc_array_release(act);
    return status;
}

lc_status lc_model_classify_texts(lc_model *m, size_t n, const char *const *texts, size_t batch, lc_array **logits) {
    if (!m || !logits || (n && !texts)) return lc_error(LC_ERR_ARG, "lc_model_classify_texts: NULL argument");
    if (m->head == HEAD_NONE) return lc_error(LC_ERR_UNSUPPORTED, "%s: %s has no classification head", m->dir, m->architecture);
    if (m->family == FAMILY_VIT) return lc_error(LC_ERR_UNSUPPORTED, "%s: image model: give images, not texts", m->dir);
    if (batch == 0) batch = 32;
    size_t L = m->num_labels;
    encoded_texts e;
    float *result = NULL;
    lc_status status = encode_all(m, n, texts, &e);
    if (status) goto done;
    result = calloc(n ? n * L : 1, sizeof(float));
    if (!result) TRY(lc_error(LC_ERR_NOMEM, "out of memory"));
    for (size_t first = 0; first < n; first += batch) {
        size_t count = n - first < batch ? n - first : batch;
        lc_array *ids = NULL, *types = NULL, *mask = NULL, *hidden = NULL, *pooled = NULL, *lg = NULL;
        float *tmp = NULL;
        lc_status s = make_batch(m, &e, first, count, &ids, &types, &mask);
        if (!s) s = lc_model_forward(m, ids, types, mask, &hidden, &pooled);
        if (!s) s = model_head(m, hidden, pooled, &lg);
        if (!s && !(tmp = malloc(sizeof(float) * count * L))) s = lc_error(LC_ERR_NOMEM, "out of memory");
        if (!s) s = lc_array_read_f32(lg, tmp, count * L);
        for (size_t b = 0; !s && b < count; b++) memcpy(result + e.order[first + b] * L, tmp + b * L, sizeof(float) * L);
        free(tmp);
        lc_array_release(ids), lc_array_release(types), lc_array_release(mask);
        lc_array_release(hidden), lc_array_release(pooled), lc_array_release(lg);
        TRY(s);
    }
    int64_t shape[2] = {(int64_t)n, (int64_t)L};
    TRY(lc_array_from_data(LC_F32, 2, shape, result, logits));
done:
    free(result);
    encoded_free(&e);
    return status;
}
