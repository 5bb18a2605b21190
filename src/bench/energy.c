/* Energy counters: RAPL through the Linux powercap interface for the CPU package(s), NVML's
 * total-energy counter for NVIDIA GPUs (libnvidia-ml is opened at run time, so locus has no
 * build dependency on it). Where no counter can be read the meter says why, in plain words. */
#include "bench/bench_internal.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DOMAINS 8

struct lc_energy_meter {
    bool available;
    char source[256];
    /* RAPL */
    int ndomains;
    char path[MAX_DOMAINS][320];
    double range_uj[MAX_DOMAINS], last_uj[MAX_DOMAINS], total_uj[MAX_DOMAINS];
    /* NVML */
    void *nvml_dev;
};

/* ---- NVML, opened once ------------------------------------------------------------------- */
typedef int (*nvml_init_fn)(void);
typedef int (*nvml_handle_fn)(unsigned int, void **);
typedef int (*nvml_energy_fn)(void *, unsigned long long *);
typedef int (*nvml_driver_fn)(char *, unsigned int);
static struct {
    int state; /* 0 untried, 1 ready, -1 failed */
    char why[160];
    nvml_handle_fn handle;
    nvml_energy_fn energy;
    nvml_driver_fn driver;
    char driver_version[96];
} nvml;

static bool nvml_open(void) {
    if (nvml.state) return nvml.state > 0;
    nvml.state = -1;
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(nvml.why, sizeof nvml.why, "NVML (libnvidia-ml.so.1) is not installed");
        return false;
    }
    nvml_init_fn init = (nvml_init_fn)dlsym(lib, "nvmlInit_v2");
    nvml.handle = (nvml_handle_fn)dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
    nvml.energy = (nvml_energy_fn)dlsym(lib, "nvmlDeviceGetTotalEnergyConsumption");
    nvml.driver = (nvml_driver_fn)dlsym(lib, "nvmlSystemGetDriverVersion");
    if (!init || !nvml.handle || !nvml.energy) {
        snprintf(nvml.why, sizeof nvml.why, "NVML lacks nvmlDeviceGetTotalEnergyConsumption (driver too old)");
        return false;
    }
    int rc = init();
    if (rc != 0) {
        snprintf(nvml.why, sizeof nvml.why, "nvmlInit failed (NVML error %d)", rc);
        return false;
    }
    if (nvml.driver && nvml.driver(nvml.driver_version, sizeof nvml.driver_version) != 0) nvml.driver_version[0] = 0;
    nvml.state = 1;
    return true;
}

const char *bench_nvml_driver(void) {
    if (!nvml_open()) return NULL;
    return nvml.driver_version[0] ? nvml.driver_version : NULL;
}

/* ---- RAPL -------------------------------------------------------------------------------- */
static bool read_uj(const char *path, double *v) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    unsigned long long x;
    bool ok = fscanf(f, "%llu", &x) == 1;
    fclose(f);
    if (ok) *v = (double)x;
    return ok;
}

static void rapl_open(lc_energy_meter *m) {
    const char *root = "/sys/class/powercap";
    DIR *dir = opendir(root);
    if (!dir) {
        snprintf(m->source, sizeof m->source,
                 "not measured: this machine exposes no RAPL counters (%s is absent, as in most virtual machines)", root);
        return;
    }
    struct dirent *e;
    bool denied = false;
    while ((e = readdir(dir)) && m->ndomains < MAX_DOMAINS) {
        /* package domains: intel-rapl:N (AMD CPUs use the same driver name), not sub-zones N:M */
        if (strncmp(e->d_name, "intel-rapl:", 11) != 0 || strchr(e->d_name + 11, ':')) continue;
        char p[320], r[320];
        snprintf(p, sizeof p, "%s/%s/energy_uj", root, e->d_name);
        snprintf(r, sizeof r, "%s/%s/max_energy_range_uj", root, e->d_name);
        double v, range;
        if (!read_uj(p, &v)) {
            if (errno == EACCES || errno == EPERM) denied = true;
            continue;
        }
        if (!read_uj(r, &range) || !(range > 0)) range = 0x1p32;
        int i = m->ndomains++;
        snprintf(m->path[i], sizeof m->path[i], "%s", p);
        m->range_uj[i] = range;
        m->last_uj[i] = v;
        m->total_uj[i] = 0;
    }
    closedir(dir);
    if (m->ndomains > 0) {
        m->available = true;
        snprintf(m->source, sizeof m->source, "RAPL powercap, %d CPU package domain%s", m->ndomains,
                 m->ndomains > 1 ? "s" : "");
    } else if (denied) {
        snprintf(m->source, sizeof m->source,
                 "not measured: RAPL counters exist but are readable only by root (%s/intel-rapl:*/energy_uj)", root);
    } else {
        snprintf(m->source, sizeof m->source, "not measured: no RAPL package domain under %s", root);
    }
}

lc_status lc_energy_open(lc_device d, lc_energy_meter **out) {
    if (!out) return lc_error(LC_ERR_ARG, "lc_energy_open: NULL argument");
    lc_energy_meter *m = calloc(1, sizeof *m);
    if (!m) return lc_error(LC_ERR_NOMEM, "lc_energy_open: out of memory");
    if (d.kind == LC_DEVICE_CPU) {
        rapl_open(m);
    } else if (d.kind == LC_DEVICE_CUDA) {
        if (!nvml_open()) {
            snprintf(m->source, sizeof m->source, "not measured: %s", nvml.why);
        } else if (nvml.handle((unsigned)d.index, &m->nvml_dev) != 0) {
            snprintf(m->source, sizeof m->source, "not measured: NVML has no device %d", d.index);
        } else {
            unsigned long long mj;
            int rc = nvml.energy(m->nvml_dev, &mj);
            if (rc != 0) {
                snprintf(m->source, sizeof m->source,
                         "not measured: this GPU does not report total energy through NVML (error %d)", rc);
            } else {
                m->available = true;
                snprintf(m->source, sizeof m->source, "NVML total energy counter, GPU %d", d.index);
            }
        }
    } else {
        snprintf(m->source, sizeof m->source, "not measured: no energy counter for this device kind");
    }
    *out = m;
    return LC_OK;
}

bool lc_energy_available(const lc_energy_meter *m) { return m && m->available; }
const char *lc_energy_source(const lc_energy_meter *m) { return m ? m->source : "not measured"; }

lc_status lc_energy_read(lc_energy_meter *m, double *joules) {
    if (!m || !joules) return lc_error(LC_ERR_ARG, "lc_energy_read: NULL argument");
    if (!m->available) return lc_error(LC_ERR_UNSUPPORTED, "energy: %s", m->source);
    if (m->nvml_dev) {
        unsigned long long mj;
        int rc = nvml.energy(m->nvml_dev, &mj);
        if (rc != 0) return lc_error(LC_ERR_DEVICE, "energy: NVML error %d reading total energy", rc);
        *joules = (double)mj / 1000.0;
        return LC_OK;
    }
    double total = 0;
    for (int i = 0; i < m->ndomains; i++) {
        double v;
        if (!read_uj(m->path[i], &v)) return lc_error(LC_ERR_IO, "energy: cannot read %s", m->path[i]);
        double delta = v - m->last_uj[i];
        if (delta < 0) delta += m->range_uj[i]; /* the counter wrapped */
        m->total_uj[i] += delta;
        m->last_uj[i] = v;
        total += m->total_uj[i];
    }
    *joules = total / 1e6;
    return LC_OK;
}

void lc_energy_close(lc_energy_meter *m) { free(m); }
