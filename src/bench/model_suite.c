/* The model suite: encoder forwards over a batch x sequence grid (the study's grid is
 * {1, 16, 32} x {32, 128, 512} tokens), synthetic weights for the built-in shapes or a real
 * checkpoint directory. Reports latency, tokens/s, sequences/s, achieved GFLOP/s against the
 * device's ceilings, peak memory and energy per inference where a counter can be read. */
#include "bench/bench_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int bench_model_count(int nmodels, const char *const *models, int nb, int ns) {
    int n = 0;
    for (int i = 0; i < nmodels; i++) n += strncmp(models[i], "vit", 3) == 0 ? nb : nb * ns; /* images: batches only */
    return n;
}

typedef struct {
    lc_model *m;
    lc_array *ids, *mask;
} model_run;

static lc_status forward_once(void *p) {
    model_run *r = p;
    lc_array *hidden = NULL;
    lc_status s = lc_model_forward(r->m, r->ids, NULL, r->mask, &hidden, NULL);
    lc_array_release(hidden);
    return s;
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ids (B, T): deterministic token ids in [100, 1000), inside every supported vocabulary; the
 * mask keeps every token. For a vision model the input is pixel values (B, 3, T, T) f32, with
 * T the image side. */
static lc_status make_inputs(lc_model *m, int64_t B, int64_t T, lc_device d, model_run *r) {
    lc_status s;
    if (lc_model_is_vision(m)) {
        int64_t shape[4] = {B, 3, T, T};
        return lc_array_rand(LC_F32, 4, shape, -1, 1, 5, d, &r->ids);
    }
    int64_t shape[2] = {B, T};
    int64_t *ids = malloc((size_t)(B * T) * sizeof *ids), *mask = malloc((size_t)(B * T) * sizeof *mask);
    if (!ids || !mask) {
        free(ids), free(mask);
        return lc_error(LC_ERR_NOMEM, "bench: out of memory for model inputs");
    }
    for (int64_t i = 0; i < B * T; i++) {
        ids[i] = 100 + (i * 7919) % 900;
        mask[i] = 1;
    }
    lc_array *hi = NULL, *hm = NULL;
    s = lc_array_from_data(LC_I64, 2, shape, ids, &hi);
    if (!s) s = lc_array_from_data(LC_I64, 2, shape, mask, &hm);
    free(ids), free(mask);
    if (!s) s = lc_array_to(hi, d, &r->ids);
    if (!s) s = lc_array_to(hm, d, &r->mask);
    lc_array_release(hi);
    lc_array_release(hm);
    return s;
}

/* The forward's output must have the right shape and be finite before it is timed. */
static lc_status check_forward(model_run *r, int64_t B, int64_t T, int64_t H, cJSON *chk) {
    lc_array *hidden = NULL;
    lc_status s = lc_model_forward(r->m, r->ids, NULL, r->mask, &hidden, NULL);
    if (s) return s;
    int64_t n = lc_array_numel(hidden);
    bool shape_ok = lc_array_ndim(hidden) == 3 && lc_array_dim(hidden, 0) == B && lc_array_dim(hidden, 2) == H &&
                    (lc_model_is_vision(r->m) || lc_array_dim(hidden, 1) == T);
    float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v) {
        lc_array_release(hidden);
        return lc_error(LC_ERR_NOMEM, "bench: out of memory");
    }
    s = lc_array_read_f32(hidden, v, (size_t)n);
    lc_array_release(hidden);
    int64_t bad = 0;
    for (int64_t i = 0; !s && i < n; i++) bad += !isfinite(v[i]);
    free(v);
    if (s) return s;
    cJSON_AddStringToObject(chk, "status", shape_ok && bad == 0 ? "passed" : "failed");
    cJSON_AddStringToObject(chk, "reference",
                            "shape (B, T, hidden) and every value finite; numerical parity with Hugging Face "
                            "transformers is the model tests' job");
    cJSON_AddNumberToObject(chk, "non_finite_values", (double)bad);
    return LC_OK;
}

void bench_run_models(bench_ctx *bc, lc_device d, int nmodels, const char *const *models, int nb,
                      const int64_t *batches, int ns, const int64_t *seqs, cJSON *results) {
    lc_dtype t = bench_dtype(bc);
    for (int mi = 0; mi < nmodels; mi++) {
        const char *name = models[mi];
        lc_model_options opt = {.device = d, .dtype = t};
        lc_model *m = NULL;
        bool real = is_dir(name);
        lc_status s = LC_OK;
        if (!bench_list_only(bc)) s = real ? lc_model_load(name, &opt, &m) : lc_model_synthetic(name, &opt, &m);
        /* A vision model's token count is fixed by its image: one run per batch size. */
        bool vision = m ? lc_model_is_vision(m) : strncmp(name, "vit", 3) == 0;
        int64_t side = 224, vtokens = 197; /* ViT-B/16's, until a loaded model says otherwise */
        if (vision && m) {
            if (lc_model_image_size(m, &side) != LC_OK) side = 224;
            vtokens = lc_model_max_positions(m);
        }
        for (int bi = 0; bi < nb; bi++)
            for (int si = 0; si < (vision ? 1 : ns); si++) {
                int64_t B = batches[bi], T = vision ? side : seqs[si];
                char what[256], args[64];
                if (vision) snprintf(args, sizeof args, "batch=%lld image=%lld", (long long)B, (long long)T);
                else snprintf(args, sizeof args, "batch=%lld seq=%lld", (long long)B, (long long)T);
                snprintf(what, sizeof what, "%s %s", name, args);
                bench_progress(bc, what);
                cJSON *r = bench_result_new("model", name, args, d, t);
                cJSON_AddItemToArray(results, r);
                /* seq: tokens per sequence (for an image model, patches + [CLS]) */
                int64_t tokens = vision ? vtokens : T;
                cJSON_AddNumberToObject(r, "batch", (double)B);
                cJSON_AddNumberToObject(r, "seq", (double)tokens);
                if (vision) cJSON_AddNumberToObject(r, "image", (double)side);
                cJSON_AddStringToObject(r, "weights", real ? "checkpoint" : "synthetic");
                if (bench_list_only(bc)) {
                    bench_result_error(r, "skipped", "listed only (--list)");
                    continue;
                }
                if (s) {
                    bench_result_error(r, s == LC_ERR_UNSUPPORTED ? "unsupported" : "error", lc_last_error());
                    continue;
                }
                if (!lc_model_is_vision(m) && T > lc_model_max_positions(m)) {
                    char msg[128];
                    snprintf(msg, sizeof msg, "sequence %lld exceeds the model's %lld positions", (long long)T,
                             (long long)lc_model_max_positions(m));
                    bench_result_error(r, "skipped", msg);
                    continue;
                }
                model_run run = {m, NULL, NULL};
                lc_status rs = make_inputs(m, B, T, d, &run);
                cJSON *chk = cJSON_AddObjectToObject(r, "check");
                if (!rs) rs = check_forward(&run, B, T, lc_model_hidden_size(m), chk);
                if (rs) {
                    bench_result_error(r, rs == LC_ERR_UNSUPPORTED ? "unsupported" : "error", lc_last_error());
                    lc_clear_error();
                } else if (strcmp(bench_str(chk, "status"), "passed") != 0) {
                    cJSON_AddStringToObject(r, "status", "wrong-result");
                } else {
                    lc_bench_measurement meas;
                    rs = lc_bench_measure(d, forward_once, &run, bench_budget(bc), &meas);
                    if (rs) {
                        bench_result_error(r, "error", lc_last_error());
                        lc_clear_error();
                    } else {
                        cJSON_AddStringToObject(r, "status", "ok");
                        bench_result_measurement(r, &meas);
                        double flops = lc_model_flops(m, B, tokens);
                        double es = (double)lc_dtype_size(t);
                        /* minimum bytes: every weight read once, ids in, hidden states out */
                        double in_bytes = vision ? 4.0 * (double)(B * 3 * side * side) : 8.0 * (double)(B * T);
                        double bytes = (double)lc_model_weight_bytes(m) + in_bytes +
                                       es * (double)(B * tokens * lc_model_hidden_size(m));
                        bench_add_rates(bc, d, r, flops, bytes, meas.stats.median_ms);
                        double sec = meas.stats.median_ms / 1000.0;
                        cJSON_AddNumberToObject(r, "tokens_per_s", (double)(B * tokens) / sec);
                        cJSON_AddNumberToObject(r, "sequences_per_s", (double)B / sec);
                        if (meas.energy_j > 0) cJSON_AddNumberToObject(r, "sequences_per_j", (double)B / meas.energy_j);
                        else cJSON_AddNullToObject(r, "sequences_per_j");
                    }
                }
                lc_array_release(run.ids);
                lc_array_release(run.mask);
            }
        if (s) lc_clear_error();
        lc_model_free(m);
    }
}
