/* status.c - per-thread last error message. */
#include "core/status.h"

#include <stdarg.h>
#include <string.h>

static _Thread_local char errbuf[1024];

const char *nt_errmsg(void) { return errbuf; }

void nt_error_clear(void) { errbuf[0] = 0; }

const char *nt_status_name(nt_status s) {
    switch (s) {
    case NT_OK: return "NT_OK";
    case NT_ERR_SHAPE: return "NT_ERR_SHAPE";
    case NT_ERR_NOMEM: return "NT_ERR_NOMEM";
    case NT_ERR_IO: return "NT_ERR_IO";
    case NT_ERR_FORMAT: return "NT_ERR_FORMAT";
    case NT_ERR_ARG: return "NT_ERR_ARG";
    case NT_ERR_STATE: return "NT_ERR_STATE";
    case NT_ERR_NUMERIC: return "NT_ERR_NUMERIC";
    case NT_ERR_INTERRUPTED: return "NT_ERR_INTERRUPTED";
    }
    return "NT_ERR_UNKNOWN";
}

nt_status nt_error(nt_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return s;
}

nt_status nt_error_wrap(nt_status s, const char *fmt, ...) {
    char prefix[512], old[sizeof errbuf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, errbuf, sizeof old);
    /* a message longer than errbuf is cut; that is fine for a diagnostic */
    if (snprintf(errbuf, sizeof errbuf, "%s: %s", prefix, old) >= (int)sizeof errbuf)
        errbuf[sizeof errbuf - 1] = 0;
    return s;
}
