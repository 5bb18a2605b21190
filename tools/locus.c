/* locus: the command-line tool. One file per subcommand (cmd_*.c); this one dispatches. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* Subcommands are linked in when their file is built; a missing one is reported, not crashed on. */
#define LOCUS_COMMANDS(X)                                                                      \
    X(info, "version, compiled backends, BLAS, threads, devices")                              \
    X(tokenize, "MODEL_DIR [TEXT...]: token ids as JSON")                                      \
    X(embed, "MODEL_DIR [TEXT...]: sentence embeddings as JSON")                               \
    X(classify, "MODEL_DIR [TEXT...|IMAGE...]: labels and scores as JSON")                     \
    X(bench, "measure ops and models on this machine")                                         \
    X(verify, "FILE: read and validate C2PA content credentials")                              \
    X(sign, "IN -o OUT --cert PEM --key PEM: sign a JPEG or PNG with a C2PA manifest")          \
    X(detect, "IMAGE...: content credentials plus a detector model's verdict")

#define DECLARE(name, help) int cmd_##name(int argc, char **argv) __attribute__((weak));
LOCUS_COMMANDS(DECLARE)
#undef DECLARE

static const struct {
    const char *name;
    const char *help;
} commands[] = {
#define ENTRY(name, help) {#name, help},
    LOCUS_COMMANDS(ENTRY)
#undef ENTRY
};

static cli_command_fn command_fn(const char *name) {
#define LOOKUP(n, help)                                                                        \
    if (strcmp(name, #n) == 0) return cmd_##n;
    LOCUS_COMMANDS(LOOKUP)
#undef LOOKUP
    return NULL;
}

static void usage(FILE *f) {
    fprintf(f, "locus %s: on-device inference, measurement and media authenticity\n\n", lc_version());
    fprintf(f, "usage: locus COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n`locus COMMAND --help` describes each.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("locus %s (%s)\n", lc_version(), lc_git_commit());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0) continue;
        cli_command_fn fn = command_fn(argv[1]);
        if (!fn) {
            fprintf(stderr, "locus: '%s' is not built into this binary\n", argv[1]);
            return 2;
        }
        return fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "locus: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
