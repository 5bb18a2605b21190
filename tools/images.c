/* Image inputs of the CLI: directory arguments walked for image files, and files decoded and
 * preprocessed by the model's preprocessor_config.json into one pixel_values batch. */
#include "cli.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

bool cli_exif_transpose; /* set by --exif-transpose */

static bool is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 || strcasecmp(dot, ".png") == 0);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static lc_status push(size_t *n, size_t *cap, char ***files, const char *path) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **f = realloc(*files, nc * sizeof *f);
        if (!f) return lc_error(LC_ERR_NOMEM, "out of memory");
        *files = f;
        *cap = nc;
    }
    if (!((*files)[*n] = strdup(path))) return lc_error(LC_ERR_NOMEM, "out of memory");
    (*n)++;
    return LC_OK;
}

/* Files of a directory (recursively), sorted, images only. */
static lc_status walk(const char *dir, int depth, size_t *n, size_t *cap, char ***files) {
    if (depth > 32) return lc_error(LC_ERR_ARG, "%s: directories nested too deeply", dir);
    DIR *d = opendir(dir);
    if (!d) return lc_error(LC_ERR_IO, "%s: cannot open directory", dir);
    size_t first = *n;
    lc_status s = LC_OK;
    struct dirent *e;
    while (!s && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!path) {
            s = lc_error(LC_ERR_NOMEM, "out of memory");
            break;
        }
        size_t dl = strlen(dir);
        while (dl > 1 && dir[dl - 1] == '/') dl--; /* "photos/" -> "photos/x.jpg", not "photos//x.jpg" */
        snprintf(path, len, "%.*s/%s", (int)dl, dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) s = walk(path, depth + 1, n, cap, files);
        else if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && is_image_name(e->d_name)) s = push(n, cap, files, path);
        free(path);
    }
    closedir(d);
    if (!s) qsort(*files + first, *n - first, sizeof **files, cmp_str);
    return s;
}

lc_status cli_expand_image_args(int argc, char **argv, size_t *n_out, char ***files_out) {
    size_t n = 0, cap = 0;
    char **files = NULL;
    lc_status s = LC_OK;
    for (int i = 0; i < argc && !s; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) s = walk(argv[i], 0, &n, &cap, &files);
        else s = push(&n, &cap, &files, argv[i]); /* decoding reports a missing or bad file by name */
    }
    if (s) {
        for (size_t i = 0; i < n; i++) free(files[i]);
        free(files);
        return s;
    }
    *n_out = n;
    *files_out = files;
    return LC_OK;
}

lc_status cli_images_to_pixels(const char *model_dir, size_t n, char **files, lc_array **pixels) {
    char path[4096];
    snprintf(path, sizeof path, "%s/preprocessor_config.json", model_dir);
    lc_image_preprocessor *pre = NULL;
    lc_status s = lc_image_preprocessor_load(path, &pre);
    if (s) return s;
    int h = 0, w = 0;
    float *batch = NULL;
    size_t per = 0;
    lc_image_options opt = {.exif_transpose = cli_exif_transpose};
    for (size_t i = 0; i < n && !s; i++) {
        lc_image *img = NULL;
        s = lc_image_decode_file(files[i], &opt, &img);
        if (s) break;
        if (i == 0) {
            s = lc_image_preprocessor_output_size(pre, img->width, img->height, &h, &w);
            per = (size_t)3 * (size_t)h * (size_t)w;
            if (!s && !(batch = malloc(sizeof(float) * per * n))) s = lc_error(LC_ERR_NOMEM, "out of memory");
        }
        if (!s) {
            int hi = 0, wi = 0;
            s = lc_image_preprocessor_output_size(pre, img->width, img->height, &hi, &wi);
            if (!s && (hi != h || wi != w))
                s = lc_error(LC_ERR_SHAPE, "%s: preprocesses to %dx%d, the batch is %dx%d (the preprocessor does not fix the size)",
                             files[i], wi, hi, w, h);
        }
        if (!s) s = lc_image_preprocess_into(pre, img, batch + i * per, per);
        lc_image_free(img);
    }
    if (!s) {
        int64_t shape[4] = {(int64_t)n, 3, h, w};
        s = lc_array_from_data(LC_F32, 4, shape, batch, pixels);
    }
    free(batch);
    lc_image_preprocessor_free(pre);
    return s;
}
