/* locus info [--json]: version, compiled backends, BLAS, threads, devices. */
#include "cli.h"

#include <string.h>

int cmd_info(int argc, char **argv) {
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = true;
        else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: locus info [--json]\n");
            return 0;
        } else return cli_failf("info", 2, "unknown option '%s'", argv[i]);
    }
    char cpu[256] = "";
    lc_device_describe(LC_CPU, cpu, sizeof cpu);
    int ncuda = lc_cuda_device_count();
    if (json) {
        printf("{\"version\":");
        cli_json_string(stdout, lc_version());
        printf(",\"commit\":");
        cli_json_string(stdout, lc_git_commit());
        printf(",\"backends\":[\"cpu\"%s],\"cuda_compiled\":%s,\"blas\":", lc_cuda_compiled() ? ",\"cuda\"" : "",
               lc_cuda_compiled() ? "true" : "false");
        cli_json_string(stdout, lc_blas_name());
        printf(",\"cudnn\":");
        if (lc_cudnn_version()) cli_json_string(stdout, lc_cudnn_version());
        else printf("null");
        printf(",\"threads\":%d,\"devices\":[{\"name\":\"cpu\",\"description\":", lc_get_num_threads());
        cli_json_string(stdout, cpu);
        printf("}");
        for (int i = 0; i < ncuda; i++) {
            char d[256] = "";
            lc_device_describe((lc_device){LC_DEVICE_CUDA, i}, d, sizeof d);
            printf(",{\"name\":\"cuda:%d\",\"description\":", i);
            cli_json_string(stdout, d);
            printf("}");
        }
        printf("]}\n");
        return 0;
    }
    printf("locus %s (commit %s)\n", lc_version(), lc_git_commit());
    printf("backends:  cpu%s\n", lc_cuda_compiled() ? ", cuda (compiled in)" : " (CUDA not compiled in)");
    printf("blas:      %s\n", lc_blas_name());
    if (lc_cuda_compiled())
        printf("cudnn:     %s\n", lc_cudnn_version() ? lc_cudnn_version() : "not compiled in (GPU convolutions: im2col + GEMM)");
    printf("threads:   %d\n", lc_get_num_threads());
    printf("cpu:       %s\n", cpu);
    if (lc_cuda_compiled() && ncuda == 0) printf("cuda:      no CUDA device visible\n");
    for (int i = 0; i < ncuda; i++) {
        char d[256] = "";
        lc_device_describe((lc_device){LC_DEVICE_CUDA, i}, d, sizeof d);
        printf("cuda:%d:    %s\n", i, d);
    }
    return 0;
}
