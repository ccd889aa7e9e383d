/* Internals shared by edge_server.c (lifecycle, routing) and
 * edge_opportunity.c (the request/reply flow). Loop thread only. */
#ifndef EDGE_SERVER_INT_H
#define EDGE_SERVER_INT_H

#include <jansson.h>

#include "edge_config.h"
#include "edge_pending.h"
#include "edge_reply.h"
#include "edge_server.h"
#include "med/auth.h"
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
    edge_replies *replies;
    char inbox[EDGE_INBOX_PREFIX_MAX];
};

/* Monotonic seconds, for request latency. */
double edge_now_s(void);
/* Sends and records med_edge_requests_total / med_edge_request_seconds. */
void edge_send(h2o_req_t *req, const char *route, double t0, int status, const char *body,
               size_t len);
void edge_send_error(h2o_req_t *req, const char *route, double t0, const med_err *e);

/* POST /v1/opportunities after the body parsed as an object; takes doc.
 * auth: the verified caller (NULL while AUTH_ENABLED=false), borrowed for
 * the call only. */
void edge_opportunity_start(edge_server *s, h2o_req_t *req, json_t *doc,
                            const med_auth_context *auth, double t0);
/* Reply-inbox callback for opportunity replies; ud is the server. */
void edge_opportunity_on_reply(void *ud, const edge_reply *r);
/* Answers every pending request with the deadline Delivery now. */
void edge_opportunity_expire_all(edge_server *s);

#endif
