/* What the edge sends to stage A for one POST /v1/opportunities: the trace
 * identity of the request (traceparent continued from the caller or new,
 * fresh trace and request keys, tenant/app/placement), the
 * OpportunityRequest protobuf, and the NATS message carrying both. */
#ifndef EDGE_REQUEST_H
#define EDGE_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <nats/nats.h>

#include "med/auth.h"
#include "med/err.h"
#include "med/headers.h"

typedef struct edge_opportunity_in {
    const char *body; /* the validated JSON body, as received */
    size_t body_len;
    const med_trace_headers *trace; /* tenant, app, placement, keys */
    const char *reply_to;           /* the edge's inbox subject for this request */
    const char *content_type;
    const char *environment;
    const char *auth_method; /* "none" while AUTH_ENABLED=false, else "token" */
    const med_auth_context *auth; /* the verified caller, NULL while auth is off */
    int64_t received_at_unix_ms;
    int64_t deadline_unix_ms; /* when the edge stops waiting */
} edge_opportunity_in;

/* Fills h: traceparent = child of client_traceparent when that parses
 * (W3C: an invalid one is ignored, not an error), else a new trace;
 * trace_key "tr_..." and request_key "req_..." generated. */
med_rc edge_trace_init(const char *client_traceparent, const char *tenant, const char *app,
                       const char *placement, med_trace_headers *h, med_err *err);
/* Packed OpportunityRequest; *out malloc'd. */
med_rc edge_opportunity_pack(const edge_opportunity_in *in, uint8_t **out, size_t *len,
                             med_err *err);
/* Message for MED_SUBJ_A_REQUEST with the trace headers and
 * Med-Reply-To set; caller owns *out. */
med_rc edge_opportunity_msg(const edge_opportunity_in *in, natsMsg **out, med_err *err);

/* A message on subject with buf as its data (copied), the trace headers
 * and, when reply_to is set, Med-Reply-To: what every edge -> stage
 * request carries. */
med_rc edge_msg_build(const char *subject, const uint8_t *buf, size_t n,
                      const med_trace_headers *trace, const char *reply_to, natsMsg **out,
                      med_err *err);
/* "edge:" + request key: the Nats-Msg-Id that lets the stream drop a
 * republished duplicate. */
void edge_msg_id(const char *request_key, char *out, size_t cap);

#endif
