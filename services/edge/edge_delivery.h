/* What the HTTP caller of POST /v1/opportunities receives.
 *
 * A reply on the edge's inbox is either E's Delivery (HTTP 200, spec 03
 * E.9 names in camelCase) or A's OpportunityRejectReply for a contract
 * reject (A.1: HTTP 400, or 503 + Retry-After when retryable, with the
 * error body). At the deadline the edge answers an error Delivery of its
 * own. The Delivery mapping walks the descriptor (med/pbjson.h), so
 * fields E adds show up without touching the edge; the internal
 * TraceContext is left out and its keys surface as traceKey, requestKey
 * and opportunityKey when the Delivery does not carry them itself. */
#ifndef EDGE_DELIVERY_H
#define EDGE_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "med/err.h"
#include "mediation/v1/delivery.pb-c.h"
#include "mediation/v1/opportunity.pb-c.h"

#define EDGE_DELIVERY_STATUS_ERROR "error"

/* Keys the edge itself knows for a request; any may be NULL. */
typedef struct edge_trace_keys {
    const char *trace_key;
    const char *request_key;
    const char *opportunity_key;
} edge_trace_keys;

typedef struct edge_answer {
    int status; /* HTTP status */
    char *body; /* JSON, malloc'd */
    size_t len;
    int retry_after_sec; /* > 0: send Retry-After */
} edge_answer;

/* JSON text of a Delivery plus its trace keys. *out malloc'd. */
med_rc edge_delivery_to_json(const Mediation__V1__Delivery *d, const edge_trace_keys *fallback,
                             char **out, size_t *len, med_err *err);
/* The answer for one reply payload; undecodable -> MED_ERR_INVALID
 * INFRA_DECODE_FAILED. */
med_rc edge_reply_answer(const uint8_t *data, size_t n, const char *kind,
                         const edge_trace_keys *fallback, edge_answer *out, med_err *err);
void edge_answer_free(edge_answer *a);
/* A.1 reject -> HTTP status and error body; MED_ERR_INVALID when it is not
 * a usable reject (no error body, status outside 400..599). */
med_rc edge_reject_answer(const Mediation__V1__OpportunityRejectReply *rr, edge_answer *out,
                          med_err *err);
/* The deadline answer: status error, a fresh responseReference "rsp_...",
 * finalReasonCode e_er_edge_deadline, edgeDeadlineError true. */
med_rc edge_deadline_delivery_json(const edge_trace_keys *keys, char **out, size_t *len,
                                   med_err *err);

#endif
