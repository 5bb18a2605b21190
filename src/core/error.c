/* Per-thread last-error message, like errno with words. */
#include "locus.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char lc_error_message[1024];

const char *lc_last_error(void) { return lc_error_message; }

void lc_clear_error(void) { lc_error_message[0] = '\0'; }

lc_status lc_error(lc_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lc_error_message, sizeof lc_error_message, fmt, ap);
    va_end(ap);
    return s;
}

const char *lc_status_string(lc_status s) {
    switch (s) {
    case LC_OK: return "ok";
    case LC_ERR_ARG: return "invalid argument";
    case LC_ERR_IO: return "i/o error";
    case LC_ERR_FORMAT: return "format error";
    case LC_ERR_NOMEM: return "out of memory";
    case LC_ERR_UNSUPPORTED: return "unsupported";
    case LC_ERR_SHAPE: return "shape error";
    case LC_ERR_DEVICE: return "device error";
    case LC_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}
