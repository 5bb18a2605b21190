/*
 * Hugging Face image preprocessing from preprocessor_config.json, as the PIL backend of
 * transformers' image processors computes it:
 *
 *   resize (PIL, see image_resize.c) -> center crop -> rescale -> normalise -> (3, H, W) float32
 *
 * Sizes:
 *   {"height", "width"}              resize to exactly that
 *   {"shortest_edge"}                short side to that, long side int(s * long / short)
 *   {"shortest_edge","longest_edge"} the same, capped so the long side fits (DETR-style rule)
 *   ConvNeXT: shortest_edge < 384 resizes the short side to int(shortest_edge / crop_pct) and
 *   crops shortest_edge x shortest_edge; 384 and above warps to a square.
 * Center crop takes top = (H - h) // 2, left = (W - w) // 2, padding with zeros (pixel value 0,
 * before rescale and normalise) where the image is smaller.
 *
 * Rescale and normalise act on each 8-bit value independently, so they are one lookup table per
 * channel, filled with exactly the arithmetic numpy does in transformers: value * rescale_factor
 * in float64 rounded to float32, then (x - mean) / std in float32. The result is bit-identical to
 * HF's whenever the resized pixels are.
 */
#include "media/image_internal.h"
#include "cpu/threadpool.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef enum size_mode { SIZE_NONE, SIZE_EXACT, SIZE_SHORTEST, SIZE_SHORTEST_LONGEST } size_mode;

struct lc_image_preprocessor {
    char type[64];
    bool convnext; /* crop_pct rule */
    bool do_resize, do_center_crop, do_rescale, do_normalize, do_convert_rgb;
    size_mode size_mode;
    int height, width;           /* SIZE_EXACT */
    int shortest, longest;       /* SIZE_SHORTEST(_LONGEST) */
    int crop_height, crop_width; /* do_center_crop */
    double crop_pct;
    lc_resample resample;
    double rescale_factor;
    float mean[3], std[3];
    float lut[3][256];
};

/* Defaults of the processor classes whose pipeline this is (transformers' PIL backends). */
typedef struct processor_class {
    const char *name;
    bool default_to_square;
    bool do_center_crop;
    bool do_convert_rgb;
    lc_resample resample;
    int size_h, size_w, size_short; /* default size: (h, w) or shortest edge */
    int crop;                        /* default crop size, 0 = none */
    float mean[3], std[3];
    bool convnext;
} processor_class;

#define IMAGENET_STANDARD {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}
#define IMAGENET_DEFAULT {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}
#define OPENAI_CLIP {0.48145466f, 0.4578275f, 0.40821073f}, {0.26862954f, 0.26130258f, 0.27577711f}

static const processor_class classes[] = {
    {"ViT", true, false, false, LC_RESAMPLE_BILINEAR, 224, 224, 0, 0, IMAGENET_STANDARD, false},
    {"DeiT", true, true, false, LC_RESAMPLE_BICUBIC, 256, 256, 0, 224, IMAGENET_STANDARD, false},
    {"Beit", true, false, false, LC_RESAMPLE_BICUBIC, 224, 224, 0, 224, IMAGENET_STANDARD, false},
    {"Siglip", false, false, true, LC_RESAMPLE_BICUBIC, 224, 224, 0, 0, IMAGENET_STANDARD, false},
    {"ConvNext", false, false, false, LC_RESAMPLE_BICUBIC, 0, 0, 384, 0, IMAGENET_STANDARD, true},
    {"CLIP", false, true, true, LC_RESAMPLE_BICUBIC, 0, 0, 224, 224, OPENAI_CLIP, false},
    {"Bit", false, true, true, LC_RESAMPLE_BICUBIC, 0, 0, 224, 224, OPENAI_CLIP, false},
};

/* The mean/std defaults above are float32 roundings of the Python constants, which numpy also
 * rounds to float32 before normalising, so storing floats loses nothing. */

static const processor_class *class_of(const char *type) {
    /* "ViTImageProcessor", "ViTImageProcessorFast", "ViTImageProcessorPil", "ViTFeatureExtractor" */
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        size_t n = strlen(classes[i].name);
        if (strncmp(type, classes[i].name, n) != 0) continue;
        const char *rest = type + n;
        if (strcmp(rest, "ImageProcessor") == 0 || strcmp(rest, "ImageProcessorFast") == 0 ||
            strcmp(rest, "ImageProcessorPil") == 0 || strcmp(rest, "FeatureExtractor") == 0)
            return &classes[i];
    }
    return NULL;
}

void lc_image_preprocessor_free(lc_image_preprocessor *p) { free(p); }

/* ---- configuration --------------------------------------------------------------------------- */
static bool json_int(const cJSON *v, int lo, int hi, int *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= lo && d <= hi) || floor(d) != d) return false;
    *out = (int)d;
    return true;
}

static lc_status get_bool(const cJSON *root, const char *key, bool *dst, const char *label) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) return LC_OK;
    if (!cJSON_IsBool(v)) return lc_error(LC_ERR_FORMAT, "%s: \"%s\" is not true or false", label, key);
    *dst = cJSON_IsTrue(v);
    return LC_OK;
}

/* size / crop_size: an int, [h, w], or a dict. */
static lc_status parse_size(const cJSON *v, const char *key, bool default_to_square, const char *label,
                            size_mode *mode, int *h, int *w, int *shortest, int *longest) {
    const int max = 1 << 16;
    int a, b;
    if (cJSON_IsNumber(v)) {
        if (!json_int(v, 1, max, &a)) return lc_error(LC_ERR_FORMAT, "%s: \"%s\" is not a size in 1..%d", label, key, max);
        if (default_to_square) *mode = SIZE_EXACT, *h = *w = a;
        else *mode = SIZE_SHORTEST, *shortest = a;
        return LC_OK;
    }
    if (cJSON_IsArray(v)) {
        if (cJSON_GetArraySize(v) != 2 || !json_int(v->child, 1, max, &a) || !json_int(v->child->next, 1, max, &b))
            return lc_error(LC_ERR_FORMAT, "%s: \"%s\" is not [height, width]", label, key);
        *mode = SIZE_EXACT, *h = a, *w = b;
        return LC_OK;
    }
    if (!cJSON_IsObject(v)) return lc_error(LC_ERR_FORMAT, "%s: \"%s\" is not a size", label, key);
    const cJSON *hh = cJSON_GetObjectItemCaseSensitive(v, "height"), *ww = cJSON_GetObjectItemCaseSensitive(v, "width");
    const cJSON *se = cJSON_GetObjectItemCaseSensitive(v, "shortest_edge"),
                *le = cJSON_GetObjectItemCaseSensitive(v, "longest_edge");
    for (const cJSON *c = v->child; c; c = c->next) {
        if (strcmp(c->string, "height") && strcmp(c->string, "width") && strcmp(c->string, "shortest_edge") &&
            strcmp(c->string, "longest_edge"))
            return lc_error(LC_ERR_UNSUPPORTED, "%s: \"%s\" has the key \"%s\", which locus does not handle", label, key,
                            c->string);
    }
    if (hh && ww && !se && !le) {
        if (!json_int(hh, 1, max, h) || !json_int(ww, 1, max, w))
            return lc_error(LC_ERR_FORMAT, "%s: \"%s\" height/width are not sizes in 1..%d", label, key, max);
        *mode = SIZE_EXACT;
        return LC_OK;
    }
    if (se && !hh && !ww) {
        if (!json_int(se, 1, max, shortest))
            return lc_error(LC_ERR_FORMAT, "%s: \"%s\" shortest_edge is not a size in 1..%d", label, key, max);
        *mode = SIZE_SHORTEST;
        if (le) {
            if (!json_int(le, 1, max, longest))
                return lc_error(LC_ERR_FORMAT, "%s: \"%s\" longest_edge is not a size in 1..%d", label, key, max);
            *mode = SIZE_SHORTEST_LONGEST;
        }
        return LC_OK;
    }
    return lc_error(LC_ERR_UNSUPPORTED, "%s: \"%s\" must hold height and width, or shortest_edge", label, key);
}

static lc_status get_triple(const cJSON *root, const char *key, float dst[3], const char *label) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) return LC_OK;
    if (cJSON_IsNumber(v)) {
        dst[0] = dst[1] = dst[2] = (float)v->valuedouble;
        return LC_OK;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 3)
        return lc_error(LC_ERR_FORMAT, "%s: \"%s\" is not a number or a list of 3 numbers", label, key);
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        if (!cJSON_IsNumber(c)) return lc_error(LC_ERR_FORMAT, "%s: \"%s\"[%d] is not a number", label, key, i);
        dst[i] = (float)c->valuedouble;
    }
    return LC_OK;
}

static void build_lut(lc_image_preprocessor *p) {
    for (int c = 0; c < 3; c++) {
        for (int v = 0; v < 256; v++) {
            float x = (float)v;
            if (p->do_rescale) x = (float)((double)v * p->rescale_factor);
            if (p->do_normalize) {
                volatile float d = x - p->mean[c]; /* float32 steps, as numpy's float32 arrays */
                x = d / p->std[c];
            }
            p->lut[c][v] = x;
        }
    }
}

lc_status lc_image_preprocessor_from_json(const char *json, size_t len, const char *name,
                                          lc_image_preprocessor **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_image_preprocessor_from_json: out is NULL");
    *out = NULL;
    const char *label = name ? name : "preprocessor_config.json";
    if (!json) return lc_error(LC_ERR_ARG, "%s: no JSON text", label);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return lc_error(LC_ERR_FORMAT, "%s: not valid JSON", label);
    lc_status s = LC_OK;
    lc_image_preprocessor *p = calloc(1, sizeof *p);
    if (!p) {
        cJSON_Delete(root);
        return lc_error(LC_ERR_NOMEM, "%s: out of memory", label);
    }
    if (!cJSON_IsObject(root)) {
        s = lc_error(LC_ERR_FORMAT, "%s: not a JSON object", label);
        goto done;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "image_processor_type");
    if (!cJSON_IsString(type)) type = cJSON_GetObjectItemCaseSensitive(root, "feature_extractor_type");
    const processor_class *cls = &classes[0]; /* no type given: the plain pipeline with ViT's defaults */
    if (cJSON_IsString(type)) {
        cls = class_of(type->valuestring);
        if (!cls) {
            s = lc_error(LC_ERR_UNSUPPORTED,
                         "%s: image processor \"%.60s\" is not supported (ViT, DeiT, BEiT, ConvNext, CLIP, Bit and "
                         "Siglip image processors are)",
                         label, type->valuestring);
            goto done;
        }
        snprintf(p->type, sizeof p->type, "%s", type->valuestring);
    } else {
        snprintf(p->type, sizeof p->type, "(unspecified)");
    }
    p->convnext = cls->convnext;
    p->do_resize = true;
    p->do_center_crop = cls->do_center_crop;
    p->do_convert_rgb = cls->do_convert_rgb;
    p->do_rescale = true;
    p->do_normalize = true;
    p->rescale_factor = 1.0 / 255.0;
    p->resample = cls->resample;
    p->crop_pct = 224.0 / 256.0;
    memcpy(p->mean, cls->mean, sizeof p->mean);
    memcpy(p->std, cls->std, sizeof p->std);
    if (cls->size_short) p->size_mode = SIZE_SHORTEST, p->shortest = cls->size_short;
    else p->size_mode = SIZE_EXACT, p->height = cls->size_h, p->width = cls->size_w;
    p->crop_height = p->crop_width = cls->crop;

    if ((s = get_bool(root, "do_resize", &p->do_resize, label))) goto done;
    if ((s = get_bool(root, "do_center_crop", &p->do_center_crop, label))) goto done;
    if ((s = get_bool(root, "do_rescale", &p->do_rescale, label))) goto done;
    if ((s = get_bool(root, "do_normalize", &p->do_normalize, label))) goto done;
    if ((s = get_bool(root, "do_convert_rgb", &p->do_convert_rgb, label))) goto done;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "size");
    if (v && !cJSON_IsNull(v)) {
        s = parse_size(v, "size", cls->default_to_square, label, &p->size_mode, &p->height, &p->width, &p->shortest,
                       &p->longest);
        if (s) goto done;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "crop_size");
    if (v && !cJSON_IsNull(v)) {
        size_mode m = SIZE_NONE;
        int se = 0, le = 0;
        s = parse_size(v, "crop_size", true, label, &m, &p->crop_height, &p->crop_width, &se, &le);
        if (s) goto done;
        if (m != SIZE_EXACT) {
            s = lc_error(LC_ERR_UNSUPPORTED, "%s: \"crop_size\" must be height and width", label);
            goto done;
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "resample");
    if (v && !cJSON_IsNull(v)) {
        int r;
        if (!json_int(v, 0, 5, &r)) {
            s = lc_error(LC_ERR_FORMAT, "%s: \"resample\" is not a PIL filter number 0..5", label);
            goto done;
        }
        p->resample = (lc_resample)r;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "rescale_factor");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            s = lc_error(LC_ERR_FORMAT, "%s: \"rescale_factor\" is not a number", label);
            goto done;
        }
        p->rescale_factor = v->valuedouble;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "crop_pct");
    if (p->convnext && v && !cJSON_IsNull(v)) {
        if (!cJSON_IsNumber(v) || !(v->valuedouble > 0.0) || !isfinite(v->valuedouble)) {
            s = lc_error(LC_ERR_FORMAT, "%s: \"crop_pct\" is not a positive number", label);
            goto done;
        }
        p->crop_pct = v->valuedouble;
    }
    if ((s = get_triple(root, "image_mean", p->mean, label))) goto done;
    if ((s = get_triple(root, "image_std", p->std, label))) goto done;
    if (p->do_normalize) {
        for (int c = 0; c < 3; c++) {
            if (!(p->std[c] != 0.0f) || !isfinite(p->std[c]) || !isfinite(p->mean[c])) {
                s = lc_error(LC_ERR_FORMAT, "%s: image_std must be finite and non-zero, image_mean finite", label);
                goto done;
            }
        }
    }
    if (p->convnext && p->do_resize && p->size_mode != SIZE_SHORTEST) {
        s = lc_error(LC_ERR_FORMAT, "%s: ConvNext processors need size {\"shortest_edge\": N}", label);
        goto done;
    }
    if (p->do_center_crop && (p->crop_height <= 0 || p->crop_width <= 0)) {
        s = lc_error(LC_ERR_FORMAT, "%s: do_center_crop without a crop_size", label);
        goto done;
    }
    if (p->size_mode == SIZE_SHORTEST_LONGEST && p->longest <= p->shortest) {
        s = lc_error(LC_ERR_FORMAT, "%s: longest_edge must exceed shortest_edge", label);
        goto done;
    }
    build_lut(p);
done:
    cJSON_Delete(root);
    if (s != LC_OK) {
        free(p);
        return s;
    }
    *out = p;
    return LC_OK;
}

lc_status lc_image_preprocessor_load(const char *path, lc_image_preprocessor **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_image_preprocessor_load: out is NULL");
    *out = NULL;
    if (!path) return lc_error(LC_ERR_ARG, "lc_image_preprocessor_load: path is NULL");
    char *file = NULL;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        size_t n = strlen(path) + sizeof "/preprocessor_config.json";
        file = malloc(n);
        if (!file) return lc_error(LC_ERR_NOMEM, "out of memory");
        snprintf(file, n, "%s/preprocessor_config.json", path);
    }
    const char *fp = file ? file : path;
    FILE *f = fopen(fp, "rb");
    if (!f) {
        lc_status s = lc_error(LC_ERR_IO, "%s: cannot open: %s", fp, strerror(errno));
        free(file);
        return s;
    }
    const size_t limit = 1 << 20;
    char *buf = malloc(limit + 1);
    size_t n = buf ? fread(buf, 1, limit + 1, f) : 0;
    bool err = ferror(f);
    fclose(f);
    lc_status s;
    if (!buf) s = lc_error(LC_ERR_NOMEM, "out of memory");
    else if (err) s = lc_error(LC_ERR_IO, "%s: read error", fp);
    else if (n > limit) s = lc_error(LC_ERR_FORMAT, "%s: larger than %zu bytes", fp, limit);
    else s = lc_image_preprocessor_from_json(buf, n, fp, out);
    free(buf);
    free(file);
    return s;
}

/* ---- geometry -------------------------------------------------------------------------------- */
/* transformers' get_resize_output_image_size(default_to_square=False): (height, width). */
static void shortest_edge_size(int h, int w, int size, int *oh, int *ow) {
    int s = w <= h ? w : h, l = w <= h ? h : w;
    int new_long = (int)((double)size * (double)l / (double)s); /* Python: int(size * long / short) */
    if (w <= h) *oh = new_long, *ow = size;
    else *oh = size, *ow = new_long;
}

/* transformers' get_size_with_aspect_ratio((h, w), shortest, longest). */
static void aspect_ratio_size(int h, int w, int size, int max_size, int *oh, int *ow) {
    double raw = 0.0;
    bool have_raw = false;
    double mn = h < w ? h : w, mx = h < w ? w : h;
    if (mx / mn * size > max_size) {
        raw = max_size * mn / mx;
        size = (int)nearbyint(raw); /* Python round(): half to even, the default rounding mode */
        have_raw = true;
    }
    if ((h <= w && h == size) || (w <= h && w == size)) {
        *oh = h, *ow = w;
    } else if (w < h) {
        *ow = size;
        *oh = (int)(have_raw ? raw * h / w : (double)size * h / w);
    } else {
        *oh = size;
        *ow = (int)(have_raw ? raw * w / h : (double)size * w / h);
    }
}

typedef struct plan {
    bool resize;
    int rh, rw;        /* size after resizing */
    bool crop;
    int ch, cw;        /* size after cropping */
} plan;

static lc_status make_plan(const lc_image_preprocessor *p, int w, int h, plan *pl) {
    memset(pl, 0, sizeof *pl);
    int rh = h, rw = w;
    bool crop = p->do_center_crop;
    int ch = p->crop_height, cw = p->crop_width;
    int crop2 = 0; /* ConvNext's own crop, before the configured one */
    if (p->do_resize) {
        if (p->convnext) {
            if (p->shortest < 384) {
                int rs = (int)(p->shortest / p->crop_pct);
                if (rs < 1) rs = 1;
                shortest_edge_size(h, w, rs, &rh, &rw);
                crop2 = p->shortest;
            } else {
                rh = rw = p->shortest;
            }
        } else if (p->size_mode == SIZE_EXACT) {
            rh = p->height, rw = p->width;
        } else if (p->size_mode == SIZE_SHORTEST) {
            shortest_edge_size(h, w, p->shortest, &rh, &rw);
        } else {
            aspect_ratio_size(h, w, p->shortest, p->longest, &rh, &rw);
        }
        if (rh < 1 || rw < 1)
            return lc_error(LC_ERR_ARG, "image of %dx%d pixels resizes to nothing (%dx%d)", w, h, rw, rh);
        if ((uint64_t)rh * (uint64_t)rw > LC_IMAGE_DEFAULT_MAX_PIXELS)
            return lc_error(LC_ERR_ARG, "image of %dx%d pixels would resize to %dx%d, over the %llu-pixel limit", w, h,
                            rw, rh, (unsigned long long)LC_IMAGE_DEFAULT_MAX_PIXELS);
        pl->resize = true;
    }
    pl->rh = rh, pl->rw = rw;
    if (crop2) {
        /* ConvNext crops inside its resize; a configured center crop would follow it. */
        if (crop) return lc_error(LC_ERR_UNSUPPORTED, "ConvNext with do_center_crop is not supported");
        crop = true, ch = cw = crop2;
    }
    pl->crop = crop;
    pl->ch = crop ? ch : rh;
    pl->cw = crop ? cw : rw;
    return LC_OK;
}

lc_status lc_image_preprocessor_output_size(const lc_image_preprocessor *p, int width, int height, int *out_height,
                                            int *out_width) {
    if (!p || width <= 0 || height <= 0) return lc_error(LC_ERR_ARG, "lc_image_preprocessor_output_size: bad argument");
    plan pl;
    lc_status s = make_plan(p, width, height, &pl);
    if (s) return s;
    if (out_height) *out_height = pl.ch;
    if (out_width) *out_width = pl.cw;
    return LC_OK;
}

/* Crop (with zero padding) rows/cols of `src` (sw x sh) into a (ch, cw) planar float output. */
static void crop_to_planes(const lc_image_preprocessor *p, const uint8_t *src, int sw, int sh, int ch, int cw,
                           float *dst) {
    /* transformers' center_crop: top = (H - h) // 2 (floor division), padding centred with
     * ceil((new - orig) / 2) before it. Both reduce to: output row y reads source row y + top
     * where top = floor((sh - ch) / 2), zero outside the source. */
    int top = sh >= ch ? (sh - ch) / 2 : -((ch - sh + 1) / 2);
    int left = sw >= cw ? (sw - cw) / 2 : -((cw - sw + 1) / 2);
    size_t plane = (size_t)ch * cw;
    for (int y = 0; y < ch; y++) {
        int sy = y + top;
        float *d0 = dst + (size_t)y * cw, *d1 = d0 + plane, *d2 = d1 + plane;
        if (sy < 0 || sy >= sh) {
            for (int x = 0; x < cw; x++) d0[x] = p->lut[0][0], d1[x] = p->lut[1][0], d2[x] = p->lut[2][0];
            continue;
        }
        const uint8_t *row = src + (size_t)sy * sw * 3;
        for (int x = 0; x < cw; x++) {
            int sx = x + left;
            if (sx < 0 || sx >= sw) {
                d0[x] = p->lut[0][0], d1[x] = p->lut[1][0], d2[x] = p->lut[2][0];
                continue;
            }
            const uint8_t *px = row + (size_t)sx * 3;
            d0[x] = p->lut[0][px[0]];
            d1[x] = p->lut[1][px[1]];
            d2[x] = p->lut[2][px[2]];
        }
    }
}

lc_status lc_image_preprocess_into(const lc_image_preprocessor *p, const lc_image *img, float *dst, size_t dst_len) {
    if (!p || !img || !img->data || !dst) return lc_error(LC_ERR_ARG, "lc_image_preprocess_into: NULL argument");
    if (img->width <= 0 || img->height <= 0 || img->channels != 3)
        return lc_error(LC_ERR_ARG, "lc_image_preprocess: not an RGB image");
    plan pl;
    lc_status s = make_plan(p, img->width, img->height, &pl);
    if (s) return s;
    if (dst_len < (size_t)3 * pl.ch * pl.cw)
        return lc_error(LC_ERR_ARG, "lc_image_preprocess_into: %zu floats given, %zu needed", dst_len,
                        (size_t)3 * pl.ch * pl.cw);
    const lc_image *src = img;
    lc_image *painted = NULL, *resized = NULL;
    if (p->do_convert_rgb && img->has_transparent_color) {
        /* transformers' convert_to_rgb: the transparent colour composited onto white. */
        s = lc_image_from_rgb(img->width, img->height, img->data, &painted);
        if (s) return s;
        const uint16_t *t = img->transparent_color;
        size_t n = (size_t)img->width * img->height;
        for (uint8_t *q = painted->data; n--; q += 3)
            if (q[0] == t[0] && q[1] == t[1] && q[2] == t[2]) q[0] = q[1] = q[2] = 255;
        src = painted;
    }
    if (pl.resize && (pl.rw != src->width || pl.rh != src->height)) {
        s = lc_image_resize(src, pl.rw, pl.rh, p->resample, &resized);
        if (s) {
            lc_image_free(painted);
            return s;
        }
        src = resized;
    }
    crop_to_planes(p, src->data, src->width, src->height, pl.ch, pl.cw, dst);
    lc_image_free(resized);
    lc_image_free(painted);
    return LC_OK;
}

lc_status lc_image_preprocess(const lc_image_preprocessor *p, const lc_image *img, lc_array **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_image_preprocess: out is NULL");
    *out = NULL;
    lc_array *batch = NULL;
    lc_status s = lc_image_preprocess_batch(p, 1, &img, &batch);
    if (s) return s;
    int64_t shape[3] = {3, lc_array_dim(batch, 2), lc_array_dim(batch, 3)};
    s = lc_reshape(batch, 3, shape, out); /* a view: shares the buffer */
    lc_array_release(batch);
    return s;
}

typedef struct batch_job {
    const lc_image_preprocessor *p;
    const lc_image *const *imgs;
    float *data;
    size_t per;
    int64_t n;
    atomic_llong first_failure;
} batch_job;

static void batch_run(void *ctx, int64_t begin, int64_t end) {
    batch_job *job = ctx;
    for (int64_t i = begin; i < end; i++) {
        if (lc_image_preprocess_into(job->p, job->imgs[i], job->data + (size_t)i * job->per, job->per) != LC_OK) {
            long long cur = atomic_load(&job->first_failure);
            while (i < cur && !atomic_compare_exchange_weak(&job->first_failure, &cur, i)) {
            }
        }
    }
}

lc_status lc_image_preprocess_batch(const lc_image_preprocessor *p, size_t n, const lc_image *const *imgs,
                                    lc_array **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_image_preprocess_batch: out is NULL");
    *out = NULL;
    if (!p || !imgs || n == 0) return lc_error(LC_ERR_ARG, "lc_image_preprocess_batch: no images");
    int h = 0, w = 0;
    for (size_t i = 0; i < n; i++) {
        if (!imgs[i]) return lc_error(LC_ERR_ARG, "lc_image_preprocess_batch: image %zu is NULL", i);
        int hi = 0, wi = 0;
        lc_status s = lc_image_preprocessor_output_size(p, imgs[i]->width, imgs[i]->height, &hi, &wi);
        if (s) return s;
        if (i == 0) h = hi, w = wi;
        else if (hi != h || wi != w)
            return lc_error(LC_ERR_SHAPE, "image %zu preprocesses to %dx%d, image 0 to %dx%d: cannot batch", i, wi, hi,
                            w, h);
    }
    int64_t shape[4] = {(int64_t)n, 3, h, w};
    lc_array *a = NULL;
    lc_status s = lc_array_empty(LC_F32, 4, shape, LC_CPU, &a);
    if (s) return s;
    float *data = NULL;
    s = lc_array_host_data(a, (void **)&data);
    if (s == LC_OK) {
        /* Images in parallel on the CPU pool. Error messages are per thread, so a failed image
         * is run again here to report its own message. */
        batch_job job = {.p = p, .imgs = imgs, .data = data, .per = (size_t)3 * h * w, .n = (int64_t)n};
        atomic_init(&job.first_failure, (int64_t)n);
        lc_parallel_for((int64_t)n, 1, batch_run, &job);
        int64_t bad = atomic_load(&job.first_failure);
        if (bad < (int64_t)n) {
            s = lc_image_preprocess_into(p, imgs[bad], data + (size_t)bad * job.per, job.per);
            if (s == LC_OK) s = lc_error(LC_ERR_INTERNAL, "image %lld failed on a worker thread only", (long long)bad);
        }
    }
    if (s) {
        lc_array_release(a);
        return s;
    }
    *out = a;
    return LC_OK;
}
