/* locus sign: add C2PA content credentials to a JPEG or PNG. */
#include "cli.h"
#include "locus/c2pa_sign.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void sign_usage(FILE *f) {
    fprintf(f,
            "usage: locus sign IN -o OUT --cert PEM --key PEM [--alg es256|es384|ps256|ed25519]\n"
            "                  [--manifest JSON] [--title T] [--source-type TYPE] [--trust PEM]\n"
            "                  [--allow-nonconforming-cert]\n\n"
            "Signs IN (JPEG or PNG) with a C2PA manifest and writes OUT (which may be IN).\n"
            "  --cert PEM         certificate chain, signer first\n"
            "  --key PEM          the signer's private key (unencrypted)\n"
            "  --alg ALG          signature algorithm (default: from the key)\n"
            "  --manifest JSON    manifest definition: a JSON file, or JSON text starting with '{'\n"
            "                     ({\"title\", \"claim_generator_info\", \"digitalSourceType\", \"assertions\"})\n"
            "  --title T          dc:title of the claim (default: the manifest's title, else IN's name)\n"
            "  --source-type T    digitalSourceType of c2pa.created: an IPTC term or URL\n"
            "                     (default digitalCapture; unused when IN already has credentials)\n"
            "  --trust PEM        trust anchors used to validate IN's own credentials, which become the\n"
            "                     parent ingredient\n"
            "  --allow-nonconforming-cert\n"
            "                     sign even when the certificate breaks the C2PA certificate profile\n"
            "                     (for test files only: readers then report the file Invalid)\n"
            "The certificate must follow the C2PA certificate profile (end-entity, authority key ID,\n"
            "digital-signature key usage, an allowed extended key usage), else nothing is signed.\n"
            "No time-stamp authority is contacted.\n"
            "Exit status: 0 signed, 1 failure (message on stderr), 2 usage error.\n");
}

static char *read_text_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        lc_error(LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len < cap - 1) break;
        cap *= 2;
        char *p = realloc(buf, cap);
        if (!p) {
            free(buf);
            buf = NULL;
        } else {
            buf = p;
        }
    }
    bool err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        lc_error(LC_ERR_IO, "%s: read failed", path);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

int cmd_sign(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *manifest = NULL;
    lc_c2pa_sign_options opt = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **target = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            sign_usage(stdout);
            return 0;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) target = &out;
        else if (strcmp(a, "--cert") == 0) target = &opt.cert_pem_path;
        else if (strcmp(a, "--key") == 0) target = &opt.key_pem_path;
        else if (strcmp(a, "--manifest") == 0) target = &manifest;
        else if (strcmp(a, "--title") == 0) target = &opt.title;
        else if (strcmp(a, "--source-type") == 0) target = &opt.digital_source_type;
        else if (strcmp(a, "--trust") == 0) target = &opt.trust_pem_path;
        else if (strcmp(a, "--allow-nonconforming-cert") == 0) {
            opt.allow_nonconforming_cert = true;
            continue;
        } else if (strcmp(a, "--alg") == 0) {
            if (i + 1 >= argc) return cli_failf("sign", 2, "--alg needs a value");
            if (lc_c2pa_alg_parse(argv[++i], &opt.alg) != LC_OK) return cli_failf("sign", 2, "%s", lc_last_error());
            continue;
        } else if (a[0] == '-' && a[1]) {
            cli_failf("sign", 2, "unknown option '%s'", a);
            sign_usage(stderr);
            return 2;
        } else if (!in) {
            in = a;
            continue;
        } else {
            return cli_failf("sign", 2, "more than one input ('%s' and '%s')", in, a);
        }
        if (i + 1 >= argc) return cli_failf("sign", 2, "%s needs a value", a);
        *target = argv[++i];
    }
    if (!in || !out || !opt.cert_pem_path || !opt.key_pem_path) {
        sign_usage(stderr);
        return 2;
    }
    char *manifest_text = NULL;
    if (manifest) {
        if (manifest[0] == '{') {
            opt.manifest_json = manifest;
        } else {
            manifest_text = read_text_file(manifest);
            if (!manifest_text) return cli_fail("sign");
            opt.manifest_json = manifest_text;
        }
    }
    lc_status st = lc_c2pa_sign_file(in, out, &opt);
    bool manifest_file = manifest_text != NULL;
    free(manifest_text);
    if (st != LC_OK) {
        /* name the manifest file in definition errors */
        if (manifest_file && strncmp(lc_last_error(), "manifest definition", 19) == 0)
            return cli_failf("sign", 1, "%s: %s", manifest, lc_last_error());
        return cli_fail("sign");
    }
    return 0;
}
