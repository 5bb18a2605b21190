/* locus verify FILE [--trust PEM] [--json]: read and validate C2PA content credentials.
 * Exit status: 0 Valid or Trusted, 1 Invalid, 2 Absent, 3 the file (or trust file) could not be
 * read or is malformed, or the command line is wrong. */
#include "cli.h"
#include "locus/c2pa.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: locus verify FILE [--trust PEM] [--json]\n"
               "  Read and validate the C2PA content credentials of a JPEG or PNG file.\n"
               "  --trust PEM  trust anchors (PEM certificates): a chaining signer makes the file Trusted\n"
               "  --json       print one JSON object instead of a summary\n"
               "exit status: 0 Valid/Trusted, 1 Invalid, 2 Absent (no credentials), 3 error\n"
               "Ingredients (as c2pa-rs and c2patool judge them): a failure found in an ingredient's\n"
               "manifest counts (listed, and it decides the state) unless the ingredient assertion already\n"
               "records it from when the ingredient was added; recorded failures are shown with the\n"
               "ingredient and do not count. The active manifest's own failures always count.\n"
               "JSON: \"validation_status\" lists the failures that count; \"validation_results\" splits\n"
               "them into \"activeManifest\" and \"ingredientDeltas\" (per ingredient assertion URI); each\n"
               "manifest's ingredients carry their \"url\" and the failures they record in their own\n"
               "\"validation_results\", where c2patool puts them.\n");
}

static void print_manifest(const lc_c2pa_manifest *m, bool active) {
    printf("%s manifest %s\n", active ? "Active" : "Ingredient", m->label);
    if (m->sig_common_name || m->sig_issuer)
        printf("  signed by:  %s%s%s%s\n", m->sig_common_name ? m->sig_common_name : "?", m->sig_issuer ? " (" : "",
               m->sig_issuer ? m->sig_issuer : "", m->sig_issuer ? ")" : "");
    if (m->sig_alg) printf("  algorithm:  %s\n", m->sig_alg);
    printf("  signed at:  %s\n", m->sig_time ? m->sig_time : "(no valid time-stamp)");
    if (m->claim_generator) printf("  tool:       %s\n", m->claim_generator);
    if (m->title) printf("  title:      %s\n", m->title);
    if (m->n_actions) {
        printf("  actions:   ");
        for (size_t i = 0; i < m->n_actions; i++) printf(" %s%s", m->actions[i], i + 1 < m->n_actions ? "," : "");
        printf("\n");
    }
    for (size_t i = 0; i < m->n_ingredients; i++) {
        const lc_c2pa_ingredient *g = &m->ingredients[i];
        printf("  ingredient: %s (%s%s%s)\n", g->title ? g->title : "(untitled)",
               g->relationship ? g->relationship : "?",
               g->active_manifest ? ", manifest " : ", no manifest", g->active_manifest ? g->active_manifest : "");
        for (size_t k = 0; k < g->n_failures; k++)
            printf("    recorded failure (not counted): %s (%s)\n", g->failures[k].code, g->failures[k].url);
    }
}

int cmd_verify(int argc, char **argv) {
    const char *file = NULL, *trust = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = true;
        else if (strcmp(argv[i], "--trust") == 0) {
            if (++i >= argc) return cli_failf("verify", 3, "--trust needs a PEM file");
            trust = argv[i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            usage(stderr);
            return cli_failf("verify", 3, "unknown option %s", argv[i]);
        } else if (file) {
            return cli_failf("verify", 3, "one FILE only (got '%s' and '%s')", file, argv[i]);
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        usage(stderr);
        return 3;
    }
    lc_c2pa_options opt = {0};
    opt.trust_pem_path = trust;
    lc_c2pa_report *r = NULL;
    if (lc_c2pa_verify_file(file, &opt, &r) != LC_OK) {
        cli_fail("verify");
        return 3;
    }
    lc_c2pa_state state = lc_c2pa_report_state(r);
    if (json) {
        char *s = lc_c2pa_report_json(r, file);
        if (!s) {
            lc_c2pa_report_free(r);
            cli_fail("verify");
            return 3;
        }
        printf("%s\n", s);
        free(s);
    } else if (state == LC_C2PA_ABSENT) {
        printf("%s: no content credentials (Absent)\n", file);
    } else {
        const char *active = lc_c2pa_report_active_manifest(r);
        printf("%s\n", file);
        size_t n = lc_c2pa_report_manifest_count(r);
        for (size_t i = n; i-- > 0;) {
            const lc_c2pa_manifest *m = lc_c2pa_report_manifest(r, i);
            print_manifest(m, active && strcmp(m->label, active) == 0);
        }
        size_t ns = lc_c2pa_report_status_count(r);
        if (ns) printf("Validation failures:\n");
        for (size_t i = 0; i < ns; i++) {
            const lc_c2pa_status *s = lc_c2pa_report_status(r, i);
            printf("  %-32s %s\n  %32s (%s)\n", s->code, s->explanation, "", s->url);
            if (s->ingredient) printf("  %32s found through ingredient %s\n", "", s->ingredient);
        }
        const char *why = state == LC_C2PA_TRUSTED ? "signed by a trusted certificate, nothing altered"
                          : state == LC_C2PA_VALID ? "intact, but a signer is not on a trust list"
                                                   : "altered, or its credentials cannot be checked";
        printf("Verdict: %s (%s)\n", lc_c2pa_state_name(state), why);
    }
    lc_c2pa_report_free(r);
    switch (state) {
    case LC_C2PA_VALID:
    case LC_C2PA_TRUSTED: return 0;
    case LC_C2PA_INVALID: return 1;
    case LC_C2PA_ABSENT: return 2;
    }
    return 1;
}
