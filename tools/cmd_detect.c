/* locus detect IMAGE... [--model DETECTOR_DIR] [--fake-label NAME] [--trust PEM] [--json]
 *
 * Two independent sources about each image, reported side by side and never merged into one verdict:
 *   1. its C2PA content credentials (locus/c2pa.h): Absent, Invalid, Valid or Trusted, who signed,
 *      with which tool, and whether an action of the active manifest (or of an ingredient manifest
 *      it chains to) declares generative AI through an IPTC digitalSourceType;
 *   2. with --model, an image classifier's probability for its "synthetic" label (softmax, or
 *      sigmoid for multi-label heads), computed exactly as `locus classify` scores that label.
 * Directories are walked; images stream through the model --batch at a time and each file's line
 * (or JSON object) is printed as soon as its batch is done.
 *
 * Exit status: 0 every file was read; 3 some file could not be read or scored (missing, not a
 * JPEG/PNG, corrupt, malformed C2PA data; the others are still reported); 2 usage (bad option, no
 * images, no label of the model to call synthetic); 1 the model or the trust file could not be
 * loaded. */
#include "cli.h"
#include "locus/c2pa.h"
#include "locus/image.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CMD "detect"

static void usage(FILE *f) {
    fprintf(f,
            "usage: locus detect IMAGE|DIR... [--model DETECTOR_DIR] [--fake-label NAME] [--trust PEM] [--json]\n"
            "                    [--batch N] [--threads N] [--device cpu|cuda] [--dtype f32|f16|bf16] [--exif-transpose]\n"
            "\n"
            "For each JPEG or PNG (directories are walked), report two independent sources side by side:\n"
            "  credentials  its C2PA content credentials: Absent (no credentials: provenance unknown), Invalid\n"
            "               (altered after signing, or not checkable), Valid (intact; signer not on a trust list)\n"
            "               or Trusted (intact; signer chains to --trust); who signed, the generator tool, and\n"
            "               whether an action declares generative AI through its IPTC digitalSourceType\n"
            "               (trainedAlgorithmicMedia or compositeWithTrainedAlgorithmicMedia; algorithmicMedia\n"
            "               and compositeSynthetic are reported as synthetic content, not generative AI).\n"
            "               Credentials say who signed what; they do not prove the content true.\n"
            "  detector     with --model: the classifier's probability for its synthetic label (softmax, or\n"
            "               sigmoid for multi-label heads), the score `locus classify` gives that label. It is\n"
            "               one model's estimate, not proof either way.\n"
            "\n"
            "  --model DIR       a Hugging Face image classifier (config.json, model.safetensors,\n"
            "                    preprocessor_config.json)\n"
            "  --fake-label NAME the label meaning synthetic; default: the one label matching fake, synthetic,\n"
            "                    generated, artificial (substrings) or the word AI, case-insensitive\n"
            "  --trust PEM       trust anchors (PEM certificates) for the Trusted state\n"
            "  --batch N         images per model batch (default 16)\n"
            "  --json            one JSON object instead of one line per file:\n"
            "    {\"files\":[{\"file\":\"...\",\"error\":null|\"message\",\n"
            "       \"credentials\":{\"state\":\"Absent|Invalid|Valid|Trusted\",\"signer\":...,\"issuer\":...,\n"
            "          \"generator\":...,\"signed_at\":...,\"generative_ai_declared\":true|false|null,\n"
            "          \"synthetic_declared\":true|false|null,\"source_types\":[...],\"ingredient_source_types\":[...],\n"
            "          \"status\":[codes]} or null,\n"
            "       \"detector\":{\"model\":\"...\",\"label\":\"...\",\"p_synthetic\":0.93} or null}]}\n"
            "    (*_declared are null when there are no credentials; source_types are those of the active\n"
            "     manifest's actions as written, ingredient_source_types those of the ingredient manifests it\n"
            "     chains to; status lists the validation codes, e.g. assertion.dataHash.mismatch)\n"
            "\n"
            "A file that cannot be read (missing, not a JPEG or PNG, corrupt pixels, malformed C2PA data) gets\n"
            "\"error\" on its line; with malformed C2PA data the detector still scores the pixels.\n"
            "\n"
            "exit status: 0 every file was read, 3 some file could not be read or scored (the others are still\n"
            "reported), 2 usage, 1 the model or trust file could not be loaded\n");
}

/* ---- digitalSourceType ------------------------------------------------------------------------ */
/* The IPTC Digital Source Type vocabulary (cv.iptc.org/newscodes/digitalsourcetype) names, among
 * others:
 *   trainedAlgorithmicMedia              "Created using Generative AI": made by a model trained on
 *                                        sampled content;
 *   compositeWithTrainedAlgorithmicMedia "Edited using Generative AI": captured or human-made media
 *                                        augmented by such a model (inpainting, outpainting);
 *   algorithmicMedia                     "Pure algorithmic media": made by an algorithm NOT based on
 *                                        sampled training data (procedural, a formula);
 *   compositeSynthetic                   a composite with at least one synthetic element, which may
 *                                        or may not come from generative AI.
 * Only the first two declare generative AI; all four declare synthetic content. Terms are matched
 * by the last path segment, so the IPTC URL (http or https) and the bare term both count. */
typedef enum { SRC_OTHER, SRC_SYNTHETIC, SRC_GENERATIVE } source_kind;

static const char *source_term(const char *s) {
    const char *slash = strrchr(s, '/');
    return slash && slash[1] ? slash + 1 : s;
}

static source_kind classify_source(const char *s) {
    const char *t = source_term(s);
    if (strcmp(t, "trainedAlgorithmicMedia") == 0 || strcmp(t, "compositeWithTrainedAlgorithmicMedia") == 0)
        return SRC_GENERATIVE;
    if (strcmp(t, "algorithmicMedia") == 0 || strcmp(t, "compositeSynthetic") == 0) return SRC_SYNTHETIC;
    return SRC_OTHER;
}

/* ---- what each file gave ---------------------------------------------------------------------- */
typedef struct str_list {
    const char **items;
    size_t n, cap;
} str_list;

static bool list_add_unique(str_list *l, const char *s) {
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0) return true;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const char **items = realloc(l->items, cap * sizeof *items);
        if (!items) return false;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = s;
    return true;
}

typedef struct file_result {
    const char *path;
    lc_c2pa_report *report; /* NULL when the credentials could not be read */
    const lc_c2pa_manifest *active;
    str_list own_types, ingredient_types, codes; /* strings point into report */
    char *error;                                 /* malloc'd; the file could not be read */
    bool has_p;
    float p_synthetic;
} file_result;

static void result_clear(file_result *f) {
    lc_c2pa_report_free(f->report);
    free(f->own_types.items);
    free(f->ingredient_types.items);
    free(f->codes.items);
    free(f->error);
    memset(f, 0, sizeof *f);
}

/* The last error's message without a leading "PATH: " (the line names the file already). */
static char *error_message(const char *path) {
    const char *m = lc_last_error();
    size_t n = strlen(path);
    if (strncmp(m, path, n) == 0 && m[n] == ':' && m[n + 1] == ' ') m += n + 2;
    return strdup(m[0] ? m : "cannot be read");
}

static const lc_c2pa_manifest *find_manifest(const lc_c2pa_report *r, const char *label) {
    size_t n = lc_c2pa_report_manifest_count(r);
    for (size_t i = 0; label && i < n; i++) {
        const lc_c2pa_manifest *m = lc_c2pa_report_manifest(r, i);
        if (m->label && strcmp(m->label, label) == 0) return m;
    }
    return NULL;
}

/* Source types of the active manifest, and of the ingredient manifests it chains to (breadth-first,
 * each manifest once). */
static bool gather_credentials(file_result *f) {
    const lc_c2pa_report *r = f->report;
    f->active = find_manifest(r, lc_c2pa_report_active_manifest(r));
    size_t ns = lc_c2pa_report_status_count(r);
    for (size_t i = 0; i < ns; i++)
        if (!list_add_unique(&f->codes, lc_c2pa_report_status(r, i)->code)) return false;
    if (!f->active) return true;
    for (size_t i = 0; i < f->active->n_source_types; i++)
        if (!list_add_unique(&f->own_types, f->active->source_types[i])) return false;
    size_t nm = lc_c2pa_report_manifest_count(r);
    const lc_c2pa_manifest **queue = calloc(nm ? nm : 1, sizeof *queue);
    if (!queue) return false;
    size_t head = 0, tail = 0;
    queue[tail++] = f->active;
    bool ok = true;
    while (ok && head < tail) {
        const lc_c2pa_manifest *m = queue[head++];
        if (m != f->active)
            for (size_t i = 0; ok && i < m->n_source_types; i++)
                ok = list_add_unique(&f->ingredient_types, m->source_types[i]);
        for (size_t g = 0; ok && g < m->n_ingredients; g++) {
            const lc_c2pa_manifest *im = find_manifest(r, m->ingredients[g].active_manifest);
            bool seen = !im;
            for (size_t k = 0; !seen && k < tail; k++) seen = queue[k] == im;
            if (!seen && tail < nm) queue[tail++] = im;
        }
    }
    free(queue);
    return ok;
}

static bool any_kind(const str_list *l, source_kind want) {
    for (size_t i = 0; i < l->n; i++) {
        source_kind k = classify_source(l->items[i]);
        if (k == want || (want == SRC_SYNTHETIC && k == SRC_GENERATIVE)) return true;
    }
    return false;
}

/* ---- the detector ------------------------------------------------------------------------------ */
typedef struct detector {
    const char *dir;
    lc_model *model;
    lc_image_preprocessor *pre;
    size_t n_labels, fake;
    bool multi;
    /* pending batch: `count` images of h x w */
    float *pixels;
    size_t cap, count;
    int h, w;
    file_result **owners;
    float *logits;
} detector;

static bool word_ai(const char *s) {
    for (size_t i = 0; s[i]; i++) {
        if (tolower((unsigned char)s[i]) != 'a' || tolower((unsigned char)s[i + 1]) != 'i') continue;
        bool left = i == 0 || !isalnum((unsigned char)s[i - 1]);
        bool right = !isalnum((unsigned char)s[i + 2]);
        if (left && right) return true;
    }
    return false;
}

static bool has_substring_ci(const char *s, const char *needle) {
    size_t n = strlen(needle);
    for (; *s; s++)
        if (strncasecmp(s, needle, n) == 0) return true;
    return false;
}

static bool looks_synthetic(const char *label) {
    static const char *words[] = {"fake", "synthetic", "generated", "artificial"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (has_substring_ci(label, words[i])) return true;
    return word_ai(label);
}

static void print_labels(FILE *f, const detector *d) {
    for (size_t i = 0; i < d->n_labels; i++) fprintf(f, "%s\"%s\"", i ? ", " : "", lc_model_label(d->model, i));
}

/* Pick the synthetic label: exact --fake-label, else a unique case-insensitive match; without
 * --fake-label the unique label that looks_synthetic. Returns 0 or an exit status. */
static int choose_label(detector *d, const char *want) {
    size_t found = d->n_labels, matches = 0;
    if (want) {
        for (size_t i = 0; i < d->n_labels && found == d->n_labels; i++)
            if (strcmp(lc_model_label(d->model, i), want) == 0) found = i;
        for (size_t i = 0; found == d->n_labels && i < d->n_labels; i++)
            if (strcasecmp(lc_model_label(d->model, i), want) == 0) {
                if (!matches++) found = i;
            }
        if (found == d->n_labels || matches > 1) {
            fprintf(stderr, "locus %s: %s: --fake-label '%s' %s; its labels are ", CMD, d->dir, want,
                    matches > 1 ? "matches several labels (case differs)" : "is not a label of the model");
            print_labels(stderr, d);
            fputc('\n', stderr);
            return 2;
        }
    } else {
        for (size_t i = 0; i < d->n_labels; i++)
            if (looks_synthetic(lc_model_label(d->model, i)) && !matches++) found = i;
        if (matches != 1) {
            fprintf(stderr, "locus %s: %s: %s; name the label meaning synthetic with --fake-label (labels: ", CMD,
                    d->dir,
                    matches ? "several labels look like 'synthetic'"
                            : "no label looks like 'synthetic' (fake, synthetic, generated, artificial, AI)");
            print_labels(stderr, d);
            fputs(")\n", stderr);
            return 2;
        }
    }
    d->fake = found;
    return 0;
}

static int detector_open(detector *d, const char *dir, const char *fake_label, const lc_model_options *mopt,
                         size_t batch) {
    d->dir = dir;
    if (lc_model_load(dir, mopt, &d->model)) return cli_fail(CMD);
    if (!lc_model_is_vision(d->model) || !lc_model_is_classifier(d->model))
        return cli_failf(CMD, 1, "%s: %s is not an image classifier (a detector must be one)", dir,
                         lc_model_architecture(d->model));
    d->n_labels = lc_model_num_labels(d->model);
    d->multi = lc_model_multi_label(d->model);
    if (d->n_labels == 0 || (d->n_labels == 1 && !d->multi))
        return cli_failf(CMD, 1, "%s: %zu output%s with softmax scores: no probability to read", dir, d->n_labels,
                         d->n_labels == 1 ? "" : "s");
    int rc = choose_label(d, fake_label);
    if (rc) return rc;
    if (lc_image_preprocessor_load(dir, &d->pre)) return cli_fail(CMD);
    d->cap = batch;
    d->owners = calloc(batch, sizeof *d->owners);
    d->logits = malloc(sizeof(float) * batch * d->n_labels);
    if (!d->owners || !d->logits) return cli_failf(CMD, 1, "out of memory");
    return 0;
}

static void detector_close(detector *d) {
    free(d->pixels);
    free(d->owners);
    free(d->logits);
    lc_image_preprocessor_free(d->pre);
    lc_model_free(d->model);
}

/* The score of the synthetic label from one row of logits, computed as `locus classify` does. */
static float synthetic_score(const detector *d, const float *lg) {
    if (d->multi) return (float)(1.0 / (1.0 + exp(-(double)lg[d->fake])));
    double mx = -INFINITY, sum = 0;
    for (size_t j = 0; j < d->n_labels; j++) mx = lg[j] > mx ? lg[j] : mx;
    for (size_t j = 0; j < d->n_labels; j++) sum += exp((double)lg[j] - mx);
    return (float)(exp((double)lg[d->fake] - mx) / sum);
}

/* Run the pending images through the model. A failure is reported on each of their lines. */
static void detector_flush(detector *d) {
    if (!d->count) return;
    int64_t shape[4] = {(int64_t)d->count, 3, d->h, d->w};
    lc_array *px = NULL, *lg = NULL;
    lc_status s = lc_array_wrap(LC_F32, 4, shape, d->pixels, NULL, NULL, &px);
    if (!s) s = lc_model_classify_pixels(d->model, px, &lg);
    if (!s) s = lc_array_read_f32(lg, d->logits, d->count * d->n_labels);
    for (size_t i = 0; i < d->count; i++) {
        file_result *f = d->owners[i];
        if (s) {
            if (!f->error) {
                char *m = error_message(f->path);
                size_t len = m ? strlen(m) + 32 : 0;
                f->error = m ? malloc(len) : NULL;
                if (f->error) snprintf(f->error, len, "the detector failed: %s", m);
                free(m);
            }
        } else {
            f->p_synthetic = synthetic_score(d, d->logits + i * d->n_labels);
            f->has_p = true;
        }
    }
    lc_array_release(px);
    lc_array_release(lg);
    d->count = 0;
}

/* Decode and preprocess one file into the pending batch (flushing first when its size differs). */
static void detector_add(detector *d, file_result *f, const lc_image_options *iopt) {
    lc_image *img = NULL;
    int h = 0, w = 0;
    lc_status s = lc_image_decode_file(f->path, iopt, &img);
    if (!s) s = lc_image_preprocessor_output_size(d->pre, img->width, img->height, &h, &w);
    if (!s && d->count && (h != d->h || w != d->w)) detector_flush(d);
    size_t per = (size_t)3 * (size_t)h * (size_t)w;
    if (!s && !d->pixels) {
        if (!(d->pixels = malloc(sizeof(float) * per * d->cap))) s = lc_error(LC_ERR_NOMEM, "out of memory");
    } else if (!s && (h != d->h || w != d->w)) {
        float *p = realloc(d->pixels, sizeof(float) * per * d->cap);
        if (!p) s = lc_error(LC_ERR_NOMEM, "out of memory");
        else d->pixels = p;
    }
    if (!s) {
        d->h = h;
        d->w = w;
        s = lc_image_preprocess_into(d->pre, img, d->pixels + d->count * per, per);
    }
    lc_image_free(img);
    if (s) {
        if (!f->error) f->error = error_message(f->path); /* the first problem of the file is the clearest */
        return;
    }
    d->owners[d->count++] = f;
    if (d->count == d->cap) detector_flush(d);
}

/* ---- output ------------------------------------------------------------------------------------ */
/* A JSON string; when the text is not UTF-8 (file names can hold any bytes) its non-ASCII bytes
 * become '?', so the document stays valid JSON. */
static void json_str(FILE *out, const char *s) {
    if (!s) {
        fputs("null", out);
        return;
    }
    if (cli_utf8_valid(s, strlen(s))) {
        cli_json_string(out, s);
        return;
    }
    char *t = strdup(s);
    if (!t) {
        fputs("null", out);
        return;
    }
    for (unsigned char *p = (unsigned char *)t; *p; p++)
        if (*p >= 0x80) *p = '?';
    cli_json_string(out, t);
    free(t);
}

static void json_list(FILE *out, const str_list *l) {
    fputc('[', out);
    for (size_t i = 0; i < l->n; i++) {
        if (i) fputc(',', out);
        json_str(out, l->items[i]);
    }
    fputc(']', out);
}

static void print_json(FILE *out, const file_result *f, const detector *d, bool first) {
    fputs(first ? "\n{\"file\":" : ",\n{\"file\":", out);
    json_str(out, f->path);
    fputs(",\"error\":", out);
    json_str(out, f->error);
    fputs(",\"credentials\":", out);
    if (!f->report) {
        fputs("null", out);
    } else {
        lc_c2pa_state st = lc_c2pa_report_state(f->report);
        const lc_c2pa_manifest *m = f->active;
        bool absent = st == LC_C2PA_ABSENT;
        fputs("{\"state\":", out);
        json_str(out, lc_c2pa_state_name(st));
        fputs(",\"signer\":", out);
        json_str(out, m ? m->sig_common_name : NULL);
        fputs(",\"issuer\":", out);
        json_str(out, m ? m->sig_issuer : NULL);
        fputs(",\"generator\":", out);
        json_str(out, m ? m->claim_generator : NULL);
        fputs(",\"signed_at\":", out);
        json_str(out, m ? m->sig_time : NULL);
        bool gen = any_kind(&f->own_types, SRC_GENERATIVE) || any_kind(&f->ingredient_types, SRC_GENERATIVE);
        bool syn = any_kind(&f->own_types, SRC_SYNTHETIC) || any_kind(&f->ingredient_types, SRC_SYNTHETIC);
        fprintf(out, ",\"generative_ai_declared\":%s", absent ? "null" : gen ? "true" : "false");
        fprintf(out, ",\"synthetic_declared\":%s", absent ? "null" : syn ? "true" : "false");
        fputs(",\"source_types\":", out);
        json_list(out, &f->own_types);
        fputs(",\"ingredient_source_types\":", out);
        json_list(out, &f->ingredient_types);
        fputs(",\"status\":", out);
        json_list(out, &f->codes);
        fputc('}', out);
    }
    fputs(",\"detector\":", out);
    if (d && f->has_p) {
        fputs("{\"model\":", out);
        json_str(out, d->dir);
        fputs(",\"label\":", out);
        json_str(out, lc_model_label(d->model, d->fake));
        fputs(",\"p_synthetic\":", out);
        cli_json_float(out, f->p_synthetic);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    fputc('}', out);
}

/* Plain words for the failure codes a reader meets most. */
static const char *explain_code(const char *code, const char *fallback) {
    static const struct {
        const char *prefix, *words;
    } table[] = {
        {"assertion.dataHash.mismatch", "the file changed after signing"},
        {"assertion.boxesHash.mismatch", "the file changed after signing"},
        {"assertion.bmffHash.mismatch", "the file changed after signing"},
        {"assertion.hashedURI.mismatch", "an assertion changed after signing"},
        {"claimSignature.mismatch", "the credentials changed after signing"},
        {"claimSignature.missing", "the credentials are not signed"},
        {"claim.missing", "the credentials are incomplete"},
        {"signingCredential.expired", "the signing certificate was not valid at signing time"},
        {"signingCredential.revoked", "the signing certificate was revoked"},
        {"signingCredential.invalid", "the signing certificate is not usable"},
        {"algorithm.unsupported", "signed with an algorithm that cannot be checked"},
        {"ingredient.", "an ingredient's credentials do not check out"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strncmp(code, table[i].prefix, strlen(table[i].prefix)) == 0) return table[i].words;
    return fallback && fallback[0] ? fallback : "validation failed";
}

static void print_terms(FILE *out, const str_list *l, source_kind kind) {
    bool first = true;
    for (size_t i = 0; i < l->n; i++) {
        source_kind k = classify_source(l->items[i]);
        if (kind == SRC_SYNTHETIC ? k != SRC_SYNTHETIC : k != kind) continue;
        fprintf(out, "%s%s", first ? "" : ", ", source_term(l->items[i]));
        first = false;
    }
}

/* "declares generative AI: X" and friends, from the active manifest first, then its ingredients. */
static void print_declarations(FILE *out, const file_result *f) {
    const str_list *own = &f->own_types, *ing = &f->ingredient_types;
    if (any_kind(own, SRC_GENERATIVE)) {
        fputs("declares generative AI: ", out);
        print_terms(out, own, SRC_GENERATIVE);
    } else if (any_kind(ing, SRC_GENERATIVE)) {
        fputs("an ingredient declares generative AI: ", out);
        print_terms(out, ing, SRC_GENERATIVE);
    } else if (any_kind(own, SRC_SYNTHETIC)) {
        fputs("declares synthetic content, not generative AI: ", out);
        print_terms(out, own, SRC_SYNTHETIC);
    } else if (any_kind(ing, SRC_SYNTHETIC)) {
        fputs("an ingredient declares synthetic content, not generative AI: ", out);
        print_terms(out, ing, SRC_SYNTHETIC);
    } else if (own->n) {
        fputs("declares no generative AI; source: ", out);
        print_terms(out, own, SRC_OTHER);
    } else {
        fputs("no digital source type declared", out);
    }
}

/* "signed by CN, issuer O; generator G; " (what the active manifest says of itself). */
static void print_signer(FILE *out, const lc_c2pa_manifest *m) {
    if (!m) return;
    if (m->sig_common_name || m->sig_issuer) {
        fprintf(out, "signed by %s", m->sig_common_name ? m->sig_common_name : "?");
        if (m->sig_issuer) fprintf(out, ", issuer %s", m->sig_issuer);
        fputs("; ", out);
    }
    if (m->claim_generator) fprintf(out, "generator %s; ", m->claim_generator);
}

static void print_line(FILE *out, const file_result *f, const detector *d, bool have_trust) {
    fprintf(out, "%s: ", f->path);
    lc_c2pa_state st = f->report ? lc_c2pa_report_state(f->report) : LC_C2PA_ABSENT;
    if (!f->report) {
        fprintf(out, "error: %s", f->error ? f->error : "cannot be read");
    } else if (st == LC_C2PA_ABSENT) {
        fputs("no content credentials: provenance unknown", out);
    } else if (st == LC_C2PA_INVALID) {
        const lc_c2pa_status *first = NULL;
        size_t nfail = 0;
        for (size_t i = 0; i < lc_c2pa_report_status_count(f->report); i++) {
            const lc_c2pa_status *s = lc_c2pa_report_status(f->report, i);
            if (strcmp(s->code, "signingCredential.untrusted") == 0) continue;
            if (!first) first = s;
            nfail++;
        }
        if (first) {
            fprintf(out, "credentials Invalid: %s \xe2\x80\x94 %s", first->code,
                    explain_code(first->code, first->explanation));
            if (nfail > 1) fprintf(out, " (+%zu more)", nfail - 1);
        } else {
            fputs("credentials Invalid", out);
        }
        fputs(" (unverified: ", out);
        print_signer(out, f->active);
        print_declarations(out, f);
        fputc(')', out);
    } else {
        fprintf(out, "credentials %s (", lc_c2pa_state_name(st));
        print_signer(out, f->active);
        fputs(st == LC_C2PA_TRUSTED ? "signer on the trust list; "
              : have_trust          ? "signer not on the trust list; "
                                    : "no trust list given; ",
              out);
        print_declarations(out, f);
        fputc(')', out);
    }
    if (d && (f->report || f->has_p)) {
        if (f->has_p) {
            float p = f->p_synthetic;
            /* Two decimals, never rounded to a certainty the model does not claim. */
            if (p > 0.99f) fputs("; detector: p(synthetic) >0.99", out);
            else if (p < 0.01f) fputs("; detector: p(synthetic) <0.01", out);
            else fprintf(out, "; detector: p(synthetic) %.2f", (double)p);
            fprintf(out, " (model %s, label \"%s\")", d->dir, lc_model_label(d->model, d->fake));
        } else {
            fputs("; detector: not run", out);
        }
    }
    if (f->error && f->report) fprintf(out, "; error: %s", f->error);
    fputc('\n', out);
}

/* ---- the command ------------------------------------------------------------------------------- */
static char *read_small_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 16384;
            if (cap > ((size_t)64 << 20)) break; /* a trust bundle is small */
            char *b = realloc(buf, cap);
            if (!b) break;
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) break;
            fclose(f);
            buf[n] = 0;
            *len = n;
            return buf;
        }
    }
    fclose(f);
    free(buf);
    return NULL;
}

int cmd_detect(int argc, char **argv) {
    const char *model_dir = NULL, *fake_label = NULL, *trust = NULL;
    bool json = false;
    common_opts o = {.batch = 16, .mopt = {LC_CPU, LC_F32}};
    int nfiles_arg = 0;
    char **file_args = calloc((size_t)argc + 1, sizeof *file_args);
    if (!file_args) return cli_failf(CMD, 1, "out of memory");
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            free(file_args);
            return 0;
        } else if (strcmp(a, "--") == 0) {
            while (++i < argc) file_args[nfiles_arg++] = argv[i];
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--exif-transpose") == 0) {
            cli_exif_transpose = true;
        } else if (strcmp(a, "--model") == 0 || strcmp(a, "--fake-label") == 0 || strcmp(a, "--trust") == 0) {
            if (!v) rc = cli_failf(CMD, 2, "%s needs a value", a);
            else if (a[2] == 'm') model_dir = v;
            else if (a[2] == 'f') fake_label = v;
            else trust = v;
            i++;
        } else if (a[0] == '-' && a[1] == '-') {
            int r = cli_common_option(CMD, argc, argv, &i, &o);
            if (r > 0) rc = r;
            else if (r < 0) rc = cli_failf(CMD, 2, "unknown option '%s'", a);
        } else {
            file_args[nfiles_arg++] = argv[i];
        }
    }
    if (!rc && fake_label && !model_dir) rc = cli_failf(CMD, 2, "--fake-label names a label of --model, and no --model was given");
    if (!rc && nfiles_arg == 0) {
        usage(stderr);
        rc = cli_failf(CMD, 2, "no images given");
    }
    if (rc) {
        free(file_args);
        return rc;
    }

    lc_c2pa_options copt = {0};
    char *trust_pem = NULL;
    if (trust) {
        /* Read once; every file's validation parses it from memory. */
        if (!(trust_pem = read_small_file(trust, &copt.trust_pem_len))) {
            free(file_args);
            return cli_failf(CMD, 1, "%s: cannot read the trust file", trust);
        }
        copt.trust_pem = trust_pem;
    }

    size_t n = 0;
    char **files = NULL;
    if (cli_expand_image_args(nfiles_arg, file_args, &n, &files)) {
        free(file_args);
        free(trust_pem);
        return cli_failf(CMD, 3, "%s", lc_last_error());
    }
    free(file_args);
    if (n == 0) {
        free(trust_pem);
        free(files);
        return cli_failf(CMD, 2, "no JPEG or PNG files found in the arguments");
    }

    size_t chunk = (size_t)o.batch < n ? (size_t)o.batch : n; /* no bigger than the work */
    detector det = {0};
    detector *d = NULL;
    if (model_dir) {
        rc = detector_open(&det, model_dir, fake_label, &o.mopt, chunk);
        if (rc) {
            detector_close(&det);
            cli_free_texts(n, files);
            free(trust_pem);
            return rc;
        }
        d = &det;
    }

    file_result *res = calloc(chunk, sizeof *res);
    if (!res) rc = cli_failf(CMD, 1, "out of memory");
    lc_image_options iopt = {.exif_transpose = cli_exif_transpose};
    size_t unreadable = 0;
    if (json && !rc) fputs("{\"files\":[", stdout);
    for (size_t at = 0; !rc && at < n; at += chunk) {
        size_t count = n - at < chunk ? n - at : chunk;
        for (size_t k = 0; k < count; k++) {
            file_result *f = &res[k];
            result_clear(f);
            f->path = files[at + k];
            lc_status s = lc_c2pa_verify_file(f->path, &copt, &f->report);
            if (s) {
                f->report = NULL;
                f->error = error_message(f->path);
                /* Malformed C2PA data must not keep the detector from looking at the pixels; a file
                 * that cannot be opened has none to look at. */
                if (d && s != LC_ERR_IO) detector_add(d, f, &iopt);
                continue;
            }
            if (!gather_credentials(f)) {
                f->error = strdup("out of memory");
                continue;
            }
            if (d) detector_add(d, f, &iopt);
        }
        if (d) detector_flush(d);
        for (size_t k = 0; k < count; k++) {
            if (res[k].error) unreadable++;
            if (json) print_json(stdout, &res[k], d, at + k == 0);
            else print_line(stdout, &res[k], d, trust != NULL);
            result_clear(&res[k]);
        }
        fflush(stdout);
    }
    if (json && !rc) fputs("\n]}\n", stdout);
    if (!rc && unreadable) {
        fprintf(stderr, "locus %s: %zu of %zu file%s could not be read or scored (see %s)\n", CMD, unreadable, n,
                n == 1 ? "" : "s", unreadable == 1 ? "its line" : "their lines");
        rc = 3;
    }
    free(res);
    if (d) detector_close(d);
    cli_free_texts(n, files);
    free(trust_pem);
    return rc;
}
