#include "med/err.h"

#include <stdio.h>
#include <string.h>

static void copy_str(char *dst, size_t cap, const char *src)
{
    if (!src) src = "";
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

med_rc med_err_set(med_err *err, med_rc rc, const char *code,
                   const char *field, const char *fmt, ...)
{
    if (!err) return rc;
    err->rc = rc;
    err->retry_after_ms = 0;
    copy_str(err->code, sizeof err->code, code);
    copy_str(err->field, sizeof err->field, field);
    err->message[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void med_err_clear(med_err *err)
{
    if (err) memset(err, 0, sizeof *err);
}

const char *med_rc_name(med_rc rc)
{
    switch (rc) {
    case MED_OK: return "ok";
    case MED_ERR_INVALID: return "invalid";
    case MED_ERR_NOT_FOUND: return "not_found";
    case MED_ERR_CONFLICT: return "conflict";
    case MED_ERR_TIMEOUT: return "timeout";
    case MED_ERR_UNAVAILABLE: return "unavailable";
    case MED_ERR_NOMEM: return "nomem";
    case MED_ERR_IO: return "io";
    case MED_ERR_INTERNAL: return "internal";
    }
    return "unknown";
}

int med_rc_is_retryable(med_rc rc)
{
    return rc == MED_ERR_TIMEOUT || rc == MED_ERR_UNAVAILABLE ||
           rc == MED_ERR_IO || rc == MED_ERR_NOMEM;
}
