/* Internals shared by edge_server.c (lifecycle, routing) and
 * edge_opportunity.c (the request/reply flow). Loop thread only. */
#ifndef EDGE_SERVER_INT_H
#define EDGE_SERVER_INT_H

#include <jansson.h>

#include "edge_config.h"
#include "edge_delivery.h"
#include "edge_parking.h"
#include "edge_pending.h"
#include "edge_reply.h"
#include "edge_server.h"
#include "med/auth.h"
#include "med/headers.h"
#include "med/http_util.h"

#define EDGE_CONTENT_TYPE_MAX 256

struct edge_server {
    edge_config cfg;
    med_js *js;
    med_readiness *ready;
    med_http_server *http;
    SSL_CTX *ssl;
    h2o_timeout_t deadline; /* one fixed duration: EDGE_REQUEST_TIMEOUT_MS */
    int deadline_inited;
    edge_pending_table *pending;
    /* events (F) and queries (G) waiting for their answer */
    edge_parking *parking;
    h2o_timeout_t events_deadline; /* EDGE_EVENTS_TIMEOUT_MS */
    h2o_timeout_t query_deadline;  /* EDGE_QUERY_TIMEOUT_MS */
    edge_replies *replies;
    char inbox[EDGE_INBOX_PREFIX_MAX];
};

/* Monotonic seconds, for request latency. */
double edge_now_s(void);
/* Sends and records med_edge_requests_total / med_edge_request_seconds. */
void edge_send(h2o_req_t *req, const char *route, double t0, int status, const char *body,
               size_t len);
void edge_send_error(h2o_req_t *req, const char *route, double t0, const med_err *e);
/* edge_send_error plus Retry-After (EDGE_RETRY_AFTER_SEC) on a 503. */
void edge_send_retry_error(h2o_req_t *req, const char *route, double t0, const med_err *e);
/* A stage's answer, with Retry-After when it carries one. */
void edge_send_answer(h2o_req_t *req, const char *route, double t0, const edge_answer *a);
/* traceparent and Med-Trace-Key of the request, so a caller can quote them. */
void edge_add_trace_ids(h2o_req_t *req, const med_trace_headers *h);
/* The trace of a new request: the client's traceparent if valid, the
 * caller's tenant (the dev tenant while auth is off), app and placement. */
med_rc edge_trace_of_request(const edge_server *s, h2o_req_t *req, const med_auth_context *auth,
                             const char *app, const char *placement, med_trace_headers *out,
                             med_err *e);

/* POST /v1/opportunities after the body parsed as an object; takes doc.
 * auth: the verified caller (NULL while AUTH_ENABLED=false), borrowed for
 * the call only. */
void edge_opportunity_start(edge_server *s, h2o_req_t *req, json_t *doc,
                            const med_auth_context *auth, double t0);
/* Reply-inbox callback for opportunity replies; ud is the server. */
void edge_opportunity_on_reply(void *ud, const edge_reply *r);
/* Answers every pending request with the deadline Delivery now. */
void edge_opportunity_expire_all(edge_server *s);

/* POST /v1/events after the body parsed as an object and access passed;
 * takes doc. auth as above. */
void edge_events_start(edge_server *s, h2o_req_t *req, json_t *doc,
                       const med_auth_context *auth, double t0);
/* /v1/replay: doc is the POST body (taken), NULL for GET (the query
 * string is read). */
void edge_replay_start(edge_server *s, h2o_req_t *req, json_t *doc,
                       const med_auth_context *auth, double t0);
/* GET /v1/reconciliation. */
void edge_recon_start(edge_server *s, h2o_req_t *req, const med_auth_context *auth, double t0);

#endif
