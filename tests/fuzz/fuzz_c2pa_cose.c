/* libFuzzer target: COSE_Sign1 parsing (headers, x5chain certificates, time-stamp tokens),
 * time-stamp and signature verification over a fixed detached payload. A mutated signature must
 * never verify. */
#include "media/c2pa/c2pa_internal.h"

#include <openssl/err.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    c2pa_cose c;
    if (c2pa_cose_parse(data, size, &c) == LC_OK) {
        static const uint8_t payload[] = "fuzzed claim bytes";
        (void)c2pa_cose_verify(&c, payload, sizeof payload - 1);
        char *t = c2pa_cose_timestamp(&c, payload, sizeof payload - 1);
        free(t);
        if (c.chain && sk_X509_num(c.chain) > 0) {
            char *cn = c2pa_cert_subject_field(sk_X509_value(c.chain, 0), NID_commonName);
            free(cn);
            char why[256];
            (void)c2pa_trust_check(NULL, c.chain, 1700000000, why, sizeof why);
        }
        c2pa_cose_free(&c);
    }
    ERR_clear_error();
    return 0;
}
