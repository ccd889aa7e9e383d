/* POST /v1/events without h2o: which app the caller acts for (06 section
 * 4), and the EventBatch the edge hands to stage F (F.1) on
 * med.f.events.v1. Pure functions plus the natsMsg wrapper. */
#ifndef EDGE_EVENTS_MSG_H
#define EDGE_EVENTS_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <nats/nats.h>

#include "med/auth.h"
#include "med/err.h"
#include "med/headers.h"

/* The authenticated app (Med-App, EventBatch.app_id) into app (cap >=
 * EDGE_ID_MAX_LEN + 1). ctx NULL (AUTH_ENABLED=false): the body's appId.
 * Otherwise role sdk is required (else 403 auth_forbidden), and:
 *   - a token bound to exactly one app (not "*"): that app, whatever the
 *     body says; F compares the body's appId with it (F.2: 403
 *     f_envelope_app_mismatch after its earlier envelope checks);
 *   - a token bound to several apps or "*": the body's appId, which must
 *     be inside `apps` (else 403 auth_forbidden, field appId); a body
 *     without a string appId gets "" and F answers
 *     f_envelope_missing_required;
 *   - a token with no app binding: 403 auth_forbidden.
 * An appId unusable as a header value (edge_id_valid) gives "": F reports
 * it as bad. */
med_rc edge_events_app(const med_auth_context *ctx, const json_t *body, char *app, size_t cap,
                       med_err *err);

typedef struct edge_events_in {
    const char *body; /* the raw POST body, byte for byte */
    size_t body_len;
    const med_trace_headers *trace; /* traceparent, trace key, tenant, app */
    const char *reply_to;           /* <inbox>.<edge_request_id> */
    const char *content_type;
    const char *edge_request_id;    /* also the Nats-Msg-Id */
    const med_auth_context *auth;   /* NULL while auth is off */
    int64_t received_at_unix_ms;
    int64_t deadline_unix_ms;
} edge_events_in;

/* Packed EventBatch (body_json, tenant_id = trace->tenant, app_id =
 * trace->app, auth, times, edge_request_id, reply_to, trace); *out
 * malloc'd. */
med_rc edge_events_pack(const edge_events_in *in, uint8_t **out, size_t *len, med_err *err);
/* Message for med.f.events.v1 with the trace headers (Med-Tenant, Med-App
 * among them) and Med-Reply-To; caller owns *out. */
med_rc edge_events_msg(const edge_events_in *in, natsMsg **out, med_err *err);

#endif
