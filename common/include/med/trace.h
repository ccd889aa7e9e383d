/* W3C trace context (traceparent) and the platform's trace keys. */
#ifndef MED_TRACE_H
#define MED_TRACE_H

#include <stdint.h>
#include "med/err.h"

#define MED_TRACEPARENT_LEN 55 /* "00-" 32 "-" 16 "-" 2 */

typedef struct med_traceparent {
    char trace_id[33]; /* 32 lowercase hex */
    char span_id[17];  /* 16 lowercase hex */
    uint8_t flags;
} med_traceparent;

/* Parses version 00 (and future versions per W3C rules: longer strings
 * allowed only for versions > 00). All-zero ids are invalid. */
med_rc med_traceparent_parse(const char *s, med_traceparent *out, med_err *err);
/* out must hold MED_TRACEPARENT_LEN + 1 bytes. */
void med_traceparent_format(const med_traceparent *tp, char *out);
/* Fresh random trace and span ids, sampled flag set. */
void med_traceparent_new(med_traceparent *out);
/* Same trace id, new span id (a new hop), flags kept. */
void med_traceparent_child(const med_traceparent *parent, med_traceparent *child);

#endif
