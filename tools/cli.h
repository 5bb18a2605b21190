/* Shared helpers of the locus subcommands: argument parsing, JSON printing, input reading. */
#ifndef LOCUS_TOOLS_CLI_H
#define LOCUS_TOOLS_CLI_H

#include "locus.h"

#include <stdio.h>

/* Every subcommand: int cmd_NAME(int argc, char **argv), argv[0] is the subcommand name.
 * Exit status: 0 success, 1 failure (a one-line message on stderr: "locus NAME: ..."),
 * 2 usage error; commands with their own contract (verify) document theirs. */
typedef int (*cli_command_fn)(int argc, char **argv);

/* Print "locus CMD: <message of the last error>" to stderr and return 1. */
int cli_fail(const char *cmd);
/* Print "locus CMD: <printf message>" to stderr and return `code`. */
int cli_failf(const char *cmd, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Parse a non-negative integer option value; false and an error message when not one. */
bool cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
/* Texts from the remaining arguments, else one per line from stdin (without the newline). Each
 * must be valid UTF-8 (else an error naming the argument or line). The arrays are malloc'd. */
bool cli_read_texts(const char *cmd, int argc, char **argv, size_t *n_out, char ***texts_out);
void cli_free_texts(size_t n, char **texts);
/* JSON output: a string with escapes, a float in shortest round-trip form. */
void cli_json_string(FILE *f, const char *s);
void cli_json_float(FILE *f, float v);
/* Valid UTF-8? */
bool cli_utf8_valid(const char *s, size_t len);

/* Options shared by the model commands (embed, classify): --batch, --threads, --device, --dtype.
 * Returns 0 when argv[*i] was one (advancing *i past its value), -1 when it is not, else an exit code. */
typedef struct {
    long batch, threads, top_k;
    lc_model_options mopt;
} common_opts;
int cli_common_option(const char *cmd, int argc, char **argv, int *i, common_opts *o);
/* Read a little-endian float32 C-order .npy file. */
lc_status cli_read_npy_f32(const char *path, lc_array **out);

/* Image inputs: directory arguments expanded into their image files (sorted, recursive), and
 * image files decoded and preprocessed with MODEL_DIR/preprocessor_config.json into (N, 3, H, W). */
extern bool cli_exif_transpose;
lc_status cli_expand_image_args(int argc, char **argv, size_t *n, char ***files);
lc_status cli_images_to_pixels(const char *model_dir, size_t n, char **files, lc_array **pixels);

#endif
