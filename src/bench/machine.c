/* The machine a report was measured on: CPU model and cores, memory, GPUs and driver, BLAS,
 * compiler, operating system, locus version and commit. */
#include "bench/bench_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static void cpu_model(char *buf, size_t len) {
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        char *colon = strchr(line, ':');
        if (!colon) continue;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        colon[strcspn(colon, "\n")] = 0;
        snprintf(buf, len, "%s", colon);
        break;
    }
    fclose(f);
}

static double mem_total_bytes(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    double kb = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "MemTotal:", 9) == 0) {
            kb = strtod(line + 9, NULL);
            break;
        }
    fclose(f);
    return kb * 1024.0;
}

cJSON *bench_machine_json(void) {
    cJSON *m = cJSON_CreateObject();
    char buf[256];
    cJSON *cpu = cJSON_AddObjectToObject(m, "cpu");
    cpu_model(buf, sizeof buf);
    cJSON_AddStringToObject(cpu, "model", buf);
    cJSON_AddNumberToObject(cpu, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    cJSON_AddNumberToObject(cpu, "threads_used", lc_get_num_threads());
    cJSON_AddNumberToObject(m, "memory_bytes", mem_total_bytes());
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(buf, sizeof buf, "%s %s %s", u.sysname, u.release, u.machine);
        cJSON_AddStringToObject(m, "os", buf);
    }
    cJSON *gpus = cJSON_AddArrayToObject(m, "gpus");
    int ng = lc_cuda_device_count();
    const char *driver = ng > 0 ? bench_nvml_driver() : NULL;
    for (int i = 0; i < ng; i++) {
        cJSON *g = cJSON_CreateObject();
        cJSON_AddNumberToObject(g, "index", i);
        lc_device d = {LC_DEVICE_CUDA, i};
        if (lc_device_describe(d, buf, sizeof buf) != LC_OK) snprintf(buf, sizeof buf, "unknown");
        cJSON_AddStringToObject(g, "name", buf);
        if (driver) cJSON_AddStringToObject(g, "driver", driver);
        else cJSON_AddNullToObject(g, "driver");
        cJSON_AddItemToArray(gpus, g);
    }
    cJSON_AddStringToObject(m, "blas", lc_blas_name());
#if defined(__clang__)
    snprintf(buf, sizeof buf, "clang %s", __clang_version__);
#elif defined(__GNUC__)
    snprintf(buf, sizeof buf, "gcc %s", __VERSION__);
#else
    snprintf(buf, sizeof buf, "unknown");
#endif
    cJSON_AddStringToObject(m, "compiler", buf);
    cJSON_AddBoolToObject(m, "cuda_compiled", lc_cuda_compiled());
    cJSON_AddStringToObject(m, "locus_version", lc_version());
    cJSON_AddStringToObject(m, "locus_commit", lc_git_commit());
    return m;
}
