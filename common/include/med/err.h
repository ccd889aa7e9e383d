/* Error reporting shared by every module.
 *
 * Functions return a med_rc and, on failure, fill a caller-provided med_err
 * with a reason code from the spec (see reason.h), a human sentence and,
 * when the failure is about one input field, its JSON path. */
#ifndef MED_ERR_H
#define MED_ERR_H

#include <stdarg.h>
#include <stdint.h>

typedef enum med_rc {
    MED_OK = 0,
    MED_ERR_INVALID,     /* bad input: a 4xx, never retried */
    MED_ERR_NOT_FOUND,
    MED_ERR_CONFLICT,
    MED_ERR_TIMEOUT,     /* retryable */
    MED_ERR_UNAVAILABLE, /* a dependency is down: retryable */
    MED_ERR_NOMEM,
    MED_ERR_IO,          /* other failure of an outside system: retryable */
    MED_ERR_INTERNAL,
} med_rc;

typedef struct med_err {
    med_rc rc;
    char code[64];     /* reason code, e.g. "edge_json_malformed" */
    char field[128];   /* JSON path of the offending field, "" when none */
    char message[256];
    /* A retryable failure that knows when to come back (e.g. another
     * replica's lease ends then): the consumer naks with this delay
     * instead of its backoff ladder. 0 = the ladder. */
    int64_t retry_after_ms;
} med_err;

/* Fills err (if non-NULL) and returns rc, so callers can write
 * `return med_err_set(err, MED_ERR_INVALID, MED_R_..., "x", "...")`. */
med_rc med_err_set(med_err *err, med_rc rc, const char *code,
                   const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void med_err_clear(med_err *err);
const char *med_rc_name(med_rc rc);
/* Retryable failures are worth a NAK with backoff; the rest are not. */
int med_rc_is_retryable(med_rc rc);

#endif
