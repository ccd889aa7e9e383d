/* The trace headers every message carries (00-architecture.md "One trace
 * through everything"): read them from an inbound NATS message, write them
 * onto an outbound one unchanged, and mirror them into/out of the protobuf
 * TraceContext. */
#ifndef MED_HEADERS_H
#define MED_HEADERS_H

#include <nats/nats.h>
#include "med/err.h"

#define MED_HDR_VALUE_MAX 160

typedef struct med_trace_headers {
    char traceparent[MED_HDR_VALUE_MAX];
    char trace_key[MED_HDR_VALUE_MAX];
    char request_key[MED_HDR_VALUE_MAX];
    char opportunity_key[MED_HDR_VALUE_MAX];
    char tenant[MED_HDR_VALUE_MAX];
    char app[MED_HDR_VALUE_MAX];
    char placement[MED_HDR_VALUE_MAX];
    char anchor_hash[MED_HDR_VALUE_MAX];
} med_trace_headers;

struct Mediation__V1__TraceContext;

/* Missing headers become "". Never fails on absent headers. */
void med_headers_read(natsMsg *in, med_trace_headers *out);
/* Sets every non-empty field as a header on out. */
med_rc med_headers_write(natsMsg *out, const med_trace_headers *h, med_err *err);
/* read + write: the propagation every stage does. */
med_rc med_headers_copy(natsMsg *in, natsMsg *out, med_err *err);
/* Header value or NULL (a borrowed pointer, valid while msg lives). */
const char *med_header_get(natsMsg *msg, const char *name);

/* Mirror into the protobuf TraceContext. The strings in tc are pointers into
 * h: h must outlive tc's use (e.g. until packing). */
void med_headers_to_trace_ctx(const med_trace_headers *h,
                              struct Mediation__V1__TraceContext *tc);
void med_headers_from_trace_ctx(const struct Mediation__V1__TraceContext *tc,
                                med_trace_headers *h);

#endif
